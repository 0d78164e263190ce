"""The conflict view: fields side by side per client; Keep Provet / Keep Xero per field, for the whole client
and for every conflict of a field; a typed value; refusals shown; and a real conflict from the sandbox."""

from __future__ import annotations

import pytest
from helpers.connected import connect_profile
from PySide6.QtCore import Qt

from provet_xero_gui.app.application import Application
from provet_xero_gui.app.passes import run_sync
from provet_xero_gui.app.types import ConflictChoice
from provet_xero_gui.mapping import Mapping, MappingFile
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID
from provet_xero_gui.sandbox.runner import Sandbox, demo_mapping
from provet_xero_gui.store.conflicts import ClientState, Conflict
from provet_xero_gui.store.sync_state import SyncState
from provet_xero_gui.ui.conflict_view import EMPTY_TEXT, ConflictView

COMPANY = "Álvarez-Montgomery Equine & Companion Animal Holdings Ltd"


def conflict(id_: int, client: str, field: str, base: str | None, provet: str, xero: str,
             resolution: str | None = None) -> Conflict:
    return Conflict(id_, client, f"contact-{client}", field, base, provet, xero, "2024-05-01T10:15:00+00:00",
                    "2024-05-01T11:40:00+00:00", "2024-05-01T12:00:00+00:00", None, resolution)


CONFLICTS = [
    conflict(1, "12", "email", "accounts@alvarez.example", "billing@alvarez.example", "finance@alvarez.example"),
    conflict(2, "12", "phone", "+44 20 7946 0000", "+44 20 7946 0958", ""),
    conflict(3, "7", "email", "sam@example.org", "sam.lee@example.org", "s.lee@example.org"),
    conflict(4, "9", "city", "Leeds", "York", "Harrogate", resolution="xero"),
]
NAMES = {"12": COMPANY, "7": "Sam Lee", "9": "Priya Natarajan"}


def make_view(qtbot, conflicts=CONFLICTS) -> ConflictView:
    view = ConflictView()
    qtbot.addWidget(view)
    view.resize(1200, 600)
    view.show()
    view.set_conflicts(conflicts, NAMES)
    return view


def click(qtbot, button) -> None:
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_one_client_per_row_and_the_values_side_by_side(qtbot) -> None:
    view = make_view(qtbot)
    clients = view.model.clients()
    assert [c.name for c in clients] == [COMPANY, "Sam Lee", "Priya Natarajan"]  # waiting first
    company = view.model.index(0, 0)
    assert view.model.data(company) == f"{COMPANY} (Provet client 12) — 2 to choose"
    row = [view.model.data(view.model.index(0, col, company)) for col in range(5)]
    assert row == ["Email", "billing@alvarez.example", "finance@alvarez.example", "accounts@alvarez.example",
                   "waiting for a choice"]
    phone = [view.model.data(view.model.index(1, col, company)) for col in range(4)]
    assert phone == ["Phone number", "+44 20 7946 0958", "(empty)", "+44 20 7946 0000"]
    assert "Changed in Xero 2024-05-01 11:40 UTC" in view.model.data(view.model.index(0, 2, company),
                                                                     Qt.ItemDataRole.ToolTipRole)
    chosen = view.model.index(0, 4, view.model.index(2, 0))
    assert view.model.data(chosen) == "Xero's value kept"
    assert "3 fields wait for your choice" in view.summary.text()


def test_keep_one_field(qtbot) -> None:
    view = make_view(qtbot)
    view.select_conflict(1)
    assert "billing@alvarez.example" in view.keep_provet_button.text()
    with qtbot.waitSignal(view.resolve_requested) as provet:
        click(qtbot, view.keep_provet_button)
    assert provet.args == [[ConflictChoice(1, "provet", None)]]
    assert "saving" in view.model.data(view.model.index_of(1).siblingAtColumn(4))
    view.select_conflict(2)
    with qtbot.waitSignal(view.resolve_requested) as xero:
        click(qtbot, view.keep_xero_button)
    assert xero.args == [[(2, "xero", None)]]  # plain tuples too: (conflict_id, keep, value)


def test_keep_for_the_whole_client(qtbot) -> None:
    view = make_view(qtbot)
    view.select_client("12")
    assert "whole client" in view.keep_xero_button.text()
    assert not view.apply_all.isEnabled() and not view.value_button.isEnabled()
    with qtbot.waitSignal(view.resolve_requested) as chosen:
        click(qtbot, view.keep_xero_button)
    assert chosen.args == [[ConflictChoice(1, "xero", None), ConflictChoice(2, "xero", None)]]


