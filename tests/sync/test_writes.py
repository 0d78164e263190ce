"""Writes as types, against the sandbox: a journal entry of any kind of write (a kind written after this
version, or the endpoint strings older versions journaled) is finished by the next pass exactly once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

import pytest

from provet_xero_gui.provet.source import ProvetSource
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID
from provet_xero_gui.store.sync_state import NewLink
from provet_xero_gui.sync.clients import ClientSync
from provet_xero_gui.sync.outcomes import Outcomes
from provet_xero_gui.sync.writes import (
    AllocateCreditNote,
    CancelProvetPayment,
    CreateContacts,
    CreateCreditNotes,
    CreateInvoices,
    CreatePayments,
    DeletePayment,
    PostProvetPayment,
    Ref,
    Services,
    UpdateContacts,
    VoidCreditNote,
    VoidInvoice,
    Write,
)
from provet_xero_gui.sync.writes.base import Recorded, Single
from provet_xero_gui.xero.client import XeroValidationError

from .conftest import World

T = CLINIC_TENANT_ID


@dataclass(frozen=True)
class RenameContact(Single):
    """A kind of write this version does not have, defined the way a new one would be: one class."""

    contact_id: str
    name: str

    @classmethod
    def from_journal(cls, payload: Any, documents: Sequence[Mapping[str, Any]]) -> Self:
        return cls(Ref.from_json(documents[0]), payload["ContactID"], payload["Name"])

    def payload(self) -> Any:
        return {"ContactID": self.contact_id, "Name": self.name}

    def send(self, to: Services, key: str) -> list[Any]:
        return to.xero.update_contacts([self.payload()], key)

    def record(self, answers: Sequence[tuple[Any, Any]], to: Services) -> Recorded:
        return Recorded(links=[NewLink("renamed", doc.provet_id, res.xero_id) for doc, res in answers])


def _pending(world: World) -> list[str]:
    return [e.endpoint for e in world.state.pending()]


def test_a_new_kind_of_write_is_replayed_from_the_journal(world: World) -> None:
    world.engine().run_pass()
    cid, link = next(iter(world.state.links("contact").items()))
    # Journaled and not sent: as if the pass that began it was killed before the call.
    world.state.begin("RenameContact", {"ContactID": link.xero_id, "Name": "Renamed By A New Write"},
                      [{"kind": "contact", "provet_id": cid, "label": "A client"}])
    assert _pending(world) == ["RenameContact"]
    posts = world.xero.calls.get("POST Contacts", 0)
    result = world.engine().run_pass()
    assert result.stopped is None, result.stopped
    assert world.sandbox.xero.contact(T, link.xero_id).name == "Renamed By A New Write"
    assert world.state.link("renamed", cid) is not None and _pending(world) == []
    assert world.xero.calls.get("POST Contacts", 0) == posts + 1  # sent once (the name goes to Provet, not back)
    world.engine().run_pass()
    assert world.xero.calls.get("POST Contacts", 0) == posts + 1  # finished: not sent again


def test_every_endpoint_string_older_versions_journaled_has_its_write() -> None:
    assert {name: Write.named(name) for name in (
        "PUT Contacts", "PUT Invoices", "PUT CreditNotes", "PUT Allocation", "POST Void", "POST VoidCreditNote",
        "PUT Payments", "POST DeletePayment", "PROVET POST payment", "PROVET cancel payment")} == {
        "PUT Contacts": CreateContacts, "PUT Invoices": CreateInvoices, "PUT CreditNotes": CreateCreditNotes,
        "PUT Allocation": AllocateCreditNote, "POST Void": VoidInvoice, "POST VoidCreditNote": VoidCreditNote,
        "PUT Payments": CreatePayments, "POST DeletePayment": DeletePayment,
        "PROVET POST payment": PostProvetPayment, "PROVET cancel payment": CancelProvetPayment,
    }
    with pytest.raises(ValueError, match="unknown journal endpoint"):
        Write.named("PUT Nothing")


# What the previous version journaled for each endpoint string (payload, documents), as it wrote them.
_OLD_ENTRIES = {
    "PUT Contacts": ([{"Name": "Ann Lee", "ContactNumber": "Provet-7"}],
                     [{"kind": "contact", "provet_id": "7", "label": "Client Ann Lee"}]),
    "PUT Invoices": ([{"Type": "ACCREC", "InvoiceNumber": "1001", "LineItems": []}],
                     [{"kind": "invoice", "provet_id": "11", "label": "Invoice 1001", "number": "1001",
                       "total": "12.50", "date": "2026-10-01", "original": None}]),
    "PUT CreditNotes": ([{"Type": "ACCRECCREDIT", "CreditNoteNumber": "1002", "LineItems": []}],
                        [{"kind": "credit_note", "provet_id": "12", "label": "Credit note 1002", "number": "1002",
                          "total": "2.50", "date": "2026-10-02", "original": 11}]),
    "PUT Allocation": ({"CreditNoteID": "cn-1", "InvoiceID": "inv-1", "Amount": "2.50", "Date": "2026-10-02"},
                       [{"kind": "allocation", "provet_id": "12", "label": "Allocation of Credit note 1002"}]),
    "POST Void": ({"InvoiceID": "inv-1"}, [{"kind": "void", "provet_id": "11", "label": "Invoice 1001"}]),
    "POST VoidCreditNote": ({"CreditNoteID": "cn-1"},
                            [{"kind": "void", "provet_id": "12", "label": "Credit note 1002"}]),
    "PUT Payments": ([{"Invoice": {"InvoiceID": "inv-1"}, "Account": {"Code": "090"}, "Date": "2026-10-03",
                       "Amount": 12.5, "Reference": "Provet payment #5"}],
                     [{"kind": "payment", "provet_id": "5", "label": "Payment #5 (12.50) on Provet invoice 11"}]),
    "POST DeletePayment": ({"PaymentID": "pay-1"},
                           [{"kind": "payment", "provet_id": "5", "label": "Cancelled Provet payment #5"}]),
    "PROVET POST payment": ({"invoice_id": 11, "amount": "3.00", "date": "2026-10-04", "method_id": 2,
                             "xero_payment_id": "xp-1"},
                            [{"kind": "xero_payment", "provet_id": "xp-1", "label": "Xero payment of 3.00"}]),
    "PROVET cancel payment": ({"payment_id": "9", "xero_payment_id": "xp-1"},
                              [{"kind": "xero_payment", "provet_id": "9", "label": "Deleted Xero payment"}]),
}


@pytest.mark.parametrize("endpoint", sorted(_OLD_ENTRIES))
def test_an_old_entry_reads_as_its_write_and_journals_the_same_body(endpoint: str) -> None:
    payload, documents = _OLD_ENTRIES[endpoint]
    write = Write.named(endpoint).from_journal(payload, documents)
    assert write.references() == documents
    again = Write.named(write.type_name()).from_journal(write.payload(), write.references())
    assert again == write
    if endpoint == "PROVET cancel payment":  # the id was journaled as text; it is a number
        assert write.payload() == {**payload, "payment_id": 9}
    else:
        assert write.payload() == payload


def test_an_old_style_entry_unfinished_at_upgrade_replays_exactly_once(world: World, monkeypatch) -> None:
    """The previous version sent an invoice batch, Xero took it, and the process died before the answer was
    recorded; the new version finishes it from the journal, under its old endpoint string."""

    def killed(*_args, **_kwargs):
        raise KeyboardInterrupt  # Xero took the batch; the answer is never recorded

    monkeypatch.setattr(CreateInvoices, "record", killed)
    with pytest.raises(KeyboardInterrupt):
        world.engine().run_pass()
    monkeypatch.undo()
    [entry] = world.state.pending()
    taken = {d.number for d in world.xero_invoices()}
    sent = [d["number"] for d in entry.documents]
    assert sent and set(sent) <= taken and not world.state.links("invoice", [d["provet_id"] for d in entry.documents])
    with world.store.transaction() as db:  # what the previous version journaled for it
        db.execute("UPDATE journal SET endpoint = 'PUT Invoices' WHERE id = ?", (entry.id,))
    puts = world.xero.calls.get("PUT Invoices", 0)
    result = world.engine().run_pass()
    assert result.stopped is None, result.stopped
    assert _pending(world) == []
    numbers = [d.number for d in world.xero_invoices()]
    assert len(numbers) == len(set(numbers))  # none twice
    links = world.state.links("invoice", [d["provet_id"] for d in entry.documents])
    assert sorted(link.xero_id for link in links.values()) == sorted(
        d.doc_id for d in world.xero_invoices() if d.number in sent)
    # Replayed once (with its key), and the rest of the first pass's invoices sent after it.
    assert world.xero.calls.get("PUT Invoices", 0) > puts
    assert world.engine().run_pass().sent.get("invoice", 0) == 0


def test_a_contact_update_interrupted_after_the_write_replays_without_a_second_write(
    world: World, monkeypatch
) -> None:
    world.engine().run_pass()
    ClientSync(ProvetSource(world.provet), world.xero, world.state, Outcomes(world.state, world.events.append)).run()
    cid, link = next((p, k) for p, k in world.state.links("contact").items()
                     if world.sandbox.provet.client(int(p)).customer_type == 0)
    world.sandbox.provet.edit_client(int(cid), email="after.the.crash@example.org")

    def killed(*_args, **_kwargs):
        raise KeyboardInterrupt  # Xero took the change; the process died before the answer was recorded

    monkeypatch.setattr(UpdateContacts, "record", killed)
    with pytest.raises(KeyboardInterrupt):
        ClientSync(ProvetSource(world.provet), world.xero, world.state, Outcomes(world.state, lambda _e: None)).run()
    monkeypatch.undo()
    assert _pending(world) == ["UpdateContacts"]
    written = world.sandbox.xero.contact(T, link.xero_id)
    assert written.email == "after.the.crash@example.org"
    result = world.engine().run_pass()
    assert result.stopped is None, result.stopped
    assert _pending(world) == []
    # The replay got Xero's stored answer for its key: the contact is exactly as the one write left it.
    assert world.sandbox.xero.contact(T, link.xero_id) == written
    assert [a for a in world.state.attention() if a.kind == "client"] == []


def test_a_contact_update_batch_refused_whole_goes_again_one_by_one(world: World, monkeypatch) -> None:
    """The split every batch write shares: a 400 for the whole request (one element Xero cannot read) sends
    the others on their own, and only the bad one waits."""
    world.engine().run_pass()
    ClientSync(ProvetSource(world.provet), world.xero, world.state, Outcomes(world.state, lambda _e: None)).run()
    links = world.state.links("contact")
    people = sorted(int(p) for p in links if world.sandbox.provet.client(int(p)).customer_type == 0)[:3]
    for n, cid in enumerate(people):
        world.sandbox.provet.edit_client(cid, email=f"split{n}@example.org")
    bad = links[str(people[1])].xero_id
    update = world.xero.update_contacts

    def strict(contacts, key):
        if any(c["ContactID"] == bad for c in contacts):
            raise XeroValidationError(["The request could not be read"])
        return update(contacts, key)

    monkeypatch.setattr(world.xero, "update_contacts", strict)
    report = ClientSync(ProvetSource(world.provet), world.xero, world.state,
                        Outcomes(world.state, lambda _e: None)).run()
    assert report.contacts_updated == 2 and report.refused == 1
    emails = [world.sandbox.xero.contact(T, links[str(cid)].xero_id).email for cid in people]
    assert emails[0] == "split0@example.org" and emails[2] == "split2@example.org" and emails[1] != "split1@example.org"
    [held] = [a for a in world.state.attention() if a.kind == "client"]
    assert (held.provet_id, held.cause) == (str(people[1]), "contact_rejected")
    assert "Xero refused the changed email: The request could not be read" in held.reason
    assert _pending(world) == []
