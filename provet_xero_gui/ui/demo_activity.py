"""Life in the demo clinic: new trade in Provet, payments made in Xero, a client edited on both sides.

The changes are made on a plain Python thread (they read the store to find synced documents) and
reported by signal; the scheduled passes then carry them across, so the log, the tray and the conflict
view have something to show.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from provet_xero_gui.app.demo import DemoClinic
from provet_xero_gui.app.demo import prepare_demo_profile as prepare_profile
from provet_xero_gui.app.types import Profile
from provet_xero_gui.ui.pages import load_class

if TYPE_CHECKING:
    from provet_xero_gui.app.demo import Sandbox

log = logging.getLogger(__name__)

EVERY_MS = 20_000


def prepare_demo_profile(profile: Profile, sandbox: Sandbox) -> Profile:
    """The demo's profile; connected here only when there is no setup wizard to walk through."""
    return prepare_profile(profile, sandbox,
                           connect=load_class("provet_xero_gui.ui.setup_wizard", "SetupWizard") is None)


class DemoActivity(QObject):
    """Runs the demo clinic's rounds (`app.demo.DemoClinic`) every ~20 seconds on a plain thread, by signal."""

    happened = Signal(str)

    def __init__(self, sandbox: Sandbox, profile: Profile, *, seed: int = 1, every_ms: int = EVERY_MS,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._clinic = DemoClinic(sandbox, profile, seed=seed)
        self._ticks = 0
        self._busy = threading.Lock()
        self._timer = QTimer(self)
        self._timer.setInterval(every_ms)
        self._timer.timeout.connect(self.tick)

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def tick(self) -> None:
        if not self._busy.acquire(blocking=False):
            return  # the last round is still going
        self._ticks += 1
        threading.Thread(target=self._round, args=(self._ticks,), name="demo-activity", daemon=True).start()

    def _round(self, tick: int) -> None:
        try:
            self._clinic.round(tick, self.happened.emit)
        except Exception as exc:  # the demo's own trouble must not stop the app
            log.warning("demo activity failed: %s", exc)
        finally:
            self._busy.release()
