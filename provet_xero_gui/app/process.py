"""What the running app does for itself rather than for a use case: its log file, its crash log and reports, and
keeping the start-at-login entry current. Qt-free; re-exported so the window imports only the application layer."""

from __future__ import annotations

import logging

from provet_xero_gui import autostart
from provet_xero_gui.crash import crash_report
from provet_xero_gui.crash_log import CrashLog, UncleanEnd
from provet_xero_gui.private import PrivateRotatingFileHandler
from provet_xero_gui.profile import Profile

__all__ = ["CrashLog", "UncleanEnd", "crash_report", "log_to_file", "refresh_start_at_login"]

log = logging.getLogger(__name__)


def log_to_file(profile: Profile) -> None:
    handler = PrivateRotatingFileHandler(profile.paths.log_file, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
        for h in root.handlers:
            if h is not handler and h.level == logging.NOTSET:
                h.setLevel(logging.WARNING)  # the terminal stays as quiet as before


def refresh_start_at_login() -> None:
    """An entry written by an older version (or the installer) is rewritten to start in the tray."""
    try:
        autostart.refresh(autostart.launch_command())
    except (OSError, ValueError) as exc:  # a convenience: the app starts regardless
        log.warning("the start-at-login entry could not be checked: %s", exc)
