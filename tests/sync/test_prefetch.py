"""Reading ahead: the pass's background lanes hand results over in order, pass errors on, and stop."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from provet_xero_gui.provet.client import ProvetError
from provet_xero_gui.sync.prefetch import Lane


def _lane_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("provet-xero ") and t.is_alive()]


def test_submitted_reads_run_in_order_on_one_thread() -> None:
    lane = Lane("test")
    seen: list[tuple[int, str]] = []
    try:
        futures = [lane.submit(lambda i=i: seen.append((i, threading.current_thread().name)) or i * 10)
                   for i in range(5)]
        assert [f.result(timeout=5) for f in futures] == [0, 10, 20, 30, 40]
    finally:
        lane.close()
    assert [i for i, _ in seen] == [0, 1, 2, 3, 4]
    assert {name for _, name in seen} == {"provet-xero test"}


def test_a_failed_read_is_raised_to_whoever_takes_the_result() -> None:
    lane = Lane("test")
    try:
        def broken() -> int:
            raise ProvetError("Provet's answer was cut off")

        future = lane.submit(broken)
        with pytest.raises(ProvetError, match="cut off"):
            future.result(timeout=5)
        assert lane.submit(lambda: 7).result(timeout=5) == 7  # the lane goes on
    finally:
        lane.close()


def test_a_stream_gives_every_page_in_order_then_the_error_where_it_happened() -> None:
    lane = Lane("test")

    def pages() -> Iterator[int]:
        yield 1
        yield 2
        raise ProvetError("the third page was HTML")

    taken: list[int] = []
    try:
        with pytest.raises(ProvetError, match="third page"):
            for page in lane.stream(pages):
                taken.append(page)
    finally:
        lane.close()
    assert taken == [1, 2]


def test_a_stream_reads_only_a_few_pages_ahead_and_stops_when_closed() -> None:
    lane = Lane("test")
    read: list[int] = []

    def pages() -> Iterator[int]:
        for i in range(1000):
            read.append(i)
            yield i

    stream = lane.stream(pages, ahead=3)
    assert next(stream) == 0
    time.sleep(0.3)
    assert len(read) <= 5  # 1 taken, 3 waiting, 1 being put: not the whole list in memory
    lane.close()
    deadline = time.monotonic() + 5
    while any(t.name == "provet-xero test" for t in _lane_threads()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(t.name == "provet-xero test" for t in _lane_threads())
    assert len(read) <= 6


def test_reads_queued_behind_a_close_are_dropped() -> None:
    lane = Lane("test")
    gate, started = threading.Event(), threading.Event()
    first = lane.submit(lambda: started.set() or gate.wait(5))
    second = lane.submit(lambda: "never")
    assert started.wait(5)
    lane.close()
    gate.set()
    first.result(timeout=5)
    deadline = time.monotonic() + 5
    while not second.done() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert second.cancelled()
