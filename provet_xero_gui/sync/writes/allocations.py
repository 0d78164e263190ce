"""Allocating a credit note to its original invoice (`PUT CreditNotes/{id}/Allocations`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Self

from provet_xero_gui.store.sync_state import AllocationMade
from provet_xero_gui.sync.writes.base import Recorded, Ref, Refusal, Services, Single


@dataclass(frozen=True)
class AllocateCreditNote(Single):
    legacy_endpoint = "PUT Allocation"

    credit_note_id: str
    invoice_id: str
    amount: Decimal
    on: date

    @classmethod
    def of(cls, credit_note: str, label: str, credit_note_id: str, invoice_id: str, amount: Decimal,
           on: date) -> AllocateCreditNote:
        """`credit_note`: its Provet id; `label`: the credit note's, as people know it."""
        return cls(Ref("allocation", credit_note, f"Allocation of {label}"), credit_note_id, invoice_id, amount, on)

    @classmethod
    def from_journal(cls, payload: Any, documents: Sequence[Mapping[str, Any]]) -> Self:
        return cls(Ref.from_json(documents[0]), payload["CreditNoteID"], payload["InvoiceID"],
                   Decimal(payload["Amount"]), date.fromisoformat(payload["Date"]))

    def payload(self) -> Any:
        return {"CreditNoteID": self.credit_note_id, "InvoiceID": self.invoice_id, "Amount": str(self.amount),
                "Date": self.on.isoformat()}

    def send(self, to: Services, key: str) -> list[Any]:
        to.xero.allocate_credit_note(self.credit_note_id, self.invoice_id, self.amount, self.on, key)
        return [self.payload()]

    def record(self, answers: Sequence[tuple[Any, Any]], to: Services) -> Recorded:
        return Recorded(allocations=[AllocationMade(self.ref.provet_id, self.credit_note_id, self.invoice_id,
                                                    self.amount)])

    def refusal(self, doc: Ref) -> Refusal:
        # It waits on the credit note, under a cause that says what was refused, so Retry finds it again.
        return Refusal("credit_note", "allocation_refused", "Xero refused to allocate it to its original invoice",
                       "Allocate it by hand in Xero, or Retry once the invoice owes it again.")
