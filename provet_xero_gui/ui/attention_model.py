"""The attention list as a tree: one group per cause (problems first, rule holds last), its documents below.

Also where in the mapping each cause is fixed (`where_for`), so the view can jump there; the Qt model is
here, the words come from the engine (reason, fix) and the command line (group titles).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from provet_xero_gui.app.types import PAYMENT_TYPE_NAMES, AttentionItem
from provet_xero_gui.app.words import cause_title
from provet_xero_gui.ui.group_model import GroupModel

# Causes a change to the mapping fixes, and the part of the mapping each one is fixed in.
MAPPING_CAUSES: dict[str, str] = {
    "vat_group_unmapped": "vat_groups",
    "vat_group_unknown": "vat_groups",
    "tax_rate_unusable": "vat_groups",
    "sales_account_unmapped": "sales_accounts",
    "rounding_account_missing": "rounding_account",
    "payment_method_unmapped": "payment_methods",
    "xero_payments_method_missing": "xero_payments_method",
    "tracking_option_unusable": "departments",
}

COLUMNS = ("Document", "Why it waits", "What to do")
_GROUP_RE = re.compile(r"VAT group '(.+?)'")
_CUSTOM_RE = re.compile(r"custom method (\d+)")
_METHOD_RE = re.compile(r"payment method \('(.+?)'")
_ACCOUNT_RE = re.compile(r"has sales account (\S+?),")
_DEPARTMENT_RE = re.compile(r"department \(Provet id (\d+)\)")
_TYPE_BY_NAME = {name.casefold(): number for number, name in PAYMENT_TYPE_NAMES.items()}



def where_for(item: AttentionItem, vat_group_ids: Mapping[str, int] | None = None) -> str | None:
    """The mapping location that fixes this item ("vat_groups:3", "payment_methods:type:0", "rounding_account"),
    only the section when the row cannot be told from the reason, or None when the mapping cannot fix it."""
    section = MAPPING_CAUSES.get(item.cause)
    if section is None:
        return None
    if section == "vat_groups":
        found = _GROUP_RE.search(item.reason) or _GROUP_RE.search(item.fix)
        if found and vat_group_ids and found.group(1) in vat_group_ids:
            return f"vat_groups:{vat_group_ids[found.group(1)]}"
    elif section == "payment_methods":
        custom = _CUSTOM_RE.search(item.reason)
        if custom:
            return f"payment_methods:method:{custom.group(1)}"
        method = _METHOD_RE.search(item.reason)
        if method and method.group(1).casefold() in _TYPE_BY_NAME:
            return f"payment_methods:type:{_TYPE_BY_NAME[method.group(1).casefold()]}"
    elif section == "sales_accounts":
        account = _ACCOUNT_RE.search(item.reason)
        if account and account.group(1) != "(none)":
            return f"sales_accounts:{account.group(1)}"
        return "default_sales_account"
    elif section == "departments":
        department = _DEPARTMENT_RE.search(item.reason)
        if department:
            return f"departments:{department.group(1)}"
    return section


@dataclass(frozen=True)
class AttentionGroup:
    cause: str
    title: str
    items: tuple[AttentionItem, ...]

    @property
    def by_rule(self) -> bool:
        return self.items[0].by_rule

    @property
    def keys(self) -> list[str]:
        return [i.key for i in self.items]


def group_items(items: Sequence[AttentionItem]) -> list[AttentionGroup]:
    """Problems first (by cause), rule holds last; within a group, oldest item first."""
    groups: dict[str, list[AttentionItem]] = {}
    for item in sorted(items, key=lambda i: (i.by_rule, cause_title(i.cause).casefold(), i.id)):
        groups.setdefault(item.cause, []).append(item)
    return [AttentionGroup(cause, cause_title(cause), tuple(group)) for cause, group in groups.items()]


class AttentionTreeModel(GroupModel):
    """Groups at the top level, documents below. Internal ids: 0 for a group, group row + 1 for an item."""

    columns = COLUMNS
    KeysRole = Qt.ItemDataRole.UserRole + 1  # list[str]: the retry keys under this row
    WhereRole = Qt.ItemDataRole.UserRole + 2  # str | None: where in the mapping it is fixed
    ByRuleRole = Qt.ItemDataRole.UserRole + 3  # bool
    ItemRole = Qt.ItemDataRole.UserRole + 4  # AttentionItem | AttentionGroup

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._groups: list[AttentionGroup] = []
        self._vat_group_ids: dict[str, int] = {}

    # --- content ----------------------------------------------------------------------------------------------
    def set_items(self, items: Sequence[AttentionItem]) -> None:
        self.beginResetModel()
        self._groups = group_items(items)
        self.endResetModel()

    def set_vat_group_ids(self, ids: Mapping[str, int]) -> None:
        """VAT group title → id, so a jump to the mapping can land on the group's own row."""
        self._vat_group_ids = dict(ids)

    def groups(self) -> list[AttentionGroup]:
        return self._groups

    def children(self, group: AttentionGroup) -> Sequence[AttentionItem]:
        return group.items

    def item_count(self, *, by_rule: bool) -> int:
        return sum(len(g.items) for g in self._groups if g.by_rule == by_rule)

    def group_row(self, cause: str) -> int:
        return next((i for i, g in enumerate(self._groups) if g.cause == cause), -1)

    def where(self, index: QModelIndex | QPersistentModelIndex) -> str | None:
        node = self.node(index)
        if isinstance(node, AttentionItem):
            return where_for(node, self._vat_group_ids)
        if isinstance(node, AttentionGroup):
            places = {where_for(i, self._vat_group_ids) for i in node.items}
            if len(places) == 1:
                return places.pop()
            return MAPPING_CAUSES.get(node.cause)
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        node = self.node(index)
        if node is None:
            return None
        col = index.column()
        if role == self.ItemRole:
            return node
        if role == self.KeysRole:
            return node.keys if isinstance(node, AttentionGroup) else [node.key]
        if role == self.WhereRole:
            return self.where(index)
        if role == self.ByRuleRole:
            return node.by_rule
        if isinstance(node, AttentionGroup):
            return self._group_data(node, col, role)
        if role == Qt.ItemDataRole.DisplayRole and col == 2 and index.internalId() > 0:
            group = self._groups[index.internalId() - 1]
            if len({i.fix for i in group.items}) == 1:
                return ""  # the group row says the one fix once
        return self._item_data(node, col, role)

    def _group_data(self, group: AttentionGroup, col: int, role: int) -> Any:
        n = len(group.items)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole) and col == 0:
            return f"{group.title} ({n})"
        if role == Qt.ItemDataRole.DisplayRole and col == 2 and len({i.fix for i in group.items}) == 1:
            return group.items[0].fix
        if role == Qt.ItemDataRole.DisplayRole and col == 1:
            return "Held on purpose; nothing to do." if group.by_rule else \
                f"{n} document{'s' if n != 1 else ''} wait{'s' if n == 1 else ''} for a fix"
        if role == Qt.ItemDataRole.FontRole and col == 0:
            font = QFont()
            font.setBold(not group.by_rule)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and group.by_rule:
            return QBrush(QColor("#666666"))
        if role == Qt.ItemDataRole.ToolTipRole:
            return group.title
        return None

    def _item_data(self, item: AttentionItem, col: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return (item.document, item.reason, item.fix)[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{item.document}\nWhy: {item.reason}\nFix: {item.fix}\nLast tried: {item.updated_at[:16]} UTC"
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{item.document}: {item.reason}. {item.fix}" if col == 0 else None
        if role == Qt.ItemDataRole.ForegroundRole and item.by_rule:
            return QBrush(QColor("#666666"))
        return None
