"""Which Xero contact a Provet client becomes: reuse, or create with a name Xero will accept.

Pure decisions, no I/O. A client's ContactNumber carries its Provet id, so a contact the app made is
always found again. An existing contact made by hand is reused only when exactly one active contact has
the same name and the same email; a different person with a taken name gets a distinguishable name
("Name (Provet 123)") — never a failed invoice, never two people merged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from provet_xero_gui.provet.records import Client
from provet_xero_gui.xero.client import XeroContactState, fit, xero_len

MAX_NAME = 255
MAX_EMAIL = 255


def contact_number(client_id: int) -> str:
    return f"Provet-{client_id}"


def client_name(client: Client) -> str:
    """Xero needs a name: the Provet display name, or a stand-in that still says who it is."""
    name = " ".join(client.display_name.split())
    return fit(name or f"Provet client {client.id}", MAX_NAME)


def distinguished_name(client: Client) -> str:
    return named_apart(client_name(client), client.id)


def named_apart(name: str, client_id: int | str) -> str:
    """`name` with the client's " (Provet 123)" suffix (kept once when it has it), cut to fit Xero: the name a
    contact takes when its plain name belongs to another contact."""
    suffix = f" (Provet {client_id})"
    plain = name[: -len(suffix)] if name.endswith(suffix) else name
    return fit(plain, MAX_NAME - len(suffix)) + suffix


def contact_email(email: str) -> str:
    """The client's email as Xero can take it, or none: an address longer than Xero holds is left out
    (cut short it would be no address, and Xero would refuse the whole contact, holding its invoices)."""
    email = email.strip()
    return email if "@" in email and xero_len(email) <= MAX_EMAIL else ""


def contact_payload(client: Client, name: str, phone: str = "") -> dict[str, Any]:
    body: dict[str, Any] = {
        "Name": name,
        "ContactNumber": contact_number(client.id),
        "FirstName": fit(client.firstname, 255) if client.customer_type == 0 else "",
        "LastName": fit(client.lastname, 255) if client.customer_type == 0 else "",
        "EmailAddress": contact_email(client.email),
        "TaxNumber": fit(client.vat_number, 50),
        "Addresses": [
            {
                "AddressType": "POBOX",
                "AddressLine1": fit(client.street_address, 500),
                "AddressLine2": fit(client.street_address_2, 500),
                "City": fit(client.city, 255),
                "PostalCode": fit(client.zip_code, 50),
                "Country": client.country,
            }
        ],
    }
    if phone:
        body["Phones"] = [{"PhoneType": "DEFAULT", "PhoneNumber": fit(phone, 50)}]
    return body


@dataclass(frozen=True)
class ContactPlan:
    """For each client: an existing contact to link, or a name to create it under."""

    reuse: dict[int, str]  # client id → ContactID
    create: dict[int, str]  # client id → Name to create with


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def plan_contacts(clients: Sequence[Client], existing: Iterable[XeroContactState]) -> ContactPlan:
    existing = list(existing)
    by_number = {c.contact_number: c for c in existing if c.contact_number}
    active_by_name: dict[str, list[XeroContactState]] = {}
    for c in existing:
        if c.status == "ACTIVE":
            active_by_name.setdefault(_norm(c.name), []).append(c)

    reuse: dict[int, str] = {}
    create: dict[int, str] = {}
    taken = set(active_by_name)
    claimed: set[str] = set()  # a hand-made contact stands for one client at most
    for client in sorted(clients, key=lambda c: c.id):
        mine = by_number.get(contact_number(client.id))
        if mine is not None:
            reuse[client.id] = mine.xero_id
            continue
        name = client_name(client)
        same_name = active_by_name.get(_norm(name), [])
        if (
            len(same_name) == 1
            and not same_name[0].contact_number
            and client.email
            and _norm(same_name[0].email) == _norm(client.email)
            and same_name[0].xero_id not in claimed
        ):
            reuse[client.id] = same_name[0].xero_id  # the same person, entered by hand in Xero
            claimed.add(same_name[0].xero_id)
            continue
        if _norm(name) in taken:
            name = distinguished_name(client)
        taken.add(_norm(name))
        create[client.id] = name
    return ContactPlan(reuse, create)
