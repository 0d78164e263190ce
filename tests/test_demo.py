"""`provet-xero demo --headless`: the whole first run on the sandbox, as the README's main command runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_headless_demo_connects_maps_and_syncs(profile_home: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "provet_xero_gui", "demo", "--headless", "--size", "30"],
        capture_output=True, text=True, timeout=180,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Connected to Provet Cloud (sandbox)" in out.stdout
    assert "chose the organisation 'Happy Paws Veterinary Ltd'" in out.stdout
    assert "Sync finished." in out.stdout and "invoices" in out.stdout
    # Then the clinic's last month is tied out, and the seeded clinic's books agree.
    assert "Tie-out of September 2026: 30 days: 30 tie out, 0 differ with the reason known, 0 differ without one" \
        in out.stdout
    assert out.stdout.index("Sync finished.") < out.stdout.index("Tie-out of")
    assert "Traceback" not in out.stderr
    # The throwaway profile is gone afterwards; the test's own profile was never touched.
    assert not (profile_home / "config" / "mapping.json").exists()


def test_a_demo_that_died_leaves_no_profile_or_secret_past_the_next_demo(tmp_path: Path, monkeypatch) -> None:
    """Killed after sign-in, a demo leaves its throwaway profile and keyring entries behind; the next demo's
    start removes them. A demo still running is left alone."""
    import json
    import os
    import signal
    import tempfile

    from provet_xero_gui.app.demo import DEMO_PREFIX, throwaway_profile
    from provet_xero_gui.credentials import Credentials

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONUNBUFFERED": "1"}
    demo = subprocess.Popen([sys.executable, "-m", "provet_xero_gui", "demo", "--headless", "--size", "3000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert demo.stdout is not None
    for line in demo.stdout:  # the event: the demo has signed in to Xero (its tokens are in the keyring)
        if line.startswith("Signed in to Xero"):
            break
    else:
        raise AssertionError(demo.communicate()[1][-2000:])
    [home] = tmp.glob(DEMO_PREFIX + "*")
    profile_id = json.loads((home / "config" / "settings.json").read_text(encoding="utf-8"))["profile_id"]
    assert Credentials(profile_id).load_xero_tokens() is not None

    monkeypatch.setenv("TMPDIR", str(tmp))  # the next demo looks in the same place
    monkeypatch.setattr(tempfile, "tempdir", None)
    try:
        with throwaway_profile():  # a second demo starting while the first still runs: left alone
            assert home.exists()
        demo.send_signal(signal.SIGKILL)
        demo.communicate(timeout=60)
        assert home.exists() and Credentials(profile_id).load_xero_tokens() is not None
        with throwaway_profile() as profile:  # the next demo after the crash
            assert not home.exists()
            assert Credentials(profile_id).load_xero_tokens() is None
            assert profile.paths.config_dir.is_relative_to(tmp)
        assert not list(tmp.glob(DEMO_PREFIX + "*"))
    finally:
        demo.kill()
