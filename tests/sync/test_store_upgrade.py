"""A profile kept by the version before allocations and sent documents had tables of their own (schema 2)
upgrades in place: its allocation links (`allocation_due` with JSON, `none:` sentinels, "<credit note>:<invoice>"
ids) become allocations, what it sent is read back from its journal, and the app goes on as if nothing happened:
nothing is sent twice, the allocation it had not made yet is made, and the tie-out still explains a change."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from helpers.exactly_once import assert_exactly_once

from provet_xero_gui.mapping import Mapping
from provet_xero_gui.provet.source import ProvetSource
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID, RowSpec
from provet_xero_gui.sandbox.runner import demo_mapping
from provet_xero_gui.store import SCHEMA_VERSION, Store
from provet_xero_gui.store.allocations import Allocations
from provet_xero_gui.store.migrations import MIGRATIONS
from provet_xero_gui.store.sent import SentDocuments
from provet_xero_gui.tieout import EXPLAINED, TieOut

from .conftest import World

SEPTEMBER = (date(2026, 9, 1), date(2026, 9, 30))
_TABLES = ("bindings", "links", "cursors", "journal", "attention", "client_fields", "conflicts", "log")


def _as_schema_2(path: Path) -> None:
    """Write the store at `path` again as provet-xero kept it at schema 2, from that schema's own DDL: the same
    rows, allocations as the links they were then, and nothing of what was sent but the journal."""
    old = path.with_name("schema2.sqlite3")
    db = sqlite3.connect(old, isolation_level=None)
    db.executescript(MIGRATIONS[0])
    db.executescript(MIGRATIONS[1])
    db.execute("ATTACH DATABASE ? AS now", (str(path),))
    db.execute("DELETE FROM bindings")
    for table in _TABLES:
        db.execute(f"INSERT INTO main.{table} SELECT * FROM now.{table}")
    link = "INSERT INTO links VALUES (1, ?, ?, ?, NULL, ?, ?, ?)"
    for cn, original, total, day, label, state, xcn, xinv, amount, at in db.execute(
        "SELECT credit_note, original, total, date, label, state, xero_credit_note_id, xero_invoice_id, amount, "
        "created_at FROM now.allocations WHERE scope = 1"
    ).fetchall():
        if original is not None:  # recorded with the credit note, and kept after the allocation was made
            due = json.dumps({"original": int(original), "total": total, "date": day, "label": label})
            db.execute(link, ("allocation_due", cn, f"due:{cn}", due, at, at))
        if state == "done":
            db.execute(link, ("allocation", cn, f"{xcn}:{xinv}", amount, at, at))
        elif state == "skipped":
            db.execute(link, ("allocation", cn, f"none:{cn}", "0", at, at))
    db.execute("DETACH DATABASE now")
    db.execute("PRAGMA user_version = 2")
    db.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    old.replace(path)


def _settled_with_credit(world: World, original_id: int) -> Decimal:
    return sum((p.paid for p in world.sandbox.provet.payments_for(original_id)
                if p.payment_type == 12 and p.status == 3 and p.paid > 0), Decimal(0))


def test_a_schema_2_profile_upgrades_in_place_and_goes_on_as_before(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    provet = world.sandbox.provet
    client = provet.clients()[0]
    row = RowSpec("Surgery", Decimal(1), Decimal(50), Decimal(20), "200")
    # Paid in full before it was credited: the credit note settles nothing on it, so it is never allocated.
    paid = provet.add_invoice(client.id, [row], invoice_date=date(2026, 9, 8))
    provet.add_payment(paid.id, "60.00")
    unallocated = provet.credit_invoice(paid.id, refund_payment_type=None)
    edited = provet.add_invoice(client.id, [row], invoice_date=date(2026, 9, 10))
    notes = [i for i in provet.invoices() if i.status == 3 and i.credit_note and i.credit_note_original_invoice_id
             and i.client_id is not None and _settled_with_credit(world, i.credit_note_original_invoice_id) > 0]
    assert len(notes) >= 2
    later = notes[0]  # the pass stops before allocating this one: it is still due when the profile is upgraded

    real_due, held = Allocations.due, str(later.id)
    monkeypatch.setattr(Allocations, "due", lambda self: {k: d for k, d in real_due(self).items() if k != held})
    assert world.engine().run_pass().stopped is None
    monkeypatch.undo()
    state = world.state
    sent_ids = [*state.links("invoice"), *state.links("credit_note")]
    sent_before = state.sent_documents(sent_ids)
    allocated_before = {a.credit_note_id: a.amount for a in world.sandbox.xero.allocations(CLINIC_TENANT_ID)}
    assert len(allocated_before) == len(notes) - 1 and sent_before.keys() == set(sent_ids)
    made = {str(n.id): f"{state.link('credit_note', n.id).xero_id}:"
            f"{state.link('invoice', n.credit_note_original_invoice_id).xero_id}" for n in notes[1:]}

    path = world.store.path
    world.store.close()
    _as_schema_2(path)
    with sqlite3.connect(path) as db:  # what the old version kept, as it kept it
        kept = {(k, p): x for k, p, x in db.execute("SELECT kind, provet_id, xero_id FROM links "
                                                     "WHERE kind IN ('allocation', 'allocation_due')")}
        assert "sent_documents" not in {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    assert ("allocation_due", str(later.id)) in kept and ("allocation", str(later.id)) not in kept
    assert kept[("allocation", str(unallocated.id))] == f"none:{unallocated.id}"
    for cn, xero_ids in made.items():
        assert kept[("allocation", cn)] == xero_ids and ("allocation_due", cn) in kept

    world.store = Store(path)
    state = world.state
    assert world.store.schema_version == SCHEMA_VERSION
    assert set(state.pending_allocations()) == {str(later.id)}
    assert state.pending_allocations()[str(later.id)].original == str(later.credit_note_original_invoice_id)
    for note in notes[1:]:
        assert state.allocated(str(note.id))
    assert not state.allocated(str(unallocated.id))
    assert state.sent_documents(sent_ids) == sent_before  # read back from the journal as the live record has it
    assert "linked_allocation_due" not in state.counts() and state.counts()["linked_allocation"] == len(notes) - 1

    again = world.engine().run_pass()
    assert again.stopped is None
    assert not again.sent.get("invoice") and not again.sent.get("credit_note")
    assert_exactly_once(world.sandbox)
    allocated = {a.credit_note_id: a.amount for a in world.sandbox.xero.allocations(CLINIC_TENANT_ID)}
    settled = _settled_with_credit(world, later.credit_note_original_invoice_id)
    assert allocated == {**allocated_before, state.link("credit_note", later.id).xero_id: settled}
    assert state.link("credit_note", unallocated.id).xero_id not in allocated
    assert state.pending_allocations() == {} and state.allocated(str(later.id))

    # Changed in Xero after the upgrade: the tie-out tells it from what was sent before it.
    doc = world.sandbox.xero.invoice(CLINIC_TENANT_ID, state.link("invoice", edited.id).xero_id)
    line = doc.line_items[0]
    world.sandbox.xero.edit_invoice(CLINIC_TENANT_ID, doc.doc_id, LineItems=[{
        "Description": line.description, "Quantity": 1, "UnitAmount": 55, "AccountCode": line.account_code,
        "TaxType": line.tax_type}])
    report = TieOut(ProvetSource(world.provet), world.xero, state, Mapping.from_json(demo_mapping())).run(*SEPTEMBER)
    assert report.status == EXPLAINED
    differences = [(line, d) for day in report.days for line, d in day.differences if line.kind != "held"]
    assert differences and {d.cause for _line, d in differences} == {"changed_in_xero"}
    assert all(d.provet_ref == f"invoice:{edited.id}" and "was sent" in d.reason for _line, d in differences)


def test_the_upgrade_keeps_what_it_cannot_read_as_it_was(tmp_path: Path) -> None:
    """A journal entry whose documents are not the app's usual JSON is left alone, not a failed upgrade."""
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(MIGRATIONS[0])
    db.executescript(MIGRATIONS[1])
    db.execute("INSERT INTO journal (idempotency_key, endpoint, payload, documents, state, created_at) VALUES "
               "('k1', 'PUT Invoices', 'not json', '[]', 'done', 'now'), "
               "('k2', 'PUT Invoices', '[{\"LineItems\": [{\"Quantity\": 2}]}]', "
               "'[{\"kind\": \"invoice\", \"provet_id\": \"5\", \"total\": \"12.00\", \"date\": \"2026-09-01\"}]', "
               "'done', 'now')")
    db.execute("PRAGMA user_version = 2")
    db.close()
    with Store(path) as store:
        got = SentDocuments(store).get(["5"])
        assert got["5"].total == Decimal("12.00") and got["5"].lines[0].quantity == 2
        assert got["5"].lines[0].tax_amount is None and got["5"].lines[0].account_code == ""
        assert store.query("SELECT COUNT(*) FROM journal")[0][0] == 2
