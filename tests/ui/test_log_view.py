"""The live log: 100,000 entries filter, scroll and reorder (the times are printed; targets are the
benchmark's); the order and the filter are the person's; an entry shows its document; the export writes
what is shown."""

from __future__ import annotations

import csv
import time
from pathlib import Path

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from provet_xero_gui.app.log import LOG_CHUNK, write_log_csv
from provet_xero_gui.app.types import DocumentDetails
from provet_xero_gui.store import LogEntry
from provet_xero_gui.ui.log_model import MESSAGE, LogModel
from provet_xero_gui.ui.log_view import LogView

N = 100_000


def _entries(n: int, start: int = 1) -> list[LogEntry]:
    out = []
    for i in range(start, start + n):
        if i % 50 == 0:
            out.append(LogEntry(i, "2025-11-25T10:00:00+00:00", "warning", "DocumentHeld",
                                f"Held: Invoice INV-{i} — VAT group 'Reduced 10%' is not mapped.", "invoice", str(i)))
        elif i % 7 == 0:
            out.append(LogEntry(i, "2025-11-25T10:00:00+00:00", "debug", "DocumentSkipped",
                                f"Skipped: Invoice INV-{i} — not finalised", "invoice", str(i)))
        else:
            out.append(LogEntry(i, "2025-11-25T10:00:00+00:00", "info", "DocumentSent",
                                f"Sent: Invoice INV-{i} → Xero", "invoice", str(i)))
    return out


def _shown(view: LogView) -> list[str]:
    return [view.proxy.index(r, MESSAGE).data() for r in range(view.proxy.rowCount())]


def _timed(action) -> float:
    start = time.perf_counter()
    action()
    QApplication.processEvents()
    return time.perf_counter() - start


def test_100000_entries_filter_scroll_and_reorder(qtbot: QtBot) -> None:
    model = LogModel()
    view = LogView(model)
    qtbot.addWidget(view)
    view.resize(1000, 600)
    view.show()
    entries = _entries(N)

    def feed() -> None:
        for i in range(0, N, LOG_CHUNK):  # as the worker hands them over
            model.append_entries(entries[i:i + LOG_CHUNK])

    t_feed = _timed(feed)
    assert model.rowCount() == N
    debug_rows = sum(1 for e in entries if e.level == "debug")
    assert view.proxy.rowCount() == N - debug_rows  # debug hidden by default
    assert view.count_label.text() == f"{N - debug_rows:,} of {N:,} entries shown"

    def text_filter() -> None:
        view.filter_edit.setText("INV-4200")
        view.apply_filter()

    t_text = _timed(text_filter)
    assert _shown(view) == ["Sent: Invoice INV-42009 → Xero", "Sent: Invoice INV-42008 → Xero",
                            "Sent: Invoice INV-42006 → Xero", "Sent: Invoice INV-42005 → Xero",
                            "Sent: Invoice INV-42004 → Xero", "Sent: Invoice INV-42003 → Xero",
                            "Sent: Invoice INV-42002 → Xero", "Sent: Invoice INV-42001 → Xero",
                            "Held: Invoice INV-42000 — VAT group 'Reduced 10%' is not mapped.",
                            "Held: Invoice INV-4200 — VAT group 'Reduced 10%' is not mapped."]

    def level_filter() -> None:
        view.filter_edit.clear()
        view.level_combo.setCurrentIndex(2)  # warnings and errors
        view.apply_filter()

    t_level = _timed(level_filter)
    assert view.proxy.rowCount() == N // 50
    assert all(m.startswith("Held:") for m in _shown(view)[:100])

    view.level_combo.setCurrentIndex(0)
    view.apply_filter()
    assert view.proxy.rowCount() == N

    def scroll() -> None:
        for _ in range(20):
            view.table.scrollToBottom()
            QApplication.processEvents()
            view.table.scrollToTop()
            QApplication.processEvents()

    t_scroll = _timed(scroll) / 40
    t_order = _timed(lambda: view.order_combo.setCurrentIndex(1))
    assert view.proxy.index(0, MESSAGE).data() == "Sent: Invoice INV-1 → Xero"  # oldest first now
    t_live = _timed(lambda: model.append_entries(_entries(100, start=N + 1)))
    assert view.proxy.index(view.proxy.rowCount() - 1, MESSAGE).data() .startswith(f"Held: Invoice INV-{N + 100} ")

    print(f"\n100,000 log rows: feed {t_feed:.2f} s, text filter {t_text:.2f} s, level filter {t_level:.2f} s, "
          f"scroll {t_scroll * 1000:.1f} ms, order flip {t_order:.2f} s, 100 live rows {t_live * 1000:.1f} ms")


def test_newest_first_or_last_and_live_rows(qtbot: QtBot) -> None:
    model = LogModel()
    view = LogView(model)
    qtbot.addWidget(view)
    model.append_entries(_entries(3))
    assert _shown(view) == ["Sent: Invoice INV-3 → Xero", "Sent: Invoice INV-2 → Xero", "Sent: Invoice INV-1 → Xero"]
    model.append_entries(_entries(3))  # the same rows read again are not doubled
    assert view.proxy.rowCount() == 3
    view.order_combo.setCurrentIndex(1)
    model.append_entries(_entries(1, start=4))
    model.add_local("error", "Could not sync: no mapping")
    assert _shown(view) == ["Sent: Invoice INV-1 → Xero", "Sent: Invoice INV-2 → Xero", "Sent: Invoice INV-3 → Xero",
                            "Sent: Invoice INV-4 → Xero", "Could not sync: no mapping"]


def test_choosing_an_entry_shows_its_document(qtbot: QtBot) -> None:
    model = LogModel()
    view = LogView(model)
    qtbot.addWidget(view)
    model.append_entries(_entries(50))
    asked: list[tuple[str, str]] = []
    view.document_wanted.connect(lambda kind, pid: asked.append((kind, pid)))
    view.filter_edit.setText("INV-50")
    view.apply_filter()
    view.table.selectRow(0)
    assert asked == [("invoice", "50")]
    assert "VAT group" in view.details.toPlainText() and "Invoice 50" in view.details.toPlainText()
    view.show_document(DocumentDetails("invoice", "50", attention=(("VAT group 'Reduced 10%' is not mapped",
                                                                    "Map it, then Retry"),)))
    text = view.details.toPlainText()
    assert "Not in Xero yet." in text and "Fix: Map it, then Retry" in text


def test_export_writes_what_is_shown(qtbot: QtBot, tmp_path: Path) -> None:
    model = LogModel()
    view = LogView(model)
    qtbot.addWidget(view)
    model.append_entries(_entries(100))
    view.level_combo.setCurrentIndex(2)
    view.apply_filter()
    path = tmp_path / "log.csv"
    write_log_csv(path, view.shown_entries())
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:4] == ["time (UTC)", "level", "event", "message"]
    assert [r[3] for r in rows[1:]] == ["Held: Invoice INV-100 — VAT group 'Reduced 10%' is not mapped.",
                                        "Held: Invoice INV-50 — VAT group 'Reduced 10%' is not mapped."]
