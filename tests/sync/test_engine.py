"""Sync engine I against the sandbox: what Xero holds after a pass, checked the way an accountant would."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from provet_xero_gui.mapping import Mapping
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID, RowSpec
from provet_xero_gui.sandbox.runner import demo_mapping
from provet_xero_gui.sync.events import DocumentHeld

from .conftest import World


def _provet_invoices(world: World):
    return world.sandbox.provet.invoices()


def _expected(world: World, *, credit: bool) -> dict[str, Decimal]:
    """Document number → total, for what must be in Xero under the default (gathered) rule."""
    out = {}
    for inv in _provet_invoices(world):
        if inv.status == 3 and inv.client_id is not None and not inv.consolidated_invoice and inv.credit_note == credit:
            out[inv.document_number] = abs(inv.total_with_vat)
    return out


def test_first_pass_sends_every_finalised_document_exactly_once(world: World) -> None:
    result = world.engine().run_pass()
    assert result.stopped is None, result.stopped
    invoices = {d.number: d for d in world.xero_invoices()}
    notes = {d.number: d for d in world.xero_credit_notes()}
    expected_inv = _expected(world, credit=False)
    expected_cn = _expected(world, credit=True)
    assert set(invoices) == set(expected_inv)
    assert set(notes) == set(expected_cn)
    # Xero's totals equal Provet's to the cent (rounding lines included where needed).
    assert {n: d.total for n, d in invoices.items()} == expected_inv
    assert {n: d.total for n, d in notes.items()} == expected_cn
    assert all(d.status == "AUTHORISED" or d.status == "PAID" for d in invoices.values())
    assert result.sent["invoice"] == len(expected_inv) and result.sent["credit_note"] == len(expected_cn)
    # Batches: a handful of calls, not one per document (4 of reference data, 2 polls of Xero's changes, and
    # 2 of a new store looking for what the app already wrote to Xero: sync/rebuild.py).
    assert result.xero_calls <= 16, world.xero.calls


def test_second_pass_sends_nothing_and_costs_no_xero_calls(world: World) -> None:
    world.engine().run_pass()
    before = (len(world.xero_invoices()), len(world.xero_credit_notes()), len(world.xero_contacts()))
    result = world.engine().run_pass()
    assert result.sent == {} and result.stopped is None
    assert result.xero_calls <= 3
    assert (len(world.xero_invoices()), len(world.xero_credit_notes()), len(world.xero_contacts())) == before


def test_anonymous_sales_are_held_by_rule_and_listed(world: World) -> None:
    result = world.engine().run_pass()
    anonymous = [i for i in _provet_invoices(world) if i.status == 3 and i.client_id is None]
    assert anonymous and result.held_by_rule.get("anonymous") == len(anonymous)
    listed = [a for a in world.state.attention() if a.cause == "anonymous"]
    assert {a.provet_id for a in listed} == {str(i.id) for i in anonymous}
    assert all(a.by_rule for a in listed)
    assert result.attention_open == 0  # by-rule holds are not problems


def test_drafts_and_unsent_voids_never_reach_xero(world: World) -> None:
    world.engine().run_pass()
    numbers = {d.number for d in world.xero_invoices()}
    for inv in _provet_invoices(world):
        if inv.status != 3:
            assert inv.document_number not in numbers or not inv.document_number


def test_consolidated_gathered_by_default_and_both_on_request(make_world) -> None:
    world = make_world()
    world.engine().run_pass()
    numbers = {d.number for d in world.xero_invoices()}
    consolidated = [i for i in _provet_invoices(world) if i.consolidated_invoice and i.status == 3]
    assert consolidated
    for c in consolidated:
        assert c.document_number not in numbers
        gathered = [world.sandbox.provet.invoice(g) for g in c.consolidated_invoice_ids]
        assert all(g.document_number in numbers for g in gathered)
    both = make_world()
    both.engine(Mapping.from_json({**demo_mapping(), "consolidated": "both"})).run_pass()
    numbers = {d.number for d in both.xero_invoices()}
    assert all(c.document_number in numbers for c in consolidated)


def test_credit_notes_are_allocated_as_provet_settled_them(world: World) -> None:
    world.engine().run_pass()
    allocations = [a for a in world.sandbox.xero.allocations(CLINIC_TENANT_ID) if not a.is_deleted]
    notes = {d.number: d for d in world.xero_credit_notes()}
    allocated = {a.credit_note_id: a.amount for a in allocations}
    checked = 0
    for inv in _provet_invoices(world):
        if inv.status == 3 and inv.credit_note and inv.credit_note_original_invoice_id:
            original = world.sandbox.provet.invoice(inv.credit_note_original_invoice_id)
            settled = sum(p.paid for p in world.sandbox.provet.payments_for(original.id)
                          if p.payment_type == 12 and p.status == 3 and p.paid > 0)
            note = notes[inv.document_number]
            assert allocated.get(note.doc_id, Decimal(0)) == settled, inv.document_number
            checked += 1
    assert checked >= 2 and allocations
    for inv in world.xero_invoices():
        assert inv.amount_due >= 0


def test_voided_in_provet_voids_in_xero(world: World) -> None:
    world.engine().run_pass()
    target = next(d for d in world.xero_invoices() if d.amount_paid == 0 and d.amount_credited == 0)
    provet_id = int(world.state.by_xero_id("invoice", target.doc_id).provet_id)
    world.sandbox.provet.void_invoice(provet_id)
    result = world.engine().run_pass()
    assert result.sent.get("void") == 1
    assert world.sandbox.xero.invoice(CLINIC_TENANT_ID, target.doc_id).status == "VOIDED"


def test_credit_note_voided_in_provet_is_voided_in_xero(world: World) -> None:
    client = world.sandbox.provet.clients()[0]
    row = RowSpec("Surgery", Decimal(1), Decimal(50), Decimal(20), "200")
    paid = world.sandbox.provet.add_invoice(client.id, [row])
    world.sandbox.provet.add_payment(paid.id, "60.00")
    # Paid in full, so the credit note settles nothing on it: a credit on the client's account, unallocated.
    note = world.sandbox.provet.credit_invoice(paid.id, refund_payment_type=None)
    world.engine().run_pass()
    target = world.sandbox.xero.credit_note(CLINIC_TENANT_ID, world.state.link("credit_note", note.id).xero_id)
    assert not target.has_settlements
    provet_id = note.id
    world.sandbox.provet.void_invoice(provet_id)
    result = world.engine().run_pass()
    assert result.sent.get("void") == 1
    assert world.sandbox.xero.credit_note(CLINIC_TENANT_ID, target.doc_id).status == "VOIDED"
    assert world.engine().run_pass().sent == {}


def test_allocated_credit_note_voided_in_provet_waits_with_what_to_do(world: World) -> None:
    world.engine().run_pass()
    target = next(d for d in world.xero_credit_notes() if d.amount_credited > 0)
    provet_id = int(world.state.by_xero_id("credit_note", target.doc_id).provet_id)
    world.sandbox.provet.void_invoice(provet_id)
    result = world.engine().run_pass()
    assert result.held == {"void_refused": 1}
    item = next(a for a in world.state.attention() if a.cause == "void_refused")
    assert item.kind == "credit_note" and item.provet_id == str(provet_id)
    assert "voided in Provet, but Xero refused" in item.reason and "allocation" in item.fix
    assert world.sandbox.xero.credit_note(CLINIC_TENANT_ID, target.doc_id).status != "VOIDED"


def test_unmapped_vat_group_holds_only_its_documents(make_world) -> None:
    world = make_world()
    data = demo_mapping()
    del data["vat_groups"]["3"]  # Reduced 5%
    result = world.engine(Mapping.from_json(data)).run_pass()
    held = [a for a in world.state.attention() if a.cause == "vat_group_unmapped"]
    assert held and all("'Reduced 5%' is not mapped" in a.reason and "Retry" in a.fix for a in held)
    assert result.held["vat_group_unmapped"] == len(held)
    numbers = {d.number for d in world.xero_invoices()} | {d.number for d in world.xero_credit_notes()}
    assert numbers and not {a.document.split(" ", 1)[-1] for a in held} & numbers
    # Mapped again, the next pass sends exactly the held ones.
    again = world.engine().run_pass()
    assert sum(again.sent.get(k, 0) for k in ("invoice", "credit_note")) == len(held)
    assert [a for a in world.state.attention() if a.cause == "vat_group_unmapped"] == []


def test_lock_date_holds_with_the_reason(world: World) -> None:
    dates = sorted(i.invoice_date for i in _provet_invoices(world) if i.status == 3)
    lock = dates[len(dates) // 2]
    world.sandbox.xero.set_lock_date(CLINIC_TENANT_ID, lock)
    result = world.engine().run_pass()
    held = [a for a in world.state.attention() if a.cause == "lock_date"]
    assert held and result.held["lock_date"] == len(held)
    assert all(lock.isoformat() in a.reason for a in held)
    assert all(d.date > lock for d in world.xero_invoices())


def test_duplicate_names_never_fail_and_never_merge(world: World) -> None:
    world.engine().run_pass()
    contacts = world.xero_contacts()
    names = [c.name for c in contacts if c.status == "ACTIVE"]
    assert len(names) == len({n.casefold() for n in names})
    hollybrook = [c for c in contacts if c.name.startswith("Hollybrook Farm Ltd")]
    hand_made = [c for c in hollybrook if not c.contact_number]
    ours = [c for c in hollybrook if c.contact_number]
    assert len(hand_made) == 1 and len(ours) == 1 and ours[0].name.endswith(")")
    clients = world.sandbox.provet.clients()
    by_name: dict[str, list] = {}
    for c in clients:
        by_name.setdefault(c.display_name, []).append(c)
    twins = next(v for v in by_name.values() if len(v) > 1)
    linked = {world.state.link("contact", c.id).xero_id for c in twins if world.state.link("contact", c.id)}
    assert len(linked) == len([c for c in twins if world.state.link("contact", c.id)])


def test_a_rejected_document_does_not_stop_its_batch(world: World) -> None:
    # Somebody typed an invoice into Xero by hand under the number a Provet invoice will bring.
    first = next(i for i in _provet_invoices(world) if i.status == 3 and i.client_id and not i.credit_note
                 and not i.consolidated_invoice)
    contact = world.sandbox.xero.add_contact(CLINIC_TENANT_ID, "Walk-in customer")
    world.xero.put_invoices([{
        "Type": "ACCREC", "Contact": {"ContactID": contact.contact_id}, "InvoiceNumber": first.document_number,
        "Date": first.invoice_date.isoformat(), "DueDate": first.invoice_date.isoformat(), "Status": "AUTHORISED",
        "LineItems": [{"Description": "typed by hand", "Quantity": 1, "UnitAmount": 5, "AccountCode": "200",
                       "TaxType": "OUTPUT2"}],
    }], "typed-by-hand")
    result = world.engine().run_pass()
    assert result.stopped is None and result.held == {"number_taken": 1}
    item = next(a for a in world.state.attention() if a.cause == "number_taken")
    assert item.provet_id == str(first.id) and first.document_number in item.reason
    ours = [d for d in world.xero_invoices() if d.reference.startswith("Provet #")]
    assert len(ours) == len(_expected(world, credit=False)) - 1
    # The accountant renumbers the hand-typed one. A plain pass does not try again (Xero said no)...
    hand = next(d for d in world.xero_invoices() if d.number == first.document_number)
    world.sandbox.xero.edit_invoice(CLINIC_TENANT_ID, hand.doc_id, InvoiceNumber="HAND-1")
    assert world.engine().run_pass().held.get("number_taken") is None
    assert world.state.link("invoice", first.id) is None
    # ...Retry does, and it goes.
    again = world.engine().run_pass(retry={item.key})
    assert again.sent.get("invoice") == 1 and world.state.link("invoice", first.id) is not None  # its payment too
    assert not [a for a in world.state.attention() if a.cause == "number_taken"]


def test_lost_answer_after_commit_is_not_a_duplicate(make_world) -> None:
    world = make_world(wire=True)  # a connection cut after Xero did the work, and the Idempotency-Key resent
    world.sandbox.xero.faults.drop_next_writes = 2  # the contact batch and the invoice batch: done, unanswered
    result = world.engine().run_pass()
    assert result.stopped is None, result.stopped
    numbers = [d.number for d in world.xero_invoices()]
    assert len(numbers) == len(set(numbers)) == len(_expected(world, credit=False))
    # The allocations the failed pass did not get to are made by the next one.
    assert len([a for a in world.sandbox.xero.allocations(CLINIC_TENANT_ID) if not a.is_deleted]) >= 2
    names = [c.name for c in world.xero_contacts()]
    assert len(names) == len(set(names))


def test_server_errors_are_retried(make_world) -> None:
    world = make_world(wire=True)  # 503s on the wire, the backoff between them
    world.sandbox.xero.faults.fail_next = 3
    result = world.engine().run_pass()
    assert result.stopped is None
    assert len(world.xero_invoices()) == len(_expected(world, credit=False))


def test_held_documents_are_sent_once_the_cause_is_fixed(world: World) -> None:
    world.sandbox.xero.set_lock_date(CLINIC_TENANT_ID, date(2030, 1, 1))
    first = world.engine().run_pass()
    assert first.sent.get("invoice", 0) == 0 and first.held["lock_date"] > 0
    world.sandbox.xero.set_lock_date(CLINIC_TENANT_ID, None)
    world.state.drop_cache("xero_reference")  # what Retry does: look at Xero's settings again
    second = world.engine().run_pass()
    assert second.sent["invoice"] == len(_expected(world, credit=False))
    assert not [a for a in world.state.attention() if a.cause == "lock_date"]


def test_events_tell_the_story(world: World) -> None:
    world.engine().run_pass()
    held = [e for e in world.events if isinstance(e, DocumentHeld)]
    assert held and all(e.reason and e.fix for e in held)


def test_an_unexpected_error_ends_the_pass_cleanly_and_loses_nothing(world: World, monkeypatch) -> None:
    from provet_xero_gui.sync import engine as engine_module

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug in the middle of the pass")

    monkeypatch.setattr(engine_module.SyncEngine, "_allocate", broken)
    result = world.engine().run_pass()
    assert result.stop_kind == "error" and "unexpected error" in result.stopped
    assert "RuntimeError" in result.stopped
    monkeypatch.undo()
    again = world.engine().run_pass()
    assert again.stopped is None
    numbers = [d.number for d in world.xero_invoices()]
    assert len(numbers) == len(set(numbers)) == len(_expected(world, credit=False))
    # The allocations the failed pass did not get to are made by the next one.
    assert len([a for a in world.sandbox.xero.allocations(CLINIC_TENANT_ID) if not a.is_deleted]) >= 2


def test_a_void_xero_refuses_waits_on_the_invoice_and_goes_on_retry(world: World) -> None:
    world.engine().run_pass()
    target = next(d for d in world.xero_invoices() if d.amount_due > 1 and d.amount_credited == 0)
    provet_id = int(world.state.by_xero_id("invoice", target.doc_id).provet_id)
    paid = world.sandbox.xero.make_payment(CLINIC_TENANT_ID, target.doc_id, "1.00", "090")  # paid in Xero
    world.sandbox.provet.void_invoice(provet_id)
    result = world.engine().run_pass(poll_xero=False)
    assert result.held == {"void_refused": 1}
    item = next(a for a in world.state.attention() if a.cause == "void_refused")
    assert item.kind == "invoice" and item.provet_id == str(provet_id)
    assert "voided in Provet, but Xero refused" in item.reason and "Retry" in item.fix
    # A plain pass does not ask Xero again; once the payment is removed, Retry voids it.
    world.sandbox.xero.delete_payment(CLINIC_TENANT_ID, paid.payment_id)
    assert world.engine().run_pass(poll_xero=False).xero_calls == 0
    again = world.engine().run_pass(retry={item.key}, poll_xero=False)
    assert again.sent == {"void": 1}
    assert world.sandbox.xero.invoice(CLINIC_TENANT_ID, target.doc_id).status == "VOIDED"
    assert not [a for a in world.state.attention() if a.cause == "void_refused"]
