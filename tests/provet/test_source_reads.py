"""ProvetSource reads against the Provet sandbox: typed records, deltas since a cursor, id__gt paging,
and unreadable records kept apart instead of stopping the read."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from provet_xero_gui.provet import records as R
from provet_xero_gui.provet.client import ProvetClient, ProvetError
from provet_xero_gui.provet.limits import ProvetLimiter
from provet_xero_gui.provet.source import BadRecord, ProvetSource, ReadBatch, max_modified
from provet_xero_gui.sandbox import clinic as C
from provet_xero_gui.sandbox import provet_server
from provet_xero_gui.sandbox.clinic import generate_clinic
from provet_xero_gui.sandbox.clock import SandboxClock
from provet_xero_gui.sandbox.provet_server import ProvetSandbox

from .conftest import make_client


def _open_finalised(provet: ProvetSandbox) -> list[C.Invoice]:
    return [
        i
        for i in provet.invoices(R.INVOICE_FINALISED)
        if i.due_sum > 0 and not i.credit_note and not i.consolidated_invoice
    ]


# ------------------------------------------------------------------------------------- reference data


def test_reference_data(source: ProvetSource, provet: ProvetSandbox) -> None:
    vat = source.vat_groups()
    assert isinstance(vat, ReadBatch) and not vat.bad
    assert [v.id for v in vat.records] == [v.id for v in provet.snapshot().vat_groups]
    reduced = next(v for v in vat.records if v.title == "Reduced 5%")
    assert reduced.percentage == Decimal("5.00") and not reduced.archived
    assert any(v.archived for v in vat.records)
    methods = source.payment_methods()
    assert {m.name for m in methods.records} >= {"Xero payments", "Card", "Stripe terminal"}
    assert next(m for m in methods.records if m.name == "Xero payments").payment_type == 11
    assert source.departments().records[0].name == "Happy Paws Main Street"
    assert vat.cursor is None  # these lists carry no `modified`


# ------------------------------------------------------------------------------------------ invoices


def test_changed_invoices_full_read_is_typed_and_complete(source: ProvetSource, provet: ProvetSandbox) -> None:
    batch = source.changed_invoices(None)
    want = [i for i in provet.invoices() if i.status in (3, 99)]
    assert [i.id for i in batch.records] == [i.id for i in want]
    assert not batch.bad
    first = batch.records[0]
    assert isinstance(first, R.Invoice) and first.status == 3 and first.document_number
    assert first.row_ids == tuple(r.id for r in want[0].rows)
    assert first.payment_ids == tuple(p.id for p in want[0].payments)
    assert batch.cursor == max(i.modified for i in want) == max_modified(batch.records)
    only_final = source.changed_invoices(None, statuses=(3,))
    assert all(i.status == 3 for i in only_final.records) and len(only_final.records) == len(want) - 1


def test_changed_invoices_since_a_cursor_are_exactly_the_changed_ones(
    source: ProvetSource, provet: ProvetSandbox
) -> None:
    since = provet.state.stamp()  # every stamp before is earlier, every later one is later
    assert source.changed_invoices(since).records == ()
    target = _open_finalised(provet)[0]
    provet.add_payment(target.id, "1.00", payment_type=C.PT_CASH)
    provet.finalise_invoice(26)  # draft/open → finalised
    provet.void_invoice(23)
    new = provet.add_invoice(3, [C.row_spec(C.CATALOG[0], C.VAT_FROM_NET)])
    provet.add_invoice(4, [C.row_spec(C.CATALOG[0], C.VAT_FROM_NET)], finalise=False)  # a draft: not read
    batch = source.changed_invoices(since)
    assert [i.id for i in batch.records] == sorted({target.id, 26, 23, new.id})
    assert {i.id: i.status for i in batch.records}[23] == R.INVOICE_VOIDED
    assert batch.cursor == max(provet.invoice(i).modified for i in (target.id, 26, 23, new.id))
    # the cursor itself is "at or after": the newest change is read again, nothing older
    again = source.changed_invoices(batch.cursor)
    assert [i.id for i in again.records] == [max((target.id, 26, 23, new.id), key=lambda i: provet.invoice(i).modified)]


def test_invoices_by_id_chunked(provet: ProvetSandbox, client: ProvetClient) -> None:
    source = ProvetSource(client, id_chunk=4)
    batch = source.invoices([3, 1, 2, 24, 9, 10, 11, 12, 13, 999, 3])
    assert [i.id for i in batch.records] == [1, 2, 3, 9, 10, 11, 12, 13, 24]  # 999 does not exist
    assert batch.ids == frozenset({1, 2, 3, 9, 10, 11, 12, 13, 24})
    assert client.calls["GET /invoice/"] == 3  # ten distinct ids in chunks of four
    assert source.invoices([]).records == ()


def test_rows_and_payments_grouped_by_invoice(provet: ProvetSandbox, client: ProvetClient) -> None:
    source = ProvetSource(client, id_chunk=3, page_size=2, max_page_size=4)  # several chunks and pages
    ids = [1, 2, 4, 9, 13, 24]
    rows = source.rows_for(ids)
    assert set(rows) == set(ids) and not rows.bad
    for iid in ids:
        assert [r.id for r in rows[iid]] == [r.id for r in provet.invoice(iid).rows]
    row = rows[9][0]
    assert isinstance(row, R.InvoiceRow) and row.invoice_id == 9
    assert row.sum_total == provet.invoice(9).rows[0].sum_total
    pays = source.payments_for(ids)
    assert pays[9] == () and pays[24] == ()
    assert [p.id for p in pays[4]] == [p.id for p in provet.payments_for(4)]
    assert all(isinstance(p, R.Payment) for p in pays[4])


def test_changed_payments_include_new_and_cancelled(source: ProvetSource, provet: ProvetSandbox) -> None:
    since = provet.state.stamp()
    target = _open_finalised(provet)[0]
    new = provet.add_payment(target.id, "2.50", payment_type=C.PT_CARD)
    old = provet.payments_for(4)[0]
    provet.cancel_payment(old.id)
    batch = source.changed_payments(since)
    assert [p.id for p in batch.records] == sorted({new.id, old.id})
    by_id = {p.id: p for p in batch.records}
    assert by_id[new.id].paid == Decimal("2.50") and by_id[new.id].status == R.PAYMENT_REGISTERED
    assert by_id[old.id].status == 99
    assert batch.cursor == provet.payment(old.id).modified


def test_changed_clients_and_phone_numbers(source: ProvetSource, provet: ProvetSandbox) -> None:
    since = provet.state.stamp()
    provet.edit_client(3, email="buchhaltung@mueller.example")
    phone = provet.add_phone_number(7, "+44 7700 900123")
    added = provet.add_client("Neu", "Kundin", email="neu@example.net")
    batch = source.changed_clients(since)
    assert [c.id for c in batch.records] == [3, 7, added.id]
    by_id = {c.id: c for c in batch.records}
    assert by_id[3].email == "buchhaltung@mueller.example" and by_id[3].display_name == "Müller GmbH"
    assert phone.id in by_id[7].phone_ids
    numbers = source.phone_numbers(by_id[7].phone_ids)
    assert [p.phone_number for p in numbers.records] == ["+44 7700 900123"] and numbers.records[0].client_id == 7
    assert [c.id for c in source.clients([2, 1]).records] == [1, 2]


def test_unallocated_payments(source: ProvetSource, provet: ProvetSandbox) -> None:
    every = source.unallocated_payments()
    assert [u.id for u in every.records] == [u.id for u in provet.unallocated_payments()]
    assert isinstance(every.records[0], R.UnallocatedPayment)
    since = provet.state.stamp()
    pre = provet.add_prepayment(5, "40.00")
    changed = source.unallocated_payments(since)
    assert [(u.id, u.client_id, u.paid) for u in changed.records] == [(pre.id, 5, Decimal("40.00"))]
    assert [u.client_id for u in source.unallocated_payments(client_ids=[10]).records] == [10]


def test_since_must_have_a_timezone(source: ProvetSource) -> None:
    with pytest.raises(ValueError, match="timezone"):
        source.changed_clients(datetime(2026, 1, 1))  # no timezone: refused


# -------------------------------------------------------------------------------------------- paging


def test_pages_by_id_past_the_offset_limit(provet: ProvetSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(provet_server, "MAX_OFFSET", 12)  # the sandbox refuses offsets ≥ 12 from now on
    client = make_client(provet)
    with pytest.raises(ProvetError, match="id__gt"):
        list(client.iter_pages("invoice/", page_size=5))  # plain page numbers stop at the limit
    source = ProvetSource(client, page_size=5, max_page_size=5)
    batch = source.changed_invoices(None, statuses=(0, 2, 3, 99))
    assert [i.id for i in batch.records] == [i.id for i in provet.invoices()]
    assert source.pages_read == 6  # 26 invoices in pages of 5


def test_later_pages_ask_for_just_what_is_left(provet: ProvetSandbox, client: ProvetClient) -> None:
    source = ProvetSource(client)  # 50, then what `count` says is left in steps of 50
    for _ in range(60):
        provet.add_invoice(1, [C.row_spec(C.CATALOG[1], C.VAT_FROM_NET)])
    batch = source.changed_invoices(None)
    assert len(batch.records) == 83 and source.pages_read == 2
    assert client.cost["GET /invoice/"] == 2  # 50 + 33 (asked as 50): two calls' worth, no more


def test_more_than_ten_thousand_results(provet: ProvetSandbox) -> None:
    """10,100 finalised invoices (copies of one, made straight in the tables) read in full."""
    provet.rate_limits = False  # 211 calls' worth of /invoice/ budget: pacing is tested elsewhere
    table = provet.state.tables["invoice"]
    template = dict(table[24], status=3, invoice_row=[], invoice_payment=[], client=None)
    start_id = max(table) + 1
    for n in range(10_100):
        table[start_id + n] = dict(template, id=start_id + n, invoice_number=str(50_000 + n))
    source = ProvetSource(make_client(provet, limiter=ProvetLimiter(get_limits={"invoice": 1000})))
    batch = source.changed_invoices(None, statuses=(3,))
    assert len(batch.records) == 22 + 10_100 and not batch.bad
    ids = [i.id for i in batch.records]
    assert ids == sorted(set(ids)) and ids[-1] == start_id + 10_099
    assert source.pages_read == 1 + 21  # 50, then pages of 500


# --------------------------------------------------------------------------------------- bad records


def _break_render(monkeypatch: pytest.MonkeyPatch, provet: ProvetSandbox, resource: str, rid: int, change: Any) -> None:
    """Make the sandbox send record `rid` of `resource` changed by `change(rendered) -> new value`."""
    real = provet._render

    def render(res: str, rec: dict[str, Any], expose: frozenset[str] = frozenset()) -> Any:
        out = real(res, rec, expose)
        return change(out) if res == resource and rec["id"] == rid else out

    monkeypatch.setattr(provet, "_render", render)


def test_a_bad_invoice_does_not_stop_the_others(
    source: ProvetSource, provet: ProvetSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    provet.state.tables["invoice"][2]["countersale"] = "yes"  # wrong type
    provet.state.tables["invoice"][5]["vat_calculation_method"] = "gross"
    _break_render(monkeypatch, provet, "invoice", 7, lambda d: {k: v for k, v in d.items() if k != "total"})
    batch = source.changed_invoices(None)
    assert {b.id for b in batch.bad} == {2, 5, 7}
    assert 2 not in batch.ids and 7 not in batch.ids and 1 in batch.ids and 8 in batch.ids
    assert len(batch.records) + len(batch.bad) == 23
    bad = {b.id: b for b in batch.bad}
    assert bad[2] == BadRecord("invoice", 2, "invoice 2: field 'countersale' should be true or false, not 'yes'", 2)
    assert "field 'total' is missing" in bad[7].message and bad[7].resource == "invoice"
    assert batch.cursor == max(i.modified for i in provet.invoices() if i.status in (3, 99))  # bad ones count too


def test_a_record_that_is_not_an_object(
    source: ProvetSource, provet: ProvetSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    _break_render(monkeypatch, provet, "client", 4, lambda d: "<client 4>")
    batch = source.clients([3, 4, 5])
    assert [c.id for c in batch.records] == [3, 5]
    assert batch.bad == (BadRecord("client", None, "client ? is not a JSON object"),)


def test_bad_rows_and_payments_name_their_invoice(
    source: ProvetSource, provet: ProvetSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = provet.invoice(9).rows[1]
    provet.state.tables["invoicerow"][row.id]["name"] = {"en": "Consultation"}
    pay = provet.payments_for(4)[1]
    provet.state.tables["invoicepayment"][pay.id]["payment_type"] = "card"
    rows = source.rows_for([8, 9])
    assert [r.id for r in rows[9]] == [r.id for r in provet.invoice(9).rows if r.id != row.id]
    assert rows.bad_for(8) == () and [b.id for b in rows.bad_for(9)] == [row.id]
    assert "field 'name' should be text" in rows.bad_for(9)[0].message
    pays = source.payments_for([4])
    assert [b.id for b in pays.bad_for(4)] == [pay.id] and len(pays[4]) == len(provet.payments_for(4)) - 1
    assert pays.unplaced == ()


def test_cursor_helpers() -> None:
    a = R.Department(1, "x")
    assert max_modified([]) is None
    when = datetime(2026, 1, 1, tzinfo=UTC)
    assert max_modified([], start=when) == when
    assert ReadBatch((a,)).ids == frozenset({1}) and len(ReadBatch((a,))) == 1


def test_bigger_clinic_reads_every_finalised_invoice_once() -> None:
    clinic = generate_clinic(seed=2, size=200)
    with ProvetSandbox(clinic.provet, SandboxClock(start=clinic.now, scale=600)) as provet:
        source = ProvetSource(make_client(provet))
        batch = source.changed_invoices(None, statuses=(3,))
        assert [i.id for i in batch.records] == [i.id for i in provet.invoices(3)]
        rows = source.rows_for(batch.ids)
        assert sum(len(v) for v in rows.values()) == sum(len(i.rows) for i in provet.invoices(3))
        for inv in batch.records:
            assert tuple(r.id for r in rows[inv.id]) == inv.row_ids
