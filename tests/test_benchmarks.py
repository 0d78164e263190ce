"""The benchmark keeps working at a small size: it runs, measures and writes its report. Whether a speed or
stall target is met depends on the machine, so it is read from that report, not asserted here; what is
asserted are the figures that do not depend on the machine (what was sent, the number of calls)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def test_benchmark_runs_and_writes_its_report_at_a_small_size() -> None:
    for old in (RESULTS / "ci-smoke.json", RESULTS / "ci-smoke.md"):
        old.unlink(missing_ok=True)
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--size", "150", "--gui-size", "150",
         "--first-window-runs", "1", "--name", "ci-smoke"],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    # 0: every target met; 1: some target missed on this machine (reported, not a failure of the benchmark)
    assert out.returncode in (0, 1), out.stdout + out.stderr
    assert "| target | measured | result |" in out.stdout
    report = json.loads((RESULTS / "ci-smoke.json").read_text())
    assert "| target | measured | result |" in (RESULTS / "ci-smoke.md").read_text()
    assert report["backfill"]["sent"]["invoice"] > 100
    assert report["backfill"]["activity_during_backfill"]["xero_payments"] >= 1
    assert report["idle_pass_xero_calls"] <= 3 and report["incremental_pass_xero_calls"] <= 6
    assert report["backfill"]["xero_calls"] <= 1.2 * report["minimum_calls"]
    assert report["baseline"]["xero_calls"] > 5 * report["backfill"]["xero_calls"]
    assert report["gui"]["finished"] and report["gui"]["documents_sent"] > 100
