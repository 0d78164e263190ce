"""Reading Provet ahead on background threads while the pass writes to Xero.

Provet's limits are per endpoint and Xero's are per organisation: separate budgets that a pass which reads
everything first and writes afterwards spends one after the other. A `Lane` is one daemon thread that runs
reads in the order they were asked for; the pass keeps a few chunks read ahead and writes the oldest.

Only reads run here. The store, the journal and every event stay on the pass's own thread, so stopping
(or a crash) in the middle leaves nothing half-done: a lane that is told to stop finishes the call under
way and drops its result.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

_END = object()


class Lane:
    """One background thread running reads in order; `submit` hands back a Future for each."""

    def __init__(self, name: str) -> None:
        self._tasks: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name=f"provet-xero {name}", daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        future: Future[T] = Future()
        self._tasks.put((future, lambda: fn(*args)))
        return future

    def stream(self, pages: Callable[[], Iterable[T]], ahead: int = 4) -> Iterator[T]:
        """The items of `pages()` as they are read, at most `ahead` of them waiting to be taken; an error
        while reading is raised here, where the items are taken."""
        box: queue.Queue[Any] = queue.Queue(maxsize=max(1, ahead))

        def read() -> None:
            try:
                for item in pages():
                    while not self._put(box, item):
                        if self._stop.is_set():
                            return
                self._put_final(box, _END)
            except BaseException as exc:  # handed to the reader of the stream
                self._put_final(box, _Failure(exc))

        self.submit(read)
        return _drain(box)

    def close(self) -> None:
        """Stop after the call under way; what is still queued is dropped."""
        self._stop.set()
        self._tasks.put(None)

    def _put(self, box: queue.Queue[Any], item: Any) -> bool:
        try:
            box.put(item, timeout=0.1)
            return True
        except queue.Full:
            return False

    def _put_final(self, box: queue.Queue[Any], item: Any) -> None:
        while not self._stop.is_set():
            if self._put(box, item):
                return

    def _work(self) -> None:
        while True:
            task = self._tasks.get()
            if task is None or self._stop.is_set():
                if task is not None:
                    task[0].cancel()
                return
            future, fn = task
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as exc:  # handed to whoever waits on the future
                future.set_exception(exc)


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def _drain(box: queue.Queue[Any]) -> Iterator[Any]:
    while True:
        item = box.get()
        if item is _END:
            return
        if isinstance(item, _Failure):
            raise item.exc
        yield item
