"""Payments both ways (rule 6), full and partial, in the same pass and journal as the documents.

Provet → Xero: each registered payment on an invoice that is in Xero becomes a Xero payment to the account
mapped for its method (batched, 50 a call), referenced "Provet payment #id". A payment on an invoice still
held waits with it and goes in the pass that sends the invoice. A payment on a consolidated invoice (not
sent by default) lands on the gathered invoices it settles, oldest first. A cancelled Provet payment
deletes its Xero payment. Money paid back on a credit note becomes a refund of the Xero credit note.
Types 6 (consolidated) and 12 (credit invoice) are bookkeeping, not money: the gathered invoices and the
credit note allocation carry them in Xero.

Xero → Provet: payments made in Xero on synced invoices (polled with If-Modified-Since) are posted to
Provet with the clinic's "Xero payments" method and "Xero payment <PaymentID>" in `info`; a Xero payment
deleted later is cancelled in Provet.

Never an echo: a Provet payment the app posted from Xero is linked ("xero_payment") and carries the Xero
id in its info, so it is never sent to Xero; a Xero payment the app made is linked ("payment"), so it is
never posted to Provet.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from provet_xero_gui.mapping import Mapping
from provet_xero_gui.provet.records import (
    PAYMENT_REGISTERED,
    PAYMENT_TYPE_NAMES,
    PT_CONSOLIDATED,
    PT_CREDIT_INVOICE,
    Invoice,
    Payment,
)
from provet_xero_gui.provet.source import ReadBatch
from provet_xero_gui.store.sync_state import SyncState
from provet_xero_gui.sync.outcomes import Outcomes
from provet_xero_gui.sync.writer import JournalWriter
from provet_xero_gui.xero.port import XeroPort
from provet_xero_gui.xero.reference import XeroReference

BATCH = 50
PAYMENT_CANCELLED = 99
CURSOR_PROVET = "provet:payments"
CURSOR_XERO = "xero:payments"
OVERLAP = timedelta(minutes=5)
# The Xero poll starts this long before where the last one reached: the later of the newest UpdatedDateUTC it
# saw and Xero's own clock when it answered (its Date header). A payment saved a moment before that (the same
# second, or not yet visible while the last poll was answered) is read again, never skipped. Seeing a payment
# again is harmless: a posted one is linked, and one this app made is never posted back. Measured from when
# Xero answered, not from the newest payment, a quiet day does not re-read the last burst on every poll.
XERO_OVERLAP = timedelta(minutes=1)
BOOKKEEPING_TYPES = frozenset({PT_CONSOLIDATED, PT_CREDIT_INVOICE})
FROM_XERO_PREFIX = "Xero payment "


_Part = tuple[str, Payment, dict[str, Any], Decimal]


def payment_reference(payment_id: int) -> str:
    return f"Provet payment #{payment_id}"


_OWN_REFERENCE = re.compile(re.escape(payment_reference(0)[:-1]) + r"(\d+)")


def own_payment_id(reference: str) -> str | None:
    """The Provet payment a Xero payment this app made came from (its Reference says), else None: so the app
    knows its own payments from Xero's side alone, even with no local history."""
    found = _OWN_REFERENCE.fullmatch(reference.strip())
    return found.group(1) if found else None


def is_own_payment(reference: str) -> bool:
    return own_payment_id(reference) is not None


