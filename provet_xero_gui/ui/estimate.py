"""An estimated finish for long work, from how fast the current phase has gone so far (no Qt)."""

from __future__ import annotations

import time
from collections.abc import Callable

MIN_SECONDS = 3.0  # too early to guess before this
MIN_DONE = 1


class FinishEstimate:
    """Feed it (phase, done, total); it answers the seconds left in that phase, or None while unsure."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._phase: str | None = None
        self._start = 0.0
        self._start_done = 0

    def update(self, phase: str, done: int, total: int) -> float | None:
        now = self._clock()
        if phase != self._phase or done < self._start_done:
            self._phase, self._start, self._start_done = phase, now, done
            return None
        elapsed, gained = now - self._start, done - self._start_done
        if elapsed < MIN_SECONDS or gained < MIN_DONE or total <= done:
            return None
        return (total - done) * elapsed / gained

    def reset(self) -> None:
        self._phase = None


def words_for_seconds(seconds: float) -> str:
    """"about 40 seconds", "about 3 minutes", "about 2 hours 10 minutes"."""
    if seconds < 60:
        return f"about {max(5, round(seconds / 5) * 5)} seconds"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} minute{'s' if minutes != 1 else ''}"
    hours, minutes = divmod(minutes, 60)
    return f"about {hours} hour{'s' if hours != 1 else ''}" + (f" {minutes} minutes" if minutes else "")
