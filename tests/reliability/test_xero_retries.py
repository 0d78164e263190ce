"""DESIGN.md's retry rules for Xero, each on its own: a 429 waits as long as Retry-After says, 5xx answers back
off with growing, jittered waits, and a day's calls running low stop the pass cleanly, to go on later with
nothing sent twice. (A 400 on one element is tests/sync/test_engine.py::
test_a_rejected_document_does_not_stop_its_batch; a lost answer is ::test_lost_answer_after_commit_is_not_a_duplicate.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.exactly_once import assert_exactly_once

from provet_xero_gui.mapping import Mapping
from provet_xero_gui.provet.client import ProvetClient
from provet_xero_gui.provet.source import ProvetSource
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID
from provet_xero_gui.sandbox.runner import Sandbox, demo_mapping
from provet_xero_gui.sandbox.xero_server import XeroLimits
from provet_xero_gui.store import Store
from provet_xero_gui.store.sync_state import SyncState
from provet_xero_gui.sync.engine import SyncEngine
from provet_xero_gui.xero.client import MAX_ATTEMPTS, XeroApiError, XeroClient


class _Tokens:
    def __init__(self, sandbox: Sandbox) -> None:
        self.token = sandbox.xero.connect(tenant_ids=[CLINIC_TENANT_ID])["access_token"]

    def access_token(self) -> str:
        return self.token

    def invalidate(self, access_token: str) -> None:
        pass


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(size=12) as sb:
        yield sb


def _client(sandbox: Sandbox, waits: list[float]) -> XeroClient:
    return XeroClient(sandbox.xero.base_url, CLINIC_TENANT_ID, _Tokens(sandbox), sleep=waits.append)


def test_a_429_waits_as_long_as_retry_after_says_then_goes_on(sandbox: Sandbox) -> None:
    waits: list[float] = []
    sandbox.xero.faults.rate_limit_next = 2  # answered "Retry-After: 1" twice
    reference = _client(sandbox, waits).reference()
    assert reference.tax_rates
    assert waits == [1.0, 1.0]
    assert sandbox.xero.counter.statuses().get(429) == 2


def test_server_errors_back_off_with_growing_jittered_waits_then_give_up_plainly(sandbox: Sandbox) -> None:
    waits: list[float] = []
    sandbox.xero.faults.fail_next = 1000
    with pytest.raises(XeroApiError, match="kept failing") as caught:
        _client(sandbox, waits).reference()
    assert caught.value.lost and "Traceback" not in str(caught.value)
    assert len(waits) == MAX_ATTEMPTS - 1
    for attempt, wait in enumerate(waits, start=1):
        assert 0.5 * 2 ** (attempt - 1) <= wait <= 1.5 * 2 ** (attempt - 1)  # doubling, with jitter
    assert len({round(w / 2 ** i, 6) for i, w in enumerate(waits)}) > 1  # not the same fraction every time


def test_few_calls_left_today_stop_the_pass_cleanly_and_the_next_day_finishes_it(tmp_path: Path) -> None:
    with Sandbox(size=60, xero_limits=XeroLimits(per_day=56)) as sandbox, Store(tmp_path / "s.sqlite3") as store:
        c = sandbox.credentials

        def engine() -> SyncEngine:
            provet = ProvetClient(c.provet_url, c.provet_client_id, c.provet_client_secret)
            return SyncEngine(ProvetSource(provet), _client(sandbox, []), SyncState(store),
                              Mapping.from_json(demo_mapping()))

        first = engine().run_pass()
        assert first.stop_kind == "day_limit" and "today's Xero calls" in (first.stopped or "")
        assert sandbox.xero.counter.statuses().get(429, 0) == 0  # stopped by the limiter, before Xero said no
        sandbox.xero.limits = XeroLimits()  # a new day (with room for the rest)
        sandbox.xero.reset_limits()
        second = engine().run_pass()
        assert second.stopped is None, second.stopped
        assert_exactly_once(sandbox)
