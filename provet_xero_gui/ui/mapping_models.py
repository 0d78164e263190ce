"""The Qt models behind the mapping editor.

Left of each section: a table of Provet items (VAT groups, payment methods, sales account numbers,
departments) with the Xero target each is mapped to and its status. Right: the Xero targets that suit that
section (a department's target is a tracking option, coded as `tracking_code`). A target
is dragged as `TARGET_MIME` (JSON `{"section": ..., "code": ...}`), so a tax rate can never land on a
payment method, and the table model's `dropMimeData` turns a drop on a row into a mapping. The models never
hold the mapping as their own truth: they emit `edited(Mapping)` and the editor hands the new mapping back
to every section.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QPainter, QPixmap

from provet_xero_gui.app.types import (
    NOT_MONEY_TYPES,
    PAYMENT_TYPE_NAMES,
    Department,
    Mapping,
    MappingProblem,
    MappingUsage,
    PaymentMethod,
    TrackingChoice,
    VatGroup,
    XeroReference,
)

TARGET_MIME = "application/x-provet-xero-target"
SECTIONS = ("vat_groups", "payment_methods", "sales_accounts", "departments")
SALES_ACCOUNT_TYPES = ("REVENUE", "SALES", "OTHERINCOME")

CodeRole = Qt.ItemDataRole.UserRole + 1  # the Xero code (TaxType / account Code) of a target or of a row's mapping
KeyRole = Qt.ItemDataRole.UserRole + 2  # a row's key inside its section: "3", "type:0", "method:15", "201"
StateRole = Qt.ItemDataRole.UserRole + 3  # one word per row, see MappingSectionModel.state()

UNMAPPED_IN_USE_BG = QColor("#ffe7a3")  # amber: invoices need it and it goes nowhere
PROBLEM_BG = QColor("#fbd9d3")  # light red: `mapping check` found something here
ARCHIVED_FG = QColor("#8c8c8c")
FALLBACK_FG = QColor("#5b6574")

ModelIndex = QModelIndex | QPersistentModelIndex


def _pct(value: Decimal) -> str:
    return f"{format(value.normalize(), 'f')}%"


def dot_icon(colour: str) -> QIcon:
    """A filled circle: a status mark that looks the same under every style and platform."""
    pix = QPixmap(14, 14)
    pix.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pix)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(colour))
    painter.drawEllipse(1, 1, 12, 12)
    painter.end()
    return QIcon(pix)


# --- targets (right-hand lists) ----------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A Xero tax rate or account a Provet item can be mapped to."""

    code: str
    label: str
    detail: str = ""


def tax_rate_targets(xero: XeroReference) -> list[Target]:
    """Only what Xero accepts on a sales invoice now: active tax rates allowed on revenue."""
    return [
        Target(t.tax_type, f"{t.name}", f"{t.tax_type} · {_pct(t.rate)}")
        for t in xero.tax_rates
        if t.active and t.can_apply_to_revenue
    ]


_ACCOUNT_TYPES = {
    "BANK": "bank", "CURRENT": "current asset", "CURRLIAB": "current liability", "REVENUE": "revenue",
    "SALES": "sales", "OTHERINCOME": "other income", "EXPENSE": "expense", "INVENTORY": "inventory",
    "LIABILITY": "liability", "EQUITY": "equity", "FIXED": "fixed asset", "DIRECTCOSTS": "direct costs",
    "OVERHEADS": "overheads", "PREPAYMENT": "prepayment", "TERMLIAB": "non-current liability",
    "NONCURRENT": "non-current asset", "DEPRECIATN": "depreciation",
}  # fmt: skip


def account_type_words(kind: str) -> str:
    """Xero's account type as the chart of accounts shows it ("CURRLIAB" → "current liability")."""
    return _ACCOUNT_TYPES.get(kind, kind.lower())


