"""Fixtures for the Xero sandbox tests: one running sandbox, reset to its seed for every test on the
test's own clock; an authorised raw-HTTP client; the OpenAPI documents (parsed once per session).

Test modules load it with `pytest_plugins = ["xero_fixtures"]`; plain helpers are in xero_helpers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from xero_helpers import START, XeroHttp, load_spec, make_seed

from provet_xero_gui.sandbox.clock import SandboxClock
from provet_xero_gui.sandbox.xero_server import XeroLimits, XeroSandbox


@pytest.fixture(scope="session")
def xero_server_once() -> Iterator[XeroSandbox]:
    sandbox = XeroSandbox(make_seed(), SandboxClock(START)).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def xero_clock() -> SandboxClock:
    return SandboxClock(START)


@pytest.fixture
def xero_sandbox(xero_server_once: XeroSandbox, xero_clock: SandboxClock) -> XeroSandbox:
    """The running sandbox back at its seed, on this test's own clock, limits switched on."""
    xero_server_once.reset(clock=xero_clock, limits=XeroLimits())
    return xero_server_once


@pytest.fixture(scope="session")
def xero_accounting_spec() -> Any:
    return load_spec("xero_accounting.yaml")


@pytest.fixture(scope="session")
def xero_identity_spec() -> Any:
    return load_spec("xero-identity.yaml")


@pytest.fixture
def xero_token(xero_sandbox: XeroSandbox) -> dict[str, Any]:
    return xero_sandbox.connect()


@pytest.fixture
def xero_http(xero_sandbox: XeroSandbox, xero_token: dict[str, Any], xero_accounting_spec: Any) -> XeroHttp:
    return XeroHttp(xero_sandbox, xero_token, spec=xero_accounting_spec)

