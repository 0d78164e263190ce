"""How far the reference counts of True, False and None move while signals of every shape the app uses are
emitted, across threads and on the GUI thread. A PySide6 that loses a reference per emit (6.12.0 does, on
Python 3.11) moves True's by one per emit; a sound one leaves all three where they were.

`python -m helpers.refcounts N [leak]` prints the drift as JSON, for a test that must not risk its own
process: with `leak`, emit is first made to lose one reference to True per call, as 6.12.0 does; with
`guard`, the app's guard (provet_xero_gui.ui.qt_guard) is installed too.
"""

from __future__ import annotations

import gc
import json
import sys
import threading
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal, Slot


@dataclass(frozen=True)
class Payload:
    """A typed payload like the app's events: it carries bools and None inside."""

    done: bool
    note: str | None


class Emitter(QObject):
    as_object = Signal(object)
    as_bool = Signal(bool)
    as_int = Signal(int)
    as_str = Signal(str)
    as_pair = Signal(bool, object)
    as_nothing = Signal()


class Receiver(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.heard = 0

    @Slot(object)
    def on_object(self, value: object) -> None:
        self.heard += 1

    @Slot(bool)
    def on_bool(self, value: bool) -> None:
        self.heard += 1

    @Slot(int)
    def on_int(self, value: int) -> None:
        self.heard += 1

    @Slot(str)
    def on_str(self, value: str) -> None:
        self.heard += 1

    @Slot(bool, object)
    def on_pair(self, flag: bool, value: object) -> None:
        self.heard += 1

    @Slot()
    def on_nothing(self) -> None:
        self.heard += 1


SHAPES = 7  # emits per round in _emit_round


def _emit_round(e: Emitter, k: int) -> None:
    flag = k % 2 == 0
    e.as_object.emit(Payload(flag, None))
    e.as_object.emit(flag)
    e.as_bool.emit(flag)
    e.as_int.emit(k)
    e.as_str.emit("x")
    e.as_pair.emit(flag, None)
    e.as_nothing.emit()


def counts() -> tuple[int, int, int]:
    return sys.getrefcount(True), sys.getrefcount(False), sys.getrefcount(None)


def drift(rounds: int, threads: int = 2) -> dict[str, int]:
    """Emit `rounds` rounds of every shape from each of `threads` threads (queued into this thread's slots)
    and from this thread (direct), let every queued call arrive, and return how far the counts moved."""
    app = QCoreApplication.instance() or QCoreApplication([])
    receiver = Receiver()
    emitters = [Emitter() for _ in range(threads + 1)]
    for i, e in enumerate(emitters):
        kind = Qt.ConnectionType.DirectConnection if i == 0 else Qt.ConnectionType.QueuedConnection
        e.as_object.connect(receiver.on_object, kind)
        e.as_bool.connect(receiver.on_bool, kind)
        e.as_int.connect(receiver.on_int, kind)
        e.as_str.connect(receiver.on_str, kind)
        e.as_pair.connect(receiver.on_pair, kind)
        e.as_nothing.connect(receiver.on_nothing, kind)
    gc.collect()
    before = counts()

    def send(e: Emitter) -> None:
        for k in range(rounds):
            _emit_round(e, k)

    workers = [threading.Thread(target=send, args=(e,)) for e in emitters[1:]]
    for w in workers:
        w.start()
    send(emitters[0])
    for w in workers:
        w.join()
    expected = rounds * SHAPES * len(emitters)
    while receiver.heard < expected:
        app.processEvents()
    gc.collect()
    after = counts()
    return {"True": after[0] - before[0], "False": after[1] - before[1], "None": after[2] - before[2],
            "heard": receiver.heard}


def _leak_like_6_12_0() -> None:
    """Make emit lose one reference to True per call, as PySide6 6.12.0's does."""
    import ctypes

    from PySide6.QtCore import SignalInstance

    original = SignalInstance.emit

    def leaking_emit(self: SignalInstance, *args: object) -> object:
        result = original(self, *args)
        if result is True:
            ctypes.pythonapi.Py_DecRef(ctypes.py_object(True))
        return result

    SignalInstance.emit = leaking_emit  # type: ignore[method-assign]


if __name__ == "__main__":
    rounds = int(sys.argv[1])
    modes = set(sys.argv[2:])
    if "leak" in modes:
        _leak_like_6_12_0()
    if "guard" in modes:
        import provet_xero_gui.ui  # noqa: F401  (installs the guard, as the app does)
    result = drift(rounds)
    print(json.dumps(result), flush=True)
    if "leak" in modes and "guard" not in modes and result["True"] < 0:
        # Give back what the simulated leak took, so the interpreter can end normally.
        import ctypes

        for _ in range(-result["True"]):
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
