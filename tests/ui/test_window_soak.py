"""A clinic-size first sync from the real window, to the end, then Ctrl+Q (issue #15).

The window runs in a process of its own (tests/helpers/window_process.py): `main()`, offscreen, its
scheduled first pass on the worker thread, thousands of progress events and log rows through signals. The
test waits for the process to end (no time limit but pytest's own), then checks what an accountant and an
admin would: every document is in Xero exactly once, the pass finished, the window quit through the normal
path with exit code 0, and nothing was left for the next start to report. A PySide6 whose emit() frees
True (6.12.0, unguarded) aborts this run about a third of the way through.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]


def _window(out: Path, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-m", "helpers.window_process", "--out", str(out), *args], cwd=TESTS,
                          env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("size", [3000, pytest.param(10_000, marks=pytest.mark.slow, id="10000")])
def test_a_clinic_size_first_sync_from_the_window_ends_and_quits_cleanly(
    size: int, tmp_path: Path, profile_home: Path
) -> None:
    out = tmp_path / "window.json"
    proc = _window(out, "--sandbox-size", str(size))

    assert "Fatal Python error" not in proc.stderr, proc.stderr[-3000:]
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["exit"] == 0
    assert result["passes"] and result["passes"][0]["stopped"] is None, result["passes"]
    assert result["expected_documents"] >= size * 0.95
    assert result["exactly_once"] == "yes"
    sent = result["passes"][0]["sent"]
    assert sent["invoice"] + sent["credit_note"] == result["expected_documents"]
    assert any(line.startswith("Sync finished") for line in result["log"])
    assert result["tray_state"] == "synced"
    # A clean quit leaves nothing for the next start to report.
    logs = profile_home / "logs"
    assert not (logs / "running.json").exists()
    assert not list(logs.glob("crash-*.txt"))
