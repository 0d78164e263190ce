"""Voiding in Xero what was voided in Provet (`POST Invoices/{id}`, `POST CreditNotes/{id}` with VOIDED).

A refused void waits on the document a person knows, under a cause that says what was refused, so Retry finds
it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from provet_xero_gui.store.sync_state import NewLink
from provet_xero_gui.sync.writes.base import ById, Recorded, Ref, Refusal, Services


class Void(ById, register=False):
    def record(self, answers: Sequence[tuple[Any, Any]], to: Services) -> Recorded:
        return Recorded(links=[NewLink("void", doc.provet_id, res.xero_id) for doc, res in answers])


class VoidInvoice(Void):
    legacy_endpoint = "POST Void"
    id_key = "InvoiceID"

    def send(self, to: Services, key: str) -> list[Any]:
        return [to.xero.void_invoice(self.xero_id, key)]

    def refusal(self, doc: Ref) -> Refusal:
        return Refusal("invoice", "void_refused", "it was voided in Provet, but Xero refused to void it",
                       "Remove the payments in Xero (or decide with the accountant), then Retry.")


class VoidCreditNote(Void):
    legacy_endpoint = "POST VoidCreditNote"
    id_key = "CreditNoteID"

    def send(self, to: Services, key: str) -> list[Any]:
        return [to.xero.void_credit_note(self.xero_id, key)]

    def refusal(self, doc: Ref) -> Refusal:
        return Refusal("credit_note", "void_refused", "it was voided in Provet, but Xero refused to void it",
                       "Remove its allocation and refunds in Xero (or decide with the accountant), then Retry.")
