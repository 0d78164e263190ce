"""What invoices and credit notes have in common as writes: the references they are journaled with (the
tie-out reads what was sent from them) and how Xero's answer is recorded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from provet_xero_gui.provet.records import Invoice
from provet_xero_gui.store.sync_state import NewLink
from provet_xero_gui.sync.events import DocumentHeld
from provet_xero_gui.sync.translate import XeroDocument, provet_reference
from provet_xero_gui.sync.writes.base import Batch, Recorded, Ref, Services, refused_element
from provet_xero_gui.xero.client import XeroDocumentState


@dataclass(frozen=True)
class SentDocument(Ref):
    """A Provet document sent to Xero: its number, total and date as sent, and a credit note's original."""

    number: str
    total: str
    date: str
    original: int | None = None

    @classmethod
    def of(cls, kind: str, invoice: Invoice, doc: XeroDocument) -> SentDocument:
        return cls(kind, str(invoice.id), invoice.label, doc.number, str(doc.total), doc.date.isoformat(),
                   invoice.credit_note_original_invoice_id)


@dataclass(frozen=True)
class SendDocuments(Batch, register=False):
    """Invoices or credit notes, up to 50 a call; a "number must be unique" answer is looked up, and the
    document in Xero is linked when it is ours (its answer was lost)."""

    kind: ClassVar[str]
    reference: ClassVar[type[Ref]] = SentDocument

    @classmethod
    def of(cls, documents: Sequence[tuple[Invoice, XeroDocument]]) -> Self:
        return cls(tuple(d.to_json() for _inv, d in documents),
                   tuple(SentDocument.of(cls.kind, inv, d) for inv, d in documents))

    def by_number(self, to: Services, numbers: list[str]) -> list[XeroDocumentState]:
        raise NotImplementedError

    def link(self, doc: SentDocument, xero_id: str, number: str | None, out: Recorded) -> None:
        """What a document in Xero records: its link (a credit note adds the allocation it is due)."""
        out.links.append(NewLink(doc.kind, doc.provet_id, xero_id, number, doc.number))

    def record(self, answers: Sequence[tuple[Any, Any]], to: Services) -> Recorded:
        out = Recorded()
        taken: list[SentDocument] = []
        for doc, res in answers:
            if res is None:
                continue
            if res.xero_id and not res.has_errors:
                self.link(doc, res.xero_id, res.number or None, out)
            elif any("must be unique" in m for m in res.errors):
                taken.append(doc)
            else:
                out.held.append(refused_element(doc, res.errors))
        if taken:
            self._claim_taken_numbers(taken, to, out)
        return out

    def _claim_taken_numbers(self, taken: list[SentDocument], to: Services, out: Recorded) -> None:
        """'Number must be unique': if the document in Xero is ours (a lost answer), link it; else wait."""
        by_number = {f.number: f for f in self.by_number(to, [doc.number for doc in taken])}
        for doc in taken:
            there = by_number.get(doc.number)
            if there is not None and there.reference == provet_reference(int(doc.provet_id)):
                self.link(doc, there.xero_id, there.number, out)
            else:
                out.held.append(DocumentHeld(doc.kind, doc.provet_id, doc.label, "number_taken",
                                             f"Xero already has a different document numbered {doc.number}",
                                             "Rename or void that document in Xero, then Retry."))
