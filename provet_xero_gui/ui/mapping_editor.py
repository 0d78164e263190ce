"""The mapping editor: Provet VAT groups, payment methods, sales account numbers and departments on the left,
the Xero tax rates, accounts and tracking options they can go to on the right; drag a target onto a row (or
pick it with the keyboard) to map it. Plus the mapping's other settings and the JSON file import/export.

A pure view: the window's worker fetches Provet's and Xero's data and runs `mapping check`; the editor is
handed the results (`set_sources`, `set_mapping`, `show_problems`) and reports every change
(`mapping_changed`). It does no network I/O, so it never freezes the window and is tested without servers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path

from PySide6.QtCore import QDate, QEvent, QItemSelectionModel, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from provet_xero_gui.app.mapping import (
    MappingError,
    MappingFile,
    parse_mapping_text,
    read_mapping_file,
    suggest_mapping,
)
from provet_xero_gui.app.types import (
    PAYMENT_TYPE_NAMES,
    Department,
    Mapping,
    MappingProblem,
    MappingUsage,
    PaymentMethod,
    VatGroup,
    XeroReference,
)
from provet_xero_gui.ui.mapping_models import (
    SECTIONS,
    CodeRole,
    DepartmentSectionModel,
    MappingSectionModel,
    PaymentSectionModel,
    SalesSectionModel,
    Target,
    TargetListModel,
    VatSectionModel,
    account_type_words,
    department_rows,
    dot_icon,
    payment_account_targets,
    payment_rows,
    sales_account_targets,
    sales_rows,
    tax_rate_targets,
    tracking_targets,
    vat_rows,
)

SETTING_KEYS = ("default_sales_account", "rounding_account", "xero_payments_method")
_ERROR_STYLE = "color: #a93226;"
_OK_STYLE = "color: #1e6b45;"
_BANNER_STYLE = "QLabel { background: #fdf2e9; border: 1px solid #e59866; border-radius: 4px; padding: 6px; }"
_WARNING_STYLE = "QLabel { background: #fef5d4; border: 1px solid #d4ac0d; border-radius: 4px; padding: 6px; }"


def _is_key(event: QEvent, *keys: Qt.Key) -> bool:
    return event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent) and event.key() in keys \
        and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier


class SectionPage(QWidget):
    """One section: the Provet table (drop target) beside the Xero list (drag source), and keyboard controls."""

    def __init__(
        self,
        model: MappingSectionModel,
        targets: TargetListModel,
        *,
        item_words: str,
        target_words: str,
        list_title: str,
        top: QWidget | None = None,
        note: str = "Highlighted rows are used on recent invoices but not mapped.",
        empty_text: str = "Xero has nothing suitable here yet (or Xero's data has not been read): add it in Xero, "
                          "then reload.",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.targets = targets
        self._empty_text = empty_text

        hint = QLabel(
            f"Drag {_a(target_words)} from the right onto {_a(item_words)} to map it, or select a row and choose in "
            f"“Map to”. Delete removes a row's mapping. {note}"
        )
        hint.setWordWrap(True)

        self.table = QTableView()
        self.table.setModel(model)
        self.table.setAccessibleName(f"Provet {item_words}s and their Xero {target_words}s")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.table.setAcceptDrops(True)
        self.table.viewport().setAcceptDrops(True)
        self.table.setDropIndicatorShown(True)
        self.table.setDragDropOverwriteMode(True)  # a drop lands on a row, never between rows
        self.table.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.table.setTabKeyNavigation(False)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 10)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        self.table.installEventFilter(self)

        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setAccessibleName("Details of the selected row")
        self.details.setMinimumHeight(self.details.fontMetrics().height() * 2 + 8)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

        self.combo = QComboBox()
        self.combo.setModel(targets)
        self.combo.setPlaceholderText(f"Choose a Xero {target_words}…")
        self.combo.setAccessibleName(f"Map the selected row to a Xero {target_words}")
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(28)
        self.combo.installEventFilter(self)
        map_label = QLabel("&Map to:")
        map_label.setBuddy(self.combo)
        self.map_button = QPushButton("Map")
        self.map_button.setAccessibleName("Map the selected row to the chosen target")
        self.map_button.clicked.connect(self.map_from_combo)
        self.remove_button = QPushButton("&Remove mapping")
        self.remove_button.setAccessibleName("Remove the selected row's mapping")
        self.remove_button.clicked.connect(self.remove_selected)
        keys = QHBoxLayout()
        keys.addWidget(map_label)
        keys.addWidget(self.combo, 1)
        keys.addWidget(self.map_button)
        keys.addSpacing(12)
        keys.addWidget(self.remove_button)

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        if top is not None:
            lv.addWidget(top)
        lv.addWidget(self.table, 1)
        lv.addWidget(self.details)
        lv.addLayout(keys)

        self.list = QListView()
        self.list.setModel(targets)
        self.list.setAccessibleName(f"Xero {target_words}s to drag onto a row")
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setDragEnabled(True)
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.list.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.setUniformItemSizes(True)
        self.list.setSpacing(1)
        self.list.activated.connect(self._list_activated)
        self.list.setToolTip("Drag onto a row on the left; or select a row there, then press Enter here.")
        list_label = QLabel(list_title)
        list_label.setWordWrap(True)
        list_label.setBuddy(self.list)
        self.empty_label = QLabel()
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet(_ERROR_STYLE)
        self.empty_label.hide()
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addWidget(list_label)
        rv.addWidget(self.empty_label)
        rv.addWidget(self.list, 1)
        right.setMinimumWidth(250)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([900, 320])

        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addWidget(splitter, 1)

        self.table.selectionModel().currentRowChanged.connect(lambda *_: self.refresh())
        self.table.activated.connect(lambda _index: self.combo.setFocus())
        model.modelReset.connect(self.fit_columns)
        model.dataChanged.connect(lambda *_: self.refresh())
        targets.modelReset.connect(self._targets_reset)
        self.refresh()

    # --- keyboard --------------------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Delete/Backspace on the table removes; Enter on the combo maps (a closed combo ignores Enter)."""
        if watched is self.table and _is_key(event, Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.remove_selected()
            return True
        if watched is self.combo and _is_key(event, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.map_from_combo()
            return True
        return super().eventFilter(watched, event)

    def selected_row(self) -> int:
        index = self.table.currentIndex()
        if index.isValid() and self.table.selectionModel().isRowSelected(index.row()):
            return index.row()
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else -1

    def select_key(self, key: str) -> bool:
        row = self.model.row_of(key)
        if row < 0:
            return False
        self.select_row(row)
        return True

    def select_row(self, row: int) -> None:
        index = self.model.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        self.table.setFocus()

    def map_from_combo(self) -> None:
        target = self.targets.target(self.combo.currentIndex())
        row = self.selected_row()
        if target is None or row < 0:
            self.details.setText("Select a row on the left first, then choose what it goes to." if row < 0 else
                                 "Choose a target in “Map to” first.")
            return
        self.model.assign(row, target.code)

    def _list_activated(self, index: object) -> None:
        target = self.targets.target(self.list.currentIndex().row())
        row = self.selected_row()
        if target is not None and row >= 0:
            self.model.assign(row, target.code)

    def remove_selected(self) -> None:
        row = self.selected_row()
        if row >= 0:
            self.model.assign(row, None)

    # --- showing -----------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """The details line, the combo and the Remove button follow the selected row."""
        row = self.selected_row()
        item = self.model.row(row)
        if item is None:
            self.details.setText("Select a row to see its details.")
            self.details.setStyleSheet("")
            self.remove_button.setEnabled(False)
            self.map_button.setEnabled(False)
            return
        state = self.model.state(row)
        text = self.model.explanation(row)
        self.details.setText(f"<b>{_html(item.name)}</b>: {_html(text)}".replace("\n", "<br>"))
        self.details.setStyleSheet(_ERROR_STYLE if state in ("problem", "unmapped-in-use") else "")
        self.remove_button.setEnabled(self.model.explicit(item.key) is not None)
        self.map_button.setEnabled(self.targets.rowCount() > 0)
        if not self.combo.hasFocus() and not self.combo.view().isVisible():
            self.combo.setCurrentIndex(self.targets.row_of(self.model.explicit(item.key)))

    def issue_count(self) -> int:
        return sum(self.model.state(r) in ("problem", "unmapped-in-use") for r in range(self.model.rowCount()))

    def _targets_reset(self) -> None:
        empty = self.targets.rowCount() == 0
        self.empty_label.setVisible(empty)
        self.empty_label.setText(self._empty_text if empty else "")
        self.refresh()

    def fit_columns(self) -> None:
        """Columns as wide as their text up to a cap, so a long name shows whole without starving the status."""
        caps = {MappingSectionModel.NAME: 300, MappingSectionModel.DETAIL: 280, MappingSectionModel.TARGET: 300}
        for column, cap in caps.items():
            self.table.resizeColumnToContents(column)
            self.table.setColumnWidth(column, min(max(self.table.columnWidth(column), 90), cap))
        self.refresh()


def _a(words: str) -> str:
    return f"an {words}" if words[:1].lower() in "aeiou" else f"a {words}"


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class MappingEditor(QWidget):
    """The three mapping sections, the other settings, and Import/Export/Check/Save."""

    mapping_changed = Signal(object)  # the new Mapping, on every change made here (not on set_mapping)
    save_requested = Signal(object)  # the Mapping to save
    check_requested = Signal()  # the window's worker runs `mapping check` and calls show_problems()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._mapping = Mapping()
        self._xero: XeroReference | None = None
        self._groups: list[VatGroup] = []
        self._methods: list[PaymentMethod] = []
        self._numbers: list[str] = []
        self._departments: list[Department] = []
        self._usage: MappingUsage | None = None
        self._problems: list[MappingProblem] = []
        self._loading = False

        self.models: dict[str, MappingSectionModel] = {
            "vat_groups": VatSectionModel(self),
            "payment_methods": PaymentSectionModel(self),
            "sales_accounts": SalesSectionModel(self),
            "departments": DepartmentSectionModel(self),
        }
        self.target_models: dict[str, TargetListModel] = {s: TargetListModel(s, self) for s in SECTIONS}
        for model in self.models.values():
            model.edited.connect(self._model_edited)

        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(_BANNER_STYLE)
        self.banner.setAccessibleName("Mapping problems not tied to one row")
        self.banner.hide()

        self._build_settings()
        default_row = QWidget()
        dl = QHBoxLayout(default_row)
        dl.setContentsMargins(0, 0, 0, 0)
        label = QLabel("&Default sales account (for account numbers Xero does not have):")
        label.setBuddy(self.default_sales)
        dl.addWidget(label)
        dl.addWidget(self.default_sales, 1)
        dl.addWidget(self.default_sales_problem, 2)

        self.pages: dict[str, SectionPage] = {
            "vat_groups": SectionPage(self.models["vat_groups"], self.target_models["vat_groups"],
                                      item_words="VAT group", target_words="tax rate",
                                      list_title="Xero tax rates for sales — drag one onto a VAT group:"),
            "payment_methods": SectionPage(self.models["payment_methods"], self.target_models["payment_methods"],
                                           item_words="payment method", target_words="account",
                                           list_title="Xero accounts that take payments — drag one onto a method:"),
            "sales_accounts": SectionPage(self.models["sales_accounts"], self.target_models["sales_accounts"],
                                          item_words="account number", target_words="sales account",
                                          list_title="Xero sales accounts — drag one onto an account number:",
                                          top=default_row),
            "departments": SectionPage(
                self.models["departments"], self.target_models["departments"], item_words="department",
                target_words="tracking option",
                list_title="Xero tracking options (their category after the dot) — drag one onto a department:",
                note="Optional: an unmapped department's invoices go to Xero without tracking.",
                empty_text="Xero has no active tracking category with options. Tracking is optional: add a "
                           "category (e.g. “Department”) in Xero's settings and reload to use it."),
        }
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Mapping sections")
        self._titles = {"vat_groups": "VAT groups", "payment_methods": "Payment methods",
                        "sales_accounts": "Sales accounts", "departments": "Departments → tracking"}
        for section, page in self.pages.items():
            self.tabs.addTab(page, self._titles[section])
        self.tabs.addTab(self.settings_page, "Other settings")
        self._warn_icon = dot_icon("#c0392b")

        self.import_button = QPushButton("&Import…")
        self.import_button.setAccessibleName("Import the mapping from a JSON file")
        self.import_button.clicked.connect(self._import_clicked)
        self.export_button = QPushButton("&Export…")
        self.export_button.setAccessibleName("Export the mapping to a JSON file")
        self.export_button.clicked.connect(self._export_clicked)
        self.suggest_button = QPushButton("S&uggest for unmapped")
        self.suggest_button.setAccessibleName("Suggest Xero targets for what is not mapped yet")
        self.suggest_button.setToolTip("Fills in what is not mapped from Xero's tax rates, accounts and tracking "
                                       "options; "
                                       "keeps everything already mapped.")
        self.suggest_button.clicked.connect(self.suggest)
        self.check_button = QPushButton("&Check with Xero")
        self.check_button.setAccessibleName("Check the mapping against Xero as it is now")
        self.check_button.clicked.connect(self.check_requested.emit)
        self.save_button = QPushButton("&Save mapping")
        self.save_button.setAccessibleName("Save the mapping")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(lambda: self.save_requested.emit(self._mapping))
        self.file_message = QLabel()
        self.file_message.setWordWrap(True)
        self.file_message.setAccessibleName("Result of the last import, export or suggestion")
        self.file_message.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

        buttons = QHBoxLayout()
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.suggest_button)
        buttons.addWidget(self.file_message, 1)
        buttons.addWidget(self.check_button)
        buttons.addWidget(self.save_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(buttons)
        self._load_settings()
        self._update_titles()

    # --- the other settings ------------------------------------------------------------------------------
    def _build_settings(self) -> None:
        self.account_targets = TargetListModel("settings", self)
        self.sales_targets = TargetListModel("settings", self)
        self.method_targets = TargetListModel("settings", self)

        self.default_sales = self._combo(self.sales_targets, "Default sales account")
        self.default_sales_problem = self._problem_label()
        self.rounding = self._combo(self.account_targets, "Rounding account")
        self.rounding_problem = self._problem_label()
        self.xero_method = self._combo(self.method_targets, "Provet payment method for payments made in Xero")
        self.xero_method_problem = self._problem_label()

        self.gathered = QRadioButton("Send the &gathered invoices, not the consolidated invoice (recommended: Xero's "
                                     "receivables equal Provet's)")
        self.both = QRadioButton("Send &both the consolidated invoice and the invoices it gathers (as Provet's own "
                                 "Xero integration does)")
        self.gathered.setAccessibleName("Consolidated invoices: send the gathered invoices")
        self.both.setAccessibleName("Consolidated invoices: send both")
        self.consolidated_group = QButtonGroup(self)
        self.consolidated_group.addButton(self.gathered)
        self.consolidated_group.addButton(self.both)
        self.both_warning = QLabel(
            "⚠ With “both”, every consolidated sale is in Xero twice — once on the consolidated invoice and once on "
            "the invoices it gathers — so Xero's sales, VAT and receivables reports count it double. Choose it only "
            "if your accountant expects Provet's own behaviour.")
        self.both_warning.setWordWrap(True)
        self.both_warning.setStyleSheet(_WARNING_STYLE)
        self.both_warning.setAccessibleName("Warning about sending both")
        self.both_warning.hide()

        self.use_start = QCheckBox("Only send invoices dated on or &after")
        self.use_start.setAccessibleName("Only send invoices dated on or after the start date")
        self.start_date = QDateEdit()
        self.start_date.setCalendarPopup(True)
        self.start_date.setDisplayFormat("yyyy-MM-dd")
        self.start_date.setDate(QDate.currentDate())
        self.start_date.setAccessibleName("Sync start date")
        self.start_date.setEnabled(False)
        start_row = QHBoxLayout()
        start_row.addWidget(self.use_start)
        start_row.addWidget(self.start_date)
        start_row.addStretch(1)

        self.status_combo = QComboBox()
        self.status_combo.addItem("AUTHORISED — approved, ready for payments", "AUTHORISED")
        self.status_combo.addItem("DRAFT — someone approves them in Xero", "DRAFT")
        self.status_combo.setAccessibleName("Status of the invoices made in Xero")

        page = QWidget()
        form = QFormLayout(page)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        form.addRow(self._buddy("&Rounding account:", self.rounding), self._with_problem(
            self.rounding, self.rounding_problem,
            "Where the cents go when Xero's invoice total differs from Provet's (VAT rounded per row)."))
        form.addRow(self._buddy("“&Xero payments” method:", self.xero_method), self._with_problem(
            self.xero_method, self.xero_method_problem,
            "The Provet payment method for payments made in Xero (bank reconciliation, online payments)."))
        consolidated = QWidget()
        cv = QVBoxLayout(consolidated)
        cv.setContentsMargins(0, 0, 0, 0)
        cv.addWidget(self.gathered)
        cv.addWidget(self.both)
        cv.addWidget(self.both_warning)
        form.addRow(QLabel("Consolidated invoices:"), consolidated)
        form.addRow(QLabel("Start date:"), self._with_note(start_row, "Nothing dated earlier is sent to Xero — "
                                                           "useful when older invoices are already in Xero."))
        form.addRow(self._buddy("Xero invoice s&tatus:", self.status_combo), self._with_note(
            self.status_combo, "Draft invoices wait in Xero until someone approves them; Xero takes no payments on "
            "a draft, so their payments wait too."))
        self.settings_page = page

        for combo in (self.default_sales, self.rounding, self.xero_method, self.status_combo):
            combo.currentIndexChanged.connect(self._settings_edited)
        self.consolidated_group.buttonToggled.connect(lambda *_: self._settings_edited())
        self.use_start.toggled.connect(self._settings_edited)
        self.start_date.dateChanged.connect(self._settings_edited)

    def _combo(self, model: TargetListModel, name: str) -> QComboBox:
        combo = QComboBox()
        combo.setModel(model)
        combo.setAccessibleName(name)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(30)
        return combo

    @staticmethod
    def _problem_label() -> QLabel:
        label = QLabel()
        label.setWordWrap(True)
        label.setStyleSheet(_ERROR_STYLE)
        label.hide()
        return label

    @staticmethod
    def _buddy(text: str, widget: QWidget) -> QLabel:
        label = QLabel(text)
        label.setBuddy(widget)
        return label

    @classmethod
    def _with_problem(cls, field: QWidget, problem: QLabel, note: str) -> QWidget:
        box = cls._with_note(field, note)
        layout = box.layout()
        assert layout is not None
        layout.addWidget(problem)
        return box

    @staticmethod
    def _with_note(field: QWidget | QHBoxLayout, note: str) -> QWidget:
        """A field with a grey line under it saying what it is for."""
        box = QWidget()
        v = QVBoxLayout(box)
        v.setContentsMargins(0, 0, 0, 6)
        v.setSpacing(2)
        row = QHBoxLayout()
        if isinstance(field, QHBoxLayout):
            row.addLayout(field)
        else:
            row.addWidget(field)
        row.addStretch(1)
        v.addLayout(row)
        hint = QLabel(note)
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #5b6574;")
        v.addWidget(hint)
        return box

    @contextmanager
    def _quiet(self) -> Iterator[None]:
        """Widgets set from the mapping (or lists reloaded) are not user edits."""
        before, self._loading = self._loading, True
        try:
            yield
        finally:
            self._loading = before

    def _load_settings(self) -> None:
        """The settings widgets show the mapping (adding an entry for a code Xero's lists lack)."""
        with self._quiet():
            m = self._mapping
            self._select_code(self.default_sales, m.default_sales_account)
            self._select_code(self.rounding, m.rounding_account)
            self._select_code(self.xero_method, m.xero_payments_method)
            (self.both if m.consolidated == "both" else self.gathered).setChecked(True)
            self.both_warning.setVisible(m.consolidated == "both")
            self.use_start.setChecked(m.start_date is not None)
            self.start_date.setEnabled(m.start_date is not None)
            if m.start_date is not None:
                self.start_date.setDate(QDate(m.start_date.year, m.start_date.month, m.start_date.day))
            self.status_combo.setCurrentIndex(max(0, self.status_combo.findData(m.invoice_status)))

    @staticmethod
    def _select_code(combo: QComboBox, code: str | None) -> None:
        model = combo.model()
        assert isinstance(model, TargetListModel)
        row = model.row_of(code or "")
        if row < 0 and code:
            targets = [model.target(i) for i in range(model.rowCount())]
            model.set_targets([*(t for t in targets if t), Target(code, f"{code} (not in the list)")])
            row = model.rowCount() - 1
        combo.setCurrentIndex(row)

    def _settings_edited(self) -> None:
        if self._loading:
            return
        code = self._combo_code
        start: date | None = None
        if self.use_start.isChecked():
            d = self.start_date.date()
            start = date(d.year(), d.month(), d.day())
        self.start_date.setEnabled(self.use_start.isChecked())
        self.both_warning.setVisible(self.both.isChecked())
        new = replace(
            self._mapping,
            default_sales_account=code(self.default_sales),
            rounding_account=code(self.rounding),
            xero_payments_method=code(self.xero_method),
            consolidated="both" if self.both.isChecked() else "gathered",
            start_date=start,
            invoice_status=self.status_combo.currentData() or "AUTHORISED",
        )
        if new != self._mapping:
            self._apply(new, emit=True)

    @staticmethod
    def _combo_code(combo: QComboBox) -> str | None:
        return combo.currentData(CodeRole) or None

    # --- the public API ----------------------------------------------------------------------------------
    def set_sources(
        self,
        vat_groups: Sequence[VatGroup],
        payment_methods: Sequence[PaymentMethod],
        account_numbers: Sequence[str],
        xero: XeroReference,
        in_use: MappingUsage | None,
        departments: Sequence[Department] = (),
    ) -> None:
        """What Provet and Xero have now (read by the window's worker) and what recent invoices use."""
        with self._quiet():
            self._departments = list(departments)
            self._set_sources(vat_groups, payment_methods, account_numbers, xero, in_use)
        self._load_settings()
        self._update_titles()

    def _set_sources(
        self,
        vat_groups: Sequence[VatGroup],
        payment_methods: Sequence[PaymentMethod],
        account_numbers: Sequence[str],
        xero: XeroReference,
        in_use: MappingUsage | None,
    ) -> None:
        self._groups, self._methods, self._numbers = list(vat_groups), list(payment_methods), list(account_numbers)
        self._xero, self._usage = xero, in_use
        self.target_models["vat_groups"].set_targets(tax_rate_targets(xero))
        self.target_models["payment_methods"].set_targets(payment_account_targets(xero))
        self.target_models["sales_accounts"].set_targets(sales_account_targets(xero))
        self.target_models["departments"].set_targets(tracking_targets(xero))
        none = Target("", "(none)")
        self.sales_targets.set_targets([none, *sales_account_targets(xero)])
        accounts = sorted((a for a in xero.accounts if a.active), key=lambda a: a.code)
        self.account_targets.set_targets(
            [none, *(Target(a.code, a.label, account_type_words(a.type)) for a in accounts)])
        # the clinic's "Xero payments" method first: it is the one to choose
        methods = sorted((m for m in payment_methods if not m.archived),
                         key=lambda m: ("xero" not in m.name.lower(), m.id))
        self.method_targets.set_targets([none, *(
            Target(str(m.id), m.name, f"{PAYMENT_TYPE_NAMES.get(m.payment_type, m.payment_type)} · id {m.id}")
            for m in methods)])
        payments = self.models["payment_methods"]
        assert isinstance(payments, PaymentSectionModel)
        payments.set_methods(payment_methods)
        for model in self.models.values():
            model.set_xero(xero)
        self._rebuild_rows(force=True)
        self._place_problems()
        self._fit_columns()

    def set_mapping(self, mapping: Mapping) -> None:
        """Show a mapping (the saved one, or a suggestion); not reported as a change."""
        self._apply(mapping, emit=False)
        self._fit_columns()

    def _fit_columns(self) -> None:
        """On loads only: a column the user has widened stays as it is while they edit."""
        for page in self.pages.values():
            page.fit_columns()

    def mapping(self) -> Mapping:
        return self._mapping

    def show_problems(self, problems: Sequence[MappingProblem]) -> None:
        """Each problem beside the row or setting it concerns; anything else in the banner."""
        self._problems = list(problems)
        self._place_problems()

    def focus_where(self, where: str) -> None:
        """Select and scroll to what a problem or attention item concerns ("vat_groups:3", "rounding_account")."""
        section, _, key = where.partition(":")
        if section in self.pages:
            page = self.pages[section]
            self.tabs.setCurrentWidget(page)
            page.select_key(key)
            return
        field = {"default_sales_account": self.default_sales, "rounding_account": self.rounding,
                 "xero_payments_method": self.xero_method, "consolidated": self.gathered,
                 "start_date": self.use_start, "invoice_status": self.status_combo}.get(where)
        if field is not None:
            self.tabs.setCurrentWidget(self.pages["sales_accounts"] if field is self.default_sales
                                       else self.settings_page)
            field.setFocus()

    def import_file(self, path: str | Path) -> bool:
        """Replace the mapping with a file's; a file that cannot be used changes nothing and says why."""
        path = Path(path)
        try:
            text = read_mapping_file(path)  # a device or a pipe is refused, not read for ever
            mapping = parse_mapping_text(text, path.name)
        except MappingError as exc:
            return self._say(f"Nothing was imported: {exc}.", error=True)
        except UnicodeDecodeError:
            return self._say(f"Nothing was imported: {path.name} is not a text file.", error=True)
        except OSError as exc:
            return self._say(f"Nothing was imported: {path.name} could not be read ({exc.strerror or exc}).",
                             error=True)
        self._apply(mapping, emit=True)
        self._fit_columns()
        return self._say(f"Imported {path.name}. Check it with Xero, then save it.", error=False)

    def export_file(self, path: str | Path) -> bool:
        path = Path(path)
        try:
            MappingFile(path).save(self._mapping)
        except OSError as exc:
            return self._say(f"The mapping was not exported: {path} could not be written ({exc.strerror or exc}).",
                             error=True)
        return self._say(f"Exported to {path.name}.", error=False)

    def suggest(self) -> None:
        """Fill in what is not mapped from Xero's tax rates and accounts (sync.suggest_mapping; no network)."""
        if self._xero is None:
            self._say("Xero's tax rates and accounts have not been read yet.", error=True)
            return
        suggestion = suggest_mapping(self._xero, self._groups, self._methods, account_numbers=self._numbers,
                                     base=self._mapping, departments=self._departments)
        changed = suggestion.mapping != self._mapping
        if changed:
            self._apply(suggestion.mapping, emit=True)
        notes = " ".join(suggestion.notes)
        self._say(("Suggestions filled in. " if changed else "Nothing more to suggest. ") + notes, error=False)

    # --- inside ------------------------------------------------------------------------------------------
    def _say(self, text: str, *, error: bool) -> bool:
        self.file_message.setText(text)
        self.file_message.setStyleSheet(_ERROR_STYLE if error else _OK_STYLE)
        return not error

    def _model_edited(self, mapping: Mapping) -> None:
        self._apply(mapping, emit=True)

    def _apply(self, mapping: Mapping, *, emit: bool) -> None:
        old = self._mapping
        self._mapping = mapping
        if emit:
            self._forget_problems_of_changes(old, mapping)
        for model in self.models.values():
            model.set_mapping(mapping)
        self._rebuild_rows()
        self._load_settings()
        self._place_problems()
        if emit:
            self.mapping_changed.emit(mapping)

    def _forget_problems_of_changes(self, old: Mapping, new: Mapping) -> None:
        """A problem found by the last check no longer describes a mapping the user has just changed."""
        changed: set[str] = set()
        for section in SECTIONS:
            a, b = getattr(old, section), getattr(new, section)
            changed |= {f"{section}:{k}" for k in set(a) | set(b) if a.get(k) != b.get(k)}
        changed |= {k for k in SETTING_KEYS if getattr(old, k) != getattr(new, k)}
        self._problems = [p for p in self._problems if p.where not in changed]

    def _rebuild_rows(self, force: bool = False) -> None:
        """Rows follow the sources and the mapping's keys (an imported mapping may name more)."""
        wanted = {
            "vat_groups": vat_rows(self._groups, self._usage, self._mapping),
            "payment_methods": payment_rows(self._methods, self._usage, self._mapping),
            "sales_accounts": sales_rows(self._numbers, self._groups, self._usage, self._mapping),
            "departments": department_rows(self._departments, self._mapping),
        }
        for section, rows in wanted.items():
            model = self.models[section]
            if not force and [r.key for r in rows] == model.row_keys():
                continue
            page = self.pages[section] if hasattr(self, "pages") else None
            selected = model.row(page.selected_row()) if page else None
            model.set_rows(rows)
            if page and selected and model.row_of(selected.key) >= 0:
                page.select_row(model.row_of(selected.key))

    def _place_problems(self) -> None:
        per_section: dict[str, dict[str, list[MappingProblem]]] = {s: {} for s in SECTIONS}
        fields = {"default_sales_account": self.default_sales_problem, "rounding_account": self.rounding_problem,
                  "xero_payments_method": self.xero_method_problem}
        per_field: dict[str, list[MappingProblem]] = {k: [] for k in fields}
        loose: list[MappingProblem] = []
        for p in self._problems:
            section, _, key = p.where.partition(":")
            if section in per_section and self.models[section].row_of(key) >= 0:
                per_section[section].setdefault(key, []).append(p)
            elif p.where in per_field:
                per_field[p.where].append(p)
            else:
                loose.append(p)
        for section, found in per_section.items():
            self.models[section].set_problems(found)
        for key, label in fields.items():
            text = "\n".join(f"⚠ {p.message} Fix: {p.fix}" for p in per_field[key])
            label.setText(text)
            label.setVisible(bool(text))
        self.banner.setText("\n".join(f"⚠ {p.where}: {p.message} Fix: {p.fix}" for p in loose))
        self.banner.setVisible(bool(loose))
        self._update_titles()

    def _update_titles(self) -> None:
        """A tab says how many of its rows need something, so nothing hides on another tab."""
        if not hasattr(self, "pages"):
            return
        for section, page in self.pages.items():
            count = page.issue_count()
            if section == "sales_accounts":
                count += bool(self.default_sales_problem.text())
            index = self.tabs.indexOf(page)
            self.tabs.setTabText(index, f"{self._titles[section]} ({count} to fix)" if count else self._titles[section])
            self.tabs.setTabIcon(index, self._warn_icon if count else dot_icon("#2e8b57"))
        settings_count = bool(self.rounding_problem.text()) + bool(self.xero_method_problem.text())
        index = self.tabs.indexOf(self.settings_page)
        self.tabs.setTabText(index, f"Other settings ({settings_count} to fix)" if settings_count else "Other settings")
        self.tabs.setTabIcon(index, self._warn_icon if settings_count else dot_icon("#2e8b57"))

    def _import_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a mapping", "", "Mapping files (*.json);;All files (*)")
        if path:
            self.import_file(path)

    def _export_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the mapping", "mapping.json",
                                              "Mapping files (*.json);;All files (*)")
        if path:
            self.export_file(path)

