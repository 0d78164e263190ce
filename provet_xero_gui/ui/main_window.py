"""The main window: Dashboard, Mapping, Attention, Conflicts, Tie-out and Log pages, menus and shortcuts.

It wires the controller's signals to the pages and the pages' requests back to the controller. It makes
no decisions about syncing and does no slow work itself.

It remembers how it was left (size, place, maximised, the tab, splitters, the log's columns and order) in
the settings file's `window` section and comes back that way, moved onto a screen that exists now.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from PySide6.QtCore import QByteArray, QEvent, QMargins, QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence, QShowEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QSplitter, QTabWidget, QWidget

from provet_xero_gui.app.application import Application
from provet_xero_gui.app.errors import SettingsError
from provet_xero_gui.app.tieout import today_here
from provet_xero_gui.app.types import Status, SyncResult, WindowSettings
from provet_xero_gui.ui.controller import SyncController
from provet_xero_gui.ui.dashboard import Dashboard
from provet_xero_gui.ui.icons import app_icon, state_icon
from provet_xero_gui.ui.log_model import LogModel
from provet_xero_gui.ui.log_view import LogView
from provet_xero_gui.ui.pages import build_page, load_class
from provet_xero_gui.ui.status import Notification
from provet_xero_gui.ui.tray import STATE_WORDS
from provet_xero_gui.ui.worker import Running

log = logging.getLogger(__name__)

DEFAULT_SIZE = (1100, 680)
MINIMUM_SIZE = (900, 600)
UI = "provet_xero_gui.ui"
TAB_KEYS = ("dashboard", "mapping", "attention", "conflicts", "tieout", "log")  # as the settings file names them
# Room kept on the screen for what the window manager draws around a new window (Windows 10: 8, 31, 8, 8).
FRAME = QMargins(8, 31, 8, 8)
TITLE_ROOM = 24  # a restored window's inside starting higher than this below the screen's top is moved down


def place_window(saved: QRect | None, screens: Sequence[QRect],
                 default: QSize = QSize(*DEFAULT_SIZE)) -> QRect:  # noqa: B008 (QSize is a value)
    """Where the window's inside goes. `screens` are the screens' available areas (without task bars), the
    primary first. A saved place on a screen that fits there comes back (nudged fully onto that screen when
    it hangs over an edge); one on no screen now (a monitor unplugged) or bigger than its screen gets the
    default size, made to fit with its frame, centred on the screen it was mostly on or else the primary."""
    if not screens:
        return QRect(QPoint(0, 0), default)
    home = screens[0]
    if saved is not None and saved.isValid():
        outer = saved.marginsAdded(FRAME)
        best = max(screens, key=lambda s: _area(s.intersected(outer)))
        if _area(best.intersected(outer)) > 0:
            home = best
            if saved.width() <= best.width() and saved.height() <= best.height():
                if best.adjusted(0, TITLE_ROOM, 0, 0).contains(saved):
                    return QRect(saved)  # exactly where it was (a window snapped to an edge stays there)
                room = best.marginsRemoved(FRAME)  # over an edge: fully onto the screen, frame and all
                size = saved.size().boundedTo(room.size())
                left = max(room.left(), min(saved.left(), room.right() + 1 - size.width()))
                top = max(room.top(), min(saved.top(), room.bottom() + 1 - size.height()))
                return QRect(QPoint(left, top), size)
    room = home.marginsRemoved(FRAME)
    rect = QRect(QPoint(0, 0), default.boundedTo(room.size()))
    rect.moveCenter(room.center())
    return rect


def _area(rect: QRect) -> int:
    return max(rect.width(), 0) * max(rect.height(), 0) if rect.isValid() else 0


def _available_screens() -> list[QRect]:
    primary = QGuiApplication.primaryScreen()
    screens = [primary] if primary is not None else []
    screens += [s for s in QGuiApplication.screens() if s is not primary]
    return [s.availableGeometry() for s in screens]


class MainWindow(QMainWindow):
    quit_requested = Signal()
    tray_hint = Signal()  # the window was closed into the tray for the first time

    def __init__(
        self,
        controller: SyncController,
        app: Application,
        parent: QWidget | None = None,
        *,
        today: Callable[[], date] = today_here,
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.application = app
        self.keep_in_tray = False  # set by the app when a tray icon exists
        self._wizard: QWidget | None = None
        self._offered_setup = False
        self.setWindowTitle("provet-xero")
        self.setWindowIcon(app_icon())
        self._window_settings = WindowSettings()
        self._pending_splitters: dict[str, list[int]] = {}  # restored when their page first shows
        self._seen_splitters: set[str] = set()
        self._ever_shown = False
        self._setup_waiting = False
        self._normal_after_maximized: QRect | None = None

        self.log_model = LogModel(self)
        self.dashboard = Dashboard()
        self.log_view = LogView(self.log_model)
        self.dashboard.set_log_model(self.log_model)
        context: dict[str, Any] = {"app": app, "controller": controller, "today": today}
        self.mapping_page = self._mapping_page(app)
        self.attention_page = build_page(f"{UI}.attention_view", "AttentionView",
                                         "The attention list is not part of this build yet.", **context)
        self.conflict_page = build_page(f"{UI}.conflict_view", "ConflictView",
                                        "The conflict view is not part of this build yet.", **context)
        self.tieout_page = build_page(f"{UI}.tieout_view", "TieOutView",
                                      "The tie-out is not part of this build yet.", **context)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Pages")
        self.tabs.setDocumentMode(True)
        for page, title in ((self.dashboard, "&Dashboard"), (self.mapping_page, "&Mapping"),
                            (self.attention_page, "&Attention"), (self.conflict_page, "&Conflicts"),
                            (self.tieout_page, "&Tie-out"), (self.log_view, "&Log")):
            self.tabs.addTab(page, title)
        self.setCentralWidget(self.tabs)

        self.state_label = QLabel()
        self.state_label.setAccessibleName("Sync state")
        self.statusBar().addPermanentWidget(self.state_label)
        self._make_actions()
        self._make_menus()
        self._wire()
        self.show_state(controller.tray_state)

        self._clock = QTimer(self)  # keeps "in 3 min" true
        self._clock.setInterval(30_000)
        self._clock.timeout.connect(lambda: self.dashboard.show_next_sync(controller.next_sync_at))
        self._clock.start()
        self.restore_window_state()
        self.tabs.currentChanged.connect(lambda _i: QTimer.singleShot(0, self._apply_splitters))

    def _mapping_page(self, app: Application) -> QWidget:
        editor = build_page(f"{UI}.mapping_editor", "MappingEditor",
                            "The mapping editor is not part of this build yet.")
        if not hasattr(editor, "save_requested"):
            return editor  # the placeholder
        from provet_xero_gui.ui.mapping_page import MappingPage

        page = MappingPage(app, editor)
        page.saved.connect(self.controller.refresh)
        page.setup_wanted.connect(self.open_setup)
        return page

    # --- actions and menus --------------------------------------------------------------------------
    def _make_actions(self) -> None:
        self.sync_action = QAction("&Sync now", self)
        self.sync_action.setShortcut(QKeySequence("Ctrl+R"))
        self.sync_action.triggered.connect(self.sync_now)
        self.pause_action = QAction("&Pause syncing", self)
        self.pause_action.triggered.connect(self.controller.toggle_pause)
        self.open_action = QAction("&Open provet-xero", self)
        self.open_action.triggered.connect(self.bring_to_front)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.triggered.connect(self.quit_requested)
        self.find_action = QAction("&Find in log", self)
        self.find_action.setShortcut(QKeySequence("Ctrl+F"))
        self.find_action.triggered.connect(self.find_in_log)
        self.export_action = QAction("&Export log as CSV…", self)
        self.export_action.triggered.connect(self.log_view._ask_export)
        self.login_action = QAction("Start at &login", self)
        self.login_action.setCheckable(True)
        self.login_action.triggered.connect(self.controller.set_start_at_login)
        self.setup_action = QAction("Set &up connections…", self)
        self.setup_action.triggered.connect(self.open_setup)
        self.setup_action.setEnabled(load_class(f"{UI}.setup_wizard", "SetupWizard") is not None)
        for action in (self.sync_action, self.find_action, self.quit_action):
            self.addAction(action)  # shortcuts work on every page

    def _make_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        sync_menu = bar.addMenu("&Sync")
        sync_menu.addAction(self.sync_action)
        sync_menu.addAction(self.pause_action)
        sync_menu.addSeparator()
        sync_menu.addAction(self.find_action)
        settings_menu = bar.addMenu("S&ettings")
        settings_menu.addAction(self.setup_action)
        settings_menu.addAction(self.login_action)

    def tray_actions(self) -> list[QAction | None]:
        return [self.open_action, None, self.sync_action, self.pause_action, None, self.quit_action]

    # --- wiring ----------------------------------------------------------------------------------------
    def _wire(self) -> None:
        c = self.controller
        d = self.dashboard
        d.sync_now_clicked.connect(self.sync_now)
        d.pause_clicked.connect(c.toggle_pause)
        d.books_wanted.connect(self.show_tieout)
        c.status_changed.connect(self.show_status)
        c.running_changed.connect(self.show_running)
        c.progress.connect(d.show_progress)
        c.next_sync_changed.connect(d.show_next_sync)
        c.pass_finished.connect(self._pass_finished)
        c.cannot_sync.connect(self._cannot_sync)
        c.log_rows.connect(self.log_model.append_entries)
        c.document_read.connect(self.log_view.show_document)
        c.tray_state_changed.connect(self.show_state)
        c.exported.connect(self._exported)
        c.problem.connect(lambda text: self.log_model.add_local("warning", text))
        self.log_view.document_wanted.connect(c.read_document)
        self.log_view.export_wanted.connect(c.export_log)
        retry = getattr(self.attention_page, "retry_requested", None)
        if retry is not None:
            retry.connect(lambda ids: c.sync_now(retry=[str(i) for i in ids]))
        jump = getattr(self.attention_page, "open_mapping_requested", None)
        if jump is not None:
            jump.connect(self.show_mapping)

    def show_mapping(self, where: str) -> None:
        """The attention view's "Show in mapping": the Mapping tab, at the row that would fix it."""
        self.tabs.setCurrentWidget(self.mapping_page)
        focus = getattr(self.mapping_page, "focus_where", None)
        if focus is not None:
            focus(where)

    def show_tieout(self, start: date, end: date) -> None:
        """The dashboard's "show the days": the Tie-out tab, tying out the daily check's week."""
        self.tabs.setCurrentWidget(self.tieout_page)
        show = getattr(self.tieout_page, "show_range", None)
        if show is not None:
            show(start, end)

    def sync_now(self) -> None:
        if not self.controller.sync_now():
            self.statusBar().showMessage("A sync is already running; it goes on.", 5000)

    def show_status(self, status: Status) -> None:
        self.dashboard.show_status(status)
        self.dashboard.show_next_sync(self.controller.next_sync_at)
        paused = self.controller.paused
        self.dashboard.set_paused(paused)
        self.pause_action.setText("&Resume syncing" if paused else "&Pause syncing")
        self.login_action.setChecked(status.start_at_login)
        org = f" — {status.organisation}" if status.xero_connected and status.organisation else ""
        self.setWindowTitle(f"provet-xero{org}")
        if not status.ready and not self._offered_setup:
            self._offered_setup = True
            if self.setup_action.isEnabled():
                # Started in the tray at login: setup waits until the person opens the window.
                if self.isVisible() and not self.isMinimized():
                    QTimer.singleShot(0, self.open_setup)
                else:
                    self._setup_waiting = True

    def show_running(self, state: Running) -> None:
        running = state.running
        self.dashboard.show_running(running)
        self.sync_action.setEnabled(not running)
        if not running:
            self.dashboard.show_next_sync(self.controller.next_sync_at)

    def show_state(self, state: str) -> None:
        self.state_label.setText(STATE_WORDS[state])
        self.state_label.setToolTip(STATE_WORDS[state])
        self.setWindowIcon(app_icon() if state == "synced" else state_icon(state))
        self.dashboard.set_paused(self.controller.paused)

    def notify_in_window(self, note: Notification) -> None:
        """Where there is no tray, notifications show in the status bar."""
        self.statusBar().showMessage(f"{note.title}: {note.text}", 15_000)

    def _pass_finished(self, result: SyncResult) -> None:
        # The mapping page reads Provet and Xero when the person asks; a pass changes nothing it shows.
        for page in (self.attention_page, self.conflict_page):
            refresh = getattr(page, "refresh", None)
            if callable(refresh):
                refresh()

    def _cannot_sync(self, message: str) -> None:
        self.dashboard.show_failure(message)
        self.log_model.add_local("error", f"Could not sync: {message}")

    def _exported(self, path: str, rows: int, problem: str) -> None:
        if problem:
            self.log_model.add_local("error", f"The log could not be exported to {path}: {problem}")
            self.statusBar().showMessage(f"Export failed: {problem}", 10_000)
        else:
            self.statusBar().showMessage(f"Exported {rows:,} log entries to {path}", 10_000)

    # --- windows and pages ------------------------------------------------------------------------------
    def find_in_log(self) -> None:
        self.tabs.setCurrentWidget(self.log_view)
        self.log_view.focus_filter()

    def bring_to_front(self) -> None:
        """Show the window from the tray or the task bar, maximised again if it was, in front."""
        self.setWindowState((self.windowState() & ~Qt.WindowState.WindowMinimized) | Qt.WindowState.WindowActive)
        self.show()
        self.raise_()
        self.activateWindow()

    def open_setup(self) -> None:
        cls = load_class(f"{UI}.setup_wizard", "SetupWizard")
        if cls is None:
            return
        if self._wizard is None:
            self._wizard = build_page(f"{UI}.setup_wizard", "SetupWizard", "Setup is not available.",
                                      app=self.application, controller=self.controller, parent=self)
            changed = getattr(self._wizard, "setup_changed", None)
            if changed is not None:
                changed.connect(self.controller.refresh)
            finished = getattr(self._wizard, "finished", None)
            if finished is not None:
                finished.connect(self._setup_finished)
        self._wizard.show()
        self._wizard.raise_()

    def _setup_finished(self, *_args: object) -> None:
        self._wizard = None
        self.controller.refresh()
        for page in (self.mapping_page, self.attention_page, self.conflict_page):
            refresh = getattr(page, "refresh", None)
            if callable(refresh):
                refresh()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.keep_in_tray:
            event.ignore()
            first_time = not self._window_settings.tray_hint_shown
            if first_time:
                self._window_settings = replace(self._window_settings, tray_hint_shown=True)
            self.save_window_state()
            self.hide()
            if first_time:
                self.tray_hint.emit()
            return
        event.accept()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._ever_shown = True
        QTimer.singleShot(0, self._apply_splitters)
        self._offer_waiting_setup()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.WindowStateChange and not self.isMinimized():
            self._offer_waiting_setup()
            normal = self._normal_after_maximized
            if normal is not None and not self.isMaximized() and not self.isFullScreen():
                # Opened maximised, now restored: not every platform knows the size to restore to.
                self._normal_after_maximized = None
                QTimer.singleShot(0, lambda: self.setGeometry(normal))

    def _offer_waiting_setup(self) -> None:
        if self._setup_waiting and self.isVisible() and not self.isMinimized():
            self._setup_waiting = False
            QTimer.singleShot(0, self.open_setup)

    # --- remembering the window ------------------------------------------------------------------------
    def _pages(self) -> dict[str, QWidget]:
        return dict(zip(TAB_KEYS, (self.dashboard, self.mapping_page, self.attention_page, self.conflict_page,
                                   self.tieout_page, self.log_view), strict=True))

    def splitters(self) -> dict[str, QSplitter]:
        """Every splitter of the pages, by the name the settings file keeps its sizes under."""
        found: dict[str, QSplitter] = {}
        for key, page in self._pages().items():
            for i, splitter in enumerate(page.findChildren(QSplitter)):
                found[splitter.objectName() or f"{key}.{i}"] = splitter
        return found

    def restore_window_state(self) -> None:
        """Size, place, tab, columns and order as the settings file says; a bad value is left out."""
        try:
            state = self.application.window_settings()
        except (OSError, SettingsError) as exc:
            log.warning("window state could not be read: %s", exc)
            state = WindowSettings()
        self._window_settings = state
        saved = QRect(*state.geometry) if state.geometry else None
        rect = place_window(saved, _available_screens())
        screen = QGuiApplication.screenAt(rect.center()) or QGuiApplication.primaryScreen()
        room = screen.availableGeometry().marginsRemoved(FRAME).size() if screen else QSize(*MINIMUM_SIZE)
        self.setMinimumSize(QSize(*MINIMUM_SIZE).boundedTo(room))  # a small screen still fits the window
        self.setGeometry(rect)
        if state.maximized:
            self.setWindowState(self.windowState() | Qt.WindowState.WindowMaximized)
            self._normal_after_maximized = QRect(rect)
        if state.tab in TAB_KEYS:
            self.tabs.setCurrentIndex(TAB_KEYS.index(state.tab))
        if state.log_header:
            try:
                header = QByteArray(base64.b64decode(state.log_header, validate=True))
            except (binascii.Error, ValueError):
                header = QByteArray()
            if header.isEmpty() or not self.log_view.table.horizontalHeader().restoreState(header):
                log.warning("the log's saved column widths could not be used")
        self.log_view.order_combo.setCurrentIndex(0 if state.log_newest_first else 1)
        self._pending_splitters = dict(state.splitters)

    def _apply_splitters(self) -> None:
        """Saved splitter sizes go on when their page is on screen and laid out, so they come back exact."""
        for name, splitter in self.splitters().items():
            if not splitter.isVisible():
                continue
            sizes = self._pending_splitters.pop(name, None)
            if sizes is not None and len(sizes) == splitter.count() and sum(sizes) > 0:
                splitter.setSizes(sizes)
            self._seen_splitters.add(name)

    def window_state(self) -> WindowSettings:
        """How the window is now, as the settings file keeps it."""
        state = self._window_settings
        if not self._ever_shown:
            return state  # started in the tray and never opened: nothing changed
        shown_splitters = {name: s.sizes() for name, s in self.splitters().items()
                           if name in self._seen_splitters or (s.isVisible() and name not in self._pending_splitters)}
        header = self.log_view.table.horizontalHeader().saveState()
        changes: dict[str, Any] = {
            "maximized": self.isMaximized(),  # minimised from maximised keeps the flag
            "tab": TAB_KEYS[self.tabs.currentIndex()] if 0 <= self.tabs.currentIndex() < len(TAB_KEYS) else None,
            "splitters": {**state.splitters, **self._pending_splitters, **shown_splitters},
            "log_header": base64.b64encode(bytes(header.data())).decode("ascii"),
            "log_newest_first": self.log_view.order_combo.currentIndex() == 0,
        }
        special = Qt.WindowState.WindowMaximized | Qt.WindowState.WindowMinimized | Qt.WindowState.WindowFullScreen
        normal = self.normalGeometry() if self.windowState() & special else self.geometry()
        if normal.isValid():
            changes.update(x=normal.x(), y=normal.y(), width=normal.width(), height=normal.height())
        return replace(state, **changes)

    def save_window_state(self) -> None:
        """Write how the window is now into the settings file (on hiding to the tray and on quitting)."""
        state = self.window_state()
        self._window_settings = state
        try:
            self.application.save_window_settings(state)
        except OSError as exc:
            log.warning("window state could not be saved: %s", exc)
