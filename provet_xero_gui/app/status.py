"""One reading of a profile: what `provet-xero status` prints and what the window's dashboard and tray show.

Both read it here, so "connected" means one thing: Provet with an address, a client id and a secret in the keyring;
Xero with an organisation chosen and a sign-in kept. It touches the keyring and the store (the window calls it on
a worker thread) and never raises for a broken keyring or store: it says so instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from provet_xero_gui.credentials import CredentialsError
from provet_xero_gui.profile import Profile
from provet_xero_gui.store import Binding, Bindings, Log, Store, StoreError
from provet_xero_gui.store.sync_state import SyncState
from provet_xero_gui.sync.history import last_pass
from provet_xero_gui.sync.rebuild import history_note
from provet_xero_gui.tieout.daily import DailyTieOut, last_daily
from provet_xero_gui.xero.signin import refresh_token_days_left

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Status:
    """One reading of the profile: connections, the last pass, and the counts a person watches.

    A `None` in `provet_secret_stored`/`xero_signed_in` means the keyring could not be asked; `store_schema` None
    means the store could not be read (`store_problem` says why)."""

    provet_connected: bool = False
    provet_url: str | None = None
    provet_client_id: str | None = None
    provet_secret_stored: bool | None = None
    xero_connected: bool = False
    xero_tenant_id: str | None = None
    organisation: str | None = None
    xero_signed_in: bool | None = None
    keyring_backend: str | None = None
    keyring_problem: str | None = None
    settings_problem: str | None = None
    store_problem: str | None = None
    store_schema: int | None = None
    counts: dict[str, int] = field(default_factory=dict)  # Store.counts(): linked_*, pending_writes, ...
    binding: Binding | None = None  # the organisation the kept history belongs to
    mapping_saved: bool = False
    paused: bool = False
    last_sync: dict[str, Any] | None = None  # history.last_pass: at, sent, stopped, stop_kind, ...
    sent_today: int = 0
    attention: int = 0
    held_by_rule: int = 0
    conflicts: int = 0
    xero_days_left: float | None = None
    provet_poll_seconds: int = 60
    xero_poll_seconds: int = 300
    start_at_login: bool = False
    linked: dict[str, int] = field(default_factory=dict)
    books: DailyTieOut | None = None  # the last automatic tie-out (the last week up to yesterday)
    history_note: str | None = None  # links rebuilt from Xero (how many), or a damaged store kept aside

    @property
    def problem(self) -> str | None:
        """Settings, keyring or store trouble, in plain words (None when there is none)."""
        return " ".join(p for p in (self.settings_problem, self.keyring_problem, self.store_problem) if p) or None

    @property
    def ready(self) -> bool:
        """Everything a pass needs is in place."""
        return self.provet_connected and self.xero_connected and self.mapping_saved

    @property
    def xero_calls_left_today(self) -> int | None:
        return (self.last_sync or {}).get("xero_calls_left_today")


def _local_midnight_utc(now: datetime | None = None) -> str:
    local = (now or datetime.now(UTC)).astimezone()
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC).isoformat()


def read_status(profile: Profile) -> Status:
    """Read everything `status` and the dashboard show, from the profile as given."""
    s = profile.settings
    values: dict[str, Any] = {}
    try:
        creds = profile.credentials()
        values["keyring_backend"] = creds.backend_name
        values["provet_secret_stored"] = creds.load_provet_secret() is not None
        values["xero_signed_in"] = creds.load_xero_tokens() is not None
    except CredentialsError as exc:
        values["keyring_problem"] = str(exc)
    try:
        values.update(_read_store(profile))
    except StoreError as exc:
        values["store_problem"] = str(exc)
    provet_url = s.provet.url or profile.endpoints.provet_url
    signed_in = values.get("xero_signed_in")
    return Status(
        provet_connected=bool(provet_url and s.provet.client_id and values.get("provet_secret_stored")),
        provet_url=provet_url,
        provet_client_id=s.provet.client_id,
        xero_connected=bool(s.xero.tenant_id and signed_in),
        xero_tenant_id=s.xero.tenant_id,
        organisation=s.xero.tenant_name,
        settings_problem=profile.settings_problem,
        mapping_saved=profile.paths.mapping_file.exists(),
        paused=s.sync.paused,
        xero_days_left=refresh_token_days_left(s.xero) if signed_in else None,
        provet_poll_seconds=s.sync.provet_poll_seconds,
        xero_poll_seconds=s.sync.xero_poll_seconds,
        start_at_login=s.start_at_login,
        **values,
    )


def _read_store(profile: Profile) -> dict[str, Any]:
    with profile.store() as store:
        state = SyncState(store)
        items = state.attention()
        attention = sum(1 for i in items if not i.by_rule)
        counts = state.counts()
        binding = Bindings(store).active()
        return {
            "store_schema": store.schema_version,
            "counts": counts,
            "binding": binding,
            "last_sync": last_pass(store),
            "books": last_daily(state),
            "attention": attention,
            "held_by_rule": len(items) - attention,
            "conflicts": counts["conflicts"],
            "linked": {k[7:]: v for k, v in counts.items() if k.startswith("linked_")},
            "history_note": history_note(binding),
            "sent_today": Log(store).sent_since(_local_midnight_utc()),
        }


@dataclass(frozen=True)
class DocumentDetails:
    """What the log's details pane shows about the document an entry concerns."""

    kind: str
    provet_id: str
    xero_id: str | None = None
    xero_number: str | None = None
    attention: tuple[tuple[str, str], ...] = ()  # (reason, fix) of open items
    history: tuple[tuple[str, str, str], ...] = ()  # (ts, level, message), newest last


def read_document(store: Store, kind: str, provet_id: str) -> DocumentDetails:
    state = SyncState(store)
    link = state.link(kind, provet_id)
    attention = state.attention_for(kind, provet_id)
    history = Log(store).document_history(kind, provet_id)
    return DocumentDetails(
        kind,
        provet_id,
        link.xero_id if link else None,
        link.xero_number if link else None,
        tuple((i.reason, i.fix) for i in attention),
        tuple((h.ts, h.level, h.message) for h in history),
    )
