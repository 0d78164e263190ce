"""Fixtures for the Provet client/source tests: a running Provet sandbox per module, reset per test."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from provet_xero_gui.provet.client import ProvetClient
from provet_xero_gui.provet.limits import ProvetLimiter
from provet_xero_gui.provet.source import ProvetSource
from provet_xero_gui.sandbox.clinic import Clinic, generate_clinic
from provet_xero_gui.sandbox.clock import SandboxClock
from provet_xero_gui.sandbox.provet_server import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, ProvetSandbox


@pytest.fixture(scope="session")
def clinic() -> Clinic:
    return generate_clinic(seed=1, size=12)


@pytest.fixture(scope="module")
def provet_server(clinic: Clinic) -> Iterator[ProvetSandbox]:
    with ProvetSandbox(clinic.provet, SandboxClock(start=clinic.now)) as sandbox:
        yield sandbox


@pytest.fixture
def provet(provet_server: ProvetSandbox, clinic: Clinic) -> ProvetSandbox:
    """The module's server, back to the clinic's data, on a fresh clock, limits on."""
    provet_server.reset(clinic.provet, clock=SandboxClock(start=clinic.now))
    provet_server.rate_limits = True
    return provet_server


def make_client(provet: ProvetSandbox, limiter: ProvetLimiter | None = None) -> ProvetClient:
    """A client on the sandbox's clock (so its pacing follows a fast clock too)."""
    clock = provet.clock
    return ProvetClient(
        provet.instance_url,
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        sleep=lambda s: time.sleep(clock.real_seconds(s)),
        monotonic=clock.seconds,
        limiter=limiter,
    )


@pytest.fixture
def client(provet: ProvetSandbox) -> ProvetClient:
    return make_client(provet)


@pytest.fixture
def source(client: ProvetClient) -> ProvetSource:
    return ProvetSource(client)
