"""Links: which Xero record (and number) stands for each Provet record, by kind, with a fingerprint of what was
last sent. A link means "done in Xero"; nothing else is kept in this table."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from provet_xero_gui.store.attention import Attention
from provet_xero_gui.store.database import SCOPE, Store, utcnow

_COLUMNS = "kind, provet_id, xero_id, xero_number, fingerprint"


@dataclass(frozen=True)
class Link:
    kind: str
    provet_id: str
    xero_id: str
    xero_number: str | None
    fingerprint: str | None


@dataclass(frozen=True)
class NewLink:
    kind: str
    provet_id: str
    xero_id: str
    xero_number: str | None = None
    fingerprint: str | None = None


class Links:
    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, kind: str, provet_id: str | int) -> Link | None:
        rows = self.store.query(
            f"SELECT {_COLUMNS} FROM links WHERE scope = {SCOPE} AND kind = ? AND provet_id = ?",
            (kind, str(provet_id)),
        )
        return Link(*rows[0]) if rows else None

    def many(self, kind: str, provet_ids: Iterable[str | int] | None = None) -> dict[str, Link]:
        """provet id → link, for all of a kind or for these ids."""
        if provet_ids is None:
            rows = self.store.query(f"SELECT {_COLUMNS} FROM links WHERE scope = {SCOPE} AND kind = ?", (kind,))
        else:
            ids = [str(i) for i in provet_ids]
            rows = []
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows += self.store.query(
                    f"SELECT {_COLUMNS} FROM links WHERE scope = {SCOPE} AND kind = ? AND provet_id IN ({marks})",
                    (kind, *chunk),
                )
        return {r["provet_id"]: Link(*r) for r in rows}

    def by_xero_id(self, kind: str, xero_id: str) -> Link | None:
        rows = self.store.query(
            f"SELECT {_COLUMNS} FROM links WHERE scope = {SCOPE} AND kind = ? AND xero_id = ?", (kind, xero_id)
        )
        return Link(*rows[0]) if rows else None

    def oldest(self, kind: str) -> Link | None:
        """The first link made of this kind."""
        rows = self.store.query(
            f"SELECT {_COLUMNS} FROM links WHERE scope = {SCOPE} AND kind = ? ORDER BY created_at LIMIT 1", (kind,)
        )
        return Link(*rows[0]) if rows else None

    def counts(self) -> dict[str, int]:
        """Links by kind."""
        rows = self.store.query(
            f"SELECT kind, COUNT(*) AS n FROM links WHERE scope = {SCOPE} GROUP BY kind ORDER BY kind")
        return {r["kind"]: r["n"] for r in rows}

    def add(self, links: Iterable[NewLink]) -> None:
        with self.store.transaction() as db:
            self.write(db, links)

    @staticmethod
    def write(db: sqlite3.Connection, links: Iterable[NewLink]) -> None:
        """Record links in the caller's transaction; a document that got into Xero no longer needs attention."""
        now = utcnow()
        for link in links:
            db.execute(
                "INSERT INTO links (scope, kind, provet_id, xero_id, xero_number, fingerprint, created_at, updated_at) "
                f"VALUES ({SCOPE}, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(scope, kind, provet_id) DO UPDATE SET "
                "xero_id = excluded.xero_id, xero_number = excluded.xero_number, "
                "fingerprint = excluded.fingerprint, updated_at = excluded.updated_at",
                (link.kind, link.provet_id, link.xero_id, link.xero_number, link.fingerprint, now, now),
            )
            Attention.resolve_in(db, link.kind, link.provet_id, now)
