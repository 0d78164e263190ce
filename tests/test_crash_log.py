"""The window's crash log (provet_xero_gui/crash_log.py), without a window: what the next start learns."""

from __future__ import annotations

import faulthandler
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from provet_xero_gui.crash_log import KEEP_REPORTS, CrashLog
from provet_xero_gui.redact import MASK, remember


@pytest.fixture(autouse=True)
def _pytests_own_faulthandler() -> Iterator[None]:
    """CrashLog takes faulthandler over, as the app does; pytest gets it back afterwards."""
    yield
    faulthandler.enable(file=sys.__stderr__, all_threads=True)


def test_a_clean_quit_leaves_nothing_to_report(tmp_path: Path) -> None:
    log = CrashLog(tmp_path)
    assert log.open() is None
    log.close()
    assert CrashLog(tmp_path).open() is None
    assert list(tmp_path.iterdir()) == [tmp_path / "crash.log", tmp_path / "running.json"]


def test_a_power_cut_mid_write_is_still_a_run_that_did_not_end(tmp_path: Path) -> None:
    app_log = tmp_path / "provet-xero.log"
    secret = "s3cret-refresh-token-value-0123456789"
    remember(secret)
    app_log.write_text(f"18:00 INFO sending invoices\n18:01 INFO token {secret}\n", encoding="utf-8")
    (tmp_path / "running.json").write_text('{"started": "2026-12-0', encoding="utf-8")  # cut short
    end = CrashLog(tmp_path, app_log).open()
    assert end is not None and not end.crashed and end.started is None
    assert "closed without quitting" in end.words()
    assert "sending invoices" in end.report() and secret not in end.report() and MASK in end.report()
    assert end.report_file.read_text(encoding="utf-8") == end.report()


def test_only_the_last_reports_are_kept(tmp_path: Path) -> None:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    for i in range(KEEP_REPORTS + 3):
        (tmp_path / "running.json").write_text("{}", encoding="utf-8")
        log = CrashLog(tmp_path, now=start + timedelta(minutes=i))
        assert log.open() is not None
        faulthandler.disable()  # the process "dies": no close(), the marker stays
        log._file.close()
        log._file = None
    kept = sorted(p.name for p in tmp_path.glob("crash-*.txt"))
    newest = start + timedelta(minutes=KEEP_REPORTS + 2)
    assert len(kept) == KEEP_REPORTS and kept[-1] == f"crash-{newest:%Y%m%d-%H%M%S}.txt"
