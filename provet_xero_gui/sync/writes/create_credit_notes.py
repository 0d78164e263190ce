"""Sending credit notes (`PUT CreditNotes`); one with an original invoice is due an allocation."""

from __future__ import annotations

import json

from provet_xero_gui.store.sync_state import NewLink
from provet_xero_gui.sync.writes.base import Services
from provet_xero_gui.sync.writes.sent_documents import SendDocuments, SentDocument
from provet_xero_gui.xero.client import XeroDocumentState


class CreateCreditNotes(SendDocuments):
    kind = "credit_note"
    legacy_endpoint = "PUT CreditNotes"

    def send(self, to: Services, key: str) -> list[XeroDocumentState]:
        return to.xero.put_credit_notes(list(self.bodies), key)

    def by_number(self, to: Services, numbers: list[str]) -> list[XeroDocumentState]:
        return to.xero.credit_notes_by_number(numbers)

    def linked(self, doc: SentDocument, xero_id: str, number: str | None) -> list[NewLink]:
        return [*super().linked(doc, xero_id, number), *_allocation_due(doc)]


def _allocation_due(doc: SentDocument) -> list[NewLink]:
    """A credit note with an original invoice is due an allocation: recorded with the credit note itself, so a
    pass that stops before allocating leaves the allocation for the next one."""
    if not doc.original:
        return []
    due = {"original": doc.original, "total": doc.total, "date": doc.date, "label": doc.label}
    return [NewLink("allocation_due", doc.provet_id, f"due:{doc.provet_id}", fingerprint=json.dumps(due))]
