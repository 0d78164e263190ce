"""Pacing Provet Cloud calls under its per-endpoint limits, so that a 429 is rare.

Provet counts requests per endpoint over a rolling 60 s: `GET /invoice/` 60, `/invoicerow/` 100,
`/invoicepayment/` 100, `/client/` 125, `/unallocatedpayment/` 200, other reads 300; each write method has
its own budget (300 per method and resource, e.g. `POST invoicepayment` — which covers `cancel_payment`
too). A list page larger than 50 costs `ceil(page_size / 50)`.

The limiter keeps its own record of what it spent and waits *before* a call would go over. A call is
stamped when its answer has arrived (Provet counted it somewhere between sending and answering), so the
limiter's idea of when a budget frees up is never earlier than Provet's. A call answered 429 was not
counted by Provet and is refunded. Other programs using the same integration spend the same budgets; the
client's 429 + Retry-After handling stays as the safety net for that.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60.0
DEFAULT_PAGE_SIZE = 50
GET_LIMITS: Mapping[str, int] = {
    "invoice": 60,
    "invoicerow": 100,
    "invoicepayment": 100,
    "client": 125,
    "unallocatedpayment": 200,
}
DEFAULT_GET_LIMIT = 300
WRITE_LIMIT = 300
MAX_ROUNDS = 50  # waits per call before going ahead anyway (the server's 429 is the safety net)


def call_cost(method: str, url: str, params: Mapping[str, Any] | None = None) -> int:
    """What one request costs: 1, or `ceil(page_size / 50)` for a list read with a larger page."""
    if method.upper() != "GET":
        return 1
    parts = urlsplit(url)
    if _is_detail(parts.path):
        return 1
    size: Any = None
    if params and "page_size" in params:
        size = params["page_size"]
    else:
        size = (parse_qs(parts.query).get("page_size") or [None])[-1]
    try:
        n = int(size) if size is not None else DEFAULT_PAGE_SIZE
    except (TypeError, ValueError):
        return 1
    n = min(max(n, 1), 1000)  # Provet caps page_size at 1000
    return math.ceil(n / DEFAULT_PAGE_SIZE) if n > DEFAULT_PAGE_SIZE else 1


def _is_detail(path: str) -> bool:
    """`.../invoice/12/` or `.../invoicepayment/7/cancel_payment/`: not a list."""
    segments = [s for s in path.split("/") if s]
    return any(s.isdigit() for s in segments[-2:])


@dataclass(frozen=True)
class Budget:
    """One budget as the limiter sees it now."""

    bucket: str
    limit: int
    spent: int

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.spent)


class _Entry:
    __slots__ = ("cost", "stamp")

    def __init__(self, stamp: float, cost: int) -> None:
        self.stamp = stamp
        self.cost = cost


class Slot:
    """A call's place in a budget while it is under way (see `ProvetLimiter.slot`)."""

    def __init__(self, bucket: str, entry: _Entry) -> None:
        self.bucket = bucket
        self.cost = entry.cost
        self._entry = entry
        self.refunded = False

    def refund(self) -> None:
        """Provet did not count this call (it answered 429)."""
        self.refunded = True


class ProvetLimiter:
    """Rolling-window budgets per endpoint; `slot()` waits until a call fits, thread-safe."""

    def __init__(
        self,
        get_limits: Mapping[str, int] | None = None,
        *,
        default_get_limit: int = DEFAULT_GET_LIMIT,
        write_limit: int = WRITE_LIMIT,
        window: float = WINDOW_SECONDS,
        margin: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        enabled: bool = True,
    ) -> None:
        self.enabled = enabled  # False: count, never wait (tests, or a sandbox without limits)
        self.get_limits = dict(GET_LIMITS if get_limits is None else get_limits)
        self.default_get_limit = default_get_limit
        self.write_limit = write_limit
        self.window = window
        self.margin = margin  # seconds added to every wait, for clock drift between us and Provet
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._spent: dict[str, list[_Entry]] = {}
        self.waited_seconds = 0.0
        self.waits = 0

    # --- budgets --------------------------------------------------------------------------------------
    def bucket(self, method: str, resource: str) -> tuple[str, int]:
        """The budget a call spends from: reads per resource, writes per method and resource."""
        method = method.upper()
        if method in ("GET", "HEAD"):
            return resource, self.get_limits.get(resource, self.default_get_limit)
        return f"{method} {resource}", self.write_limit

    def budget(self, method: str, resource: str) -> Budget:
        name, limit = self.bucket(method, resource)
        with self._lock:
            return Budget(name, limit, self._used(name, self._clock()))

    def budgets(self) -> tuple[Budget, ...]:
        """Every budget spent from in the current window."""
        with self._lock:
            now = self._clock()
            out = []
            for name in sorted(self._spent):
                limit = self.write_limit if " " in name else self.get_limits.get(name, self.default_get_limit)
                out.append(Budget(name, limit, self._used(name, now)))
            return tuple(out)

    def _live(self, name: str, now: float) -> list[_Entry]:
        entries = self._spent.get(name)
        if not entries:
            return []
        live = [e for e in entries if e.stamp > now - self.window]
        self._spent[name] = live
        return live

    def _used(self, name: str, now: float) -> int:
        return sum(e.cost for e in self._live(name, now))

    # --- pacing ---------------------------------------------------------------------------------------
    @contextmanager
    def slot(self, method: str, resource: str, cost: int = 1) -> Iterator[Slot]:
        """Wait until `cost` fits in the budget, hold it while the call runs, stamp it when it is done."""
        name, limit = self.bucket(method, resource)
        entry = self._acquire(name, limit, cost)
        slot = Slot(name, entry)
        try:
            yield slot
        finally:
            with self._lock:
                if slot.refunded:
                    entries = self._spent.get(name, [])
                    if entry in entries:
                        entries.remove(entry)
                else:
                    entry.stamp = max(entry.stamp, self._clock())
                    entries = self._spent.setdefault(name, [])
                    if entry not in entries:  # it ran longer than the window
                        entries.append(entry)

    def _acquire(self, name: str, limit: int, cost: int) -> _Entry:
        for _ in range(MAX_ROUNDS):
            with self._lock:
                now = self._clock()
                live = self._live(name, now)
                used = sum(e.cost for e in live)
                if used + cost <= limit or not live or not self.enabled:
                    entry = _Entry(now, cost)
                    self._spent.setdefault(name, []).append(entry)
                    return entry
                wait = self._wait_for(live, used, cost, limit, now)
            log.debug("pacing Provet calls on %s: waiting %.1f s", name, wait)
            self.waits += 1
            self.waited_seconds += wait
            self._sleep(wait)
        log.warning("Provet budget %s still looked full after waiting; going ahead", name)
        with self._lock:
            entry = _Entry(self._clock(), cost)
            self._spent.setdefault(name, []).append(entry)
            return entry

    def _wait_for(self, live: list[_Entry], used: int, cost: int, limit: int, now: float) -> float:
        """Seconds until enough of the oldest calls leave the window for `cost` to fit."""
        freed = 0
        for e in sorted(live, key=lambda x: x.stamp):
            freed += e.cost
            if used - freed + cost <= limit:
                return max(0.01, e.stamp + self.window - now + self.margin)
        return max(0.01, self.window + self.margin)
