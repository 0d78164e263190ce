"""Payments both ways against the sandbox: what Xero and Provet hold after each pass."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from provet_xero_gui.mapping import Mapping
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID, RowSpec
from provet_xero_gui.sandbox.runner import demo_mapping

from .conftest import World

MONEY_TYPES_SKIPPED = (6, 12)  # consolidated and credit invoice: bookkeeping, not money


def _xero_invoice(world: World, provet_id: int):
    link = world.state.link("invoice", provet_id)
    return world.sandbox.xero.invoice(CLINIC_TENANT_ID, link.xero_id)


def _live_xero_payments(world: World) -> list:
    return [p for p in world.sandbox.xero.payments(CLINIC_TENANT_ID) if p.status == "AUTHORISED"]


def _new_invoice(world: World, total: str = "100.00"):
    """A finalised invoice of `total` incl. 20% VAT (standard group, sales account 200)."""
    client = world.sandbox.provet.clients()[0]
    net = (Decimal(total) / Decimal("1.2")).quantize(Decimal("0.0001"))
    row = RowSpec("Surgery", Decimal(1), net, Decimal(20), "200")
    inv = world.sandbox.provet.add_invoice(client.id, [row], finalise=True)
    assert inv.total_with_vat == Decimal(total)
    return inv


def test_every_money_payment_reaches_xero_on_its_invoice(world: World) -> None:
    world.engine().run_pass()
    for inv in world.sandbox.provet.invoices(status=3):
        link = world.state.link("invoice", inv.id)
        if link is None:
            continue
        paid = sum(p.paid for p in world.sandbox.provet.payments_for(inv.id, include_cancelled=False)
                   if p.payment_type not in MONEY_TYPES_SKIPPED)
        x = world.sandbox.xero.invoice(CLINIC_TENANT_ID, link.xero_id)
        if inv.related_consolidated_invoice_id is None:
            assert x.amount_paid == paid, inv.document_number
        assert x.amount_due == x.total - x.amount_paid - x.amount_credited
    refs = Counter(p.reference for p in _live_xero_payments(world))
    for inv in world.sandbox.provet.invoices(status=3):
        if world.state.link("invoice", inv.id) is None:
            continue
        for p in world.sandbox.provet.payments_for(inv.id, include_cancelled=False):
            if p.payment_type not in MONEY_TYPES_SKIPPED and not inv.credit_note:
                assert refs[f"Provet payment #{p.id}"] == 1, p


def test_partial_then_full_payment_marks_the_invoice_paid(world: World) -> None:
    world.engine().run_pass()
    inv = _new_invoice(world, "100.00")
    world.sandbox.provet.add_payment(inv.id, "30.00", payment_type=1)
    world.engine().run_pass()
    x = _xero_invoice(world, inv.id)
    assert x.amount_paid == Decimal("30.00") and x.status == "AUTHORISED"
    world.sandbox.provet.add_payment(inv.id, "70.00", payment_type=0)
    result = world.engine().run_pass()
    x = _xero_invoice(world, inv.id)
    assert x.amount_paid == Decimal("100.00") and x.status == "PAID"
    assert result.sent == {"payment": 1}
    # The payments went to the mapped accounts: cash → 091, card → 610.
    codes = sorted(a.code for p in _live_xero_payments(world) if p.invoice_id == x.doc_id
                   for a in world.sandbox.xero.accounts(CLINIC_TENANT_ID) if a.account_id == p.account_id)
    assert codes == ["091", "610"]


def test_a_payment_on_a_held_invoice_waits_and_goes_with_it(make_world) -> None:
    world = make_world()
    data = demo_mapping()
    del data["vat_groups"]["1"]
    world.engine(Mapping.from_json(data)).run_pass()
    inv = _new_invoice(world, "60.00")
    world.sandbox.provet.add_payment(inv.id, "60.00", payment_type=1)
    first = world.engine(Mapping.from_json(data)).run_pass()
    assert world.state.link("invoice", inv.id) is None
    assert not [a for a in world.state.attention() if a.kind == "payment"]  # no "invoice not in Xero" failure
    assert first.held.get("vat_group_unmapped")
    world.engine().run_pass()  # mapped again: the invoice goes, and its payment with it
    assert _xero_invoice(world, inv.id).status == "PAID"


def test_prepayment_used_on_an_invoice_goes_to_the_prepayment_account(world: World) -> None:
    world.engine().run_pass()
    inv = _new_invoice(world, "80.00")
    client = world.sandbox.provet.invoice(inv.id).client_id
    pre = world.sandbox.provet.add_prepayment(client, "50.00")
    world.sandbox.provet.use_prepayment(pre.id, inv.id, "50.00")
    result = world.engine().run_pass()
    assert result.sent.get("payment") == 1
    x = _xero_invoice(world, inv.id)
    (payment,) = [p for p in _live_xero_payments(world) if p.invoice_id == x.doc_id]
    account = next(a for a in world.sandbox.xero.accounts(CLINIC_TENANT_ID) if a.account_id == payment.account_id)
    assert account.code == "815" and payment.amount == Decimal("50.00")


def test_unused_prepayments_are_not_sent(world: World) -> None:
    world.engine().run_pass()
    client = world.sandbox.provet.clients()[0]
    before = len(world.sandbox.xero.payments(CLINIC_TENANT_ID))
    world.sandbox.provet.add_prepayment(client.id, "25.00")
    world.engine().run_pass()
    assert len(world.sandbox.xero.payments(CLINIC_TENANT_ID)) == before


def test_payment_on_a_consolidated_invoice_lands_on_the_gathered_invoices(world: World) -> None:
    world.engine().run_pass()
    consolidated = next(i for i in world.sandbox.provet.invoices(status=3) if i.consolidated_invoice)
    real = sum(p.paid for p in world.sandbox.provet.payments_for(consolidated.id, include_cancelled=False)
               if p.payment_type not in MONEY_TYPES_SKIPPED)
    gathered = [_xero_invoice(world, g) for g in consolidated.consolidated_invoice_ids]
    assert real > 0 and sum(g.amount_paid for g in gathered) == real
    assert all(g.amount_due >= 0 for g in gathered)


def test_cancelled_payment_is_deleted_in_xero(world: World) -> None:
    world.engine().run_pass()
    inv = _new_invoice(world, "40.00")
    pay = world.sandbox.provet.add_payment(inv.id, "40.00", payment_type=1)
    world.engine().run_pass()
    assert _xero_invoice(world, inv.id).status == "PAID"
    world.sandbox.provet.cancel_payment(pay.id)
    result = world.engine().run_pass()
    x = _xero_invoice(world, inv.id)
    assert x.status == "AUTHORISED" and x.amount_due == Decimal("40.00")
    assert result.sent == {"payment_deleted": 1}


def test_payment_made_in_xero_reaches_provet_and_its_deletion_cancels_it(world: World) -> None:
    world.engine().run_pass()
    inv = _new_invoice(world, "90.00")
    world.engine().run_pass()
    x = _xero_invoice(world, inv.id)
    made = world.sandbox.xero.make_payment(CLINIC_TENANT_ID, x.doc_id, "90.00", "090")
    result = world.engine().run_pass()
    assert result.sent == {"xero_payment": 1}
    (posted,) = [p for p in world.sandbox.provet.payments_for(inv.id) if p.info.startswith("Xero payment")]
    assert posted.info == f"Xero payment {made.payment_id}" and posted.paid == Decimal("90.00")
    assert posted.payment_method_id == 17 and posted.payment_type == 11 and posted.status == 3
    world.sandbox.xero.delete_payment(CLINIC_TENANT_ID, made.payment_id)
    result = world.engine().run_pass()
    assert result.sent == {"xero_payment_cancelled": 1}
    assert world.sandbox.provet.payment(posted.id).status == 99


def test_payment_made_in_xero_then_cancelled_in_provet_is_deleted_in_xero_once(world: World) -> None:
    world.engine().run_pass()
    inv = _new_invoice(world, "60.00")
    world.engine().run_pass()
    x = _xero_invoice(world, inv.id)
    made = world.sandbox.xero.make_payment(CLINIC_TENANT_ID, x.doc_id, "60.00", "090")
    world.engine().run_pass()
    (posted,) = [p for p in world.sandbox.provet.payments_for(inv.id) if p.info.startswith("Xero payment")]
    world.sandbox.provet.cancel_payment(posted.id)  # the clinic finds it was entered against the wrong invoice

    result = world.engine().run_pass()

    assert result.sent == {"payment_deleted": 1}
    (gone,) = [p for p in world.sandbox.xero.payments(CLINIC_TENANT_ID) if p.payment_id == made.payment_id]
    assert gone.status == "DELETED"
    x = _xero_invoice(world, inv.id)
    assert x.status == "AUTHORISED" and x.amount_due == Decimal("60.00")
    for _ in range(2):  # Xero's deletion is ours: it is not sent back to Provet, and nothing bounces
        again = world.engine().run_pass()
        assert again.sent == {} and again.stopped is None
    assert [p.status for p in world.sandbox.provet.payments_for(inv.id)] == [99]


def test_payment_deleted_in_xero_is_not_deleted_again_after_provet_cancels_it(world: World) -> None:
    world.engine().run_pass()
    inv = _new_invoice(world, "30.00")
    world.engine().run_pass()
    made = world.sandbox.xero.make_payment(CLINIC_TENANT_ID, _xero_invoice(world, inv.id).doc_id, "30.00", "090")
    world.engine().run_pass()
    world.sandbox.xero.delete_payment(CLINIC_TENANT_ID, made.payment_id)
    assert world.engine().run_pass().sent == {"xero_payment_cancelled": 1}
    for _ in range(2):
        again = world.engine().run_pass()
        assert again.sent == {} and again.stopped is None and again.attention_open == 0


def test_no_echo_in_either_direction_over_several_passes(world: World) -> None:
    world.engine().run_pass()
    inv = _new_invoice(world, "120.00")
    world.sandbox.provet.add_payment(inv.id, "20.00", payment_type=1)
    world.engine().run_pass()
    x = _xero_invoice(world, inv.id)
    world.sandbox.xero.make_payment(CLINIC_TENANT_ID, x.doc_id, "50.00", "090")
    counts = []
    for _ in range(4):
        result = world.engine().run_pass()
        counts.append((len(world.sandbox.xero.payments(CLINIC_TENANT_ID)),
                       len(world.sandbox.provet.payments_for(inv.id))))
        assert result.stopped is None
    assert counts[1:] == [counts[0]] * 3
    assert _xero_invoice(world, inv.id).amount_paid == Decimal("70.00")
    assert sum(p.paid for p in world.sandbox.provet.payments_for(inv.id, include_cancelled=False)) == Decimal("70.00")


def test_unmapped_payment_method_holds_that_payment_only(make_world) -> None:
    world = make_world()
    data = demo_mapping()
    del data["payment_methods"]["type:1"]  # cash
    result = world.engine(Mapping.from_json(data)).run_pass()
    held = [a for a in world.state.attention() if a.cause == "payment_method_unmapped"]
    assert held and result.held["payment_method_unmapped"] == len(held)
    assert all("'Cash'" in a.reason and "accepts payments" in a.fix for a in held)
    assert result.sent.get("payment", 0) > 0
    world.engine().run_pass()  # mapped again
    assert not [a for a in world.state.attention() if a.cause == "payment_method_unmapped"]


def test_overpayment_is_held_with_xeros_reason(world: World) -> None:
    world.engine().run_pass()
    inv = _new_invoice(world, "60.00")
    world.engine().run_pass()
    x = _xero_invoice(world, inv.id)
    world.sandbox.xero.make_payment(CLINIC_TENANT_ID, x.doc_id, "50.00", "090")  # paid in Xero meanwhile
    world.sandbox.provet.add_payment(inv.id, "60.00", payment_type=1)  # and in full at the desk
    result = world.engine().run_pass(poll_xero=False)
    item = next(a for a in world.state.attention() if a.kind == "payment")
    assert item.cause == "payment_rejected" and "exceeds the amount outstanding" in item.reason
    assert result.held == {"payment_rejected": 1}


def test_idle_pass_costs_only_the_two_polls(world: World) -> None:
    world.engine().run_pass()
    before = dict(world.xero.calls)
    result = world.engine().run_pass()
    spent = {k: v - before.get(k, 0) for k, v in world.xero.calls.items() if v != before.get(k, 0)}
    assert result.xero_calls == 2 and spent == {"GET Payments": 1, "GET Contacts": 1}
