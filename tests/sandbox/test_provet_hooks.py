"""The Provet sandbox's test hooks and state: what a clinic user does in Provet's UI, as engine tests
will drive it."""

from __future__ import annotations

import random
import threading
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from provet_xero_gui.sandbox import clinic as C
from provet_xero_gui.sandbox.clinic import Clinic, RowSpec, generate_clinic, row_spec
from provet_xero_gui.sandbox.clock import SandboxClock
from provet_xero_gui.sandbox.provet_server import ProvetSandbox
from provet_xero_gui.sandbox.provet_state import ProvetState, ProvetValidationError

if TYPE_CHECKING:
    from provet_fixtures import ProvetApi

pytest_plugins = ["provet_fixtures"]


@pytest.fixture
def state(provet_clinic: Clinic) -> ProvetState:
    return ProvetState(provet_clinic.provet, SandboxClock(start=provet_clinic.now))


def _rows() -> list[RowSpec]:
    return [row_spec(C.SERVICES[0], C.VAT_FROM_NET), row_spec(C.PRODUCTS[1], C.VAT_FROM_NET, "14", "-10")]


def test_snapshot_round_trips_the_generated_data() -> None:
    data = generate_clinic(seed=5, size=150).provet
    assert ProvetState(data, SandboxClock()).snapshot() == data


def test_add_invoice_finalised(state: ProvetState, provet_clinic: Clinic) -> None:
    last = max(int(i.invoice_number) for i in provet_clinic.provet.invoices if i.invoice_number)
    inv = state.add_invoice(1, _rows())
    assert inv.status == C.INVOICE_FINALISED and inv.invoice_number == str(last + 1)
    assert inv.payer_name == "Åsa Öberg" and inv.payer_city == "Bristol"
    assert inv.total == sum(r.sum for r in inv.rows) and inv.due_sum == inv.total_with_vat
    assert inv.id == len(provet_clinic.provet.invoices) + 1
    assert all(r.invoice_id == inv.id for r in inv.rows)
    assert inv.created > max(i.modified for i in provet_clinic.provet.invoices)


def test_draft_then_finalise_takes_department_prefix(state: ProvetState) -> None:
    draft = state.add_invoice(2, _rows(), finalise=False, department_id=2, invoice_prefix="RS")
    assert draft.status == C.INVOICE_DRAFT and draft.invoice_number is None and draft.payer_name == ""
    fin = state.finalise_invoice(draft.id)
    assert fin.document_number == f"RS-{fin.invoice_number}" and fin.modified > draft.modified
    with pytest.raises(ValueError):
        state.finalise_invoice(draft.id)
    generated_draft = next(i for i in state.invoices(C.INVOICE_DRAFT))
    assert state.finalise_invoice(generated_draft.id).invoice_number


def test_payments_partial_full_and_cancel(state: ProvetState) -> None:
    inv = state.add_invoice(4, _rows())
    half = C.q2(inv.due_sum / 2)
    state.add_payment(inv.id, half, payment_type=C.PT_CASH)
    assert state.invoice(inv.id).due_sum == inv.due_sum - half and state.invoice(inv.id).date_paid is None
    last = state.add_payment(inv.id, inv.due_sum - half, payment_type=C.PT_CARD, payment_method_id=C.STRIPE_METHOD)
    paid = state.invoice(inv.id)
    assert paid.due_sum == 0 and paid.date_paid == last.payment_date
    cancelled = state.cancel_payment(last.id)
    assert cancelled.status == C.PAYMENT_CANCELLED and cancelled.modified > last.modified
    assert state.invoice(inv.id).due_sum == inv.due_sum - half
    assert len(state.payments_for(inv.id)) == 2 and len(state.payments_for(inv.id, include_cancelled=False)) == 1
    with pytest.raises(ProvetValidationError) as err:
        state.add_payment(inv.id, "100000.00")
    assert "paid" in err.value.errors


def test_void_keeps_payments(state: ProvetState) -> None:
    inv = state.add_invoice(4, _rows())
    state.add_payment(inv.id, "10.00")
    voided = state.void_invoice(inv.id)
    assert voided.status == C.INVOICE_VOIDED and len(voided.payments) == 1 and voided.modified > inv.modified
    with pytest.raises(ProvetValidationError):
        state.add_payment(inv.id, "1.00")
    with pytest.raises(ValueError):
        state.void_invoice(inv.id)


def test_credit_unpaid_invoice_in_full(state: ProvetState) -> None:
    inv = state.add_invoice(6, _rows())
    cn = state.credit_invoice(inv.id)
    assert cn.credit_note and cn.credit_note_original_invoice_id == inv.id and cn.status == C.INVOICE_FINALISED
    assert cn.total_with_vat == -inv.total_with_vat and cn.due_sum == 0
    assert [r.credited_invoicerow_id for r in cn.rows] == [r.id for r in inv.rows]
    orig = state.invoice(inv.id)
    assert orig.due_sum == 0 and [p.payment_type for p in orig.payments] == [C.PT_CREDIT_INVOICE]
    assert [p.paid for p in cn.payments] == [-inv.total_with_vat]


def test_credit_row_of_paid_invoice_is_refunded(state: ProvetState) -> None:
    inv = state.add_invoice(6, _rows())
    state.add_payment(inv.id, inv.due_sum)
    cn = state.credit_invoice(inv.id, [inv.rows[1].id])
    assert [(p.payment_type, p.paid) for p in cn.payments] == [(C.PT_TRANSFER, cn.total_with_vat)]
    open_cn = state.credit_invoice(inv.id, [inv.rows[0].id], refund_payment_type=None)
    assert open_cn.due_sum == open_cn.total_with_vat < 0


