"""The desktop app: QApplication, one instance per user and profile, the tray, the window, the demo.

`main()` is what `provet-xero` with no arguments runs; `run_demo()` is `provet-xero demo`. Everything
is built here and handed to what needs it: no global application object is looked up later.
"""

from __future__ import annotations

import logging
import logging.handlers
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication

from provet_xero_gui.app.application import Application
from provet_xero_gui.app.passes import run_sync
from provet_xero_gui.app.process import CrashLog, UncleanEnd, log_to_file, refresh_start_at_login
from provet_xero_gui.app.tieout import today_here
from provet_xero_gui.app.types import Profile
from provet_xero_gui.ui.controller import SyncController
from provet_xero_gui.ui.crash_dialog import CrashDialog, CrashHandler, stopped_intro
from provet_xero_gui.ui.icons import app_icon
from provet_xero_gui.ui.main_window import MainWindow
from provet_xero_gui.ui.single_instance import SingleInstance, instance_name
from provet_xero_gui.ui.status import Notification
from provet_xero_gui.ui.tray import TrayIcon

log = logging.getLogger(__name__)


def make_application(argv: Sequence[str] | None = None) -> QApplication:
    existing = QApplication.instance()  # only here, at start-up, never from a worker
    app = existing if isinstance(existing, QApplication) else QApplication(list(argv or sys.argv[:1]))
    app.setApplicationName("provet-xero")
    app.setApplicationDisplayName("provet-xero")
    app.setOrganizationName("provet-xero")
    app.setDesktopFileName("provet-xero")
    app.setWindowIcon(app_icon())
    return app


class AppShell(QObject):
    """The running app: controller, window and tray, wired together."""

    def __init__(
        self,
        app: QApplication,
        profile: Profile,
        *,
        run: Callable[..., Any] = run_sync,
        use_tray: bool | None = None,
        schedule: bool = True,
        today: Callable[[], date] = today_here,
        unclean_end: UncleanEnd | None = None,
    ) -> None:
        """`today`: the clinic's day, for the tie-outs (the demo's is the simulated clinic's);
        `unclean_end`: the last run did not quit, told once when the window starts."""
        super().__init__()
        self.app = app
        self.profile = profile
        self.application = Application(profile, run_pass=run)
        self.unclean_end = unclean_end
        self.stopped_dialog: CrashDialog | None = None
        self.controller = SyncController(self.application, schedule=schedule, today=today, parent=self)
        self.window = MainWindow(self.controller, self.application, today=today)
        # An exception in a slot or a thread: a report dialog (secrets cut out) and the app goes on.
        self.crash_handler = CrashHandler(self.window).install()
        self.tray = TrayIcon(self.window.tray_actions(), self, use_tray=use_tray)
        self.window.keep_in_tray = self.tray.available
        app.setQuitOnLastWindowClosed(not self.tray.available)
        self.controller.tray_state_changed.connect(self.tray.set_state)
        self.controller.notify.connect(self._notify)
        self.tray.open_requested.connect(self.window.bring_to_front)
        self.window.quit_requested.connect(self.quit)
        self.window.tray_hint.connect(lambda: self.tray.show_message(Notification(
            "provet-xero keeps syncing",
            "It runs in the tray. Choose Quit from the tray menu to stop it.")))
        self._stopped = False
        app.aboutToQuit.connect(self.stop)

    def start(self, *, show: bool = True, minimized: bool = False) -> None:
        """Start the scheduler and show the window; `minimized` (start at login) leaves only the tray icon,
        or, with no tray, the window minimised in the task bar."""
        self.controller.start()
        if show and not (minimized and self.tray.available):
            if minimized:
                self.window.setWindowState(self.window.windowState() | Qt.WindowState.WindowMinimized)
            self.window.show()
        if self.unclean_end is not None:
            self._tell_unclean_end(self.unclean_end)

    def _tell_unclean_end(self, end: UncleanEnd) -> None:
        """The last run did not quit: a line in the log, a notification, and the report (save or copy it)."""
        self.window.log_model.add_local("warning", f"{end.words()} The sync carries on from where it was.")
        self._notify(Notification("provet-xero stopped unexpectedly",
                                  "It carries on syncing from where it was; nothing is sent twice.", "warning"))
        dialog = CrashDialog(self.window, intro=stopped_intro(end), title="provet-xero stopped unexpectedly")
        dialog.add_report(end.report())
        self.stopped_dialog = dialog
        # After the window and the setup wizard (which the window opens on an unfinished profile) are up.
        QTimer.singleShot(0, lambda: (dialog.show(), dialog.raise_(), dialog.activateWindow()))

    def _notify(self, note: Notification) -> None:
        self.tray.show_message(note)
        if not self.tray.available:
            self.window.notify_in_window(note)

    def quit(self) -> None:
        self.stop()
        self.app.quit()

    def stop(self) -> None:
        """End the worker threads and hide the tray; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        self.window.save_window_state()
        self.controller.shutdown()
        self.crash_handler.uninstall()
        self.tray.hide()
        self.window.keep_in_tray = False
        self.window.close()


def _quit_on_signals(shell: AppShell) -> None:
    """SIGTERM (log-out, a service manager) and Ctrl+C end the app cleanly: threads stopped, store closed.
    Python handles signals only between bytecodes, so a timer wakes the interpreter now and then."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: QTimer.singleShot(0, shell.quit))
    wake = QTimer(shell)
    wake.setInterval(500)
    wake.timeout.connect(lambda: None)
    wake.start()


