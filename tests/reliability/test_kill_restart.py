"""Kill a real `provet-xero sync` process at many moments, start it again, and check that Xero ends
with every document exactly once: the journal and the Idempotency-Key at work, end to end.

The moment of each kill is an event the sandbox sees, not a number of seconds: the k-th call of the run
answered, the k-th write to Xero answered (committed, the answer on its way), or a 429 answered. So the
kills land inside a pass however fast or loaded the machine is.

CI runs 12 kills per variant; `--runslow` (or PROVET_XERO_RUNSLOW=1) adds the issue's full 50 kills with
faults (about 5 minutes); PROVET_XERO_KILLS sets the reduced count."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from helpers.connected import connect_profile
from helpers.exactly_once import assert_exactly_once

from provet_xero_gui.mapping import Mapping, MappingFile
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID
from provet_xero_gui.sandbox.runner import Sandbox, demo_mapping

KILLS = int(os.environ.get("PROVET_XERO_KILLS", "12"))
FULL_KILLS = 50


class KillMoment:
    """Sets an event when the armed moment is answered by either sandbox (called on its handler threads)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self._lock = threading.Lock()
        self.reached = threading.Event()
        self._calls = self._writes = 0
        self._want_calls: int | None = None
        self._want_writes: int | None = None
        self._want_429 = False
        for server, is_xero in ((sandbox.xero, True), (sandbox.provet, False)):
            server.counter.record = self._watch(server.counter.record, is_xero)

    def _watch(self, record, is_xero: bool):
        def watched(key: str, status: int) -> None:
            record(key, status)
            with self._lock:
                self._calls += 1
                method, _, route = key.partition(" ")
                signing_in = route.startswith(("/connect", "/identity"))
                self._writes += is_xero and method in ("PUT", "POST") and not signing_in
                if ((self._want_calls is not None and self._calls >= self._want_calls)
                        or (self._want_writes is not None and self._writes >= self._want_writes)
                        or (self._want_429 and status == 429)):
                    self.reached.set()
        return watched

    def arm(self, *, calls: int | None = None, writes: int | None = None, on_429: bool = False) -> None:
        with self._lock:
            self._calls = self._writes = 0
            self._want_calls, self._want_writes, self._want_429 = calls, writes, on_429
            self.reached.clear()

    def wait(self, proc: subprocess.Popen[str]) -> bool:
        """Until the moment comes (True) or the sync ends first (False)."""
        while not self.reached.wait(0.02):
            if proc.poll() is not None:
                return False
        return True


def _sync() -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "provet_xero_gui", "sync", "--once", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


@pytest.mark.parametrize(
    ("faults", "kills"),
    [
        ("none", KILLS),
        ("dropped_and_errors", KILLS),
        pytest.param("dropped_and_errors", FULL_KILLS, marks=pytest.mark.slow, id="dropped_and_errors-50-kills"),
    ],
)
def test_killed_at_many_moments_ends_with_each_document_once(
    faults: str, kills: int, monkeypatch: pytest.MonkeyPatch, profile_home: Path
) -> None:
    rng = random.Random(20261125 + len(faults) + kills)
    with Sandbox(size=150) as sandbox:
        profile = connect_profile(sandbox, monkeypatch)
        MappingFile(profile.paths.mapping_file).save(Mapping.from_json(demo_mapping()))
        moment = KillMoment(sandbox)
        if faults != "none":
            # Connections dropped after the write was committed, 5xx and 429 (Retry-After) at random.
            sandbox.xero.faults.drop_after_commit_rate = 0.2
            sandbox.xero.faults.error_rate = 0.1
            sandbox.xero.faults.rate_limit_rate = 0.1
            sandbox.provet.faults.rate_limit_rate = 0.05
        killed = 0
        for i in range(kills):
            if i % 4 == 3:  # now and then a payment made in Xero, to come back to Provet
                open_ones = [d for d in sandbox.xero.invoices(CLINIC_TENANT_ID)
                             if d.status == "AUTHORISED" and d.amount_due > 1]
                if open_ones:
                    sandbox.xero.make_payment(CLINIC_TENANT_ID, open_ones[0].doc_id, "1.00", "090")
            for _ in range(3):
                sandbox.provet.demo_activity(rng)  # new work for every run: invoices, payments, client edits
            if i % 3 == 0:
                moment.arm(calls=rng.randint(1, 30))  # anywhere: reading Provet, reading or writing Xero
            elif i % 3 == 1:
                moment.arm(writes=rng.randint(1, 3))  # a write committed in Xero, its answer on the way
            else:
                moment.arm(on_429=True, writes=rng.randint(2, 6))  # a 429 answered (or a later write)
            proc = _sync()
            if moment.wait(proc) and proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                killed += 1
            proc.communicate(timeout=60)
        sandbox.xero.faults.reset()
        sandbox.provet.faults.reset()
        final = subprocess.run(
            [sys.executable, "-m", "provet_xero_gui", "sync", "--once"], capture_output=True, text=True, timeout=120
        )
        refused_by_provet = 0
        if final.returncode != 0:
            # Allowed only for an invoice paid on both sides (in Xero, and in full at the desk by the demo's late
            # payments): each side refuses the other's payment and both wait for a person — held, not lost.
            waiting = json.loads(subprocess.run(
                [sys.executable, "-m", "provet_xero_gui", "attention", "--json"], capture_output=True, text=True,
                timeout=60).stdout)
            problems = [w for w in waiting if not w["by_rule"]]
            assert problems and all(
                w["cause"] in ("payment_rejected", "provet_refused") and "exceeds" in w["reason"] for w in problems
            ), final.stdout + final.stderr
            refused_by_provet = sum(1 for w in problems if w["cause"] == "provet_refused")
        assert killed >= kills // 3, "the kills must land while a sync runs"
        if faults != "none":
            limited = sandbox.xero.counter.statuses().get(429, 0) + sandbox.provet.counter.statuses().get(429, 0)
            assert limited > 0, "random 429s must have been answered"
        assert_exactly_once(sandbox, refused_by_provet)
        again = subprocess.run(
            [sys.executable, "-m", "provet_xero_gui", "sync", "--once"], capture_output=True, text=True, timeout=120
        )
        assert "nothing new" in again.stdout
        assert_exactly_once(sandbox, refused_by_provet)
