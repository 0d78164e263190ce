"""The window across restarts and at login: it comes back as it was left, always on a screen that exists,
starts in the tray with `--minimized`, and a second launch brings it forward.

The in-process tests run on Qt's offscreen screen (800×800); the monitor tests start the window in a child
process on configured offscreen screens (a 1366×768 practice screen, with and without a second monitor).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from provet_xero_gui import cli
from provet_xero_gui.profile import Profile
from provet_xero_gui.settings import SettingsFile, WindowSettings
from provet_xero_gui.sync.events import SyncResult
from provet_xero_gui.ui.app import AppShell
from provet_xero_gui.ui.log_model import TIME
from provet_xero_gui.ui.main_window import DEFAULT_SIZE, TAB_KEYS, place_window
from provet_xero_gui.ui.single_instance import SingleInstance, instance_name


def _start(qtbot: QtBot, *, use_tray: bool = False, minimized: bool = False, **kwargs) -> AppShell:
    kwargs.setdefault("schedule", False)
    shell = AppShell(QApplication.instance(), Profile.open(), use_tray=use_tray, **kwargs)
    qtbot.addWidget(shell.window)
    shell.start(minimized=minimized)
    if shell.window.isVisible():
        qtbot.waitExposed(shell.window)
    return shell


def _save_window(**values: object) -> None:
    f = SettingsFile(Profile.open().paths.settings_file)
    f.update(window=WindowSettings(**values))


def _screen() -> QRect:
    return QApplication.primaryScreen().availableGeometry()


def _drag_splitter(qtbot: QtBot, splitter, by: int) -> None:
    """Drag the handle between the splitter's two parts as a person does, `by` pixels down."""
    handle = splitter.handle(1)
    middle = handle.rect().center()
    QTest.mousePress(handle, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, middle)
    QTest.mouseMove(handle, middle + QPoint(0, by // 2))
    QTest.mouseMove(handle, middle + QPoint(0, by))
    QTest.mouseRelease(handle, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, middle + QPoint(0, by))


# --- across a restart -----------------------------------------------------------------------------------


def test_the_window_comes_back_as_it_was_left(qtbot: QtBot) -> None:
    shell = _start(qtbot)
    w = shell.window
    try:
        w.setGeometry(QRect(10, 40, 790, 700))  # moved and resized
        qtbot.mouseClick(w.tabs.tabBar(), Qt.MouseButton.LeftButton,
                         pos=w.tabs.tabBar().tabRect(TAB_KEYS.index("log")).center())
        assert w.tabs.currentWidget() is w.log_view
        splitter = w.splitters()["log.0"]
        qtbot.waitUntil(lambda: splitter.isVisible() and splitter.sizes()[1] > 0)
        before = splitter.sizes()
        _drag_splitter(qtbot, splitter, -120)
        qtbot.waitUntil(lambda: splitter.sizes() != before)
        left_sizes = splitter.sizes()
        assert left_sizes[0] < before[0] - 60  # the drag took
        w.log_view.table.horizontalHeader().resizeSection(TIME, 231)
        w.log_view.order_combo.setCurrentIndex(1)  # oldest first
        left_geometry = w.geometry()
    finally:
        shell.stop()

    again = _start(qtbot)
    w = again.window
    try:
        assert w.isVisible()
        assert w.geometry() == left_geometry == QRect(10, 40, 790, 700)
        assert w.tabs.currentWidget() is w.log_view
        splitter = w.splitters()["log.0"]
        qtbot.waitUntil(lambda: splitter.sizes() == left_sizes, timeout=3_000)
        assert w.log_view.table.columnWidth(TIME) == 231
        assert w.log_view.order_combo.currentText() == "Oldest first"
        assert not w.log_model.newest_first
    finally:
        again.stop()


def test_a_maximised_window_comes_back_maximised_and_restores_to_its_old_size(qtbot: QtBot) -> None:
    shell = _start(qtbot)
    try:
        shell.window.setGeometry(QRect(8, 60, 786, 640))
        shell.window.showMaximized()
        qtbot.waitUntil(shell.window.isMaximized)
    finally:
        shell.stop()
    again = _start(qtbot)
    w = again.window
    try:
        qtbot.waitUntil(lambda: w.isMaximized() and w.width() > 786)
        w.showNormal()
        qtbot.waitUntil(lambda: w.geometry() == QRect(8, 60, 786, 640))
        assert not w.isMaximized()
    finally:
        again.stop()


# --- on whatever screen there is now -------------------------------------------------------------------


@pytest.mark.parametrize("saved", [
    (4000, 3000, 790, 650),  # on a monitor that is not there any more
    (-2500, 100, 790, 650),  # one on the left, unplugged
    (0, 0, 2560, 1400),  # bigger than this screen
], ids=["off-right", "off-left", "too-big"])
def test_a_place_on_no_screen_or_too_big_comes_back_on_screen_and_fitting(qtbot: QtBot, saved: tuple) -> None:
    _save_window(x=saved[0], y=saved[1], width=saved[2], height=saved[3])
    shell = _start(qtbot)
    w = shell.window
    try:
        screen = _screen()
        assert w.isVisible()
        assert screen.contains(w.frameGeometry()), (w.frameGeometry(), screen)
        assert w.width() <= DEFAULT_SIZE[0] and w.height() <= DEFAULT_SIZE[1]
        assert w.minimumWidth() <= screen.width() and w.minimumHeight() <= screen.height()
    finally:
        shell.stop()


def test_a_window_hanging_over_the_edge_is_moved_onto_the_screen_keeping_its_size(qtbot: QtBot) -> None:
    _save_window(x=300, y=250, width=784, height=620)  # its right and bottom edges beyond the 800×800 screen
    shell = _start(qtbot)
    try:
        assert shell.window.size() == QSize(784, 620)
        assert _screen().contains(shell.window.frameGeometry())
    finally:
        shell.stop()


PRACTICE = QRect(0, 0, 1366, 728)  # a 1366×768 screen less a 40-pixel task bar
SECOND = QRect(1366, 0, 1920, 1040)


def test_placing_on_a_practice_screen() -> None:
    default = place_window(None, [PRACTICE])
    assert default.size() == QSize(*DEFAULT_SIZE)
    assert PRACTICE.contains(default.adjusted(-8, -31, 8, 8))  # the title bar and borders fit too
    assert place_window(QRect(100, 50, 1000, 600), [PRACTICE]) == QRect(100, 50, 1000, 600)
    assert place_window(QRect(1600, 80, 1200, 800), [PRACTICE, SECOND]) == QRect(1600, 80, 1200, 800)
    unplugged = place_window(QRect(1600, 80, 1200, 800), [PRACTICE])
    assert unplugged == default
    assert place_window(QRect(0, 0, 1920, 1080), [PRACTICE]) == default  # from a bigger monitor
    edge = place_window(QRect(900, 400, 1000, 600), [PRACTICE])
    assert edge.size() == QSize(1000, 600) and PRACTICE.contains(edge)
    assert place_window(QRect(100, -300, 800, 600), [PRACTICE]).top() >= 24  # its title bar can be grabbed


_CHILD = """
import json, sys
from PySide6.QtWidgets import QApplication
from provet_xero_gui.profile import Profile
from provet_xero_gui.ui.app import AppShell, make_application
app = make_application()
shell = AppShell(app, Profile.open(), use_tray=False, schedule=False)
shell.start()
for _ in range(50):
    app.processEvents()
w = shell.window
r, f = w.geometry(), w.frameGeometry()
screens = [s.availableGeometry() for s in app.screens()]
print(json.dumps({"inside": [r.x(), r.y(), r.width(), r.height()], "frame": [f.x(), f.y(), f.width(), f.height()],
                  "screen": w.screen().name(), "screens": [[s.x(), s.y(), s.width(), s.height()] for s in screens]}))
shell.stop()
"""


def _window_on(tmp_path: Path, screens: list[dict]) -> dict:
    """Start the window in a child process whose offscreen platform has these screens; where it is."""
    config = tmp_path / "screens.json"
    config.write_text(json.dumps({"screens": [
        {"logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1, **s} for s in screens]}), encoding="utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}"}
    done = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_window_left_on_an_unplugged_monitor_opens_on_the_practice_screen(tmp_path: Path) -> None:
    practice = {"name": "practice", "x": 0, "y": 0, "width": 1366, "height": 768}
    second = {"name": "second", "x": 1366, "y": 0, "width": 1920, "height": 1080}
    _save_window(x=1500, y=100, width=1200, height=800)  # on the second monitor
    both = _window_on(tmp_path, [practice, second])
    assert both["screen"] == "second" and both["inside"] == [1500, 100, 1200, 800]

    alone = _window_on(tmp_path, [practice])  # the second monitor was unplugged
    x, y, width, height = alone["frame"]
    assert alone["screen"] == "practice"
    assert x >= 0 and y >= 0 and x + width <= 1366 and y + height <= 768
    assert alone["inside"][2:] == list(DEFAULT_SIZE)


# --- damaged settings -----------------------------------------------------------------------------------


@pytest.mark.parametrize("window", [
    {"x": "left", "y": 5, "width": -3, "height": True, "maximized": "yes", "tab": 7,
     "splitters": {"log.0": ["a"], "x": 5}, "log_header": "!!! not base64", "log_newest_first": "no"},
    {"x": 10, "y": 10, "width": 790, "height": 700, "tab": "no such tab", "splitters": {"log.0": [1, 2, 3, 4]},
     "log_header": "AAAA/wAAAAA="},  # well-formed, but nothing Qt can use
    [1, 2, 3],
], ids=["wrong-types", "garbage-values", "not-an-object"])
def test_damaged_window_settings_are_ignored(qtbot: QtBot, window: object) -> None:
    path = Profile.open().paths.settings_file
    data = json.loads(path.read_text(encoding="utf-8"))
    data["window"] = window
    data["start_at_login"] = True
    path.write_text(json.dumps(data), encoding="utf-8")
    shell = _start(qtbot)
    w = shell.window
    try:
        assert w.isVisible() and _screen().contains(w.frameGeometry())
        assert w.tabs.currentWidget() is w.dashboard
        assert w.log_view.table.columnWidth(TIME) == 150  # the log's own default
        assert w.log_view.order_combo.currentText() == "Newest first"
        assert not path.with_name("settings.json.bad").exists()
        assert Profile.open().settings.start_at_login  # the rest of the file is kept
    finally:
        shell.stop()
    assert isinstance(SettingsFile(path).load().settings.window.width, int)  # a good one written back


# --- at login: --minimized -------------------------------------------------------------------------------


def test_minimized_starts_in_the_tray_and_a_second_launch_brings_the_window(qtbot: QtBot, make_connected,
                                                                            tmp_path: Path) -> None:
    make_connected(12)  # Provet and Xero connected, the mapping saved: passes are due
    _save_window(x=20, y=50, width=786, height=640, maximized=True, tab="log")
    passes: list[bool] = []

    def run(_profile: Profile, **kwargs: object) -> SyncResult:
        passes.append(True)
        return SyncResult()

    shell = _start(qtbot, use_tray=True, minimized=True, schedule=True, run=run)
    instance = SingleInstance(instance_name(tmp_path / "profile"))
    try:
        assert instance.claim()
        instance.show_requested.connect(shell.window.bring_to_front)  # as app.main() wires it
        w = shell.window
        assert not w.isVisible()
        assert shell.tray.available and shell.tray._tray is not None and shell.tray._tray.isVisible()
        qtbot.waitUntil(lambda: bool(passes), timeout=15_000)  # the scheduler runs with the window hidden
        assert not w.isVisible()

        at_login_again = SingleInstance(instance.name)
        assert not at_login_again.claim(show_existing=False)  # another --minimized: the window stays away
        qtbot.wait(300)
        assert not w.isVisible()

        second = SingleInstance(instance.name)
        assert not second.claim()  # `provet-xero` from the Start menu
        qtbot.waitUntil(w.isVisible, timeout=5_000)
        assert w.isMaximized() and not w.isMinimized()  # as it was left
        assert w.tabs.currentWidget() is w.log_view
        qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5_000)
    finally:
        instance.close()
        shell.stop()


def test_minimized_without_a_tray_starts_minimised_and_comes_forward(qtbot: QtBot) -> None:
    shell = _start(qtbot, use_tray=False, minimized=True)
    w = shell.window
    try:
        assert w.isVisible() and w.isMinimized()  # in the task bar: the only way back without a tray
        w.bring_to_front()
        qtbot.waitUntil(lambda: not w.isMinimized())
        assert w.isVisible()
    finally:
        shell.stop()


@pytest.mark.parametrize("args", [["--minimized"], ["-m"], []])
def test_the_command_line_passes_minimized_on(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    seen: list[dict] = []
    monkeypatch.setattr("provet_xero_gui.ui.app.main", lambda **kwargs: seen.append(kwargs) or 0)
    assert cli.main(args) == 0
    assert seen == [{"minimized": bool(args)}]


# --- closing and quitting --------------------------------------------------------------------------------


def test_closing_hides_to_the_tray_once_told_and_remembers_the_window(qtbot: QtBot) -> None:
    shell = _start(qtbot, use_tray=True)
    w = shell.window
    try:
        w.setGeometry(QRect(12, 44, 788, 650))
        w.tabs.setCurrentWidget(w.log_view)
        assert not w.close()  # refused: it goes to the tray
        assert w.isHidden()
        assert shell.tray.last_message.title == "provet-xero keeps syncing"
        saved = Profile.open().settings.window  # written on hiding, before any quit
        assert (saved.geometry, saved.tab, saved.tray_hint_shown) == ((12, 44, 788, 650), "log", True)
    finally:
        shell.stop()

    again = _start(qtbot, use_tray=True)
    try:
        again.window.close()
        assert again.window.isHidden()
        assert again.tray.last_message is None  # said once, not on every start
    finally:
        again.stop()


def test_quit_from_the_menu_really_quits_and_saves(qtbot: QtBot) -> None:
    shell = _start(qtbot, use_tray=True)
    quits: list[bool] = []
    shell.app = SimpleNamespace(quit=lambda: quits.append(True))
    w = shell.window
    w.setGeometry(QRect(14, 46, 786, 660))
    w.quit_action.trigger()  # File → Quit (the tray menu holds the same action)
    assert quits == [True]
    assert not w.isVisible()
    assert shell.tray._tray is not None and not shell.tray._tray.isVisible()
    assert Profile.open().settings.window.geometry == (14, 46, 786, 660)