def test_consolidate(state: ProvetState) -> None:
    a, b = state.add_invoice(6, _rows()), state.add_invoice(6, _rows()[:1])
    cons = state.consolidate([a.id, b.id])
    assert cons.consolidated_invoice and cons.consolidated_invoice_ids == (a.id, b.id)
    assert cons.total_with_vat == a.total_with_vat + b.total_with_vat == cons.due_sum
    for g in (state.invoice(a.id), state.invoice(b.id)):
        assert g.related_consolidated_invoice_id == cons.id and g.due_sum == 0
        assert [p.payment_type for p in g.payments] == [C.PT_CONSOLIDATED]
    state.add_payment(cons.id, "20.00", payment_type=C.PT_TRANSFER)
    paid = state.add_invoice(6, _rows())
    state.add_payment(paid.id, "1.00")
    with pytest.raises(ValueError):
        state.consolidate([paid.id])
    with pytest.raises(ValueError):
        state.consolidate([a.id])  # already gathered
    other = state.add_invoice(7, _rows())
    with pytest.raises(ValueError):
        state.consolidate([other.id, state.add_invoice(8, _rows()).id])


def test_prepayment_used_in_part(state: ProvetState) -> None:
    pre = state.add_prepayment(9, "200.00", C.PT_CARD)
    inv = state.add_invoice(9, _rows())
    pay = state.use_prepayment(pre.id, inv.id)
    assert pay.payment_type == C.PT_PREPAYMENT and pay.paid == inv.total_with_vat
    assert pay.info == f"Prepayment #{pre.id}"
    left = state.unallocated_payment(pre.id)
    assert left.paid == Decimal("200.00") - inv.total_with_vat and left.modified > pre.modified
    with pytest.raises(ValueError):
        state.use_prepayment(pre.id, state.add_invoice(9, _rows()).id, "999.00")


def test_edit_client_and_phone(state: ProvetState) -> None:
    before = state.client(8)
    after = state.edit_client(8, email="priya@example.org", street_address="9 New Road")
    assert after.email == "priya@example.org" and after.modified > before.modified
    with pytest.raises(ProvetValidationError) as err:
        state.edit_client(8, email="nope")
    assert "email" in err.value.errors and state.client(8).email == "priya@example.org"
    phone = state.add_phone_number(8, "07700 900999", "Work")
    assert state.client(8).phone_numbers[-1] == phone
    t = state.client(8).modified
    state.edit_phone_number(phone.id, "07700 900998")
    assert state.client(8).modified > t
    new = state.add_client("Ffion", "Llŷr", email="ffion@example.cymru")
    assert new.display_name == "Ffion Llŷr" and new.id == len(state.clients())
    with pytest.raises(ProvetValidationError):
        state.add_client("", "")


def test_stamps_never_go_back_even_on_an_early_clock(provet_clinic: Clinic) -> None:
    early = SandboxClock(start=provet_clinic.now - timedelta(days=90))
    state = ProvetState(provet_clinic.provet, early)
    newest = max(i.modified for i in provet_clinic.provet.invoices)
    inv = state.add_invoice(1, _rows())
    pay = state.add_payment(inv.id, "1.00")
    assert newest < inv.created <= inv.modified < pay.created


def test_concurrent_payments_are_all_counted(state: ProvetState) -> None:
    inv = state.add_invoice(1, _rows())

    def pay() -> None:
        for _ in range(10):
            state.add_payment(inv.id, "0.01")

    threads = [threading.Thread(target=pay) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert state.invoice(inv.id).due_sum == inv.due_sum - Decimal("0.80")
    assert len({p.id for p in state.payments_for(inv.id)}) == 80


def test_demo_activity_makes_new_trade(state: ProvetState, provet_clinic: Clinic) -> None:
    n = len(state.invoices())
    done = state.demo_activity(random.Random(3))
    assert done and done[0].startswith("invoice ")
    assert len(state.invoices()) >= n + 1
    newest = state.invoices()[-1]
    assert newest.status == C.INVOICE_FINALISED and newest.payments
    again = ProvetState(provet_clinic.provet, SandboxClock(start=provet_clinic.now)).demo_activity(random.Random(3))
    assert again == done


def test_settings_records_through_the_api(provet: ProvetSandbox, provet_api: ProvetApi) -> None:
    group = provet.add_vat_group("Reduced 10%", "10", "201")
    method = provet.add_payment_method("Klarna", C.PT_FINANCE)
    assert provet_api.get(f"vatgroup/{group.id}/").json()["percentage"] == "10.00"
    assert provet_api.get("paymentmethod/", {"name__is": "Klarna"}).json()["results"][0]["id"] == method.id
    provet.set_vat_group_archived(group.id)
    assert provet_api.get(f"vatgroup/{group.id}/").json()["archived"] is True


def test_hooks_show_up_in_an_api_delta(provet: ProvetSandbox, provet_api: ProvetApi, provet_clinic: Clinic) -> None:
    cursor = provet_clinic.now.strftime("%Y-%m-%d %H:%M:%S") + "+00:00"
    inv = provet.add_invoice(5, _rows(), department_id=3, invoice_prefix="EQ")
    pay = provet.add_payment(inv.id, "5.00", payment_type=C.PT_CASH)
    provet.edit_client(2, city="Galway")
    assert provet_api.all_ids("invoice/", {"modified__gte": cursor, "status__is": 3}) == [inv.id]
    assert provet_api.all_ids("invoicepayment/", {"modified__gte": cursor}) == [pay.id]
    assert provet_api.all_ids("client/", {"modified__gte": cursor}) == [2]
    body = provet_api.get(f"invoice/{inv.id}/").json()
    assert body["invoice_prefix"] == "EQ" and body["due_sum"] == f"{inv.due_sum - Decimal('5.00'):.2f}"
