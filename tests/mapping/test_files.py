"""`mapping import` and `mapping export` as automation runs them: child processes, files, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from provet_xero_gui.settings import AppPaths

from .conftest import cli

GOOD = {
    "version": 1,
    "vat_groups": {"1": "OUTPUT2", "3": "RROUTPUT"},
    "payment_methods": {"type:1": "091", "method:15": "610"},
    "sales_accounts": {"202": "200"},
    "default_sales_account": "200",
    "xero_payments_method": "17",
    "rounding_account": "860",
    "consolidated": "gathered",
    "start_date": "2026-01-01",
    "invoice_status": "AUTHORISED",
}


def _saved() -> Path:
    return AppPaths.from_env().mapping_file


def test_import_then_export_gives_the_same_mapping(tmp_path: Path) -> None:
    src = tmp_path / "clinic.json"
    src.write_text(json.dumps(GOOD), encoding="utf-8")
    out = cli("mapping", "import", str(src))
    assert out.returncode == 0, out.stderr
    assert "Mapping imported (2 VAT groups, 2 payment methods, 1 sales accounts)" in out.stdout
    assert "provet-xero mapping check" in out.stdout
    assert json.loads(_saved().read_text()) == GOOD

    dest = tmp_path / "second-pc" / "mapping.json"
    dest.parent.mkdir()  # export writes into a folder that is there; it creates none
    out = cli("mapping", "export", str(dest))
    assert out.returncode == 0, out.stderr
    assert json.loads(dest.read_text()) == GOOD
    out = cli("mapping", "export", "-")
    assert out.returncode == 0 and json.loads(out.stdout) == GOOD


def test_import_from_standard_input() -> None:
    out = cli("mapping", "import", "-", stdin=json.dumps(GOOD))
    assert out.returncode == 0, out.stderr
    assert json.loads(_saved().read_text()) == GOOD


def test_a_bad_file_changes_nothing_and_says_why(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(GOOD))
    assert cli("mapping", "import", str(good)).returncode == 0
    before = _saved().read_bytes()

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**GOOD, "payment_methods": {"Card": "610"}}))
    out = cli("mapping", "import", str(bad))
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr == (f"provet-xero: {bad}: payment_methods: key 'Card' should be \"type:N\" or \"method:ID\". "
                          "Nothing was changed.\n")
    assert _saved().read_bytes() == before

    bad.write_text('{"version": 1,')
    out = cli("mapping", "import", str(bad))
    assert out.returncode == 2 and f"{bad} is not valid JSON (line 1" in out.stderr and "Traceback" not in out.stderr
    out = cli("mapping", "import", "-", stdin='{"version": 3}')
    assert out.returncode == 2
    assert "standard input: unknown mapping version 3 (this app reads version 1). Nothing was changed." in out.stderr
    bad.write_bytes(b"\xff\xfe{")
    out = cli("mapping", "import", str(bad))
    assert out.returncode == 2 and "is not a text file" in out.stderr
    assert _saved().read_bytes() == before


def test_a_missing_file(tmp_path: Path) -> None:
    out = cli("mapping", "import", str(tmp_path / "nope.json"))
    assert out.returncode == 2 and out.stderr == f"provet-xero: there is no file {tmp_path / 'nope.json'}\n"
    assert not _saved().exists()


def test_export_before_any_mapping_is_saved(tmp_path: Path) -> None:
    out = cli("mapping", "export", str(tmp_path / "m.json"))
    assert out.returncode == 2
    assert out.stderr.startswith("provet-xero: no mapping has been saved yet; set it up in the window or run "
                                 "`mapping import`")
    assert not (tmp_path / "m.json").exists()


def test_export_to_a_folder_that_cannot_be_written(tmp_path: Path) -> None:
    cli("mapping", "import", "-", stdin=json.dumps(GOOD))
    blocker = tmp_path / "file"
    blocker.write_text("")
    out = cli("mapping", "export", str(blocker / "m.json"))
    assert out.returncode == 2 and "cannot be written" in out.stderr and "Traceback" not in out.stderr
