"""No signal the app sends may cost Python a reference to True, False or None (issue #15).

PySide6 6.12.0's emit() loses one reference to True per call; on Python 3.11 a clinic-size first sync then
aborts the app ("Fatal Python error: bool_dealloc"). These tests emit every signal shape the app uses
(typed objects, bools, ints, strs, pairs, nothing) tens of thousands of times across threads and check
that the counts do not move; and they show that the check itself catches a leaking emit and that the app's
guard (provet_xero_gui/ui/qt_guard.py) mends one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers.refcounts import SHAPES

TESTS = Path(__file__).resolve().parents[1]
# Whatever a sound PySide6 keeps (queued-call bookkeeping, caches) stays well under this; a leak moves True
# by one per emit, thousands here.
SETTLED = 50


def _drift_in_child(*args: str) -> dict[str, int]:
    """The drift measured in a process of its own: a leaking emit may abort it once the numbers are out."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-m", "helpers.refcounts", *args], cwd=TESTS, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.stdout.strip(), f"no measurement (exit {out.returncode}): {out.stderr[-2000:]}"
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_installed_pyside6_emits_without_losing_references() -> None:
    """The PySide6 that CI tests and the bundle ships (requirements/lock.txt) is sound on its own, without
    the guard. Fails on 6.12.0: True moves by one per emit."""
    rounds = 5  # few enough that a leaking emit cannot free True before the numbers are printed
    got = _drift_in_child(str(rounds))
    assert got["heard"] == rounds * SHAPES * 3
    assert all(abs(got[name]) < SETTLED for name in ("True", "False", "None")), got


def test_every_signal_shape_keeps_true_false_and_none_across_threads() -> None:
    """The app's own signal path (the guard installed by importing provet_xero_gui.ui, as the app does):
    63,000 emits from three threads, queued and direct, and the counts end where they started. Measured in
    a process of its own: in the test run's process, objects earlier tests left behind are freed at any
    moment and move these counts by themselves."""
    rounds = 3000
    got = _drift_in_child(str(rounds), "guard")
    assert got["heard"] == rounds * SHAPES * 3
    assert all(abs(got[name]) < SETTLED for name in ("True", "False", "None")), got


def test_the_check_catches_an_emit_that_leaks_and_the_guard_mends_it() -> None:
    """An emit that loses a reference to True per call, as 6.12.0's does: the check sees it, and with the
    app's guard installed the same emit leaves the counts alone over 63,000 emits and the process ends
    normally (unguarded, that many emits abort it)."""
    leaking = _drift_in_child("5", "leak")
    assert leaking["True"] <= -(5 * SHAPES * 3) + SETTLED, leaking

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-m", "helpers.refcounts", "3000", "leak", "guard"], cwd=TESTS, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    guarded = json.loads(out.stdout.strip().splitlines()[-1])
    assert all(abs(guarded[name]) < SETTLED for name in ("True", "False", "None")), guarded
    assert "gives it back" in out.stderr  # the guard says what it found, for whoever reads the log
