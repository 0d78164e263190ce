"""The attention view: grouped by cause with reason and fix, Retry per item, per group and for all, the jump
to the mapping, the calm rule holds, and the empty state."""

from __future__ import annotations

from PySide6.QtCore import Qt

from provet_xero_gui.app.application import Application
from provet_xero_gui.profile import Profile
from provet_xero_gui.store.sync_state import AttentionItem, SyncState
from provet_xero_gui.ui.attention_model import where_for
from provet_xero_gui.ui.attention_view import EMPTY_TEXT, AttentionView

WHEN = "2024-05-02T09:30:00+00:00"


def item(id_: int, kind: str, provet_id: str, document: str, cause: str, reason: str, fix: str) -> AttentionItem:
    return AttentionItem(id_, kind, provet_id, document, cause, reason, fix, WHEN)


REDUCED = ("vat_group_unmapped", "VAT group 'Reduced 5%' is not mapped",
           "Map VAT group 'Reduced 5%' to a Xero tax rate, then Retry.")
ITEMS = [
    item(1, "invoice", "101", "Invoice 2024-101 (Mrs Bartholomew-Featherstonehaugh-Smythe, £84.00)", *REDUCED),
    item(2, "invoice", "102", "Invoice 2024-102 (Jürgen Österberg, £12.50)", *REDUCED),
    item(3, "payment", "7", "Payment #7 (40.00) on Provet invoice 101", "payment_method_unmapped",
         "its payment method ('Card', custom method 16) is not mapped",
         "Map the payment method to a Xero account that accepts payments, then Retry."),
    item(4, "invoice", "55", "Invoice 2023-055", "lock_date", "it is dated 2023-12-31, on or before Xero's lock "
         "date 2024-01-31", "Ask the accountant to move the lock date in Xero, then Retry."),
    item(5, "invoice", "900", "Counter sale 900", "anonymous", "it has no client", "Nothing to do."),
    item(6, "invoice", "901", "Counter sale 901", "anonymous", "it has no client", "Nothing to do."),
]


def make_view(qtbot, items=ITEMS) -> AttentionView:
    view = AttentionView()
    qtbot.addWidget(view)
    view.resize(1100, 600)
    view.show()
    view.set_items(items)
    return view


def test_items_are_grouped_by_cause_with_rule_holds_last_and_calm(qtbot) -> None:
    view = make_view(qtbot)
    groups = view.model.groups()
    assert [g.cause for g in groups] == ["lock_date", "payment_method_unmapped", "vat_group_unmapped", "anonymous"]
    assert [len(g.items) for g in groups] == [1, 1, 2, 2]
    vat = view.model.index(2, 0)
    assert view.model.data(vat) == "VAT group not mapped (2)"
    assert view.model.rowCount(vat) == 2
    first = view.model.index(0, 0, vat)
    assert "Bartholomew" in view.model.data(first)
    assert view.model.data(view.model.index(0, 1, vat)) == REDUCED[1]
    assert view.model.data(view.model.index(0, 2, vat)) == ""
    assert view.model.data(view.model.index(2, 2)) == REDUCED[2]  # one fix for the group: said once
    assert REDUCED[2] in view.model.data(first, Qt.ItemDataRole.ToolTipRole)
    rule = view.model.index(3, 0)
    assert view.model.data(rule).startswith("Held by rule")
    assert view.model.data(rule, Qt.ItemDataRole.ForegroundRole) is not None  # greyed, not alarming
    assert view.summary.text() == "4 documents need attention; 2 held by rule (on purpose)."
    assert view.tree.isExpanded(vat)


def test_retry_one_document_a_group_and_all(qtbot) -> None:
    view = make_view(qtbot)
    view.select_item("invoice:102")
    assert "Jürgen" in view.details.text() and "Map VAT group" in view.details.text()
    with qtbot.waitSignal(view.retry_requested) as one:
        qtbot.mouseClick(view.retry_button, Qt.MouseButton.LeftButton)
    assert one.args == [["invoice:102"]]
    with qtbot.waitSignal(view.retry_requested) as group:
        qtbot.mouseClick(view.retry_group_button, Qt.MouseButton.LeftButton)  # the item's own group
    assert group.args == [["invoice:101", "invoice:102"]]
    view.select_group("vat_group_unmapped")
    assert not view.retry_button.isEnabled() and view.retry_group_button.isEnabled()
    with qtbot.waitSignal(view.retry_requested) as selected_group:
        view.retry_selected()
    assert selected_group.args == [["invoice:101", "invoice:102"]]
    with qtbot.waitSignal(view.retry_requested) as everything:
        qtbot.mouseClick(view.retry_all_button, Qt.MouseButton.LeftButton)
    assert sorted(everything.args[0]) == ["invoice:101", "invoice:102", "invoice:55", "payment:7"]  # no rule holds
    assert "Retrying 4 documents" in view.message.text()


