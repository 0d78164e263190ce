"""The mapping: its JSON file (round trip, every refusal in plain words), the check against Xero, what a
sample of invoices uses, and the suggestion from Xero's tax rates and accounts. Pure: no network."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from provet_xero_gui.mapping import (
    Mapping,
    MappingError,
    MappingFile,
    MappingProblem,
    check_mapping,
    parse_mapping_text,
    suggest_mapping,
    usage_of,
)
from provet_xero_gui.provet.records import InvoiceRow, Payment, PaymentMethod, VatGroup
from provet_xero_gui.xero.reference import Account, Organisation, TaxRate, XeroReference

# The sandbox clinic's reference data (sandbox/clinic.py), as the app reads it.
GROUPS = [
    VatGroup(1, "Standard 20%", Decimal("20"), False, "200"),
    VatGroup(2, "Standard 20% – products", Decimal("20"), False, "201"),
    VatGroup(3, "Reduced 5%", Decimal("5"), False, "201"),
    VatGroup(4, "Zero-rated", Decimal("0"), False, "201"),
    VatGroup(5, "Exempt", Decimal("0"), False, "260"),
    VatGroup(6, "Standard 20% (old series)", Decimal("20"), True, "200"),
]
_TYPES = ["Card", "Cash", "Bank transfer", "Rounding", "Cheque", "Voucher", "Consolidated invoice", "Mobile payment",
          "Prepayment", "Gift card", "Finance", "Other", "Credit invoice"]
METHODS = [PaymentMethod(i + 1, name, i, False) for i, name in enumerate(_TYPES)] + [
    PaymentMethod(14, "Insurance claim", 15, False),
    PaymentMethod(15, "Stripe terminal", 0, False),
    PaymentMethod(16, "Petplan direct claim", 15, False),
    PaymentMethod(17, "Xero payments", 11, False),
    PaymentMethod(18, "PayPal Here", 7, False),
    PaymentMethod(19, "Vet4Pets voucher (discontinued)", 5, True),
]


def _rate(tax_type: str, name: str, pct: str, status: str = "ACTIVE", revenue: bool = True) -> TaxRate:
    return TaxRate(tax_type, name, Decimal(pct), status, revenue)


def _account(code: str, name: str, kind: str, tax: str = "", status: str = "ACTIVE", pay: bool = False) -> Account:
    return Account(code, name, kind, status, pay, tax)


XERO = XeroReference(
    Organisation("Happy Paws Veterinary Ltd", "GBP", None, None),
    (
        _rate("OUTPUT2", "20% (VAT on Income)", "20"),
        _rate("RROUTPUT", "5% (VAT on Income)", "5"),
        _rate("ZERORATEDOUTPUT", "Zero Rated Income", "0"),
        _rate("EXEMPTOUTPUT", "Exempt Income", "0"),
        _rate("NONE", "No VAT", "0"),
        _rate("INPUT2", "20% (VAT on Expenses)", "20", revenue=False),
        _rate("TAX001", "17.5% (VAT on Income)", "17.5", status="ARCHIVED"),
    ),
    (
        _account("200", "Sales – Clinical services", "REVENUE", "OUTPUT2"),
        _account("201", "Sales – Medicines & products", "REVENUE", "OUTPUT2"),
        _account("260", "Other Revenue", "REVENUE", "EXEMPTOUTPUT"),
        _account("202", "Sales – Grooming (closed)", "REVENUE", "OUTPUT2", status="ARCHIVED"),
        _account("090", "Business Bank Account", "BANK"),
        _account("091", "Cash in till", "BANK"),
        _account("610", "Card clearing", "CURRENT", pay=True),
        _account("620", "Insurance claims receivable", "CURRENT", pay=True),
        _account("815", "Client prepayments", "CURRLIAB", pay=True),
        _account("404", "Bank fees", "EXPENSE", "INPUT2"),
        _account("860", "Rounding", "CURRLIAB"),
    ),
)

READY = Mapping(
    vat_groups={"1": "OUTPUT2", "2": "OUTPUT2", "3": "RROUTPUT", "4": "ZERORATEDOUTPUT", "5": "EXEMPTOUTPUT"},
    payment_methods={"type:0": "610", "type:1": "091", "type:2": "090", "type:8": "815", "type:15": "620",
                     "method:15": "090"},
    sales_accounts={"999": "200"},
    default_sales_account="200",
    xero_payments_method="17",
    rounding_account="860",
    consolidated="both",
    start_date=date(2026, 1, 1),
    invoice_status="DRAFT",
)

# --- the file --------------------------------------------------------------------------------------


def test_json_round_trip_keeps_everything(tmp_path: Path) -> None:
    data = READY.to_json()
    assert data["version"] == 1 and data["start_date"] == "2026-01-01" and data["consolidated"] == "both"
    assert Mapping.from_json(json.loads(json.dumps(data))) == READY
    f = MappingFile(tmp_path / "config" / "mapping.json")
    assert not f.exists()
    f.save(READY)
    assert f.load() == READY
    assert parse_mapping_text(f.path.read_text(), f.path) == READY
    assert not list(f.path.parent.glob("*.tmp"))  # the atomic save leaves nothing behind


def test_defaults_for_what_a_file_leaves_out() -> None:
    m = Mapping.from_json({"version": 1})
    assert m == Mapping() and m.consolidated == "gathered" and m.invoice_status == "AUTHORISED"
    assert Mapping.from_json({"version": 1, "rounding_account": "", "start_date": None}).rounding_account is None


def _with(**changes: Any) -> dict[str, Any]:
    return {**READY.to_json(), **changes}


BAD_FILES = [
    ([], "the mapping file does not hold a JSON object"),
    ({"vat_groups": {}}, "unknown mapping version None (this app reads version 1)"),
    (_with(version=2), "unknown mapping version 2 (this app reads version 1)"),
    (_with(vat_groups=["1"]), 'vat_groups should be an object of "key": "value" pairs'),
    (_with(vat_groups={"Standard": "OUTPUT2"}), "vat_groups: key 'Standard' should be a VAT group id such as \"3\""),
    (_with(vat_groups={"3": 5}), "vat_groups: the value for '3' should be a Xero code, not 5"),
    (_with(vat_groups={"3": ""}), "vat_groups: the value for '3' should be a Xero code, not \"\""),
    (_with(payment_methods={"card": "090"}), "payment_methods: key 'card' should be \"type:N\" or \"method:ID\""),
    (_with(payment_methods={"type:x": "090"}), "payment_methods: key 'type:x' should be"),
    (_with(payment_methods={"type:1": None}),
     "payment_methods: the value for 'type:1' should be a Xero code, not null"),
    (_with(sales_accounts="200"), "sales_accounts should be an object"),
    (_with(sales_accounts={"200": ["200"]}),
     "sales_accounts: the value for '200' should be a Xero code, not [\"200\"]"),
    (_with(consolidated="all"), "consolidated is 'all'; use \"gathered\" or \"both\""),
    (_with(invoice_status="PAID"), "invoice_status is 'PAID'; use \"AUTHORISED\" or \"DRAFT\""),
    (_with(start_date="2026-13-01"), "start_date '2026-13-01' is not a date written YYYY-MM-DD"),
    (_with(start_date="1 Jan 2026"), "start_date '1 Jan 2026' is not a date written YYYY-MM-DD"),
    (_with(start_date=20260101), "start_date should be text, not 20260101"),
    (_with(xero_payments_method="Xero payments"), "xero_payments_method 'Xero payments' should be a Provet payment "
     "method id such as \"7\""),
    (_with(xero_payments_method=17), "xero_payments_method should be text, not 17"),
    (_with(default_sales_account=200), "default_sales_account should be text, not 200"),
    (_with(rounding_account={"code": "860"}), "rounding_account should be text, not {\"code\": \"860\"}"),
]


@pytest.mark.parametrize(("data", "message"), BAD_FILES, ids=[m.split(" ")[0] for _, m in BAD_FILES])
def test_every_refusal_names_the_key(data: Any, message: str) -> None:
    with pytest.raises(MappingError) as caught:
        Mapping.from_json(data)
    text = str(caught.value)
    assert text.startswith(message), text
    with pytest.raises(MappingError) as caught:  # from a file, the file is named first
        parse_mapping_text(json.dumps(data), "clinic-mapping.json")
    assert str(caught.value) == f"clinic-mapping.json: {text}"


def test_not_json_says_where() -> None:
    with pytest.raises(MappingError, match=r"^m\.json is not valid JSON \(line 2, column 1: Expecting property name"):
        parse_mapping_text('{"version": 1,\n}', "m.json")


def test_no_saved_mapping_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="no mapping has been saved yet; set it up in the window or run `mapping "
                       "import`"):
        MappingFile(tmp_path / "mapping.json").load()


# --- the check -------------------------------------------------------------------------------------

USED_GROUPS = (1, 2, 3, 4, 5)
USED_KEYS = ("type:0", "type:1", "type:2", "type:8", "method:15", "method:16")


def _problems(mapping: Mapping, xero: XeroReference = XERO, **kw: Any) -> dict[str, MappingProblem]:
    found = check_mapping(mapping, xero, GROUPS, METHODS, kw.pop("groups", USED_GROUPS), kw.pop("keys", USED_KEYS),
                          kw.pop("numbers", ("200", "201", "260")))
    assert len({p.where for p in found}) == len(found)
    return {p.where: p for p in found}


def _xero(**changes: tuple[Any, ...]) -> XeroReference:
    return XeroReference(XERO.organisation, changes.get("tax_rates", XERO.tax_rates),
                         changes.get("accounts", XERO.accounts))


def _archived_rate(tax_type: str) -> tuple[TaxRate, ...]:
    return tuple(TaxRate(t.tax_type, t.name, t.rate, "ARCHIVED" if t.tax_type == tax_type else t.status,
                         t.can_apply_to_revenue) for t in XERO.tax_rates)


def test_a_complete_mapping_is_ready() -> None:
    assert _problems(READY) == {}


def test_each_problem_is_shown_where_it_is_mapped_with_its_fix() -> None:
    mapping = Mapping(
        vat_groups={"1": "OUTPUT2", "2": "INPUT2", "3": "RROUTPUT", "4": "TAX001", "5": "GONE", "9": "OUTPUT2"},
        payment_methods={"type:0": "200", "type:1": "202", "type:2": "999", "method:15": "090"},
        sales_accounts={"300": "202"},
        default_sales_account="999",
        xero_payments_method="77",
    )
    xero = _xero(tax_rates=_archived_rate("RROUTPUT"))
    found = _problems(mapping, xero, numbers=("200", "202", "555"))
    expected = {
        "vat_groups:2": ("'Standard 20% – products' is mapped to '20% (VAT on Expenses)', which Xero does not allow "
                         "on sales.", "Map it to a tax rate for income."),
        "vat_groups:3": ("'Reduced 5%' is mapped to '5% (VAT on Income)', which is archived in Xero.",
                         "Map it to an active tax rate."),
        "vat_groups:4": ("'Zero-rated' is mapped to '17.5% (VAT on Income)', which is archived in Xero.",
                         "Map it to an active tax rate."),
        "vat_groups:5": ("'Exempt' is mapped to tax rate GONE, which Xero does not have.",
                         "Map it to one of Xero's current tax rates."),
        "payment_methods:type:0": ("Payment type 'Card' is mapped to 200 Sales – Clinical services, which cannot "
                                   "take payments.", "Choose a bank account, or allow payments to this account in "
                                   "Xero's chart of accounts."),
        "payment_methods:type:1": ("Payment type 'Cash' is mapped to 202 Sales – Grooming (closed), which is archived "
                                   "in Xero.", "Map it to an active account."),
        "payment_methods:type:2": ("Payment type 'Bank transfer' is mapped to account 999, which Xero does not have.",
                                   "Map it to an existing Xero account."),
        "payment_methods:type:8": ("Payment type 'Prepayment' is used but not mapped.",
                                   "Map it to a Xero account that accepts payments."),
        "payment_methods:method:16": ("Payment method 'Petplan direct claim' is used but not mapped.",
                                      "Map it to a Xero account that accepts payments."),
        "sales_accounts:300": ("Sales account 300 is mapped to 202 Sales – Grooming (closed), which is archived in "
                               "Xero.", "Map it to an active account."),
        "sales_accounts:202": ("Rows with account number 202 go to the Xero account with the same code, 202 Sales – "
                               "Grooming (closed), which is archived in Xero.", "Map 202 to an active sales account."),
        "default_sales_account": ("The default sales account is mapped to account 999, which Xero does not have.",
                                  "Map it to an existing Xero account."),
        "rounding_account": ("No rounding account is chosen: an invoice whose total Xero would round differently "
                             "cannot be sent.", "Choose the Xero account for rounding differences."),
        "xero_payments_method": ("Provet has no payment method 77 for payments made in Xero.",
                                 "Choose the clinic's \"Xero payments\" method."),
    }
    # 9 is no Provet VAT group (a stale entry, harmless); 555 reaches the default 999, reported there.
    assert set(found) == set(expected) - {"vat_groups:9"}
    for where, (message, fix) in expected.items():
        assert (found[where].message, found[where].fix) == (message, fix), where
    assert found["vat_groups:3"].line() == ("vat_groups:3: 'Reduced 5%' is mapped to '5% (VAT on Income)', which is "
                                            "archived in Xero. — Map it to an active tax rate.")


def test_a_percentage_that_differs_from_xero() -> None:
    found = _problems(Mapping(**{**READY.__dict__, "vat_groups": {**READY.vat_groups, "3": "OUTPUT2"}}))
    p = found["vat_groups:3"]
    assert p.message == ("'Reduced 5%' is 5% in Provet but '20% (VAT on Income)' is 20% in Xero, so the VAT would "
                         "differ.") and p.fix == "Map it to a tax rate with the same percentage."


def test_unmapped_vat_group_in_use_and_unmapped_payment_key() -> None:
    mapping = Mapping(**{**READY.__dict__, "vat_groups": {"1": "OUTPUT2"}, "payment_methods": {"type:0": "610"}})
    found = _problems(mapping, groups=(1, 3), keys=("type:0", "method:15", "type:1"))
    assert found["vat_groups:3"].message == "VAT group 'Reduced 5%' is used on invoices but not mapped."
    assert found["vat_groups:3"].fix == "Map it to a Xero tax rate."
    assert found["payment_methods:type:1"].message == "Payment type 'Cash' is used but not mapped."
    assert "payment_methods:method:15" not in found  # a custom method falls back to its type's account (Card)
    assert "vat_groups:4" not in found  # unused and unmapped: no problem


def test_account_numbers_without_any_xero_account() -> None:
    mapping = Mapping(**{**READY.__dict__, "default_sales_account": None})
    found = _problems(mapping, numbers=("200", "555"))
    assert found["sales_accounts:555"].message == ("Rows with account number 555 have no Xero account: Xero has no "
                                                    "account 555 and no default sales account is chosen.")
    assert found["sales_accounts:555"].fix == "Map 555 to a Xero sales account, or choose a default sales account."
    assert "sales_accounts:200" not in found


# --- what invoices use -----------------------------------------------------------------------------


def _row(pct: str, account: str | None, name: str = "Consultation", rid: int = 1) -> InvoiceRow:
    d = Decimal
    return InvoiceRow(rid, 1, name, d(1), d(10), d(12), d(10), d(2), d(12), d(0), d(pct), account or "")


def _pay(ptype: int, method: int | None = None, status: int = 3, paid: str = "10") -> Payment:
    return Payment(1, 1, ptype, method, Decimal(paid), date(2026, 9, 1), status, "", None)


def test_usage_follows_the_row_rule_and_skips_what_is_not_money() -> None:
    rows = [_row("20", "200"), _row("20", "201"), _row("5", None), _row("0", "260"), _row("0", "201")]
    pays = [_pay(0), _pay(7, 18), _pay(6), _pay(12), _pay(1, status=99), _pay(2, paid="0"), _pay(8)]
    u = usage_of(rows, pays, GROUPS, invoices_read=3, invoices_total=9)
    assert u.vat_groups == {1, 2, 3, 5, 4}
    assert u.payment_keys == {"type:0", "method:18", "type:8"}
    assert u.account_numbers == {"200", "201", "260"}
    assert u.row_problems == () and (u.invoices_read, u.invoices_total) == (3, 9)


def test_rows_whose_vat_group_cannot_be_told() -> None:
    rows = [_row("20", "999", "Spay", 1), _row("20", "999", "Neuter", 2), _row("12.5", "200", "Lead", 3)]
    u = usage_of(rows, [], GROUPS)
    assert u.vat_groups == frozenset()
    p1, p2 = u.row_problems
    assert p1.where == p2.where == "invoice rows"
    assert p1.message == ("Row 'Lead' has VAT 12.5%, which no active VAT group has; their invoices cannot be sent.")
    assert p1.fix == "In Provet, add or restore a VAT group of 12.5%."
    assert p2.message.startswith("Row 'Spay' has VAT 20% and account 999, which matches several VAT groups "
                                 "('Standard 20%', 'Standard 20% – products') and cannot be told apart (and 1 more")
    assert p2.fix.startswith("In Provet, give those VAT groups different account numbers")


# --- the suggestion --------------------------------------------------------------------------------


def test_suggestion_for_the_sandbox_clinic_is_ready() -> None:
    s = suggest_mapping(XERO, GROUPS, METHODS, account_numbers=("200", "201", "202", "260"))
    m = s.mapping
    assert m.vat_groups == {"1": "OUTPUT2", "2": "OUTPUT2", "3": "RROUTPUT", "4": "ZERORATEDOUTPUT",
                            "5": "EXEMPTOUTPUT"}  # 4 and 5 told apart by name and by account 260's tax rate
    assert m.payment_methods["type:0"] == "610" and m.payment_methods["type:1"] == "091"
    assert m.payment_methods["type:2"] == "090" and m.payment_methods["type:8"] == "815"
    assert m.payment_methods["type:15"] == "620" and m.payment_methods["type:7"] == "090"
    assert not {"type:3", "type:6", "type:12", "method:17", "method:16", "method:15"} & set(m.payment_methods)
    assert m.sales_accounts == {"202": "200"} and m.default_sales_account == "200"
    assert m.xero_payments_method == "17" and m.rounding_account == "860"
    assert s.notes == (
        "Payment type 'Rounding' was left unmapped: if the clinic uses it, map it to an account for cent differences "
        "that accepts payments.",
        "Account number 202 is archived in Xero; its rows go to 200 instead.",
    )
    used_keys = ("type:0", "type:1", "type:2", "type:8", "method:15", "method:16", "method:18")
    assert check_mapping(m, XERO, GROUPS, METHODS, USED_GROUPS, used_keys, ("200", "201", "202", "260")) == []


def test_suggestion_keeps_what_is_mapped_and_says_what_it_cannot_decide() -> None:
    base = Mapping(vat_groups={"1": "NONE"}, payment_methods={"type:0": "090"}, rounding_account="404",
                   invoice_status="DRAFT")
    xero = _xero(tax_rates=tuple(t for t in XERO.tax_rates if t.tax_type != "EXEMPTOUTPUT"),
                 accounts=tuple(a for a in XERO.accounts if a.type != "BANK" and a.code != "860"))
    groups = [*GROUPS, VatGroup(7, "Reduced 12.5%", Decimal("12.5"), False, "")]
    methods = [m for m in METHODS if m.id != 17]
    s = suggest_mapping(xero, groups, methods, base=base)
    m = s.mapping
    assert m.vat_groups["1"] == "NONE" and m.payment_methods["type:0"] == "090"
    assert m.rounding_account == "404" and m.invoice_status == "DRAFT"
    assert m.vat_groups["4"] == "ZERORATEDOUTPUT" and "5" not in m.vat_groups and "7" not in m.vat_groups
    assert m.xero_payments_method is None
    assert "type:2" not in m.payment_methods  # no bank account to fall back on
    assert "VAT group 'Exempt' (0%) could be 'Zero Rated Income', 'No VAT' in Xero: choose one." in s.notes
    assert ("VAT group 'Reduced 12.5%' (12.5%) has no active Xero tax rate for sales with the same percentage: add "
            "one in Xero, then map it.") in s.notes
    assert "Xero has no active bank account: add one, then map the payment methods to it." in s.notes
    assert any(n.startswith("Provet has no \"Xero payments\" method") for n in s.notes)
