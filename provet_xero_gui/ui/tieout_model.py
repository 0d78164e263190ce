"""Table models of the tie-out view: the days as a calendar (a week a row), one day's lines, and the
documents behind one line's difference. Status is said in words as well as shown in colour."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from provet_xero_gui.app.types import (
    EQUAL,
    EXPLAINED,
    HELD,
    STATUS_WORDS,
    UNEXPLAINED,
    Difference,
    TieOutDay,
    TieOutLine,
    TieOutReport,
)
from provet_xero_gui.app.words import cause_words

_Index = QModelIndex | QPersistentModelIndex

COLOURS = {EQUAL: "#cdebcd", EXPLAINED: "#ffe2a0", UNEXPLAINED: "#f5b8b1", HELD: "#e4e4e4"}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DAY_ROLE = Qt.ItemDataRole.UserRole + 1


def status_brush(status: str) -> QBrush:
    return QBrush(QColor(COLOURS.get(status, "#ffffff")))


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def day_words(day: TieOutDay) -> str:
    """A day's status in words, with how many documents make its differences."""
    docs = {d.document for line in day.compared for d in line.differences if d.cause != "rounding"}
    if day.status == EQUAL:
        return "ties out" if day.compared else "nothing"
    n = len(docs)
    return f"{STATUS_WORDS[day.status]} ({n} doc{'s' if n != 1 else ''})"


class CalendarModel(QAbstractTableModel):
    """Weeks as rows, Monday to Sunday as columns; days outside the range are blank and cannot be chosen."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.report: TieOutReport | None = None
        self._first = date.today()
        self._weeks = 0
        self._days: dict[date, TieOutDay] = {}

    def set_report(self, report: TieOutReport | None) -> None:
        self.beginResetModel()
        self.report = report
        self._days = {d.day: d for d in report.days} if report else {}
        if report:
            self._first = report.start - timedelta(days=report.start.weekday())
            last = report.end + timedelta(days=6 - report.end.weekday())
            self._weeks = ((last - self._first).days + 1) // 7
        else:
            self._weeks = 0
        self.endResetModel()

    def day_at(self, index: _Index) -> TieOutDay | None:
        if not index.isValid():
            return None
        return self._days.get(self._first + timedelta(days=index.row() * 7 + index.column()))

    def index_of(self, on: date) -> QModelIndex:
        offset = (on - self._first).days
        if on not in self._days or offset < 0:
            return QModelIndex()
        return self.index(offset // 7, offset % 7)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else self._weeks

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 7

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return WEEKDAYS[section]
        return f"Week {(self._first + timedelta(days=section * 7)).isocalendar()[1]}"

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if self.day_at(index) is None:
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        day = self.day_at(index)
        if day is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{day.day.day} {day.day.strftime('%b')}\n{day_words(day)}"
        if role == Qt.ItemDataRole.BackgroundRole:
            return status_brush(day.status) if day.compared or day.status != EQUAL else None
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(QColor("#000000"))
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            held = len(day.held)
            extra = f"; {held} held-by-rule line{'s' if held != 1 else ''}" if held else ""
            return f"{day.day.strftime('%A %d %B %Y')}: {day_words(day)}{extra}"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        if role == DAY_ROLE:
            return day
        return None


class _ListTable(QAbstractTableModel):
    """A flat table over a tuple of rows, with fixed headers: what both drill-down tables are."""

    HEADERS: tuple[str, ...] = ()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: tuple[Any, ...] = ()

    def _reset(self, rows: tuple[Any, ...]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def row_at(self, row: int) -> Any:
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None


class LinesModel(_ListTable):
    """One day's lines: what Provet says, what Xero holds, the difference and whether it is explained."""

    HEADERS = ("Line", "Provet", "Xero", "Difference", "Status")

    @property
    def lines(self) -> tuple[TieOutLine, ...]:
        return self.rows

    def set_day(self, day: TieOutDay | None) -> None:
        self._reset(day.lines if day else ())

    def line_at(self, row: int) -> TieOutLine | None:
        line: TieOutLine | None = self.row_at(row)
        return line

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        line = self.line_at(index.row()) if index.isValid() else None
        if line is None:
            return None
        col = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            unexplained = f", {_money(line.unexplained)} unexplained" if line.unexplained else ""
            return (
                line.label,
                _money(line.provet_total),
                "—" if line.kind == "held" else _money(line.xero_total),
                "" if line.kind == "held" else _money(line.difference),
                STATUS_WORDS[line.status] + unexplained,
            )[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            return line.label if col == 0 else None
        if role == Qt.ItemDataRole.BackgroundRole and col == 4:
            return status_brush(line.status)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (1, 2, 3):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class DocumentsModel(_ListTable):
    """The documents that make one line's difference, each with its cause, reason and what to do."""

    HEADERS = ("Document", "Amount", "Cause", "Reason", "What to do")

    @property
    def differences(self) -> tuple[Difference, ...]:
        return self.rows

    def set_line(self, line: TieOutLine | None) -> None:
        self._reset(line.differences if line else ())

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        d: Difference | None = self.row_at(index.row()) if index.isValid() else None
        if d is None:
            return None
        col = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return (d.document, _money(d.amount), cause_words(d.cause), d.reason, d.fix)[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            return {0: d.document, 3: d.reason, 4: d.fix}.get(col)
        if role == Qt.ItemDataRole.BackgroundRole and col == 2:
            status = (
                UNEXPLAINED
                if not d.explained
                else (HELD if d.cause == "held_by_rule" else EQUAL if d.cause == "rounding" else EXPLAINED)
            )
            return status_brush(status)
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
