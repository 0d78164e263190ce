"""The store's repositories on their own: allocations, what was sent, the log and attention, each kept per
organisation (binding) and written in the transactions the sync relies on."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from provet_xero_gui.store import Bindings, Log, Store
from provet_xero_gui.store.allocations import AllocationDue, AllocationMade, Allocations
from provet_xero_gui.store.sent import SentDocuments, SentLine
from provet_xero_gui.store.sync_state import NewLink, SyncState


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store(tmp_path / "s.sqlite3") as s:
        yield s


def _invoice_body(*amounts: str, tax: str | None = None) -> dict:
    lines = [{"AccountCode": "200", "TaxType": "OUTPUT2", "Quantity": 1.0, "UnitAmount": float(a)} for a in amounts]
    if tax is not None:
        lines[0]["TaxAmount"] = float(tax)
    return {"Date": "2026-09-02", "LineItems": lines}


def _doc(pid: str, total: str, kind: str = "invoice", **more: object) -> dict:
    return {"kind": kind, "provet_id": pid, "label": f"Invoice {pid}", "number": f"N-{pid}", "total": total,
            "date": "2026-09-01", **more}


def test_an_allocation_is_due_with_its_credit_note_and_made_once(store: Store) -> None:
    state = SyncState(store)
    due = AllocationDue("7", "3", Decimal("12.00"), "2026-09-01", "Credit note 7")
    entry = state.begin("PUT CreditNotes", [_invoice_body("10")], [_doc("7", "12.00", "credit_note", original=3)])
    state.finish(entry, [NewLink("credit_note", "7", "CN7")], allocations=[due])
    assert state.pending_allocations() == {"7": due}

    allocate = state.begin("PUT Allocation", {"CreditNoteID": "CN7"}, [{"kind": "allocation", "provet_id": "7"}])
    state.finish(allocate, [], allocations=[AllocationMade("7", "CN7", "INV3", Decimal("5.00"))])
    assert state.pending_allocations() == {} and state.allocated("7")
    # The credit note recorded again (a lost answer claimed back) is not due again.
    state.finish(state.begin("PUT CreditNotes", [], []), [], allocations=[due])
    assert state.pending_allocations() == {} and state.allocated("7")
    assert state.counts()["linked_allocation"] == 1


def test_what_is_allocated_to_an_invoice_counts_only_allocations_made(store: Store) -> None:
    state = SyncState(store)
    with store.transaction() as db:
        Allocations.write(db, [AllocationMade("1", "CN1", "INV9", Decimal("2.50")),
                               AllocationMade("2", "CN2", "INV9", Decimal("1.25")),
                               AllocationMade("3", "CN3", "INV8", Decimal("4.00")),
                               AllocationDue("4", "9", Decimal("3.00"), "2026-09-01", "Credit note 4")])
    state.skip_allocation("4")
    assert state.allocated_to("INV9") == Decimal("3.75") and state.allocated_to("INV7") == 0
    assert state.pending_allocations() == {} and not state.allocated("4")


def test_what_was_sent_is_kept_per_document_newest_write_first(store: Store) -> None:
    state = SyncState(store)
    first = state.begin("PUT Invoices", [_invoice_body("10", "20", tax="2.00"), _invoice_body("5")],
                        [_doc("1", "32.00"), _doc("2", "6.00")])
    state.finish(first, [NewLink("invoice", "1", "X1")])
    again = state.begin("PUT Invoices", [_invoice_body("11")], [_doc("1", "13.20")])
    state.finish(again, [NewLink("invoice", "1", "X1")])
    refused = state.begin("PUT Invoices", [_invoice_body("99")], [_doc("2", "118.80")])
    state.finish(refused, [], {"error": ["no"]}, failed=True)  # a failed write sent nothing

    sent = state.sent_documents(["1", "2", "3"])
    assert set(sent) == {"1", "2"}
    assert sent["1"].total == Decimal("13.20") and sent["1"].date == "2026-09-01"
    assert sent["1"].lines == (SentLine("200", "OUTPUT2", Decimal("1.0"), Decimal("11.0"), None, None),)
    assert sent["2"].total == Decimal("6.00") and len(sent["2"].lines) == 1


def test_contacts_payments_and_voids_are_not_sent_documents(store: Store) -> None:
    state = SyncState(store)
    for endpoint, payload, doc in (
        ("PUT Contacts", [{"Name": "A"}], {"kind": "contact", "provet_id": "1", "label": "Client A"}),
        ("POST Void", {"InvoiceID": "X1"}, {"kind": "void", "provet_id": "1", "label": "Invoice 1"}),
        ("PUT Payments", [{"Amount": 1}], {"kind": "payment", "provet_id": "1", "label": "Payment 1"}),
    ):
        state.finish(state.begin(endpoint, payload, [doc]), [])
    assert SentDocuments(store).get(["1"]) == {}


def test_every_organisation_keeps_its_own(store: Store) -> None:
    state = SyncState(store)
    state.finish(state.begin("PUT Invoices", [_invoice_body("10")], [_doc("1", "12.00")]), [],
                 allocations=[AllocationDue("5", "1", Decimal("1"), "2026-09-01", "Credit note 5")])
    Bindings(store).claim("tenant-A", "A", None)
    Bindings(store).new("tenant-B", "B", None, "2026-10-01")
    assert state.sent_documents(["1"]) == {} and state.pending_allocations() == {}
    Bindings(store).activate(1)
    assert set(state.sent_documents(["1"])) == {"1"} and set(state.pending_allocations()) == {"5"}


def test_the_log_answers_what_the_window_asks(store: Store) -> None:
    log = Log(store)
    assert log.newest_id() == 0
    log.append("info", "DocumentSent", "Sent contact", "contact", "4")
    log.append("info", "DocumentSent", "Sent invoice", "invoice", "9")
    for n in range(25):
        log.append("info", "Note", f"line {n}", "invoice", "9")
    assert log.sent_since("2000-01-01") == 1 and log.sent_since("2999-01-01") == 0
    history = log.document_history("invoice", "9")
    assert len(history) == 20 and history[0].message == "line 5" and history[-1].message == "line 24"
    assert log.newest_id() == 27 and [e.id for e in log.read(after_id=25)] == [26, 27]


def test_attention_for_one_document(store: Store) -> None:
    state = SyncState(store)
    state.hold("invoice", 3, "Invoice 3", "lock_date", "locked", "move it")
    state.hold("invoice", 4, "Invoice 4", "lock_date", "locked", "move it")
    assert [(i.provet_id, i.reason) for i in state.attention_for("invoice", "3")] == [("3", "locked")]
    state.add_links([NewLink("invoice", "3", "X3")])  # in Xero: nothing to do any more
    assert state.attention_for("invoice", "3") == [] and state.counts()["attention"] == 1
    assert state.oldest_link("invoice").xero_id == "X3" and state.oldest_link("contact") is None
