"""The tray icon's state and its notifications, as a person would see them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from provet_xero_gui.app.passes import CannotSync
from provet_xero_gui.app.types import Status
from provet_xero_gui.profile import Profile
from provet_xero_gui.sync.events import SyncResult
from provet_xero_gui.ui.app import AppShell
from provet_xero_gui.ui.icons import state_icon
from provet_xero_gui.ui.main_window import place_window
from provet_xero_gui.ui.status import TRAY_STATES, tray_state


def _shell(qtbot: QtBot, profile: Profile, **kwargs) -> AppShell:
    kwargs.setdefault("use_tray", False)
    shell = AppShell(QApplication.instance(), profile, schedule=False, **kwargs)
    qtbot.addWidget(shell.window)
    shell.start()
    try:
        qtbot.waitUntil(lambda: shell.controller.status is not None, timeout=20_000)
    except BaseException:
        shell.stop()
        raise
    return shell


def test_every_state_has_its_own_icon(qtbot: QtBot) -> None:
    pictures = set()
    for state in TRAY_STATES:
        image = state_icon(state).pixmap(32, 32).toImage()
        assert not image.isNull(), state
        pictures.add(bytes(image.constBits()))
    assert len(pictures) == len(TRAY_STATES)


def test_the_first_state_that_applies_wins() -> None:
    ok = Status(provet_connected=True, xero_connected=True, mapping_saved=True)
    assert tray_state(ok, running=False) == "synced"
    assert tray_state(replace(ok, conflicts=1), running=False) == "attention"
    assert tray_state(replace(ok, attention=2), running=False, failure="Xero is down") == "error"
    assert tray_state(replace(ok, paused=True, attention=2), running=False) == "paused"
    assert tray_state(replace(ok, paused=True), running=True) == "syncing"
    assert tray_state(replace(ok, xero_connected=False), running=True) == "signed_out"


def test_a_fresh_profile_is_signed_out(qtbot: QtBot) -> None:
    shell = _shell(qtbot, Profile.open())
    try:
        assert shell.tray.state_name == "signed_out"
        assert shell.window.state_label.text() == "Not connected — finish setup"
        assert "Not connected" in shell.window.dashboard.provet_label.text()
        assert "Signed out" in shell.window.dashboard.xero_label.text()
    finally:
        shell.stop()


def test_states_through_a_failed_pass_pause_and_resume(qtbot: QtBot, make_connected) -> None:
    _sandbox, profile = make_connected(12)
    outcomes: list[object] = [CannotSync("the lock is held by another sync"), SyncResult(sent={"invoice": 1})]

    def run(_profile: Profile, **_kwargs: object) -> SyncResult:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    shell = _shell(qtbot, profile, run=run)
    try:
        assert shell.tray.state_name == "synced"
        shell.controller.sync_now()
        qtbot.waitUntil(lambda: shell.tray.state_name == "error", timeout=10_000)
        assert "Could not sync: the lock is held" in shell.window.dashboard.result_label.text()
        shell.controller.sync_now()
        qtbot.waitUntil(lambda: shell.tray.state_name == "synced", timeout=10_000)

        qtbot.mouseClick(shell.window.dashboard.pause_button, Qt.MouseButton.LeftButton)
        assert shell.tray.state_name == "paused"
        assert shell.window.dashboard.pause_button.text() == "&Resume syncing"
        qtbot.waitUntil(lambda: profile.settings_file.load().settings.sync.paused, timeout=10_000)
        assert shell.window.dashboard.next_sync_label.text().startswith("Paused")

        qtbot.mouseClick(shell.window.dashboard.pause_button, Qt.MouseButton.LeftButton)
        assert shell.window.dashboard.pause_button.text() == "&Pause syncing"
        qtbot.waitUntil(lambda: not profile.settings_file.load().settings.sync.paused, timeout=10_000)
        assert shell.tray.state_name == "synced"
    finally:
        shell.stop()


def test_pause_stops_a_running_pass_at_the_next_batch(qtbot: QtBot, make_connected) -> None:
    _sandbox, profile = make_connected(120)
    shell = _shell(qtbot, profile)
    try:
        shell.controller.sync_now()
        qtbot.waitUntil(lambda: shell.window.dashboard.progress_bar.maximum() > 0, timeout=60_000)
        shell.controller.pause()
        qtbot.waitUntil(lambda: not shell.controller.running, timeout=60_000)
        qtbot.waitUntil(lambda: "paused" in shell.window.dashboard.result_label.text(), timeout=10_000)
        assert shell.tray.state_name == "paused"
        assert shell.controller.next_sync_at is None
    finally:
        shell.stop()


def test_notifications_for_a_lost_xero_and_new_attention(qtbot: QtBot, make_connected) -> None:
    _sandbox, profile = make_connected(12)
    result = SyncResult(held={"vat_group_unmapped": 2}, attention_open=2, stopped="Xero ended the connection",
                        stop_kind="connection_ended")
    shell = _shell(qtbot, profile, run=lambda _p, **_k: result)
    seen: list[str] = []
    shell.controller.notify.connect(lambda note: seen.append(note.title))
    try:
        shell.controller.sync_now()
        qtbot.waitUntil(lambda: "Xero connection lost" in seen, timeout=10_000)
        assert shell.tray.state_name == "error"
        assert shell.tray.last_message.title == "Xero connection lost"
        # no tray here: the message shows in the window's status bar
        assert shell.window.statusBar().currentMessage().startswith("Xero connection lost: ")
        assert "sign in to Xero again" in shell.window.statusBar().currentMessage()
    finally:
        shell.stop()


def test_a_xero_sign_in_close_to_expiry_is_announced(qtbot: QtBot, make_connected) -> None:
    _sandbox, profile = make_connected(12)
    settings = profile.settings_file.load().settings
    used = (datetime.now(UTC) - timedelta(days=55)).isoformat()
    profile.settings_file.save(replace(settings, xero=replace(settings.xero, refresh_token_used_at=used)))
    shell = _shell(qtbot, profile.reload())
    try:
        qtbot.waitUntil(lambda: shell.tray.last_message is not None, timeout=10_000)
        assert shell.tray.last_message.title == "Xero sign-in expires soon"
        assert "ends in 4 days" in shell.tray.last_message.text
        assert "sign-in ends in 4 days" in shell.window.dashboard.xero_label.text()
    finally:
        shell.stop()


def test_closing_keeps_the_app_in_the_tray_when_there_is_one(qtbot: QtBot) -> None:
    shell = _shell(qtbot, Profile.open(), use_tray=True)
    try:
        shell.window.show()
        shell.window.close()
        assert shell.window.isHidden()
        assert not QApplication.instance().quitOnLastWindowClosed()
        assert shell.tray.last_message.title == "provet-xero keeps syncing"
        shell.tray.open_requested.emit()  # the tray's Open
        assert shell.window.isVisible()
    finally:
        shell.stop()


def test_without_a_tray_closing_the_window_quits(qtbot: QtBot) -> None:
    shell = _shell(qtbot, Profile.open(), use_tray=False)
    try:
        shell.window.show()
        assert QApplication.instance().quitOnLastWindowClosed()
        assert shell.window.close()  # accepted: the last window closes and the app ends
        assert shell.tray.last_message is None
    finally:
        shell.stop()
        QApplication.instance().setQuitOnLastWindowClosed(True)


def test_keyboard_shortcuts_and_names(qtbot: QtBot) -> None:
    shell = _shell(qtbot, Profile.open())
    try:
        w = shell.window
        w.show()
        assert w.sync_action.shortcut().toString() == "Ctrl+R"
        assert w.find_action.shortcut().toString() == "Ctrl+F"
        w.find_action.trigger()
        assert w.tabs.currentWidget() is w.log_view
        assert [w.tabs.tabText(i) for i in range(w.tabs.count())] == [
            "&Dashboard", "&Mapping", "&Attention", "&Conflicts", "&Tie-out", "&Log"]
        assert w.dashboard.sync_button.accessibleName() == "Sync now"
        assert w.log_view.filter_edit.accessibleName() == "Filter the log"
        # 1100×680 on a 1366×768 practice screen; shrunk to fit a smaller one (the offscreen test screen).
        assert place_window(None, [QRect(0, 0, 1366, 728)]).size() == QSize(1100, 680)
        screen = QApplication.primaryScreen().availableGeometry()
        assert screen.contains(w.frameGeometry()) and w.minimumWidth() == min(900, screen.width() - 16)
    finally:
        shell.stop()
