"""Rebuilding links from Xero alone (sync/rebuild.py): what the app wrote is found by the identity it carries;
what someone else wrote is left alone."""

from __future__ import annotations

from decimal import Decimal

from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID
from provet_xero_gui.store.allocations import AllocationMade
from provet_xero_gui.sync.contacts import contact_number
from provet_xero_gui.sync.payments import PaymentSync, is_own_payment, payment_reference
from provet_xero_gui.sync.rebuild import rebuild_links
from provet_xero_gui.sync.translate import provet_reference
from provet_xero_gui.xero.client import XeroContactState, XeroDocumentState, XeroPaymentState


def _doc(xid: str, number: str, reference: str, status: str = "AUTHORISED", credit: bool = False,
         allocations: tuple = ()) -> XeroDocumentState:
    return XeroDocumentState(xid, number, "ACCRECCREDIT" if credit else "ACCREC", status, "C1", reference,
                             Decimal(10), Decimal(0), Decimal(0), Decimal(0), False, (), None,
                             allocations=allocations)


def _payment(xid: str, invoice: str, reference: str, status: str = "AUTHORISED") -> XeroPaymentState:
    return XeroPaymentState(xid, invoice, "", "090", None, Decimal(5), reference, status, "ACCRECPAYMENT", False, (),
                            None)


def _contact(xid: str, number: str, status: str = "ACTIVE") -> XeroContactState:
    return XeroContactState(xid, "A name", number, "", status, False, (), None)


class FakeXero:
    def __init__(self, invoices=(), notes=(), contacts=(), payments=()) -> None:
        self.docs = {"invoice": list(invoices), "credit_note": list(notes)}
        self.contacts, self.payments, self.calls = list(contacts), list(payments), 0

    def all_sales_documents(self, kind: str) -> list[XeroDocumentState]:
        self.calls += 1
        return self.docs[kind]

    def all_contacts(self) -> list[XeroContactState]:
        self.calls += 1
        return self.contacts

    def all_payments(self) -> list[XeroPaymentState]:
        self.calls += 1
        return self.payments


def test_the_identities_the_app_writes_are_read_back() -> None:
    assert is_own_payment(payment_reference(123))
    assert not is_own_payment("Xero payment 4f1c") and not is_own_payment(payment_reference(12) + " by hand")
    xero = FakeXero(
        invoices=[_doc("I1", "INV-1", provet_reference(1)), _doc("I2", "INV-2", provet_reference(2), "VOIDED"),
                  _doc("I3", "INV-3", provet_reference(3)), _doc("H1", "H-1", "typed in Xero"),
                  _doc("I9", "INV-9", provet_reference(9), "DELETED")],
        notes=[_doc("N4", "CN-4", provet_reference(4), credit=True, allocations=(("I1", Decimal("2.50")),))],
        contacts=[_contact("C1", contact_number(11)), _contact("C0", contact_number(11), "ARCHIVED"),
                  _contact("CX", "")],
        payments=[_payment("P1", "I1", payment_reference(21)),
                  _payment("P2", "I1", payment_reference(22)), _payment("P3", "I3", payment_reference(22)),
                  _payment("P4", "I1", payment_reference(23), "DELETED"),
                  _payment("PX", "I1", "bank feed")],
    )
    found = rebuild_links(xero)
    got = {(li.kind, li.provet_id, li.xero_id) for li in found.links}
    assert got == {
        ("invoice", "1", "I1"), ("invoice", "2", "I2"), ("void", "2", "I2"), ("invoice", "3", "I3"),
        ("credit_note", "4", "N4"),
        ("contact", "11", "C1"),
        ("payment", "21", "P1"), ("payment", "22@1", "P2"), ("payment", "22@3", "P3"),
        ("payment", "23", "P4"), ("payment_deleted", "23", "P4"),
    }
    assert found.allocations == (AllocationMade("4", "N4", "I1", Decimal("2.50")),)
    assert found.counts == {"contact": 1, "invoice": 3, "credit_note": 1, "payment": 4, "allocation": 1}
    assert xero.calls == 4


def test_an_organisation_without_any_of_the_apps_documents_costs_two_calls() -> None:
    xero = FakeXero(invoices=[_doc("H1", "H-1", "typed in Xero")], contacts=[_contact("C1", contact_number(1))])
    found = rebuild_links(xero)
    assert found.links == () and found.counts == {} and xero.calls == 2


def test_a_payment_the_app_sent_is_never_posted_to_provet_even_without_its_link(world) -> None:
    assert world.engine().run_pass().stopped is None
    sent = [p for p in world.sandbox.xero.payments(CLINIC_TENANT_ID) if is_own_payment(p.reference)]
    assert sent
    # Its links lost (an older store, a rebuild that could not place it), and the poll of the payments made in
    # Xero starting before any of them was made.
    with world.store.transaction() as db:
        db.execute("DELETE FROM links WHERE kind = 'payment'")
    world.state.set_cursor("xero:payments", "2000-01-01T00:00:00+00:00")
    engine = world.engine()
    PaymentSync(engine.provet, engine.xero, engine.state, engine.mapping, engine.writer, engine.out,
                reference=lambda: None).pull()
    posted = [p for inv in world.sandbox.provet.invoices() for p in world.sandbox.provet.payments_for(inv.id)
              if p.info.startswith("Xero payment ")]
    assert posted == [] and world.state.attention(include_rule_holds=False) == []
