"""The objects that do the window's slow work on their own threads, the Picard way.

Each is a QObject moved to a QThread; the window asks by queued signal and hears back by signal. They
never touch a widget and never look up the application object: what they need is passed in.

- `SyncWorker` runs `run_sync` (network and disk, seconds to hours) and turns engine events into signals;
  after a pass that went through, it makes the daily tie-out when one is due (sync/daily_tieout.py).
- `ProfileWorker` does the short reads and writes: the dashboard's status, new log rows, one document's
  details, the paused and start-at-login settings, the CSV export. It stays responsive while a pass runs.
"""

from __future__ import annotations

import csv
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from provet_xero_gui import autostart
from provet_xero_gui.app.passes import CannotSync, run_sync
from provet_xero_gui.app.tieout import CannotTieOut
from provet_xero_gui.profile import Profile
from provet_xero_gui.store import LogEntry, Store, StoreError
from provet_xero_gui.tieout.daily import DailyTieOut
from provet_xero_gui.ui.status import read_document, read_status

log = logging.getLogger(__name__)

# How many of the newest log rows the window loads at start (older ones stay in the store).
LOG_ROWS_AT_START = 100_000
LOG_CHUNK = 20_000


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

    def __init__(
        self,
        profile: Profile,
        run: Callable[..., Any] = run_sync,
        tie_out: Callable[[Profile], DailyTieOut | None] | None = None,
    ) -> None:
        super().__init__()
        self._profile = profile
        self._run = run
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
            result = self._run(
                self._profile.reload(),
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
            made = self._tie_out(self._profile.reload())
        except (CannotTieOut, StoreError) as exc:
            log.warning("the daily tie-out could not be made: %s", exc)
            return
        except Exception:  # the thread must survive it; the sync itself is unaffected
            log.exception("the daily tie-out failed")
            return
        if made is not None:
            self.books_checked.emit(made)


class ProfileWorker(QObject):
    """Short store, keyring and settings work, off the GUI thread, one request at a time."""

    status_read = Signal(object)  # ui.status.Status
    log_read = Signal(object)  # list[LogEntry], oldest first
    document_read = Signal(object)  # ui.status.DocumentDetails
    exported = Signal(str, int, str)  # path, rows written, problem ('' when fine)
    problem = Signal(str)

    def __init__(self, profile: Profile) -> None:
        super().__init__()
        self._profile = profile
        self._store: Store | None = None
        self._last_log_id: int | None = None

    def _open_store(self) -> Store:
        if self._store is None:
            self._store = self._profile.store()
        return self._store

    @Slot()
    def read_status(self) -> None:
        self.status_read.emit(read_status(self._profile))

    @Slot()
    def read_log(self) -> None:
        """Emit the log rows written since the last read (the newest LOG_ROWS_AT_START the first time)."""
        try:
            store = self._open_store()
            if self._last_log_id is None:
                newest = store.query("SELECT MAX(id) FROM log")[0][0] or 0
                self._last_log_id = max(0, newest - LOG_ROWS_AT_START)
            while True:
                rows = store.read_log(self._last_log_id, LOG_CHUNK)
                if not rows:
                    return
                self._last_log_id = rows[-1].id
                self.log_read.emit(rows)
                if len(rows) < LOG_CHUNK:
                    return
        except StoreError as exc:
            self.problem.emit(str(exc))

    @Slot(str, str)
    def read_document(self, kind: str, provet_id: str) -> None:
        try:
            self.document_read.emit(read_document(self._open_store(), kind, provet_id))
        except StoreError as exc:
            self.problem.emit(str(exc))

    @Slot(object)
    def save_paused(self, choice: PausedChoice) -> None:
        self._profile.settings_file.change(lambda s: replace(s, sync=replace(s.sync, paused=choice.paused)))
        self.read_status()

    @Slot(object)
    def save_start_at_login(self, choice: StartAtLoginChoice) -> None:
        enabled = choice.enabled
        try:
            if enabled:
                autostart.enable(autostart.launch_command())
            else:
                autostart.disable()
        except OSError as exc:
            self.problem.emit(f"Start at login could not be changed: {exc}")
            enabled = autostart.is_enabled()
        self._profile.settings_file.update(start_at_login=enabled)
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
        if self._store is not None:
            self._store.close()
            self._store = None


def write_log_csv(path: Path, entries: Sequence[LogEntry]) -> None:
    """The log as a spreadsheet opens it: UTF-8 with a byte-order mark, one row per entry."""
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["time (UTC)", "level", "event", "message", "document kind", "document id"])
        for e in entries:
            out.writerow([e.ts, e.level, e.event, e.message, e.document_kind or "", e.document_id or ""])

