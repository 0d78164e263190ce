"""Sending credit notes (`PUT CreditNotes`); one with an original invoice is due an allocation."""

from __future__ import annotations

from decimal import Decimal

from provet_xero_gui.store.sync_state import AllocationDue
from provet_xero_gui.sync.writes.base import Recorded, Services
from provet_xero_gui.sync.writes.sent_documents import SendDocuments, SentDocument
from provet_xero_gui.xero.client import XeroDocumentState


class CreateCreditNotes(SendDocuments):
    kind = "credit_note"
    legacy_endpoint = "PUT CreditNotes"

    def send(self, to: Services, key: str) -> list[XeroDocumentState]:
        return to.xero.put_credit_notes(list(self.bodies), key)

    def by_number(self, to: Services, numbers: list[str]) -> list[XeroDocumentState]:
        return to.xero.credit_notes_by_number(numbers)

    def link(self, doc: SentDocument, xero_id: str, number: str | None, out: Recorded) -> None:
        """A credit note with an original invoice is due an allocation: recorded with the credit note itself, so
        a pass that stops before allocating leaves the allocation for the next one."""
        super().link(doc, xero_id, number, out)
        if doc.original:
            out.allocations.append(AllocationDue(doc.provet_id, str(doc.original), Decimal(doc.total), doc.date,
                                                 doc.label))
