"""Choosing another Xero organisation never mixes two organisations' links (issue 16, point 1): the kept history
belongs to one organisation; a pass refuses to write while another is chosen, until the admin starts that one
fresh from a start date or goes back; going back picks up where it was left, sending nothing twice."""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers.browser import consent
from helpers.connected import CLINIC, connect_profile
from helpers.exactly_once import assert_exactly_once

from provet_xero_gui.mapping import Mapping, MappingFile
from provet_xero_gui.profile import Profile
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID, GROUP_TENANT_ID
from provet_xero_gui.sandbox.runner import Sandbox, demo_mapping

GROUP = "Happy Paws Group (test)"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "provet_xero_gui", *args], capture_output=True, text=True,
                          timeout=180, env=dict(os.environ))


def _books(sandbox: Sandbox, tenant: str) -> dict[str, Any]:
    x = sandbox.xero
    return {
        "invoices": sorted(x.invoices(tenant), key=lambda d: d.doc_id),
        "credit_notes": sorted(x.credit_notes(tenant), key=lambda d: d.doc_id),
        "contacts": sorted(x.contacts(tenant), key=lambda c: c.contact_id),
        "payments": sorted(x.payments(tenant), key=lambda p: p.payment_id),
    }


def _links(store_file: Path, tenant: str) -> list[tuple]:
    """The links kept for one organisation, read straight from the file."""
    with sqlite3.connect(store_file) as db:
        return db.execute(
            "SELECT kind, provet_id, xero_id FROM links l JOIN bindings b ON b.id = l.scope "
            "WHERE b.xero_tenant_id = ? ORDER BY kind, provet_id", (tenant,)).fetchall()


def _group_mapping() -> Mapping:
    """The same clinic mapped onto the group organisation's smaller chart of accounts and tax rates."""
    data = demo_mapping()
    data["vat_groups"] = {k: ("OUTPUT2" if v == "RROUTPUT" else v) for k, v in data["vat_groups"].items()}
    data["payment_methods"] = dict.fromkeys(data["payment_methods"], "090")
    data["rounding_account"] = "260"
    return Mapping.from_json(data)


def test_switching_organisation_is_refused_until_chosen_and_never_mixes_links(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with Sandbox(size=40) as sandbox:
        profile = connect_profile(sandbox, monkeypatch)
        MappingFile(profile.paths.mapping_file).save(Mapping.from_json(demo_mapping()))
        assert _cli("sync", "--once").returncode == 0
        books_a = _books(sandbox, CLINIC_TENANT_ID)
        assert len(books_a["invoices"]) > 10

        # Another organisation chosen on the command line: connecting says what comes next, and the next pass
        # writes nothing, anywhere, and says so.
        proc = subprocess.Popen([sys.executable, "-m", "provet_xero_gui", "connect", "xero", "--no-browser",
                                 "--tenant", GROUP], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        assert consent(proc.stdout.readline().strip()).status_code == 200
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert f"The history kept here (what was sent, and where) belongs to '{CLINIC}'" in out
        assert f"Nothing is sent to '{GROUP}' until you choose" in out
        refused = _cli("sync", "--once")
        assert refused.returncode == 2
        assert f"'{CLINIC}'" in refused.stderr and f"'{GROUP}'" in refused.stderr
        assert f'provet-xero organisation use "{GROUP}" --fresh-from YYYY-MM-DD' in refused.stderr
        assert f'provet-xero organisation use "{CLINIC}"' in refused.stderr
        assert _books(sandbox, GROUP_TENANT_ID)["invoices"] == [] and _books(sandbox, CLINIC_TENANT_ID) == books_a
        assert f"! The history kept here belongs to '{CLINIC}', not to the organisation chosen now" in \
            _cli("status").stdout
        links_a = _links(profile.paths.store_file, CLINIC_TENANT_ID)
        assert len(links_a) > len(books_a["invoices"])

        # Starting it fresh needs a start date; a wrong one is refused plainly.
        no_date = _cli("organisation", "use", GROUP)
        assert no_date.returncode == 2 and "--fresh-from YYYY-MM-DD" in no_date.stderr
        bad = _cli("organisation", "use", GROUP, "--fresh-from", "1st of May")
        assert bad.returncode == 2 and "is not a date written YYYY-MM-DD" in bad.stderr

        dates = sorted(i.invoice_date for i in sandbox.provet.invoices() if i.status == 3)
        start = dates[len(dates) // 2]
        fresh = _cli("organisation", "use", GROUP, "--fresh-from", start.isoformat())
        assert fresh.returncode == 0, fresh.stderr
        assert f"fresh from {start.isoformat()}" in fresh.stdout
        MappingFile(profile.paths.mapping_file).save(_group_mapping())
        to_group = _cli("sync", "--once")
        assert to_group.returncode in (0, 1), to_group.stdout + to_group.stderr
        in_group = _books(sandbox, GROUP_TENANT_ID)
        assert in_group["invoices"], "the group organisation gets the documents from the start date on"
        assert all(d.date >= start for d in in_group["invoices"] + in_group["credit_notes"])
        contact_ids = {c.contact_id for c in in_group["contacts"]}
        assert all(d.contact_id in contact_ids for d in in_group["invoices"])  # its own contacts, not the clinic's
        assert _books(sandbox, CLINIC_TENANT_ID) == books_a
        assert _links(profile.paths.store_file, CLINIC_TENANT_ID) == links_a

        listed = _cli("organisation").stdout
        assert f"{GROUP} (kept in step now)" in listed and f"{CLINIC}: {len(links_a)} links" in listed

        # Going back: the clinic's organisation picks up where it was left, and gets only what is new.
        back = _cli("organisation", "use", CLINIC)
        assert back.returncode == 0, back.stderr
        assert Profile.open().settings.xero.tenant_id == CLINIC_TENANT_ID
        MappingFile(profile.paths.mapping_file).save(Mapping.from_json(demo_mapping()))
        books_group = _books(sandbox, GROUP_TENANT_ID)
        rng = random.Random(16)
        for _ in range(3):
            sandbox.provet.demo_activity(rng)
        again = _cli("sync", "--once")
        assert again.returncode == 0, again.stdout + again.stderr
        assert_exactly_once(sandbox)
        assert _books(sandbox, GROUP_TENANT_ID) == books_group
        assert "nothing new" in _cli("sync", "--once").stdout
