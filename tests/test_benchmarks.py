"""The benchmark keeps working (at a small size; the figures themselves are read from its report)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_benchmark_runs_and_meets_its_targets_at_a_small_size() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--size", "150", "--gui-size", "150",
         "--first-window-runs", "1", "--name", "ci-smoke"],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "FAIL" not in out.stdout
    report = json.loads((ROOT / "benchmarks" / "results" / "ci-smoke.json").read_text())
    assert report["xero_429s"] == 0 and report["provet_429s"] == 0
    assert report["backfill"]["sent"]["invoice"] > 100
    assert report["backfill"]["activity_during_backfill"]["xero_payments"] >= 1
    assert report["idle_pass_xero_calls"] <= 3 and report["incremental_pass_xero_calls"] <= 6
    assert report["baseline"]["xero_calls"] > 5 * report["backfill"]["xero_calls"]
    assert report["gui"]["finished"] and report["gui"]["documents_sent"] > 100
    assert report["first_window"]["median_seconds"] > 0
