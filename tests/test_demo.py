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
