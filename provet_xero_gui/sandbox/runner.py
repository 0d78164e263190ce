"""Both simulated services together, as the demo, the tests and `provet-xero sandbox` use them.

`Sandbox` generates the clinic, starts the Provet and Xero simulations on loopback on one shared clock,
and tells how to point the app at them (`env()`): the same environment overrides a person would set.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from provet_xero_gui.sandbox.clinic import Clinic, generate_clinic
from provet_xero_gui.sandbox.clock import SandboxClock
from provet_xero_gui.sandbox.provet_server import DEMO_CLIENT_ID as PROVET_CLIENT_ID
from provet_xero_gui.sandbox.provet_server import DEMO_CLIENT_SECRET, ProvetSandbox
from provet_xero_gui.sandbox.xero_server import DEMO_CLIENT_ID as XERO_CLIENT_ID
from provet_xero_gui.sandbox.xero_server import XeroLimits, XeroSandbox
from provet_xero_gui.xero.oauth import REDIRECT_PORTS, redirect_uri

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoCredentials:
    provet_url: str
    provet_client_id: str
    provet_client_secret: str
    xero_client_id: str


class Sandbox:
    def __init__(
        self,
        *,
        seed: int = 1,
        size: int = 12,
        provet_port: int = 0,
        xero_port: int = 0,
        time_scale: float = 1.0,
        start: datetime | None = None,
        xero_limits: XeroLimits | None = None,
        provet_rate_limits: bool = True,
        clinic: Clinic | None = None,
    ) -> None:
        self.clinic = clinic or generate_clinic(seed=seed, size=size)
        self.clock = SandboxClock(start or self.clinic.now, scale=time_scale)
        self.provet = ProvetSandbox(
            self.clinic.provet, self.clock, port=provet_port, rate_limits=provet_rate_limits
        )
        self.xero = XeroSandbox(
            self.clinic.xero,
            self.clock,
            port=xero_port,
            clients={XERO_CLIENT_ID: tuple(redirect_uri(p) for p in REDIRECT_PORTS)},
            limits=xero_limits,
        )

    def start(self) -> Sandbox:
        self.provet.start()
        try:
            self.xero.start()
        except BaseException:
            self.provet.stop()
            raise
        return self

    def stop(self) -> None:
        self.xero.stop()
        self.provet.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def credentials(self) -> DemoCredentials:
        return DemoCredentials(self.provet.instance_url, PROVET_CLIENT_ID, DEMO_CLIENT_SECRET, XERO_CLIENT_ID)

    def env(self) -> dict[str, str]:
        """The environment that points provet-xero at this sandbox."""
        return {
            "PROVET_XERO_PROVET_URL": self.provet.instance_url,
            "PROVET_XERO_XERO_API_URL": self.xero.base_url,
            "PROVET_XERO_XERO_IDENTITY_URL": self.xero.base_url,
            "PROVET_XERO_XERO_LOGIN_URL": self.xero.base_url,
            "PROVET_XERO_XERO_CLIENT_ID": XERO_CLIENT_ID,
        }

    def sandbox_sleep(self, sandbox_seconds: float) -> None:
        """Sleep for a span of sandbox time (shorter in real time on a fast clock)."""
        time.sleep(self.clock.real_seconds(sandbox_seconds))

    def describe(self) -> str:
        c = self.credentials
        lines = [
            "provet-xero sandbox (simulated Provet Cloud and Xero on this computer only)",
            f"  Provet Cloud instance: {c.provet_url}",
            f"    client id: {c.provet_client_id}   client secret: {c.provet_client_secret}  (demo values)",
            f"  Xero: {self.xero.base_url}   (app client id: {c.xero_client_id})",
            f"  Clinic: seed {self.clinic.seed}, about {self.clinic.size} finalised invoices; clock "
            f"{self.clock.now().isoformat(timespec='seconds')} at {self.clock.scale:g}x",
            "",
            "Point provet-xero at it with:",
            *(f"  export {k}={v}" for k, v in self.env().items()),
        ]
        return "\n".join(lines)


def demo_mapping() -> dict[str, object]:
    """The mapping a clinic admin would make for the seeded clinic, in the mapping file's JSON format."""
    return {
        "version": 1,
        "vat_groups": {"1": "OUTPUT2", "2": "OUTPUT2", "3": "RROUTPUT", "4": "ZERORATEDOUTPUT", "5": "EXEMPTOUTPUT"},
        "payment_methods": {
            "type:0": "610", "type:1": "091", "type:2": "090", "type:4": "090", "type:5": "090", "type:7": "610",
            "type:8": "815", "type:9": "090", "type:10": "090", "type:11": "090", "type:15": "620",
            "method:15": "610", "method:16": "620", "method:18": "610",
        },
        "sales_accounts": {},
        "default_sales_account": "200",
        "xero_payments_method": "17",
        "rounding_account": "860",
        "consolidated": "gathered",
        "start_date": None,
        "invoice_status": "AUTHORISED",
    }  # fmt: skip
