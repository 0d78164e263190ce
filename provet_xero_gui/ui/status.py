"""What the dashboard and the tray show, read from the profile in one go (no Qt here).

`read_status` touches the keyring and the store, so the window calls it on a worker thread; the
decisions made from it (the tray state, which notifications to show) are pure functions, tested alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from provet_xero_gui.credentials import CredentialsError
from provet_xero_gui.profile import Profile
from provet_xero_gui.store import Bindings, Log, Store, StoreError
from provet_xero_gui.store.sync_state import SyncState
from provet_xero_gui.sync.events import SyncResult
from provet_xero_gui.sync.history import last_pass
from provet_xero_gui.sync.rebuild import history_note
from provet_xero_gui.tieout.daily import DailyTieOut, last_daily
from provet_xero_gui.xero.signin import refresh_token_days_left

log = logging.getLogger(__name__)

# The tray's states, in the order the first that applies wins (see tray_state).
TRAY_STATES = ("signed_out", "syncing", "paused", "error", "attention", "synced")
ERROR_STOPS = frozenset({"connection_ended", "unreachable", "error"})
EXPIRY_WARNING_DAYS = 7


@dataclass(frozen=True)
class Status:
    """One reading of the profile: connections, the last pass, and the counts a person watches."""

    provet_connected: bool = False
    provet_url: str | None = None
    xero_connected: bool = False
    organisation: str | None = None
    problem: str | None = None  # keyring, store or settings trouble, in plain words
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
    """Read everything the dashboard shows. Never raises for a broken keyring or store: says so instead."""
    profile = profile.reload()
    s = profile.settings
    problems: list[str] = [profile.settings_problem] if profile.settings_problem else []
    provet_secret = xero_tokens = False
    try:
        creds = profile.credentials()
        provet_secret = creds.load_provet_secret() is not None
        xero_tokens = creds.load_xero_tokens() is not None
    except CredentialsError as exc:
        problems.append(str(exc))
    values: dict[str, Any] = {}
    try:
        with profile.store() as store:
            values["last_sync"] = last_pass(store)
            values["books"] = last_daily(SyncState(store))
            items = SyncState(store).attention()
            values["attention"] = sum(1 for i in items if not i.by_rule)
            values["held_by_rule"] = len(items) - values["attention"]
            counts = SyncState(store).counts()
            values["conflicts"] = counts["conflicts"]
            values["linked"] = {k[7:]: v for k, v in counts.items() if k.startswith("linked_")}
            values["history_note"] = history_note(Bindings(store).active())
            values["sent_today"] = Log(store).sent_since(_local_midnight_utc())
    except StoreError as exc:
        problems.append(str(exc))
    return Status(
        provet_connected=bool((s.provet.url or profile.endpoints.provet_url) and s.provet.client_id and provet_secret),
        provet_url=s.provet.url or profile.endpoints.provet_url,
        xero_connected=bool(s.xero.tenant_id and xero_tokens),
        organisation=s.xero.tenant_name,
        problem=" ".join(problems) or None,
        mapping_saved=profile.paths.mapping_file.exists(),
        paused=s.sync.paused,
        xero_days_left=refresh_token_days_left(s.xero) if xero_tokens else None,
        provet_poll_seconds=s.sync.provet_poll_seconds,
        xero_poll_seconds=s.sync.xero_poll_seconds,
        start_at_login=s.start_at_login,
        **values,
    )


def tray_state(status: Status | None, *, running: bool, failure: str | None = None) -> str:
    """The one word the tray icon shows: signed_out, syncing, paused, error, attention or synced."""
    if status is None:
        return "syncing" if running else "synced"
    if not (status.provet_connected and status.xero_connected):
        return "signed_out"
    if running:
        return "syncing"
    if status.paused:
        return "paused"
    last = status.last_sync or {}
    if failure or status.problem or last.get("stop_kind") in ERROR_STOPS:
        return "error"
    if status.attention or status.conflicts:
        return "attention"
    return "synced"


@dataclass(frozen=True)
class Notification:
    title: str
    text: str
    level: str = "info"  # info | warning | error


def _plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def notifications_after_pass(
    result: SyncResult, before: Status | None, after: Status, conflicts_found: int = 0
) -> list[Notification]:
    """What deserves a tray message once a pass ended: new attention items or conflicts, a lost Xero."""
    out: list[Notification] = []
    if result.stop_kind == "connection_ended":
        out.append(Notification(
            "Xero connection lost",
            "provet-xero can no longer reach your Xero organisation. Open the app and sign in to Xero again.",
            "error"))
    # Documents held again on every pass are not news: only a rise in the open count is.
    new_attention = after.attention - before.attention if before is not None else sum(result.held.values())
    if new_attention > 0:
        out.append(Notification(
            "Documents need attention",
            f"{_plural(new_attention, 'document waits', 'documents wait')} for you; open Attention to see why "
            "and how to fix it.", "warning"))
    new_conflicts = conflicts_found or (after.conflicts - before.conflicts if before is not None else 0)
    if new_conflicts > 0:
        out.append(Notification(
            "Client details differ",
            f"{_plural(new_conflicts, 'client detail was', 'client details were')} changed differently in Provet "
            "and Xero; choose which to keep in Conflicts.", "warning"))
    return out


def expiry_notification(status: Status) -> Notification | None:
    """A warning when the Xero sign-in dies within a week unless it is used or renewed."""
    days = status.xero_days_left
    if days is None or days >= EXPIRY_WARNING_DAYS:
        return None
    left = max(0, int(days))
    return Notification(
        "Xero sign-in expires soon",
        f"The connection to Xero ends in {_plural(left, 'day', 'days')} unless provet-xero syncs. "
        "Resume syncing or sign in to Xero again.", "warning")


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
