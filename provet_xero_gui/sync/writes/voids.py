"""Voiding in Xero what was voided in Provet (`POST Invoices/{id}`, `POST CreditNotes/{id}` with VOIDED).

A refused void waits on the document a person knows, under a cause that says what was refused, so Retry finds
it again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

from provet_xero_gui.store.sync_state import NewLink
from provet_xero_gui.sync.writes.base import Recorded, Ref, Refusal, Services, Single


class Void(Single, register=False):
    def record(self, answers: Sequence[tuple[Any, Any]], to: Services) -> Recorded:
        return Recorded(links=[NewLink("void", doc.provet_id, res.xero_id) for doc, res in answers])


@dataclass(frozen=True)
class VoidInvoice(Void):
    legacy_endpoint = "POST Void"

    invoice_id: str

    @classmethod
    def from_journal(cls, payload: Any, documents: Sequence[Mapping[str, Any]]) -> Self:
        return cls(Ref.from_json(documents[0]), payload["InvoiceID"])

    def payload(self) -> Any:
        return {"InvoiceID": self.invoice_id}

    def send(self, to: Services, key: str) -> list[Any]:
        return [to.xero.void_invoice(self.invoice_id, key)]

    def refusal(self, doc: Ref) -> Refusal:
        return Refusal("invoice", "void_refused", "it was voided in Provet, but Xero refused to void it",
                       "Remove the payments in Xero (or decide with the accountant), then Retry.")


@dataclass(frozen=True)
class VoidCreditNote(Void):
    legacy_endpoint = "POST VoidCreditNote"

    credit_note_id: str

    @classmethod
    def from_journal(cls, payload: Any, documents: Sequence[Mapping[str, Any]]) -> Self:
        return cls(Ref.from_json(documents[0]), payload["CreditNoteID"])

    def payload(self) -> Any:
        return {"CreditNoteID": self.credit_note_id}

    def send(self, to: Services, key: str) -> list[Any]:
        return [to.xero.void_credit_note(self.credit_note_id, key)]

    def refusal(self, doc: Ref) -> Refusal:
        return Refusal("credit_note", "void_refused", "it was voided in Provet, but Xero refused to void it",
                       "Remove its allocation and refunds in Xero (or decide with the accountant), then Retry.")
