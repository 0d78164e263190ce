"""Life in the demo clinic: new trade in Provet, payments made in Xero, a client edited on both sides.

The changes are made on a plain Python thread (they read the store to find synced documents) and
reported by signal; the scheduled passes then carry them across, so the log, the tray and the conflict
view have something to show.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import replace
from decimal import Decimal

from PySide6.QtCore import QObject, QTimer, Signal

from provet_xero_gui.app.demo import connect_provet, connect_xero
from provet_xero_gui.mapping import Mapping, MappingFile
from provet_xero_gui.profile import Profile
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID
from provet_xero_gui.sandbox.runner import Sandbox, demo_mapping
from provet_xero_gui.store.sync_state import SyncState
from provet_xero_gui.ui.pages import load_class

log = logging.getLogger(__name__)

EVERY_MS = 20_000
DEMO_PROVET_POLL_SECONDS = 20
DEMO_XERO_POLL_SECONDS = 60
BANK_ACCOUNT = "090"


def prepare_demo_profile(profile: Profile, sandbox: Sandbox) -> Profile:
    """Quicker polling for the demo; and, when there is no setup wizard to walk through, connect both
    services and save the demo mapping so the window still shows a working sync."""
    profile.settings_file.change(lambda s: replace(s, sync=replace(
        s.sync, provet_poll_seconds=DEMO_PROVET_POLL_SECONDS, xero_poll_seconds=DEMO_XERO_POLL_SECONDS)))
    if load_class("provet_xero_gui.ui.setup_wizard", "SetupWizard") is None:
        connect_provet(profile.reload(), sandbox)
        connect_xero(profile.reload(), sandbox)
        MappingFile(profile.paths.mapping_file).save(Mapping.from_json(demo_mapping()))
    return profile.reload()


class DemoActivity(QObject):
    happened = Signal(str)

    def __init__(self, sandbox: Sandbox, profile: Profile, *, seed: int = 1, every_ms: int = EVERY_MS,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._sandbox = sandbox
        self._profile = profile
        self._rng = random.Random(seed)
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
            for line in self._sandbox.provet.demo_activity(self._rng):
                self.happened.emit(f"in Provet, {line}")
            if tick % 3 == 0:
                self._pay_in_xero()
            if tick % 4 == 2:
                self._edit_on_both_sides()
        except Exception as exc:  # the demo's own trouble must not stop the app
            log.warning("demo activity failed: %s", exc)
        finally:
            self._busy.release()

    def _links(self, kind: str) -> dict[str, str]:
        with self._profile.store() as store:
            return {p: link.xero_id for p, link in SyncState(store).links(kind).items()}

    def _pay_in_xero(self) -> None:
        linked = set(self._links("invoice").values())
        open_invoices = [d for d in self._sandbox.xero.invoices(CLINIC_TENANT_ID)
                         if d.doc_id in linked and d.status == "AUTHORISED" and d.amount_due > 0]
        if not open_invoices:
            return
        doc = self._rng.choice(open_invoices)
        amount = doc.amount_due if self._rng.random() < 0.5 else (doc.amount_due / 2).quantize(Decimal("0.01"))
        self._sandbox.xero.make_payment(CLINIC_TENANT_ID, doc.doc_id, amount, BANK_ACCOUNT,
                                        reference="Bank transfer")
        self.happened.emit(f"in Xero, a payment of {amount} was reconciled on {doc.number}")

    def _edit_on_both_sides(self) -> None:
        contacts = self._links("contact")
        if not contacts:
            return
        provet_id, xero_id = self._rng.choice(sorted(contacts.items()))
        n = self._rng.randint(100, 999)
        self._sandbox.provet.edit_client(int(provet_id), email=f"front.desk.{n}@example.org")
        self._sandbox.xero.edit_contact(CLINIC_TENANT_ID, xero_id, email=f"accounts.{n}@example.org")
        self.happened.emit(f"client {provet_id}'s email was changed differently in Provet and in Xero")
