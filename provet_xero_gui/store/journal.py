"""The write journal: each intended write to Xero or Provet, committed with its Idempotency-Key before it is
sent, and closed with its answer.

A journal entry's answer and everything it brought about (links, allocations, what was sent) are committed
together (`finish`), so a crash leaves either "sent, not yet recorded" (the entry stays pending and is replayed
with the same Idempotency-Key) or "recorded", never half of each.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from provet_xero_gui.store.allocations import AllocationDue, AllocationMade, Allocations
from provet_xero_gui.store.database import SCOPE, Store, utcnow
from provet_xero_gui.store.links import Links, NewLink
from provet_xero_gui.store.sent import SentDocuments


@dataclass(frozen=True)
class JournalEntry:
    id: int
    key: str
    endpoint: str
    payload: Any  # the JSON body as sent
    documents: list[dict[str, Any]]  # what each element of the payload stands for


class Journal:
    def __init__(self, store: Store) -> None:
        self.store = store

    def begin(self, endpoint: str, payload: Any, documents: list[dict[str, Any]]) -> JournalEntry:
        """Commit the intended write before it is sent; its key goes with every (re)try."""
        key = f"provet-xero-{uuid.uuid4()}"
        with self.store.transaction() as db:
            cur = db.execute(
                "INSERT INTO journal (scope, idempotency_key, endpoint, payload, documents, created_at) "
                f"VALUES ({SCOPE}, ?, ?, ?, ?, ?)",
                (key, endpoint, json.dumps(payload, ensure_ascii=False), json.dumps(documents), utcnow()),
            )
            entry_id = int(cur.lastrowid)
        return JournalEntry(entry_id, key, endpoint, payload, documents)

    def finish(
        self,
        entry: JournalEntry,
        links: Iterable[NewLink],
        result: Any = None,
        failed: bool = False,
        allocations: Iterable[AllocationDue | AllocationMade] = (),
    ) -> None:
        """Record the answer, its links and allocations, and what it sent of each document, in one transaction."""
        with self.store.transaction() as db:
            Links.write(db, links)
            Allocations.write(db, allocations)
            if not failed:
                SentDocuments.write(db, entry.id, entry.payload, entry.documents)
            db.execute(
                "UPDATE journal SET state = ?, result = ?, finished_at = ? WHERE id = ?",
                ("failed" if failed else "done", json.dumps(result, default=str)[:20000], utcnow(), entry.id),
            )

    def pending(self) -> list[JournalEntry]:
        rows = self.store.query(
            "SELECT id, idempotency_key, endpoint, payload, documents FROM journal "
            f"WHERE scope = {SCOPE} AND state = 'pending' ORDER BY id"
        )
        return [
            JournalEntry(
                r["id"], r["idempotency_key"], r["endpoint"], json.loads(r["payload"]), json.loads(r["documents"])
            )
            for r in rows
        ]

    def count_pending(self) -> int:
        return int(self.store.query(
            f"SELECT COUNT(*) FROM journal WHERE scope = {SCOPE} AND state = 'pending'")[0][0])
