"""The mapping editor on the sandbox clinic's data: drag and drop through the models, the keyboard path,
removal, highlighting, problems beside their rows, file import/export, the consolidated warning, and the
departments → tracking options section."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from provet_xero_gui.mapping import (
    Mapping,
    MappingProblem,
    MappingUsage,
    TrackingChoice,
    check_mapping,
    usage_of,
)
from provet_xero_gui.provet.records import Department, InvoiceRow, Payment, PaymentMethod, VatGroup
from provet_xero_gui.sandbox.clinic import Clinic, generate_clinic
from provet_xero_gui.sandbox.runner import demo_mapping
from provet_xero_gui.ui.mapping_editor import MappingEditor, SectionPage
from provet_xero_gui.ui.mapping_models import (
    PROBLEM_BG,
    TARGET_MIME,
    UNMAPPED_IN_USE_BG,
    CodeRole,
    MappingSectionModel,
    StateRole,
)
from provet_xero_gui.xero.reference import (
    Account,
    Organisation,
    TaxRate,
    TrackingCategory,
    TrackingOption,
    XeroReference,
)

# --- the sandbox clinic as the app reads it -------------------------------------------------------------


@dataclass(frozen=True)
class Sources:
    groups: list[VatGroup]
    methods: list[PaymentMethod]
    numbers: list[str]
    xero: XeroReference
    usage: MappingUsage
    departments: list[Department]


def xero_reference(clinic: Clinic) -> XeroReference:
    """The clinic's Xero seed as `xero.reference` dataclasses (what the worker reads from Xero)."""
    org = clinic.xero.organisations[0]
    return XeroReference(
        Organisation(org.name, org.base_currency, org.period_lock_date, org.end_of_year_lock_date),
        tuple(TaxRate(t.tax_type, t.name, t.rate, t.status, t.can_apply_to_revenue) for t in org.tax_rates),
        tuple(Account(a.code, a.name, a.type, a.status, a.enable_payments, a.tax_type) for a in org.accounts),
        tuple(TrackingCategory(t.name, t.status, tuple(TrackingOption(o, "ACTIVE") for o in t.options)
                               + tuple(TrackingOption(o, "ARCHIVED") for o in t.archived_options))
              for t in org.tracking_categories),
    )


def clinic_sources(clinic: Clinic | None = None) -> Sources:
    """VAT groups, payment methods, account numbers and usage of the generated clinic, as records."""
    clinic = clinic or generate_clinic()
    p = clinic.provet
    groups = [VatGroup(g.id, g.title, g.percentage, g.archived, g.account_number or "") for g in p.vat_groups]
    methods = [PaymentMethod(m.id, m.name, m.payment_type, m.archived) for m in p.payment_methods]
    rows = [
        InvoiceRow(r.id, r.invoice_id, r.name, r.quantity, r.price, r.price_with_vat, r.sum, r.sum_vat, r.sum_total,
                   r.percentage_change, r.vat_percentage, r.account_number or "")
        for r in p.rows
    ]
    payments = [
        Payment(x.id, x.invoice_id, x.payment_type, x.payment_method_id, x.paid, x.payment_date, x.status, x.info,
                x.modified)
        for x in p.payments
    ]
    usage = usage_of(rows, payments, groups)
    numbers = sorted({r.account_number for r in rows if r.account_number})
    departments = [Department(d.id, d.name) for d in p.departments]
    return Sources(groups, methods, numbers, xero_reference(clinic), usage, departments)


DEMO = Mapping.from_json(demo_mapping())


@pytest.fixture(scope="module")
def sources() -> Sources:
    return clinic_sources()


@pytest.fixture
def editor(qtbot, sources: Sources) -> MappingEditor:
    ed = MappingEditor()
    qtbot.addWidget(ed)
    ed.set_sources(sources.groups, sources.methods, sources.numbers, sources.xero, sources.usage,
                   departments=sources.departments)
    ed.set_mapping(DEMO)
    ed.resize(1280, 700)
    ed.show()
    qtbot.waitExposed(ed)
    return ed


def _page(editor: MappingEditor, section: str) -> SectionPage:
    page = editor.pages[section]
    editor.tabs.setCurrentWidget(page)
    return page


def _cell(model: MappingSectionModel, key: str, column: int, role: int = Qt.ItemDataRole.DisplayRole) -> object:
    return model.data(model.index(model.row_of(key), column), role)


