"""Read cursors (how far each poll has read) and cached reference data, per binding."""

from __future__ import annotations

import json
from typing import Any

from provet_xero_gui.store.database import SCOPE, Store, utcnow


class Cursors:
    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, name: str) -> str | None:
        rows = self.store.query(f"SELECT value FROM cursors WHERE scope = {SCOPE} AND name = ?", (name,))
        return rows[0]["value"] if rows else None

    def set(self, name: str, value: str) -> None:
        with self.store.transaction() as db:
            db.execute(
                f"INSERT INTO cursors (scope, name, value, updated_at) VALUES ({SCOPE}, ?, ?, ?) "
                "ON CONFLICT(scope, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (name, value, utcnow()),
            )

    # Cached reference data is kept as cursors named "cache:<name>", its value JSON.
    def cached(self, name: str) -> tuple[Any, str] | None:
        """The cached value and when it was written."""
        rows = self.store.query(f"SELECT value, updated_at FROM cursors WHERE scope = {SCOPE} AND name = ?",
                                (f"cache:{name}",))
        return (json.loads(rows[0]["value"]), rows[0]["updated_at"]) if rows else None

    def cache(self, name: str, value: Any) -> None:
        self.set(f"cache:{name}", json.dumps(value, default=str))

    def drop_cache(self, name: str) -> None:
        with self.store.transaction() as db:
            db.execute(f"DELETE FROM cursors WHERE scope = {SCOPE} AND name = ?", (f"cache:{name}",))
