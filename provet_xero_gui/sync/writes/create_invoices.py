"""Sending invoices (`PUT Invoices`)."""

from __future__ import annotations

from provet_xero_gui.sync.writes.base import Services
from provet_xero_gui.sync.writes.sent_documents import SendDocuments
from provet_xero_gui.xero.client import XeroDocumentState


class CreateInvoices(SendDocuments):
    kind = "invoice"
    legacy_endpoint = "PUT Invoices"

    def send(self, to: Services, key: str) -> list[XeroDocumentState]:
        return to.xero.put_invoices(list(self.bodies), key)

    def by_number(self, to: Services, numbers: list[str]) -> list[XeroDocumentState]:
        return to.xero.invoices_by_number(numbers)
