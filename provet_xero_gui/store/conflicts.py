"""The store's view for client details both ways: the last synced value of each field, and conflicts.

Kept apart from the documents' bookkeeping so each can change without touching the other. Tables (schema 1):
`client_fields(provet_client_id, field, value, synced_at)` — the base both sides agreed on after the last
sync — and `conflicts`. A conflict row is in one of three states:

- open, waiting for a choice: `resolved_at` and `resolution` are NULL;
- chosen, waiting for the next pass to write it: `resolution` set, `resolved_at` NULL;
- closed: `resolved_at` set.

`resolution` is "provet", "xero", "value:<text>" (a value chosen by hand), or "settled" (the two sides came
to agree on their own). At most one row per client and field is not closed (a unique index says so).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from provet_xero_gui.store.database import SCOPE, Store, utcnow

VALUE_PREFIX = "value:"


@dataclass(frozen=True)
class Conflict:
    id: int
    provet_client_id: str
    xero_contact_id: str
    field: str
    base_value: str | None
    provet_value: str
    xero_value: str
    provet_changed_at: str | None
    xero_changed_at: str | None
    created_at: str
    resolved_at: str | None
    resolution: str | None

    @property
    def chosen(self) -> str | None:
        """The value to write on the next pass, once a side (or a value) was chosen."""
        if self.resolution == "provet":
            return self.provet_value
        if self.resolution == "xero":
            return self.xero_value
        if self.resolution and self.resolution.startswith(VALUE_PREFIX):
            return self.resolution[len(VALUE_PREFIX) :]
        return None

    @property
    def waiting(self) -> bool:
        """Open and nobody has chosen yet."""
        return self.resolved_at is None and self.resolution is None


@dataclass(frozen=True)
class NewConflict:
    provet_client_id: str
    xero_contact_id: str
    field: str
    base_value: str | None
    provet_value: str
    xero_value: str
    provet_changed_at: str | None
    xero_changed_at: str | None
    resolution: str | None = None  # a standing rule's choice, saved with the conflict


_COLUMNS = ("id, provet_client_id, xero_contact_id, field, base_value, provet_value, xero_value, "
            "provet_changed_at, xero_changed_at, created_at, resolved_at, resolution")


class ClientState:
    """Bases and conflicts; every method is one short transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # --- bases ----------------------------------------------------------------------------------------
    def bases(self, client_ids: Iterable[str | int]) -> dict[str, dict[str, str | None]]:
        ids = sorted({str(i) for i in client_ids})
        out: dict[str, dict[str, str | None]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = self.store.query(
                "SELECT provet_client_id, field, value FROM client_fields "
                f"WHERE scope = {SCOPE} AND provet_client_id IN ({','.join('?' * len(chunk))})",
                tuple(chunk),
            )
            for r in rows:
                out.setdefault(r["provet_client_id"], {})[r["field"]] = r["value"]
        return out

    def unbased_links(self) -> dict[str, str]:
        """Linked clients (id → ContactID) that have no synced values yet: new links."""
        rows = self.store.query(
            f"SELECT provet_id, xero_id FROM links l WHERE l.scope = {SCOPE} AND kind = 'contact' AND NOT EXISTS "
            "(SELECT 1 FROM client_fields f WHERE f.scope = l.scope AND f.provet_client_id = l.provet_id)"
        )
        return {r["provet_id"]: r["xero_id"] for r in rows}

    def record(
        self,
        bases: Mapping[str, Mapping[str, str | None]] = {},
        *,
        new: Iterable[NewConflict] = (),
        updated: Iterable[NewConflict] = (),
        close: Mapping[int, str] = {},
        choose: Mapping[int, str | None] = {},
        now: str | None = None,
    ) -> list[int]:
        """Bases, new conflicts, changed values of open ones, closes and choices — all in one transaction,
        so a crash leaves either all of a decision or none of it. Returns the ids of the new conflicts."""
        stamp = now or utcnow()
        ids: list[int] = []
        with self.store.transaction() as db:
            _write_bases(db, bases, stamp)
            for c in new:
                cur = db.execute(
                    "INSERT INTO conflicts (scope, provet_client_id, xero_contact_id, field, base_value, provet_value, "
                    "xero_value, provet_changed_at, xero_changed_at, created_at, resolution) "
                    f"VALUES ({SCOPE}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (c.provet_client_id, c.xero_contact_id, c.field, c.base_value, c.provet_value, c.xero_value,
                     c.provet_changed_at, c.xero_changed_at, stamp, c.resolution),
                )
                ids.append(int(cur.lastrowid))
            for c in updated:
                db.execute(
                    "UPDATE conflicts SET provet_value = ?, xero_value = ?, provet_changed_at = ?, "
                    f"xero_changed_at = ?, resolution = NULL WHERE scope = {SCOPE} AND provet_client_id = ? "
                    "AND field = ? AND resolved_at IS NULL",
                    (c.provet_value, c.xero_value, c.provet_changed_at, c.xero_changed_at, c.provet_client_id,
                     c.field),
                )
            for cid, resolution in choose.items():
                db.execute("UPDATE conflicts SET resolution = ? WHERE id = ? AND resolved_at IS NULL",
                           (resolution, cid))
            for cid, resolution in close.items():
                db.execute("UPDATE conflicts SET resolution = ?, resolved_at = ? WHERE id = ? AND resolved_at IS NULL",
                           (resolution, stamp, cid))
        return ids

    # --- conflicts ------------------------------------------------------------------------------------
    def conflict(self, conflict_id: int) -> Conflict | None:
        rows = self.store.query(f"SELECT {_COLUMNS} FROM conflicts WHERE scope = {SCOPE} AND id = ?", (conflict_id,))
        return Conflict(*rows[0]) if rows else None

    def open_conflicts(self, client_ids: Iterable[str | int] | None = None) -> list[Conflict]:
        """Conflicts not closed (waiting for a choice, or chosen and waiting for the next pass)."""
        rows = self.store.query(
            f"SELECT {_COLUMNS} FROM conflicts WHERE scope = {SCOPE} AND resolved_at IS NULL "
            "ORDER BY provet_client_id, field, id"
        )
        found = [Conflict(*r) for r in rows]
        if client_ids is None:
            return found
        wanted = {str(i) for i in client_ids}
        return [c for c in found if c.provet_client_id in wanted]

    def count_open(self) -> int:
        return int(self.store.query(
            f"SELECT COUNT(*) FROM conflicts WHERE scope = {SCOPE} AND resolved_at IS NULL")[0][0])

    def choose(self, conflict_id: int, resolution: str) -> None:
        self.record(choose={conflict_id: resolution})


def _write_bases(db: sqlite3.Connection, bases: Mapping[str, Mapping[str, str | None]], stamp: str) -> None:
    for client_id, fields in bases.items():
        for field, value in fields.items():
            db.execute(
                "INSERT INTO client_fields (scope, provet_client_id, field, value, synced_at) "
                f"VALUES ({SCOPE}, ?, ?, ?, ?) ON CONFLICT(scope, provet_client_id, field) DO UPDATE SET "
                "value = excluded.value, synced_at = excluded.synced_at",
                (str(client_id), field, value, stamp),
            )
