"""Making contacts (`PUT Contacts`) and updating their details (`POST Contacts` with ContactID).

Both take a distinguishable name ("Name (Provet 123)") when Xero answers that the plain name belongs to another
contact: the writer sends those elements again, once, under that name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from provet_xero_gui.provet.records import Client
from provet_xero_gui.store.sync_state import NewLink
from provet_xero_gui.sync.client_fields import words, xero_element
from provet_xero_gui.sync.contacts import contact_payload, named_apart
from provet_xero_gui.sync.events import DocumentHeld, DocumentSent
from provet_xero_gui.sync.writes.base import Batch, Recorded, Ref, Refusal, Services
from provet_xero_gui.xero.client import XeroContactState


@dataclass(frozen=True)
class ContactBatch(Batch, register=False):
    """Contacts written in a batch: an element refused for its name goes again under "Name (Provet 123)"."""

    taken_words: ClassVar[tuple[str, ...]]  # what Xero says when a contact's name belongs to another one

    @staticmethod
    def ok(res: XeroContactState | None) -> bool:
        raise NotImplementedError

    def renamable(self, index: int, answer: Any) -> bool:
        if answer is None or self.ok(answer) or not any(w in m for m in answer.errors for w in self.taken_words):
            return False
        name = self.bodies[index].get("Name")
        return name is not None and named_apart(name, self.refs[index].provet_id) != name

    def renamed(self, indices: Sequence[int]) -> Self:
        bodies = []
        for i in indices:
            body = self.bodies[i]
            bodies.append({**body, "Name": named_apart(body["Name"], self.refs[i].provet_id)})
        return type(self)(tuple(bodies), tuple(self.relabelled(self.refs[i], b["Name"])
                                               for i, b in zip(indices, bodies, strict=True)))

    def relabelled(self, doc: Any, name: str) -> Any:
        """The reference of an element sent again under `name`."""
        return doc


class CreateContacts(ContactBatch):
    """New contacts for Provet clients; a refused one is told with its invoices by the engine."""

    legacy_endpoint = "PUT Contacts"
    taken_words = ("already assigned", "unique")

    @classmethod
    def of(cls, clients: Sequence[tuple[Client, str, str]]) -> CreateContacts:
        """(client, name, first phone number) per contact."""
        return cls(tuple(contact_payload(c, name, phone) for c, name, phone in clients),
                   tuple(Ref("contact", str(c.id), f"Client {name}") for c, name, _phone in clients))

    def relabelled(self, doc: Any, name: str) -> Any:
        return Ref(doc.kind, doc.provet_id, f"Client {name}")

    @staticmethod
    def ok(res: XeroContactState | None) -> bool:
        return res is not None and bool(res.xero_id) and not res.has_errors

    def send(self, to: Services, key: str) -> list[XeroContactState]:
        return to.xero.put_contacts(list(self.bodies), key)

    def record(self, answers: Sequence[tuple[Any, Any]], to: Services) -> Recorded:
        return Recorded(links=[NewLink("contact", doc.provet_id, res.xero_id, res.contact_number)
                               for doc, res in answers if self.ok(res)])


@dataclass(frozen=True)
class ContactChange(Ref):
    """A linked client whose changed details go to its Xero contact."""

    contact_id: str = ""
    fields: tuple[str, ...] = ()


class UpdateContacts(ContactBatch):
    """Changed client details to their linked contacts; the bases are saved by the client step."""

    taken_words = ("already assigned",)
    reference = ContactChange

    @classmethod
    def of(cls, changes: Sequence[tuple[Client, XeroContactState, Mapping[str, str], str]]) -> UpdateContacts:
        """(client, its contact, the values to write, the client's label) per contact."""
        return cls(tuple(xero_element(client, contact, values) for client, contact, values, _label in changes),
                   tuple(ContactChange("client", str(client.id), label, contact.xero_id, tuple(values))
                         for client, contact, values, label in changes))

    @staticmethod
    def ok(res: XeroContactState | None) -> bool:
        return res is not None and not res.errors and not res.has_errors

    def send(self, to: Services, key: str) -> list[XeroContactState]:
        return to.xero.update_contacts(list(self.bodies), key)

    def record(self, answers: Sequence[tuple[Any, Any]], to: Services) -> Recorded:
        out = Recorded()
        for doc, res in answers:
            if self.ok(res):
                out.done.append(DocumentSent("contact_update", doc.provet_id, f"{doc.label}: {words(doc.fields)}",
                                             doc.contact_id))
            else:
                why = "; ".join(res.errors) if res is not None and res.errors else "no reason given"
                r = self.refusal(doc)
                out.held.append(DocumentHeld(r.kind, doc.provet_id, doc.label, r.cause, f"{r.what}: {why}", r.fix))
        return out

    def refusal(self, doc: Any) -> Refusal:
        return Refusal("client", "contact_rejected", f"Xero refused the changed {words(doc.fields)}",
                       "Correct the client's details in Provet; they are sent on the next sync after that change.")
