"""The window's crash log: a run that ends without quitting is never silent on the next start.

While the window runs, a marker file sits in the profile's log folder and Python's `faulthandler` writes any
native crash (a segmentation fault, an abort such as "Fatal Python error") into `crash.log` beside it. A
clean quit removes both. So on the next start a marker left behind means the last run did not end: with
a native traceback when the process crashed, without one when the OS killed it or the power went. That run
is described once (`UncleanEnd`), its report kept in the log folder as `crash-<time>.txt`, and the new run
carries on syncing from where the journal left off. No Qt here: the window shows `UncleanEnd`.
"""

from __future__ import annotations

import contextlib
import faulthandler
import json
import os
import platform
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from provet_xero_gui import __version__
from provet_xero_gui.redact import redact

MARKER_NAME = "running.json"
NATIVE_NAME = "crash.log"
KEEP_REPORTS = 10
LOG_TAIL_LINES = 40


@dataclass(frozen=True)
class UncleanEnd:
    """The last run of the window ended without quitting."""

    started: datetime | None  # when that run began (UTC), if its marker said
    native: str  # what faulthandler wrote (redacted); '' after a kill by the OS or a power cut
    log_tail: str  # the last lines that run wrote to the app's log (redacted)
    report_file: Path  # where the report is kept in the profile's log folder

    @property
    def crashed(self) -> bool:
        return bool(self.native.strip())

    def words(self) -> str:
        """One plain sentence for the window's log and the dialog's heading."""
        when = f" (it was started {self.started.astimezone():%a %d %b at %H:%M})" if self.started else ""
        how = ("it crashed" if self.crashed
               else "it was closed without quitting: by the computer, a power cut, or the task manager")
        return f"provet-xero stopped unexpectedly last time{when}: {how}."

    def report(self) -> str:
        """The whole report, secret-free, as kept on disk and shown in the dialog."""
        parts = [
            f"provet-xero {__version__}",
            f"Python {platform.python_version()} on {platform.platform()}",
            "",
            self.words(),
        ]
        if self.crashed:
            parts += ["", "What the program was doing when it crashed:", self.native.rstrip()]
        if self.log_tail.strip():
            parts += ["", "The last lines of its log:", self.log_tail.rstrip()]
        return "\n".join(parts) + "\n"


def _private_file(path: Path, mode: str) -> IO[str]:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode == "a" else os.O_TRUNC), 0o600)
    return os.fdopen(fd, mode, encoding="utf-8", errors="replace")


def _tail(path: Path, lines: int) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 64_000))
            text = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class CrashLog:
    """One per running window: `open()` at start (after the single-instance claim), `close()` on quitting."""

    def __init__(self, log_dir: Path, app_log: Path | None = None, *, now: datetime | None = None) -> None:
        self.log_dir = log_dir
        self.app_log = app_log
        self.marker = log_dir / MARKER_NAME
        self.native = log_dir / NATIVE_NAME
        self._now = now
        self._file: IO[str] | None = None

    def open(self) -> UncleanEnd | None:
        """What the last run left behind (None after a clean quit), then this run's marker and crash log."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        previous = self._previous_run()
        self._file = _private_file(self.native, "w")
        faulthandler.enable(file=self._file, all_threads=True)
        with _private_file(self.marker, "w") as fh:
            json.dump({"started": datetime.now(UTC).isoformat(timespec="seconds"), "pid": os.getpid()}, fh)
        return previous

    def close(self) -> None:
        """A clean quit: nothing to report next time."""
        if self._file is None:
            return
        if faulthandler.is_enabled():
            faulthandler.disable()
        self._file.close()
        self._file = None
        for path in (self.marker, self.native):
            path.unlink(missing_ok=True)

    def _previous_run(self) -> UncleanEnd | None:
        if not self.marker.exists():
            return None
        started = None
        # A marker cut short by the power cut it tells of still says the run did not end.
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            started = datetime.fromisoformat(json.loads(self.marker.read_text(encoding="utf-8"))["started"])
        try:
            native = self.native.read_text(encoding="utf-8", errors="replace")
        except OSError:
            native = ""
        now = self._now or datetime.now(UTC)
        report_file = self.log_dir / f"crash-{now:%Y%m%d-%H%M%S}.txt"
        end = UncleanEnd(started, redact(native), redact(_tail(self.app_log, LOG_TAIL_LINES)) if self.app_log else "",
                         report_file)
        with _private_file(report_file, "w") as fh:
            fh.write(end.report())
        self.marker.unlink(missing_ok=True)
        for old in sorted(self.log_dir.glob("crash-*.txt"))[:-KEEP_REPORTS]:
            old.unlink(missing_ok=True)
        print(end.words(), f"The report is in {report_file}.", file=sys.stderr)
        return end
