"""The setup and demo scripts, run on a copy of themselves with stand-ins for apt, dpkg and the app."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def _executable(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_setup_waits_for_the_dpkg_lock_when_it_installs_system_packages(tmp_path: Path) -> None:
    repo, fake = tmp_path / "repo", tmp_path / "bin"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy2(ROOT / "scripts" / "setup.sh", repo / "scripts" / "setup.sh")
    for name in ("pyproject.toml", "setup.py", "requirements/lock.txt"):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text("")
    apt_log = tmp_path / "apt.log"
    _executable(repo / ".venv" / "bin" / "python", "#!/bin/sh\nexit 0\n")  # pip install: nothing to do here
    _executable(fake / "dpkg-query", "#!/bin/sh\nexit 1\n")  # every system package missing
    _executable(fake / "id", "#!/bin/sh\necho 0\n")  # as root
    _executable(fake / "apt-get", f'#!/bin/sh\necho "$*" >>"{apt_log}"\n')
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"}
    done = subprocess.run(["bash", str(repo / "scripts" / "setup.sh")], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    calls = apt_log.read_text().splitlines()
    assert [c.split()[2] for c in calls] == ["update", "install"]
    assert all(c.startswith("-o DPkg::Lock::Timeout=600 ") for c in calls), calls


_FAKE_APP = """#!/usr/bin/env python3
import os, sys, time
log = os.environ["FAKE_DEMO_LOG"]
for line in ("reading Provet...", "sending invoices..."):
    print(line, file=sys.stderr, flush=True)
    # Go on once the line has reached the log (at most 20 s: a buffered filter never lets it through in time).
    for _ in range(400):
        if line in open(log).read():
            break
        time.sleep(0.05)
print("Sync finished.", flush=True)
"""


def test_run_demo_keeps_the_progress_lines_in_order_in_a_log_file(tmp_path: Path) -> None:
    """Progress goes to stderr through a filter, the summary to stdout: in one log file, in the order made."""
    if not (shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon")):
        pytest.skip("needs dbus-run-session and gnome-keyring-daemon (scripts/setup.sh installs them)")
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy2(ROOT / "scripts" / "run-demo.sh", repo / "scripts" / "run-demo.sh")
    _executable(repo / "scripts" / "setup.sh", "#!/bin/sh\nexit 0\n")
    _executable(repo / ".venv" / "bin" / "provet-xero", _FAKE_APP)
    log = tmp_path / "demo.log"
    env = {k: v for k, v in os.environ.items() if k not in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY")}
    env["FAKE_DEMO_LOG"] = str(log)
    with log.open("w") as out:
        done = subprocess.run(["bash", str(repo / "scripts" / "run-demo.sh")], stdout=out, stderr=out, env=env,
                              timeout=120)
    assert done.returncode == 0, log.read_text()
    lines = [line for line in log.read_text().splitlines()
             if line in ("reading Provet...", "sending invoices...", "Sync finished.")]
    assert lines == ["reading Provet...", "sending invoices...", "Sync finished."], log.read_text()


_FAKE_RUN_TESTS = """#!/usr/bin/env bash
# a stand-in for the suite: the second run fails
n=$(( $(cat "$COUNTER" 2>/dev/null || echo 0) + 1 )); echo "$n" >"$COUNTER"
pgrep -P "$PPID" -x yes >/dev/null && echo "busy: yes" >>"$SEEN"  # the load, started by the script
if [ "$n" -eq 2 ]; then echo "FAILED tests/test_x.py::test_y"; echo "1 failed, 9 passed in 1.00s"; exit 1; fi
echo "10 passed in 1.00s"
"""


def test_run_tests_loaded_runs_three_times_under_load_and_reports_each_run(tmp_path: Path) -> None:
    if shutil.which("pgrep") is None:
        pytest.skip("needs pgrep")
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy2(ROOT / "scripts" / "run-tests-loaded.sh", repo / "scripts" / "run-tests-loaded.sh")
    _executable(repo / "scripts" / "setup.sh", "#!/bin/sh\nexit 0\n")
    _executable(repo / "scripts" / "run-tests.sh", _FAKE_RUN_TESTS)
    env = {**os.environ, "COUNTER": str(tmp_path / "count"), "SEEN": str(tmp_path / "seen"), "LOAD": "1"}
    done = subprocess.run(["bash", str(repo / "scripts" / "run-tests-loaded.sh")], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    runs = [line for line in done.stdout.splitlines() if line.startswith("run ")]
    assert len(runs) == 3
    assert runs[0].startswith("run 1: exit 0, 10 passed in 1.00s, ")
    assert runs[1].startswith("run 2: exit 1, 1 failed, 9 passed in 1.00s, ")
    assert "  FAILED tests/test_x.py::test_y" in done.stdout
    assert (tmp_path / "seen").read_text().count("busy: yes") == 3  # the load was on during every run
    load = next(line for line in done.stdout.splitlines() if line.startswith("load: 1 busy processes ("))
    for pid in load.split("(", 1)[1].split(")", 1)[0].split():  # stopped when the script ended
        with contextlib.suppress(FileNotFoundError):
            assert Path(f"/proc/{pid}/comm").read_text().strip() != "yes"
