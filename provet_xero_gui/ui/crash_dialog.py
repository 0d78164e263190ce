"""An unexpected error in the window: a dialog with a copyable, secret-free report, and the app goes on.

`CrashHandler.install()` takes over `sys.excepthook` (a slot that raises ends up there) and
`threading.excepthook` (a worker thread that dies). Each report is built by crash.py (secrets cut out),
written to the log, and shown in one non-modal dialog; reports that come while it is open are added to it.
The hooks are put back by `uninstall()`; a hook that was there before (a test harness) is still called.
"""

from __future__ import annotations

import logging
import sys
import threading
from types import TracebackType
from typing import Any

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from provet_xero_gui.app.process import UncleanEnd, crash_report

log = logging.getLogger(__name__)

INTRO = (
    "<b>Something went wrong inside provet-xero.</b><br>The app keeps running, and nothing that was already "
    "synced is lost; a sync that was under way finishes its writes on the next pass. If this happens again, "
    "press <b>Copy report</b> and send the report to whoever supports provet-xero for you. It holds no "
    "passwords or sign-in tokens."
)



def stopped_intro(end: UncleanEnd) -> str:
    """The dialog's words on the start after a run that did not end."""
    return (
        f"<b>{end.words()}</b><br>It carries on syncing from where it was: nothing already sent goes to Xero "
        "twice, and nothing is lost. If this happens again, press <b>Save report…</b> or <b>Copy report</b> "
        "and send the report to whoever supports provet-xero for you. It holds no passwords or sign-in tokens."
    )


class CrashDialog(QDialog):
    """Shows one or more crash reports; non-modal, so the window behind it keeps working."""

    def __init__(self, parent: QWidget | None = None, *, intro: str = INTRO,
                 title: str = "provet-xero — unexpected error") -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(False)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self.intro_label = intro = QLabel(intro)
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.RichText)
        self.report_view = QPlainTextEdit()
        self.report_view.setReadOnly(True)
        self.report_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.report_view.setAccessibleName("Error report")
        self.copy_button = QPushButton("&Copy report")
        self.copy_button.setAccessibleName("Copy the error report to the clipboard")
        self.copy_button.clicked.connect(self.copy_report)
        self.save_button = QPushButton("&Save report…")
        self.save_button.setAccessibleName("Save the error report to a file")
        self.save_button.clicked.connect(self.ask_where_to_save)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.close)
        self.copied_label = QLabel("")
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.report_view, 1)
        layout.addWidget(self.copied_label)
        layout.addWidget(buttons)
        self.resize(760, 460)
        self.reports: list[str] = []

    def add_report(self, report: str) -> None:
        self.reports.append(report)
        self.report_view.setPlainText(("\n" + "-" * 72 + "\n").join(self.reports))
        self.copied_label.setText("")

    @property
    def report_text(self) -> str:
        return self.report_view.toPlainText()

    def copy_report(self) -> None:
        QGuiApplication.clipboard().setText(self.report_text)
        self.copied_label.setText("The report is on the clipboard.")

    def ask_where_to_save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the report", "provet-xero-report.txt",
                                              "Text files (*.txt);;All files (*)")
        if path:
            self.save_report(path)

    def save_report(self, path: str) -> None:
        try:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(self.report_text)
        except OSError as exc:
            self.copied_label.setText(f"The report could not be saved there: {exc.strerror or exc}.")
            return
        self.copied_label.setText(f"The report was saved as {path}.")

    def closeEvent(self, event: Any) -> None:
        self.reports.clear()
        super().closeEvent(event)


class CrashHandler(QObject):
    """Routes uncaught exceptions (any thread) to the log and to the dialog on the GUI thread."""

    _reported = Signal(str)

    def __init__(self, parent_widget: QWidget | None = None) -> None:
        super().__init__()
        self._parent_widget = parent_widget
        self.dialog: CrashDialog | None = None
        self._previous: tuple[Any, Any] | None = None
        self._reported.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def install(self) -> CrashHandler:
        if self._previous is None:
            self._previous = (sys.excepthook, threading.excepthook)
            sys.excepthook = self.handle
            threading.excepthook = self._thread_hook
        return self

    def uninstall(self) -> None:
        if self._previous is not None:
            if sys.excepthook == self.handle:
                sys.excepthook = self._previous[0]
            if threading.excepthook == self._thread_hook:
                threading.excepthook = self._previous[1]
            self._previous = None

    def handle(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt | SystemExit):
            sys.__excepthook__(exc_type, exc, tb)
            return
        try:
            report = crash_report(exc_type, exc, tb, extra={"Qt": f"PySide6 {pyside_version}"})
            log.error("unexpected error (the app goes on):\n%s", report)
            self._reported.emit(report)  # queued: shown by the GUI thread, whichever thread failed
        except Exception:  # the handler must never be the next crash
            sys.__excepthook__(exc_type, exc, tb)
            return
        # A hook someone installed before us (a test harness) still hears of it; Python's own default is
        # not called, as it would print the unredacted traceback.
        previous = self._previous[0] if self._previous else None
        if previous not in (None, sys.__excepthook__, self.handle):
            previous(exc_type, exc, tb)

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            self.handle(args.exc_type, args.exc_value, args.exc_traceback)

    @Slot(str)
    def _show(self, report: str) -> None:
        if self.dialog is None:
            self.dialog = CrashDialog(self._parent_widget)
        self.dialog.add_report(report)
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()
