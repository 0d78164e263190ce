"""The profile's sync lock: one sync at a time across processes, freed by the OS when its holder dies."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from provet_xero_gui.app.lock import LockHeld, ProfileLock

HOLDER = """
import sys
from provet_xero_gui.app.lock import ProfileLock
lock = ProfileLock(sys.argv[1])
lock.acquire()
print("held", flush=True)
sys.stdin.read()  # hold until told (stdin closed) or killed
lock.release()
print("released", flush=True)
"""


def _start_holder(path: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line == "held", proc.stderr.read() if proc.stderr else line
    return proc


@pytest.fixture
def lock_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "sync.lock"


def test_take_and_release(lock_path: Path) -> None:
    lock = ProfileLock(lock_path)
    before = datetime.now().astimezone().replace(microsecond=0)
    lock.acquire()
    after = datetime.now().astimezone()
    assert lock.held and lock_path.exists()
    holder = lock.holder()
    assert holder is not None and holder.pid == os.getpid()
    assert before <= holder.since <= after  # when it was taken, however slow the machine
    lock.release()
    assert not lock.held and lock.holder() is None
    lock.release()  # twice is harmless
    with ProfileLock(lock_path) as again:  # free again
        assert again.held
    assert lock_path.exists()  # never deleted


def test_second_lock_in_the_same_process_is_refused(lock_path: Path) -> None:
    with ProfileLock(lock_path), pytest.raises(LockHeld, match=rf"process {os.getpid()}, since \d\d:\d\d"):
        ProfileLock(lock_path).acquire()
    with pytest.raises(RuntimeError), ProfileLock(lock_path) as lock:
        lock.acquire()


def test_another_process_cannot_take_it_while_held(lock_path: Path) -> None:
    proc = _start_holder(lock_path)
    try:
        with pytest.raises(LockHeld) as caught:
            ProfileLock(lock_path).acquire()
        message = str(caught.value)
        assert re.fullmatch(
            rf"A sync is already running for this profile \(process {proc.pid}, since \d\d:\d\d\)\. "
            r"Wait for it to finish\.",
            message,
        ), message
        assert caught.value.holder is not None and caught.value.holder.pid == proc.pid
        with pytest.raises(LockHeld):
            ProfileLock(lock_path).acquire(blocking=True, timeout=0.3)
    finally:
        out, err = proc.communicate("", timeout=10)  # closing stdin lets it release
    assert "released" in out, err
    with ProfileLock(lock_path) as lock:
        assert lock.holder().pid == os.getpid()


def test_a_waiting_sync_gets_the_lock_when_the_holder_finishes(lock_path: Path) -> None:
    proc = _start_holder(lock_path)
    assert proc.stdin is not None
    proc.stdin.close()  # the holder finishes soon
    lock = ProfileLock(lock_path)
    lock.acquire(blocking=True, timeout=10)
    assert lock.held
    lock.release()
    proc.wait(10)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_killed_holder_frees_it(lock_path: Path) -> None:
    proc = _start_holder(lock_path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    with ProfileLock(lock_path) as lock:  # no stale pid file to clear by hand
        assert lock.holder().pid == os.getpid()
    proc.communicate()


def test_a_child_process_does_not_inherit_the_lock(lock_path: Path) -> None:
    with ProfileLock(lock_path):
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], close_fds=False)
    try:
        with ProfileLock(lock_path) as lock:  # the parent let go; the child never held it
            assert lock.held
    finally:
        child.kill()
        child.wait(10)


def test_unreadable_holder_text_still_gives_a_plain_message(lock_path: Path) -> None:
    with ProfileLock(lock_path):
        lock_path.write_text("garbage")
        with pytest.raises(LockHeld, match=r"^A sync is already running for this profile\. Wait for it to finish\.$"):
            ProfileLock(lock_path).acquire()
