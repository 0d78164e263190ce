"""An exception in a slot (or a thread) of the running app: a report dialog with the traceback, nothing
secret in it or in the log file, and a window that still works."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QPushButton
from pytestqt.qtbot import QtBot

from provet_xero_gui import __version__
from provet_xero_gui.app.process import log_to_file
from provet_xero_gui.credentials import XeroTokenSet
from provet_xero_gui.profile import Profile
from provet_xero_gui.ui.app import AppShell

pytestmark = pytest.mark.qt_no_exception_capture  # the app's own hook is what is tested


@pytest.fixture
def shell(qtbot: QtBot) -> Iterator[AppShell]:
    profile = Profile.open()
    shell = AppShell(QApplication.instance(), profile, use_tray=False, schedule=False)
    qtbot.addWidget(shell.window)
    shell.start()
    yield shell
    shell.stop()
    if shell.crash_handler.dialog is not None:
        shell.crash_handler.dialog.close()


@pytest.fixture
def log_file(shell: AppShell) -> Iterator:
    root = logging.getLogger()
    before = set(root.handlers)
    log_to_file(shell.profile)  # as main() does
    yield shell.profile.paths.log_file
    for handler in set(root.handlers) - before:
        handler.close()
        root.removeHandler(handler)


def _planted_secrets(shell: AppShell) -> tuple[str, str, str]:
    """Tokens in the keyring (so the app knows them) and one it never saw, only shaped like a token."""
    access, refresh = secrets.token_urlsafe(48), secrets.token_hex(32)
    shell.profile.credentials().save_xero_tokens(XeroTokenSet(access, refresh, 0.0))
    return access, refresh, "unseen" + secrets.token_urlsafe(30)


def test_a_slot_that_raises_shows_a_secret_free_report_and_the_app_goes_on(
    qtbot: QtBot, shell: AppShell, log_file
) -> None:
    access, refresh, unseen = _planted_secrets(shell)

    def broken_slot() -> None:
        tokens = {"access_token": access, "refresh_token": refresh}
        raise RuntimeError(f"mapping row vanished; tokens were {tokens}, header Authorization: Bearer {unseen}")

    crash = QPushButton("Crash", shell.window)
    crash.clicked.connect(broken_slot)
    crash.show()
    qtbot.mouseClick(crash, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: shell.crash_handler.dialog is not None and shell.crash_handler.dialog.isVisible(),
                    timeout=5000)
    dialog = shell.crash_handler.dialog
    assert dialog is not None and not dialog.isModal()
    text = dialog.report_text
    assert "Traceback (most recent call last)" in text and "broken_slot" in text
    assert "RuntimeError: mapping row vanished" in text
    assert f"provet-xero {__version__}" in text and "Python " in text and "PySide6" in text
    for secret in (access, refresh, unseen):
        assert secret not in text
    assert "[redacted]" in text

    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == text
    assert "clipboard" in dialog.copied_label.text()

    # The window still answers: no modal dialog blocks it, and a click on it runs its slot.
    assert QApplication.activeModalWidget() is None
    clicks: list[int] = []
    other = QPushButton("Other", shell.window)
    other.clicked.connect(lambda: clicks.append(1))
    other.show()
    qtbot.mouseClick(other, Qt.MouseButton.LeftButton)
    assert clicks == [1]
    shell.window.dashboard.sync_button.click()  # the real window's own controls too
    qtbot.waitUntil(lambda: not shell.controller.running, timeout=20_000)

    logged = log_file.read_text(encoding="utf-8")
    assert "unexpected error" in logged and "broken_slot" in logged
    for secret in (access, refresh, unseen):
        assert secret not in logged


def test_a_thread_that_dies_is_reported_in_the_same_dialog(qtbot: QtBot, shell: AppShell) -> None:
    def first() -> None:
        raise ValueError("first problem")

    b = QPushButton("Crash", shell.window)
    b.clicked.connect(first)
    qtbot.mouseClick(b, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: shell.crash_handler.dialog is not None and shell.crash_handler.dialog.isVisible())

    def worker() -> None:
        raise KeyError("second problem, in a thread")

    t = threading.Thread(target=worker, name="some-worker")
    t.start()
    t.join(5)
    dialog = shell.crash_handler.dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: "second problem" in dialog.report_text, timeout=5000)
    assert "first problem" in dialog.report_text and len(dialog.reports) == 2


def test_the_hooks_are_put_back_when_the_app_stops(qtbot: QtBot) -> None:
    import sys

    before = (sys.excepthook, threading.excepthook)
    shell = AppShell(QApplication.instance(), Profile.open(), use_tray=False, schedule=False)
    qtbot.addWidget(shell.window)
    assert sys.excepthook == shell.crash_handler.handle
    shell.stop()
    assert (sys.excepthook, threading.excepthook) == before


def test_the_report_is_saved_where_the_admin_chooses(qtbot: QtBot, tmp_path, monkeypatch) -> None:
    """Save report… asks where (the file dialog) and writes the report there; a folder that can't be
    written to is said in plain words, and the report stays in the dialog."""
    from PySide6.QtWidgets import QFileDialog

    from provet_xero_gui.ui.crash_dialog import CrashDialog

    dialog = CrashDialog()
    qtbot.addWidget(dialog)
    dialog.add_report("provet-xero 1.0\n\nSomething happened.\n")
    dialog.show()
    target = tmp_path / "report.txt"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert target.read_text(encoding="utf-8") == dialog.report_text
    assert dialog.copied_label.text() == f"The report was saved as {target}."

    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "no" / "r.txt"), ""))
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.copied_label.text().startswith("The report could not be saved there: ")
    assert "Something happened." in dialog.report_text

    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))  # the admin cancelled
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.copied_label.text().startswith("The report could not be saved there: ")
