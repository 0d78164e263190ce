"""The live log as a table model, and the filter in front of it.

Rows are the store's log entries (plus the window's own messages), kept in one Python list in the
order they happened; "newest first" is an index flip, not a sort, so switching order and appending stay
cheap at 100,000 rows. The filter reads that list directly instead of going through `data()`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from itertools import count

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor

from provet_xero_gui.app.log import window_entry
from provet_xero_gui.app.types import LogEntry

log = logging.getLogger(__name__)

LEVELS = ("debug", "info", "warning", "error")
_RANK = {name: i for i, name in enumerate(LEVELS)}
COLUMNS = ("Time", "Level", "Message", "Document")
TIME, LEVEL, MESSAGE, DOCUMENT = range(4)
ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1
_LEVEL_COLOURS = {"warning": QColor("#9a5b00"), "error": QColor("#b3261e"), "debug": QColor("#6b6b6b")}
_KIND_WORDS = {"credit_note": "Credit note", "invoice": "Invoice", "payment": "Payment", "contact": "Client",
               "allocation": "Allocation", "void": "Void"}  # fmt: skip

Index = QModelIndex | QPersistentModelIndex


def local_time(ts: str) -> str:
    """A stored UTC stamp as the clinic's wall clock shows it."""
    try:
        when = datetime.fromisoformat(ts)
    except ValueError:
        return ts
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def document_words(entry: LogEntry) -> str:
    if not entry.document_id:
        return ""
    return f"{_KIND_WORDS.get(entry.document_kind or '', entry.document_kind or 'Document')} {entry.document_id}"


class LogModel(QAbstractTableModel):
    """Log entries, oldest first in storage; shown newest first or last as the person chooses."""

    def __init__(self, parent: QObject | None = None, *, newest_first: bool = True) -> None:
        super().__init__(parent)
        self._entries: list[LogEntry] = []
        self._search: list[str] = []  # lower-cased message + document, for the filter
        self._last_store_id = 0
        self._local_ids = count(-1, -1)
        self._newest_first = newest_first

    # --- feeding -----------------------------------------------------------------------------------
    def append_entries(self, entries: Iterable[LogEntry]) -> int:
        """Add store rows not seen yet (by id); returns how many were added."""
        new = [e for e in entries if e.id > self._last_store_id]
        if not new:
            return 0
        self._last_store_id = new[-1].id
        self._append(new)
        return len(new)

    def add_local(self, level: str, message: str) -> None:
        """A message of the window itself (a pass that could not start, an export), not from the store."""
        self._append([window_entry(next(self._local_ids), level, message)])

    def _append(self, new: Sequence[LogEntry]) -> None:
        n, k = len(self._entries), len(new)
        first, last = (0, k - 1) if self._newest_first else (n, n + k - 1)
        self.beginInsertRows(QModelIndex(), first, last)
        self._entries.extend(new)
        self._search.extend(f"{e.message}\n{document_words(e)}".lower() for e in new)
        self.endInsertRows()

    def clear(self) -> None:
        self.beginResetModel()
        self._entries.clear()
        self._search.clear()
        self.endResetModel()

    # --- order ---------------------------------------------------------------------------------------
    @property
    def newest_first(self) -> bool:
        return self._newest_first

    def set_newest_first(self, value: bool) -> None:
        if value != self._newest_first:
            self.beginResetModel()
            self._newest_first = value
            self.endResetModel()

    def _at(self, row: int) -> int:
        return len(self._entries) - 1 - row if self._newest_first else row

    def entry(self, row: int) -> LogEntry:
        return self._entries[self._at(row)]

    def search_text(self, row: int) -> str:
        return self._search[self._at(row)]

    def entries_in_view_order(self) -> list[LogEntry]:
        return self._entries[::-1] if self._newest_first else list(self._entries)

    # --- the model interface -------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        e = self._entries[self._at(index.row())]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == TIME:
                return local_time(e.ts)
            if col == LEVEL:
                return e.level.capitalize()
            if col == MESSAGE:
                return e.message
            return document_words(e)
        if role == Qt.ItemDataRole.ToolTipRole and col == MESSAGE:
            return e.message
        if role == Qt.ItemDataRole.ForegroundRole and e.level in _LEVEL_COLOURS:
            return QBrush(_LEVEL_COLOURS[e.level])
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{e.level}: {e.message}" if col == MESSAGE else None
        if role == ENTRY_ROLE:
            return e
        return None


class LogFilter(QSortFilterProxyModel):
    """Shows entries at or above a level whose message or document contains the typed words."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._min_rank = _RANK["info"]
        self._words: list[str] = []

    @property
    def min_level(self) -> str:
        return LEVELS[self._min_rank]

    def set_min_level(self, level: str) -> None:
        rank = _RANK[level]
        if rank != self._min_rank:
            self.beginFilterChange()
            self._min_rank = rank
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_text(self, text: str) -> None:
        words = text.lower().split()
        if words != self._words:
            self.beginFilterChange()
            self._words = words
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        assert isinstance(model, LogModel)
        if _RANK.get(model.entry(source_row).level, 1) < self._min_rank:
            return False
        if not self._words:
            return True
        haystack = model.search_text(source_row)
        return all(w in haystack for w in self._words)

    def entries(self) -> list[LogEntry]:
        """What is shown now, in the order shown (for the export)."""
        model = self.sourceModel()
        assert isinstance(model, LogModel)
        return [model.entry(self.mapToSource(self.index(r, 0)).row()) for r in range(self.rowCount())]
