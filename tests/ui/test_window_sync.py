"""The window runs a real sync against the sandbox on its worker thread, and shows what happened."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from provet_xero_gui.ui.app import AppShell
from provet_xero_gui.ui.log_model import MESSAGE


def _messages(shell: AppShell) -> list[str]:
    model = shell.window.log_model
    return [model.index(r, MESSAGE).data() for r in range(model.rowCount())]


def _shell(qtbot: QtBot, profile, **kwargs) -> AppShell:
    shell = AppShell(QApplication.instance(), profile, use_tray=False, schedule=False, **kwargs)
    qtbot.addWidget(shell.window)
    shell.start()
    try:
        qtbot.waitUntil(lambda: shell.controller.status is not None, timeout=20_000)
    except BaseException:
        shell.stop()
        raise
    return shell


def _wait_idle(qtbot: QtBot, shell: AppShell, timeout: int = 120_000) -> None:
    qtbot.waitUntil(lambda: not shell.controller.running, timeout=timeout)
    # the status and log read after the pass arrive a moment later
    qtbot.waitUntil(lambda: any(m.startswith("Sync finished") for m in _messages(shell)), timeout=10_000)
    qtbot.waitUntil(lambda: shell.window.dashboard.last_sync_label.text() != "Never", timeout=10_000)


def test_sync_now_runs_a_real_pass_and_the_dashboard_shows_it(qtbot: QtBot, make_connected) -> None:
    _sandbox, profile = make_connected(12)
    shell = _shell(qtbot, profile)
    dash = shell.window.dashboard
    try:
        assert "Connected to" in dash.provet_label.text()
        assert "Connected to Happy Paws Veterinary Ltd" in dash.xero_label.text()
        assert dash.last_sync_label.text() == "Never"
        assert shell.tray.state_name == "synced"

        qtbot.mouseClick(dash.sync_button, Qt.MouseButton.LeftButton)
        assert shell.tray.state_name == "syncing"
        assert dash.sync_button.text() == "Syncing…" and not dash.sync_button.isEnabled()
        _wait_idle(qtbot, shell)

        assert dash.last_sync_label.text().startswith("Today ")
        assert "Sync finished: sent" in dash.result_label.text()
        assert int(dash.tiles["sent_today"].value.text().replace(",", "")) > 0
        assert dash.tiles["calls_left"].value.text() != "–"
        assert dash.sync_button.text() == "&Sync now" and dash.sync_button.isEnabled()
        messages = _messages(shell)
        assert messages[0].startswith("Sync finished")  # newest first
        assert "Sync started." in messages
        assert any(m.startswith("Sent: ") for m in messages)
        status = shell.controller.status
        assert shell.tray.state_name == ("attention" if status.attention or status.conflicts else "synced")
    finally:
        shell.stop()


def test_sync_now_twice_starts_one_pass(qtbot: QtBot, make_connected) -> None:
    _sandbox, profile = make_connected(12)
    shell = _shell(qtbot, profile)
    try:
        shell.window.sync_now()
        shell.window.sync_now()  # while the first runs
        shell.window.sync_action.trigger()  # Ctrl+R's action is disabled meanwhile
        assert "already running" in shell.window.statusBar().currentMessage()
        _wait_idle(qtbot, shell)
        assert _messages(shell).count("Sync started.") == 1
    finally:
        shell.stop()


def test_the_window_keeps_answering_while_a_long_sync_runs(qtbot: QtBot, make_connected) -> None:
    """A heartbeat every 10 ms on the GUI thread while 150 invoices go to Xero: it keeps beating while the pass
    runs, so the pass is off the GUI thread (how long a beat may be late is benchmarks/run.py's figure)."""
    _sandbox, profile = make_connected(150)
    shell = _shell(qtbot, profile)
    running_at_beat: list[bool] = []
    heart = QTimer()
    heart.setInterval(10)
    heart.timeout.connect(lambda: running_at_beat.append(shell.controller.running))
    try:
        heart.start()
        shell.controller.sync_now()
        assert shell.controller.running
        qtbot.waitUntil(lambda: any(running_at_beat), timeout=60_000)  # the GUI thread beat during the pass
        _wait_idle(qtbot, shell, timeout=240_000)
        heart.stop()
        sent = int(shell.window.dashboard.tiles["sent_today"].value.text().replace(",", ""))
        assert sent >= 100
        assert shell.window.dashboard.sync_button.isEnabled()
    finally:
        heart.stop()
        shell.stop()


def test_show_in_mapping_lands_on_the_row_that_fixes_it(qtbot: QtBot, make_connected) -> None:
    _sandbox, profile = make_connected(12)
    shell = _shell(qtbot, profile)
    window = shell.window
    try:
        window.attention_page.open_mapping_requested.emit("payment_methods:type:1")
        assert window.tabs.currentWidget() is window.mapping_page
        editor = window.mapping_page.editor
        qtbot.waitUntil(lambda: editor.isEnabled(), timeout=30_000)  # the page read its sources off the GUI thread
        window.attention_page.open_mapping_requested.emit("payment_methods:type:1")
        assert editor.tabs.tabText(editor.tabs.currentIndex()).startswith("Payment methods")
        table = editor.pages["payment_methods"].table
        assert table.currentIndex().data() == "Cash"  # the row a person has to fix is the one selected
    finally:
        shell.stop()


def test_the_dashboard_says_when_the_history_was_rebuilt_from_xero(qtbot: QtBot, make_connected) -> None:
    """A new PC (or a lost store): the pass rebuilds the links from what Xero holds, and the dashboard says
    so, with how many; on a profile whose history was never lost the line is not there."""
    from provet_xero_gui.app.passes import run_sync

    _sandbox, profile = make_connected(12)
    assert run_sync(profile).stopped is None
    shell = _shell(qtbot, profile)
    try:
        assert not shell.window.dashboard.history_label.isVisibleTo(shell.window)
    finally:
        shell.stop()
    for path in profile.paths.data_dir.glob("provet-xero.sqlite3*"):
        path.unlink()  # the store is gone: a new PC, or someone deleted it
    assert run_sync(profile.reload()).stopped is None
    shell = _shell(qtbot, profile.reload())
    try:
        label = shell.window.dashboard.history_label
        qtbot.waitUntil(lambda: label.isVisibleTo(shell.window), timeout=20_000)
        assert "link(s) rebuilt from what Xero already holds" in label.text(), label.text()
        assert "invoices" in label.text() and "payments" in label.text() and "Nothing was sent twice" in label.text()
    finally:
        shell.stop()