def main(argv: Sequence[str] | None = None, *, profile: Profile | None = None,
         before_exec: Callable[[AppShell], object] | None = None, minimized: bool = False,
         today: Callable[[], date] = today_here, run: Callable[..., Any] = run_sync) -> int:
    """Open the window on the current profile; a second launch shows the first one's window instead.
    `minimized` (how start at login runs it): only the tray icon, and a running one is left as it is.
    `run`: the sync pass (a test or the benchmark paces it on the sandbox's clock)."""
    app = make_application(argv)
    profile = profile or Profile.open()
    instance = SingleInstance(instance_name(profile.paths.config_dir))
    if not instance.claim(show_existing=not minimized):
        told = "" if minimized else "; its window was brought to the front"
        print(f"provet-xero is already running{told}.", file=sys.stderr)
        return 0
    crash_log = CrashLog(profile.paths.log_dir, profile.paths.log_file)
    unclean_end = crash_log.open()  # before this run writes to the log: its tail is the last run's
    log_to_file(profile)
    refresh_start_at_login()
    shell = AppShell(app, profile, run=run, today=today, unclean_end=unclean_end)
    instance.show_requested.connect(shell.window.bring_to_front)
    extra = before_exec(shell) if before_exec else None
    _quit_on_signals(shell)
    shell.start(minimized=minimized)
    try:
        code = int(app.exec())
    finally:
        shell.stop()
        instance.close()
        del extra
    crash_log.close()  # only a run that got here quit cleanly
    return code


def run_demo(size: int = 60, seed: int = 1) -> int:
    """The window on the sandbox in a throwaway profile, with a little new trade every ~20 seconds."""
    from provet_xero_gui.app.demo import point_at, sandbox_clinic, throwaway_profile
    from provet_xero_gui.ui.demo_activity import DemoActivity, prepare_demo_profile

    with sandbox_clinic(size=size, seed=seed) as sandbox, throwaway_profile():
        point_at(sandbox)
        profile = prepare_demo_profile(Profile.open(), sandbox)
        print(f"Demo: a simulated clinic (about {size} invoices) runs on this computer; nothing real is touched.",
              file=sys.stderr)

        def with_activity(shell: AppShell) -> DemoActivity:
            activity = DemoActivity(sandbox, profile, seed=seed, parent=shell)
            activity.happened.connect(lambda text: shell.window.log_model.add_local("info", f"Demo: {text}"))
            activity.start()
            return activity

        # The simulated clinic lives on its own calendar: the tie-outs look at its days, not the computer's.
        return main(profile=profile, before_exec=with_activity, today=lambda: sandbox.clock.now().date())
