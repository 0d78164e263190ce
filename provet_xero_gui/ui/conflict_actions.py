"""Carrying out the conflict view's choices, without Qt: each one reads both sides now (`read_current`) and is
refused when either changed after the conflict was recorded, exactly as `provet-xero resolve` does.

Runs on a worker thread (the window's, or the view's own); returns the refusals as plain sentences.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from provet_xero_gui.app.connections import NotConnected, open_connections
from provet_xero_gui.credentials import CredentialsError
from provet_xero_gui.profile import Profile
from provet_xero_gui.provet.client import ProvetError
from provet_xero_gui.provet.records import RecordError
from provet_xero_gui.provet.source import ProvetSource
from provet_xero_gui.store.conflicts import ClientState, Conflict
from provet_xero_gui.store.sync_state import SyncState
from provet_xero_gui.sync.clients import FIELD_WORDS, ClientSource, ResolveRefused, read_current, resolve
from provet_xero_gui.xero.client import XeroApiError, XeroClient
from provet_xero_gui.xero.identity import XeroAuthError
from provet_xero_gui.xero.limits import DayLimitLow

log = logging.getLogger(__name__)

_UNREADABLE = (NotConnected, CredentialsError, ProvetError, RecordError, XeroApiError, XeroAuthError, DayLimitLow)


class ConflictChoice(NamedTuple):
    """One choice: keep "provet" or "xero" (value None), or a value typed by hand (keep None)."""

    conflict_id: int
    keep: str | None
    value: str | None = None


@dataclass(frozen=True)
class ConflictSnapshot:
    """The open conflicts and the clients' names (Provet id → name), as the view shows them."""

    conflicts: tuple[Conflict, ...]
    client_names: dict[str, str]


def read_conflicts(profile: Profile) -> ConflictSnapshot:
    with profile.store() as store:
        clients = ClientState(store)
        conflicts = clients.open_conflicts()
        bases = clients.bases({c.provet_client_id for c in conflicts})
    names = {cid: fields["name"] for cid, fields in bases.items() if fields.get("name")}
    return ConflictSnapshot(tuple(conflicts), names)


def resolve_choices(
    state: SyncState, provet: ClientSource | None, xero: XeroClient | None, choices: Iterable[ConflictChoice]
) -> list[str]:
    """Resolve each choice; the refusals, in plain words (an empty list when all were taken).

    With `provet`/`xero` None (not connected), or when a side cannot be read now, the choice is taken without
    the look: the next sync checks both sides before it writes, and asks again if either changed."""
    refusals: list[str] = []
    clients = ClientState(state.store)
    for choice in choices:
        conflict = clients.conflict(choice.conflict_id)
        current: tuple[str, str] | None = None
        if conflict is not None and conflict.resolved_at is None and provet is not None and xero is not None:
            try:
                current = read_current(provet, xero, conflict)
            except ResolveRefused as exc:
                refusals.append(str(exc))
                continue
            except _UNREADABLE as exc:
                log.warning("conflict %s: both sides could not be read now (%s); the next sync checks them",
                            choice.conflict_id, exc)
        try:
            resolve(state, choice.conflict_id, keep=choice.keep, value=choice.value, current=current)
        except ResolveRefused as exc:
            refusals.append(str(exc))
    return refusals


def resolve_in_profile(profile: Profile, choices: Sequence[ConflictChoice]) -> list[str]:
    """`resolve_choices` with the profile's own connections and store (what a window's worker calls)."""
    try:
        conns = open_connections(profile.reload())
        provet: ClientSource | None = ProvetSource(conns.provet)
        xero: XeroClient | None = conns.xero
    except _UNREADABLE as exc:
        log.warning("choices taken without reading Provet and Xero now: %s", exc)
        provet, xero = None, None
    with profile.store() as store:
        return resolve_choices(SyncState(store), provet, xero, choices)


def field_words(field: str) -> str:
    return FIELD_WORDS.get(field, field.replace("_", " "))
