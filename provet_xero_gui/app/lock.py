"""One sync at a time per profile, across processes (the window and the command line).

An OS file lock on `<data_dir>/sync.lock` (oslock.py: fcntl.flock / msvcrt.locking), not a pid
file: the operating system drops the lock when the holder's process ends in any way (crash, kill -9,
power button on the terminal), so a dead sync never blocks the next one. While held, the file says who
holds it (process id and start time) so that the message for the one who waits can name them.

    with ProfileLock.for_profile(profile.paths.data_dir):
        ...  # run the sync pass

The lock is per open file, so two `ProfileLock` objects in one process also exclude each other.
The file is never deleted (deleting a lock file lets two processes lock two different files).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType

from provet_xero_gui.oslock import try_lock, unlock

log = logging.getLogger(__name__)

LOCK_FILE_NAME = "sync.lock"
POLL_SECONDS = 0.1


class LockHeld(Exception):
    """Another sync holds the profile's lock; the message says who, in plain words."""

    def __init__(self, holder: LockHolder | None) -> None:
        self.holder = holder
        if holder is None:
            who = ""
        else:
            who = f" (process {holder.pid}, since {_when(holder.since)})"
        super().__init__(f"A sync is already running for this profile{who}. Wait for it to finish.")


@dataclass(frozen=True)
class LockHolder:
    pid: int
    since: datetime  # local time, aware


def _when(since: datetime) -> str:
    now = datetime.now().astimezone()
    local = since.astimezone()
    if local.date() == now.date():
        return local.strftime("%H:%M")
    return f"{local.day} {local.strftime('%b %H:%M')}"


class ProfileLock:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    @classmethod
    def for_profile(cls, data_dir: Path) -> ProfileLock:
        return cls(Path(data_dir) / LOCK_FILE_NAME)

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def acquire(self, blocking: bool = False, timeout: float | None = None) -> None:
        """Take the lock or raise LockHeld. `blocking` waits for it (up to `timeout` seconds when given)."""
        if self._fd is not None:
            raise RuntimeError("this ProfileLock is already held")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = None if timeout is None else time.monotonic() + timeout
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)  # not inherited by child processes
        try:
            while not try_lock(fd):
                if not blocking or (deadline is not None and time.monotonic() >= deadline):
                    raise LockHeld(self.holder())
                time.sleep(POLL_SECONDS)
            self._fd = fd
            self._write_holder(fd)
        except BaseException:
            if self._fd is None:
                os.close(fd)
            else:
                self.release()
            raise
        log.debug("sync lock taken: %s", self.path)

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)  # nobody holds it: no stale holder text for the next message
        try:
            unlock(fd)
        finally:
            os.close(fd)
        log.debug("sync lock released: %s", self.path)

    def holder(self) -> LockHolder | None:
        """Who holds the lock as its file says (None when unknown, e.g. it is just being written)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8") or "null")
            return LockHolder(int(data["pid"]), datetime.fromisoformat(data["since"]))
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def _write_holder(self, fd: int) -> None:
        text = json.dumps({"pid": os.getpid(), "since": datetime.now().astimezone().isoformat(timespec="seconds")})
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, text.encode("utf-8"))

    def __enter__(self) -> ProfileLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    def __del__(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