def test_apply_to_every_conflict_of_the_field(qtbot) -> None:
    view = make_view(qtbot)
    view.select_conflict(3)
    view.apply_all.setChecked(True)
    assert "email of 2 clients" in view.scope.text()
    with qtbot.waitSignal(view.resolve_requested) as chosen:
        click(qtbot, view.keep_provet_button)
    assert sorted(chosen.args[0]) == [ConflictChoice(1, "provet", None), ConflictChoice(3, "provet", None)]


def test_a_value_typed_by_hand(qtbot) -> None:
    view = make_view(qtbot)
    view.select_conflict(3)
    qtbot.keyClicks(view.value_edit, "sam.lee@clinic.example")
    with qtbot.waitSignal(view.resolve_requested) as chosen:
        qtbot.keyClick(view.value_edit, Qt.Key.Key_Return)
    assert chosen.args == [[ConflictChoice(3, None, "sam.lee@clinic.example")]]
    assert view.value_edit.text() == ""


def test_a_refusal_is_shown_and_cleared_by_the_next_choice(qtbot) -> None:
    view = make_view(qtbot)
    view.show_refusal("The email was changed again in Provet (now x@example.org) after conflict 3 was recorded.")
    assert view.refusal.isVisible() and "changed again in Provet" in view.refusal.text()
    view.select_conflict(3)
    click(qtbot, view.keep_xero_button)
    assert not view.refusal.isVisible()


def test_the_empty_state(qtbot) -> None:
    view = make_view(qtbot, conflicts=[])
    assert view.stack.currentWidget() is view.empty and view.empty.text() == EMPTY_TEXT
    assert not view.summary.isVisible()


def test_a_real_conflict_from_the_sandbox_is_resolved_and_a_late_change_is_refused(
        qtbot, monkeypatch: pytest.MonkeyPatch) -> None:
    with Sandbox(size=12) as sandbox:
        profile = connect_profile(sandbox, monkeypatch)
        MappingFile(profile.paths.mapping_file).save(Mapping.from_json(demo_mapping()))
        run_sync(profile)  # links the contacts and gives each pair its last synced values
        with profile.store() as store:
            links = SyncState(store).links("contact")
        first, second = [c for c in sandbox.provet.clients() if str(c.id) in links and c.customer_type == 0][:2]
        for c in (first, second):
            sandbox.provet.edit_client(c.id, email=f"provet.{c.id}@example.org")
            sandbox.xero.edit_contact(CLINIC_TENANT_ID, links[str(c.id)].xero_id, email=f"xero.{c.id}@example.org")
        run_sync(profile)
        with profile.store() as store:
            assert len(ClientState(store).open_conflicts()) == 2

        view = ConflictView(Application(profile))
        qtbot.addWidget(view)
        view.show()
        qtbot.waitUntil(lambda: len(view.model.conflicts()) == 2, timeout=20_000)
        by_client = {c.provet_client_id: c for c in view.model.conflicts()}

        view.select_conflict(by_client[str(first.id)].id)
        with qtbot.waitSignal(view.resolved, timeout=20_000) as taken:
            click(qtbot, view.keep_xero_button)
        assert taken.args == [[]]
        assert not view.refusal.isVisible()

        # Changed again in Provet after the view was loaded: the choice is refused, with the reason.
        sandbox.provet.edit_client(second.id, email="third.thoughts@example.org")
        view.select_conflict(by_client[str(second.id)].id)
        with qtbot.waitSignal(view.resolved, timeout=20_000) as refused:
            click(qtbot, view.keep_provet_button)
        assert len(refused.args[0]) == 1 and "changed again in Provet" in refused.args[0][0]
        assert view.refusal.isVisible() and "third.thoughts@example.org" in view.refusal.text()

        with profile.store() as store:
            state = ClientState(store)
            assert state.conflict(by_client[str(first.id)].id).resolution == "xero"
            assert state.conflict(by_client[str(second.id)].id).resolution is None
        qtbot.waitUntil(lambda: "Xero's value kept" in [
            view.model.data(view.model.index_of(c.id).siblingAtColumn(4)) for c in view.model.conflicts()],
            timeout=20_000)
