"""The window while a backfill runs behind it, and the time to the first window.

Stall: the real AppShell (window, controller, worker thread) on a profile connected to the sandbox the way a
person connects one (the Provet secret checked, Xero's sign-in with its consent page), `Sync now`, and a
heartbeat QTimer every 10 ms on the GUI thread; the gaps between beats are the event loop's stalls. The
secrets go to an in-memory keyring of this process (the benchmark measures the window, not the keyring).

First window: a fresh process runs the app's own `main()` offscreen on an empty profile; the time from
just before the process is started to the main window's first paint.
"""

from __future__ import annotations

import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
from sandbox_proc import SandboxProcess

ROOT = Path(__file__).resolve().parents[1]
HEARTBEAT_MS = 10


class MemoryKeyring(keyring.backend.KeyringBackend):
    """Secrets in this process's memory only (class-level, so a backend loaded again by name sees them)."""

    priority = 1  # type: ignore[assignment]
    _values: dict[tuple[str, str], str] = {}  # noqa: RUF012

    def get_password(self, service: str, username: str) -> str | None:
        return self._values.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self._values.pop((service, username), None)


class _SandboxView:
    """What provet_xero_gui.app.demo's connect_* need of a Sandbox, answered by the sandbox process."""

    def __init__(self, sp: SandboxProcess) -> None:
        from provet_xero_gui.sandbox.runner import DemoCredentials

        self.credentials = DemoCredentials(**sp.info["credentials"])
        self.xero = self
        self._sp = sp

    def approve_consent(self, url: str) -> str:
        return str(self._sp.call("approve_consent", url))


def measure_stall(sp: SandboxProcess, size: int, seed: int, scale: float) -> dict[str, Any]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from provet_xero_gui.app.demo import connect_provet, connect_xero
    from provet_xero_gui.app.passes import run_sync
    from provet_xero_gui.mapping import Mapping, MappingFile
    from provet_xero_gui.profile import Profile
    from provet_xero_gui.sandbox.runner import demo_mapping
    from provet_xero_gui.ui.app import AppShell, make_application
    from provet_xero_gui.ui.log_model import MESSAGE
    from provet_xero_gui.xero.limits import XeroLimiter

    sp.start(size, seed, scale)
    assert sp.clock is not None
    keyring.set_keyring(MemoryKeyring())
    home = tempfile.TemporaryDirectory(prefix="provet-xero-bench-")
    saved_env = {k: os.environ.get(k) for k in [*sp.info["env"], "PROVET_XERO_HOME"]}
    os.environ.update(sp.info["env"])
    os.environ["PROVET_XERO_HOME"] = home.name
    app = QApplication.instance() or make_application(["provet-xero-benchmark"])
    shell = None
    try:
        view = _SandboxView(sp)
        connect_provet(Profile.open(), view)  # type: ignore[arg-type]
        connect_xero(Profile.open(), view)  # type: ignore[arg-type]
        profile = Profile.open()
        MappingFile(profile.paths.mapping_file).save(Mapping.from_json(demo_mapping()))
        profile = profile.reload()
        # The worker's pass paces Xero on the sandbox clock (as engine tests do); everything else is the app's.
        run = partial(run_sync, limiter=XeroLimiter(clock=sp.clock.seconds, sleep=sp.sleep), sleep=sp.sleep,
                      clock=sp.clock.seconds)  # Provet paced on the same sped-up clock
        shell = AppShell(app, profile, run=run, use_tray=False, schedule=False)  # type: ignore[arg-type]
        shell.start()

        def messages() -> list[str]:
            model = shell.window.log_model
            return [model.index(r, MESSAGE).data() for r in range(model.rowCount())]

        def wait_until(done: Any, timeout: float) -> bool:
            loop = QEventLoop()
            deadline = time.monotonic() + timeout
            check = QTimer()
            check.setInterval(50)
            check.timeout.connect(lambda: (done() or time.monotonic() > deadline) and loop.quit())
            check.start()
            loop.exec()
            check.stop()
            return bool(done())

        if not wait_until(lambda: shell.controller.status is not None, 30):
            raise RuntimeError("the window never read its status")
        beats: list[float] = []
        heart = QTimer()
        heart.setInterval(HEARTBEAT_MS)
        heart.timeout.connect(lambda: beats.append(time.perf_counter()))
        heart.start()
        wait_until(lambda: False, 0.3)
        t0 = time.perf_counter()
        shell.controller.sync_now()
        finished = wait_until(lambda: not shell.controller.running
                              and any(m.startswith("Sync finished") for m in messages()), 600)
        duration = time.perf_counter() - t0
        heart.stop()
        gaps = sorted((b - a) * 1000 for a, b in itertools.pairwise(beats))
        sent = int(shell.window.dashboard.tiles["sent_today"].value.text().replace(",", "") or 0)
        return {
            "size": size,
            "time_scale": scale,
            "finished": finished,
            "sync_seconds": round(duration, 1),
            "documents_sent": sent,
            "beats": len(beats),
            "heartbeat_ms": HEARTBEAT_MS,
            "p50_gap_ms": round(statistics.median(gaps), 1),
            "p99_gap_ms": round(gaps[min(len(gaps) - 1, int(len(gaps) * 0.99))], 1),
            "max_gap_ms": round(gaps[-1], 1),
        }
    finally:
        if shell is not None:
            shell.stop()
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        home.cleanup()


_FIRST_WINDOW = r"""
import sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from provet_xero_gui.ui.app import main

class Painted(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and not getattr(self, "seen", False):
            self.seen = True
            print(f"FIRST_PAINT {time.monotonic():.6f}", flush=True)
            QTimer.singleShot(0, self.shell.quit)
        return False

def hook(shell):
    watch = Painted()
    watch.shell = shell
    shell.window.installEventFilter(watch)
    QTimer.singleShot(20_000, shell.quit)
    return watch

sys.exit(main(["provet-xero"], before_exec=hook))
"""


def first_window(runs: int = 3) -> dict[str, Any]:
    """Process start to the main window's first paint, offscreen, on a fresh profile; `runs` times."""
    times: list[float] = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="provet-xero-first-") as home:
            env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PROVET_XERO_HOME": home}
            for k in ("PROVET_XERO_PROVET_URL", "PROVET_XERO_XERO_API_URL", "PROVET_XERO_XERO_IDENTITY_URL",
                      "PROVET_XERO_XERO_LOGIN_URL", "PROVET_XERO_XERO_CLIENT_ID"):
                env.pop(k, None)
            t0 = time.monotonic()
            out = subprocess.run([sys.executable, "-c", _FIRST_WINDOW], capture_output=True, text=True,
                                 timeout=60, env=env, cwd=ROOT)
            line = next((x for x in out.stdout.splitlines() if x.startswith("FIRST_PAINT ")), None)
            if line is None:
                raise RuntimeError(f"the window never painted:\n{out.stdout}\n{out.stderr}")
            times.append(float(line.split()[1]) - t0)
    return {"runs": [round(t, 3) for t in times], "median_seconds": round(statistics.median(times), 3),
            "first_seconds": round(times[0], 3)}
