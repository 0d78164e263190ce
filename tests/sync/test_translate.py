"""Translation rules, and property tests: Xero's total equals Provet's to the cent."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from provet_xero_gui.mapping import Mapping
from provet_xero_gui.provet.records import Invoice, InvoiceRow, VatGroup
from provet_xero_gui.sync.translate import Hold, XeroDocument, rounding_tolerance, translate
from provet_xero_gui.xero.reference import Account, Organisation, TaxRate, XeroReference

CENT = Decimal("0.01")
GROUPS = (
    VatGroup(1, "Standard 20%", Decimal("20"), False, "3000"),
    VatGroup(2, "Reduced 5%", Decimal("5"), False, "3000"),
    VatGroup(3, "Zero", Decimal("0"), False, "3000"),
    VatGroup(4, "Old 17.5%", Decimal("17.5"), True, "3000"),
    VatGroup(5, "Reduced 12.5%", Decimal("12.5"), False, "3000"),
)
XERO = XeroReference(
    Organisation("Happy Paws", "GBP", date(2026, 1, 31), None),
    (
        TaxRate("OUTPUT2", "20% (VAT on Income)", Decimal("20"), "ACTIVE", True),
        TaxRate("RROUTPUT", "5% (VAT on Income)", Decimal("5"), "ACTIVE", True),
        TaxRate("ZERORATEDOUTPUT", "Zero Rated Income", Decimal("0"), "ACTIVE", True),
        TaxRate("R125", "12.5%", Decimal("12.5"), "ACTIVE", True),
        TaxRate("NONE", "No VAT", Decimal("0"), "ACTIVE", True),
    ),
    (Account("200", "Sales", "REVENUE", "ACTIVE", False), Account("860", "Rounding", "EXPENSE", "ACTIVE", False)),
)
MAPPING = Mapping(
    vat_groups={"1": "OUTPUT2", "2": "RROUTPUT", "3": "ZERORATEDOUTPUT", "5": "R125"},
    default_sales_account="200",
    rounding_account="860",
)


def q2(v: Decimal) -> Decimal:
    return v.quantize(CENT, rounding=ROUND_HALF_UP)


def provet_row(i: int, qty: Decimal, price: Decimal, pc: Decimal, vat: Decimal, gross: bool) -> InvoiceRow:
    """A row as Provet computes it (the rule of the clinic generator)."""
    factor = (100 + pc) / 100
    if gross:
        pwv = price
        total = q2(qty * pwv * factor)
        tax = q2(total * vat / (100 + vat))
        net_sum = total - tax
        net_price = (pwv * 100 / (100 + vat)).quantize(Decimal("0.0001"))
    else:
        net_price = price
        net_sum = q2(qty * price * factor)
        tax = q2(net_sum * vat / 100)
        total = net_sum + tax
        pwv = (price * (100 + vat) / 100).quantize(Decimal("0.0001"))
    return InvoiceRow(i, 10, f"Item {i}", qty, net_price, pwv, net_sum, tax, total, pc, vat, "200")


def invoice(rows: list[InvoiceRow], *, credit: bool = False, gross: bool = False, **kw) -> Invoice:
    total = sum((r.sum for r in rows), Decimal(0))
    vat = sum((r.sum_vat for r in rows), Decimal(0))
    fields = dict(
        id=10, invoice_number="1042", invoice_prefix="INV", status=3, invoice_date=date(2026, 10, 5),
        invoice_due_date=date(2026, 10, 19), modified=None, client_id=7, department_id=None, total=total,
        total_vat=vat, total_with_vat=total + vat, due_sum=total + vat, countersale=False, credit_note=credit,
        credit_note_original_invoice_id=9 if credit else None, consolidated_invoice=False,
        consolidated_invoice_ids=(), related_consolidated_invoice_id=None,
        vat_calculation_method=1 if gross else 0, remarks="", currency="",
    )
    fields.update(kw)
    return Invoice(**fields)


def xero_total(doc: XeroDocument) -> Decimal:
    """Xero's arithmetic, written out independently: line amount then per-line tax, both rounded."""
    rates = {t.tax_type: t.rate for t in XERO.tax_rates}
    total = Decimal(0)
    for line in doc.lines:
        amount = q2(line.quantity * line.unit_amount * (100 - (line.discount_rate or 0)) / 100)
        rate = rates[line.tax_type]
        own = q2(amount * rate / (100 + rate)) if doc.line_amount_types == "Inclusive" else q2(amount * rate / 100)
        if line.tax_amount is not None:  # Xero takes the given TaxAmount only within a cent of its own
            assert abs(line.tax_amount - own) <= CENT
            own = line.tax_amount
        if doc.line_amount_types == "Inclusive":
            total += amount
        else:
            total += amount + own
    return total


