"""A profile connected to a running Sandbox, the way a person connects one: for tests that need both
services (mapping check, the sync engine, the command line end to end).

    from helpers.connected import connect_profile

    def test_something(sandbox, monkeypatch):
        profile = connect_profile(sandbox, monkeypatch)   # Provet and Xero connected, tenant chosen
        conns = open_connections(profile)

Or, with a `sandbox` fixture in scope, import the fixture into the test package's conftest:

    from helpers.connected import connected_profile  # noqa: F401

Each call works in the test's own profile (`PROVET_XERO_HOME`, set per test by tests/conftest.py) and
its own keyring entries; the keyring is the real Secret Service of /tmp/t.sh.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from helpers.cli import run_cli
from provet_xero_gui.profile import Profile
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID
from provet_xero_gui.sandbox.runner import Sandbox
from provet_xero_gui.settings import Endpoints
from provet_xero_gui.xero.identity import IdentityClient
from provet_xero_gui.xero.signin import SignInResult, sign_in

from .browser import consent

CLINIC = "Happy Paws Veterinary Ltd"


def point_at_sandbox(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """This process and the children it starts use the sandbox's endpoints (undone after the test)."""
    for key, value in sandbox.env().items():
        monkeypatch.setenv(key, value)


def connect_provet(sandbox: Sandbox) -> None:
    """`provet-xero connect provet`, the secret on stdin (as the automation contract; in this process)."""
    c = sandbox.credentials
    out = run_cli("connect", "provet", "--url", c.provet_url, "--client-id", c.provet_client_id,
                  stdin=c.provet_client_secret + "\n")
    assert out.returncode == 0, f"connect provet failed: {out.stderr}"


def connect_xero(tenant: str = CLINIC, *, timeout: float = 30) -> SignInResult:
    """The PKCE sign-in in a thread, with `helpers.browser.consent` playing the person at the browser."""
    profile = Profile.open()
    e = Endpoints.from_env()
    identity = IdentityClient.for_endpoints(e)
    got_url = threading.Event()
    out: dict[str, object] = {}

    def show(url: str, _opened: bool) -> None:
        out["url"] = url
        got_url.set()

    def run() -> None:
        try:
            out["result"] = sign_in(identity, e.xero_login_url, profile.credentials(), profile.settings_file,
                                    tenant=tenant, show_url=show, open_browser=None, timeout=timeout)
        except Exception as exc:  # handed to the test below
            out["error"] = exc
        got_url.set()

    thread = threading.Thread(target=run, name="xero-sign-in", daemon=True)
    thread.start()
    assert got_url.wait(timeout), "the sign-in never showed its address"
    if "url" in out:
        page = consent(str(out["url"]))
        assert page.status_code == 200, page.text[:300]
    thread.join(timeout)
    if "error" in out:
        raise AssertionError(f"Xero sign-in failed: {out['error']}")
    result = out["result"]
    assert isinstance(result, SignInResult)
    return result


def connect_profile(
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    *,
    provet: bool = True,
    xero: bool = True,
    tenant: str = CLINIC,
) -> Profile:
    """The test's profile pointed at `sandbox` with Provet and/or Xero connected; returns it reopened.

    Xero's tokens live in the sandbox: call `sandbox.xero.reset()` before this, not after (a reset
    forgets the sign-in).
    """
    point_at_sandbox(sandbox, monkeypatch)
    if provet:
        connect_provet(sandbox)
    if xero:
        result = connect_xero(tenant)
        if tenant == CLINIC:
            assert result.tenant.tenant_id == CLINIC_TENANT_ID
    return Profile.open()


@pytest.fixture
def connected_profile(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Profile]:
    """A fresh profile connected to the test package's `sandbox` fixture (Xero reset to its seed first)."""
    sandbox.xero.reset()
    yield connect_profile(sandbox, monkeypatch)
