"""The Tie-out page: the calendar's colours and words, drill-down from a day to its lines to the documents,
CSV and PDF export, the empty state, and a real run against a synced sandbox clinic on a worker thread."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import Qt

from provet_xero_gui.app.application import Application
from provet_xero_gui.app.passes import run_sync
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID
from provet_xero_gui.tieout import (
    EQUAL,
    EXPLAINED,
    UNEXPLAINED,
    Difference,
    TieOutDay,
    TieOutLine,
    TieOutReport,
)
from provet_xero_gui.ui.tieout_model import COLOURS
from provet_xero_gui.ui.tieout_view import TieOutView, last_month

D = Decimal
SALES = "Sales incl. VAT — Standard 20% → OUTPUT2"


def sample_report() -> TieOutReport:
    """A week: green days, an amber day (not sent yet, a payment made only in Xero), a red day, held lines."""

    def day(n: int, *lines: TieOutLine) -> TieOutDay:
        return TieOutDay(date(2026, 9, n), tuple(lines))

    green = TieOutLine("sales", "sales:vat:1", SALES, D("250.00"), D("250.00"))
    held = TieOutLine(
        "held",
        "held:anonymous",
        "Held by rule: anonymous sales (no client)",
        D("18.09"),
        D("0"),
        (Difference("held_by_rule", "Counter sale 24013", D("18.09"), "an anonymous sale (no client)"),),
    )
    amber_sales = TieOutLine(
        "sales",
        "sales:vat:1",
        SALES,
        D("430.00"),
        D("250.00"),
        (
            Difference(
                "not_sent",
                "Invoice 24069 (Dr. Maximilian von Hohenzollern-Sigmaringen)",
                D("180.00"),
                "it is not in Xero yet; the next sync sends it",
                provet_ref="invoice:69",
            ),
        ),
    )
    amber_pay = TieOutLine(
        "payments",
        "payments:method:17",
        "Payments — Xero payments → Xero's own accounts",
        D("0.00"),
        D("20.00"),
        (
            Difference(
                "xero_only",
                "Xero payment of 20.00 on invoice 24066",
                D("-20.00"),
                "made in Xero on 2026-09-12 to account 090 (Bank line 4411); Provet does not have it yet",
                'The next sync copies it to Provet with the "Xero payments" method.',
            ),
        ),
    )
    red = TieOutLine(
        "sales",
        "sales:vat:1",
        SALES,
        D("19.00"),
        D("18.00"),
        (
            Difference(
                "unexplained",
                "Invoice 24068",
                D("1.00"),
                "Provet's total is now 19.00, but 18.00 was sent",
                "Compare the document in Provet and in Xero.",
            ),
        ),
    )
    return TieOutReport(
        date(2026, 9, 1), date(2026, 9, 7),
        (day(1, green), day(2), day(3, green, held), day(4, amber_sales, amber_pay), day(5, red), day(6, green),
         day(7, green)),
        3, {"GET CreditNotes": 1, "GET Invoices": 1, "GET Payments": 1}, organisation="Happy Paws Veterinary Ltd",
    )  # fmt: skip


def test_the_calendar_colours_and_words(qtbot) -> None:
    view = TieOutView()
    qtbot.addWidget(view)
    view.set_report(sample_report())
    model = view.calendar_model
    assert model.columnCount() == 7 and model.rowCount() == 2  # Tue 1 Sep .. Mon 7 Sep: two weeks
    assert model.headerData(0, Qt.Orientation.Horizontal) == "Mon"
    before = model.index(0, 0)  # Monday 31 August: outside the range
    assert model.data(before) is None and model.flags(before) == Qt.ItemFlag.NoItemFlags

    def cell(n: int):
        return model.index_of(date(2026, 9, n))

    assert model.data(cell(1)).endswith("ties out")
    assert model.data(cell(2)).endswith("nothing")
    assert "explained (2 docs)" in model.data(cell(4))
    assert "unexplained (1 doc)" in model.data(cell(5))
    colour = Qt.ItemDataRole.BackgroundRole
    assert model.data(cell(1), colour).color().name() == COLOURS[EQUAL]
    assert model.data(cell(3), colour).color().name() == COLOURS[EQUAL]  # held lines never colour a day
    assert model.data(cell(4), colour).color().name() == COLOURS[EXPLAINED]
    assert model.data(cell(5), colour).color().name() == COLOURS[UNEXPLAINED]
    assert "Saturday 05 September 2026" in model.data(cell(5), Qt.ItemDataRole.ToolTipRole)
    assert "3 differ with the reason known" not in view.summary.text()
    assert "5 tie out, 1 differ with the reason known, 1 differ without one" in view.summary.text()
    assert "Xero calls used: 3" in view.summary.text()


def test_it_opens_on_the_red_day_and_drills_down_to_documents(qtbot) -> None:
    view = TieOutView()
    qtbot.addWidget(view)
    view.set_report(sample_report())
    assert view.calendar_model.day_at(view.calendar.currentIndex()).day == date(2026, 9, 5)
    assert view.lines_model.rowCount() == 1
    assert view.documents_model.data(view.documents_model.index(0, 2)) == "Unexplained"

    view.select_day(date(2026, 9, 4))
    assert "explained" in view.day_title.text()
    assert [view.lines_model.data(view.lines_model.index(r, 0)) for r in range(2)] == [
        SALES,
        "Payments — Xero payments → Xero's own accounts",
    ]
    docs = view.documents_model
    assert docs.data(docs.index(0, 0)).startswith("Invoice 24069") and docs.data(docs.index(0, 1)) == "180.00"
    assert docs.data(docs.index(0, 2)) == "Not sent to Xero yet"
    view.lines.selectRow(1)
    assert docs.data(docs.index(0, 2)) == "Payment made only in Xero"
    assert "Bank line 4411" in docs.data(docs.index(0, 3)) and "Xero payments" in docs.data(docs.index(0, 4))

    view.select_day(date(2026, 9, 3))  # a green day with a held line: the held line is the one shown
    assert view.lines_model.data(view.lines_model.index(1, 4)) == "held by rule"
    assert view.documents_model.data(view.documents_model.index(0, 2)) == "Held by rule"


def test_a_month_that_ties_out_opens_on_its_latest_day_with_documents(qtbot) -> None:
    view = TieOutView()
    qtbot.addWidget(view)
    whole = sample_report()
    clean = replace(whole, days=(*(d for d in whole.days if d.status == "equal"), TieOutDay(date(2026, 9, 8))))
    view.set_report(clean)
    assert view.calendar_model.day_at(view.calendar.currentIndex()).day == date(2026, 9, 7)
    assert view.lines_model.rowCount() == 1


def test_csv_and_pdf_export(qtbot, tmp_path: Path) -> None:
    view = TieOutView()
    qtbot.addWidget(view)
    view.set_report(sample_report())
    view.export_csv(tmp_path / "t.csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "t.csv").read_text(encoding="utf-8-sig"))))
    assert {r["Date"] for r in rows} == {f"2026-09-0{n}" for n in range(1, 8)}
    red = [r for r in rows if r["Cause"] == "Unexplained"]
    assert red == [{**red[0], "Document": "Invoice 24068", "Amount": "1.00", "Day status": "unexplained"}]
    view.export_pdf(tmp_path / "t.pdf")
    data = (tmp_path / "t.pdf").read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 2000


def test_the_empty_state_and_a_bad_range(qtbot) -> None:
    view = TieOutView(today=lambda: date(2026, 10, 14))
    qtbot.addWidget(view)
    assert view.stack.currentWidget() is view.empty
    assert not view.csv_button.isEnabled() and not view.run_button.isEnabled()
    assert view.chosen_range() == (date(2026, 9, 1), date(2026, 9, 30))
    assert last_month(date(2026, 1, 5)) == (date(2025, 12, 1), date(2025, 12, 31))
    view.to_edit.setDate(view.from_edit.date().addDays(-1))
    view.run_chosen()
    assert "ends" in view.summary.text() and "before it starts" in view.summary.text()


def test_a_real_tie_out_runs_off_the_gui_thread(qtbot, make_connected) -> None:
    sandbox, profile = make_connected(60)
    assert run_sync(profile).stopped is None
    view = TieOutView(Application(profile), today=lambda: date(2026, 10, 5))
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.report_ready, timeout=60_000):
        view.run_button.click()
    report = view.report
    assert report is not None and report.status == EQUAL and len(report.days) == 30
    assert report.xero_calls == 3

    owing = next(d for d in sandbox.xero.invoices(CLINIC_TENANT_ID) if d.amount_due >= 1 and d.status == "AUTHORISED")
    sandbox.xero.make_payment(CLINIC_TENANT_ID, owing.doc_id, "1.00", "090", date=date(2026, 9, 15))
    with qtbot.waitSignal(view.report_ready, timeout=60_000):
        view.run_button.click()
    assert [d.day for d in view.report.days if d.status != EQUAL] == [date(2026, 9, 15)]
    assert view.calendar_model.day_at(view.calendar.currentIndex()).day == date(2026, 9, 15)
    assert view.documents_model.data(view.documents_model.index(0, 2)) == "Payment made only in Xero"
