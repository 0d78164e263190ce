"""Credit note allocations: which credit notes in Xero are due an allocation to their original invoice, which
were allocated (to which invoice, how much), and which were left unallocated on purpose.

A row is due from the moment its credit note is linked (in the same transaction), so a pass that stops before
allocating leaves the allocation for the next one; it becomes done or skipped once, and stays so.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from provet_xero_gui.store.database import SCOPE, Store, utcnow


@dataclass(frozen=True)
class AllocationDue:
    """A credit note with an original invoice: it is to be allocated to it."""

    credit_note: str  # Provet id of the credit note
    original: str  # Provet id of the invoice it credits
    total: Decimal  # the credit note's total: the most it can allocate
    date: str  # the credit note's date, YYYY-MM-DD
    label: str  # what a person calls the credit note


@dataclass(frozen=True)
class AllocationMade:
    """A credit note allocated in Xero (by this app, or found there by a rebuild)."""

    credit_note: str
    xero_credit_note_id: str
    xero_invoice_id: str
    amount: Decimal


class Allocations:
    def __init__(self, store: Store) -> None:
        self.store = store

    def due(self) -> dict[str, AllocationDue]:
        """Credit notes due an allocation that have none yet (neither made nor skipped): Provet id → what it needs."""
        rows = self.store.query(
            "SELECT credit_note, original, total, date, label FROM allocations "
            f"WHERE scope = {SCOPE} AND state = 'due' ORDER BY credit_note"
        )
        return {r[0]: AllocationDue(r[0], r[1], Decimal(r[2]), r[3], r[4]) for r in rows}

    def made(self, credit_note: str) -> bool:
        rows = self.store.query(
            f"SELECT 1 FROM allocations WHERE scope = {SCOPE} AND credit_note = ? AND state = 'done'", (credit_note,)
        )
        return bool(rows)

    def allocated_to(self, xero_invoice_id: str) -> Decimal:
        """How much has been allocated to this invoice in Xero, from all credit notes."""
        rows = self.store.query(
            f"SELECT amount FROM allocations WHERE scope = {SCOPE} AND state = 'done' AND xero_invoice_id = ?",
            (xero_invoice_id,),
        )
        return sum((Decimal(r[0]) for r in rows if r[0]), Decimal(0))

    def count_made(self) -> int:
        return int(self.store.query(
            f"SELECT COUNT(*) FROM allocations WHERE scope = {SCOPE} AND state = 'done'")[0][0])

    def skip(self, credit_note: str) -> None:
        """Not to be allocated (it or its original was voided, or Provet settled nothing with it): asked no more."""
        now = utcnow()
        with self.store.transaction() as db:
            db.execute(
                f"INSERT INTO allocations (scope, credit_note, state, created_at, updated_at) VALUES ({SCOPE}, ?, "
                "'skipped', ?, ?) ON CONFLICT(scope, credit_note) DO UPDATE SET state = 'skipped', "
                "updated_at = excluded.updated_at",
                (credit_note, now, now),
            )

    @staticmethod
    def write(db: sqlite3.Connection, allocations: Iterable[AllocationDue | AllocationMade]) -> None:
        """Record allocations due and made, in the caller's transaction. A credit note sent again is due again
        only if it was never allocated or skipped."""
        now = utcnow()
        for a in allocations:
            if isinstance(a, AllocationDue):
                db.execute(
                    "INSERT INTO allocations (scope, credit_note, original, total, date, label, state, created_at, "
                    f"updated_at) VALUES ({SCOPE}, ?, ?, ?, ?, ?, 'due', ?, ?) ON CONFLICT(scope, credit_note) DO "
                    "UPDATE SET original = excluded.original, total = excluded.total, date = excluded.date, "
                    "label = excluded.label, updated_at = excluded.updated_at",
                    (a.credit_note, a.original, str(a.total), a.date, a.label, now, now),
                )
            else:
                db.execute(
                    "INSERT INTO allocations (scope, credit_note, state, xero_credit_note_id, xero_invoice_id, amount, "
                    f"created_at, updated_at) VALUES ({SCOPE}, ?, 'done', ?, ?, ?, ?, ?) ON CONFLICT(scope, "
                    "credit_note) DO UPDATE SET state = 'done', xero_credit_note_id = excluded.xero_credit_note_id, "
                    "xero_invoice_id = excluded.xero_invoice_id, amount = excluded.amount, "
                    "updated_at = excluded.updated_at",
                    (a.credit_note, a.xero_credit_note_id, a.xero_invoice_id, str(a.amount), now, now),
                )
