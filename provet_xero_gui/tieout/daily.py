"""The tie-out the app makes by itself: once a day, after a sync pass, the last week up to yesterday.

A tie-out costs about three Xero calls whatever the range, so running it after every pass (every minute)
would spend most of the day's 5,000 calls on checking; once a day over the last seven days costs three and
still catches a document changed in Xero days after it was sent. The outcome is kept in the store, so the
dashboard shows it from the moment the window opens. No Qt here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from provet_xero_gui.store.sync_state import SyncState
from provet_xero_gui.tieout import EXPLAINED, UNEXPLAINED, TieOutReport

CACHE_NAME = "tieout:daily"
DAYS = 7


@dataclass(frozen=True)
class DailyTieOut:
    """What the last automatic tie-out found, as the dashboard and the tray show it."""

    start: date
    end: date
    status: str  # tieout.EQUAL / EXPLAINED / UNEXPLAINED
    unexplained: tuple[date, ...]
    explained: tuple[date, ...]
    xero_calls: int
    made_on: date  # the clinic's day it was made: one a day

    @classmethod
    def from_report(cls, report: TieOutReport, made_on: date) -> DailyTieOut:
        return cls(
            report.start,
            report.end,
            report.status,
            tuple(d.day for d in report.days if d.status == UNEXPLAINED),
            tuple(d.day for d in report.days if d.status == EXPLAINED),
            report.xero_calls,
            made_on,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "status": self.status,
            "unexplained": [d.isoformat() for d in self.unexplained],
            "explained": [d.isoformat() for d in self.explained],
            "xero_calls": self.xero_calls,
            "made_on": self.made_on.isoformat(),
        }

    @classmethod
    def from_json(cls, data: Any) -> DailyTieOut | None:
        """None for anything that is not a whole record (an older or damaged cache is simply made again)."""
        try:
            return cls(
                date.fromisoformat(data["start"]),
                date.fromisoformat(data["end"]),
                str(data["status"]),
                tuple(date.fromisoformat(d) for d in data["unexplained"]),
                tuple(date.fromisoformat(d) for d in data["explained"]),
                int(data["xero_calls"]),
                date.fromisoformat(data["made_on"]),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def words(self) -> str:
        """One line for a person: how the last week's books compare."""
        span = f"{self.start:%d %b} – {self.end:%d %b}"
        if self.status == UNEXPLAINED:
            n = len(self.unexplained)
            return f"{n} day{'s differ' if n != 1 else ' differs'} without a reason ({span})"
        if self.status == EXPLAINED:
            return f"Differences all explained ({span})"
        return f"Provet and Xero agree ({span})"


def last_daily(state: SyncState) -> DailyTieOut | None:
    cached = state.cached(CACHE_NAME)
    return DailyTieOut.from_json(cached[0]) if cached else None


def due_range(last: DailyTieOut | None, today: date) -> tuple[date, date] | None:
    """The week up to yesterday, unless today's tie-out was made already."""
    if last is not None and last.made_on >= today:
        return None
    yesterday = today - timedelta(days=1)
    return yesterday - timedelta(days=DAYS - 1), yesterday
