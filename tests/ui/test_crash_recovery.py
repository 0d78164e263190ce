"""A window that dies in the middle of a sync says so on the next start, and carries on (issue #15).

The real window runs in a process of its own (tests/helpers/window_process.py) against a sandbox in this
process. Mid-sync it is killed: by a native crash (SIGSEGV, which faulthandler writes into the profile's
crash log) or by the OS (SIGKILL: no last word at all, as after a power cut). The next start shows the
admin a "stopped unexpectedly" report (redacted), the sync goes on from where it was with nothing sent
twice, and the start after that says nothing more.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.connected import connect_profile
from helpers.exactly_once import assert_exactly_once

from provet_xero_gui.mapping import Mapping, MappingFile
from provet_xero_gui.profile import Profile
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID
from provet_xero_gui.sandbox.runner import Sandbox, demo_mapping

TESTS = Path(__file__).resolve().parents[1]


def _start_window(out: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.Popen([sys.executable, "-m", "helpers.window_process", "--out", str(out)], cwd=TESTS, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _run_window(out: Path) -> dict:
    proc = _start_window(out)
    _stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stderr[-3000:]
    return json.loads(out.read_text(encoding="utf-8"))


def _wait_for_documents_in_xero(sandbox: Sandbox, proc: subprocess.Popen[str], at_least: int) -> None:
    """The event the kill waits for: the first batch of invoices has reached Xero (the pass is under way)."""
    while len(sandbox.xero.invoices(CLINIC_TENANT_ID)) < at_least:
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        time.sleep(0.05)


@pytest.mark.parametrize(("how", "sig"), [("native crash", signal.SIGSEGV), ("killed by the OS", signal.SIGKILL)])
def test_a_window_that_died_mid_sync_says_so_next_time_and_sends_nothing_twice(
    how: str, sig: signal.Signals, tmp_path: Path, profile_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Sandbox(size=150) as sandbox:
        profile = connect_profile(sandbox, monkeypatch)
        MappingFile(profile.paths.mapping_file).save(Mapping.from_json(demo_mapping()))
        sandbox.xero.faults.latency = 0.2  # a pass long enough to die in the middle of
        first = _start_window(tmp_path / "first.json")
        _wait_for_documents_in_xero(sandbox, first, at_least=10)
        first.send_signal(sig)
        first.communicate(timeout=120)
        assert first.returncode == -sig
        logs = profile_home / "logs"
        assert (logs / "running.json").exists()  # the run did not end: the marker stayed
        if sig == signal.SIGSEGV:
            assert "Segmentation fault" in (logs / "crash.log").read_text(encoding="utf-8")
        sent_before = len(sandbox.xero.invoices(CLINIC_TENANT_ID))

        sandbox.xero.faults.latency = 0
        second = _run_window(tmp_path / "second.json")

        dialog = second["stopped_dialog"]
        assert dialog is not None and dialog["visible"], second
        assert dialog["title"] == "provet-xero stopped unexpectedly"
        assert "stopped unexpectedly last time" in dialog["intro"]
        assert "carries on syncing from where it was" in dialog["intro"]
        report = dialog["report"]
        if sig == signal.SIGSEGV:
            assert "it crashed" in report and "Segmentation fault" in report
            assert "What the program was doing when it crashed" in report
        else:
            assert "closed without quitting" in report and "Segmentation fault" not in report
        assert "The last lines of its log" in report  # the admin's support sees what it was doing
        tokens = Profile.open().credentials().load_xero_tokens()
        assert tokens is not None
        for secret in (tokens.access_token, tokens.refresh_token, sandbox.credentials.provet_client_secret):
            assert secret not in report
        kept = list(logs.glob("crash-*.txt"))
        assert len(kept) == 1 and kept[0].read_text(encoding="utf-8") == report
        assert oct(kept[0].stat().st_mode & 0o777) == "0o600"
        assert any("stopped unexpectedly last time" in line for line in second["log"])

        # It carried on from where it was: the rest went, nothing twice.
        assert second["passes"][0]["stopped"] is None
        assert len(sandbox.xero.invoices(CLINIC_TENANT_ID)) > sent_before
        assert_exactly_once(sandbox)

        # Told once: the start after a clean quit has nothing to say.
        third = _run_window(tmp_path / "third.json")
        assert third["stopped_dialog"] is None
        assert not (logs / "running.json").exists()
        assert len(list(logs.glob("crash-*.txt"))) == 1
