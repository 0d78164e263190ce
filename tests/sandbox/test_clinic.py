"""The clinic generator: deterministic, every case the sync must handle present, amounts consistent."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from provet_xero_gui.sandbox import clinic as C
from provet_xero_gui.sandbox.clinic import Clinic, Invoice, ProvetData, VatGroup, generate_clinic


@pytest.fixture(scope="module", params=[12, 300])
def clinic(request: pytest.FixtureRequest) -> Clinic:
    return generate_clinic(seed=7, size=request.param)


def _finalised(data: ProvetData) -> list[Invoice]:
    return [i for i in data.invoices if i.status == C.INVOICE_FINALISED]


def _payments(data: ProvetData) -> list:
    return [p for i in data.invoices for p in i.payments]


def test_same_seed_same_clinic_and_other_seed_differs() -> None:
    a, b = generate_clinic(3, 60), generate_clinic(3, 60)
    assert a == b
    assert a.provet.invoices == b.provet.invoices
    assert generate_clinic(4, 60).provet.clients != a.provet.clients


def test_fixed_base_date_not_today() -> None:
    clinic = generate_clinic()
    assert clinic.now.date() == C.DEFAULT_START
    assert all(i.created < clinic.now and i.modified < clinic.now for i in clinic.provet.invoices)
    assert all(p.created < clinic.now for p in _payments(clinic.provet))


def test_clients_cover_people_companies_duplicates_and_non_ascii(clinic: Clinic) -> None:
    clients = clinic.provet.clients
    assert {c.customer_type for c in clients} >= {0, 1, 2, 4}
    names = Counter(c.display_name for c in clients)
    same = [n for n, k in names.items() if k > 1]
    assert "James Smith" in same
    shown = set(names)
    assert {"Åsa Öberg", "Zoë Ní Bhriain", "Müller GmbH"} <= shown
    assert "Tom Baker" in shown  # customer_type 0 with an organisation name shows the person
    assert "Sam Ng" in shown  # a company without organisation name falls back to the person
    assert any(c.archived for c in clients)
    assert any(not c.email for c in clients)
    assert any(len(c.phone_numbers) > 1 for c in clients)


def test_vat_groups_and_payment_methods() -> None:
    data = generate_clinic().provet
    groups = data.vat_groups
    live = [g for g in groups if not g.archived]
    assert {g.percentage for g in live} >= {Decimal(20), Decimal(5), Decimal(0)}
    assert any(g.archived for g in groups)
    by_pct = Counter(g.percentage for g in live)
    dup = [p for p, n in by_pct.items() if n > 1]
    assert dup, "two live groups share a percentage"
    for pct in dup:
        accounts = [g.account_number for g in live if g.percentage == pct]
        assert len(set(accounts)) == len(accounts)
    titles = {g.title for g in groups}
    assert "Exempt" in titles and "Zero-rated" in titles
    methods = data.payment_methods
    assert {m.payment_type for m in methods} >= set(C.PAYMENT_TYPES)
    assert "Xero payments" in {m.name for m in methods}
    assert any(m.archived for m in methods)


def _vat_group_for(groups: tuple[VatGroup, ...], pct: Decimal, account: str | None) -> list[VatGroup]:
    """The project rule of provet-api.md."""
    matches = [g for g in groups if not g.archived and g.percentage == pct]
    if len(matches) > 1:
        matches = [g for g in matches if g.account_number == account]
    return matches


def test_every_row_maps_to_exactly_one_vat_group(clinic: Clinic) -> None:
    groups = clinic.provet.vat_groups
    for row in clinic.provet.rows:
        assert len(_vat_group_for(groups, row.vat_percentage, row.account_number)) == 1, row
    assert any(r.account_number is None for r in clinic.provet.rows)
    assert any(r.vat_percentage == 0 and r.account_number == "260" for r in clinic.provet.rows)
    assert any(r.vat_percentage == 0 and r.account_number == "201" for r in clinic.provet.rows)


def test_every_invoice_kind_is_present(clinic: Clinic) -> None:
    data = clinic.provet
    inv = data.invoices
    statuses = Counter(i.status for i in inv)
    assert statuses[C.INVOICE_FINALISED] >= 12
    assert statuses[C.INVOICE_DRAFT] >= 1 and statuses[C.INVOICE_VOIDED] >= 1
    assert all(i.invoice_number is None for i in inv if i.status in (C.INVOICE_DRAFT, C.INVOICE_OPEN))
    assert all(i.invoice_number for i in inv if i.status in (C.INVOICE_FINALISED, C.INVOICE_VOIDED))
    fin = _finalised(data)
    assert any(not i.countersale and not i.credit_note and i.client_id for i in fin)
    assert any(i.countersale for i in fin)
    assert any(i.client_id is None for i in fin)
    assert any(i.invoice_prefix for i in fin) and any(not i.invoice_prefix for i in fin)
    assert {i.department_id for i in fin} == {1, 2, 3}
    assert {i.vat_calculation_method for i in fin} == {C.VAT_FROM_NET, C.VAT_FROM_GROSS}
    assert any(r.percentage_change < 0 for i in fin for r in i.rows)
    assert any(r.percentage_change > 0 for i in fin for r in i.rows)
    assert any(r.vat_percentage == 0 for i in fin for r in i.rows)
    assert any(r.price != r.price.quantize(Decimal("0.01")) for i in fin for r in i.rows)  # 4-dp prices
    assert any(i.total_with_vat == 0 for i in fin)
    numbers = [i.document_number for i in inv if i.invoice_number]
    assert len(numbers) == len(set(numbers))


def test_payments_full_partial_several_and_methods(clinic: Clinic) -> None:
    fin = [i for i in _finalised(clinic.provet) if not i.credit_note]
    assert any(i.due_sum == 0 and i.payments for i in fin)
    assert any(0 < i.due_sum < i.total_with_vat and i.payments for i in fin)
    assert any(not i.payments and i.due_sum > 0 for i in fin)
    assert any(len([p for p in i.payments if p.payment_type not in (6, 8, 12)]) >= 3 for i in fin)
    pays = _payments(clinic.provet)
    assert any(p.payment_method_id is None for p in pays)
    assert any(p.payment_method_id == C.STRIPE_METHOD for p in pays)
    methods = {m.id: m for m in clinic.provet.payment_methods}
    for p in pays:
        if p.payment_method_id is not None:
            assert methods[p.payment_method_id].payment_type == p.payment_type
    assert all(p.status == C.PAYMENT_REGISTERED for p in pays)


def test_prepayments_used_and_unused(clinic: Clinic) -> None:
    data = clinic.provet
    pre = {u.id: u for u in data.unallocated_payments}
    used = [p for p in _payments(data) if p.payment_type == C.PT_PREPAYMENT]
    assert used
    used_ids = {int(p.info.split("#")[1]) for p in used}
    assert used_ids <= set(pre)
    assert any(pre[i].paid == 0 for i in used_ids)  # used in full
    assert any(pre[i].paid > 0 for i in used_ids)  # used in part
    assert any(u.id not in used_ids for u in pre.values())  # never used
    for u in pre.values():
        assert u.client_id in {c.id for c in data.clients}


def test_credit_notes(clinic: Clinic) -> None:
    data = clinic.provet
    notes = [i for i in data.invoices if i.credit_note]
    assert len(notes) >= 3
    assert any(n.total_with_vat < 0 for n in notes) and any(n.total_with_vat > 0 for n in notes)
    rows = {r.id: r for r in data.rows}
    for n in notes:
        orig = data.invoice(n.credit_note_original_invoice_id)
        assert orig.id < n.id and not orig.credit_note
        for r in n.rows:
            assert rows[r.credited_invoicerow_id].invoice_id == orig.id
        assert n.due_sum == 0
    assert any(p.payment_type == C.PT_CREDIT_INVOICE for n in notes for p in n.payments)
    assert any(p.payment_type == C.PT_TRANSFER and p.paid < 0 for n in notes for p in n.payments)  # a refund


def test_consolidated_invoice(clinic: Clinic) -> None:
    data = clinic.provet
    cons = [i for i in data.invoices if i.consolidated_invoice]
    assert cons
    for c in cons:
        gathered = [data.invoice(g) for g in c.consolidated_invoice_ids]
        assert len(gathered) >= 2
        assert c.total_with_vat == sum(g.total_with_vat for g in gathered)
        assert c.total_vat == sum(g.total_vat for g in gathered)
        for g in gathered:
            assert g.related_consolidated_invoice_id == c.id and g.client_id == c.client_id
            assert [p.payment_type for p in g.payments] == [C.PT_CONSOLIDATED]
            assert g.payments[0].paid == g.total_with_vat and g.due_sum == 0
    assert any(p.payment_type == C.PT_TRANSFER for c in cons for p in c.payments)


def test_amounts_are_consistent(clinic: Clinic) -> None:
    cent = Decimal("0.01")
    for inv in clinic.provet.invoices:
        for r in inv.rows:
            assert r.sum_total == r.sum + r.sum_vat
            for amount in (r.sum, r.sum_vat, r.sum_total):
                assert amount == amount.quantize(cent) and amount.as_tuple().exponent == -2
            unit = r.price_with_vat if inv.vat_calculation_method == C.VAT_FROM_GROSS else r.price
            again = C.compute_row(r.quantity, unit, r.vat_percentage, r.percentage_change, inv.vat_calculation_method)
            assert (again.sum, again.sum_vat, again.sum_total) == (r.sum, r.sum_vat, r.sum_total)
        assert inv.total == sum((r.sum for r in inv.rows), Decimal(0))
        assert inv.total_vat == sum((r.sum_vat for r in inv.rows), Decimal(0))
        assert inv.total_with_vat == inv.total + inv.total_vat
        paid = sum((p.paid for p in inv.payments if p.status == C.PAYMENT_REGISTERED), Decimal(0))
        assert inv.due_sum == inv.total_with_vat - paid
        for amount in (inv.total, inv.total_vat, inv.total_with_vat, inv.due_sum):
            assert amount.as_tuple().exponent == -2
        if inv.status == C.INVOICE_FINALISED and not inv.credit_note:
            assert inv.due_sum >= 0
            assert (inv.date_paid is not None) == (inv.due_sum == 0)


def test_rounding_cases_need_a_rounding_line() -> None:
    data = generate_clinic().provet
    fin = _finalised(data)
    on_total = [i for i in fin if len({r.vat_percentage for r in i.rows}) == 1 and i.rows
                and C.q2(i.total * i.rows[0].vat_percentage / 100) != i.total_vat]  # fmt: skip
    assert on_total, "an invoice whose VAT on the total differs from the sum of row VAT"
    exclusive = [r for i in fin if i.vat_calculation_method == C.VAT_FROM_GROSS for r in i.rows
                 if C.q2(r.sum * r.vat_percentage / 100) != r.sum_vat]  # fmt: skip
    assert exclusive, "a gross-priced row whose VAT recomputed from net is a penny off"


def test_ids_and_stamps_ordered() -> None:
    data = generate_clinic(size=200).provet
    ids = [i.id for i in data.invoices]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(a.created <= b.created for a, b in zip(data.invoices, data.invoices[1:], strict=False))
    pays = data.payments
    assert len({p.id for p in pays}) == len(pays)
    for inv in data.invoices:
        assert inv.modified >= inv.created
        assert all(p.created <= inv.modified for p in inv.payments)


def test_xero_seed_matches_the_clinic() -> None:
    clinic = generate_clinic()
    orgs = clinic.xero.organisations
    assert [o.name for o in orgs] == ["Happy Paws Veterinary Ltd", "Happy Paws Group (test)"]
    assert orgs[0].tenant_id == C.CLINIC_TENANT_ID
    main = orgs[0]
    types = {t.tax_type: t for t in main.tax_rates}
    assert {"OUTPUT2", "RROUTPUT", "ZERORATEDOUTPUT", "EXEMPTOUTPUT"} <= set(types)
    assert any(t.status == "ARCHIVED" for t in main.tax_rates)
    accounts = {a.code: a for a in main.accounts}
    row_accounts = {r.account_number for r in clinic.provet.rows if r.account_number}
    assert row_accounts <= set(accounts)
    assert accounts["090"].type == "BANK"
    assert accounts["610"].enable_payments
    assert "860" in accounts
    assert any(a.status == "ARCHIVED" for a in main.accounts)
    names = {c.display_name: c for c in clinic.provet.clients}
    clash = [c for c in main.contacts if c.name in names]
    assert len(clash) == 1 and clash[0].email != names[clash[0].name].email


def test_size_scales() -> None:
    small = generate_clinic(size=12).provet
    big = generate_clinic(size=1000).provet
    n = len(_finalised(big))
    assert 950 <= n <= 1150
    assert len(big.clients) > 5 * len(small.clients)
    assert len(big.unallocated_payments) > len(small.unallocated_payments)
    assert sum(i.consolidated_invoice for i in big.invoices) > 1


def test_ten_thousand_invoices_each_numbered_once_with_a_known_client() -> None:
    """What a clinic-size clinic holds (how fast it is made is benchmarks/run.py's to report)."""
    data = generate_clinic(seed=2, size=10_000).provet
    fin = _finalised(data)
    assert len(fin) >= 10_000
    numbers = Counter(i.document_number for i in fin)
    assert max(numbers.values()) == 1
    client_ids = {c.id for c in data.clients}
    assert all(i.client_id in client_ids for i in fin if i.client_id is not None)
    assert sum(i.client_id is None for i in fin) > 0  # anonymous sales are there at this size too


@pytest.mark.slow
def test_fifty_thousand_invoices_each_numbered_once() -> None:
    data = generate_clinic(seed=2, size=50_000).provet
    fin = _finalised(data)
    assert len(fin) >= 50_000
    assert max(Counter(i.document_number for i in fin).values()) == 1
