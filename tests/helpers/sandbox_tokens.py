"""A Xero token source for tests that build an engine by hand: the sandbox's own sign-in, no keyring."""

from __future__ import annotations

from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID
from provet_xero_gui.sandbox.runner import Sandbox


class SandboxTokens:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.token = sandbox.xero.connect(tenant_ids=[CLINIC_TENANT_ID])["access_token"]

    def access_token(self) -> str:
        return self.token

    def invalidate(self, access_token: str) -> None:
        self.token = self.sandbox.xero.connect(tenant_ids=[CLINIC_TENANT_ID])["access_token"]
