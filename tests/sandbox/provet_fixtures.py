"""Fixtures for the Provet sandbox tests: the small clinic, a running Provet sandbox per test on a
clock the test can move, and a raw-HTTP client that already holds a token.

Loaded with `pytest_plugins = ["provet_fixtures"]` in the test modules (no shared conftest); test
modules take the helpers through fixtures and import this module for type checking only, so pytest
can still rewrite its asserts. Every fixture name starts with `provet` so it cannot clash with the
Xero fixtures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from provet_xero_gui.sandbox.clinic import Clinic, generate_clinic
from provet_xero_gui.sandbox.clock import SandboxClock
from provet_xero_gui.sandbox.provet_server import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, ProvetSandbox

TIMEOUT = 10


def fetch_token(sandbox: ProvetSandbox, secret: str = DEMO_CLIENT_SECRET) -> requests.Response:
    """The client-credentials call as the app makes it (id and secret in HTTP Basic)."""
    return requests.post(
        sandbox.token_url,
        data={"grant_type": "client_credentials", "scope": "restapi"},
        auth=(DEMO_CLIENT_ID, secret),
        timeout=TIMEOUT,
    )


@dataclass
class ProvetApi:
    """A bare client for the sandbox API: paths are relative to `<instance>/api/0.1/`."""

    sandbox: ProvetSandbox
    session: requests.Session

    def url(self, path: str) -> str:
        return self.sandbox.api_url + path

    def get(self, path: str, params: Any = None, **kw: Any) -> requests.Response:
        return self.session.get(self.url(path), params=params, timeout=TIMEOUT, **kw)

    def get_raw(self, path_and_query: str) -> requests.Response:
        """GET with the query string sent exactly as written (no re-encoding)."""
        return self.session.get(self.url(path_and_query), timeout=TIMEOUT)

    def post(self, path: str, json: Any = None, **kw: Any) -> requests.Response:
        return self.session.post(self.url(path), json=json, timeout=TIMEOUT, **kw)

    def patch(self, path: str, json: Any = None, **kw: Any) -> requests.Response:
        return self.session.patch(self.url(path), json=json, timeout=TIMEOUT, **kw)

    def all_ids(self, path: str, params: dict[str, Any] | None = None) -> list[int]:
        resp = self.get(path, {**(params or {}), "page_size": 1000, "ordering": "id"})
        assert resp.status_code == 200, resp.text
        return [r["id"] for r in resp.json()["results"]]


@pytest.fixture(scope="session")
def provet_clinic() -> Clinic:
    return generate_clinic(seed=1, size=12)


@pytest.fixture
def provet_clock(provet_clinic: Clinic) -> SandboxClock:
    return SandboxClock(start=provet_clinic.now)


@pytest.fixture(scope="module")
def provet_server(provet_clinic: Clinic) -> Iterator[ProvetSandbox]:
    """One running server per test module (stopping one takes half a second)."""
    with ProvetSandbox(provet_clinic.provet, SandboxClock(start=provet_clinic.now)) as sandbox:
        yield sandbox


@pytest.fixture
def provet(provet_server: ProvetSandbox, provet_clinic: Clinic, provet_clock: SandboxClock) -> ProvetSandbox:
    """The module's server, reset to the clinic's data on this test's clock."""
    provet_server.reset(provet_clinic.provet, clock=provet_clock)
    return provet_server


@pytest.fixture
def provet_fetch_token() -> Callable[..., requests.Response]:
    return fetch_token


@pytest.fixture
def provet_api(provet: ProvetSandbox) -> Iterator[ProvetApi]:
    resp = fetch_token(provet)
    assert resp.status_code == 200, resp.text
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"
        yield ProvetApi(provet, session)
