"""Links rebuilt from what Xero already holds, before a fresh or damaged store writes anything.

Everything the app writes to Xero carries its Provet identity: a contact's ContactNumber ("Provet-<client id>"),
an invoice's or credit note's Reference ("Provet #<invoice id>"), a payment's Reference ("Provet payment #<id>").
So a store that lost its history (a new PC, a reinstall, a damaged file, an organisation started again) finds
its own documents again from Xero's side alone and never sends them twice; a payment it sent is never taken
for one made in Xero.

What cannot be told from Xero alone is not guessed: a payment made in Xero and posted to Provet is found again
in Provet when the poll meets it (the journal looks before it posts), and a credit note that was sent but not
allocated yet stays unallocated (the admin allocates it in Xero; the attention list never had it).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from provet_xero_gui.store import Binding
from provet_xero_gui.store.sync_state import AllocationMade, NewLink
from provet_xero_gui.sync.contacts import contact_number
from provet_xero_gui.sync.payments import own_payment_id
from provet_xero_gui.sync.translate import provet_reference
from provet_xero_gui.xero.client import XeroContactState, XeroDocumentState, XeroPaymentState

# What the app writes, read back: the id is at the end of each (see contact_number and provet_reference).
_CONTACT = re.compile(re.escape(contact_number(0)[:-1]) + r"(\d+)")
_DOCUMENT = re.compile(re.escape(provet_reference(0)[:-1]) + r"(\d+)")

# What a person calls each kind of rebuilt link, in the order they are told.
KIND_WORDS = {"contact": "clients", "invoice": "invoices", "credit_note": "credit notes", "payment": "payments",
              "allocation": "credit note allocations"}


class XeroHoldings(Protocol):
    def all_sales_documents(self, kind: str) -> list[XeroDocumentState]: ...
    def all_contacts(self) -> list[XeroContactState]: ...
    def all_payments(self) -> list[XeroPaymentState]: ...


@dataclass(frozen=True)
class Rebuilt:
    links: tuple[NewLink, ...]
    counts: dict[str, int]  # links found, by kind (see KIND_WORDS); allocations count as links
    oldest_change: datetime | None = None  # the oldest UpdatedDateUTC of the app's documents (Xero's clock)
    allocations: tuple[AllocationMade, ...] = ()

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def rebuild_links(xero: XeroHoldings) -> Rebuilt:
    """Read what Xero holds (two calls for an organisation with none of the app's documents) and link what
    the app wrote there."""
    links: list[NewLink] = []
    allocations: list[AllocationMade] = []
    doc_links: dict[str, NewLink] = {}  # Xero id → link, for the payments below
    stamps: list[datetime] = []
    for kind in ("invoice", "credit_note"):
        for doc in sorted(xero.all_sales_documents(kind), key=lambda d: d.status == "DELETED"):
            found = _DOCUMENT.fullmatch(doc.reference.strip())
            if found is None or doc.status == "DELETED" or not doc.xero_id:
                continue
            pid = found.group(1)
            if any(li.kind == kind and li.provet_id == pid for li in doc_links.values()):
                continue  # a second document with the same Reference is someone else's copy
            link = NewLink(kind, pid, doc.xero_id, doc.number, doc.number)
            if doc.updated is not None:
                stamps.append(doc.updated)
            doc_links[doc.xero_id] = link
            links.append(link)
            if doc.status == "VOIDED":
                links.append(NewLink("void", pid, doc.xero_id))
            if kind == "credit_note" and doc.allocations:
                amount = sum((a for _i, a in doc.allocations), Decimal(0))
                allocations.append(AllocationMade(pid, doc.xero_id, doc.allocations[0][0], amount))
    if not doc_links:  # none of the app's documents: no contact or payment of it can matter
        return Rebuilt((), {})

    seen_contacts: set[str] = set()
    for contact in sorted(xero.all_contacts(), key=lambda c: c.status != "ACTIVE"):
        found = _CONTACT.fullmatch(contact.contact_number.strip())
        if found is None or found.group(1) in seen_contacts or not contact.xero_id:
            continue
        seen_contacts.add(found.group(1))
        links.append(NewLink("contact", found.group(1), contact.xero_id, contact.contact_number))

    by_payment: dict[str, list[XeroPaymentState]] = {}
    for payment in xero.all_payments():
        pid = own_payment_id(payment.reference)
        if pid is not None and payment.xero_id:
            by_payment.setdefault(pid, []).append(payment)
    for pid, parts in sorted(by_payment.items()):
        for payment in parts:
            key = pid
            if len(parts) > 1:  # spread over gathered invoices: one link per part, "id@invoice"
                on = doc_links.get(payment.invoice_id)
                key = f"{pid}@{on.provet_id if on else payment.invoice_id or payment.xero_id}"
            links.append(NewLink("payment", key, payment.xero_id))
            if payment.status == "DELETED":
                links.append(NewLink("payment_deleted", key, payment.xero_id))

    counts = Counter(li.kind for li in links if li.kind in KIND_WORDS)
    counts["allocation"] = len(allocations)
    return Rebuilt(tuple(links), {k: counts[k] for k in KIND_WORDS if counts[k]}, min(stamps, default=None),
                   tuple(allocations))


def rebuilt_words(counts: dict[str, int], reason: str | None) -> str:
    """What the window and `status` say about a rebuild."""
    total = sum(counts.values())
    what = ", ".join(f"{n} {KIND_WORDS.get(k, k)}" for k, n in counts.items())
    found = f"{total} link(s) rebuilt from what Xero already holds ({what})" if total else \
        "nothing of this app's was in Xero yet, so there was nothing to rebuild"
    if reason and reason.startswith("damaged:"):
        return (f"The local history was damaged; it was kept aside as {reason.split(':', 1)[1]} and rebuilt from "
                f"Xero: {found}. Nothing was sent twice.")
    if reason == "new organisation":
        return f"Started this organisation fresh: {found}."
    return f"The local history was new or empty: {found}. Nothing was sent twice."


def history_note(binding: Binding) -> str | None:
    """What `status` and the window say about the kept history's rebuild: done (and how many), or due."""
    reason = binding.rebuild_reason
    if reason is not None and reason.startswith("damaged:"):
        return (f"The local history was damaged; it was kept aside as {reason.split(':', 1)[1]}. The next sync "
                "rebuilds it from Xero before it sends anything.")
    if binding.rebuilt is None:
        return None
    counts = {str(k): int(v) for k, v in (binding.rebuilt.get("links") or {}).items()}
    why = binding.rebuilt.get("reason")
    if not counts and not str(why or "").startswith("damaged:"):
        return None  # a new profile on an organisation without any of the app's documents: nothing to say
    when = (binding.rebuilt_at or "")[:16].replace("T", " ")
    return f"{rebuilt_words(counts, why)} ({when} UTC)"
