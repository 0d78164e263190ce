"""Pacing Xero calls under the per-organisation limits (60 a minute, 5,000 a day).

The limiter counts its own calls in a rolling minute and reads `X-MinLimit-Remaining` /
`X-DayLimit-Remaining` from every answer, so a 429 is rare. When the day's calls run low it refuses to
start more work (`DayLimitLow`), so a pass can stop cleanly and say when it can go on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60.0
MAX_WAIT_SECONDS = 300.0  # a Retry-After longer than this stops the pass instead of holding the lock asleep


class DayLimitLow(Exception):
    """Too few of today's Xero calls are left to go on; `resume_in` is seconds until it is worth trying."""

    def __init__(self, remaining: int, resume_in: float | None = None) -> None:
        when = f" Xero allows more in about {max(1, round(resume_in / 60))} minutes." if resume_in else ""
        super().__init__(
            f"Only {remaining} of today's Xero calls are left, so the sync stopped here to keep some in "
            f"reserve; it goes on by itself later.{when}"
        )
        self.remaining = remaining
        self.resume_in = resume_in


class WaitTooLong(DayLimitLow):
    """Xero asked for a wait longer than a pass should sit idle holding the sync lock (Retry-After: 3600):
    the pass stops, and the message says when the sync goes on by itself. `resume_at` is aware (UTC)."""

    def __init__(self, retry_after: float, resume_at: datetime) -> None:
        Exception.__init__(
            self,
            f"Xero asked provet-xero to wait {_duration(retry_after)} before its next call (too many calls). "
            f"Rather than hold everything up, the sync stopped here; it goes on by itself after "
            f"{_local_time(resume_at)}. Nothing is lost.",
        )
        self.remaining = 0
        self.resume_in = retry_after
        self.resume_at = resume_at


def _duration(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    if minutes < 120:
        return f"{minutes} minutes"
    return f"{minutes / 60:.0f} hours"


def _local_time(at: datetime) -> str:
    """`19:42` today, `3 Dec 19:42` another day, in this computer's time zone."""
    local, today = at.astimezone(), datetime.now().astimezone().date()
    return local.strftime("%H:%M") if local.date() == today else local.strftime("%d %b %H:%M").lstrip("0")


@dataclass(frozen=True)
class LimitState:
    minute_remaining: int | None
    day_remaining: int | None
    calls_this_minute: int


class XeroLimiter:
    def __init__(
        self,
        per_minute: int = 60,
        *,
        minute_reserve: int = 2,
        day_reserve: int = 50,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = MAX_WAIT_SECONDS,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.per_minute = per_minute
        self.max_wait = max_wait
        self._now = now
        self.minute_reserve = minute_reserve
        self.day_reserve = day_reserve
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._calls: deque[float] = deque()
        self.minute_remaining: int | None = None
        self.day_remaining: int | None = None
        self.waited_seconds = 0.0

    def state(self) -> LimitState:
        with self._lock:
            self._trim(self._clock())
            return LimitState(self.minute_remaining, self.day_remaining, len(self._calls))

    def _trim(self, now: float) -> None:
        while self._calls and self._calls[0] <= now - WINDOW_SECONDS:
            self._calls.popleft()

    def before_call(self) -> None:
        """Waits until a call fits in the minute; raises DayLimitLow when the day is nearly used up."""
        if self.day_remaining is not None and self.day_remaining <= self.day_reserve:
            raise DayLimitLow(self.day_remaining)
        while True:
            with self._lock:
                now = self._clock()
                self._trim(now)
                allowed = self.per_minute - self.minute_reserve
                if self.minute_remaining is not None and self.minute_remaining <= self.minute_reserve and self._calls:
                    # Xero says the minute is nearly used (other apps of the clinic count too).
                    allowed = min(allowed, len(self._calls))
                if len(self._calls) < allowed:
                    self._calls.append(now)
                    return
                wait = self._calls[0] + WINDOW_SECONDS - now + 0.05
            log.debug("pacing Xero calls: waiting %.1f s", wait)
            self.waited_seconds += max(wait, 0)
            self._sleep(max(wait, 0.01))
            with self._lock:
                self.minute_remaining = None  # the window moved on; the next answer tells us again

    def after_call(self, headers: Mapping[str, str]) -> None:
        minute = _int(headers.get("X-MinLimit-Remaining") or headers.get("x-minlimit-remaining"))
        day = _int(headers.get("X-DayLimit-Remaining") or headers.get("x-daylimit-remaining"))
        with self._lock:
            if minute is not None:
                self.minute_remaining = minute
            if day is not None:
                self.day_remaining = day

    def rate_limited(self, problem: str | None, retry_after: float) -> None:
        """After a 429: a day limit ends the pass, a minute or concurrency limit waits as Xero says — unless
        that is longer than `max_wait`: then the pass stops (`WaitTooLong`) with the time it goes on."""
        if problem == "day":
            with self._lock:
                self.day_remaining = 0
            raise DayLimitLow(0, retry_after)
        if retry_after > self.max_wait:
            log.warning("Xero said too many calls (%s) and to wait %.0f s; stopping the pass", problem, retry_after)
            raise WaitTooLong(retry_after, self._now() + timedelta(seconds=retry_after))
        log.warning("Xero said too many calls (%s); waiting %.0f s", problem or "minute", retry_after)
        self.waited_seconds += retry_after
        self._sleep(retry_after)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
