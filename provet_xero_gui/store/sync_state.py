"""The engine's view of the store: links, the write journal, attention items, cursors and caches.

Every method is one short transaction, except that a journal entry's answer and the links it creates are
committed together (`finish`), so a crash leaves either "sent, not yet recorded" (the entry stays
pending and is replayed with the same Idempotency-Key) or "recorded", never half of each.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from provet_xero_gui.store import SCOPE, Binding, Store, utcnow

# Attention causes that are held on purpose by the rules of DESIGN.md, not problems.
RULE_CAUSES = frozenset({"anonymous", "prepayment_unused", "empty"})

# What a person reads as the heading of each cause's group, in the command line and the window.
CAUSE_TITLES = {
    "anonymous": "Held by rule: anonymous sales (no client)",
    "vat_group_unmapped": "VAT group not mapped",
    "vat_group_unknown": "VAT group cannot be told from the row",
    "tax_rate_unusable": "Tax rate cannot be used in Xero",
    "tracking_option_unusable": "Department's tracking option cannot be used in Xero",
    "sales_account_unmapped": "Sales account not mapped",
    "rounding_account_missing": "No rounding account",
    "lock_date": "Dated on or before Xero's lock date",
    "number_taken": "Number already used in Xero",
    "xero_rejected": "Refused by Xero",
    "contact_rejected": "Client refused by Xero",
    "client_refused": "Client change refused by Provet",
    "unreadable": "Could not be read from Provet",
    "void_refused": "Voided in Provet, cannot be voided in Xero",
    "allocation_refused": "Credit note not allocated",
    "currency": "Other currency",
    "amounts_differ": "Amounts do not add up",
    "prepayment_unused": "Held by rule: prepayments not used on an invoice yet",
    "payment_method_unmapped": "Payment method not mapped",
    "xero_payments_method_missing": "No \"Xero payments\" method chosen",
    "payment_rejected": "Payment refused by Xero",
    "provet_refused": "Refused by Provet",
    "payment_unplaced": "Payment larger than what its invoices owe",
    "empty": "Held by rule: empty documents (no rows, nothing to book)",
    "no_rows": "No rows, but a total",
    "no_number": "Finalised without a number",
    "no_date": "No invoice date",
    "rows_do_not_add_up": "Rows do not add up to the total",
    "negative_invoice": "Negative invoice (should be a credit note)",
}


def cause_title(cause: str) -> str:
    return CAUSE_TITLES.get(cause, cause.replace("_", " ").capitalize())


@dataclass(frozen=True)
class Link:
    kind: str
    provet_id: str
    xero_id: str
    xero_number: str | None
    fingerprint: str | None


@dataclass(frozen=True)
class JournalEntry:
    id: int
    key: str
    endpoint: str
    payload: Any  # the JSON body as sent
    documents: list[dict[str, Any]]  # what each element of the payload stands for


@dataclass(frozen=True)
class NewLink:
    kind: str
    provet_id: str
    xero_id: str
    xero_number: str | None = None
    fingerprint: str | None = None


@dataclass(frozen=True)
class AttentionItem:
    id: int
    kind: str
    provet_id: str
    document: str
    cause: str
    reason: str
    fix: str
    updated_at: str

    @property
    def by_rule(self) -> bool:
        return self.cause in RULE_CAUSES

    @property
    def key(self) -> str:
        """What names this item in a retry request."""
        return f"{self.kind}:{self.provet_id}"


class SyncState:
    def __init__(self, store: Store) -> None:
        self.store = store

    # --- links ------------------------------------------------------------------------------------
    def link(self, kind: str, provet_id: str | int) -> Link | None:
        rows = self.store.query(
            "SELECT kind, provet_id, xero_id, xero_number, fingerprint FROM links "
            f"WHERE scope = {SCOPE} AND kind = ? AND provet_id = ?",
            (kind, str(provet_id)),
        )
        return Link(*rows[0]) if rows else None

    def links(self, kind: str, provet_ids: Iterable[str | int] | None = None) -> dict[str, Link]:
        if provet_ids is None:
            rows = self.store.query(
                f"SELECT kind, provet_id, xero_id, xero_number, fingerprint FROM links WHERE scope = {SCOPE} "
                "AND kind = ?", (kind,)
            )
        else:
            ids = [str(i) for i in provet_ids]
            rows = []
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows += self.store.query(
                    "SELECT kind, provet_id, xero_id, xero_number, fingerprint FROM links "
                    f"WHERE scope = {SCOPE} AND kind = ? AND provet_id IN ({marks})",
                    (kind, *chunk),
                )
        return {r["provet_id"]: Link(*r) for r in rows}

    def by_xero_id(self, kind: str, xero_id: str) -> Link | None:
        rows = self.store.query(
            "SELECT kind, provet_id, xero_id, xero_number, fingerprint FROM links "
            f"WHERE scope = {SCOPE} AND kind = ? AND xero_id = ?",
            (kind, xero_id),
        )
        return Link(*rows[0]) if rows else None

    @staticmethod
    def _write_links(db: sqlite3.Connection, links: Iterable[NewLink]) -> None:
        now = utcnow()
        for link in links:
            db.execute(
                "INSERT INTO links (scope, kind, provet_id, xero_id, xero_number, fingerprint, created_at, updated_at) "
                f"VALUES ({SCOPE}, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(scope, kind, provet_id) DO UPDATE SET "
                "xero_id = excluded.xero_id, xero_number = excluded.xero_number, "
                "fingerprint = excluded.fingerprint, updated_at = excluded.updated_at",
                (link.kind, link.provet_id, link.xero_id, link.xero_number, link.fingerprint, now, now),
            )
            # A document that got into Xero no longer needs attention.
            db.execute(
                "UPDATE attention SET state = 'resolved', updated_at = ? "
                f"WHERE scope = {SCOPE} AND kind = ? AND provet_id = ? AND state = 'open'",
                (now, link.kind, link.provet_id),
            )

    def add_links(self, links: Iterable[NewLink]) -> None:
        with self.store.transaction() as db:
            self._write_links(db, links)

    def pending_allocations(self) -> dict[str, dict[str, Any]]:
        """Credit notes in Xero that are due an allocation and have none yet: provet id → what it needs."""
        rows = self.store.query(
            "SELECT d.provet_id, d.fingerprint FROM links d LEFT JOIN links a "
            "ON a.scope = d.scope AND a.kind = 'allocation' AND a.provet_id = d.provet_id "
            f"WHERE d.scope = {SCOPE} AND d.kind = 'allocation_due' AND a.provet_id IS NULL"
        )
        return {r[0]: json.loads(r[1]) for r in rows}

    # --- the journal --------------------------------------------------------------------------------
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

    def finish(self, entry: JournalEntry, links: Iterable[NewLink], result: Any = None, failed: bool = False) -> None:
        """Record the answer and its links in one transaction."""
        with self.store.transaction() as db:
            self._write_links(db, links)
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

    # --- attention ----------------------------------------------------------------------------------
    def hold(self, kind: str, provet_id: str | int, document: str, cause: str, reason: str, fix: str) -> None:
        """Open (or refresh) an attention item; other causes for the same document are closed."""
        now = utcnow()
        with self.store.transaction() as db:
            db.execute(
                "UPDATE attention SET state = 'resolved', updated_at = ? "
                f"WHERE scope = {SCOPE} AND kind = ? AND provet_id = ? AND cause != ? AND state = 'open'",
                (now, kind, str(provet_id), cause),
            )
            db.execute(
                "INSERT INTO attention (scope, kind, provet_id, document, cause, reason, fix, state, created_at, "
                f"updated_at) VALUES ({SCOPE}, ?, ?, ?, ?, ?, ?, 'open', ?, ?) "
                "ON CONFLICT(scope, kind, provet_id, cause) DO UPDATE SET "
                "document = excluded.document, reason = excluded.reason, fix = excluded.fix, state = 'open', "
                "updated_at = excluded.updated_at",
                (kind, str(provet_id), document, cause, reason, fix, now, now),
            )

    def resolve(self, kind: str, provet_id: str | int) -> None:
        with self.store.transaction() as db:
            db.execute(
                f"UPDATE attention SET state = 'resolved', updated_at = ? WHERE scope = {SCOPE} AND kind = ? "
                "AND provet_id = ? AND state = 'open'",
                (utcnow(), kind, str(provet_id)),
            )

    def attention(self, *, include_rule_holds: bool = True) -> list[AttentionItem]:
        rows = self.store.query(
            "SELECT id, kind, provet_id, document, cause, reason, fix, updated_at FROM attention "
            f"WHERE scope = {SCOPE} AND state = 'open' ORDER BY cause, id"
        )
        items = [AttentionItem(*r) for r in rows]
        return items if include_rule_holds else [i for i in items if not i.by_rule]

    def attention_ids(self, kind: str) -> list[str]:
        rows = self.store.query(
            f"SELECT provet_id FROM attention WHERE scope = {SCOPE} AND state = 'open' AND kind = ? ORDER BY id",
            (kind,),
        )
        return [r[0] for r in rows]

    # --- cursors and cached reference data ------------------------------------------------------------
    def cursor(self, name: str) -> str | None:
        return self.store.get_cursor(name)

    def set_cursor(self, name: str, value: str) -> None:
        self.store.set_cursor(name, value)

    def cached(self, name: str) -> tuple[Any, str] | None:
        rows = self.store.query(f"SELECT value, updated_at FROM cursors WHERE scope = {SCOPE} AND name = ?",
                                (f"cache:{name}",))
        return (json.loads(rows[0]["value"]), rows[0]["updated_at"]) if rows else None

    def cache(self, name: str, value: Any) -> None:
        self.store.set_cursor(f"cache:{name}", json.dumps(value, default=str))

    def drop_cache(self, name: str) -> None:
        with self.store.transaction() as db:
            db.execute(f"DELETE FROM cursors WHERE scope = {SCOPE} AND name = ?", (f"cache:{name}",))

    # --- the binding: rebuilding links from what Xero holds ----------------------------------------------
    def binding(self) -> Binding:
        return self.store.active_binding()

    def record_rebuild(self, links: Iterable[NewLink], counts: dict[str, int], reason: str) -> None:
        """The links found in Xero and the end of the rebuild, in one transaction: a pass stopped half-way
        rebuilds again (the same links) before it writes anything."""
        rebuilt = json.dumps({"links": counts, "reason": reason})
        with self.store.transaction() as db:
            self._write_links(db, links)
            db.execute(f"UPDATE bindings SET rebuild_reason = NULL, rebuilt_at = ?, rebuilt = ? WHERE id = {SCOPE}",
                       (utcnow(), rebuilt))