def _drag_and_drop(page: SectionPage, code: str, pos: QPoint) -> tuple[bool, QDropEvent]:
    """Drag `code` out of the right-hand model (its own mimeData) and drop it on the table's viewport at `pos`."""
    targets = page.targets
    mime = targets.mimeData([targets.index(targets.row_of(code), 0)])
    assert mime is not None and mime.hasFormat(TARGET_MIME)
    viewport = page.table.viewport()
    actions, buttons, mods = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    # Qt 6 takes a QPoint for drag-enter and drag-move events and a QPointF for the drop (PySide6 6.11 insists).
    QApplication.sendEvent(viewport, QDragEnterEvent(pos, actions, mime, buttons, mods))
    move = QDragMoveEvent(pos, actions, mime, buttons, mods)
    QApplication.sendEvent(viewport, move)
    drop = QDropEvent(QPointF(pos), actions, mime, buttons, mods)
    QApplication.sendEvent(viewport, drop)
    return move.isAccepted(), drop


def _row_centre(page: SectionPage, key: str) -> QPoint:
    index = page.model.index(page.model.row_of(key), MappingSectionModel.TARGET)
    page.table.scrollTo(index)
    return page.table.visualRect(index).center()


# --- 1. drag and drop ---------------------------------------------------------------------------------------


def test_dropping_a_tax_rate_on_a_row_maps_it(qtbot, editor: MappingEditor) -> None:
    page = _page(editor, "vat_groups")
    model = page.model
    assert _cell(model, "6", model.TARGET) == "—"  # the archived group is not mapped in the demo mapping

    with qtbot.waitSignal(editor.mapping_changed) as changed:
        accepted, drop = _drag_and_drop(page, "OUTPUT2", _row_centre(page, "6"))

    assert accepted and drop.isAccepted()
    assert _cell(model, "6", model.TARGET) == "20% (VAT on Income) (OUTPUT2)"
    assert editor.mapping().vat_groups["6"] == "OUTPUT2"
    assert changed.args[0] == editor.mapping()
    assert {k: v for k, v in editor.mapping().vat_groups.items() if k != "6"} == DEMO.vat_groups


def test_dropping_on_another_mapped_row_changes_it(qtbot, editor: MappingEditor) -> None:
    page = _page(editor, "payment_methods")
    with qtbot.waitSignal(editor.mapping_changed):
        _drag_and_drop(page, "090", _row_centre(page, "type:0"))
    assert editor.mapping().payment_methods["type:0"] == "090"
    assert _cell(page.model, "type:0", page.model.TARGET) == "090 Business Bank Account"


def test_a_drop_on_the_gap_or_of_the_wrong_kind_does_nothing(qtbot, editor: MappingEditor) -> None:
    vat = _page(editor, "vat_groups")
    viewport = vat.table.viewport()
    last = vat.table.visualRect(vat.model.index(vat.model.rowCount() - 1, 0))
    gap = QPoint(viewport.width() // 2, (last.bottom() + viewport.height()) // 2)
    assert gap.y() > last.bottom() + 5, "the table should have empty space below its rows"
    with qtbot.assertNotEmitted(editor.mapping_changed):
        accepted, drop = _drag_and_drop(vat, "OUTPUT2", gap)
    assert not accepted and not drop.isAccepted()
    assert editor.mapping() == DEMO

    # an account dragged from the payments list is not a tax rate: the VAT table refuses it
    pay_targets = editor.pages["payment_methods"].targets
    mime = pay_targets.mimeData([pay_targets.index(pay_targets.row_of("090"), 0)])
    index = vat.model.index(vat.model.row_of("6"), 0)
    assert not vat.model.canDropMimeData(mime, Qt.DropAction.CopyAction, -1, -1, index)
    assert not vat.model.dropMimeData(mime, Qt.DropAction.CopyAction, -1, -1, index)
    assert editor.mapping() == DEMO


def test_the_right_hand_lists_hold_only_suitable_targets(editor: MappingEditor) -> None:
    def codes(section: str) -> list[str]:
        targets = editor.pages[section].targets
        return [targets.target(i).code for i in range(targets.rowCount())]

    assert codes("vat_groups") == ["OUTPUT2", "RROUTPUT", "ZERORATEDOUTPUT", "EXEMPTOUTPUT", "NONE"]
    assert codes("payment_methods") == ["090", "091", "610", "620", "815"]
    assert codes("sales_accounts") == ["200", "201", "260"]  # 202 is archived
    view = editor.pages["vat_groups"].list
    assert view.dragEnabled() and view.dragDropMode() == view.DragDropMode.DragOnly
    table = editor.pages["vat_groups"].table
    assert table.acceptDrops() and table.dragDropMode() == table.DragDropMode.DropOnly


# --- 2. keyboard ------------------------------------------------------------------------------------------


def test_the_keyboard_maps_a_row_without_a_mouse(qtbot, editor: MappingEditor) -> None:
    page = _page(editor, "vat_groups")
    editor.activateWindow()
    qtbot.waitActive(editor)
    page.select_key("6")
    assert page.table.hasFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Return)  # Enter on a row goes to "Map to"
    assert page.combo.hasFocus()
    qtbot.keyClicks(page.combo, "Exempt")  # type-ahead in the combo
    assert page.combo.currentData(CodeRole) == "EXEMPTOUTPUT"
    with qtbot.waitSignal(editor.mapping_changed):
        qtbot.keyClick(page.combo, Qt.Key.Key_Return)
    assert editor.mapping().vat_groups["6"] == "EXEMPTOUTPUT"
    assert _cell(page.model, "6", page.model.TARGET) == "Exempt Income (EXEMPTOUTPUT)"


