"""The real Provet and Xero clients for a test's sandbox, answered in this process (sandbox/memory.py: the
sandbox's own router and rules, no socket) or, with `wire=True`, over loopback HTTP."""

from __future__ import annotations

import time

from helpers.sandbox_tokens import SandboxTokens
from provet_xero_gui.provet.client import ProvetClient
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID
from provet_xero_gui.sandbox.memory import InProcessPool, provet_session
from provet_xero_gui.sandbox.runner import Sandbox
from provet_xero_gui.xero.client import XeroClient


def sandbox_clients(sb: Sandbox, *, wire: bool = False) -> tuple[ProvetClient, XeroClient]:
    """`wire`: over loopback HTTP (then `sb` must be started)."""
    c = sb.credentials
    provet = ProvetClient(c.provet_url, c.provet_client_id, c.provet_client_secret,
                          session=None if wire else provet_session(sb.provet.server))
    # Backoff waits are real seconds; a test needs their order, not their length.
    xero = XeroClient(
        sb.xero.base_url, CLINIC_TENANT_ID, SandboxTokens(sb), sleep=lambda s: time.sleep(min(s, 0.05)),
        pool=None if wire else InProcessPool(sb.xero.server),
    )
    return provet, xero
