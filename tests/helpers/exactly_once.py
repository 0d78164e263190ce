"""What "never a duplicate, never a loss" means in the sandbox after any sequence of faults: every finalised
Provet invoice and credit note with a client is in Xero exactly once, and so is every contact, payment and
allocation (shared by the kill test and the token and store fault tests)."""

from __future__ import annotations

from collections import Counter

from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID
from provet_xero_gui.sandbox.runner import Sandbox


def expected_numbers(sandbox: Sandbox) -> tuple[set[str], set[str]]:
    invoices, notes = set(), set()
    for inv in sandbox.provet.invoices():
        if inv.status == 3 and inv.client_id is not None and not inv.consolidated_invoice:
            (notes if inv.credit_note else invoices).add(inv.document_number)
    return invoices, notes


def assert_exactly_once(sandbox: Sandbox, refused_by_provet: int = 0) -> None:
    invoices, notes = expected_numbers(sandbox)
    got_inv = Counter(d.number for d in sandbox.xero.invoices(CLINIC_TENANT_ID))
    got_cn = Counter(d.number for d in sandbox.xero.credit_notes(CLINIC_TENANT_ID))
    assert set(got_inv) == invoices and all(n == 1 for n in got_inv.values()), got_inv.most_common(3)
    assert set(got_cn) == notes and all(n == 1 for n in got_cn.values()), got_cn.most_common(3)
    contacts = [c for c in sandbox.xero.contacts(CLINIC_TENANT_ID) if c.contact_number]
    numbers = Counter(c.contact_number for c in contacts)
    assert all(n == 1 for n in numbers.values()), numbers.most_common(3)
    live = [p for p in sandbox.xero.payments(CLINIC_TENANT_ID) if p.status == "AUTHORISED"]
    per_payment = Counter((p.reference, p.invoice_id) for p in live if p.reference.startswith("Provet payment #"))
    assert all(n == 1 for n in per_payment.values()), per_payment.most_common(3)
    from_xero = Counter(p.info for inv in sandbox.provet.invoices() for p in sandbox.provet.payments_for(inv.id)
                        if p.info.startswith("Xero payment ") and p.status == 3)
    assert all(n == 1 for n in from_xero.values()), from_xero.most_common(3)
    made_in_xero = [p for p in live if p.made_in_xero]
    assert len(from_xero) + refused_by_provet == len(made_in_xero)
    per_note = Counter()
    for a in sandbox.xero.allocations(CLINIC_TENANT_ID):
        if not a.is_deleted:
            per_note[a.credit_note_id] += 1
    assert all(n == 1 for n in per_note.values()), per_note
