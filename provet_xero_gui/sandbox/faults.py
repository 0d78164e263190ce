"""Switchable faults and per-endpoint call counters shared by both simulated services."""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Faults:
    """What a test can switch on. Rates are probabilities in [0, 1], drawn from a seeded RNG.

    - latency: seconds (real time) added before every answer.
    - error_rate: share of requests answered 503 before they do anything.
    - rate_limit_rate: share of requests answered 429 (Retry-After: 1) before they do anything, as a
      limit spent by another app of the same clinic would.
    - drop_after_commit_rate: share of writes (POST/PUT/PATCH/DELETE) that are carried out and
      committed, after which the connection is closed without an answer.
    - drop_next_writes: the next N writes are dropped after commit (deterministic, for tests).
    - fail_next: the next N requests get a 500 before they do anything.
    - rate_limit_next: the next N requests get a 429 (Retry-After: 1) before they do anything.
    - retry_after: the Retry-After (seconds) of those fault 429s (e.g. 3600: "come back in an hour").
    - error_html: the fault 5xx answers are an HTML page (as a load balancer's maintenance page is), not JSON.
    - drip: seconds (real time) between the bytes of every answer's body: an answer that drips a byte at a
      time, each byte well within any read timeout, the whole far beyond any sane wait.
    - page_loop: lists whose `next` never ends (Provet lists): "same" points `next` back at the page just
      served; "endless" serves the first page's results again under an ever larger page number.
    - foreign_next: a base URL (e.g. "http://127.0.0.1:9") that Provet lists' `next` links point to instead
      of the instance's own address, as a hostile answer or a proxy rewriting links would.
    """

    latency: float = 0.0
    error_rate: float = 0.0
    rate_limit_rate: float = 0.0
    drop_after_commit_rate: float = 0.0
    drop_next_writes: int = 0
    fail_next: int = 0
    rate_limit_next: int = 0
    retry_after: int = 1
    error_html: bool = False
    drip: float = 0.0
    page_loop: str = ""
    foreign_next: str = ""
    seed: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._rng.seed(self.seed)

    def reset(self) -> None:
        with self._lock:
            self.latency = 0.0
            self.error_rate = 0.0
            self.rate_limit_rate = 0.0
            self.drop_after_commit_rate = 0.0
            self.drop_next_writes = 0
            self.fail_next = 0
            self.rate_limit_next = 0
            self.retry_after = 1
            self.error_html = False
            self.drip = 0.0
            self.page_loop = ""
            self.foreign_next = ""

    def should_fail(self) -> bool:
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return True
            return self.error_rate > 0 and self._rng.random() < self.error_rate

    def should_rate_limit(self) -> bool:
        with self._lock:
            if self.rate_limit_next > 0:
                self.rate_limit_next -= 1
                return True
            return self.rate_limit_rate > 0 and self._rng.random() < self.rate_limit_rate

    def should_drop(self, method: str) -> bool:
        if method in ("GET", "HEAD"):
            return False
        with self._lock:
            if self.drop_next_writes > 0:
                self.drop_next_writes -= 1
                return True
            return self.drop_after_commit_rate > 0 and self._rng.random() < self.drop_after_commit_rate


class CallCounter:
    """Counts every request by `METHOD route-name`, thread-safe; tests and benchmarks read it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._statuses: Counter[int] = Counter()

    def record(self, key: str, status: int) -> None:
        with self._lock:
            self._counts[key] += 1
            self._statuses[status] += 1

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def statuses(self) -> dict[int, int]:
        with self._lock:
            return dict(self._statuses)

    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._statuses.clear()