def test_controls_have_accessible_names(editor: MappingEditor) -> None:
    page = editor.pages["payment_methods"]
    for widget in (page.table, page.list, page.combo, page.map_button, page.remove_button, editor.import_button,
                   editor.export_button, editor.check_button, editor.save_button, editor.rounding, editor.both):
        assert widget.accessibleName(), widget


# --- 3. remove --------------------------------------------------------------------------------------------


def test_delete_removes_the_selected_rows_mapping(qtbot, editor: MappingEditor) -> None:
    page = _page(editor, "vat_groups")
    page.select_key("3")
    with qtbot.waitSignal(editor.mapping_changed):
        qtbot.keyClick(page.table, Qt.Key.Key_Delete)
    assert "3" not in editor.mapping().vat_groups
    assert _cell(page.model, "3", page.model.TARGET) == "—"
    # group 3 is used on the clinic's invoices: now it is highlighted
    assert _cell(page.model, "3", 0, StateRole) == "unmapped-in-use"


def test_the_remove_button_on_a_custom_method_falls_back_to_its_type(qtbot, editor: MappingEditor) -> None:
    page = _page(editor, "payment_methods")
    page.select_key("method:15")  # Stripe terminal → 610, its type Card → 610 too
    editor.set_mapping(replace(DEMO, payment_methods={**DEMO.payment_methods, "method:15": "090"}))
    page.select_key("method:15")
    assert page.remove_button.isEnabled()
    with qtbot.waitSignal(editor.mapping_changed):
        qtbot.mouseClick(page.remove_button, Qt.MouseButton.LeftButton)
    assert "method:15" not in editor.mapping().payment_methods
    assert _cell(page.model, "method:15", page.model.TARGET) == "610 Card clearing  (as Card)"
    assert _cell(page.model, "method:15", 0, StateRole) == "fallback"
    assert not page.remove_button.isEnabled()


# --- 4. highlighting --------------------------------------------------------------------------------------


def test_unmapped_items_in_use_are_highlighted_and_archived_greyed(editor: MappingEditor, sources: Sources) -> None:
    assert 3 in sources.usage.vat_groups and "method:16" in sources.usage.payment_keys
    vat = dict(DEMO.vat_groups)
    del vat["3"]
    pay = {k: v for k, v in DEMO.payment_methods.items() if k not in ("method:16", "type:15")}
    editor.set_mapping(replace(DEMO, vat_groups=vat, payment_methods=pay))

    model = editor.models["vat_groups"]
    assert _cell(model, "3", 0, Qt.ItemDataRole.BackgroundRole).color() == UNMAPPED_IN_USE_BG
    assert _cell(model, "3", model.STATUS) == "Used on invoices, not mapped"
    assert _cell(model, "1", 0, Qt.ItemDataRole.BackgroundRole) is None
    assert _cell(model, "6", 0) == "Standard 20% (old series) (archived)"  # archived, unused: greyed, not flagged
    assert _cell(model, "6", 0, Qt.ItemDataRole.ForegroundRole).color().name() == "#8c8c8c"
    assert _cell(model, "6", 0, Qt.ItemDataRole.BackgroundRole) is None

    payments = editor.models["payment_methods"]
    assert _cell(payments, "method:16", 0, StateRole) == "unmapped-in-use"  # Petplan and its type both unmapped
    assert "1 to fix" in editor.tabs.tabText(0) and "to fix" in editor.tabs.tabText(1)


