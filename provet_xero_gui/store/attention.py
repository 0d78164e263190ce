"""Attention items: documents held back, each with why and what to do about it, until they go through."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from provet_xero_gui.store.database import SCOPE, Store, utcnow

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


class Attention:
    def __init__(self, store: Store) -> None:
        self.store = store

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
            self.resolve_in(db, kind, provet_id, utcnow())

    @staticmethod
    def resolve_in(db: sqlite3.Connection, kind: str, provet_id: str | int, now: str) -> None:
        """Close the document's open items, in the caller's transaction."""
        db.execute(
            f"UPDATE attention SET state = 'resolved', updated_at = ? WHERE scope = {SCOPE} AND kind = ? "
            "AND provet_id = ? AND state = 'open'",
            (now, kind, str(provet_id)),
        )

    def open(self, *, include_rule_holds: bool = True) -> list[AttentionItem]:
        rows = self.store.query(
            "SELECT id, kind, provet_id, document, cause, reason, fix, updated_at FROM attention "
            f"WHERE scope = {SCOPE} AND state = 'open' ORDER BY cause, id"
        )
        items = [AttentionItem(*r) for r in rows]
        return items if include_rule_holds else [i for i in items if not i.by_rule]

    def open_for(self, kind: str, provet_id: str) -> list[AttentionItem]:
        """One document's open items, oldest first."""
        rows = self.store.query(
            "SELECT id, kind, provet_id, document, cause, reason, fix, updated_at FROM attention "
            f"WHERE scope = {SCOPE} AND state = 'open' AND kind = ? AND provet_id = ? ORDER BY id",
            (kind, provet_id),
        )
        return [AttentionItem(*r) for r in rows]

    def ids(self, kind: str) -> list[str]:
        rows = self.store.query(
            f"SELECT provet_id FROM attention WHERE scope = {SCOPE} AND state = 'open' AND kind = ? ORDER BY id",
            (kind,),
        )
        return [r[0] for r in rows]

    def count_open(self) -> int:
        return int(self.store.query(
            f"SELECT COUNT(*) FROM attention WHERE scope = {SCOPE} AND state = 'open'")[0][0])
