"""The Log page: a filterable table of what the sync did, with the document an entry concerns.

The table is a view on `LogModel` through `LogFilter`; rows have a fixed height and columns fixed
widths, so the view never measures 100,000 rows. Asking for a document's details and writing the CSV
go through signals to the controller, which does them off the GUI thread.
"""

from __future__ import annotations

import html
import logging

from PySide6.QtCore import QItemSelection, QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from provet_xero_gui.app.types import DocumentDetails, LogEntry
from provet_xero_gui.ui.log_model import (
    DOCUMENT,
    ENTRY_ROLE,
    LEVEL,
    MESSAGE,
    TIME,
    LogFilter,
    LogModel,
    document_words,
    local_time,
)

log = logging.getLogger(__name__)

LEVEL_CHOICES = (
    ("Everything, with skipped documents", "debug"),
    ("Information, warnings and errors", "info"),
    ("Warnings and errors", "warning"),
    ("Errors only", "error"),
)
FILTER_DELAY_MS = 150


class LogView(QWidget):
    document_wanted = Signal(str, str)  # kind, Provet id
    export_wanted = Signal(str, object)  # path, list[LogEntry]

    def __init__(self, model: LogModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.proxy = LogFilter(self)
        self.proxy.setSourceModel(model)
        self._shown: LogEntry | None = None

        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter the log: words in the message or document (Ctrl+F)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setAccessibleName("Filter the log")
        filter_label = QLabel("&Filter:")
        filter_label.setBuddy(self.filter_edit)
        self.level_combo = QComboBox()
        for text, level in LEVEL_CHOICES:
            self.level_combo.addItem(text, level)
        self.level_combo.setCurrentIndex(1)
        self.level_combo.setAccessibleName("Show log levels")
        level_label = QLabel("S&how:")
        level_label.setBuddy(self.level_combo)
        self.order_combo = QComboBox()
        self.order_combo.addItems(["Newest first", "Oldest first"])
        self.order_combo.setCurrentIndex(0 if model.newest_first else 1)
        self.order_combo.setAccessibleName("Order of the log")
        order_label = QLabel("&Order:")
        order_label.setBuddy(self.order_combo)
        self.export_button = QPushButton("E&xport CSV…")
        self.export_button.setAccessibleName("Export the log as CSV")
        self.count_label = QLabel()
        self.count_label.setAccessibleName("Entries shown")

        bar = QHBoxLayout()
        bar.addWidget(filter_label)
        bar.addWidget(self.filter_edit, 1)
        bar.addWidget(level_label)
        bar.addWidget(self.level_combo)
        bar.addWidget(order_label)
        bar.addWidget(self.order_combo)
        bar.addWidget(self.export_button)

        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setAccessibleName("Log entries")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setSortingEnabled(False)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        vh = self.table.verticalHeader()
        vh.setVisible(False)
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(self.fontMetrics().height() + 8)
        hh = self.table.horizontalHeader()
        for col, width in ((TIME, 150), (LEVEL, 80), (DOCUMENT, 150)):
            hh.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            self.table.setColumnWidth(col, width)
        hh.setSectionResizeMode(MESSAGE, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().moveSection(DOCUMENT, MESSAGE)  # Time, Level, Document, Message

        self.details = QTextBrowser()
        self.details.setAccessibleName("Details of the chosen log entry")
        self.details.setOpenLinks(False)
        self.details.setPlaceholderText("Choose an entry to see the document it concerns.")

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 4)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([380, 160])

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.count_label)

        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(FILTER_DELAY_MS)
        self._filter_timer.timeout.connect(self.apply_filter)
        self.filter_edit.textChanged.connect(self._filter_timer.start)
        self.filter_edit.returnPressed.connect(self.apply_filter)
        self.level_combo.currentIndexChanged.connect(self.apply_filter)
        self.order_combo.currentIndexChanged.connect(lambda i: model.set_newest_first(i == 0))
        self.export_button.clicked.connect(self._ask_export)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        for signal in (self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.modelReset,
                       self.proxy.layoutChanged):
            signal.connect(self._update_count)
        self.setTabOrder(self.filter_edit, self.level_combo)
        self.setTabOrder(self.level_combo, self.order_combo)
        self.setTabOrder(self.order_combo, self.export_button)
        self.setTabOrder(self.export_button, self.table)
        self.setTabOrder(self.table, self.details)
        self._update_count()

    # --- filtering ---------------------------------------------------------------------------------
    def apply_filter(self) -> None:
        """Apply the typed text and the chosen level now (typing applies them after a short pause)."""
        self._filter_timer.stop()
        self.proxy.set_min_level(self.level_combo.currentData())
        self.proxy.set_text(self.filter_edit.text())
        self._update_count()

    def focus_filter(self) -> None:
        self.filter_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_edit.selectAll()

    def _update_count(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.count_label.setText(f"{shown:,} of {total:,} entries shown" if shown != total
                                 else f"{total:,} entries")

    # --- the details pane ---------------------------------------------------------------------------
    def _selection_changed(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        indexes = selected.indexes()
        if indexes:
            self.show_entry(indexes[0])

    def show_entry(self, index: QModelIndex) -> None:
        entry = index.data(ENTRY_ROLE)
        if not isinstance(entry, LogEntry):
            return
        self._shown = entry
        self.details.setHtml(self._entry_html(entry))
        if entry.document_kind and entry.document_id:
            self.document_wanted.emit(entry.document_kind, entry.document_id)

    def show_document(self, details: DocumentDetails) -> None:
        entry = self._shown
        if entry is None or (entry.document_kind, entry.document_id) != (details.kind, details.provet_id):
            return  # an answer to an earlier click
        parts = [self._entry_html(entry)]
        if details.xero_id:
            number = f" as {html.escape(details.xero_number)}" if details.xero_number else ""
            parts.append(f"<p><b>In Xero</b>{number} (Xero id {html.escape(details.xero_id)}).</p>")
        else:
            parts.append("<p><b>Not in Xero</b> yet.</p>")
        for reason, fix in details.attention:
            parts.append(f"<p><b>Needs attention:</b> {html.escape(reason)}<br><b>Fix:</b> {html.escape(fix)}</p>")
        if details.history:
            rows = "".join(f"<li>{html.escape(local_time(ts))} — {html.escape(msg)}</li>"
                           for ts, _level, msg in details.history)
            parts.append(f"<p><b>History of this document</b></p><ul>{rows}</ul>")
        self.details.setHtml("".join(parts))

    @staticmethod
    def _entry_html(entry: LogEntry) -> str:
        doc = document_words(entry)
        return (f"<p><b>{html.escape(local_time(entry.ts))}</b> · {html.escape(entry.level.capitalize())}"
                + (f" · {html.escape(doc)} (Provet id {html.escape(entry.document_id or '')})" if doc else "")
                + f"</p><p>{html.escape(entry.message)}</p>")

    # --- export --------------------------------------------------------------------------------------
    def _ask_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the log", "provet-xero-log.csv",
                                              "CSV files (*.csv);;All files (*)")
        if path:
            self.export_wanted.emit(path, self.shown_entries())

    def shown_entries(self) -> list[LogEntry]:
        """The entries as filtered and ordered on screen."""
        if self.proxy.rowCount() == self.model.rowCount():
            return self.model.entries_in_view_order()
        return self.proxy.entries()
