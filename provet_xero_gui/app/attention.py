"""The attention list: what waits on a person, retrying it, and what became of each retried item."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from provet_xero_gui.profile import Profile
from provet_xero_gui.store.conflicts import ClientState
from provet_xero_gui.store.sync_state import AttentionItem, SyncState
from provet_xero_gui.sync.history import last_pass


@dataclass(frozen=True)
class RetryOutcome:
    """What became of one retried item: "sent", "no_longer_waiting" or "still_waiting" (with the reason now)."""

    id: int
    document: str
    outcome: str
    reason: str | None
    fix: str | None


def open_items(profile: Profile) -> list[AttentionItem]:
    """The open items, those held by rule included (`AttentionItem.by_rule`)."""
    with profile.store() as store:
        return SyncState(store).attention()


def never_synced(profile: Profile) -> bool:
    with profile.store() as store:
        return last_pass(store) is None


def conflicts_waiting(profile: Profile) -> int:
    with profile.store() as store:
        return sum(1 for c in ClientState(store).open_conflicts() if c.waiting)


def forget_xero_reference(profile: Profile) -> None:
    """Before a retry: the fix may have been made in Xero's settings, so its tax rates and accounts are read anew."""
    with profile.store() as store:
        SyncState(store).drop_cache("xero_reference")


def retry_outcomes(profile: Profile, chosen: Iterable[AttentionItem]) -> tuple[RetryOutcome, ...]:
    with profile.store() as store:
        state = SyncState(store)
        still = {i.key: i for i in state.attention()}
        out = []
        for item in chosen:
            now = still.get(item.key)
            if now is not None:
                outcome, reason, fix = "still_waiting", now.reason, now.fix
            elif state.link(item.kind, item.provet_id) is not None:
                outcome, reason, fix = "sent", None, None
            else:
                outcome, reason, fix = "no_longer_waiting", None, None
            out.append(RetryOutcome(item.id, item.document, outcome, reason, fix))
        return tuple(out)