def test_rule_holds_offer_no_retry(qtbot) -> None:
    view = make_view(qtbot)
    view.select_item("invoice:900")
    assert not view.retry_button.isEnabled() and not view.retry_group_button.isEnabled()
    assert not view.mapping_button.isEnabled()
    view.select_group("anonymous")
    assert "on purpose" in view.details.text()
    with qtbot.assertNotEmitted(view.retry_requested):
        view.retry_selected()


def test_jump_to_the_mapping_that_fixes_it(qtbot) -> None:
    view = make_view(qtbot)
    view.select_item("invoice:101")
    with qtbot.waitSignal(view.open_mapping_requested) as section:
        qtbot.mouseClick(view.mapping_button, Qt.MouseButton.LeftButton)
    assert section.args == ["vat_groups"]  # the group's id is not known yet: its section
    view.set_vat_group_ids({"Reduced 5%": 3, "Standard 20%": 1})
    with qtbot.waitSignal(view.open_mapping_requested) as row:
        qtbot.mouseClick(view.mapping_button, Qt.MouseButton.LeftButton)
    assert row.args == ["vat_groups:3"]
    view.select_item("payment:7")
    with qtbot.waitSignal(view.open_mapping_requested) as method:
        qtbot.keyClick(view.tree, Qt.Key.Key_Return)  # Enter on a row goes there too
    assert method.args == ["payment_methods:method:16"]
    view.select_item("invoice:55")
    assert not view.mapping_button.isEnabled()  # a lock date is not fixed in the mapping


def test_where_each_mapping_cause_is_fixed() -> None:
    def where(cause: str, reason: str) -> str | None:
        return where_for(item(1, "invoice", "1", "Invoice 1", cause, reason, "fix"))

    assert where("payment_method_unmapped", "its payment method ('Cash') is not mapped") == "payment_methods:type:1"
    assert where("sales_account_unmapped", "row 'Spay' has sales account 4010, which is not mapped") == \
        "sales_accounts:4010"
    assert where("sales_account_unmapped", "row 'Spay' has sales account (none), which is not mapped") == \
        "default_sales_account"
    assert where("rounding_account_missing", "no rounding account is chosen") == "rounding_account"
    assert where("xero_payments_method_missing", "no method") == "xero_payments_method"
    assert where("tax_rate_unusable", "VAT group 'Old' is mapped to tax rate X") == "vat_groups"
    assert where("tracking_option_unusable", "its department (Provet id 2) is mapped to option 'Riverside' of "
                 "tracking category 'Department', which is archived in Xero") == "departments:2"
    assert where("xero_rejected", "Xero said no") is None


def test_the_empty_state_says_everything_has_gone(qtbot) -> None:
    view = make_view(qtbot, items=[])
    assert view.stack.currentWidget() is view.empty and view.empty.isVisible()
    assert view.empty.text() == EMPTY_TEXT
    assert not view.retry_all_button.isVisible()
    view.set_items(ITEMS[:1])
    assert view.stack.currentWidget() is not view.empty
    view.set_items([])
    assert view.empty.isVisible()


def test_with_a_profile_it_reads_the_store_and_a_retry_forgets_the_cached_xero_reference(qtbot) -> None:
    profile = Profile.open()
    with profile.store() as store:
        state = SyncState(store)
        state.hold("invoice", 101, "Invoice 2024-101", *REDUCED)
        state.cache("xero_reference", {"old": True})
    view = AttentionView(Application(profile))
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.model.item_count(by_rule=False) == 1, timeout=10_000)
    with qtbot.waitSignal(view.retry_requested, timeout=10_000) as retry:
        view.retry_all()
    assert retry.args == [["invoice:101"]]
    with profile.store() as store:
        assert SyncState(store).cached("xero_reference") is None
