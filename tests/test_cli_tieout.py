"""`provet-xero tieout`: bad dates in plain words (exit 2), and on a connected, synced sandbox clinic the
text, JSON and CSV forms with the exit code that says whether every difference is explained."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from helpers.planted import raise_provet_total

from provet_xero_gui.cli import main
from provet_xero_gui.profile import Profile
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID
from provet_xero_gui.sandbox.runner import demo_mapping
from provet_xero_gui.settings import ProvetSettings, XeroSettings, write_json_atomically
from provet_xero_gui.store.sync_state import SyncState


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("start", "end", "words"),
    [
        ("2026-09-31", "2026-10-01", "'2026-09-31' is not a date; write it as YYYY-MM-DD"),
        ("yesterday", "2026-10-01", "'yesterday' is not a date"),
        ("2026-10-01", "2026-09-01", "ends (2026-09-01) before it starts (2026-10-01)"),
        ("2020-01-01", "2026-01-01", "tie out at most 366 days"),
    ],
)
def test_bad_dates_exit_2_in_plain_words(capsys: pytest.CaptureFixture[str], start: str, end: str, words: str) -> None:
    code, out, err = run(capsys, "tieout", "--from", start, "--to", end)
    assert code == 2 and out == ""
    assert err.startswith("provet-xero: ") and words in err
    assert "Traceback" not in err


def test_not_connected_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    write_json_atomically(Profile.open().paths.mapping_file, demo_mapping())
    code, _out, err = run(capsys, "tieout", "--from", "2026-09-01", "--to", "2026-09-30")
    assert code == 2 and "not connected" in err


def test_no_mapping_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    Profile.open().settings_file.update(provet=ProvetSettings(url="https://provetcloud.com/4321/", client_id="abc"),
                                        xero=XeroSettings(tenant_id=CLINIC_TENANT_ID, tenant_name="Happy Paws"))
    code, _out, err = run(capsys, "tieout", "--from", "2026-09-01", "--to", "2026-09-30")
    assert code == 2 and "No mapping has been saved yet. Next step: `provet-xero mapping suggest --save`" in err


def test_a_synced_month_in_text_json_and_csv(capsys: pytest.CaptureFixture[str], synced) -> None:
    sandbox, _profile = synced
    code, out, err = run(capsys, "tieout", "--from", "2026-09-01", "--to", "2026-09-30")
    assert code == 0, err
    assert "Tie-out of Provet and Xero, 2026-09-01 to 2026-09-30 — Happy Paws Veterinary Ltd" in out
    assert "30 days: 30 tie out, 0 differ with the reason known, 0 differ without one" in out
    assert "Xero calls: 3 (GET CreditNotes 1, GET Invoices 1, GET Payments 1)" in out
    assert "Held by rule" in out and "anonymous" in out

    code, out, _err = run(capsys, "tieout", "--from", "2026-09-01", "--to", "2026-09-30", "--json")
    data = json.loads(out)
    assert code == 0 and data["exit_code"] == 0 and data["status"] == "equal" and data["days_equal"] == 30
    assert data["xero_calls"] == 3

    # A payment made only in Xero: found, explained, still exit 0 (amber, not red).
    owing = next(d for d in sandbox.xero.invoices(CLINIC_TENANT_ID) if d.amount_due >= 1 and d.status == "AUTHORISED")
    sandbox.xero.make_payment(CLINIC_TENANT_ID, owing.doc_id, "1.00", "090", date=date(2026, 9, 15))
    code, out, _err = run(capsys, "tieout", "--from", "2026-09-15", "--to", "2026-09-15", "--csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and set(rows[0]) == {
        "Date",
        "Day status",
        "Line",
        "Provet",
        "Xero",
        "Difference",
        "Line status",
        "Document",
        "Cause",
        "Amount",
        "Reason",
        "What to do",
    }
    docs = [r for r in rows if r["Document"]]
    assert [(r["Cause"], r["Amount"]) for r in docs] == [("Payment made only in Xero", "-1.00")]
    assert {r["Day status"] for r in rows} == {"explained"}
    # Nothing secret in what was printed.
    secret = sandbox.credentials.provet_client_secret
    assert secret not in out


def test_an_unexplained_difference_exits_1(capsys: pytest.CaptureFixture[str], synced) -> None:
    sandbox, profile = synced
    with profile.store() as store:
        links = SyncState(store).links("invoice")
    invoice = sandbox.provet.invoice(int(next(iter(sorted(links, key=int)))))
    raise_provet_total(sandbox, invoice.id)
    day = invoice.invoice_date.isoformat()
    code, out, _err = run(capsys, "tieout", "--from", day, "--to", day)
    assert code == 1
    assert "differ without one" in out and "Unexplained" in out
