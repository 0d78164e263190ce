"""Conflicts as a tree: one client per top row, the fields changed differently on both sides below it, with
Provet's value, Xero's value and the last synced value side by side."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from provet_xero_gui.app.types import Conflict
from provet_xero_gui.app.words import describe_resolution, field_words
from provet_xero_gui.ui.group_model import GroupModel

COLUMNS = ("Client / detail", "In Provet", "In Xero", "Last synced", "Choice")
EMPTY_WORD = "(empty)"


@dataclass(frozen=True)
class ClientConflicts:
    provet_client_id: str
    name: str
    conflicts: tuple[Conflict, ...]

    @property
    def label(self) -> str:
        return f"{self.name} (Provet client {self.provet_client_id})"

    @property
    def waiting(self) -> tuple[Conflict, ...]:
        return tuple(c for c in self.conflicts if c.waiting)


def _when(stamp: str | None) -> str:
    return stamp[:16].replace("T", " ") + " UTC" if stamp else "unknown"


def group_conflicts(conflicts: Sequence[Conflict], names: Mapping[str, str] | None = None) -> list[ClientConflicts]:
    """One entry per client: those waiting for a choice first, then by name (an unknown client is named by
    its name conflict's Provet side)."""
    by_client: dict[str, list[Conflict]] = {}
    for c in conflicts:
        by_client.setdefault(c.provet_client_id, []).append(c)
    out = []
    for cid, group in by_client.items():
        name = (names or {}).get(cid) or next((c.provet_value for c in group if c.field == "name"), "") or "Client"
        out.append(ClientConflicts(cid, name, tuple(sorted(group, key=lambda c: (c.field != "name", c.field)))))
    return sorted(out, key=lambda g: (not g.waiting, _fold(g.name), g.provet_client_id))


def _fold(name: str) -> str:
    """Sorting words as people read them: Álvarez with the A's."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch)).casefold()


class ConflictTreeModel(GroupModel):
    """Internal ids: 0 for a client row, client row + 1 for a field row."""

    columns = COLUMNS

    def groups(self) -> Sequence[Any]:
        return self._clients

    def children(self, group: Any) -> Sequence[Any]:
        return group.conflicts

    ConflictRole = Qt.ItemDataRole.UserRole + 1  # Conflict for a field row, ClientConflicts for a client row

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._clients: list[ClientConflicts] = []
        self._pending: dict[int, str] = {}  # conflict id → what was asked, until the list is read again

    def set_conflicts(self, conflicts: Sequence[Conflict], names: Mapping[str, str] | None = None) -> None:
        self.beginResetModel()
        self._clients = group_conflicts(conflicts, names)
        self._pending = {}
        self.endResetModel()

    def set_pending(self, words: Mapping[int, str]) -> None:
        """Show a choice as asked for while the window carries it out."""
        self._pending.update(words)
        last = len(COLUMNS) - 1
        for row in range(len(self._clients)):
            parent = self.index(row, 0)
            count = self.rowCount(parent)
            if count:
                self.dataChanged.emit(self.index(0, last, parent), self.index(count - 1, last, parent))

    def clients(self) -> list[ClientConflicts]:
        return list(self._clients)

    def conflicts(self) -> list[Conflict]:
        return [c for g in self._clients for c in g.conflicts]

    def index_of(self, conflict_id: int) -> QModelIndex:
        for row, group in enumerate(self._clients):
            for i, c in enumerate(group.conflicts):
                if c.id == conflict_id:
                    return self.index(i, 0, self.index(row, 0))
        return QModelIndex()

    def index_of_client(self, provet_client_id: str) -> QModelIndex:
        row = next((i for i, g in enumerate(self._clients) if g.provet_client_id == provet_client_id), -1)
        return self.index(row, 0) if row >= 0 else QModelIndex()

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        node = self.node(index)
        if node is None:
            return None
        if role == self.ConflictRole:
            return node
        if isinstance(node, ClientConflicts):
            return self._client_data(node, index.column(), role)
        return self._field_data(node, index.column(), role)

    def _client_data(self, group: ClientConflicts, col: int, role: int) -> Any:
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole) and col == 0:
            n = len(group.waiting)
            return f"{group.label} — {f'{n} to choose' if n else 'all chosen'}"  # the row spans the columns
        if role == Qt.ItemDataRole.FontRole and col == 0:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            return group.label
        return None

    def _field_data(self, c: Conflict, col: int, role: int) -> Any:
        words = field_words(c.field)
        values = (words[:1].upper() + words[1:], c.provet_value, c.xero_value, c.base_value)
        if role == Qt.ItemDataRole.DisplayRole:
            if col < 4:
                return values[col] or (EMPTY_WORD if col else values[0])
            return self._pending.get(c.id) or ("waiting for a choice" if c.waiting else describe_resolution(c))
        if role == Qt.ItemDataRole.AccessibleTextRole and col == 0:
            return (f"{values[0]}: Provet {c.provet_value or 'empty'}, Xero {c.xero_value or 'empty'}, "
                    f"last synced {c.base_value or 'empty'}")
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == 1:
                return f"{c.provet_value or EMPTY_WORD}\nChanged in Provet {_when(c.provet_changed_at)}"
            if col == 2:
                return f"{c.xero_value or EMPTY_WORD}\nChanged in Xero {_when(c.xero_changed_at)}"
            if col == 3:
                return f"{c.base_value or EMPTY_WORD}\nThe value both sides had after the last sync"
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            if 1 <= col <= 3 and not values[col]:
                return QBrush(QColor("#888888"))
            if col == 3:
                return QBrush(QColor("#555555"))
            if col == 4 and not c.waiting:
                return QBrush(QColor("#1d6b3a"))
        if role == Qt.ItemDataRole.FontRole and ((1 <= col <= 3 and not values[col]) or (col == 4 and c.waiting)):
            font = QFont()
            font.setItalic(True)
            return font
        return None
