"""The command line's rough edges, each as a person meets it: output cut short by `| head`, a size of 0, a
fresh profile, numbers in `attention` that `retry` takes, exit codes that agree, a file written where there
is no folder, the organisation in `tieout --json`."""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.cli import run_cli
from helpers.connected import connect_profile

from provet_xero_gui.profile import Profile
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID
from provet_xero_gui.sandbox.runner import Sandbox, demo_mapping
from provet_xero_gui.settings import ProvetSettings, write_json_atomically
from provet_xero_gui.store.sync_state import SyncState

CLINIC = "Happy Paws Veterinary Ltd"


# --- output cut short -----------------------------------------------------------------------------------


def test_status_json_into_a_closed_pipe_ends_quietly() -> None:
    """`provet-xero status --json | head -1`, with the reader gone before anything is written."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable, "-m", "provet_xero_gui", "status", "--json"], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write_end)
    assert proc.stderr == ""  # no BrokenPipeError traceback, no "Exception ignored" at exit
    assert proc.returncode == 141  # as a program ended by SIGPIPE


class _GoneReader(io.StringIO):
    """Standard output whose reader has gone away after the first line, as `| head -1` leaves it."""

    def write(self, text: str) -> int:
        if "\n" in self.getvalue():
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)


def _cut_short(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    from provet_xero_gui.cli import main

    capsys.readouterr()
    saved, sys.stdout = sys.stdout, _GoneReader()
    try:
        code = main(list(args))
    finally:
        sys.stdout = saved
    return code, capsys.readouterr().err


# --- sizes ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("command", "size"), [("demo", "0"), ("demo", "-3"), ("sandbox", "0"), ("demo", "ten")])
def test_a_size_below_one_is_a_usage_error(command: str, size: str) -> None:
    done = run_cli(command, "--headless", "--size", size) if command == "demo" else run_cli(command, "--size", size)
    assert done.returncode == 2
    assert done.stderr.startswith("usage: provet-xero")
    assert "argument --size: " in done.stderr and ("at least 1" in done.stderr or "whole number" in done.stderr)
    assert "Traceback" not in done.stderr and done.stdout == ""


# --- a fresh profile ------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [("sync", "--once"), ("tieout", "--from", "2026-09-01", "--to", "2026-09-30"),
                                     ("retry", "--all")])
def test_a_fresh_profile_is_told_to_connect_provet_first(command: tuple[str, ...]) -> None:
    done = run_cli(*command)
    assert done.returncode == 2
    assert done.stderr.startswith("provet-xero: Provet Cloud is not connected yet. First step: `provet-xero "
                                  "connect provet")
    assert "mapping import" not in done.stderr.split(";")[0]


def test_then_xero_then_the_mapping() -> None:
    profile = Profile.open()
    profile.settings_file.update(provet=ProvetSettings(url="https://provetcloud.com/4321/", client_id="abc"))
    done = run_cli("sync", "--once")
    assert done.returncode == 2 and "Xero is not connected yet. Next step: `provet-xero connect xero`" in done.stderr


def test_attention_on_a_profile_never_synced_does_not_say_everything_went() -> None:
    done = run_cli("attention")
    assert done.returncode == 0
    assert "Nothing has been synced yet" in done.stdout
    assert "has gone" not in done.stdout


# --- mapping export -------------------------------------------------------------------------------------


def test_mapping_export_creates_no_folders_and_says_what_is_in_the_way(tmp_path: Path) -> None:
    write_json_atomically(Profile.open().paths.mapping_file, demo_mapping())
    missing = tmp_path / "no" / "such" / "dir" / "m.json"
    done = run_cli("mapping", "export", str(missing))
    assert done.returncode == 2
    assert f"there is no folder {missing.parent}" in done.stderr and "Nothing was written" in done.stderr
    assert not (tmp_path / "no").exists()

    (tmp_path / "notes.txt").write_text("a file")
    under_a_file = tmp_path / "notes.txt" / "m.json"
    done = run_cli("mapping", "export", str(under_a_file))
    assert done.returncode == 2
    assert f"{tmp_path / 'notes.txt'} is a file, not a folder" in done.stderr
    assert "File exists" not in done.stderr and (tmp_path / "notes.txt").read_text() == "a file"

    done = run_cli("mapping", "export", str(tmp_path / "m.json"))
    assert done.returncode == 0 and json.loads((tmp_path / "m.json").read_text())["version"] == 1


# --- on a connected sandbox clinic ----------------------------------------------------------------------


def test_cut_short_mapping_suggest_and_tieout_json_end_quietly(synced, capsys: pytest.CaptureFixture[str]) -> None:
    for args in (("mapping", "suggest"), ("tieout", "--from", "2026-09-01", "--to", "2026-09-30", "--json"),
                 ("status", "--json")):
        code, err = _cut_short(capsys, *args)
        assert code == 141, args
        assert "Traceback" not in err and "BrokenPipe" not in err, err


class _GoneErrors(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_progress_nobody_reads_does_not_stop_the_pass(synced, capsys: pytest.CaptureFixture[str]) -> None:
    """`provet-xero sync 2>&1 | head -3`: the progress lines' reader goes; the pass goes on to the end."""
    from provet_xero_gui.cli import main

    sandbox, _profile = synced
    sandbox.provet.demo_activity(random.Random(3))  # something new to send, so the pass has progress to show
    before = len(sandbox.xero.invoices(CLINIC_TENANT_ID))
    capsys.readouterr()
    saved, sys.stderr = sys.stderr, _GoneErrors()
    try:
        code = main(["sync", "--once"])
    finally:
        sys.stderr = saved
    out = capsys.readouterr().out
    assert code in (0, 1) and "Sync finished." in out, out
    assert len(sandbox.xero.invoices(CLINIC_TENANT_ID)) > before