def payment_account_targets(xero: XeroReference) -> list[Target]:
    """Active accounts Xero lets a payment go to (bank accounts, or payments enabled)."""
    accounts = sorted((a for a in xero.accounts if a.active and a.takes_payments), key=lambda a: a.code)
    return [Target(a.code, a.label, account_type_words(a.type)) for a in accounts]


def sales_account_targets(xero: XeroReference) -> list[Target]:
    accounts = sorted((a for a in xero.accounts if a.active and a.type in SALES_ACCOUNT_TYPES), key=lambda a: a.code)
    return [Target(a.code, a.label, f"tax {a.tax_type or 'none'}") for a in accounts]


_UNIT_SEPARATOR = "\x1f"  # never typed in a name: a tracking option's code is "category<US>option"


def tracking_code(choice: TrackingChoice) -> str:
    return f"{choice.category}{_UNIT_SEPARATOR}{choice.option}"


def tracking_choice(code: str) -> TrackingChoice:
    category, _, option = code.partition(_UNIT_SEPARATOR)
    return TrackingChoice(category, option)


def tracking_targets(xero: XeroReference) -> list[Target]:
    """The options a new line may carry now: active options of active tracking categories."""
    return [
        Target(tracking_code(TrackingChoice(c.name, o.name)), o.name, c.name)
        for c in xero.tracking_categories if c.active
        for o in c.options if o.active
    ]


def encode_target(section: str, code: str) -> QMimeData:
    mime = QMimeData()
    mime.setData(TARGET_MIME, json.dumps({"section": section, "code": code}).encode())
    mime.setText(code)
    return mime


def decode_target(mime: QMimeData | None) -> tuple[str, str] | None:
    """(section, code) of a dragged target, or None for anything else dropped on the table."""
    if mime is None or not mime.hasFormat(TARGET_MIME):
        return None
    try:
        data = json.loads(bytes(mime.data(TARGET_MIME).data()).decode())
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("code"), str) or data.get("section") not in SECTIONS:
        return None
    return data["section"], data["code"]


