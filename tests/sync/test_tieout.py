"""The daily tie-out against the sandbox: the seeded clinic's month ties out, and every kind of planted
difference is found, put down to its document with the right cause, and adds up to the cent."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from helpers.sandbox_clients import sandbox_clients

from provet_xero_gui.mapping import Mapping
from provet_xero_gui.provet.client import ProvetClient
from provet_xero_gui.provet.source import ProvetSource
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID, PT_CARD, PT_CASH, RowSpec
from provet_xero_gui.sandbox.runner import Sandbox, demo_mapping
from provet_xero_gui.store import Store
from provet_xero_gui.store.sync_state import SyncState
from provet_xero_gui.sync.engine import SyncEngine
from provet_xero_gui.tieout import (
    EQUAL,
    EXPLAINED,
    UNEXPLAINED,
    Difference,
    TieOut,
    TieOutDay,
    TieOutLine,
    TieOutRangeError,
    TieOutReport,
    parse_day,
)
from provet_xero_gui.xero.client import XeroClient

SEPTEMBER = (date(2026, 9, 1), date(2026, 9, 30))
MONTH_31 = (date(2026, 9, 1), date(2026, 10, 1))  # the seeded month and the sandbox's "today"
XERO_PAYMENTS_METHOD = 17  # demo_mapping()["xero_payments_method"]


@dataclass
class Clinic:
    sandbox: Sandbox
    provet: ProvetClient
    xero: XeroClient
    store: Store
    mapping: Mapping

    def sync(self) -> None:
        result = SyncEngine(ProvetSource(self.provet), self.xero, SyncState(self.store), self.mapping).run_pass()
        assert result.stopped is None, result.stopped

    def tie_out(self, start: date, end: date) -> TieOutReport:
        return TieOut(ProvetSource(self.provet), self.xero, SyncState(self.store), self.mapping).run(start, end)

    def row(self, name: str, net: str, vat: str = "20", quantity: str = "1", pc: str = "0") -> RowSpec:
        return RowSpec(name, Decimal(quantity), Decimal(net), Decimal(vat), "200", Decimal(pc))

    def invoice(self, on: date, *rows: RowSpec, client: int | None = 3, **kwargs):
        return self.sandbox.provet.add_invoice(client, list(rows), invoice_date=on, **kwargs)

    def xero_doc(self, provet_id: int):
        link = SyncState(self.store).link("invoice", provet_id)
        assert link is not None, f"Provet invoice {provet_id} is not in Xero"
        return self.sandbox.xero.invoice(CLINIC_TENANT_ID, link.xero_id)


def _open(tmp: Path, size: int = 60) -> Clinic:
    sb = Sandbox(size=size)
    provet, xero = sandbox_clients(sb)
    return Clinic(
        sb,
        provet,
        xero,
        Store(tmp / "store.sqlite3"),
        Mapping.from_json(demo_mapping()),
    )


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Clinic, TieOutReport]]:
    clinic = _open(tmp_path_factory.mktemp("clean"))
    try:
        clinic.sync()
        yield clinic, clinic.tie_out(*SEPTEMBER)
    finally:
        clinic.store.close()
        clinic.sandbox.stop()


@dataclass
class Planted:
    clinic: Clinic
    report: TieOutReport
    ids: dict[str, int]


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Planted]:
    """The seeded clinic with one difference of each kind, each on a day of its own."""
    clinic = _open(tmp_path_factory.mktemp("planted"))
    sb, t = clinic.sandbox, CLINIC_TENANT_ID
    ids: dict[str, int] = {}
    try:
        # Before the sync. Xero computes this row a cent lower than Provet, so a rounding line is sent.
        ids["rounding"] = clinic.invoice(
            date(2026, 9, 2), clinic.row("Dental chews", "4.1235", quantity="7", pc="7")
        ).id
        # A VAT group nobody mapped holds its invoice (and the payment on it).
        odd = sb.provet.add_vat_group("Special 7%", "7.00", "207")
        ids["held"] = clinic.invoice(date(2026, 9, 1), clinic.row("Hoof trim", "30.00", vat="7")).id
        ids["held_payment"] = sb.provet.add_payment(
            ids["held"], "32.10", payment_type=PT_CASH, payment_date=date(2026, 9, 1)
        ).id
        ids["edited"] = clinic.invoice(date(2026, 9, 10), clinic.row("X-ray", "80.00")).id
        ids["voided"] = clinic.invoice(date(2026, 9, 11), clinic.row("Ultrasound", "120.00")).id
        ids["paid_in_xero"] = clinic.invoice(date(2026, 9, 5), clinic.row("Vaccination", "40.00")).id
        ids["deleted_payment_invoice"] = clinic.invoice(date(2026, 9, 6), clinic.row("Blood test", "50.00")).id
        ids["deleted_payment"] = sb.provet.add_payment(
            ids["deleted_payment_invoice"], "60.00", payment_type=PT_CARD, payment_date=date(2026, 9, 13)
        ).id
        ids["unexplained"] = clinic.invoice(date(2026, 9, 7), clinic.row("Microchip", "15.00")).id
        ids["moved"] = clinic.invoice(date(2026, 9, 8), clinic.row("Nail clip", "10.00")).id
        clinic.sync()
        assert odd.id  # the VAT group stays unmapped on purpose

        # After the sync.
        ids["not_sent"] = clinic.invoice(date(2026, 9, 30), clinic.row("Castration", "150.00")).id
        ids["not_sent_payment"] = sb.provet.add_payment(
            ids["not_sent"], "180.00", payment_type=PT_CARD, payment_date=date(2026, 9, 30)
        ).id
        edited = clinic.xero_doc(ids["edited"])
        line = edited.line_items[0]
        sb.xero.edit_invoice(
            t,
            edited.doc_id,
            LineItems=[
                {
                    "Description": line.description,
                    "Quantity": 1,
                    "UnitAmount": 85,
                    "AccountCode": line.account_code,
                    "TaxType": line.tax_type,
                }
            ],
        )
        sb.xero.edit_invoice(t, clinic.xero_doc(ids["voided"]).doc_id, Status="VOIDED")
        sb.xero.edit_invoice(t, clinic.xero_doc(ids["moved"]).doc_id, Date="2026-08-31")  # out of the range
        sb.xero.make_payment(
            t,
            clinic.xero_doc(ids["paid_in_xero"]).doc_id,
            "20.00",
            "090",
            date=date(2026, 9, 12),
            reference="Bank line 4411",
        )
        pay_link = SyncState(clinic.store).link("payment", ids["deleted_payment"])
        assert pay_link is not None
        sb.xero.delete_payment(t, pay_link.xero_id)
        # A finalised Provet invoice whose total changes after it was sent: no cause can explain that.
        with sb.provet.state.lock:
            inv = sb.provet.state.tables["invoice"][ids["unexplained"]]
            inv["total_with_vat"] = Decimal("19.00")
            sb.provet.state.tables["invoicerow"][inv["invoice_row"][0]]["sum_total"] = Decimal("19.00")
        # Held by rule: an anonymous sale paid in cash, a prepayment not used yet (taken "today", 1 October).
        ids["anonymous"] = clinic.invoice(
            date(2026, 9, 14), clinic.row("Dog food", "10.00"), client=None, countersale=True
        ).id
        sb.provet.add_payment(ids["anonymous"], "12.00", payment_type=PT_CASH, payment_date=date(2026, 9, 14))
        ids["prepayment"] = sb.provet.add_prepayment(5, "40.00").id
        yield Planted(clinic, clinic.tie_out(*MONTH_31), ids)
    finally:
        clinic.store.close()
        clinic.sandbox.stop()


# --- helpers -----------------------------------------------------------------------------------------------


def _adds_up(report: TieOutReport) -> None:
    """The invariant: on every line, Provet - Xero is exactly the documents' differences, and the unexplained
    part is exactly the differences no cause explains."""
    for day in report.days:
        for line in day.lines:
            assert line.difference == sum((d.amount for d in line.differences), Decimal(0)), (day.day, line.label)
            assert line.unexplained == sum((d.amount for d in line.differences if not d.explained), Decimal(0))
            assert all(d.amount != 0 for d in line.differences)


def _found(report: TieOutReport, on: date, ref: str) -> list[tuple[TieOutLine, Difference]]:
    day = report.day(on)
    assert day is not None
    return [(line, d) for line, d in day.differences if d.provet_ref == ref]


def _day(report: TieOutReport, on: date) -> TieOutDay:
    day = report.day(on)
    assert day is not None
    return day


# --- a clean month -------------------------------------------------------------------------------------------


def test_a_clean_month_of_the_seeded_clinic_is_all_green(clean: tuple[Clinic, TieOutReport]) -> None:
    _clinic, report = clean
    assert [d.day for d in report.days] == [date(2026, 9, n) for n in range(1, 31)]
    assert report.status == EQUAL
    assert {d.status for d in report.days} == {EQUAL}
    assert all(line.provet_total == line.xero_total for d in report.days for line in d.compared)
    assert not any(d.differences for d in report.days for _line, d in [(None, x) for x in d.compared if x.differences])
    _adds_up(report)
    kinds = {line.kind for d in report.days for line in d.lines}
    assert {"sales", "tax", "payments", "held"} <= kinds
    # Something real was compared: the month's sales and takings.
    assert sum(d.total("sales", "provet") for d in report.days) > Decimal(1000)
    assert sum(d.total("payments", "xero") for d in report.days) > Decimal(1000)


def test_the_seeded_rule_holds_are_listed_apart_and_colour_nothing(clean: tuple[Clinic, TieOutReport]) -> None:
    _clinic, report = clean
    held = {line.key: line for d in report.days for line in d.held}
    assert {"held:anonymous", "held:anonymous_payments", "held:prepayments", "held:consolidated"} <= set(held)
    for d in report.days:
        for line in d.held:
            assert line.xero_total == 0 and line.status == "held"
            assert {x.cause for x in line.differences} == {"held_by_rule"}
    # The anonymous sales are not in the compared totals: Provet's sales equal Xero's although they are left out.
    anonymous = [line for d in report.days for line in d.held if line.key == "held:anonymous"]
    assert len(anonymous) == 3 and all(line.provet_total > 0 for line in anonymous)


def test_a_month_costs_three_xero_calls(clean: tuple[Clinic, TieOutReport]) -> None:
    _clinic, report = clean
    assert report.xero_calls_by_endpoint == {"GET CreditNotes": 1, "GET Invoices": 1, "GET Payments": 1}
    assert report.xero_calls == 3
    assert report.notes == ()


def test_json_has_every_number_as_text(clean: tuple[Clinic, TieOutReport]) -> None:
    _clinic, report = clean
    data = report.to_json()
    assert data["status"] == EQUAL and data["days_equal"] == 30 and data["xero_calls"] == 3
    line = next(ln for d in data["days"] for ln in d["lines"] if ln["kind"] == "sales")
    assert Decimal(line["provet"]) == Decimal(line["xero"])


def test_bad_ranges_are_refused_in_plain_words(clean: tuple[Clinic, TieOutReport]) -> None:
    clinic, _ = clean
    with pytest.raises(TieOutRangeError, match="before it starts"):
        clinic.tie_out(date(2026, 9, 30), date(2026, 9, 1))
    with pytest.raises(TieOutRangeError, match="at most 366 days"):
        clinic.tie_out(date(2024, 1, 1), date(2026, 1, 1))
    with pytest.raises(TieOutRangeError, match="YYYY-MM-DD"):
        parse_day("31/09/2026")


# --- planted differences ---------------------------------------------------------------------------------------


def test_planted_month_adds_up_and_stays_within_a_few_calls(planted: Planted) -> None:
    report = planted.report
    _adds_up(report)
    assert len(report.days) == 31
    # The three reads of the range, and one look-up for the invoice Xero now dates outside it.
    assert report.xero_calls_by_endpoint == {"GET CreditNotes": 1, "GET Invoices": 2, "GET Payments": 1}
    assert report.status == UNEXPLAINED


def test_a_document_not_sent_yet_is_explained(planted: Planted) -> None:
    on = date(2026, 9, 30)
    found = _found(planted.report, on, f"invoice:{planted.ids['not_sent']}")
    assert {d.cause for _l, d in found} == {"not_sent"}
    sales = next(d for line, d in found if line.kind == "sales")
    assert sales.amount == Decimal("180.00")
    pay = _found(planted.report, on, f"payment:{planted.ids['not_sent_payment']}")
    assert [(d.cause, d.amount) for _l, d in pay] == [("not_sent", Decimal("180.00"))]
    assert _day(planted.report, on).status == EXPLAINED


def test_a_held_document_is_explained_with_the_attention_reason(planted: Planted) -> None:
    on = date(2026, 9, 1)
    found = _found(planted.report, on, f"invoice:{planted.ids['held']}")
    assert found and {d.cause for _l, d in found} == {"held"}
    assert all("Special 7%" in d.reason and "not mapped" in d.reason for _l, d in found)
    assert all(d.fix for _l, d in found)
    pay = _found(planted.report, on, f"payment:{planted.ids['held_payment']}")
    assert [(d.cause, d.amount) for _l, d in pay] == [("held", Decimal("32.10"))]
    assert "waits" in pay[0][1].reason
    assert _day(planted.report, on).status == EXPLAINED
    line = next(line for line, _d in found if line.kind == "sales")
    assert "Special 7%" in line.label and "not mapped" in line.label


def test_cent_rounding_is_found_explained_and_keeps_the_day_green(planted: Planted) -> None:
    on = date(2026, 9, 2)
    found = _found(planted.report, on, f"invoice:{planted.ids['rounding']}")
    by_kind = {line.kind: d for line, d in found}
    assert by_kind["sales"].cause == "rounding" and by_kind["sales"].amount == Decimal("0.01")
    assert by_kind["rounding"].cause == "rounding" and by_kind["rounding"].amount == Decimal("-0.01")
    day = _day(planted.report, on)
    rounding = next(line for line in day.lines if line.kind == "rounding")
    assert rounding.provet_total == 0 and rounding.xero_total == Decimal("0.01") and "860" in rounding.label
    assert day.status == EQUAL  # the document's total agrees; the rounding account carries the cent


def test_a_document_changed_in_xero_after_sync_is_explained(planted: Planted) -> None:
    on = date(2026, 9, 10)
    found = _found(planted.report, on, f"invoice:{planted.ids['edited']}")
    by_kind = {line.kind: d for line, d in found}
    assert by_kind["sales"].cause == "changed_in_xero"
    assert by_kind["sales"].amount == Decimal("-6.00")  # 96.00 in Provet, 102.00 in Xero
    assert by_kind["tax"].amount == Decimal("-1.00")
    assert "102.00" in by_kind["sales"].reason and "96.00" in by_kind["sales"].reason
    assert _day(planted.report, on).status == EXPLAINED


def test_a_document_voided_in_xero_is_explained(planted: Planted) -> None:
    on = date(2026, 9, 11)
    found = _found(planted.report, on, f"invoice:{planted.ids['voided']}")
    by_kind = {line.kind: d for line, d in found}
    assert by_kind["sales"].cause == "changed_in_xero" and by_kind["sales"].amount == Decimal("144.00")
    assert "voided in Xero" in by_kind["sales"].reason


def test_a_document_dated_elsewhere_in_xero_is_looked_up_and_explained(planted: Planted) -> None:
    on = date(2026, 9, 8)
    found = _found(planted.report, on, f"invoice:{planted.ids['moved']}")
    by_kind = {line.kind: d for line, d in found}
    assert by_kind["sales"].cause == "changed_in_xero" and by_kind["sales"].amount == Decimal("12.00")
    assert "2026-08-31 in Xero" in by_kind["sales"].reason
    assert _day(planted.report, on).status == EXPLAINED


def test_a_payment_made_only_in_xero_is_explained(planted: Planted) -> None:
    on = date(2026, 9, 12)
    day = _day(planted.report, on)
    found = [(line, d) for line, d in day.differences if d.cause == "xero_only"]
    assert len(found) == 1
    line, d = found[0]
    assert d.amount == Decimal("-20.00") and line.key == f"payments:method:{XERO_PAYMENTS_METHOD}"
    assert "Bank line 4411" in d.reason and "090" in d.reason
    assert d.provet_ref == f"invoice:{planted.ids['paid_in_xero']}"
    assert "Xero payments" in line.label
    assert day.status == EXPLAINED


def test_a_payment_deleted_in_xero_is_explained(planted: Planted) -> None:
    on = date(2026, 9, 13)
    found = _found(planted.report, on, f"payment:{planted.ids['deleted_payment']}")
    assert [(d.cause, d.amount) for _l, d in found] == [("changed_in_xero", Decimal("60.00"))]
    assert "deleted in Xero" in found[0][1].reason


def test_a_difference_no_cause_explains_is_red(planted: Planted) -> None:
    on = date(2026, 9, 7)
    found = _found(planted.report, on, f"invoice:{planted.ids['unexplained']}")
    sales = next(d for line, d in found if line.kind == "sales")
    assert sales.cause == "unexplained" and sales.amount == Decimal("1.00")  # 19.00 in Provet now, 18.00 sent
    line = next(line for line, d in found if line.kind == "sales")
    assert line.unexplained == Decimal("1.00") and line.status == UNEXPLAINED
    assert _day(planted.report, on).status == UNEXPLAINED
    assert [d.day for d in planted.report.days if d.status == UNEXPLAINED] == [on]


def test_rule_holds_are_listed_on_their_day_and_keep_it_green(planted: Planted) -> None:
    day = _day(planted.report, date(2026, 9, 14))
    held = {line.key: line for line in day.held}
    assert held["held:anonymous"].provet_total == Decimal("12.00")
    assert held["held:anonymous_payments"].provet_total == Decimal("12.00")
    assert day.status == EQUAL
    today = _day(planted.report, date(2026, 10, 1))
    pre = next(line for line in today.held if line.key == "held:prepayments")
    assert pre.provet_total == Decimal("40.00")
    assert today.status == EQUAL


def test_the_untouched_days_stay_green(planted: Planted) -> None:
    planted_days = {date(2026, 9, n) for n in (1, 7, 8, 10, 11, 12, 13, 30)}
    for day in planted.report.days:
        if day.day not in planted_days:
            assert day.status == EQUAL, (day.day, [(ln.label, d) for ln, d in day.differences])


def test_after_the_next_sync_only_what_xero_changed_remains(planted: Planted) -> None:
    """The sync sends what was not sent and copies the Xero payment to Provet; the tie-out then agrees on
    those, while what was changed in Xero (and the red one) stays."""
    clinic = planted.clinic
    clinic.sync()
    report = clinic.tie_out(*MONTH_31)
    _adds_up(report)
    assert _day(report, date(2026, 9, 30)).status == EQUAL
    assert _day(report, date(2026, 9, 12)).status == EQUAL  # the Xero payment is now in Provet too
    assert _day(report, date(2026, 9, 10)).status == EXPLAINED
    assert _day(report, date(2026, 9, 7)).status == UNEXPLAINED


def test_a_prepayment_falls_on_the_clinics_own_day_not_utcs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """23:30 UTC on 14 September is already the 15th in Auckland: a clinic there sees it on the 15th."""
    from datetime import UTC, datetime

    monkeypatch.setenv("TZ", "Pacific/Auckland")
    time.tzset()
    clinic = _open(tmp_path, size=12)
    try:
        pre = clinic.sandbox.provet.add_prepayment(5, "40.00")
        with clinic.sandbox.provet.state.lock:
            clinic.sandbox.provet.state.tables["unallocatedpayment"][pre.id]["created"] = datetime(
                2026, 9, 14, 23, 30, tzinfo=UTC)
        report = clinic.tie_out(date(2026, 9, 14), date(2026, 9, 15))
        held_on = {d.day: {line.key: line.provet_total for line in d.held} for d in report.days}
        assert held_on[date(2026, 9, 15)].get("held:prepayments") == Decimal("40.00")
        assert "held:prepayments" not in held_on[date(2026, 9, 14)]
    finally:
        clinic.store.close()
        clinic.sandbox.stop()
        monkeypatch.delenv("TZ")
        time.tzset()


def test_vat_per_vat_group_agrees_to_the_cent_when_xero_would_round_a_line_differently(tmp_path: Path) -> None:
    """3 x 4.0109 with a 7 % surcharge: Provet books 12.87 + VAT 2.57; Xero, on its own, would make the line
    12.88 + VAT 2.58. The line carries Provet's VAT, so Xero's VAT for the group is Provet's to the cent, and
    only the sales line's cent goes to the rounding account."""
    clinic = _open(tmp_path)
    try:
        on = date(2026, 9, 30)
        inv = clinic.invoice(on, clinic.row("Flea spray", "4.0109", quantity="3", pc="7"))
        assert (inv.total_vat, inv.total_with_vat) == (Decimal("2.57"), Decimal("15.44"))
        clinic.sync()
        doc = clinic.xero_doc(inv.id)
        assert (doc.total_tax, doc.total) == (Decimal("2.57"), Decimal("15.44"))
        report = clinic.tie_out(on, on)
        day = _day(report, on)
        vat = [line for line in day.compared if line.kind == "tax"]
        assert vat and all(line.provet_total == line.xero_total for line in vat), [
            (line.label, line.provet_total, line.xero_total) for line in vat]
        assert not [d for line in vat for d in line.differences]
        assert day.status == EQUAL
    finally:
        clinic.store.close()
        clinic.sandbox.stop()