# --- 5. problems ------------------------------------------------------------------------------------------


def test_problems_are_shown_beside_their_rows(qtbot, editor: MappingEditor, sources: Sources) -> None:
    bad = replace(
        DEMO,
        vat_groups={**DEMO.vat_groups, "2": "TAX001"},  # archived in Xero
        payment_methods={**DEMO.payment_methods, "method:18": "404"},  # an expense account
        rounding_account=None,
    )
    problems = [*check_mapping(bad, sources.xero, sources.groups, sources.methods, sources.usage.vat_groups,
                               sources.usage.payment_keys, sources.usage.account_numbers),
                MappingProblem("invoice rows", "Row 'Spay' has VAT 7%, which no active VAT group has.",
                               "In Provet, add or restore a VAT group of 7%.")]
    editor.set_mapping(bad)
    editor.show_problems(problems)

    vat = editor.models["vat_groups"]
    assert _cell(vat, "2", 0, StateRole) == "problem"
    assert _cell(vat, "2", 0, Qt.ItemDataRole.BackgroundRole).color() == PROBLEM_BG
    assert "archived in Xero" in _cell(vat, "2", vat.STATUS)
    assert "Map it to an active tax rate." in _cell(vat, "2", vat.STATUS, Qt.ItemDataRole.ToolTipRole)
    assert _cell(vat, "2", vat.STATUS, Qt.ItemDataRole.DecorationRole) is not None
    assert [k for k in vat.row_keys() if _cell(vat, k, 0, StateRole) == "problem"] == ["2"]
    assert _cell(editor.models["payment_methods"], "method:18", 0, StateRole) == "problem"

    editor.focus_where("payment_methods:method:18")
    page = editor.pages["payment_methods"]
    assert editor.tabs.currentWidget() is page
    assert page.model.row(page.selected_row()).key == "method:18"
    assert "cannot take payments" in page.details.text() and "Choose a bank account" in page.details.text()

    assert "No rounding account" in editor.rounding_problem.text() and not editor.rounding_problem.isHidden()
    assert "VAT 7%" in editor.banner.text() and not editor.banner.isHidden()
    assert "invoice rows" in editor.banner.text()

    # fixing a row drops its (now stale) problem until the next check
    page = _page(editor, "vat_groups")
    _drag_and_drop(page, "OUTPUT2", _row_centre(page, "2"))
    assert _cell(vat, "2", 0, StateRole) == "mapped"
    assert _cell(editor.models["payment_methods"], "method:18", 0, StateRole) == "problem"


def test_focus_where_a_setting(editor: MappingEditor) -> None:
    editor.focus_where("rounding_account")
    assert editor.tabs.currentWidget() is editor.settings_page
    editor.focus_where("sales_accounts:201")
    page = editor.pages["sales_accounts"]
    assert editor.tabs.currentWidget() is page and page.model.row(page.selected_row()).key == "201"


