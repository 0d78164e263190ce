"""The main window: Dashboard, Mapping, Attention, Conflicts, Tie-out and Log pages, menus and shortcuts.

It wires the controller's signals to the pages and the pages' requests back to the controller. It makes
no decisions about syncing and does no slow work itself.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QTabWidget, QWidget

from provet_xero_gui.profile import Profile
from provet_xero_gui.sync.events import SyncResult
from provet_xero_gui.ui.controller import SyncController
from provet_xero_gui.ui.dashboard import Dashboard
from provet_xero_gui.ui.icons import app_icon, state_icon
from provet_xero_gui.ui.log_model import LogModel
from provet_xero_gui.ui.log_view import LogView
from provet_xero_gui.ui.pages import build_page, load_class
from provet_xero_gui.ui.status import Notification, Status
from provet_xero_gui.ui.tray import STATE_WORDS

log = logging.getLogger(__name__)

DEFAULT_SIZE = (1100, 680)
MINIMUM_SIZE = (900, 600)
UI = "provet_xero_gui.ui"


class MainWindow(QMainWindow):
    quit_requested = Signal()
    tray_hint = Signal()  # the window was closed into the tray for the first time

    def __init__(self, controller: SyncController, profile: Profile, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.profile = profile
        self.keep_in_tray = False  # set by the app when a tray icon exists
        self._told_about_tray = False
        self._wizard: QWidget | None = None
        self._offered_setup = False
        self.setWindowTitle("provet-xero")
        self.setWindowIcon(app_icon())
        self.resize(*DEFAULT_SIZE)
        self.setMinimumSize(*MINIMUM_SIZE)

        self.log_model = LogModel(self)
        self.dashboard = Dashboard()
        self.log_view = LogView(self.log_model)
        self.dashboard.set_log_model(self.log_model)
        context: dict[str, Any] = {"profile": profile, "controller": controller}
        self.mapping_page = self._mapping_page(profile)
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

    def _mapping_page(self, profile: Profile) -> QWidget:
        editor = build_page(f"{UI}.mapping_editor", "MappingEditor",
                            "The mapping editor is not part of this build yet.")
        if not hasattr(editor, "save_requested"):
            return editor  # the placeholder
        from provet_xero_gui.ui.mapping_page import MappingPage

        page = MappingPage(profile, editor)
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
                QTimer.singleShot(0, self.open_setup)

    def show_running(self, running: bool) -> None:
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
        self.show()
        if self.isMinimized():
            self.showNormal()
        self.raise_()
        self.activateWindow()

    def open_setup(self) -> None:
        cls = load_class(f"{UI}.setup_wizard", "SetupWizard")
        if cls is None:
            return
        if self._wizard is None:
            self._wizard = build_page(f"{UI}.setup_wizard", "SetupWizard", "Setup is not available.",
                                      profile=self.profile, controller=self.controller, parent=self)
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
            self.hide()
            if not self._told_about_tray:
                self._told_about_tray = True
                self.tray_hint.emit()
            return
        event.accept()