class PaymentSync:
    def __init__(
        self,
        provet: Any,
        xero: XeroPort,
        state: SyncState,
        mapping: Mapping,
        writer: JournalWriter,
        out: Outcomes,
        reference: Callable[[], XeroReference],
        check_stop: Callable[[], None] = lambda: None,
    ) -> None:
        self.provet = provet
        self.xero = xero
        self.state = state
        self.mapping = mapping
        self.writer = writer
        self.out = out
        self._reference = reference
        self._check_stop = check_stop

    # --- Provet → Xero ---------------------------------------------------------------------------------
    def read_from(self) -> datetime | None:
        """Where the read of changed payments starts: a little before the cursor (None: every payment)."""
        since = self._since()
        return since - OVERLAP if since else None

    def _since(self) -> datetime | None:
        since_text = self.state.cursor(CURSOR_PROVET)
        return datetime.fromisoformat(since_text) if since_text else None

    def push(
        self, newly_linked: Iterable[int], retry: set[str] = frozenset(), changed: ReadBatch[Payment] | None = None
    ) -> None:
        """`changed`: the payments changed since `read_from()`, when they were read ahead (else read now)."""
        since = self._since()
        if changed is None:
            changed = self.provet.changed_payments(self.read_from())
        self.out.unreadable(changed.bad)
        payments: dict[int, Payment] = {p.id: p for p in changed.records}
        newly = sorted(set(newly_linked))
        if newly and since is not None:  # without a cursor, every payment was just read
            grouped = self.provet.payments_for(newly)
            self.out.unreadable(grouped.bad)
            payments.update({p.id: p for group in grouped.values() for p in group})
        waiting = sorted(self._waiting(retry) - set(payments))
        if waiting:  # read together, and tolerantly: one unreadable payment must not stop every pass
            again = self.provet.payments(waiting)
            self.out.unreadable(again.bad)
            payments.update({p.id: p for p in again.records})

        to_send, to_delete = self._decide(payments)
        sending = {part[1].id for part in to_send}
        for stamp in changed.future:  # told when first sent; the cursor never follows it (provet/source.py)
            if stamp.id in sending:
                self.out.notice("warning", stamp.message)
        self._send(to_send)
        self._delete(to_delete)
        if changed.cursor_is_impossible(since):  # left later than Provet's clock by an older version
            self.out.notice("warning", "The sync's place in Provet's payments "
                            f"({since.astimezone():%Y-%m-%d %H:%M}) was later than Provet's own clock, after a "
                            "payment dated in the future; every payment is read again on the next pass, and none is "
                            "sent twice.")
            self.state.set_cursor(CURSOR_PROVET, "")  # no cursor: the next pass reads them all
        elif changed.cursor is not None and (since is None or changed.cursor > since):
            self.state.set_cursor(CURSOR_PROVET, changed.cursor.isoformat())

    def _waiting(self, retry: set[str]) -> set[int]:
        return {
            int(item.provet_id)
            for item in self.state.attention()
            if item.kind == "payment" and item.provet_id.isdigit()
            and (item.cause != "payment_rejected" or item.key in retry)
        }  # fmt: skip

    def _decide(self, payments: dict[int, Payment]) -> tuple[list[_Part], list[Any]]:
        """Parts to send (provet id of the part, payment, the Xero document it goes on, amount) and links to
        delete."""
        ids = [str(i) for i in payments]
        from_xero = self.state.links("xero_payment", ids)
        # A payment spread over gathered invoices is linked once per part ("id@invoice"): index the parts.
        parts_of: dict[str, list[Any]] = {}
        for key, link in self.state.links("payment", None).items():
            parts_of.setdefault(key.split("@")[0], []).append(link)
        deleted = self.state.links("payment_deleted", None)
        invoice_ids = {p.invoice_id for p in payments.values()}
        invoices = self.state.links("invoice", invoice_ids)
        notes = self.state.links("credit_note", invoice_ids)

        to_send: list[_Part] = []
        to_delete: list[Any] = []
        on_unsent: list[Payment] = []
        echoed = self.state.links("xero_payment_cancelled", ids)  # cancelled here because Xero deleted it
        for p in sorted(payments.values(), key=lambda x: x.id):
            if str(p.id) in from_xero or p.info.startswith(FROM_XERO_PREFIX):
                # It came from Xero: never sent back. Cancelled in Provet (and not because Xero deleted it),
                # the Xero payment it came from is deleted (rule 6).
                came_from = from_xero.get(str(p.id))
                if (p.status == PAYMENT_CANCELLED and came_from is not None and str(p.id) not in echoed
                        and str(p.id) not in deleted):
                    to_delete.append(came_from)
                continue
            parts = parts_of.get(str(p.id), [])
            if p.status == PAYMENT_CANCELLED:
                to_delete += [link for link in parts if link.provet_id not in deleted]
                continue
            if p.status != PAYMENT_REGISTERED or parts or p.paid == 0 or p.payment_type in BOOKKEEPING_TYPES:
                continue
            if str(p.invoice_id) in notes:  # money paid back to the client: a refund of the credit note
                to_send.append((str(p.id), p, {"CreditNote": {"CreditNoteID": notes[str(p.invoice_id)].xero_id}},
                                abs(p.paid)))
            elif str(p.invoice_id) in invoices:
                to_send.append((str(p.id), p, {"Invoice": {"InvoiceID": invoices[str(p.invoice_id)].xero_id}}, p.paid))
            else:
                on_unsent.append(p)
        to_send += self._spread_over_gathered(on_unsent)
        return to_send, to_delete

    def _spread_over_gathered(self, payments: list[Payment]) -> list[_Part]:
        """Payments on invoices not in Xero: those on a consolidated invoice land on its gathered invoices."""
        if not payments:
            return []
        read = self.provet.invoices(sorted({p.invoice_id for p in payments}))
        self.out.unreadable(read.bad)
        consolidated: dict[int, Invoice] = {
            inv.id: inv for inv in read.records if inv.consolidated_invoice and self.mapping.consolidated == "gathered"
        }
        if not consolidated:
            return []  # they wait with their invoice and go in the pass that sends it
        gathered_ids = sorted({g for inv in consolidated.values() for g in inv.consolidated_invoice_ids})
        links = self.state.links("invoice", gathered_ids)
        # Amounts due as Xero answered them in this pass where it did; only older invoices are looked up.
        xids = [link.xero_id for link in links.values()]
        due = {x: self.writer.answered[x].amount_due for x in xids if x in self.writer.answered}
        unknown = [x for x in xids if x not in due]
        if unknown:
            due.update({s.xero_id: s.amount_due for s in self.xero.invoices_by_id(unknown)})
        parts: list[_Part] = []
        for p in payments:
            inv = consolidated.get(p.invoice_id)
            if inv is None:
                continue
            if any(str(g) not in links for g in inv.consolidated_invoice_ids):
                continue  # waits until every gathered invoice is in Xero (they bring it along when sent)
            left = p.paid
            for gid in sorted(inv.consolidated_invoice_ids):
                link = links[str(gid)]
                share = min(left, due.get(link.xero_id, Decimal(0)))
                if share > 0:
                    parts.append((f"{p.id}@{gid}", p, {"Invoice": {"InvoiceID": link.xero_id}}, share))
                    due[link.xero_id] -= share
                    left -= share
            if left > 0:
                self.out.hold("payment", p.id, _label(p), "payment_unplaced",
                              f"{left} of it is more than the gathered invoices of {inv.label} still owe in Xero",
                              "Check the consolidated invoice and its payments in Provet, then Retry.")
        return parts

    def _send(self, parts: list[_Part]) -> None:
        if not parts:
            return
        lock = self._reference().organisation.lock_date
        bodies: list[dict[str, Any]] = []
        docs: list[dict[str, Any]] = []
        for part_id, p, target, amount in parts:
            account = self.mapping.payment_account(p)
            if account is None:
                method = PAYMENT_TYPE_NAMES.get(p.payment_type, str(p.payment_type))
                self.out.hold("payment", p.id, _label(p), "payment_method_unmapped",
                              f"its payment method ('{method}'{_custom(p)}) is not mapped",
                              "Map the payment method to a Xero account that accepts payments, then Retry.")
                continue
            if lock and p.payment_date <= lock:
                self.out.hold("payment", p.id, _label(p), "lock_date",
                              f"it is dated {p.payment_date.isoformat()}, on or before Xero's lock date "
                              f"{lock.isoformat()}", "Ask the accountant to move the lock date in Xero, then Retry.")
                continue
            bodies.append({**target, "Account": {"Code": account},
                           "Date": p.payment_date.isoformat(), "Amount": float(amount),
                           "Reference": payment_reference(p.id)})
            label = _label(p) if part_id == str(p.id) else f"{_label(p)}: {amount:.2f} onto gathered invoice " \
                f"{part_id.split('@')[1]}"
            docs.append({"kind": "payment", "provet_id": part_id, "label": label})
        self.out.progress("sending payments", 0, len(bodies))
        for start in range(0, len(bodies), BATCH):
            self._check_stop()
            self.writer.write("PUT Payments", bodies[start : start + BATCH], docs[start : start + BATCH])
            self.out.progress("sending payments", min(start + BATCH, len(bodies)), len(bodies))

    def _delete(self, links: list[Any]) -> None:
        for link in links:
            self._check_stop()
            self.writer.write("POST DeletePayment", {"PaymentID": link.xero_id},
                              [{"kind": "payment", "provet_id": link.provet_id,
                                "label": f"Cancelled Provet payment #{link.provet_id.split('@')[0]}"}])

    # --- Xero → Provet ---------------------------------------------------------------------------------
    def pull(self) -> None:
        since = self._xero_cursor()
        if since is None:
            return  # nothing is in Xero yet, so no Xero payment can concern us
        stored = self.state.cursor(CURSOR_XERO)
        poll = self.xero.payments_modified_since(since - XERO_OVERLAP if stored else since)
        for xp in poll.payments:
            if xp.payment_type not in ("", "ACCRECPAYMENT"):
                continue
            invoice = self.state.by_xero_id("invoice", xp.invoice_id)
            if invoice is None or self.state.by_xero_id("payment", xp.xero_id) is not None \
                    or is_own_payment(xp.reference):
                continue  # not on a synced invoice, or made by this app (known from Xero alone): never posted back
            posted = self.state.by_xero_id("xero_payment", xp.xero_id)
            label = f"Xero payment of {xp.amount} on {xp.invoice_number or 'a synced invoice'}"
            if xp.status == "DELETED":
                if (posted is not None and self.state.link("xero_payment_cancelled", posted.provet_id) is None
                        and self.state.link("payment_deleted", posted.provet_id) is None):  # not our own deletion
                    self._check_stop()
                    self.writer.write("PROVET cancel payment",
                                      {"payment_id": posted.provet_id, "xero_payment_id": xp.xero_id},
                                      [{"kind": "xero_payment", "provet_id": posted.provet_id,
                                        "label": f"Deleted {label}"}])
                continue
            if posted is not None or xp.status != "AUTHORISED":
                continue
            method = self.mapping.xero_payments_method
            if not method:
                self.out.hold("xero_payment", xp.xero_id, label, "xero_payments_method_missing",
                              "no Provet payment method is chosen for payments made in Xero",
                              "Choose the clinic's \"Xero payments\" method in the mapping, then Retry.")
                continue
            self._check_stop()
            self.writer.write(
                "PROVET POST payment",
                {"invoice_id": int(invoice.provet_id), "amount": str(xp.amount), "date": (xp.date or
                 datetime.now(UTC).date()).isoformat(), "method_id": int(method), "xero_payment_id": xp.xero_id},
                [{"kind": "xero_payment", "provet_id": xp.xero_id, "label": label}],
            )
        reached = max(filter(None, (poll.newest, poll.answered_at)), default=None)
        if reached is not None and (not stored or reached > datetime.fromisoformat(stored)):
            self.state.set_cursor(CURSOR_XERO, reached.isoformat())

    def _xero_cursor(self) -> datetime | None:
        """Where the poll starts, always on Xero's own clock: the cursor, or a day before the first invoice
        this app put in Xero (no Xero payment on a synced invoice can be older than that)."""
        text = self.state.cursor(CURSOR_XERO)
        if text:
            return datetime.fromisoformat(text)
        stamps = [d.updated for d in self.writer.answered.values() if d.updated]
        if not stamps:
            first = self.state.oldest_link("invoice")
            if first is None:
                return None
            stamps = [d.updated for d in self.xero.invoices_by_id([first.xero_id]) if d.updated]
        return min(stamps) - timedelta(days=1) if stamps else None

def _label(p: Payment) -> str:
    return f"Payment #{p.id} ({p.paid}) on Provet invoice {p.invoice_id}"


def _custom(p: Payment) -> str:
    return f", custom method {p.payment_method_id}" if p.payment_method_id is not None else ""
