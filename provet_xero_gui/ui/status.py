"""What the tray shows and tells, decided from one status reading (`Application.status`; no Qt here).

The decisions (the tray state, which notifications to show) are pure functions, tested alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from provet_xero_gui.app.types import Status, SyncResult

# The tray's states, in the order the first that applies wins (see tray_state).
TRAY_STATES = ("signed_out", "syncing", "paused", "error", "attention", "synced")
ERROR_STOPS = frozenset({"connection_ended", "unreachable", "error"})
EXPIRY_WARNING_DAYS = 7


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
