"""Which Xero organisation and Provet instance what the store keeps belongs to (a binding), and which one is
in use: every other table's rows carry their binding, and only the active one's are read and written."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from provet_xero_gui.store.database import SCOPE, Store, utcnow


@dataclass(frozen=True)
class Binding:
    """The Xero organisation and Provet instance that what the store keeps belongs to."""

    id: int
    xero_tenant_id: str | None
    xero_tenant_name: str | None
    provet_url: str | None
    start_date: str | None
    active: bool
    rebuild_reason: str | None  # not None: links are rebuilt from Xero before anything is written
    rebuilt_at: str | None
    rebuilt: dict[str, Any] | None  # {"links": {kind: n}, "reason": ...}
    linked: int = 0  # links kept for it

    @property
    def label(self) -> str:
        return self.xero_tenant_name or self.xero_tenant_id or "the organisation chosen first"


class Bindings:
    def __init__(self, store: Store) -> None:
        self.store = store

    def all(self) -> list[Binding]:
        rows = self.store.query(
            "SELECT b.id, b.xero_tenant_id, b.xero_tenant_name, b.provet_url, b.start_date, b.active, "
            "b.rebuild_reason, b.rebuilt_at, b.rebuilt, (SELECT COUNT(*) FROM links l WHERE l.scope = b.id) "
            "FROM bindings b ORDER BY b.id"
        )
        return [Binding(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6], r[7], json.loads(r[8]) if r[8] else None,
                        r[9]) for r in rows]

    def active(self) -> Binding:
        return next(b for b in self.all() if b.active)

    def claim(self, tenant_id: str, tenant_name: str | None, provet_url: str | None) -> None:
        """The active binding, not claimed yet (a new store, or one older than bindings), is this organisation's.
        So is a new store's that no pass has used yet (its rebuild, the first thing a pass does, is still due):
        choosing another organisation during the first setup asks nothing."""
        with self.store.transaction() as db:
            db.execute(
                "UPDATE bindings SET xero_tenant_id = ?, xero_tenant_name = ?, provet_url = ? "
                "WHERE active = 1 AND (xero_tenant_id IS NULL OR (rebuild_reason = 'new' AND NOT EXISTS "
                "(SELECT 1 FROM links l WHERE l.scope = bindings.id)))",
                (tenant_id, tenant_name, provet_url),
            )

    def rename(self, binding_id: int, tenant_name: str | None) -> None:
        with self.store.transaction() as db:
            db.execute("UPDATE bindings SET xero_tenant_name = ? WHERE id = ?", (tenant_name, binding_id))

    def activate(self, binding_id: int) -> None:
        with self.store.transaction() as db:
            db.execute("UPDATE bindings SET active = 0 WHERE active = 1")
            db.execute("UPDATE bindings SET active = 1 WHERE id = ?", (binding_id,))

    def set_start(self, binding_id: int, start_date: str) -> None:
        with self.store.transaction() as db:
            db.execute("UPDATE bindings SET start_date = ? WHERE id = ?", (start_date, binding_id))

    def new(self, tenant_id: str, tenant_name: str | None, provet_url: str | None, start_date: str) -> int:
        """A fresh start for this organisation, made the active one; it rebuilds its links from Xero first."""
        with self.store.transaction() as db:
            db.execute("UPDATE bindings SET active = 0 WHERE active = 1")
            cur = db.execute(
                "INSERT INTO bindings (xero_tenant_id, xero_tenant_name, provet_url, start_date, active, "
                "rebuild_reason, created_at) VALUES (?, ?, ?, ?, 1, 'new organisation', ?)",
                (tenant_id, tenant_name, provet_url, start_date, utcnow()),
            )
            return int(cur.lastrowid)

    @staticmethod
    def write_rebuilt(db: sqlite3.Connection, counts: dict[str, int], reason: str) -> None:
        """The active binding's rebuild is done (in the caller's transaction, with the links it found)."""
        rebuilt = json.dumps({"links": counts, "reason": reason})
        db.execute(f"UPDATE bindings SET rebuild_reason = NULL, rebuilt_at = ?, rebuilt = ? WHERE id = {SCOPE}",
                   (utcnow(), rebuilt))
