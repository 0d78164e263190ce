"""The local store is gone (a new PC, a reinstall) or damaged (random bytes): the app rebuilds its links from
what Xero holds before it writes anything, so Xero and Provet end exactly as they were — no payment sent twice,
none of the app's own Xero payments posted back into Provet (issue 17, point 1)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers.connected import connect_profile
from helpers.exactly_once import assert_exactly_once

from provet_xero_gui.app.application import Application
from provet_xero_gui.mapping import Mapping, MappingFile
from provet_xero_gui.profile import Profile
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID
from provet_xero_gui.sandbox.runner import Sandbox, demo_mapping
from provet_xero_gui.sync.payments import is_own_payment


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "provet_xero_gui", *args], capture_output=True, text=True,
                          timeout=180, env=dict(os.environ))


def _books(sandbox: Sandbox) -> dict[str, Any]:
    """Everything both services hold, as they hold it (any write, even of the same value, shows)."""
    x, t = sandbox.xero, CLINIC_TENANT_ID
    return {
        "invoices": sorted(x.invoices(t), key=lambda d: d.doc_id),
        "credit_notes": sorted(x.credit_notes(t), key=lambda d: d.doc_id),
        "contacts": sorted(x.contacts(t), key=lambda c: c.contact_id),
        "payments": sorted(x.payments(t), key=lambda p: p.payment_id),
        "allocations": sorted(x.allocations(t), key=lambda a: a.allocation_id),
        "provet_payments": sorted((p for inv in sandbox.provet.invoices() for p in sandbox.provet.payments_for(inv.id)),
                                  key=lambda p: p.id),
        "provet_clients": sorted(sandbox.provet.clients(), key=lambda c: c.id),
    }


@pytest.mark.parametrize("lost", ["new_pc", "damaged"])
def test_a_lost_or_damaged_store_rebuilds_from_xero_and_changes_nothing(
    lost: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, profile_home: Path
) -> None:
    with Sandbox(size=60) as sandbox:
        profile = connect_profile(sandbox, monkeypatch)
        MappingFile(profile.paths.mapping_file).save(Mapping.from_json(demo_mapping()))
        first = _cli("sync", "--once")
        assert first.returncode == 0, first.stdout + first.stderr
        # A payment made in Xero (bank reconciliation) comes back to Provet once, as it should.
        open_one = next(d for d in sandbox.xero.invoices(CLINIC_TENANT_ID)
                        if d.status == "AUTHORISED" and d.amount_due > 1)
        sandbox.xero.make_payment(CLINIC_TENANT_ID, open_one.doc_id, "1.00", "090")
        assert _cli("sync", "--once").returncode == 0
        own = [p for p in sandbox.xero.payments(CLINIC_TENANT_ID) if is_own_payment(p.reference)]
        assert len(own) >= 10, "the clinic's payments went to Xero, each with its Provet reference"
        before = _books(sandbox)

        if lost == "new_pc":  # another computer: a new profile, connected to the same clinic and organisation
            monkeypatch.setenv("PROVET_XERO_HOME", str(tmp_path / "new-pc"))
            profile = connect_profile(sandbox, monkeypatch)
            MappingFile(profile.paths.mapping_file).save(Mapping.from_json(demo_mapping()))
        else:
            store = profile.paths.store_file
            store.write_bytes(os.urandom(64 * 1024))

        again = _cli("sync", "--once")
        assert again.returncode == 0, again.stdout + again.stderr
        third = _cli("sync", "--once")
        assert third.returncode == 0, third.stdout + third.stderr
        assert "nothing new" in third.stdout
        assert _books(sandbox) == before

        status = json.loads(_cli("status", "--json").stdout)
        rebuilt = status["store"]["rebuilt"]
        assert rebuilt["links"]["payment"] == len(own) and rebuilt["links"]["invoice"] == len(before["invoices"])
        words = _cli("status").stdout
        assert f"{sum(rebuilt['links'].values())} link(s) rebuilt from what Xero already holds" in words
        shown = Application(Profile.open()).status().history_note  # what the window's dashboard reads
        assert shown is not None and f"{sum(rebuilt['links'].values())} link(s) rebuilt" in shown
        if lost == "damaged":
            kept = sorted(profile.paths.data_dir.glob("provet-xero.sqlite3.damaged-*"))
            assert kept and kept[0].stat().st_size == 64 * 1024, "the damaged file is kept aside, untouched"
            assert f"The local history was damaged; it was kept aside as {kept[0]}" in words

        # And it goes on as before: new work on both sides reaches the other side once.
        rng = random.Random(17)
        for _ in range(3):
            sandbox.provet.demo_activity(rng)
        open_one = next(d for d in sandbox.xero.invoices(CLINIC_TENANT_ID)
                        if d.status == "AUTHORISED" and d.amount_due > 1)
        sandbox.xero.make_payment(CLINIC_TENANT_ID, open_one.doc_id, "1.00", "090")
        later = _cli("sync", "--once")
        assert later.returncode == 0, later.stdout + later.stderr
        assert_exactly_once(sandbox)