class TargetListModel(QAbstractListModel):
    """The Xero targets of one section, draggable onto that section's table (and the keyboard combo's list)."""

    def __init__(self, section: str, parent: Any = None) -> None:
        super().__init__(parent)
        self.section = section
        self._targets: list[Target] = []

    def set_targets(self, targets: Sequence[Target]) -> None:
        self.beginResetModel()
        self._targets = list(targets)
        self.endResetModel()

    def target(self, row: int) -> Target | None:
        return self._targets[row] if 0 <= row < len(self._targets) else None

    def row_of(self, code: str | None) -> int:
        return next((i for i, t in enumerate(self._targets) if t.code == code), -1)

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._targets)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        target = self.target(index.row()) if index.isValid() else None
        if target is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{target.label}  ·  {target.detail}" if target.detail else target.label
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{target.label} ({target.detail})\nDrag onto a row on the left to map it here." if target.detail \
                else target.label
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return target.label
        if role == CodeRole:
            return target.code
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled

    def mimeTypes(self) -> list[str]:
        return [TARGET_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData | None:
        target = next((self.target(i.row()) for i in indexes if i.isValid()), None)
        return encode_target(self.section, target.code) if target else None

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction


# --- Provet items (left-hand tables) -------------------------------------------------------------------


@dataclass(frozen=True)
class SourceRow:
    """One Provet item a mapping key stands for."""

    key: str  # "3" (VAT group id), "type:0" / "method:15", "201" (account number)
    name: str
    detail: str = ""
    archived: bool = False
    in_use: bool = False


@dataclass(frozen=True)
class Shown:
    """What a row goes to: its own mapping, or what it falls back to (`via` says why)."""

    code: str | None
    explicit: bool
    via: str = ""  # after the target's name: "as Card", "same code"
    why: str = ""  # the status: "Follows its type, Card"


def _in(usage: MappingUsage | None, attr: str, value: Any) -> bool:
    return usage is not None and value in getattr(usage, attr)


def vat_rows(groups: Iterable[VatGroup], usage: MappingUsage | None, mapping: Mapping) -> list[SourceRow]:
    rows = [
        SourceRow(str(g.id), g.title, f"{_pct(g.percentage)} · account {g.account_number or '(none)'}", g.archived,
                  _in(usage, "vat_groups", g.id))
        for g in sorted(groups, key=lambda g: g.id)
    ]
    known = {r.key for r in rows}
    extra = set(mapping.vat_groups) | {str(i) for i in (usage.vat_groups if usage else ())}
    for key in sorted(extra - known, key=int):
        rows.append(SourceRow(key, f"VAT group {key}", "not in Provet", False, _in(usage, "vat_groups", int(key))))
    return rows


def is_builtin_method(method: PaymentMethod) -> bool:
    """Provet lists one method per built-in type under the type's own name; the type row stands for it."""
    return method.name.strip().lower() == PAYMENT_TYPE_NAMES.get(method.payment_type, "").lower()


def payment_rows(methods: Iterable[PaymentMethod], usage: MappingUsage | None, mapping: Mapping) -> list[SourceRow]:
    """Built-in payment types first (not the bookkeeping ones unless mapped or used), then custom methods."""
    wanted = set(mapping.payment_methods) | set(usage.payment_keys if usage else ())
    rows = []
    for ptype, name in sorted(PAYMENT_TYPE_NAMES.items()):
        key = f"type:{ptype}"
        if ptype in NOT_MONEY_TYPES and key not in wanted:
            continue
        rows.append(SourceRow(key, name, "built-in type", False, _in(usage, "payment_keys", key)))
    for m in sorted(methods, key=lambda m: m.id):
        if is_builtin_method(m):
            continue
        key = f"method:{m.id}"
        type_name = PAYMENT_TYPE_NAMES.get(m.payment_type, f"type {m.payment_type}")
        rows.append(SourceRow(key, m.name, f"custom · {type_name}", m.archived, _in(usage, "payment_keys", key)))
    known = {r.key for r in rows}
    for key in sorted(wanted - known):
        kind, _, value = key.partition(":")
        name = PAYMENT_TYPE_NAMES.get(int(value), f"type {value}") if kind == "type" else f"Payment method {value}"
        rows.append(SourceRow(key, name, "not in Provet" if kind == "method" else "built-in type", False,
                              _in(usage, "payment_keys", key)))
    return rows


def _number_order(number: str) -> tuple[int, str]:
    return (int(number), number) if number.isdigit() else (1 << 62, number)


def sales_rows(
    account_numbers: Iterable[str], groups: Iterable[VatGroup], usage: MappingUsage | None, mapping: Mapping
) -> list[SourceRow]:
    """Every account number Provet rows can carry: given, of the VAT groups, in use, or already mapped."""
    by_number: dict[str, list[str]] = {}
    for g in groups:
        if g.account_number and not g.archived:
            by_number.setdefault(g.account_number, []).append(g.title)
    numbers = set(account_numbers) | set(by_number) | set(mapping.sales_accounts)
    numbers |= set(usage.account_numbers if usage else ())
    rows = []
    for number in sorted((n for n in numbers if n), key=_number_order):
        titles = by_number.get(number)
        detail = f"VAT groups: {', '.join(titles)}" if titles else ""
        rows.append(SourceRow(number, number, detail, False, _in(usage, "account_numbers", number)))
    return rows


def department_rows(departments: Iterable[Department], mapping: Mapping) -> list[SourceRow]:
    """Provet's departments, and any department a (imported) mapping names that Provet no longer has."""
    rows = [SourceRow(str(d.id), d.name, f"id {d.id}") for d in sorted(departments, key=lambda d: d.id)]
    known = {r.key for r in rows}
    for key in sorted(set(mapping.departments) - known, key=lambda k: int(k) if k.isdigit() else 1 << 62):
        rows.append(SourceRow(key, f"Department {key}", "not in Provet"))
    return rows


class MappingSectionModel(QAbstractTableModel):
    """The Provet items of one section, each with its Xero target and status; drops of targets map them."""

    edited = Signal(object)  # the new Mapping, after a drop, a keyboard choice or a removal
    COLUMNS = ("Provet", "Details", "Xero", "Status")
    NAME, DETAIL, TARGET, STATUS = range(4)

    def __init__(self, section: str, headers: Sequence[str] | None = None, parent: Any = None) -> None:
        super().__init__(parent)
        assert section in SECTIONS
        self.section = section
        self.headers = tuple(headers or self.COLUMNS)
        self._rows: list[SourceRow] = []
        self._mapping = Mapping()
        self._xero: XeroReference | None = None
        self._problems: dict[str, list[MappingProblem]] = {}
        self._icons = {"problem": dot_icon("#c0392b"), "unmapped-in-use": dot_icon("#d68910"),
                       "mapped": dot_icon("#2e8b57"), "fallback": dot_icon("#7f8c8d"),
                       "unmapped": dot_icon("#bdc3c7"), "archived": dot_icon("#d5d8dc")}

    # --- feeding -------------------------------------------------------------------------------------
    def set_rows(self, rows: Sequence[SourceRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def set_xero(self, xero: XeroReference | None) -> None:
        self._xero = xero
        self._changed_all()

    def set_mapping(self, mapping: Mapping) -> None:
        self._mapping = mapping
        self._changed_all()

    def set_problems(self, problems: dict[str, list[MappingProblem]]) -> None:
        self._problems = {k: list(v) for k, v in problems.items()}
        self._changed_all()

    def _changed_all(self) -> None:
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(self.headers) - 1))

    # --- reading -------------------------------------------------------------------------------------
    def row(self, row: int) -> SourceRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, key: str) -> int:
        return next((i for i, r in enumerate(self._rows) if r.key == key), -1)

    def row_keys(self) -> list[str]:
        return [r.key for r in self._rows]

    def problems_of(self, key: str) -> list[MappingProblem]:
        return self._problems.get(key, [])

    def codes(self) -> dict[str, str]:
        """The section's own mappings as key → target code (what the target lists carry)."""
        return dict(getattr(self._mapping, self.section))

    def with_codes(self, codes: dict[str, str]) -> Mapping:
        """The mapping with this section's own mappings replaced."""
        return replace(self._mapping, **{self.section: codes})

    def explicit(self, key: str) -> str | None:
        return self.codes().get(key)

    def shown(self, key: str) -> Shown:
        """A row's own mapping; sections with a fallback rule override this."""
        code = self.explicit(key)
        return Shown(code, code is not None)

    def label(self, code: str) -> str:
        """A target as people know it; a code Xero does not have is shown as the bare code."""
        if self._xero is None:
            return code
        if self.section == "vat_groups":
            rate = self._xero.tax_rate(code)
            return f"{rate.name} ({code})" if rate else f"{code} (not in Xero)"
        account = self._xero.account(code)
        return account.label if account else f"{code} (not in Xero)"

    def state(self, row: int) -> str:
        """problem | unmapped-in-use | mapped | fallback | unmapped | archived."""
        item = self._rows[row]
        shown = self.shown(item.key)
        if shown.code is None and item.in_use:
            return "unmapped-in-use"
        if self._problems.get(item.key):
            return "problem"
        if shown.code is None:
            return "archived" if item.archived else "unmapped"
        return "mapped" if shown.explicit else "fallback"

    def status_text(self, row: int) -> str:
        item = self._rows[row]
        state = self.state(row)
        problems = self._problems.get(item.key)
        if problems:
            return problems[0].message + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else "")
        shown = self.shown(item.key)
        return {
            "unmapped-in-use": "Used on invoices, not mapped",
            "mapped": "Mapped",
            "fallback": shown.why or "Mapped",
            "unmapped": "Not mapped",
            "archived": "Archived in Provet",
        }[state]

    def explanation(self, row: int) -> str:
        """The details line and tooltip: every problem with its fix, or what the status means."""
        item = self._rows[row]
        problems = self._problems.get(item.key)
        if problems:
            return "\n".join(f"{p.message} Fix: {p.fix}" for p in problems)
        state = self.state(row)
        shown = self.shown(item.key)
        if state == "unmapped-in-use":
            return f"'{item.name}' is used on recent invoices but goes nowhere in Xero: those documents will wait " \
                   "for attention. Drag a Xero target onto it, or choose one in “Map to”."
        if state == "fallback" and shown.code:
            return f"Not mapped on its own: it goes to {self.label(shown.code)} ({shown.via})."
        if state == "archived":
            return f"'{item.name}' is archived in Provet; map it only if old invoices still use it."
        if state == "unmapped":
            return "Not mapped. Not seen on recent invoices, so nothing waits for it."
        return f"Goes to {self.label(shown.code)} in Xero." if shown.code else ""

    def target_text(self, key: str) -> str:
        shown = self.shown(key)
        if shown.code is None:
            return "—"
        text = self.label(shown.code)
        return text if shown.explicit else f"{text}  ({shown.via})"

    def detail_text(self, item: SourceRow) -> str:
        return item.detail

    # --- Qt model ------------------------------------------------------------------------------------
    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.headers)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(self.headers):
            return self.headers[section]
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        r, col = index.row(), index.column()
        item = self._rows[r]
        if role == Qt.ItemDataRole.DisplayRole:
            if col == self.NAME:
                return f"{item.name} (archived)" if item.archived else item.name
            if col == self.DETAIL:
                return self.detail_text(item)
            if col == self.TARGET:
                return self.target_text(item.key)
            return self.status_text(r)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.explanation(r)
        if role == Qt.ItemDataRole.DecorationRole and col == self.STATUS:
            return self._icons[self.state(r)]
        if role == Qt.ItemDataRole.BackgroundRole:
            state = self.state(r)
            if state == "unmapped-in-use":
                return QBrush(UNMAPPED_IN_USE_BG)
            if state == "problem":
                return QBrush(PROBLEM_BG)
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            if item.archived:
                return QBrush(ARCHIVED_FG)
            if col == self.TARGET and not self.shown(item.key).explicit:
                return QBrush(FALLBACK_FG)
            return None
        if role == Qt.ItemDataRole.FontRole and col == self.TARGET and not self.shown(item.key).explicit:
            font = QFont()
            font.setItalic(True)
            return font
        if role == Qt.ItemDataRole.AccessibleDescriptionRole:
            return f"{self.status_text(r)}. {self.explanation(r)}"
        if role == KeyRole:
            return item.key
        if role == CodeRole:
            return self.shown(item.key).code
        if role == StateRole:
            return self.state(r)
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDropEnabled

    # --- drag and drop -------------------------------------------------------------------------------
    def mimeTypes(self) -> list[str]:
        return [TARGET_MIME]

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction

    def canDropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: ModelIndex
    ) -> bool:
        """Only onto a row (a drop between rows or on the empty area does nothing), only this section's targets."""
        decoded = decode_target(data)
        return decoded is not None and decoded[0] == self.section and parent.isValid() \
            and 0 <= parent.row() < len(self._rows)

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: ModelIndex) -> bool:
        if action == Qt.DropAction.IgnoreAction or not self.canDropMimeData(data, action, row, column, parent):
            return False
        decoded = decode_target(data)
        assert decoded is not None
        return self.assign(parent.row(), decoded[1])

    # --- editing -------------------------------------------------------------------------------------
    def assign(self, row: int, code: str | None) -> bool:
        """Map the row to `code` (None removes its own mapping); emits `edited` with the new Mapping."""
        item = self.row(row)
        if item is None:
            return False
        current = self.codes()
        if code is None:
            if item.key not in current:
                return False
            del current[item.key]
        else:
            if current.get(item.key) == code:
                return True
            current[item.key] = code
        self._mapping = self.with_codes(current)
        self._changed_all()
        self.edited.emit(self._mapping)
        return True


