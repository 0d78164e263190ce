"""A clock the sandbox runs on, which tests can move and speed up.

Rate-limit windows, token lifetimes and `modified` stamps all read this clock, so a test can
exercise a 30-minute token expiry or a 60-second limit window in milliseconds.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class SandboxClock:
    """Sandbox time = start + (real seconds elapsed × scale) + manual offset."""

    def __init__(
        self,
        start: datetime | None = None,
        scale: float = 1.0,
        monotonic=time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._monotonic = monotonic
        self._start = start or datetime.now(UTC).replace(microsecond=0)
        if self._start.tzinfo is None:
            raise ValueError("the sandbox clock needs a timezone-aware start time")
        self._real0 = monotonic()
        self._scale = scale
        self._offset = 0.0

    @property
    def scale(self) -> float:
        return self._scale

    def set_scale(self, scale: float) -> None:
        """Change the speed without jumping: time so far is kept."""
        if scale <= 0:
            raise ValueError("time scale must be positive")
        with self._lock:
            now_real = self._monotonic()
            self._offset += (now_real - self._real0) * self._scale
            self._real0 = now_real
            self._scale = scale

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    def seconds(self) -> float:
        """Sandbox seconds since the clock started (monotonic)."""
        with self._lock:
            return (self._monotonic() - self._real0) * self._scale + self._offset

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self.seconds())

    def real_seconds(self, sandbox_seconds: float) -> float:
        """How long a wait of `sandbox_seconds` takes in real time."""
        return sandbox_seconds / self._scale
