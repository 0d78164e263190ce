"""What was sent to Xero for each Provet invoice and credit note: its total, date and lines as the newest
finished write sent them, so the tie-out can tell a document changed in Xero (or in Provet) since."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from provet_xero_gui.store.database import SCOPE, Store, utcnow

# The kinds of document whose writes are kept here.
SENT_KINDS = ("invoice", "credit_note")


@dataclass(frozen=True)
class SentLine:
    account_code: str
    tax_type: str
    quantity: Decimal | None
    unit_amount: Decimal | None
    discount_rate: Decimal | None  # None: no discount was sent
    tax_amount: Decimal | None  # None: Xero worked the VAT out itself


@dataclass(frozen=True)
class SentDocument:
    kind: str
    provet_id: str
    total: Decimal  # Provet's total as sent (a credit note's with a plus sign)
    date: str
    lines: tuple[SentLine, ...]


class SentDocuments:
    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, provet_ids: Iterable[str]) -> dict[str, SentDocument]:
        """Provet id → what was last sent for it, for those of these ids that were sent."""
        ids = sorted(set(provet_ids))
        out: dict[str, SentDocument] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            lines: dict[str, list[SentLine]] = {}
            for r in self.store.query(
                "SELECT provet_id, account_code, tax_type, quantity, unit_amount, discount_rate, tax_amount "
                f"FROM sent_lines WHERE scope = {SCOPE} AND provet_id IN ({marks}) ORDER BY provet_id, line",
                tuple(chunk),
            ):
                lines.setdefault(r[0], []).append(SentLine(r[1] or "", r[2] or "", *(_decimal(v) for v in r[3:])))
            for r in self.store.query(
                f"SELECT kind, provet_id, total, date FROM sent_documents WHERE scope = {SCOPE} "
                f"AND provet_id IN ({marks})",
                tuple(chunk),
            ):
                out[r[1]] = SentDocument(r[0], r[1], Decimal(r[2]), r[3], tuple(lines.get(r[1], ())))
        return out

    @staticmethod
    def write(db: sqlite3.Connection, journal_id: int, payload: Any, documents: list[dict[str, Any]]) -> None:
        """Keep what a finished write sent of each invoice and credit note in it, in the caller's transaction."""
        if not isinstance(payload, list):
            return
        now = utcnow()
        for body, doc in zip(payload, documents, strict=False):
            if not isinstance(body, dict) or not isinstance(doc, dict) or doc.get("kind") not in SENT_KINDS:
                continue
            total = _decimal(doc.get("total"))
            if total is None:
                continue
            pid = str(doc.get("provet_id"))
            db.execute(
                "INSERT INTO sent_documents (scope, kind, provet_id, journal_id, number, total, date, sent_at) "
                f"VALUES ({SCOPE}, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(scope, provet_id) DO UPDATE SET "
                "kind = excluded.kind, journal_id = excluded.journal_id, number = excluded.number, "
                "total = excluded.total, date = excluded.date, sent_at = excluded.sent_at",
                (doc["kind"], pid, journal_id, doc.get("number"), str(total),
                 str(doc.get("date") or body.get("Date") or ""), now),
            )
            db.execute(f"DELETE FROM sent_lines WHERE scope = {SCOPE} AND provet_id = ?", (pid,))
            for n, line in enumerate(body.get("LineItems") or []):
                if isinstance(line, dict):
                    db.execute(
                        "INSERT INTO sent_lines (scope, provet_id, line, account_code, tax_type, quantity, "
                        f"unit_amount, discount_rate, tax_amount) VALUES ({SCOPE}, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (pid, n, line.get("AccountCode"), line.get("TaxType"),
                         *(_text(line.get(k)) for k in ("Quantity", "UnitAmount", "DiscountRate", "TaxAmount"))),
                    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
