"""Makes `SignalInstance.emit()` safe on a PySide6 that loses a reference to `True` on every call.

Why: PySide6 6.12.0 returns `True` from every `emit()` without taking a reference for it, and the caller
drops one it never had. On Python 3.11 (where `True` is an ordinary, counted object) a few thousand
signals — a clinic's first sync shows one progress event per document — free `True` itself, and the
process aborts with "Fatal Python error: bool_dealloc" (issue #15). Every emit leaks, whatever its
arguments, so no choice of payload avoids it.

What: pyproject.toml excludes that release and requirements/lock.txt pins the one CI tests. Should another
release do the same, `make_emit_safe()` (run when `provet_xero_gui.ui` is imported, before any signal is
sent) measures what one emit costs and, if it costs references, wraps `emit` so each call gives back
exactly what it took. On Python 3.12+ `True` is immortal, the cost measures 0 and nothing is wrapped.
tests/ui/test_signal_refcounts.py checks the installed PySide6, the app's signals across threads, and
that this guard mends a leaking emit.
"""

from __future__ import annotations

import ctypes
import logging
import sys

from PySide6.QtCore import QObject, Signal, SignalInstance

log = logging.getLogger(__name__)

PROBE_EMITS = 64
_original_emit = SignalInstance.emit  # as PySide6 (or whoever patched it before us) made it
_state: dict[str, int] = {}


class _Probe(QObject):
    fired = Signal()


def _give_back_true(count: int) -> None:
    for _ in range(count):
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))


def true_references_lost_per_emit() -> int:
    """What one `emit()` of the installed PySide6 costs `True`'s reference count (0 when it is sound).
    The references the measurement itself lost are given back."""
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(PROBE_EMITS):
        _original_emit(probe.fired)
    lost = before - sys.getrefcount(True)
    if lost > 0:
        _give_back_true(lost)
    return round(lost / PROBE_EMITS) if lost > 0 else 0


def make_emit_safe() -> int:
    """Wrap `emit` when the installed PySide6 loses references to `True`; returns the references one emit
    lost (0: nothing was wrapped). Safe to call more than once."""
    if "wrapped" in _state:
        return _state["wrapped"]
    cost = true_references_lost_per_emit()
    if cost <= 0:
        return 0
    def emit_giving_back(self: SignalInstance, *args: object) -> object:
        result = _original_emit(self, *args)
        if result is True:
            _give_back_true(cost)
        return result

    SignalInstance.emit = emit_giving_back  # type: ignore[method-assign]
    _state["wrapped"] = cost
    log.warning("this PySide6 (%s) loses a reference to True on every signal; provet-xero gives it back. "
                "Install the version in requirements/lock.txt.", _pyside_version())
    return cost


def _pyside_version() -> str:
    import PySide6

    return PySide6.__version__
