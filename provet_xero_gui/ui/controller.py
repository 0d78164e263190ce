"""The window's side of background sync: the two worker threads, the schedule, Sync now, Pause/Resume.

Lives on the GUI thread and only ever sends requests to the workers by queued signal, so nothing here
waits on the network or the disk. Widgets listen to its signals; it knows no widget.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from PySide6.QtCore import QObject, QThread, QTimer, Signal

from provet_xero_gui.app.application import Application
from provet_xero_gui.app.tieout import today_here
from provet_xero_gui.app.types import (
    UNEXPLAINED,
    ConflictFound,
    DailyTieOut,
    PassFinished,
    Progress,
    Status,
    SyncResult,
)
from provet_xero_gui.ui.status import Notification, expiry_notification, notifications_after_pass, tray_state
from provet_xero_gui.ui.worker import PassRequest, PausedChoice, ProfileWorker, Running, StartAtLoginChoice, SyncWorker

log = logging.getLogger(__name__)

LOG_REFRESH_MS = 250  # new log rows appear this long after the event, at most
IDLE_REFRESH_MS = 15_000  # catch passes run from the command line, and the clock passing midnight
FIRST_PASS_DELAY_MS = 2_000


class SyncController(QObject):
    """Runs passes on a worker thread on a schedule or on request; one pass at a time."""

    # requests to the workers (queued: the receivers live on other threads); payloads are typed objects,
    # never a bare bool (see docs/architecture.md, "Signals")
    _start_pass = Signal(object)  # PassRequest
    _want_status = Signal()
    _want_log = Signal()
    _want_document = Signal(str, str)
    _save_paused = Signal(object)  # PausedChoice
    _save_start_at_login = Signal(object)  # StartAtLoginChoice
    _export = Signal(str, object)
    _close_store = Signal()

    # what the window hears
    status_changed = Signal(object)  # Status
    running_changed = Signal(object)  # Running
    progress = Signal(str, int, int)  # phase, done, total
    pass_finished = Signal(object)  # SyncResult
    cannot_sync = Signal(str)
    log_rows = Signal(object)  # list[LogEntry]
    document_read = Signal(object)  # DocumentDetails
    next_sync_changed = Signal(object)  # datetime | None
    tray_state_changed = Signal(str)
    notify = Signal(object)  # Notification
    exported = Signal(str, int, str)
    problem = Signal(str)

    def __init__(
        self,
        app: Application,
        *,
        schedule: bool = True,
        today: Callable[[], date] = today_here,
        parent: QObject | None = None,
    ) -> None:
        """`today`: the clinic's day, for the daily tie-out (the demo's is the simulated clinic's)."""
        super().__init__(parent)
        self.status: Status | None = None
        self.running = False
        self.failure: str | None = None  # why the last pass could not run, until one does
        self.next_sync_at: datetime | None = None
        self.tray_state = "synced"
        self._schedule_enabled = schedule
        self._status_before_pass: Status | None = None
        self._conflicts_this_pass = 0
        self._last_xero_poll: float | None = None
        self._paused_wanted: bool | None = None  # the user's choice, before the settings file says so
        self._expiry_warned_on: str | None = None
        self._pending_result: SyncResult | None = None  # notifications wait for the status after the pass

        self._sync_thread = QThread(self)
        self._sync_thread.setObjectName("provet-xero sync")
        self._sync_worker = SyncWorker(app, lambda: app.daily_tieout(today()))
        self._sync_worker.moveToThread(self._sync_thread)
        self._io_thread = QThread(self)
        self._io_thread.setObjectName("provet-xero store")
        self._io_worker = ProfileWorker(app)
        self._io_worker.moveToThread(self._io_thread)

        self._start_pass.connect(self._sync_worker.run_pass)
        self._sync_worker.pass_started.connect(self._on_pass_started)
        self._sync_worker.event_arrived.connect(self._on_event)
        self._sync_worker.pass_finished.connect(self._on_pass_finished)
        self._sync_worker.cannot_sync.connect(self._on_cannot_sync)
        self._sync_worker.books_checked.connect(self._on_books_checked)

        self._want_status.connect(self._io_worker.read_status)
        self._want_log.connect(self._io_worker.read_log)
        self._want_document.connect(self._io_worker.read_document)
        self._save_paused.connect(self._io_worker.save_paused)
        self._save_start_at_login.connect(self._io_worker.save_start_at_login)
        self._export.connect(self._io_worker.export_csv)
        self._close_store.connect(self._io_worker.close)
        self._io_worker.status_read.connect(self._on_status)
        self._io_worker.log_read.connect(self.log_rows)
        self._io_worker.document_read.connect(self.document_read)
        self._io_worker.exported.connect(self.exported)
        self._io_worker.problem.connect(self.problem)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._scheduled_pass)
        self._log_timer = QTimer(self)
        self._log_timer.setSingleShot(True)
        self._log_timer.setInterval(LOG_REFRESH_MS)
        self._log_timer.timeout.connect(self._want_log)
        self._idle_timer = QTimer(self)
        self._idle_timer.setInterval(IDLE_REFRESH_MS)
        self._idle_timer.timeout.connect(self.refresh)

    # --- life --------------------------------------------------------------------------------------
    def start(self) -> None:
        self._sync_thread.start()
        self._io_thread.start()
        self._idle_timer.start()
        self.refresh()
        if self._schedule_enabled:
            self._schedule(FIRST_PASS_DELAY_MS)

    def shutdown(self, wait_ms: int = 15_000) -> None:
        """Ask a running pass to stop at its next batch, then end both threads."""
        self._timer.stop()
        self._idle_timer.stop()
        self._log_timer.stop()
        self._sync_worker.request_stop()
        self._close_store.emit()
        for thread in (self._sync_thread, self._io_thread):
            thread.quit()
        for thread in (self._sync_thread, self._io_thread):
            if not thread.wait(wait_ms):
                log.warning("the %s thread did not end in time", thread.objectName())

    def refresh(self) -> None:
        """Read the status and any new log rows again (on the worker thread)."""
        self._want_status.emit()
        self._want_log.emit()

    # --- what a person asks for ---------------------------------------------------------------------
    @property
    def paused(self) -> bool:
        if self._paused_wanted is not None:
            return self._paused_wanted
        return bool(self.status and self.status.paused)

    def sync_now(self, retry: Sequence[str] = ()) -> bool:
        """Start a pass now, with Xero's changes too; False when one is already running."""
        if self.running:
            return False
        self._begin(poll_xero=True, retry=retry)
        return True

    def pause(self) -> None:
        self._paused_wanted = True
        self._sync_worker.request_stop()
        self._timer.stop()
        self._set_next(None)
        self._save_paused.emit(PausedChoice(True))
        self._update_tray()

    def resume(self) -> None:
        self._paused_wanted = False
        self._save_paused.emit(PausedChoice(False))
        self._update_tray()
        if self._schedule_enabled:
            self._schedule(0)

    def toggle_pause(self) -> None:
        self.resume() if self.paused else self.pause()

    def set_start_at_login(self, enabled: bool) -> None:
        self._save_start_at_login.emit(StartAtLoginChoice(enabled))

    def read_document(self, kind: str, provet_id: str) -> None:
        self._want_document.emit(kind, provet_id)

    def export_log(self, path: str, entries: Sequence[Any]) -> None:
        self._export.emit(path, list(entries))

    # --- the schedule -------------------------------------------------------------------------------
    def _interval_ms(self) -> int:
        seconds = self.status.provet_poll_seconds if self.status else 60
        return max(10, seconds) * 1000

    def _schedule(self, delay_ms: int) -> None:
        if not self._schedule_enabled or self.paused:
            self._set_next(None)
            return
        self._timer.start(delay_ms)
        self._set_next(datetime.now().astimezone() + timedelta(milliseconds=delay_ms))

    def _set_next(self, when: datetime | None) -> None:
        self.next_sync_at = when
        self.next_sync_changed.emit(when)

    def _scheduled_pass(self) -> None:
        if self.running or self.paused:
            return
        if self.status is not None and not self.status.ready:
            self._schedule(self._interval_ms())  # setup unfinished: look again later, quietly
            self.refresh()
            return
        xero_every = self.status.xero_poll_seconds if self.status else 300
        due = self._last_xero_poll is None or time.monotonic() - self._last_xero_poll >= xero_every - 1
        self._begin(poll_xero=due, retry=())

    def _begin(self, *, poll_xero: bool, retry: Sequence[str]) -> None:
        self._timer.stop()
        self._set_next(None)
        self.running = True
        self._status_before_pass = self.status
        self._conflicts_this_pass = 0
        if poll_xero:
            self._last_xero_poll = time.monotonic()
        self.running_changed.emit(Running(True))
        self._update_tray()
        self._start_pass.emit(PassRequest(poll_xero, tuple(retry)))

    # --- what the workers report ----------------------------------------------------------------------
    def _on_pass_started(self) -> None:
        self._log_timer.start()

    def _on_event(self, event: object) -> None:
        if isinstance(event, Progress):
            self.progress.emit(event.phase, event.done, event.total)
            return
        if isinstance(event, ConflictFound):
            self._conflicts_this_pass += 1
        if isinstance(event, PassFinished):
            return
        if not self._log_timer.isActive():
            self._log_timer.start()

    def _on_pass_finished(self, result: SyncResult) -> None:
        self.failure = result.stopped if result.stop_kind in ("connection_ended", "unreachable", "error") else None
        self._pending_result = result
        self._end_pass()
        self.pass_finished.emit(result)

    def _on_cannot_sync(self, message: str) -> None:
        self.failure = message
        self._pending_result = None
        self._end_pass()
        self.cannot_sync.emit(message)

    def _on_books_checked(self, made: DailyTieOut) -> None:
        self._want_status.emit()
        if made.status == UNEXPLAINED:
            self.notify.emit(Notification("Provet and Xero differ", f"{made.words()}. The Tie-out page shows "
                                          "the documents behind it.", "warning"))

    def _end_pass(self) -> None:
        self.running = False
        self.running_changed.emit(Running(False))
        self._want_status.emit()
        self._want_log.emit()
        self._schedule(self._interval_ms())
        self._update_tray()

    def _on_status(self, status: Status) -> None:
        self.status = status
        if self._paused_wanted is not None and status.paused == self._paused_wanted:
            self._paused_wanted = None  # the settings file caught up with the user's choice
        result = self._pending_result
        if result is not None:
            self._pending_result = None
            for note in notifications_after_pass(result, self._status_before_pass, status, self._conflicts_this_pass):
                self.notify.emit(note)
        self._warn_expiry(status)
        self.status_changed.emit(status)
        self._update_tray()

    def _warn_expiry(self, status: Status) -> None:
        note: Notification | None = expiry_notification(status)
        today = datetime.now().date().isoformat()
        if note is not None and self._expiry_warned_on != today:
            self._expiry_warned_on = today
            self.notify.emit(note)

    def _update_tray(self) -> None:
        status = replace(self.status, paused=self.paused) if self.status else None
        state = tray_state(status, running=self.running, failure=self.failure)
        if state != self.tray_state:
            self.tray_state = state
            self.tray_state_changed.emit(state)
