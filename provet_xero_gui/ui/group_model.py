"""A two-level tree model (groups, and the items in each), the shape of the attention and conflict views.

A group row has internal id 0; an item row's internal id is its group's row + 1, so `parent()` needs no
lookup table. Subclasses hold their groups and say what each cell shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt

_ROOT = QModelIndex()


class GroupModel(QAbstractItemModel):
    columns: Sequence[str] = ()

    def groups(self) -> Sequence[Any]:
        raise NotImplementedError

    def children(self, group: Any) -> Sequence[Any]:
        raise NotImplementedError

    def node(self, index: QModelIndex | QPersistentModelIndex) -> Any:
        """The group or the item a cell stands for (None for an invalid index)."""
        if not index.isValid():
            return None
        if index.internalId() == 0:
            return self.groups()[index.row()]
        return self.children(self.groups()[index.internalId() - 1])[index.row()]

    def index(self, row: int, column: int, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> QModelIndex:
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, 0)
        if parent.internalId() == 0:
            return self.createIndex(row, column, parent.row() + 1)
        return QModelIndex()

    def parent(self, index: QModelIndex | QPersistentModelIndex = _ROOT) -> QModelIndex:  # type: ignore[override]
        if not index.isValid() or index.internalId() == 0:
            return QModelIndex()
        return self.createIndex(index.internalId() - 1, 0, 0)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        if not parent.isValid():
            return len(self.groups())
        if parent.internalId() == 0 and parent.column() == 0:
            return len(self.children(self.groups()[parent.row()]))
        return 0

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section]
        return None
