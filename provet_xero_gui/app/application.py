"""One profile's application: the only API the window and the command line use (in the manner of Maestral's
`main.Maestral`).

Each use case's logic lives in a small module beside this one (status, conflicts, attention, mapping, tieout,
onboarding, organisation, passes); `Application` holds the profile and delegates, so the window and `provet-xero`
carry out a use case the same way. Expected failures come out as `AppError` (CannotSync, CannotTieOut and
OrganisationError are kinds of it) with a sentence for the person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from provet_xero_gui import autostart
from provet_xero_gui.app import attention, onboarding, organisation
from provet_xero_gui.app import mapping as mapping_cases
from provet_xero_gui.app.attention import RetryOutcome
from provet_xero_gui.app.conflicts import ConflictChoice, ConflictSnapshot, Resolution, read_conflicts, resolve_choices
from provet_xero_gui.app.errors import AppError
from provet_xero_gui.app.log import LogReader
from provet_xero_gui.app.onboarding import MappingSources, SetupState, Step, XeroSignIn
from provet_xero_gui.app.organisation import OrganisationQuestion
from provet_xero_gui.app.passes import run_sync
from provet_xero_gui.app.status import Status, read_status
from provet_xero_gui.app.tieout import CannotTieOut, run_tieout, tie_out_if_due
from provet_xero_gui.credentials import CredentialsError
from provet_xero_gui.mapping import Mapping, MappingProblem
from provet_xero_gui.profile import Profile
from provet_xero_gui.provet.client import ProvetCheck, ProvetError
from provet_xero_gui.settings import WindowSettings
from provet_xero_gui.store import Binding, StoreError
from provet_xero_gui.store.sync_state import AttentionItem
from provet_xero_gui.sync.events import EventSink, SyncResult
from provet_xero_gui.tieout import TieOutReport
from provet_xero_gui.tieout.daily import DailyTieOut
from provet_xero_gui.xero.identity import Tenant, XeroAuthError
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

    def __init__(
        self, profile: Profile, *, rereads_settings: bool = True, run_pass: Callable[..., SyncResult] = run_sync
    ) -> None:
        """`run_pass`: what runs one pass, `passes.run_sync` (a test or the benchmark paces it on the sandbox's
        clock)."""
        self._profile = profile
        self._rereads = rereads_settings
        self._run_pass = run_pass

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

    def set_paused(self, paused: bool) -> None:
        """Pause or resume the scheduled passes (the tray's and the dashboard's choice, kept in the settings)."""
        self._profile.settings_file.change(lambda s: replace(s, sync=replace(s.sync, paused=paused)))

    def set_start_at_login(self, enabled: bool) -> str | None:
        """Start the app in the tray at login, or not; the problem in words when the system refused (then the
        setting says what the system has)."""
        problem = None
        try:
            if enabled:
                autostart.enable(autostart.launch_command())
            else:
                autostart.disable()
        except OSError as exc:
            problem = f"Start at login could not be changed: {exc}"
            enabled = autostart.is_enabled()
        self._profile.settings_file.update(start_at_login=enabled)
        return problem

    def window_settings(self) -> WindowSettings:
        """How the window was left (raises OSError or SettingsError when the file cannot be read)."""
        return self._profile.settings_file.load().settings.window

    def save_window_settings(self, state: WindowSettings) -> None:
        self._profile.settings_file.update(window=state)

    def log_reader(self) -> LogReader:
        return LogReader(self._profile)

    # --- sync, attention, retry ------------------------------------------------------------------------
    def sync(
        self,
        *,
        events: EventSink | None = None,
        retry: Iterable[str] = (),
        poll_xero: bool = True,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> SyncResult:
        """One pass under the profile lock; `should_stop` (Pause, Quit) is asked between batches. Raises
        CannotSync when it cannot run at all."""
        return self._run_pass(self._now(), events=events, retry=retry, poll_xero=poll_xero, should_stop=should_stop)

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

    def daily_tieout(self, today: date) -> DailyTieOut | None:
        """The day's automatic tie-out, when due (after a pass that went through); None when it was made already.
        Raises CannotTieOut when it cannot be made."""
        try:
            return tie_out_if_due(self._now(), today)
        except StoreError as exc:
            raise CannotTieOut(str(exc)) from None

    # --- conflicts --------------------------------------------------------------------------------------
    def conflicts(self) -> ConflictSnapshot:
        return read_conflicts(self._profile)

    def conflicts_waiting(self) -> int:
        return attention.conflicts_waiting(self._profile)

    def resolve(self, choices: Iterable[ConflictChoice]) -> tuple[Resolution, ...]:
        """Carry out each choice (both sides read now; refused when either changed since)."""
        return resolve_choices(self._now(), choices)

    # --- connecting -------------------------------------------------------------------------------------
    def setup_state(self) -> SetupState:
        """What the profile already has, so the setup resumes where it was left (reads the keyring)."""
        return onboarding.read_setup_state(self._profile)

    def suggested_provet_url(self) -> str:
        return onboarding.suggested_provet_url(self._profile)

    def xero_sign_in(
        self,
        *,
        show_url: Callable[[str, bool], None],
        open_browser: Callable[[str], bool] | None,
        should_cancel: Callable[[], bool],
        timeout: float,
    ) -> XeroSignIn:
        """The setup's browser sign-in: several organisations are an answer (`chosen` None), not an error."""
        return onboarding.sign_in_to_xero(self._profile, onboarding.identity_for(self._profile), show_url=show_url,
                                          open_browser=open_browser, should_cancel=should_cancel, timeout=timeout)

    def xero_organisations(self) -> tuple[Tenant, ...]:
        """The organisations the kept sign-in reaches."""
        return onboarding.organisations(self._profile, onboarding.identity_for(self._profile))

    def choose_xero_organisation(self, tenant_id: str) -> Tenant:
        return onboarding.choose_organisation(self._profile, onboarding.identity_for(self._profile), tenant_id)

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
        """What to ask when the organisation chosen is not the one the kept history belongs to (None: nothing)."""
        try:
            return organisation.question(self._profile)
        except StoreError as exc:
            raise AppError(str(exc)) from None

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

    def mapping_sources(self) -> MappingSources:
        """What the mapping editor shows: Provet's and Xero's lists, what recent invoices use, the saved mapping."""
        return onboarding.read_mapping_sources(self._profile)

    @staticmethod
    def check_against(sources: MappingSources, mapping: Mapping) -> list[MappingProblem]:
        """`mapping check` on what was read already (no network)."""
        return onboarding.check_against(sources, mapping)

    # --- tie-out ----------------------------------------------------------------------------------------
    def tieout(self, start: date, end: date, *, progress: Callable[[str], None] = lambda _text: None) -> TieOutReport:
        """The tie-out of these days; the organisation's name from the settings when nothing of Xero's is
        cached yet (before the first sync, or after a retry)."""
        profile = self._now()
        report = run_tieout(profile, start, end, progress=progress)
        if not report.organisation:
            report = replace(report, organisation=profile.settings.xero.tenant_name or "")
        return report
