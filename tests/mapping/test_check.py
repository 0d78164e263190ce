"""`mapping check` and `mapping suggest` against the running sandbox: problems planted through its hooks
show up where they are mapped, with their fix; exit codes 0 ready, 1 problems, 2 cannot run."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from helpers.connected import connect_profile

from provet_xero_gui.mapping import Mapping, MappingFile
from provet_xero_gui.profile import Profile
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID, RowSpec
from provet_xero_gui.sandbox.runner import Sandbox

from .conftest import cli, run_main

READY = {
    "version": 1,
    "vat_groups": {"1": "OUTPUT2", "2": "OUTPUT2", "3": "RROUTPUT", "4": "ZERORATEDOUTPUT", "5": "EXEMPTOUTPUT"},
    "payment_methods": {"type:0": "610", "type:1": "091", "type:2": "090", "type:7": "090", "type:8": "815",
                        "type:15": "620"},
    "default_sales_account": "200",
    "xero_payments_method": "17",
    "rounding_account": "860",
}


def _save(profile: Profile, data: dict) -> None:
    MappingFile(profile.paths.mapping_file).save(Mapping.from_json(data))


def _problems(out: str) -> dict[str, str]:
    """`where: message — fix` lines by where."""
    lines = [line for line in out.splitlines() if " — " in line]
    return {line.split(": ", 1)[0]: line.split(": ", 1)[1] for line in lines}


def test_a_ready_mapping(connected: Profile, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    _save(connected, READY)
    before = sandbox.provet.counter.counts()
    code, out, err = run_main(capsys, "mapping", "check")
    assert (code, err) == (0, ""), out + err
    assert out.splitlines() == [
        "Checked against the Xero organisation 'Happy Paws Veterinary Ltd' and the newest 20 of 22 finalised Provet "
        "invoices.",
        "The mapping is ready.",
    ]
    # Cheap: one page of VAT groups, methods and invoices, one batch of rows and of payments.
    calls = {k: v - before.get(k, 0) for k, v in sandbox.provet.counter.counts().items() if "/api/" in k}
    assert sum(calls.values()) <= 6, calls


def test_planted_problems_show_where_they_are_mapped(
    connected: Profile, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    _save(connected, {
        **READY,
        "vat_groups": {k: v for k, v in READY["vat_groups"].items() if k != "4"},  # in use, left unmapped
        "payment_methods": {**READY["payment_methods"], "type:2": "200"},  # a sales account cannot take payments
    })
    sandbox.xero.archive_tax_rate(CLINIC_TENANT_ID, "RROUTPUT")
    sandbox.xero.archive_account(CLINIC_TENANT_ID, "091")
    # A new VAT group in Provet, used on a new finalised invoice, that the mapping does not know yet.
    group = sandbox.provet.add_vat_group("Reduced 12.5%", Decimal("12.5"), "200")
    client = sandbox.provet.clients()[0]
    sandbox.provet.add_invoice(client.id, [RowSpec("Hydrotherapy", Decimal(1), Decimal(40), Decimal("12.5"), "200")])

    code, out, err = run_main(capsys, "mapping", "check")
    assert code == 1, out + err
    found = _problems(out)
    assert found == {
        "vat_groups:3": "'Reduced 5%' is mapped to '5% (VAT on Income)', which is archived in Xero. — "
                        "Map it to an active tax rate.",
        "vat_groups:4": "VAT group 'Zero-rated' is used on invoices but not mapped. — Map it to a Xero tax rate.",
        f"vat_groups:{group.id}": "VAT group 'Reduced 12.5%' is used on invoices but not mapped. — "
                                  "Map it to a Xero tax rate.",
        "payment_methods:type:1": "Payment type 'Cash' is mapped to 091 Cash in till, which is archived in Xero. — "
                                  "Map it to an active account.",
        "payment_methods:type:2": "Payment type 'Bank transfer' is mapped to 200 Sales – Clinical services, which "
                                  "cannot take payments. — Choose a bank account, or allow payments to this account "
                                  "in Xero's chart of accounts.",
    }
    assert out.splitlines()[-1] == "5 problems to fix before syncing; then run `provet-xero mapping check` again."
    assert "newest 21 of 23 finalised" in out

    code, out, _ = run_main(capsys, "mapping", "check", "--json")
    report = json.loads(out)
    assert code == 1 and report["ready"] is False and report["organisation"] == "Happy Paws Veterinary Ltd"
    assert {p["where"] for p in report["problems"]} == set(found)
    assert all(p["message"] and p["fix"] for p in report["problems"])


def test_a_vat_group_that_rows_cannot_be_told_apart_by(
    connected: Profile, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    _save(connected, READY)
    client = sandbox.provet.clients()[0]
    sandbox.provet.add_invoice(client.id, [RowSpec("Lab fee", Decimal(1), Decimal(30), Decimal("20"), "260")])
    code, out, _ = run_main(capsys, "mapping", "check")
    assert code == 1
    assert _problems(out) == {"invoice rows": (
        "Row 'Lab fee' has VAT 20% and account 260, which matches several VAT groups ('Standard 20%', 'Standard 20% – "
        "products') and cannot be told apart; their invoices cannot be sent. — In Provet, give those VAT groups "
        "different account numbers (or archive the unused one).")}


def test_only_the_newest_invoices_are_read(connected: Profile, capsys: pytest.CaptureFixture[str]) -> None:
    _save(connected, READY)
    code, out, _ = run_main(capsys, "mapping", "check", "--invoices", "5", "--json")
    report = json.loads(out)
    assert code == 0 and report["invoices_read"] == 5 and report["invoices_total"] == 22
    _save(connected, {**READY, "start_date": "2026-09-20"})  # nothing older is sent, so nothing older is read
    code, out, _ = run_main(capsys, "mapping", "check", "--json")
    report = json.loads(out)
    assert code == 0 and 0 < report["invoices_total"] < 22


def test_suggest_then_check_is_ready(connected: Profile, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, "mapping", "suggest")
    assert code == 0, err
    proposed = json.loads(out)
    assert proposed["vat_groups"] == READY["vat_groups"] and proposed["xero_payments_method"] == "17"
    assert "Payment type 'Rounding' was left unmapped" in err
    assert not connected.paths.mapping_file.exists()  # shown, not saved

    _save(connected, {"version": 1, "vat_groups": {"4": "NONE"}, "invoice_status": "DRAFT"})
    code, out, _ = run_main(capsys, "mapping", "suggest", "--save")
    assert code == 0 and "Suggested mapping saved (what was already mapped is kept)" in out
    saved = MappingFile(connected.paths.mapping_file).load()
    assert saved.vat_groups["4"] == "NONE" and saved.invoice_status == "DRAFT"
    assert saved.vat_groups["5"] == "EXEMPTOUTPUT"

    out = cli("mapping", "check")  # the automation contract: a child process and its exit code
    assert out.returncode == 0 and out.stdout.endswith("The mapping is ready.\n"), out.stdout + out.stderr


def test_the_shared_fixture_connects_both(connected_profile: Profile) -> None:
    s = connected_profile.settings
    assert s.provet.client_id and s.xero.tenant_name == "Happy Paws Veterinary Ltd"
    out = cli("status", "--json")
    st = json.loads(out.stdout)
    assert st["provet"]["connected"] and st["xero"]["connected"]


# --- cannot run: exit 2 with the reason ------------------------------------------------------------


def test_no_mapping_saved(connected: Profile) -> None:
    out = cli("mapping", "check")
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.startswith("provet-xero: no mapping has been saved yet")


def test_not_connected(
    fresh_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = connect_profile(fresh_sandbox, monkeypatch, provet=False, xero=False)
    _save(profile, READY)
    code, out, err = run_main(capsys, "mapping", "check")
    assert (code, out) == (2, "")
    assert err == "provet-xero: Provet Cloud is not connected. Run `provet-xero connect provet` first.\n"

    connect_profile(fresh_sandbox, monkeypatch, xero=False)
    out = cli("mapping", "check")
    assert out.returncode == 2
    assert out.stderr == "provet-xero: Xero is not connected. Run `provet-xero connect xero` first.\n"
    out = cli("mapping", "suggest")
    assert out.returncode == 2 and "Xero is not connected" in out.stderr


def test_xero_connection_ended(connected: Profile, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    _save(connected, READY)
    sandbox.xero.revoke_all_tokens()
    sandbox.xero.expire_access_tokens()
    code, _out, err = run_main(capsys, "mapping", "check")
    assert code == 2 and "Traceback" not in err and "sign in to Xero again" in err, err
