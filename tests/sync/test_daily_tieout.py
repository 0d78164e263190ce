"""The automatic tie-out: once a day, the last week up to yesterday, kept in the store for the dashboard."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from helpers.planted import raise_provet_total

from provet_xero_gui.app.tieout import tie_out_if_due
from provet_xero_gui.cli import main
from provet_xero_gui.store.sync_state import SyncState
from provet_xero_gui.tieout.daily import DailyTieOut, due_range, last_daily

CLINIC_DAY = date(2026, 10, 1)  # the seeded clinic's "today": its documents are from September


def test_the_week_up_to_yesterday_is_due_once_a_day() -> None:
    assert due_range(None, CLINIC_DAY) == (date(2026, 9, 24), date(2026, 9, 30))
    made_today = DailyTieOut(date(2026, 9, 24), date(2026, 9, 30), "equal", (), (), 3, CLINIC_DAY)
    assert due_range(made_today, CLINIC_DAY) is None
    assert due_range(made_today, CLINIC_DAY + timedelta(days=1)) == (date(2026, 9, 25), date(2026, 10, 1))


def test_a_damaged_record_is_made_again_not_a_crash() -> None:
    assert DailyTieOut.from_json({"start": "2026-09-24", "status": "equal"}) is None
    assert DailyTieOut.from_json("nonsense") is None
    made = DailyTieOut(date(2026, 9, 24), date(2026, 9, 30), "unexplained", (date(2026, 9, 26),), (), 3, CLINIC_DAY)
    assert DailyTieOut.from_json(made.to_json()) == made


def test_made_once_a_day_kept_for_the_dashboard_and_a_difference_shows(
    synced, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox, profile = synced
    first = tie_out_if_due(profile, CLINIC_DAY)
    assert first is not None and first.status == "equal" and first.xero_calls <= 3
    assert first.words().startswith("Provet and Xero agree (24 Sep – 30 Sep)")
    with profile.store() as store:
        assert last_daily(SyncState(store)) == first
    assert tie_out_if_due(profile, CLINIC_DAY) is None  # once a day: no second set of calls

    # Someone changes an invoice's total in Provet's data behind the sync's back (no reason the app knows).
    with profile.store() as store:
        links = SyncState(store).links("invoice")
    in_week = [sandbox.provet.invoice(int(pid)) for pid in links]
    invoice = next(i for i in sorted(in_week, key=lambda i: i.id) if i.invoice_date >= date(2026, 9, 25))
    raise_provet_total(sandbox, invoice.id)

    next_day = tie_out_if_due(profile, CLINIC_DAY + timedelta(days=1))
    assert next_day is not None and next_day.status == "unexplained"
    assert next_day.unexplained == (invoice.invoice_date,)
    assert next_day.words() == "1 day differs without a reason (25 Sep – 01 Oct)"
    capsys.readouterr()
    assert main(["status"]) == 0
    assert "Books:   1 day differs without a reason (25 Sep – 01 Oct)" in capsys.readouterr().out
