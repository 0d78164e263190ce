"""One profile's application: the only API the window and the command line use (in the manner of Maestral's
`main.Maestral`).

Each use case's logic lives in a small module beside this one (status, conflicts, attention, mapping, tieout,
onboarding, organisation, passes); `Application` holds the profile and delegates, so the window and `provet-xero`
carry out a use case the same way. Expected failures come out as `AppError` (CannotSync, CannotTieOut and
OrganisationError are kinds of it) with a sentence for the person.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from provet_xero_gui.app import attention, onboarding, organisation
from provet_xero_gui.app import mapping as mapping_cases
from provet_xero_gui.app.attention import RetryOutcome
from provet_xero_gui.app.conflicts import ConflictChoice, ConflictSnapshot, Resolution, read_conflicts, resolve_choices
from provet_xero_gui.app.errors import AppError
from provet_xero_gui.app.onboarding import Step
from provet_xero_gui.app.organisation import OrganisationQuestion
from provet_xero_gui.app.passes import run_sync
from provet_xero_gui.app.status import Status, read_status
from provet_xero_gui.app.tieout import run_tieout
from provet_xero_gui.credentials import CredentialsError
from provet_xero_gui.mapping import Mapping
from provet_xero_gui.profile import Profile
from provet_xero_gui.provet.client import ProvetCheck, ProvetError
from provet_xero_gui.store import Binding, StoreError
from provet_xero_gui.store.sync_state import AttentionItem
from provet_xero_gui.sync.events import EventSink, SyncResult
from provet_xero_gui.tieout import TieOutReport
from provet_xero_gui.xero.identity import Tenant, XeroAuthError
from provet_xero_gui.xero.limits import XeroLimiter
from provet_xero_gui.xero.oauth import SignInError


@dataclass(frozen=True)
class Retried:
    """A retry: the pass it ran, and what became of each item retried."""

    result: SyncResult
    outcomes: tuple[RetryOutcome, ...]


class Application:
    """The use cases of one profile.

    `rereads_settings`: the window's object lives for hours while the settings change under it (the setup, the
    tray's pause), so it reads them again for every use case; a command's object is opened for that one command
    and uses the settings as it opened them (with the problem found in them, which `status` reports)."""

    def __init__(self, profile: Profile, *, rereads_settings: bool = True) -> None:
        self._profile = profile
        self._rereads = rereads_settings

    @classmethod
    def open(cls) -> Application:
        """The profile the environment names (PROVET_XERO_HOME), for one command."""
        return cls(Profile.open(), rereads_settings=False)

    @property
    def profile(self) -> Profile:
        """The profile as opened (paths, endpoints, and the settings read then)."""
        return self._profile

    def _now(self) -> Profile:
        return self._profile.reload() if self._rereads else self._profile

    # --- status ---------------------------------------------------------------------------------------
    def status(self) -> Status:
        """One reading for `provet-xero status`, the dashboard and the tray."""
        return read_status(self._now())

    def setup_gap(self) -> Step | None:
        """The first setup step a pass or a tie-out still needs (PROVET, XERO, MAPPING), or None."""
        return onboarding.setup_gap(self._now())

    # --- sync, attention, retry ------------------------------------------------------------------------
    def sync(
        self,
        *,
        events: EventSink | None = None,
        retry: Iterable[str] = (),
        poll_xero: bool = True,
        should_stop: Callable[[], bool] = lambda: False,
        limiter: XeroLimiter | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> SyncResult:
        """One pass under the profile lock; `should_stop` (Pause, Quit) is asked between batches. Raises
        CannotSync when it cannot run at all."""
        return run_sync(self._now(), events=events, retry=retry, poll_xero=poll_xero,
                               should_stop=should_stop, limiter=limiter, sleep=sleep, clock=clock)

    def attention(self) -> list[AttentionItem]:
        """The open items, those held by rule included (`AttentionItem.by_rule`)."""
        return attention.open_items(self._profile)

    def never_synced(self) -> bool:
        return attention.never_synced(self._profile)

    def forget_xero_reference(self) -> None:
        """Before a retry: Xero's tax rates and accounts are read anew (the fix may have been made there)."""
        attention.forget_xero_reference(self._profile)

    def retry(self, items: Sequence[AttentionItem], *, events: EventSink | None = None) -> Retried:
        """Try these items again in one pass (none: a plain pass), and say what became of each."""
        self.forget_xero_reference()
        result = self.sync(events=events, retry=[i.key for i in items])
        return Retried(result, attention.retry_outcomes(self._profile, items) if items else ())

    # --- conflicts --------------------------------------------------------------------------------------
    def conflicts(self) -> ConflictSnapshot:
        return read_conflicts(self._profile)

    def conflicts_waiting(self) -> int:
        return attention.conflicts_waiting(self._profile)

    def resolve(self, choices: Iterable[ConflictChoice]) -> tuple[Resolution, ...]:
        """Carry out each choice (both sides read now; refused when either changed since)."""
        return resolve_choices(self._now(), choices)

    # --- connecting -------------------------------------------------------------------------------------
    def connect_provet(self, url: str, client_id: str, secret: str) -> ProvetCheck:
        try:
            return onboarding.connect_provet(self._profile, url, client_id, secret)
        except (ProvetError, CredentialsError) as exc:
            raise AppError(str(exc)) from None

    def keyring_name(self) -> str:
        try:
            return self._profile.credentials().backend_name
        except CredentialsError as exc:
            raise AppError(str(exc)) from None

    def sign_in_to_xero(
        self,
        *,
        tenant: str | None,
        show_url: Callable[[str, bool], None],
        open_browser: Callable[[str], bool] | None,
        ask: Callable[[tuple[Tenant, ...], str | None], str | None],
    ) -> Tenant:
        """The browser sign-in and the organisation (named, the only one, or the one `ask` picks)."""
        try:
            return onboarding.sign_in_and_choose(self._profile, tenant=tenant, show_url=show_url,
                                                 open_browser=open_browser, ask=ask)
        except (XeroAuthError, SignInError, CredentialsError) as exc:
            raise AppError(str(exc)) from None

    def disconnect(self, service: str) -> str | None:
        """End the connection to "xero" or "provet"; a warning when Xero could not be told."""
        try:
            return onboarding.disconnect(self._profile, service)
        except CredentialsError as exc:
            raise AppError(str(exc)) from None

    # --- organisation -----------------------------------------------------------------------------------
    def organisation_question(self) -> OrganisationQuestion | None:
        """What to ask when the organisation chosen is not the one the kept history belongs to; None when the
        store cannot be read (`status` and `sync` say what is wrong with it)."""
        try:
            return organisation.question(self._profile)
        except StoreError:
            return None

    def organisations(self) -> list[Binding]:
        try:
            return organisation.organisations(self._profile)
        except StoreError as exc:
            raise AppError(str(exc)) from None

    def use_organisation(self, name_or_id: str, fresh_from: date | None = None) -> str:
        try:
            return organisation.use_organisation(self._profile, name_or_id, fresh_from)
        except StoreError as exc:
            raise AppError(str(exc)) from None

    # --- mapping ----------------------------------------------------------------------------------------
    def saved_mapping(self) -> Mapping:
        return mapping_cases.saved(self._profile)

    def import_mapping(self, text: str, source: str) -> Mapping:
        return mapping_cases.import_text(self._profile, text, source)

    def export_mapping(self, name: str) -> None:
        mapping_cases.export(self._profile, name)

    def check_mapping(self, invoices: int) -> mapping_cases.MappingCheck:
        return mapping_cases.check(self._profile, invoices)

    def suggest_mapping(self, *, fresh: bool) -> mapping_cases.Suggested:
        return mapping_cases.suggest(self._profile, fresh=fresh)

    def save_mapping(self, mapping: Mapping) -> None:
        onboarding.save_mapping(self._profile, mapping)

    # --- tie-out ----------------------------------------------------------------------------------------
    def tieout(self, start: date, end: date, *, progress: Callable[[str], None] = lambda _text: None) -> TieOutReport:
        """The tie-out of these days; the organisation's name from the settings when nothing of Xero's is
        cached yet (before the first sync, or after a retry)."""
        profile = self._now()
        report = run_tieout(profile, start, end, progress=progress)
        if not report.organisation:
            report = replace(report, organisation=profile.settings.xero.tenant_name or "")
        return report
