"""The crash report: what went wrong, where, and on what, with every secret cut out (redact.py).

Written so that a clinic admin can copy it into an e-mail without a second thought; the window shows it in
a dialog (ui/crash_dialog.py) and the log keeps it. No Qt here.
"""

from __future__ import annotations

import platform
import sys
import traceback
from datetime import UTC, datetime
from types import TracebackType

from provet_xero_gui import __version__
from provet_xero_gui.redact import redact


def crash_report(
    exc_type: type[BaseException],
    exc: BaseException,
    tb: TracebackType | None,
    *,
    extra: dict[str, str] | None = None,
    now: datetime | None = None,
) -> str:
    """A plain-text report: the exception, its traceback, the app's version and the platform, redacted."""
    when = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    header = [
        f"provet-xero {__version__}",
        f"Time: {when}",
        f"Python {platform.python_version()} ({sys.implementation.name}) on {platform.platform()}",
        *(f"{k}: {v}" for k, v in (extra or {}).items()),
    ]
    # What the exception says and where it came from can hold anything; the header is ours.
    body = [f"{exc_type.__name__}: {exc}", "", "".join(traceback.format_exception(exc_type, exc, tb)).rstrip()]
    return "\n".join(header) + "\n\n" + redact("\n".join(body)) + "\n"
