"""Client-detail conflicts: reading them, and carrying out a choice (`provet-xero resolve`, the conflict view).

One path for both: each choice reads both sides now (`read_current`) and is refused when either changed after the
conflict was recorded. When a side cannot be read now, the choice is taken without the look: the next sync checks
both sides before it writes, and asks again if either changed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
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

# Why Provet or Xero could not be read now: the choice is then taken without the look.
UNREADABLE = (NotConnected, CredentialsError, ProvetError, RecordError, XeroApiError, XeroAuthError, DayLimitLow)


class ConflictChoice(NamedTuple):
    """One choice: keep "provet" or "xero" (value None), or a value typed by hand (keep None)."""

    conflict_id: int
    keep: str | None
    value: str | None = None


@dataclass(frozen=True)
class ConflictSnapshot:
    """The open conflicts and the clients' names (Provet id → name), as the view and `conflicts` show them."""

    conflicts: tuple[Conflict, ...]
    client_names: dict[str, str]

    @property
    def waiting(self) -> int:
        return sum(1 for c in self.conflicts if c.waiting)

    def client_label(self, conflict: Conflict) -> str:
        name = self.client_names.get(conflict.provet_client_id) or (
            conflict.provet_value if conflict.field == "name" else "")
        return f"{name or 'Client'} (Provet client {conflict.provet_client_id})"


@dataclass(frozen=True)
class Resolution:
    """What became of one choice: the conflict as chosen, or the refusal in plain words.

    `unread`: why Provet and Xero could not be read before choosing (None when they were, or needed not be)."""

    choice: ConflictChoice
    conflict: Conflict | None = None
    refusal: str | None = None
    unread: str | None = None
    client_label: str = ""


def read_conflicts(profile: Profile) -> ConflictSnapshot:
    with profile.store() as store:
        return _snapshot(ClientState(store), ClientState(store).open_conflicts())


def _snapshot(clients: ClientState, conflicts: Iterable[Conflict]) -> ConflictSnapshot:
    conflicts = tuple(conflicts)
    bases = clients.bases({c.provet_client_id for c in conflicts})
    names = {cid: fields["name"] for cid, fields in bases.items() if fields.get("name")}
    return ConflictSnapshot(conflicts, names)


class _Sides:
    """Provet and Xero, opened once and only when an open conflict needs a look (or why they could not be)."""

    def __init__(self, profile: Profile) -> None:
        self._profile = profile
        self._opened: tuple[ClientSource, XeroClient] | None = None
        self.unreadable: str | None = None

    def get(self) -> tuple[ClientSource, XeroClient] | None:
        if self._opened is None and self.unreadable is None:
            try:
                conns = open_connections(self._profile)
                self._opened = (ProvetSource(conns.provet), conns.xero)
            except UNREADABLE as exc:
                log.warning("choices taken without reading Provet and Xero now: %s", exc)
                self.unreadable = str(exc)
        return self._opened


def resolve_choices(profile: Profile, choices: Iterable[ConflictChoice]) -> tuple[Resolution, ...]:
    """Carry out each choice against the profile's store, reading both sides now where it can."""
    sides = _Sides(profile)
    out: list[Resolution] = []
    with profile.store() as store:
        state, clients = SyncState(store), ClientState(store)
        for choice in choices:
            conflict = clients.conflict(choice.conflict_id)
            current: tuple[str, str] | None = None
            unread: str | None = None
            if conflict is not None and conflict.resolved_at is None:
                opened = sides.get()
                unread = sides.unreadable
                if opened is not None:
                    try:
                        current = read_current(*opened, conflict)
                    except ResolveRefused as exc:
                        out.append(Resolution(choice, refusal=str(exc)))
                        continue
                    except UNREADABLE as exc:
                        log.warning("conflict %s: both sides could not be read now (%s); the next sync checks them",
                                    choice.conflict_id, exc)
                        unread = str(exc)
            try:
                chosen = resolve(state, choice.conflict_id, keep=choice.keep, value=choice.value, current=current)
            except ResolveRefused as exc:
                out.append(Resolution(choice, refusal=str(exc), unread=unread))
                continue
            label = _snapshot(clients, [chosen]).client_label(chosen)
            out.append(Resolution(choice, chosen, unread=unread, client_label=label))
    return tuple(out)


def field_words(field: str) -> str:
    return FIELD_WORDS.get(field, field.replace("_", " "))
