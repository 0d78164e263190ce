"""The Tie-out page: choose days, see them as a calendar (green: Provet and Xero agree; amber: they differ
for reasons known; red: some difference has no reason), pick a day to see its lines, pick a line to see the
documents behind its difference. Exports CSV (sync/tieout_export.py) and PDF (printed here, since it needs
Qt). The tie-out itself runs on a worker thread: the window never waits on Provet or Xero."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from PySide6.QtCore import QDate, QMarginsF, QModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QPageLayout, QPageSize, QPalette, QPdfWriter, QTextDocument
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from provet_xero_gui.app.application import Application
from provet_xero_gui.app.onboarding import plain_message
from provet_xero_gui.app.tieout import TieOutRangeError, check_range
from provet_xero_gui.app.types import EQUAL, STATUS_WORDS, UNEXPLAINED, TieOutDay, TieOutReport
from provet_xero_gui.app.words import calls_words, report_csv, report_html, summary_words
from provet_xero_gui.ui.background import Background
from provet_xero_gui.ui.tieout_model import CalendarModel, DocumentsModel, LinesModel, day_words

log = logging.getLogger(__name__)

LEGEND = (
    "Green: Provet and Xero agree (cent rounding carried by the rounding account included). Amber: they differ, "
    "and every document that makes the difference has its reason. Red: some difference has no reason. "
    "Held-by-rule lines (anonymous sales, unused prepayments) are listed but never colour a day."
)

EMPTY_TEXT = (
    "Choose the first and last day and press Tie out: every day shows whether Xero holds what Provet says, "
    "and which documents make any difference."
)


def last_month(today: date) -> tuple[date, date]:
    """The calendar month before `today`'s: what an accountant usually ties out."""
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def _qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


def _pydate(q: QDate) -> date:
    return date(q.year(), q.month(), q.day())


def write_pdf(report: TieOutReport, path: Path) -> None:
    """The report as an A4 PDF an accountant can file (landscape, so the day table fits)."""
    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageOrientation(QPageLayout.Orientation.Landscape)
    writer.setPageMargins(QMarginsF(12, 12, 12, 12), QPageLayout.Unit.Millimeter)
    writer.setTitle(f"Tie-out {report.start.isoformat()} to {report.end.isoformat()}")
    writer.setCreator("provet-xero")
    doc = QTextDocument()
    doc.setHtml(report_html(report))
    doc.setPageSize(writer.pageLayout().paintRectPixels(writer.resolution()).size().toSizeF())
    doc.print_(writer)