rows_strategy = st.lists(
    st.tuples(
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("250"), places=2),  # quantity
        st.decimals(min_value=Decimal("0"), max_value=Decimal("9999"), places=4),  # unit price
        st.sampled_from([Decimal(0), Decimal(-10), Decimal("-12.5"), Decimal(-100), Decimal(5), Decimal("7.5")]),
        st.sampled_from([Decimal(20), Decimal(5), Decimal(0), Decimal("12.5")]),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(rows=rows_strategy, gross=st.booleans(), credit=st.booleans())
def test_xero_total_equals_provet_total_to_the_cent(rows, gross: bool, credit: bool) -> None:
    sign = Decimal(-1) if credit else Decimal(1)
    prow = [provet_row(i, q * sign, p, pc, v, gross) for i, (q, p, pc, v) in enumerate(rows, start=1)]
    inv = invoice(prow, credit=credit, gross=gross)
    doc = translate(inv, prow, "contact-1", MAPPING, GROUPS, XERO)
    assert isinstance(doc, XeroDocument), doc
    assert doc.total == abs(q2(inv.total_with_vat)) == xero_total(doc)
    assert all(line.quantity * line.unit_amount >= 0 or line.description == "Rounding" for line in doc.lines)
    rounding = [line for line in doc.lines if line.description == "Rounding"]
    assert len(rounding) <= 1
    assert all(abs(line.unit_amount) <= rounding_tolerance(prow) for line in rounding)
    if not credit and all(pc <= 0 for _q, _p, pc, _v in rows):
        # discounts map onto DiscountRate exactly: only surcharges (and a credit note's discounts) can need one
        assert not rounding
    if credit:
        assert all(line.discount_rate is None for line in doc.lines)  # Xero: no discounts on credit notes


def test_invoice_payload_fields() -> None:
    rows = [provet_row(1, Decimal(2), Decimal("12.50"), Decimal(-10), Decimal(20), False)]
    doc = translate(invoice(rows), rows, "c-1", MAPPING, GROUPS, XERO, url="https://provet.example/4321/api/0.1/invoice/10/")
    assert isinstance(doc, XeroDocument)
    body = doc.to_json()
    assert body["Type"] == "ACCREC" and body["InvoiceNumber"] == "INV-1042"
    assert body["Date"] == "2026-10-05" and body["DueDate"] == "2026-10-19"
    assert body["Reference"] == "Provet #10" and body["Url"].endswith("/invoice/10/")
    assert body["LineAmountTypes"] == "Exclusive" and body["Status"] == "AUTHORISED"
    line = body["LineItems"][0]
    assert line == {
        "Description": "Item 1", "Quantity": 2.0, "UnitAmount": 12.5, "AccountCode": "200",
        "TaxType": "OUTPUT2", "DiscountRate": 10.0, "TaxAmount": 4.5,
    }


def test_credit_note_goes_positive_with_its_own_number_field() -> None:
    rows = [provet_row(1, Decimal(-1), Decimal("40"), Decimal(0), Decimal(20), False)]
    doc = translate(invoice(rows, credit=True, invoice_prefix="CR"), rows, "c-1", MAPPING, GROUPS, XERO)
    assert isinstance(doc, XeroDocument)
    body = doc.to_json()
    assert body["Type"] == "ACCRECCREDIT" and body["CreditNoteNumber"] == "CR-1042" and "InvoiceNumber" not in body
    assert doc.total == Decimal("48.00")


def test_number_alone_without_prefix() -> None:
    rows = [provet_row(1, Decimal(1), Decimal("10"), Decimal(0), Decimal(20), False)]
    doc = translate(invoice(rows, invoice_prefix=""), rows, "c", MAPPING, GROUPS, XERO)
    assert isinstance(doc, XeroDocument) and doc.number == "1042"


def test_holds_have_plain_reasons() -> None:
    rows = [provet_row(1, Decimal(1), Decimal("10"), Decimal(0), Decimal(20), False)]
    unmapped = Mapping(default_sales_account="200", rounding_account="860")
    hold = translate(invoice(rows), rows, "c", unmapped, GROUPS, XERO)
    assert isinstance(hold, Hold) and hold.cause == "vat_group_unmapped"
    assert "'Standard 20%' is not mapped" in hold.reason and "Retry" in hold.fix

    odd = [provet_row(1, Decimal(1), Decimal("10"), Decimal(0), Decimal(7), False)]
    hold = translate(invoice(odd), odd, "c", MAPPING, GROUPS, XERO)
    assert isinstance(hold, Hold) and hold.cause == "vat_group_unknown" and "7%" in hold.reason

    hold = translate(invoice(rows, invoice_date=date(2026, 1, 31)), rows, "c", MAPPING, GROUPS, XERO)
    assert isinstance(hold, Hold) and hold.cause == "lock_date"

    hold = translate(invoice([]), [], "c", MAPPING, GROUPS, XERO)
    assert isinstance(hold, Hold) and hold.cause == "empty"
    hold = translate(invoice([], total_with_vat=Decimal("50.00")), [], "c", MAPPING, GROUPS, XERO)
    assert isinstance(hold, Hold) and hold.cause == "no_rows" and "50.00" in hold.reason

    hold = translate(invoice(rows, currency="EUR"), rows, "c", MAPPING, GROUPS, XERO)
    assert isinstance(hold, Hold) and hold.cause == "currency"

    neg = [provet_row(1, Decimal(-1), Decimal("10"), Decimal(0), Decimal(20), False)]
    hold = translate(invoice(neg), neg, "c", MAPPING, GROUPS, XERO)
    assert isinstance(hold, Hold) and hold.cause == "negative_invoice"


def test_same_percentage_groups_are_told_apart_by_account_number() -> None:
    groups = (*GROUPS, VatGroup(6, "Standard 20% (shop)", Decimal("20"), False, "3100"))
    mapping = Mapping(vat_groups={"1": "OUTPUT2", "6": "RROUTPUT"}, default_sales_account="200", rounding_account="860")
    shop = provet_row(1, Decimal(1), Decimal("10"), Decimal(0), Decimal(20), False)
    shop = InvoiceRow(**{**shop.__dict__, "account_number": "3100"})
    doc = translate(invoice([shop]), [shop], "c", mapping, groups, XERO)
    # 3100 is no Xero code, so the default sales account is used; the VAT group is the shop's one.
    assert isinstance(doc, Hold) or doc.lines[0].tax_type == "RROUTPUT"
    unknown = InvoiceRow(**{**shop.__dict__, "account_number": "9999"})
    hold = translate(invoice([unknown]), [unknown], "c", mapping, groups, XERO)
    assert isinstance(hold, Hold) and "several VAT groups" in hold.reason


def test_a_large_difference_is_held_not_hidden_in_a_rounding_line() -> None:
    row = provet_row(1, Decimal(1), Decimal("10"), Decimal(0), Decimal(20), False)
    broken = InvoiceRow(**{**row.__dict__, "sum_total": Decimal("15.00")})
    inv = invoice([broken], total_with_vat=Decimal("15.00"))
    hold = translate(inv, [broken], "c", MAPPING, GROUPS, XERO)
    assert isinstance(hold, Hold) and hold.cause == "amounts_differ"


def test_a_credit_notes_discount_goes_into_the_unit_price_not_discount_rate() -> None:
    """Xero's schema: credit notes do not support DiscountRate. The discount is folded into the price and the
    rounding line keeps Provet's total to the cent."""
    rows = [provet_row(1, Decimal(-3), Decimal("19.99"), Decimal("-12.5"), Decimal(20), False),
            provet_row(2, Decimal(-1), Decimal("40"), Decimal(-100), Decimal(20), False)]
    inv = invoice(rows, credit=True)
    doc = translate(inv, rows, "c-1", MAPPING, GROUPS, XERO)
    assert isinstance(doc, XeroDocument)
    lines = doc.to_json()["LineItems"]
    assert all("DiscountRate" not in line and "DiscountAmount" not in line for line in lines)
    assert (lines[0]["Quantity"], lines[0]["UnitAmount"]) == (3.0, 17.4913)  # 19.99 less 12.5 %
    assert lines[1]["UnitAmount"] == 0.0
    # 3 x 19.99 x 0.875 = 52.47 + VAT 10.49, as Provet has it
    assert doc.total == -inv.total_with_vat == xero_total(doc) == Decimal("62.96")


def test_provets_vat_per_row_goes_as_the_lines_tax_amount_where_xero_takes_it() -> None:
    """Xero would work out 2.58 VAT on this row (its line is 12.88 against Provet's 12.87); Provet says 2.57.
    The line carries Provet's VAT, so Xero's VAT equals Provet's; the rounding line keeps the total."""
    row = provet_row(1, Decimal(3), Decimal("4.0109"), Decimal(7), Decimal(20), False)
    assert (row.sum, row.sum_vat) == (Decimal("12.87"), Decimal("2.57"))
    inv = invoice([row])
    doc = translate(inv, [row], "c-1", MAPPING, GROUPS, XERO)
    assert isinstance(doc, XeroDocument)
    assert doc.lines[0].tax_amount == Decimal("2.57") and doc.to_json()["LineItems"][0]["TaxAmount"] == 2.57
    assert doc.total_tax == inv.total_vat == Decimal("2.57")
    assert doc.total == xero_total(doc) == inv.total_with_vat

