"""The benchmarks keep working (at a small size; the figures themselves are read from their reports)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_engine_benchmark_runs_and_meets_its_targets_at_a_small_size(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "engine_calls.py"), "--size", "120", "--name", "ci-smoke"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "FAIL" not in out.stdout
    report = json.loads((ROOT / "benchmarks" / "results" / "ci-smoke.json").read_text())
    assert report["xero_429s"] == 0 and report["backfill"]["sent"]["invoice"] > 100
    assert report["idle_pass_xero_calls"] <= 3 and report["incremental_pass_xero_calls"] <= 6