class TieOutView(QWidget):
    """`set_report` shows a report; with an `app`, the Tie out button makes one on a worker thread."""

    report_ready = Signal(object)  # TieOutReport

    def __init__(
        self,
        app: Application | None = None,
        parent: QWidget | None = None,
        *,
        today: Callable[[], date] = date.today,
    ) -> None:
        super().__init__(parent)
        self._app = app
        self._background = Background(self, threads=1)
        self.report: TieOutReport | None = None
        self.calendar_model = CalendarModel(self)
        self.lines_model = LinesModel(self)
        self.documents_model = DocumentsModel(self)

        first, last = last_month(today())
        self.from_edit = self._date_edit(first, "First day of the tie-out")
        self.to_edit = self._date_edit(last, "Last day of the tie-out")
        self.run_button = QPushButton("&Tie out")
        self.run_button.setAccessibleName("Tie out Provet and Xero for these days")
        self.run_button.clicked.connect(self.run_chosen)
        self.run_button.setEnabled(app is not None)
        self.csv_button = QPushButton("Export &CSV…")
        self.csv_button.setAccessibleName("Export the tie-out as CSV")
        self.csv_button.clicked.connect(self._ask_csv)
        self.pdf_button = QPushButton("Export P&DF…")
        self.pdf_button.setAccessibleName("Export the tie-out as PDF")
        self.pdf_button.clicked.connect(self._ask_pdf)
        top = QHBoxLayout()
        for text, edit in (("&From", self.from_edit), ("T&o", self.to_edit)):
            label = QLabel(text)
            label.setBuddy(edit)
            top.addWidget(label)
            top.addWidget(edit)
        top.addWidget(self.run_button)
        top.addStretch(1)
        top.addWidget(self.csv_button)
        top.addWidget(self.pdf_button)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("Tie-out summary")

        self.calendar = QTableView()
        self.calendar.setModel(self.calendar_model)
        self.calendar.setAccessibleName("Days of the tie-out, a week a row")
        self.calendar.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.calendar.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.calendar.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.calendar.setWordWrap(True)
        self.calendar.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.calendar.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.calendar.verticalHeader().setDefaultSectionSize(46)
        # The chosen day keeps its colour (the status) under a see-through highlight.
        palette = self.calendar.palette()
        for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
            palette.setColor(group, QPalette.ColorRole.Highlight, QColor(31, 78, 140, 70))
            palette.setColor(group, QPalette.ColorRole.HighlightedText, QColor("black"))
        self.calendar.setPalette(palette)
        self.calendar.selectionModel().currentChanged.connect(lambda cur, _prev: self._show_day(cur))

        self.day_title = QLabel()
        self.day_title.setWordWrap(True)
        self.day_title.setAccessibleName("The chosen day")
        self.lines = self._table(self.lines_model, "The chosen day's lines: Provet, Xero and the difference")
        self.lines.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2, 3, 4):
            self.lines.horizontalHeader().setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.lines.selectionModel().currentRowChanged.connect(lambda cur, _prev: self._show_line(cur.row()))
        self.documents = self._table(self.documents_model, "Documents behind the chosen line's difference")
        header = self.documents.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.documents.setColumnWidth(0, 200)
        for col in (1, 2):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        for col in (3, 4):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Stretch)
        self.documents.setWordWrap(True)
        self.documents.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

        legend = QLabel(LEGEND)
        legend.setWordWrap(True)
        legend.setAccessibleName(LEGEND)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.calendar, 1)
        ll.addWidget(legend)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.day_title)
        rl.addWidget(self.lines, 1)
        upper = QSplitter(Qt.Orientation.Horizontal)
        upper.addWidget(left)
        upper.addWidget(right)
        upper.setChildrenCollapsible(False)
        upper.setSizes([640, 680])
        # The documents get the whole width below: their reasons are sentences.
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(upper)
        split.addWidget(self.documents)
        split.setChildrenCollapsible(False)
        split.setSizes([400, 220])

        self.empty = QLabel(EMPTY_TEXT)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setAccessibleName(EMPTY_TEXT)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(split)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.stack, 1)
        self.set_report(None)

    def _date_edit(self, value: date, name: str) -> QDateEdit:
        edit = QDateEdit(_qdate(value))
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setAccessibleName(name)
        return edit

    def _table(self, model: object, name: str) -> QTableView:
        view = QTableView()
        view.setModel(model)
        view.setAccessibleName(name)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setAlternatingRowColors(True)
        view.verticalHeader().hide()
        return view

    # --- content ----------------------------------------------------------------------------------------
    def set_report(self, report: TieOutReport | None) -> None:
        self.report = report
        self.calendar_model.set_report(report)
        self.csv_button.setEnabled(report is not None)
        self.pdf_button.setEnabled(report is not None)
        if report is None:
            self.summary.setText("")
            self.stack.setCurrentWidget(self.empty)
            self._show_day(QModelIndex())
            return
        self.from_edit.setDate(_qdate(report.start))
        self.to_edit.setDate(_qdate(report.end))
        org = f" in {report.organisation}" if report.organisation else ""
        self.summary.setText(
            f"{report.start.isoformat()} to {report.end.isoformat()}{org}: {summary_words(report)}. "
            f"Xero calls used: {calls_words(report)}."
            + ("".join(f" {n}" for n in report.notes) if report.notes else "")
        )
        self.stack.setCurrentWidget(self.stack.widget(1))
        # Start on the first day that needs a look (red first, then amber), else the latest day with anything
        # on it, else the first day.
        first = (
            next((d for d in report.days if d.status == UNEXPLAINED), None)
            or next((d for d in report.days if d.status != EQUAL), None)
            or next((d for d in reversed(report.days) if d.lines), None)
            or (report.days[0] if report.days else None)
        )
        if first is not None:
            self.select_day(first.day)
        self.report_ready.emit(report)

    def select_day(self, on: date) -> None:
        index = self.calendar_model.index_of(on)
        if index.isValid():
            self.calendar.setCurrentIndex(index)
            self._show_day(index)

    def _show_day(self, index: QModelIndex) -> None:
        day: TieOutDay | None = self.calendar_model.day_at(index) if index.isValid() else None
        self.lines_model.set_day(day)
        if day is None:
            self.day_title.setText("")
            self._show_line(-1)
            return
        n = len(day.held)
        held = f"; {n} held-by-rule line{'s' if n != 1 else ''} listed apart" if n else ""
        self.day_title.setText(f"<b>{day.day.strftime('%A %d %B %Y')}</b>: {day_words(day)}{held}")
        self.day_title.setAccessibleDescription(f"{day.day.isoformat()} {STATUS_WORDS[day.status]}")
        row = next((i for i, ln in enumerate(day.lines) if ln.differences and ln.kind != "held"), None)
        if row is None:
            row = next((i for i, ln in enumerate(day.lines) if ln.differences), 0 if day.lines else -1)
        if row >= 0:
            self.lines.selectRow(row)
        self._show_line(row)

    def _show_line(self, row: int) -> None:
        self.documents_model.set_line(self.lines_model.line_at(row))

    # --- running ---------------------------------------------------------------------------------------------
    def show_range(self, start: date, end: date) -> None:
        """Choose these days and tie them out (the dashboard's "show the days")."""
        self.from_edit.setDate(_qdate(start))
        self.to_edit.setDate(_qdate(end))
        self.run_chosen()

    def chosen_range(self) -> tuple[date, date]:
        return _pydate(self.from_edit.date()), _pydate(self.to_edit.date())

    def run_chosen(self) -> None:
        start, end = self.chosen_range()
        try:
            check_range(start, end)
        except TieOutRangeError as exc:
            self.summary.setText(f"Not tied out: {exc}.")
            return
        app = self._app
        if app is None:
            return
        self.run_button.setEnabled(False)
        self.summary.setText("Reading Provet and Xero…")
        self._background.run(
            lambda progress: app.tieout(start, end, progress=progress),
            on_done=self._done,
            on_failed=self._failed,
            on_progress=lambda text: self.summary.setText(f"Tying out: {text}…"),
        )

    def _done(self, report: TieOutReport) -> None:
        self.run_button.setEnabled(True)
        self.set_report(report)

    def _failed(self, exc: BaseException) -> None:
        self.run_button.setEnabled(True)
        self.summary.setText(f"The tie-out could not be made: {plain_message(exc)}")

    # --- export -------------------------------------------------------------------------------------------------
    def export_csv(self, path: Path) -> None:
        assert self.report is not None
        path.write_text(report_csv(self.report), encoding="utf-8-sig", newline="")  # -sig: Excel reads it as UTF-8

    def export_pdf(self, path: Path) -> None:
        assert self.report is not None
        write_pdf(self.report, path)

    def _default_name(self, suffix: str) -> str:
        r = self.report
        return f"tie-out-{r.start.isoformat()}-to-{r.end.isoformat()}.{suffix}" if r else f"tie-out.{suffix}"

    def _ask_csv(self) -> None:
        self._ask("CSV files (*.csv)", "csv", self.export_csv)

    def _ask_pdf(self) -> None:
        self._ask("PDF files (*.pdf)", "pdf", self.export_pdf)

    def _ask(self, filter_text: str, suffix: str, write: Callable[[Path], None]) -> None:
        if self.report is None:
            return
        name, _ = QFileDialog.getSaveFileName(self, "Export the tie-out", self._default_name(suffix), filter_text)
        if not name:
            return
        path = Path(name)
        if path.suffix.lower() != f".{suffix}":
            path = path.with_name(path.name + f".{suffix}")
        try:
            write(path)
        except OSError as exc:
            self.summary.setText(f"The tie-out could not be written to {path}: {exc.strerror or exc}")
            return
        self.summary.setText(f"{self.summary.text()} Exported to {path}.")