class VatSectionModel(MappingSectionModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__("vat_groups", ("VAT group", "Rate · account", "Xero tax rate", "Status"), parent)


class PaymentSectionModel(MappingSectionModel):
    """A custom method without its own mapping goes where its built-in type goes (Mapping.account_for)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__("payment_methods", ("Payment method", "Kind", "Xero account", "Status"), parent)
        self._types: dict[str, int] = {}

    def set_methods(self, methods: Iterable[PaymentMethod]) -> None:
        self._types = {f"method:{m.id}": m.payment_type for m in methods}
        self._changed_all()

    def shown(self, key: str) -> Shown:
        code = self.explicit(key)
        if code is not None:
            return Shown(code, True)
        ptype = self._types.get(key)
        if ptype is not None:
            via = self._mapping.payment_methods.get(f"type:{ptype}")
            if via:
                type_name = PAYMENT_TYPE_NAMES.get(ptype, f"type {ptype}")
                return Shown(via, False, f"as {type_name}", f"Follows its type, {type_name}")
        return Shown(None, False)

    def detail_text(self, item: SourceRow) -> str:
        if self._mapping.xero_payments_method and item.key == f"method:{self._mapping.xero_payments_method}":
            return f"{item.detail} · records payments made in Xero"
        return item.detail


class SalesSectionModel(MappingSectionModel):
    """An unmapped account number goes to Xero's account with the same code, else the default sales account."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__("sales_accounts", ("Provet account number", "Used by", "Xero account", "Status"), parent)

    def shown(self, key: str) -> Shown:
        code = self.explicit(key)
        if code is not None:
            return Shown(code, True)
        codes = [a.code for a in self._xero.accounts] if self._xero else []
        if key in codes:
            return Shown(key, False, "same code", "Same code in Xero")
        default = self._mapping.default_sales_account
        if default:
            return Shown(default, False, "default", "Goes to the default sales account")
        return Shown(None, False)


class DepartmentSectionModel(MappingSectionModel):
    """Provet departments → a Xero tracking option. Optional: an unmapped department's invoices simply go
    without tracking, so it is never flagged; a mapped one whose option Xero cannot use is (from the check)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__("departments", ("Department", "Provet", "Xero tracking option", "Status"), parent)

    def codes(self) -> dict[str, str]:
        return {k: tracking_code(v) for k, v in self._mapping.departments.items()}

    def with_codes(self, codes: dict[str, str]) -> Mapping:
        return replace(self._mapping, departments={k: tracking_choice(c) for k, c in codes.items()})

    def label(self, code: str) -> str:
        choice = tracking_choice(code)
        text = f"{choice.category}: {choice.option}"
        category = self._xero.tracking_category(choice.category) if self._xero else None
        option = category.option(choice.option) if category else None
        if self._xero is None:
            return text
        if category is None or option is None:
            return f"{text} (not in Xero)"
        text = f"{category.name}: {option.name}"  # as Xero spells them
        return text if category.active and option.active else f"{text} (archived in Xero)"

    def status_text(self, row: int) -> str:
        if self.state(row) == "unmapped":
            return "No tracking (optional)"
        return super().status_text(row)

    def explanation(self, row: int) -> str:
        state = self.state(row)
        item = self._rows[row]
        if state == "unmapped":
            return "Not mapped: its invoices go to Xero without tracking. Drag a tracking option onto it to tag " \
                   "every line of its invoices."
        if state == "mapped":
            choice = tracking_choice(self.explicit(item.key) or "")
            return f"Every line of its invoices (the rounding line too) is tagged {choice.category}: " \
                   f"{choice.option} in Xero."
        return super().explanation(row)