def test_tieout_json_names_the_organisation(synced, capsys: pytest.CaptureFixture[str]) -> None:
    _sandbox, profile = synced
    with profile.store() as store:
        SyncState(store).drop_cache("xero_reference")  # as `retry` leaves it: nothing of Xero's cached
    done = run_cli("tieout", "--from", "2026-09-01", "--to", "2026-09-30", "--json")
    assert done.returncode in (0, 1), done.stderr
    assert json.loads(done.stdout)["organisation"] == CLINIC


def test_a_sync_that_finds_a_new_conflict_exits_1_like_conflicts(synced) -> None:
    sandbox, profile = synced
    assert run_cli("sync", "--once").returncode == 0  # nothing waits on a person
    with profile.store() as store:
        links = SyncState(store).links("contact")
    client = next(c for c in sandbox.provet.clients() if str(c.id) in links and c.customer_type == 0)
    sandbox.provet.edit_client(client.id, email="provet.side@example.org")
    sandbox.xero.edit_contact(CLINIC_TENANT_ID, links[str(client.id)].xero_id, email="xero.side@example.org")

    done = run_cli("sync", "--once")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Conflicts:       1 wait for a choice — see `provet-xero conflicts`" in done.stdout
    assert run_cli("conflicts").returncode == 1
    as_json = run_cli("sync", "--once", "--json")
    assert as_json.returncode == 1 and json.loads(as_json.stdout)["conflicts_waiting"] == 1


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Sandbox, Profile]]:
    """A synced clinic whose mapping leaves VAT group 1 out: its invoices wait in the attention list."""
    with Sandbox(size=12) as sandbox:
        profile = connect_profile(sandbox, monkeypatch)
        mapping = demo_mapping()
        mapping["vat_groups"] = {k: v for k, v in mapping["vat_groups"].items() if k != "1"}
        write_json_atomically(profile.paths.mapping_file, mapping)
        assert run_cli("sync", "--once").returncode == 1
        yield sandbox, profile


def test_attention_numbers_what_retry_takes_and_retry_says_what_became_of_it(held) -> None:
    _sandbox, profile = held
    with profile.store() as store:
        items = SyncState(store).attention()
    problems = [i for i in items if not i.by_rule]
    by_rule = [i for i in items if i.by_rule]
    assert problems and by_rule

    shown = run_cli("attention")
    assert shown.returncode == 1
    for item in problems:
        assert f"[{item.id}] {item.document}" in shown.stdout
    for item in by_rule:  # listed, but without a number to retry
        assert f"[{item.id}]" not in shown.stdout and f"- {item.document}" in shown.stdout
    assert "retry one with `provet-xero retry ID`" in shown.stdout

    refused = run_cli("retry", str(by_rule[0].id))
    assert refused.returncode == 2 and "held by rule" in refused.stderr and "Nothing was run" in refused.stderr

    first = problems[0]
    again = run_cli("retry", str(first.id))
    assert again.returncode == 1
    assert f"Item {first.id}, {first.document}: still waits — " in again.stdout and "Fix: " in again.stdout

    write_json_atomically(profile.paths.mapping_file, demo_mapping())  # the fix: VAT group 1 mapped
    fixed = run_cli("retry", str(first.id), "--json")
    report = json.loads(fixed.stdout)
    assert report["retried"] == [{"id": first.id, "document": first.document, "outcome": "sent", "reason": None,
                                  "fix": None}]
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr  # the pass sent the others held for the same cause
    shown = run_cli("attention")
    assert shown.returncode == 0 and "Nothing needs attention" in shown.stdout and "held by rule" in shown.stdout
