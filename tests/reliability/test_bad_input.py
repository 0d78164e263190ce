"""The bad-input corpus (issue #10): one bad thing planted next to good documents, one real sync pass, and
what a person would check afterwards. Each case ends in correct handling or a clear attention item; the
documents beside it still go through; nothing crashes the pass. An answer Provet spoils as a whole (an HTML
page, cut-off JSON) ends the pass cleanly with a plain message, and the next pass after the fault clears
sends everything, once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from bad_input_world import World, open_world, row

from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID

pytestmark = pytest.mark.contract_bad_answers("the sandbox spoils its answers on purpose (the bad-input corpus)")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from open_world(tmp_path)


def _plain(text: str) -> None:
    """Words for a person: no traceback, no Python type, no raw JSON."""
    assert text and "Traceback" not in text and "Error(" not in text, text


def _clear_item(world: World, provet_id: int, cause: str, *words: str) -> None:
    item = world.item_for(provet_id)
    assert item.cause == cause, item
    for w in words:
        assert w in item.reason + " " + item.fix, item
    _plain(item.reason)
    _plain(item.fix)
    assert item.fix.rstrip().endswith("."), item.fix


# --- clients ---------------------------------------------------------------------------------------------


def test_client_with_no_name_gets_a_stand_in_contact(world: World) -> None:
    client = world.provet.add_client("Nameless", "")
    world.provet.tamper("client", client.id, set={"firstname": "", "lastname": "", "organization_name": None})
    inv = world.invoice(client_id=client.id)
    result = world.sync()
    assert result.stopped is None
    assert world.contact_of(client.id).name == f"Provet client {client.id}"
    assert world.xero_invoice(inv.document_number).total == inv.total_with_vat
    world.assert_everything_else_once()


def test_client_name_of_whitespace_only_gets_a_stand_in_contact(world: World) -> None:
    client = world.provet.add_client("Blank", "Name")
    world.provet.tamper("client", client.id, set={"firstname": " \n\t ", "lastname": "\u00a0 "})
    inv = world.invoice(client_id=client.id)
    assert world.sync().stopped is None
    assert world.contact_of(client.id).name == f"Provet client {client.id}"
    world.xero_invoice(inv.document_number)
    world.assert_everything_else_once()


def test_300_character_person_name_is_cut_to_what_xero_holds(world: World) -> None:
    client = world.provet.add_client("A" * 200, "B" * 99)  # Provet takes 255 a field; the name is 300
    inv = world.invoice(client_id=client.id)
    assert world.sync().stopped is None
    contact = world.contact_of(client.id)
    assert contact.name == ("A" * 200 + " " + "B" * 99)[:255]
    world.assert_settled()
    assert world.xero_invoice(inv.document_number).contact_id == contact.contact_id
    world.assert_everything_else_once()


def test_300_character_company_name_is_cut_to_what_xero_holds(world: World) -> None:
    client = world.provet.add_client("", "", organization_name="Farm", customer_type=1)
    world.provet.tamper("client", client.id, set={"organization_name": "Hollow Oak Farms " * 18})  # 306 chars
    inv = world.invoice(client_id=client.id)
    assert world.sync().stopped is None
    assert world.contact_of(client.id).name == ("Hollow Oak Farms " * 18)[:255].rstrip()
    world.assert_settled()
    world.xero_invoice(inv.document_number)
    world.assert_everything_else_once()


def test_two_clients_with_the_same_300_character_name_stay_two_contacts(world: World) -> None:
    first = world.provet.add_client("C" * 200, "D" * 99)
    second = world.provet.add_client("C" * 200, "D" * 99)
    a, b = world.invoice(client_id=first.id), world.invoice(client_id=second.id)
    assert world.sync().stopped is None
    one, two = world.contact_of(first.id), world.contact_of(second.id)
    assert one.contact_id != two.contact_id and len(one.name) <= 255 and len(two.name) <= 255
    assert two.name.endswith(f"(Provet {second.id})")
    world.assert_settled()
    assert world.xero_invoice(a.document_number).contact_id == one.contact_id
    assert world.xero_invoice(b.document_number).contact_id == two.contact_id
    world.assert_everything_else_once()


def test_control_characters_in_client_details_never_reach_xero(world: World) -> None:
    client = world.provet.add_client("Anna", "Smith")
    world.provet.tamper(
        "client",
        client.id,
        set={
            "firstname": "An\x00na\x07",
            "lastname": "Sm\x1bith\x0b",
            "city": "Le\x08eds",
            "street_address": "1 Main\x7f St",
        },
    )
    inv = world.invoice(client_id=client.id)
    assert world.sync().stopped is None
    contact = world.contact_of(client.id)
    assert contact.name == "Anna Smith"
    assert any(dict(a).get("City") == "Leeds" and dict(a).get("AddressLine1") == "1 Main St" for a in contact.addresses)
    world.xero_invoice(inv.document_number)
    world.assert_everything_else_once()


def test_emoji_in_a_name_are_kept(world: World) -> None:
    client = world.provet.add_client("Bella 🐶", "Ödegård-Łukasz 🐾")
    inv = world.invoice(client_id=client.id)
    assert world.sync().stopped is None
    assert world.contact_of(client.id).name == "Bella 🐶 Ödegård-Łukasz 🐾"
    world.xero_invoice(inv.document_number)
    world.assert_everything_else_once()


def test_half_an_emoji_is_dropped_not_a_crash(world: World) -> None:
    # A system that cuts text by UTF-16 units can leave a lone surrogate: JSON carries it, no encoding writes it.
    client = world.provet.add_client("Bella", "Smith")
    world.provet.tamper("client", client.id, set={"firstname": "Bella \ud83d", "city": "\udc36York"})
    inv = world.invoice(client_id=client.id, rows=[row("Check-up \ud83d", "40.00")])
    world.provet.tamper("invoicerow", world.provet.invoice(inv.id).rows[0].id, set={"name": "Check-up \ud83d"})
    assert world.sync().stopped is None
    contact = world.contact_of(client.id)
    assert contact.name == "Bella Smith" and any(dict(a).get("City") == "York" for a in contact.addresses)
    assert [li.description for li in world.xero_invoice(inv.document_number).line_items] == ["Check-up"]
    world.assert_everything_else_once()
    world.assert_settled()


def test_300_character_name_of_emoji_fits_xero_counted_as_xero_counts(world: World) -> None:
    # Xero counts a name's length in UTF-16 units, as .NET does: an emoji is two of them.
    client = world.provet.add_client("🐶" * 150, "🐾" * 150)
    inv = world.invoice(client_id=client.id)
    assert world.sync().stopped is None
    name = world.contact_of(client.id).name
    assert len(name.encode("utf-16-le")) // 2 <= 255 and name.startswith("🐶" * 127)
    world.assert_settled()
    world.xero_invoice(inv.document_number)
    world.assert_everything_else_once()


def test_email_too_long_for_xero_is_left_out_not_cut(world: World) -> None:
    email = "x" * 250 + "@example.com"  # 262 characters: cut to 255 it would not be an address at all
    client = world.provet.add_client("Long", "Mail")
    world.provet.tamper("client", client.id, set={"email": email})
    inv = world.invoice(client_id=client.id)
    assert world.sync().stopped is None
    assert world.contact_of(client.id).email == ""
    world.assert_settled()
    world.xero_invoice(inv.document_number)
    world.assert_everything_else_once()


# --- invoices ----------------------------------------------------------------------------------------------


def test_empty_invoice_is_held_by_rule_not_as_a_problem(world: World) -> None:
    empty = world.invoice(rows=[])
    result = world.sync()
    assert result.stopped is None
    _clear_item(world, empty.id, "empty", "no rows", "Nothing to do")
    assert empty.id not in {int(a.provet_id) for a in world.state.attention(include_rule_holds=False)}
    world.assert_everything_else_once(empty.document_number)


def test_invoice_with_no_rows_but_a_total_waits_with_a_reason(world: World) -> None:
    odd = world.invoice(rows=[])
    world.provet.tamper("invoice", odd.id, set={"total_with_vat": "50.00", "total": "40.00", "total_vat": "10.00"})
    result = world.sync()
    assert result.stopped is None
    _clear_item(world, odd.id, "no_rows", "no rows", "50.00")
    world.assert_everything_else_once(odd.document_number)


def test_invoice_with_1000_rows_arrives_whole(world: World) -> None:
    big = world.invoice(rows=[row(f"Feed bag {i}", "3.3333", qty="3") for i in range(1000)])
    assert world.sync().stopped is None
    sent = world.xero_invoice(big.document_number)
    assert len(sent.line_items) == 1000 and sent.total == big.total_with_vat
    world.assert_everything_else_once()


def test_invoices_too_large_for_one_xero_request_go_in_smaller_ones(world: World) -> None:
    # Three invoices of 1,000 long rows: over Xero's 3.5 MB a request together, well under it one by one.
    big = [
        world.invoice(
            rows=[row(f"{i:04d} " + "Bulk equine supplement, batch notes " * 36, "1.00") for i in range(1000)]
        )
        for _ in range(3)
    ]
    assert world.sync().stopped is None
    for inv in big:
        assert world.xero_invoice(inv.document_number).total == inv.total_with_vat
    world.assert_everything_else_once()


def test_invoice_too_large_for_xero_at_all_waits_with_a_reason(world: World) -> None:
    huge = world.invoice(rows=[row(f"{i:04d} " + "z" * 3990, "1.00") for i in range(1000)])  # ~4 MB alone
    result = world.sync()
    assert result.stopped is None
    _clear_item(world, huge.id, "xero_rejected", "too large")
    world.assert_everything_else_once(huge.document_number)


def test_zero_amount_invoice_is_sent_and_settled(world: World) -> None:
    free = world.invoice(rows=[row("Free check-up", "0.00")])
    assert world.sync().stopped is None
    sent = world.xero_invoice(free.document_number)
    assert sent.total == 0 and sent.status == "PAID"
    world.assert_everything_else_once()


def test_zero_quantity_row_is_sent_as_worth_nothing(world: World) -> None:
    inv = world.invoice(rows=[row("Vaccine", "40.00"), row("Not given", "25.00", qty="0")])
    assert world.sync().stopped is None
    sent = world.xero_invoice(inv.document_number)
    assert sent.total == inv.total_with_vat == Decimal("48.00") and len(sent.line_items) == 2
    world.assert_everything_else_once()


def test_negative_invoice_waits_to_be_made_a_credit_note(world: World) -> None:
    neg = world.invoice(rows=[row("Refund of deposit", "-30.00")])
    assert world.sync().stopped is None
    _clear_item(world, neg.id, "negative_invoice", "negative", "credit note")
    world.assert_everything_else_once(neg.document_number)


def test_negative_row_on_a_positive_invoice_is_sent_as_is(world: World) -> None:
    inv = world.invoice(rows=[row("Surgery", "300.00"), row("Loyalty credit", "-20.00")])
    assert world.sync().stopped is None
    assert world.xero_invoice(inv.document_number).total == inv.total_with_vat == Decimal("336.00")
    world.assert_everything_else_once()


def test_100_percent_discount_row(world: World) -> None:
    inv = world.invoice(rows=[row("Consultation", "45.00"), row("Nail clip", "12.00", discount="-100")])
    assert world.sync().stopped is None
    sent = world.xero_invoice(inv.document_number)
    assert sent.total == inv.total_with_vat == Decimal("54.00")
    assert any(li.discount_rate == 100 for li in sent.line_items)
    world.assert_everything_else_once()


def test_100_percent_discount_on_every_row_is_a_zero_invoice(world: World) -> None:
    inv = world.invoice(
        rows=[row("Staff pet vaccine", "40.00", discount="-100"), row("Staff pet exam", "30.00", discount="-100")]
    )
    assert world.sync().stopped is None
    sent = world.xero_invoice(inv.document_number)
    assert sent.total == 0 and sent.status == "PAID"
    world.assert_everything_else_once()


def test_vat_rate_in_no_vat_group_waits_with_the_rate(world: World) -> None:
    odd = world.invoice(rows=[row("Imported remedy", "10.00", vat="17")])
    assert world.sync().stopped is None
    _clear_item(world, odd.id, "vat_group_unknown", "17%", "'Imported remedy'")
    world.assert_everything_else_once(odd.document_number)


def test_vat_group_archived_in_provet_after_mapping_names_the_group(world: World) -> None:
    world.sync()
    reduced = next(g for g in world.provet.snapshot().vat_groups if g.title == "Reduced 5%")
    inv = world.invoice(rows=[row("Pet food", "10.00", vat=str(reduced.percentage))])
    world.provet.set_vat_group_archived(reduced.id)
    assert world.sync().stopped is None
    _clear_item(world, inv.id, "vat_group_unknown", "'Reduced 5%'", "archived")
    world.assert_everything_else_once(inv.document_number)


def test_tax_rate_archived_in_xero_after_mapping_waits_with_the_group(world: World) -> None:
    world.sync()
    world.xero.archive_tax_rate(CLINIC_TENANT_ID, "RROUTPUT")  # where 'Reduced 5%' is mapped
    world.state.drop_cache("xero_reference")
    inv = world.invoice(rows=[row("Pet food", "10.00", vat="5")])
    ok = world.invoice()
    assert world.sync().stopped is None
    _clear_item(world, inv.id, "tax_rate_unusable", "'Reduced 5%'", "RROUTPUT")
    world.xero_invoice(ok.document_number)
    world.assert_everything_else_once(inv.document_number)


def test_invoice_dated_on_or_before_the_lock_date_waits(world: World) -> None:
    world.sync()
    lock = world.provet.state.today() - timedelta(days=40)
    world.xero.set_lock_date(CLINIC_TENANT_ID, lock)
    world.state.drop_cache("xero_reference")
    old = world.invoice(invoice_date=lock)
    new = world.invoice()
    assert world.sync().stopped is None
    _clear_item(world, old.id, "lock_date", lock.isoformat(), "lock date")
    world.xero_invoice(new.document_number)
    world.assert_everything_else_once(old.document_number)


def test_invoice_in_another_currency_waits(world: World) -> None:
    eur = world.invoice()
    world.provet.tamper("invoice", eur.id, set={"currency": "EUR"})
    assert world.sync().stopped is None
    _clear_item(world, eur.id, "currency", "EUR", "GBP")
    world.assert_everything_else_once(eur.document_number)


def test_rows_that_do_not_add_up_to_the_total_wait(world: World) -> None:
    inv = world.invoice()
    world.provet.tamper("invoice", inv.id, set={"total_with_vat": "999.00"})
    assert world.sync().stopped is None
    _clear_item(world, inv.id, "rows_do_not_add_up", "999.00")
    world.assert_everything_else_once(inv.document_number)


def test_finalised_invoice_without_a_number_waits(world: World) -> None:
    # Xero would give it a number of its own (INV-0001): the accountant could never find it by Provet's.
    inv = world.invoice()
    world.provet.tamper("invoice", inv.id, set={"invoice_number": None, "invoice_prefix": None})
    assert world.sync().stopped is None
    _clear_item(world, inv.id, "no_number", "no invoice number")
    assert not [d for d in world.xero.invoices(CLINIC_TENANT_ID) if d.number.startswith("INV-")]
    world.assert_everything_else_once(inv.document_number)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("invoice_number", "1042\u202e", "U+202E"),  # right-to-left override: reads as another number
        ("invoice_number", "10\u200b42", "U+200B"),  # zero-width space: looks like 1042, is not
        ("invoice_prefix", "\u2066INV\u2069", "U+2066"),  # isolates
        ("invoice_prefix", "\ufeffINV", "U+FEFF"),
        ("invoice_number", "<b>1042</b>", "markup"),
        ("invoice_number", "<script>alert(1)</script>", "markup"),
    ],
    ids=["rtl_override", "zero_width_space", "isolates", "bom", "bold", "script"],
)
def test_document_number_with_hidden_characters_or_markup_waits(
    world: World, field: str, value: str, words: str
) -> None:
    # Issue 17, point 8: a number that would look like another one in Xero (or carry markup) is held.
    inv, other = world.invoice(), world.invoice(rows=[row("Dental", "90.00")])
    world.provet.tamper("invoice", inv.id, set={field: value})
    assert world.sync().stopped is None
    _clear_item(world, inv.id, "unreadable", field, words, "correct it in Provet")
    item = world.item_for(inv.id)
    assert value not in item.reason and value not in item.document  # the hostile text is never shown as is
    numbers = world.numbers()
    assert not [n for n in numbers if any(c in n for c in "\u202e\u200b\u2066\u2069\ufeff<>")], numbers
    assert world.xero_invoice(other.document_number).total == other.total_with_vat  # the others still go
    world.assert_everything_else_once(inv.document_number)


@pytest.mark.parametrize(
    ("dates", "field", "shown"),
    [
        ({"invoice_date": "9999-12-31", "invoice_due_date": "0001-01-01"}, "invoice_date", "9999-12-31"),
        ({"invoice_due_date": "0001-01-01"}, "invoice_due_date", "0001-01-01"),
        ({"invoice_date": "1900-01-01"}, "invoice_date", "1900-01-01"),
    ],
    ids=["dated_9999_due_0001", "due_0001", "dated_1900"],
)
def test_invoice_dated_far_outside_any_sane_range_waits(
    world: World, dates: dict[str, str], field: str, shown: str
) -> None:
    inv, other = world.invoice(), world.invoice(rows=[row("Dental", "90.00")])
    world.provet.tamper("invoice", inv.id, set=dates)
    assert world.sync().stopped is None
    _clear_item(world, inv.id, "unreadable", field, shown, "correct it in Provet")
    assert world.xero_invoice(other.document_number).total == other.total_with_vat
    world.assert_everything_else_once(inv.document_number)


def test_a_held_document_number_goes_once_corrected_in_provet(world: World) -> None:
    inv = world.invoice()
    world.provet.tamper("invoice", inv.id, set={"invoice_number": inv.invoice_number + "\u202e"})
    assert world.sync().stopped is None
    assert world.item_for(inv.id).cause == "unreadable"
    world.provet.clear_bad_answers()  # corrected in Provet
    assert world.sync().stopped is None
    assert world.xero_invoice(inv.document_number).total == inv.total_with_vat
    assert not [a for a in world.attention() if a.provet_id == str(inv.id)]
    world.assert_everything_else_once()


def test_two_provet_invoices_under_one_number_the_second_waits(world: World) -> None:
    first, second = world.invoice(), world.invoice(rows=[row("Dental", "90.00")])
    world.provet.tamper(
        "invoice", second.id, set={"invoice_number": first.invoice_number, "invoice_prefix": first.invoice_prefix}
    )
    assert world.sync().stopped is None
    assert world.xero_invoice(first.document_number).total == first.total_with_vat
    _clear_item(world, second.id, "number_taken", first.document_number)
    world.assert_everything_else_once(second.document_number)


def test_invoice_whose_client_provet_does_not_have_waits(world: World) -> None:
    inv = world.invoice()
    world.provet.tamper("invoice", inv.id, set={"client": world.provet.url("client", 99999)})
    assert world.sync().stopped is None
    _clear_item(world, inv.id, "contact_rejected", "client could not be read")
    world.assert_everything_else_once(inv.document_number)


def test_credit_note_of_a_held_invoice_goes_and_waits_to_be_allocated(world: World) -> None:
    original = world.invoice(rows=[row("Surgery", "100.00")])
    note = world.provet.credit_invoice(original.id)
    world.provet.tamper("invoice", original.id, set={"currency": "EUR"})
    assert world.sync().stopped is None
    _clear_item(world, original.id, "currency", "EUR")
    assert world.numbers()[note.document_number] == 1  # the credit stays on the client's account for now
    world.assert_everything_else_once(original.document_number)
    # Provet corrects the currency: the original goes, and the credit note is allocated to it.
    world.provet.clear_bad_answers()
    assert world.sync(retry_all=True).stopped is None
    assert world.xero_invoice(original.document_number).amount_due == 0
    world.assert_everything_else_once()


def test_a_very_long_row_name_is_cut_to_xeros_4000(world: World) -> None:
    inv = world.invoice(rows=[row("Treatment notes: " + "étude 🐴 " * 700, "80.00")])
    assert world.sync().stopped is None
    (line,) = world.xero_invoice(inv.document_number).line_items
    assert 0 < len(line.description.encode("utf-16-le")) // 2 <= 4000
    world.assert_everything_else_once()


# --- payments ---------------------------------------------------------------------------------------------


def test_payment_larger_than_the_amount_due_waits_with_xeros_reason(world: World) -> None:
    inv = world.invoice()
    pay = world.provet.add_payment(inv.id, "20.00", payment_type=1)
    other = world.invoice()
    fine = world.provet.add_payment(other.id, "60.00", payment_type=1)
    world.provet.tamper("invoicepayment", pay.id, set={"paid": "600.00"})
    assert world.sync().stopped is None
    _clear_item(world, pay.id, "payment_rejected", "exceeds")
    assert world.xero_invoice(inv.document_number).amount_paid == 0
    assert world.xero_invoice(other.document_number).status == "PAID"
    assert {p.reference for p in world.live_payments()} >= {f"Provet payment #{fine.id}"}
    world.assert_everything_else_once()


def test_payment_on_an_invoice_not_in_xero_waits_with_it(world: World) -> None:
    world.sync()
    lock = world.provet.state.today() - timedelta(days=40)
    world.xero.set_lock_date(CLINIC_TENANT_ID, lock)
    world.state.drop_cache("xero_reference")
    held = world.invoice(invoice_date=lock)
    pay = world.provet.add_payment(held.id, "60.00", payment_type=1)
    assert world.sync().stopped is None
    assert [a.cause for a in world.attention() if a.provet_id in (str(held.id), str(pay.id))] == ["lock_date"]
    # The accountant moves the lock date: the invoice goes, and its payment with it.
    world.xero.set_lock_date(CLINIC_TENANT_ID, None)
    world.state.drop_cache("xero_reference")
    assert world.sync(retry_all=True).stopped is None
    assert world.xero_invoice(held.document_number).status == "PAID"
    world.assert_everything_else_once()


def test_payment_on_an_anonymous_sale_is_never_sent_and_never_an_error(world: World) -> None:
    anon = world.provet.add_invoice(None, [row()], countersale=True)
    world.provet.add_payment(anon.id, "60.00", payment_type=1)
    result = world.sync()
    assert result.stopped is None and result.attention_open == 0
    assert world.item_for(anon.id).by_rule
    world.assert_everything_else_once(anon.document_number)


def test_zero_payment_is_skipped(world: World) -> None:
    inv = world.invoice()
    pay = world.provet.add_payment(inv.id, "10.00", payment_type=1)
    world.provet.tamper("invoicepayment", pay.id, set={"paid": "0.00"})
    result = world.sync()
    assert result.stopped is None and result.attention_open == 0
    assert world.xero_invoice(inv.document_number).amount_paid == 0
    world.assert_everything_else_once()


def test_duplicate_payment_ids_in_provets_answer_make_one_xero_payment(world: World) -> None:
    inv = world.invoice()
    pay = world.provet.add_payment(inv.id, "25.00", payment_type=1)
    world.provet.garble("invoicepayment", "repeated")
    assert world.sync().stopped is None
    assert [p.amount for p in world.live_payments() if p.reference == f"Provet payment #{pay.id}"] == [Decimal("25.00")]
    world.assert_everything_else_once()


def test_duplicate_invoice_ids_in_provets_answer_make_one_xero_invoice(world: World) -> None:
    world.provet.garble("invoice", "repeated")
    world.provet.garble("invoicerow", "repeated")
    assert world.sync().stopped is None
    world.assert_everything_else_once()
    totals = {
        d.number: d.total for d in [*world.xero.invoices(CLINIC_TENANT_ID), *world.xero.credit_notes(CLINIC_TENANT_ID)]
    }
    for inv in world.provet.invoices(status=3):
        if inv.document_number in totals:  # rows read twice would have doubled it, or held it
            assert totals[inv.document_number] == abs(inv.total_with_vat), inv.document_number


# --- Provet's answers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "mode"),
    [
        ("invoice", "html"),
        ("invoicerow", "html"),
        ("client", "truncated"),
        ("invoicepayment", "truncated"),
        ("vatgroup", "html"),
    ],
)
def test_a_spoiled_answer_stops_the_pass_cleanly_and_loses_nothing(world: World, resource: str, mode: str) -> None:
    world.provet.garble(resource, mode)
    first = world.sync()
    assert first.stopped and first.stop_kind == "error"
    _plain(first.stopped)
    assert ("not JSON" if mode == "html" else "cut off") in first.stopped
    world.provet.clear_bad_answers()
    assert world.sync().stopped is None
    world.assert_everything_else_once()
    assert world.sync().sent == {}


def test_a_10_mb_page_is_read(world: World) -> None:
    world.provet.garble("invoice", "huge")
    assert world.sync().stopped is None
    world.assert_everything_else_once()


def test_unknown_fields_are_ignored(world: World) -> None:
    inv = world.invoice()
    row_id = world.provet.invoice(inv.id).rows[0].id
    world.provet.tamper("invoice", inv.id, set={"loyalty_points": {"earned": 3}, "tags": ["vip"]})
    world.provet.tamper("invoicerow", row_id, set={"batch_number": None, "dose": [1, 2]})
    world.provet.tamper("client", inv.client_id, set={"pets": 4})
    assert world.sync().stopped is None
    assert world.xero_invoice(inv.document_number).total == inv.total_with_vat
    world.assert_everything_else_once()


def test_invoice_missing_a_field_waits_as_unreadable(world: World) -> None:
    inv = world.invoice()
    world.provet.tamper("invoice", inv.id, drop=["total_with_vat"])
    assert world.sync().stopped is None
    _clear_item(world, inv.id, "unreadable", "total_with_vat", "missing")
    world.assert_everything_else_once(inv.document_number)


def test_row_missing_a_field_holds_its_invoice(world: World) -> None:
    inv = world.invoice(rows=[row(), row("Vaccine", "30.00")])
    world.provet.tamper("invoicerow", world.provet.invoice(inv.id).rows[1].id, drop=["sum_total"])
    assert world.sync().stopped is None
    _clear_item(world, inv.id, "unreadable", "sum_total")
    world.assert_everything_else_once(inv.document_number)


@pytest.mark.parametrize(
    ("field", "value"),
    [("quantity", {"value": 1}), ("sum_total", "12,50"), ("vat_percentage", True), ("sum", "NaN")],
)
def test_row_with_a_wrong_type_holds_its_invoice(world: World, field: str, value: object) -> None:
    inv = world.invoice()
    world.provet.tamper("invoicerow", world.provet.invoice(inv.id).rows[0].id, set={field: value})
    assert world.sync().stopped is None
    _clear_item(world, inv.id, "unreadable", field)
    world.assert_everything_else_once(inv.document_number)


@pytest.mark.parametrize(
    ("field", "value"), [("status", "finalised"), ("invoice_date", 20240301), ("client", 12.5), ("credit_note", "no")]
)
def test_invoice_with_a_wrong_type_waits_as_unreadable(world: World, field: str, value: object) -> None:
    inv = world.invoice()
    world.provet.tamper("invoice", inv.id, set={field: value})
    assert world.sync().stopped is None
    _clear_item(world, inv.id, "unreadable", field)
    world.assert_everything_else_once(inv.document_number)


def test_client_with_a_wrong_type_holds_only_its_invoices(world: World) -> None:
    client = world.provet.add_client("Typed", "Wrong")
    world.provet.tamper("client", client.id, set={"firstname": ["Typed"]})
    inv = world.invoice(client_id=client.id)
    assert world.sync().stopped is None
    item = next(a for a in world.attention() if a.provet_id == str(inv.id))
    assert "client" in item.reason and "Provet" in item.reason
    _plain(item.reason)
    world.assert_everything_else_once(inv.document_number)


def test_payment_missing_its_date_waits_and_its_invoice_goes(world: World) -> None:
    inv = world.invoice()
    pay = world.provet.add_payment(inv.id, "60.00", payment_type=1)
    world.provet.tamper("invoicepayment", pay.id, drop=["payment_date", "created"])
    assert world.sync().stopped is None
    _clear_item(world, pay.id, "unreadable", "date")
    assert world.xero_invoice(inv.document_number).amount_paid == 0
    world.assert_everything_else_once()


@pytest.mark.parametrize("alone", [False, True], ids=["in_a_batch", "alone"])
def test_client_xero_refuses_holds_its_invoice_with_xeros_reason(world: World, alone: bool) -> None:
    if alone:
        world.sync()  # then the refused client is the only new contact: a batch of one
    client = world.provet.add_client("Ann", "Refused")
    world.provet.tamper("client", client.id, set={"email": "ann@localhost"})  # Xero: "Email address must be valid."
    inv = world.invoice(client_id=client.id)
    assert world.sync().stopped is None
    item = next(a for a in world.attention() if a.provet_id == str(inv.id))
    assert item.cause == "contact_rejected" and "Email address must be valid" in item.reason, item
    world.assert_everything_else_once(inv.document_number)
