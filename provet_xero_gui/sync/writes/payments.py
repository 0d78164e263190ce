"""Payments both ways: Provet's payments into Xero (`PUT Payments`) and deleted there when cancelled in Provet
(`POST Payments/{id}`); payments made in Xero posted to Provet, and cancelled there when deleted in Xero.

Provet has no Idempotency-Key, so a payment posted to Provet is looked up first (it carries the Xero PaymentID
in its `info`) and only posted when it is not there yet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Self

from provet_xero_gui.provet.records import Payment
from provet_xero_gui.store.sync_state import NewLink
from provet_xero_gui.sync.writes.base import Batch, ById, Recorded, Ref, Services, Single, refused_element


def payment_reference(payment_id: int) -> str:
    """The Reference of a payment this app puts in Xero: how it knows its own payments from Xero's side alone."""
    return f"Provet payment #{payment_id}"


class CreatePayments(Batch):
    """Provet payments (or their parts on gathered invoices) into Xero, up to 50 a call."""

    legacy_endpoint = "PUT Payments"

    @classmethod
    def of(cls, elements: Sequence[tuple[Ref, Payment, dict[str, Any], Decimal, str]]) -> CreatePayments:
        """(reference, the Provet payment, what it is paid onto, the amount, the account code) per payment."""
        return cls(tuple({**target, "Account": {"Code": account}, "Date": p.payment_date.isoformat(),
                          "Amount": float(amount), "Reference": payment_reference(p.id)}
                         for _ref, p, target, amount, account in elements),
                   tuple(ref for ref, *_rest in elements))

    def send(self, to: Services, key: str) -> list[Any]:
        return to.xero.put_payments(list(self.bodies), key)

    def record(self, answers: Sequence[tuple[Any, Any]], to: Services) -> Recorded:
        out = Recorded()
        for doc, res in answers:
            if res is None:
                continue
            if res.xero_id and not res.has_errors:
                out.links.append(NewLink(doc.kind, doc.provet_id, res.xero_id))
            else:
                out.held.append(refused_element(doc, res.errors))
        return out


class DeletePayment(ById):
    """A payment sent to Xero whose Provet payment was cancelled."""

    legacy_endpoint = "POST DeletePayment"
    id_key = "PaymentID"

    def send(self, to: Services, key: str) -> list[Any]:
        return [to.xero.delete_payment(self.xero_id, key)]

    def record(self, answers: Sequence[tuple[Any, Any]], to: Services) -> Recorded:
        return Recorded(links=[NewLink("payment_deleted", doc.provet_id, res.xero_id) for doc, res in answers])


@dataclass(frozen=True)
class PostProvetPayment(Single):
    """A payment made in Xero on a synced invoice, posted to the Provet invoice."""

    legacy_endpoint = "PROVET POST payment"
    service = "Provet"

    invoice_id: int
    amount: Decimal
    on: date
    method_id: int
    xero_payment_id: str

    @classmethod
    def from_journal(cls, payload: Any, documents: Sequence[Mapping[str, Any]]) -> Self:
        return cls(Ref.from_json(documents[0]), int(payload["invoice_id"]), Decimal(payload["amount"]),
                   date.fromisoformat(payload["date"]), int(payload["method_id"]), payload["xero_payment_id"])

    def payload(self) -> Any:
        return {"invoice_id": self.invoice_id, "amount": str(self.amount), "date": self.on.isoformat(),
                "method_id": self.method_id, "xero_payment_id": self.xero_payment_id}

    def send(self, to: Services, key: str) -> list[Any]:
        found = to.provet.find_xero_payment(self.invoice_id, self.xero_payment_id)
        if found is None:
            found = to.provet.post_payment(self.invoice_id, self.amount, self.on, self.method_id,
                                           self.xero_payment_id)
        return [found]

    def record(self, answers: Sequence[tuple[Any, Any]], to: Services) -> Recorded:
        return Recorded(links=[NewLink("xero_payment", str(res.id), self.xero_payment_id) for _doc, res in answers])


@dataclass(frozen=True)
class CancelProvetPayment(Single):
    """A payment posted to Provet from Xero whose Xero payment was deleted."""

    legacy_endpoint = "PROVET cancel payment"
    service = "Provet"

    payment_id: int
    xero_payment_id: str

    @classmethod
    def from_journal(cls, payload: Any, documents: Sequence[Mapping[str, Any]]) -> Self:
        return cls(Ref.from_json(documents[0]), int(payload["payment_id"]), payload["xero_payment_id"])

    def payload(self) -> Any:
        return {"payment_id": self.payment_id, "xero_payment_id": self.xero_payment_id}

    def send(self, to: Services, key: str) -> list[Any]:
        return [to.provet.cancel_payment(self.payment_id)]

    def record(self, answers: Sequence[tuple[Any, Any]], to: Services) -> Recorded:
        return Recorded(links=[NewLink("xero_payment_cancelled", doc.provet_id, self.xero_payment_id)
                               for doc, _res in answers])
