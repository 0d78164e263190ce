"""Pacing: the client waits before a Provet budget runs over, so reading more than a minute's budget
meets no 429 at all; the limiter's arithmetic on a fake clock; what a call costs.

The sandbox and the client share a clock that stands still while calls are made and moves only when the
client waits, so what is checked does not depend on how fast this machine answers 205 calls."""

from __future__ import annotations

import pytest

from provet_xero_gui.provet.client import ProvetClient
from provet_xero_gui.provet.limits import Budget, ProvetLimiter, call_cost
from provet_xero_gui.provet.source import ProvetSource
from provet_xero_gui.sandbox.clinic import generate_clinic
from provet_xero_gui.sandbox.clock import SandboxClock
from provet_xero_gui.sandbox.provet_server import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, ProvetSandbox


def _still_clock(start) -> SandboxClock:
    """Sandbox time that passes only when someone waits (`advance`), never while calls are answered."""
    return SandboxClock(start=start, monotonic=lambda: 0.0)


def _client(provet: ProvetSandbox, clock: SandboxClock, limiter: ProvetLimiter | None = None) -> ProvetClient:
    return ProvetClient(
        provet.instance_url,
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        sleep=clock.advance,  # a wait moves the shared clock at once
        monotonic=clock.seconds,
        limiter=limiter,
    )


def _read_200(client: ProvetClient) -> None:
    """200 invoices at page_size 50 (a full pass), then each of them on its own: 204 /invoice/ calls."""
    source = ProvetSource(client, max_page_size=50)
    ids = sorted(source.changed_invoices(None, statuses=(3,)).ids)[:200]
    assert len(ids) == 200
    for invoice_id in ids:
        assert client.get(f"invoice/{invoice_id}/")["id"] == invoice_id


def test_reading_past_the_invoice_budget_meets_no_429() -> None:
    clinic = generate_clinic(seed=1, size=200)
    clock = _still_clock(clinic.now)
    with ProvetSandbox(clinic.provet, clock) as provet:  # the real limits: GET /invoice/ 60 a minute
        client = _client(provet, clock)
        start = clock.seconds()
        _read_200(client)
        elapsed = clock.seconds() - start
        assert provet.counter.statuses().get(429, 0) == 0 and client.rate_limited == {}
        spent = client.cost["GET /invoice/"]
        assert spent == client.calls["GET /invoice/"] == 205  # 5 pages (206 finalised) + 200 single reads
        assert spent > 3 * 60  # more than three minutes' budget...
        # ...so the client waited more than three minutes in all, and only its own waits moved the clock
        assert client.limiter.waits >= 3 and client.limiter.waited_seconds >= 3 * 60
        assert elapsed == pytest.approx(client.limiter.waited_seconds)

        # the same reads without pacing run into Provet's limit (and get through on Retry-After)
        provet.reset(clock=clock)
        unpaced = _client(provet, clock, ProvetLimiter(enabled=False, clock=clock.seconds))
        _read_200(unpaced)
        assert provet.counter.statuses().get(429, 0) > 0 and unpaced.rate_limited["GET /invoice/"] > 0


# ------------------------------------------------------------------------------------- on a fake clock


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_waits_until_the_oldest_call_leaves_the_window() -> None:
    t = FakeTime()
    lim = ProvetLimiter(margin=0.5, clock=t.clock, sleep=t.sleep)
    for _ in range(60):
        with lim.slot("GET", "invoice"):
            t.now += 0.5  # each call takes half a second; it is stamped when its answer is in
    assert t.slept == [] and lim.budget("GET", "invoice") == Budget("invoice", 60, 60)
    with lim.slot("GET", "invoice"):
        pass
    # the first call was stamped at 1000.5; it leaves the window at 1060.5 (+ 0.5 margin)
    assert t.slept == [pytest.approx(1061.0 - 1030.0)]
    assert lim.waits == 1 and lim.budget("GET", "invoice").spent == 59  # the first two left, one came


def test_budgets_are_per_endpoint_and_writes_apart() -> None:
    t = FakeTime()
    lim = ProvetLimiter(clock=t.clock, sleep=t.sleep)
    for _ in range(60):
        with lim.slot("GET", "invoice"):
            pass
    for resource in ("invoicerow", "client", "vatgroup"):
        with lim.slot("GET", resource):
            pass
    with lim.slot("POST", "invoicepayment"), lim.slot("PATCH", "client"):
        pass
    assert t.slept == []
    assert {b.bucket: (b.limit, b.spent) for b in lim.budgets()} == {
        "PATCH client": (300, 1),
        "POST invoicepayment": (300, 1),
        "client": (125, 1),
        "invoice": (60, 60),
        "invoicerow": (100, 1),
        "vatgroup": (300, 1),
    }


def test_big_pages_cost_more_and_refunds() -> None:
    t = FakeTime()
    lim = ProvetLimiter(clock=t.clock, sleep=t.sleep)
    for _ in range(3):
        with lim.slot("GET", "invoice", cost=20):  # page_size 1000
            t.now += 10
    assert lim.budget("GET", "invoice").spent == 60
    with lim.slot("GET", "invoice", cost=20) as slot:
        slot.refund()  # answered 429: Provet did not count it
    assert t.slept == [pytest.approx(1010 + 60.5 - 1030)]  # until the first one leaves the window
    assert lim.budget("GET", "invoice").spent == 40


def test_disabled_limiter_counts_but_never_waits() -> None:
    t = FakeTime()
    lim = ProvetLimiter(enabled=False, clock=t.clock, sleep=t.sleep)
    for _ in range(100):
        with lim.slot("GET", "invoice"):
            pass
    assert t.slept == [] and lim.budget("GET", "invoice").spent == 100


def test_a_sleep_that_does_not_pass_time_cannot_hang_it() -> None:
    now = [0.0]
    lim = ProvetLimiter(clock=lambda: now[0], sleep=lambda s: None)
    for _ in range(61):
        with lim.slot("GET", "invoice"):
            pass
    assert lim.waits == 50  # gave up waiting and went ahead (the server's 429 is the safety net)


@pytest.mark.parametrize(
    ("method", "url", "params", "cost"),
    [
        ("GET", "https://x/1/api/0.1/invoice/", {"page_size": 50}, 1),
        ("GET", "https://x/1/api/0.1/invoice/", {"page_size": 51}, 2),
        ("GET", "https://x/1/api/0.1/invoice/", {"page_size": 500}, 10),
        ("GET", "https://x/1/api/0.1/invoice/", {"page_size": 5000}, 20),
        ("GET", "https://x/1/api/0.1/invoice/", None, 1),
        ("GET", "https://x/1/api/0.1/invoice/?status__is=3&page_size=200&page=2", None, 4),
        ("GET", "https://x/1/api/0.1/invoice/12/", {"page_size": 500}, 1),
        ("POST", "https://x/1/api/0.1/invoicepayment/7/cancel_payment/", None, 1),
        ("POST", "https://x/1/api/0.1/invoicepayment/", {"page_size": 500}, 1),
    ],
)
def test_call_cost(method: str, url: str, params: dict | None, cost: int) -> None:
    assert call_cost(method, url, params) == cost
