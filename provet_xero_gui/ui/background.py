"""Plain functions run off the GUI thread, their answers delivered back on it by queued signal.

The setup window and the attention and conflict views each own one `Background`; what runs on it gets
plain values (a Profile, strings) and never a widget, so the views stay responsive while the network works.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)


class _Relay(QObject):
    """One task's way home: emitted on the pool thread, its slots run on the thread it lives in (the GUI's)."""

    done = Signal(object)
    failed = Signal(object)
    progress = Signal(object)

    def __init__(self, parent: QObject, on_done: Callable[[Any], None], on_failed: Callable[[BaseException], None],
                 on_progress: Callable[[Any], None] | None) -> None:
        super().__init__(parent)
        self._on_done, self._on_failed, self._on_progress = on_done, on_failed, on_progress
        self.done.connect(self._done)
        self.failed.connect(self._failed)
        self.progress.connect(self._progress)

    @Slot(object)
    def _done(self, value: Any) -> None:
        try:
            self._on_done(value)
        finally:
            self.deleteLater()

    @Slot(object)
    def _failed(self, exc: BaseException) -> None:
        try:
            self._on_failed(exc)
        finally:
            self.deleteLater()

    @Slot(object)
    def _progress(self, value: Any) -> None:
        if self._on_progress is not None:
            self._on_progress(value)


class Background(QObject):
    """A small thread pool of its own (no global pool); `running` counts tasks not yet answered."""

    running_changed = Signal(int)

    def __init__(self, parent: QObject | None = None, threads: int = 2) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self.running = 0

    def run(
        self,
        fn: Callable[..., Any],
        *,
        on_done: Callable[[Any], None],
        on_failed: Callable[[BaseException], None],
        on_progress: Callable[[Any], None] | None = None,
    ) -> None:
        """Run `fn()` (or `fn(report)` when `on_progress` is given: `report(value)` reaches `on_progress`)."""
        self.running += 1
        self.running_changed.emit(self.running)

        def finished_then(callback: Callable[[Any], None]) -> Callable[[Any], None]:
            def call(value: Any) -> None:
                self.running -= 1
                self.running_changed.emit(self.running)
                callback(value)
            return call

        relay = _Relay(self, finished_then(on_done), finished_then(on_failed), on_progress)
        done, failed, progress = relay.done.emit, relay.failed.emit, relay.progress.emit

        def task() -> None:
            try:
                value = fn(progress) if on_progress is not None else fn()
            except BaseException as exc:  # handed to the GUI thread, which says it in plain words
                _emit(failed, exc)
                return
            _emit(done, value)

        self._pool.start(task)

    def wait(self, msecs: int = 5000) -> bool:
        """Wait for running tasks (at close); True when none is left."""
        return self._pool.waitForDone(msecs)


def _emit(signal_emit: Callable[[Any], None], value: Any) -> None:
    try:
        signal_emit(value)
    except RuntimeError:  # the view was closed and deleted meanwhile: nobody is listening any more
        log.debug("a background answer arrived after its view was gone")
