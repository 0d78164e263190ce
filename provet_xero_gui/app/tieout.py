"""Running the tie-out for a profile (`provet-xero tieout`, the window's tie-out page, the daily check).

Composition lives here, not in tieout/: this module opens the profile's mapping, connections and store and hands
the Provet source and the Xero client to `tieout.TieOut`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime

from provet_xero_gui.app.connections import NotConnected, open_connections
from provet_xero_gui.app.errors import AppError
from provet_xero_gui.credentials import CredentialsError
from provet_xero_gui.mapping import MappingError, MappingFile
from provet_xero_gui.profile import Profile
from provet_xero_gui.provet.client import ProvetError
from provet_xero_gui.provet.records import RecordError
from provet_xero_gui.provet.source import ProvetSource
from provet_xero_gui.store import StoreError
from provet_xero_gui.store.sync_state import SyncState
from provet_xero_gui.tieout import TieOut, TieOutRangeError, TieOutReport, check_range, parse_day
from provet_xero_gui.tieout.daily import CACHE_NAME, DailyTieOut, due_range, last_daily
from provet_xero_gui.xero.client import XeroApiError
from provet_xero_gui.xero.identity import XeroAuthError
from provet_xero_gui.xero.limits import DayLimitLow

log = logging.getLogger(__name__)


class CannotTieOut(AppError):
    """The tie-out could not be made (not connected, no mapping, a service failed); plain words."""


def parse_range(first: str, last: str) -> tuple[date, date]:
    """The days `--from`/`--to` name, checked (a mistyped range is told before what is not set up yet)."""
    try:
        start, end = parse_day(first), parse_day(last)
        check_range(start, end)
    except TieOutRangeError as exc:
        raise AppError(str(exc)) from None
    return start, end


def run_tieout(
    profile: Profile, start: date, end: date, *, progress: Callable[[str], None] = lambda _text: None
) -> TieOutReport:
    """The tie-out for a profile, as the command line and the window run it. It only reads, so it needs no
    sync lock; raises TieOutRangeError for a bad range and CannotTieOut when it cannot run."""
    check_range(start, end)
    try:
        mapping = MappingFile(profile.paths.mapping_file).load()
    except MappingError as exc:
        raise CannotTieOut(f"No usable mapping: {exc}") from None
    try:
        conns = open_connections(profile)
    except (NotConnected, CredentialsError) as exc:
        raise CannotTieOut(str(exc)) from None
    try:
        with profile.store() as store:
            tie = TieOut(ProvetSource(conns.provet), conns.xero, SyncState(store), mapping, progress=progress)
            return tie.run(start, end)
    except (StoreError, ProvetError, RecordError, XeroApiError, XeroAuthError, DayLimitLow, CredentialsError) as exc:
        raise CannotTieOut(f"The tie-out could not be made: {exc}") from None


def tie_out_if_due(
    profile: Profile,
    today: date,
    *,
    run: Callable[..., TieOutReport] = run_tieout,
) -> DailyTieOut | None:
    """Make today's automatic tie-out if it is due and keep its outcome; None when it was not due. Raises
    CannotTieOut (and StoreError) with a plain message when it cannot be made."""
    with profile.store() as store:
        when = due_range(last_daily(SyncState(store)), today)
    if when is None:
        return None
    report = run(profile, *when)
    made = DailyTieOut.from_report(report, today)
    try:
        with profile.store() as store:
            SyncState(store).cache(CACHE_NAME, made.to_json())
    except StoreError:
        log.warning("the daily tie-out was made but could not be kept; it is made again next time")
    log.info("daily tie-out %s..%s: %s (%d Xero calls)", made.start, made.end, made.status, made.xero_calls)
    return made


def today_here() -> date:
    """The clinic's own day (the computer's local date), not UTC's."""
    return datetime.now(UTC).astimezone().date()
