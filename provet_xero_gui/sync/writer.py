"""Carrying out journal entries: one write to Xero or Provet, sent (or resent after a crash) with its
entry's Idempotency-Key, and its answer recorded — links for what was taken, attention for what was not —
in the same transaction that closes the entry.

Provet has no Idempotency-Key, so a Provet write is looked up first (a payment carries the Xero PaymentID
in its `info`) and only sent when it is not there yet.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from provet_xero_gui.provet.client import ProvetRefusedError
from provet_xero_gui.store.sync_state import AllocationDue, AllocationMade, JournalEntry, NewLink, SyncState
from provet_xero_gui.sync.outcomes import Outcomes
from provet_xero_gui.sync.translate import provet_reference
from provet_xero_gui.xero.client import XeroDocumentState, XeroTooLargeError, XeroValidationError
from provet_xero_gui.xero.port import XeroPort

# Links that stand for something done, counted in the pass's summary under their kind.
_COUNTED = frozenset({"invoice", "credit_note", "contact", "payment", "void", "payment_deleted", "xero_payment",
                      "xero_payment_cancelled"})


class JournalWriter:
    def __init__(self, xero: XeroPort, provet: Any, state: SyncState, out: Outcomes) -> None:
        self.xero = xero
        self.provet = provet
        self.state = state
        self.out = out
        self.answered: dict[str, XeroDocumentState] = {}  # documents as Xero answered them in this pass
        self.linked: list[NewLink] = []  # everything linked in this pass

    def write(self, endpoint: str, payload: Any, documents: list[dict[str, Any]]) -> list[Any]:
        """Journal the write, then carry it out."""
        return self.execute(self.state.begin(endpoint, payload, documents))

    def execute(self, entry: JournalEntry) -> list[Any]:
        """Send (or resend) one journal entry with its key, and record the answer."""
        try:
            results = self._call(entry)
        except XeroTooLargeError as exc:
            return self._too_large(entry, exc)
        except (XeroValidationError, ProvetRefusedError) as exc:
            messages = list(getattr(exc, "messages", None) or [str(exc)])
            if len(entry.documents) == 1 or not isinstance(entry.payload, list):
                doc = entry.documents[0]
                self.state.finish(entry, [], {"error": messages}, failed=True)
                who = "Provet" if entry.endpoint.startswith("PROVET") else "Xero"
                kind, cause, what, fix = _REFUSALS.get(
                    entry.endpoint,
                    (doc["kind"], _refused_cause(doc["kind"]), f"{who} refused it",
                     "Correct it in Provet or Xero, then Retry."),
                )
                self.out.hold(kind, doc["provet_id"], doc["label"], cause, f"{what}: " + "; ".join(messages), fix)
                return []
            # The whole batch was refused: send the documents one by one so one bad one stops no others.
            self.state.finish(entry, [], {"error": messages, "split": True}, failed=True)
            out: list[Any] = []
            for payload, doc in zip(entry.payload, entry.documents, strict=True):
                out += self.write(entry.endpoint, [payload], [doc])
            return out
        self._record(entry, results)
        return results

    def _too_large(self, entry: JournalEntry, exc: XeroTooLargeError) -> list[Any]:
        """Over Xero's 3.5 MB (say, a batch of invoices of a thousand rows each): nothing was done, so the batch
        goes again in halves; a single document that is too large on its own waits, named."""
        self.state.finish(entry, [], {"error": [str(exc)], "split": True}, failed=True)
        if isinstance(entry.payload, list) and len(entry.payload) > 1:
            half = len(entry.payload) // 2
            return [*self.write(entry.endpoint, entry.payload[:half], entry.documents[:half]),
                    *self.write(entry.endpoint, entry.payload[half:], entry.documents[half:])]
        for doc in entry.documents:
            self.out.hold(doc["kind"], doc["provet_id"], doc["label"], _refused_cause(doc["kind"]),
                          "it is too large for Xero to take in one request (over 3.5 MB)",
                          "Split it into smaller documents in Provet (or enter it in Xero by hand), then Retry.")
        return []

    def _call(self, entry: JournalEntry) -> list[Any]:
        key, p = entry.key, entry.payload
        match entry.endpoint:
            case "PUT Contacts":
                return self.xero.put_contacts(p, key)
            case "PUT Invoices":
                return self.xero.put_invoices(p, key)
            case "PUT CreditNotes":
                return self.xero.put_credit_notes(p, key)
            case "PUT Allocation":
                self.xero.allocate_credit_note(p["CreditNoteID"], p["InvoiceID"], Decimal(p["Amount"]),
                                               date.fromisoformat(p["Date"]), key)
                return [p]
            case "POST Void":
                return [self.xero.void_invoice(p["InvoiceID"], key)]
            case "POST VoidCreditNote":
                return [self.xero.void_credit_note(p["CreditNoteID"], key)]
            case "PUT Payments":
                return self.xero.put_payments(p, key)
            case "POST DeletePayment":
                return [self.xero.delete_payment(p["PaymentID"], key)]
            case "PROVET POST payment":
                found = self.provet.find_xero_payment(p["invoice_id"], p["xero_payment_id"])
                if found is None:
                    found = self.provet.post_payment(p["invoice_id"], Decimal(p["amount"]),
                                                     date.fromisoformat(p["date"]), int(p["method_id"]),
                                                     p["xero_payment_id"])
                return [found]
            case "PROVET cancel payment":
                return [self.provet.cancel_payment(int(p["payment_id"]))]
        raise ValueError(f"unknown journal endpoint {entry.endpoint}")

    def _record(self, entry: JournalEntry, results: list[Any]) -> None:
        links: list[NewLink] = []
        allocations: list[AllocationDue | AllocationMade] = []
        holds: list[tuple[dict, str, str, str]] = []
        taken_numbers: list[tuple[dict, Any]] = []
        for doc, res in zip(entry.documents, results, strict=False):
            kind = doc["kind"]
            if isinstance(res, XeroDocumentState) and res.xero_id:
                self.answered[res.xero_id] = res
            match entry.endpoint:
                case "PUT Allocation":
                    allocations.append(AllocationMade(doc["provet_id"], res["CreditNoteID"], res["InvoiceID"],
                                                      Decimal(str(res["Amount"]))))
                    continue
                case "POST Void" | "POST VoidCreditNote":
                    links.append(NewLink("void", doc["provet_id"], res.xero_id))
                    continue
                case "POST DeletePayment":
                    links.append(NewLink("payment_deleted", doc["provet_id"], res.xero_id))
                    continue
                case "PROVET POST payment":
                    links.append(NewLink("xero_payment", str(res.id), entry.payload["xero_payment_id"]))
                    continue
                case "PROVET cancel payment":
                    links.append(NewLink("xero_payment_cancelled", doc["provet_id"], entry.payload["xero_payment_id"]))
                    continue
            if res.xero_id and not res.has_errors:
                number = getattr(res, "number", None) or getattr(res, "contact_number", None)
                links.append(NewLink(kind, doc["provet_id"], res.xero_id, number, doc.get("number")))
                allocations += _allocation_due(doc)
            elif any("must be unique" in m for m in res.errors) and kind in ("invoice", "credit_note"):
                taken_numbers.append((doc, res))
            elif kind != "contact":  # a refused contact is reported with its invoices by the caller
                holds.append((doc, _refused_cause(kind), "Xero refused it: " + "; ".join(res.errors or ("no reason",)),
                              "Correct it in Provet (or Xero), then Retry."))
        links += self._claim_taken_numbers(taken_numbers, holds, allocations)
        self.state.finish(entry, links, [getattr(r, "xero_id", None) or getattr(r, "id", None) for r in results],
                          allocations=allocations)
        self.linked += links
        labels = {d["provet_id"]: d["label"] for d in entry.documents}
        for made in (a for a in allocations if isinstance(a, AllocationMade)):
            self.out.done("allocation", made.credit_note, labels.get(made.credit_note) or entry.documents[0]["label"],
                          f"{made.xero_credit_note_id}:{made.xero_invoice_id}", count=False)
        for link in links:
            label = labels.get(link.provet_id) or entry.documents[0]["label"]
            self.out.done(link.kind, link.provet_id, label, link.xero_id, count=link.kind in _COUNTED)
        for doc, cause, reason, fix in holds:
            self.out.hold(doc["kind"], doc["provet_id"], doc["label"], cause, reason, fix)

    def _claim_taken_numbers(self, taken: list[tuple[dict, Any]], holds: list, allocations: list) -> list[NewLink]:
        """'Number must be unique': if the document in Xero is ours (a lost answer), link it; else wait."""
        if not taken:
            return []
        numbers = [doc["number"] for doc, _ in taken]
        found: list[XeroDocumentState] = (
            self.xero.invoices_by_number(numbers) if taken[0][0]["kind"] == "invoice"
            else self.xero.credit_notes_by_number(numbers)
        )
        by_number = {f.number: f for f in found}
        links = []
        for doc, _res in taken:
            there = by_number.get(doc["number"])
            if there is not None and there.reference == provet_reference(int(doc["provet_id"])):
                links.append(NewLink(doc["kind"], doc["provet_id"], there.xero_id, there.number, doc["number"]))
                allocations += _allocation_due(doc)
            else:
                holds.append((doc, "number_taken", f"Xero already has a different document numbered {doc['number']}",
                              "Rename or void that document in Xero, then Retry."))
        return links


def _allocation_due(doc: dict[str, Any]) -> list[AllocationDue]:
    """A credit note with an original invoice is due an allocation: recorded with the credit note itself, so a
    pass that stops before allocating leaves the allocation for the next one."""
    if doc["kind"] != "credit_note" or not doc.get("original"):
        return []
    return [AllocationDue(doc["provet_id"], str(doc["original"]), Decimal(doc["total"]), doc["date"], doc["label"])]


# A refused void or allocation waits on the document a person knows (the invoice, the credit note), under a
# cause that says what was refused, so Retry finds it again.
_REFUSALS: dict[str, tuple[str, str, str, str]] = {
    "POST Void": ("invoice", "void_refused", "it was voided in Provet, but Xero refused to void it",
                  "Remove the payments in Xero (or decide with the accountant), then Retry."),
    "POST VoidCreditNote": ("credit_note", "void_refused", "it was voided in Provet, but Xero refused to void it",
                            "Remove its allocation and refunds in Xero (or decide with the accountant), then Retry."),
    "PUT Allocation": ("credit_note", "allocation_refused", "Xero refused to allocate it to its original invoice",
                       "Allocate it by hand in Xero, or Retry once the invoice owes it again."),
}


def _refused_cause(kind: str) -> str:
    return {"payment": "payment_rejected", "xero_payment": "provet_refused"}.get(kind, "xero_rejected")