def test_check_and_save_buttons_hand_over(qtbot, editor: MappingEditor) -> None:
    with qtbot.waitSignal(editor.check_requested):
        qtbot.mouseClick(editor.check_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(editor.save_requested) as saved:
        qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert saved.args[0] == DEMO


# --- 6. files ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ('{"version": 2}', "unknown mapping version 2"),
        ("{not json", "is not valid JSON"),
        ('{"version": 1, "vat_groups": {"three": "OUTPUT2"}}', "vat_groups: key 'three'"),
    ],
)
def test_a_bad_file_changes_nothing_and_says_why(qtbot, editor: MappingEditor, tmp_path: Path, content: str,
                                                  words: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with qtbot.assertNotEmitted(editor.mapping_changed):
        assert editor.import_file(path) is False
    assert editor.mapping() == DEMO
    assert words in editor.file_message.text() and editor.file_message.text().startswith("Nothing was imported")


def test_a_missing_file_changes_nothing(editor: MappingEditor, tmp_path: Path) -> None:
    assert editor.import_file(tmp_path / "nowhere.json") is False
    assert "could not be read" in editor.file_message.text()
    assert editor.mapping() == DEMO


def test_export_then_import_through_the_buttons(qtbot, editor: MappingEditor, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "clinic-mapping.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    qtbot.mouseClick(editor.export_button, Qt.MouseButton.LeftButton)
    assert json.loads(path.read_text(encoding="utf-8")) == DEMO.to_json()
    assert "Exported" in editor.file_message.text()

    editor.set_mapping(Mapping())
    assert editor.mapping() == Mapping()
    with qtbot.waitSignal(editor.mapping_changed) as changed:
        qtbot.mouseClick(editor.import_button, Qt.MouseButton.LeftButton)
    assert editor.mapping() == DEMO == changed.args[0]
    assert _cell(editor.models["vat_groups"], "3", MappingSectionModel.TARGET) == "5% (VAT on Income) (RROUTPUT)"
    assert editor.rounding.currentText().startswith("860 Rounding")


# --- 7. the other settings --------------------------------------------------------------------------------


def test_both_shows_a_warning(qtbot, editor: MappingEditor) -> None:
    editor.tabs.setCurrentWidget(editor.settings_page)
    assert editor.both_warning.isHidden()
    with qtbot.waitSignal(editor.mapping_changed):
        qtbot.mouseClick(editor.both, Qt.MouseButton.LeftButton)
    assert editor.mapping().consolidated == "both"
    assert editor.both_warning.isVisible() and "count it double" in editor.both_warning.text()
    qtbot.mouseClick(editor.gathered, Qt.MouseButton.LeftButton)
    assert editor.mapping().consolidated == "gathered" and editor.both_warning.isHidden()


def test_settings_edit_the_mapping(qtbot, editor: MappingEditor) -> None:
    with qtbot.waitSignal(editor.mapping_changed):
        editor.rounding.setCurrentIndex(editor.account_targets.row_of("404"))
    with qtbot.waitSignal(editor.mapping_changed):
        editor.status_combo.setCurrentIndex(editor.status_combo.findData("DRAFT"))
    with qtbot.waitSignal(editor.mapping_changed):
        editor.use_start.setChecked(True)
    editor.start_date.setDate(editor.start_date.date().fromString("2026-11-01", "yyyy-MM-dd"))
    m = editor.mapping()
    assert (m.rounding_account, m.invoice_status, str(m.start_date)) == ("404", "DRAFT", "2026-11-01")
    editor.default_sales.setCurrentIndex(0)  # (none)
    assert editor.mapping().default_sales_account is None


def test_loading_sources_and_a_mapping_is_not_an_edit(qtbot, sources: Sources) -> None:
    ed = MappingEditor()
    qtbot.addWidget(ed)
    odd = replace(DEMO, rounding_account="999", vat_groups={**DEMO.vat_groups, "42": "OUTPUT2"})
    with qtbot.assertNotEmitted(ed.mapping_changed):
        ed.set_mapping(odd)
        ed.set_sources(sources.groups, sources.methods, sources.numbers, sources.xero, sources.usage)
        ed.set_mapping(odd)
    assert ed.mapping() == odd
    assert ed.rounding.currentText().startswith("999")  # kept, though Xero has no such account
    assert ed.models["vat_groups"].row_of("42") >= 0  # a mapped id Provet does not list still shows


def test_sales_rows_show_where_unmapped_numbers_go(editor: MappingEditor) -> None:
    model = editor.models["sales_accounts"]
    assert set(model.row_keys()) >= {"200", "201", "260"}
    assert _cell(model, "201", model.TARGET) == "201 Sales – Medicines & products  (same code)"
    page = _page(editor, "sales_accounts")
    _drag_and_drop(page, "260", _row_centre(page, "201"))
    assert editor.mapping().sales_accounts == {"201": "260"}


# --- 7. departments → tracking options -----------------------------------------------------------------------

MAIN_STREET = TrackingChoice("Department", "Happy Paws Main Street")


def _option(name: str) -> str:
    """The target code of an option of the sandbox clinic's "Department" tracking category."""
    return "Department\x1f" + name


def test_dropping_a_tracking_option_on_a_department_and_saving(qtbot, editor: MappingEditor) -> None:
    page = _page(editor, "departments")
    model = page.model
    assert model.row_keys() == ["1", "2", "3"]  # Provet's departments
    assert _cell(model, "2", model.TARGET) == "—" and _cell(model, "2", model.STATUS) == "No tracking (optional)"
    assert _cell(model, "2", 0, StateRole) == "unmapped"  # optional: never flagged as in use but unmapped
    targets = page.targets
    assert [targets.data(targets.index(i, 0)) for i in range(targets.rowCount())] == [
        "Happy Paws Main Street  ·  Department", "Happy Paws Riverside  ·  Department",
        "Mobile & Equine  ·  Department", "Head office  ·  Department"]  # the archived option is not offered

    with qtbot.waitSignal(editor.mapping_changed):
        accepted, drop = _drag_and_drop(page, _option("Head office"), _row_centre(page, "2"))
    assert accepted and drop.isAccepted()
    assert _cell(model, "2", model.TARGET) == "Department: Head office"
    assert "Every line of its invoices (the rounding line too) is tagged Department: Head office" in \
        _cell(model, "2", 0, Qt.ItemDataRole.ToolTipRole)
    # a tax rate dragged from the VAT list is no tracking option: the departments table refuses it
    vat_targets = editor.pages["vat_groups"].targets
    mime = vat_targets.mimeData([vat_targets.index(vat_targets.row_of("OUTPUT2"), 0)])
    assert not model.canDropMimeData(mime, Qt.DropAction.CopyAction, -1, -1, model.index(0, 0))

    with qtbot.waitSignal(editor.save_requested) as saved:
        qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert saved.args[0].departments == {"2": TrackingChoice("Department", "Head office")}
    assert replace(saved.args[0], departments={}) == DEMO  # nothing else changed
    assert saved.args[0].to_json()["departments"] == {"2": {"category": "Department", "option": "Head office"}}


def test_the_keyboard_and_delete_map_and_unmap_a_department(qtbot, editor: MappingEditor) -> None:
    page = _page(editor, "departments")
    editor.activateWindow()
    qtbot.waitActive(editor)
    page.select_key("3")
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    qtbot.keyClicks(page.combo, "Mobile")
    with qtbot.waitSignal(editor.mapping_changed):
        qtbot.keyClick(page.combo, Qt.Key.Key_Return)
    assert editor.mapping().departments == {"3": TrackingChoice("Department", "Mobile & Equine")}
    page.select_key("3")
    with qtbot.waitSignal(editor.mapping_changed):
        qtbot.keyClick(page.table, Qt.Key.Key_Delete)
    assert editor.mapping().departments == {}


def test_an_archived_option_is_shown_beside_its_department(editor: MappingEditor, sources: Sources) -> None:
    mapping = replace(DEMO, departments={"1": MAIN_STREET, "2": TrackingChoice("Department", "Old Town (closed)")})
    editor.set_mapping(mapping)
    editor.show_problems(check_mapping(mapping, sources.xero, sources.groups, sources.methods,
                                       departments=sources.departments))
    model = editor.models["departments"]
    assert _cell(model, "2", 0, StateRole) == "problem" and _cell(model, "1", 0, StateRole) == "mapped"
    assert _cell(model, "2", model.TARGET) == "Department: Old Town (closed) (archived in Xero)"
    assert _cell(model, "2", model.STATUS).startswith(
        "Department 'Happy Paws Riverside' is mapped to option 'Old Town (closed)' of tracking category "
        "'Department', which is archived in Xero.")
    assert _cell(model, "2", 0, Qt.ItemDataRole.BackgroundRole).color() == PROBLEM_BG
    assert editor.tabs.tabText(editor.tabs.indexOf(editor.pages["departments"])) == "Departments → tracking (1 to fix)"
    editor.focus_where("departments:2")  # where an attention item "tracking_option_unusable" leads
    page = editor.pages["departments"]
    assert editor.tabs.currentWidget() is page and page.model.row(page.selected_row()).key == "2"
    assert "Fix: Map it to an active option" in page.details.text()


def test_suggest_maps_departments_to_options_of_the_same_name(qtbot, editor: MappingEditor) -> None:
    with qtbot.waitSignal(editor.mapping_changed):
        qtbot.mouseClick(editor.suggest_button, Qt.MouseButton.LeftButton)
    assert editor.mapping().departments == {
        "1": MAIN_STREET, "2": TrackingChoice("Department", "Happy Paws Riverside"),
        "3": TrackingChoice("Department", "Mobile & Equine")}
    model = editor.models["departments"]
    assert [_cell(model, k, 0, StateRole) for k in ("1", "2", "3")] == ["mapped"] * 3


def test_without_tracking_categories_the_section_says_it_is_optional(qtbot, sources: Sources) -> None:
    ed = MappingEditor()
    qtbot.addWidget(ed)
    ed.set_sources(sources.groups, sources.methods, sources.numbers, replace(sources.xero, tracking_categories=()),
                   sources.usage, departments=sources.departments)
    page = ed.pages["departments"]
    assert page.targets.rowCount() == 0 and "Tracking is optional" in page.empty_label.text()
    assert ed.tabs.tabText(ed.tabs.indexOf(page)) == "Departments → tracking"  # nothing to fix
