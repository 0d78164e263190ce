"""The objects that do the window's slow work on their own threads, the Picard way.

Each is a QObject moved to a QThread; the window asks by queued signal and hears back by signal. They
never touch a widget and never look up the application object: what they need is passed in.

- `SyncWorker` runs a pass (`Application.sync`: network and disk, seconds to hours) and turns engine events into
  signals; after a pass that went through, it makes the daily tie-out when one is due.
- `ProfileWorker` does the short reads and writes: the dashboard's status, new log rows, one document's
  details, the paused and start-at-login settings, the CSV export. It stays responsive while a pass runs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from provet_xero_gui.app.application import Application
from provet_xero_gui.app.errors import AppError
from provet_xero_gui.app.log import write_log_csv
from provet_xero_gui.app.passes import CannotSync
from provet_xero_gui.app.tieout import CannotTieOut
from provet_xero_gui.app.types import DailyTieOut, LogEntry

log = logging.getLogger(__name__)


# Signal payloads: typed objects, never a bare bool (PySide6 6.12 showed how fragile a bool across a signal is;
# ui/qt_guard.py). Each says what it carries.


@dataclass(frozen=True)
class PassRequest:
    """Start one pass: with Xero's own changes too (`poll_xero`), and these attention items retried."""

    poll_xero: bool
    retry: tuple[str, ...] = ()


@dataclass(frozen=True)
class PausedChoice:
    paused: bool


@dataclass(frozen=True)
class StartAtLoginChoice:
    enabled: bool


@dataclass(frozen=True)
class Running:
    """A pass started (`running`) or ended."""

    running: bool


class SyncWorker(QObject):
    """Runs one sync pass at a time; `request_stop` may be called from any thread."""

    pass_started = Signal()
    event_arrived = Signal(object)  # a sync.events event
    pass_finished = Signal(object)  # SyncResult
    cannot_sync = Signal(str)  # why the pass could not run at all
    books_checked = Signal(object)  # DailyTieOut: the day's automatic tie-out was made

    def __init__(self, app: Application, tie_out: Callable[[], DailyTieOut | None] | None = None) -> None:
        super().__init__()
        self._app = app
        self._tie_out = tie_out
        self._stop = threading.Event()

    def request_stop(self) -> None:
        """Ask a running pass to stop at its next batch (thread-safe: only sets a flag)."""
        self._stop.set()

    @Slot(object)
    def run_pass(self, request: PassRequest) -> None:
        self._stop.clear()
        self.pass_started.emit()
        try:
            result = self._app.sync(
                events=self.event_arrived.emit,
                retry=list(request.retry),
                poll_xero=request.poll_xero,
                should_stop=self._stop.is_set,
            )
        except CannotSync as exc:
            self.cannot_sync.emit(str(exc))
            return
        except Exception as exc:  # the thread must survive anything the engine did not expect
            log.exception("sync pass failed")
            self.cannot_sync.emit(f"The sync failed unexpectedly: {exc}")
            return
        self.pass_finished.emit(result)
        if result.stopped is None and self._tie_out is not None:
            self._check_books()

    def _check_books(self) -> None:
        """The daily tie-out, once the day's first pass has gone through; a failure waits for the next pass."""
        assert self._tie_out is not None
        try:
            made = self._tie_out()
        except CannotTieOut as exc:
            log.warning("the daily tie-out could not be made: %s", exc)
            return
        except Exception:  # the thread must survive it; the sync itself is unaffected
            log.exception("the daily tie-out failed")
            return
        if made is not None:
            self.books_checked.emit(made)


class ProfileWorker(QObject):
    """Short store, keyring and settings work, off the GUI thread, one request at a time."""

    status_read = Signal(object)  # app.status.Status
    log_read = Signal(object)  # list[LogEntry], oldest first
    document_read = Signal(object)  # app.status.DocumentDetails
    exported = Signal(str, int, str)  # path, rows written, problem ('' when fine)
    problem = Signal(str)

    def __init__(self, app: Application) -> None:
        super().__init__()
        self._app = app
        self._log = app.log_reader()

    @Slot()
    def read_status(self) -> None:
        self.status_read.emit(self._app.status())

    @Slot()
    def read_log(self) -> None:
        """Emit the log rows written since the last read (the newest LOG_ROWS_AT_START the first time)."""
        try:
            for rows in self._log.new_rows():
                self.log_read.emit(rows)
        except AppError as exc:
            self.problem.emit(str(exc))

    @Slot(str, str)
    def read_document(self, kind: str, provet_id: str) -> None:
        try:
            self.document_read.emit(self._log.document(kind, provet_id))
        except AppError as exc:
            self.problem.emit(str(exc))

    @Slot(object)
    def save_paused(self, choice: PausedChoice) -> None:
        self._app.set_paused(choice.paused)
        self.read_status()

    @Slot(object)
    def save_start_at_login(self, choice: StartAtLoginChoice) -> None:
        problem = self._app.set_start_at_login(choice.enabled)
        if problem:
            self.problem.emit(problem)
        self.read_status()

    @Slot(str, object)
    def export_csv(self, path: str, entries: Sequence[LogEntry]) -> None:
        try:
            write_log_csv(Path(path), entries)
        except OSError as exc:
            self.exported.emit(path, 0, exc.strerror or str(exc))
            return
        self.exported.emit(path, len(entries), "")

    @Slot()
    def close(self) -> None:
        self._log.close()
