"""Waits that must end (issue 17, point 4): a Xero 429 asking for an hour stops the pass with the time it
goes on (shown in `status` and as the pass's stop reason), and Pause cuts short any wait a pass is in.
Faults come from the sandbox's switches; no test measures time: each asserts the outcome and the words."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from helpers.exactly_once import assert_exactly_once
from helpers.sandbox_tokens import SandboxTokens

from provet_xero_gui import cli
from provet_xero_gui.app.passes import run_sync
from provet_xero_gui.profile import Profile
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID
from provet_xero_gui.sandbox.runner import Sandbox
from provet_xero_gui.settings import Endpoints
from provet_xero_gui.sync.events import SyncResult
from provet_xero_gui.xero.client import XeroApiError, XeroClient
from provet_xero_gui.xero.identity import IdentityClient, XeroAnswerLost
from provet_xero_gui.xero.limits import XeroLimiter

NOW = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)


def test_a_429_asking_for_an_hour_stops_the_pass_and_says_when_it_goes_on(
    clinic: tuple[Sandbox, Profile], capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox, profile = clinic
    waits: list[float] = []
    sandbox.xero.faults.retry_after = 3600
    sandbox.xero.faults.rate_limit_next = 1
    result = run_sync(profile, limiter=XeroLimiter(sleep=waits.append, now=lambda: NOW), sleep=waits.append)
    resume = (NOW + timedelta(hours=1)).astimezone().strftime("%d %b %H:%M").lstrip("0")
    assert result.stopped is not None and result.stop_kind == "day_limit", result
    assert "60 minutes" in result.stopped and f"after {resume}" in result.stopped, result.stopped
    assert "Traceback" not in result.stopped and "Retry-After" not in result.stopped
    assert 3600 not in waits  # it did not sit out the hour holding the sync lock
    # `status` shows why the last pass stopped, with the time it goes on.
    capsys.readouterr()
    assert cli.main(["status"]) == 0
    assert f"after {resume}" in capsys.readouterr().out
    # When the time has come, the next pass sends the rest, once.
    assert run_sync(profile.reload(), sleep=waits.append).stopped is None
    assert_exactly_once(sandbox)


def test_a_429_asking_for_a_short_wait_is_still_waited_out(clinic: tuple[Sandbox, Profile]) -> None:
    sandbox, profile = clinic
    waits: list[float] = []
    sandbox.xero.faults.retry_after = 30
    sandbox.xero.faults.rate_limit_next = 1
    result = run_sync(profile, limiter=XeroLimiter(sleep=waits.append), sleep=waits.append)
    assert result.stopped is None and 30.0 in waits
    assert_exactly_once(sandbox)


def test_pause_cuts_short_a_wait_the_pass_is_in(clinic: tuple[Sandbox, Profile]) -> None:
    sandbox, profile = clinic
    sandbox.xero.faults.retry_after = 240  # under the stop threshold: a wait the pass sits in
    sandbox.xero.faults.rate_limit_next = 1
    stop = threading.Event()
    out: dict[str, SyncResult] = {}
    runner = threading.Thread(target=lambda: out.update(result=run_sync(profile, should_stop=stop.is_set)),
                              daemon=True)
    runner.start()
    deadline = time.monotonic() + 60
    while sandbox.xero.counter.statuses().get(429, 0) == 0 and runner.is_alive():  # until Xero said "wait"
        assert time.monotonic() < deadline, "the sandbox never answered 429"
        time.sleep(0.02)
    stop.set()  # Pause (or Quit) while the pass waits
    runner.join(30)  # a guard against a hang; the pass itself must end at once
    assert not runner.is_alive(), "Pause did not interrupt the wait"
    result = out["result"]
    assert result.stop_kind == "paused" and "paused" in (result.stopped or "")
    # Nothing lost: the next pass sends everything, once.
    assert run_sync(profile.reload(), sleep=lambda _s: None).stopped is None
    assert_exactly_once(sandbox)


def test_a_xero_answer_that_drips_a_byte_at_a_time_ends_at_the_deadline() -> None:
    with Sandbox(size=12) as sandbox:
        client = XeroClient(sandbox.xero.base_url, CLINIC_TENANT_ID, SandboxTokens(sandbox), sleep=lambda _s: None,
                            request_deadline=0.5)  # the app allows three minutes; the test need not wait so long
        assert client.reference().tax_rates
        sandbox.xero.faults.drip = 0.05  # the accounts list would take many minutes
        outcome: dict[str, object] = {}

        def read() -> None:
            try:
                outcome["reference"] = client.reference()
            except XeroApiError as exc:
                outcome["error"] = exc

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(30)  # a guard against a hang, not a measure
        assert not reader.is_alive(), "the dripping answer was waited for without end"
        error = outcome.get("error")
        assert isinstance(error, XeroApiError) and error.lost, outcome
        assert "too slowly" in str(error) and "Nothing is lost" in str(error)


def test_xeros_sign_in_service_dripping_its_answer_ends_at_the_deadline() -> None:
    with Sandbox(size=12) as sandbox:
        tokens = sandbox.xero.connect(tenant_ids=[CLINIC_TENANT_ID])
        identity = IdentityClient.for_endpoints(Endpoints.from_env(sandbox.env()))
        identity.request_deadline = 0.5  # the app allows a minute
        sandbox.xero.faults.drip = 0.05
        outcome: dict[str, object] = {}

        def refresh() -> None:
            try:
                outcome["tokens"] = identity.refresh(tokens["refresh_token"])
            except XeroAnswerLost as exc:
                outcome["error"] = exc

        worker = threading.Thread(target=refresh, daemon=True)
        worker.start()
        worker.join(30)  # a guard against a hang, not a measure
        assert not worker.is_alive(), "the dripping answer was waited for without end"
        assert "too slowly" in str(outcome.get("error")), outcome
        assert tokens["refresh_token"] not in str(outcome.get("error"))
