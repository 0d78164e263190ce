"""Xero's per-organisation limits on the sandbox clock: minute, day, concurrent; headers; recovery."""

from __future__ import annotations

import threading

import pytest
import requests
from xero_helpers import CLINIC, OTHER, XeroHttp

from provet_xero_gui.sandbox.xero_server import XeroLimits, XeroSandbox

pytest_plugins = ["xero_fixtures"]


def _fast(xero_http: XeroHttp, path: str = "/Organisation", tenant: str = CLINIC) -> requests.Response:
    return xero_http.get(path, check=False, headers={"xero-tenant-id": tenant})


def test_every_answer_reports_what_is_left(xero_http: XeroHttp) -> None:
    first = _fast(xero_http)
    second = _fast(xero_http)
    assert first.headers["X-MinLimit-Remaining"] == "59" and second.headers["X-MinLimit-Remaining"] == "58"
    assert second.headers["X-DayLimit-Remaining"] == "4998"
    assert int(second.headers["X-AppMinLimit-Remaining"]) == 9998


def test_sixty_calls_a_minute_then_429_and_recovery(xero_sandbox: XeroSandbox, xero_http: XeroHttp) -> None:
    answers = [_fast(xero_http) for _ in range(60)]
    assert all(a.status_code == 200 for a in answers)
    assert answers[-1].headers["X-MinLimit-Remaining"] == "0"
    refused = _fast(xero_http)
    assert refused.status_code == 429
    assert refused.headers["X-Rate-Limit-Problem"] == "minute"
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert refused.headers["X-MinLimit-Remaining"] == "0" and "X-DayLimit-Remaining" in refused.headers
    # Another organisation has its own window; sign-in endpoints are not counted at all.
    assert _fast(xero_http, tenant=OTHER).status_code == 200
    conns = requests.get(f"{xero_sandbox.base_url}/connections", timeout=10,
                         headers={"Authorization": f"Bearer {xero_http.token['access_token']}"})
    assert conns.status_code == 200
    # Retry-After is in sandbox seconds: once that much sandbox time has passed, calls go through again.
    xero_sandbox.clock.advance(retry_after)
    again = _fast(xero_http)
    assert again.status_code == 200 and int(again.headers["X-MinLimit-Remaining"]) >= 0


def test_day_limit(xero_sandbox: XeroSandbox, xero_http: XeroHttp) -> None:
    xero_sandbox.limits = XeroLimits(per_day=5)
    for _ in range(5):
        assert _fast(xero_http).status_code == 200
    xero_sandbox.clock.advance(120)  # a new minute, still the same day
    refused = _fast(xero_http)
    assert refused.status_code == 429 and refused.headers["X-Rate-Limit-Problem"] == "day"
    assert int(refused.headers["Retry-After"]) > 80_000
    xero_sandbox.clock.advance(24 * 3600)
    xero_http.token = xero_sandbox.connect()  # the old access token died long ago
    assert _fast(xero_http).status_code == 200


def test_five_concurrent_calls_at_most(xero_sandbox: XeroSandbox, xero_http: XeroHttp) -> None:
    xero_sandbox.work_delay = 0.4
    statuses: list[tuple[int, str | None]] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def call() -> None:
        start.wait()
        resp = _fast(xero_http)
        with lock:
            statuses.append((resp.status_code, resp.headers.get("X-Rate-Limit-Problem")))

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    ok = [s for s in statuses if s[0] == 200]
    refused = [s for s in statuses if s[0] == 429]
    assert len(ok) >= 5 and refused and all(p == "concurrent" for _s, p in refused)
    xero_sandbox.work_delay = 0
    assert _fast(xero_http).status_code == 200


def test_limits_can_be_switched_off(xero_sandbox: XeroSandbox, xero_http: XeroHttp) -> None:
    xero_sandbox.limits = XeroLimits.off()
    answers = [_fast(xero_http) for _ in range(70)]
    assert {a.status_code for a in answers} == {200}
    assert answers[-1].headers["X-MinLimit-Remaining"] == "0"


@pytest.mark.parametrize("path", ["/Invoices", "/Contacts", "/Payments", "/CreditNotes"])
def test_unknown_records_are_404(xero_http: XeroHttp, path: str) -> None:
    assert _fast(xero_http, f"{path}/00000000-0000-4000-8000-000000000000").status_code == 404
