"""A client's synced fields as each side holds them, compared and written: pure, no I/O.

The fields and the rules for names are described in sync/clients.py; the Xero side of a write is built here so
the contact update (sync/writes/contacts.py) and the client step share one definition.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from provet_xero_gui.provet.records import Client
from provet_xero_gui.sync.contacts import MAX_NAME, client_name, contact_email, named_apart
from provet_xero_gui.xero.client import XeroContactState, fit

FIELDS = ("name", "email", "phone", "street", "postcode", "city", "country", "tax_number")
FIELD_WORDS = {
    "name": "name", "email": "email", "phone": "phone number", "street": "street address",
    "postcode": "postcode", "city": "city", "country": "country", "tax_number": "VAT/tax number",
}  # fmt: skip
XERO_LIMITS = {"name": MAX_NAME, "email": 255, "phone": 50, "street": 500, "postcode": 50, "city": 255,
               "country": 50, "tax_number": 50}  # fmt: skip

SAME, TO_XERO, TO_PROVET, CONFLICT = "same", "to_xero", "to_provet", "conflict"


# --- values on each side ------------------------------------------------------------------------------------


def fold(text: str | None) -> str:
    return " ".join((text or "").split())


def norm(name: str, value: str | None) -> str:
    """What is compared: whitespace folded, cut to Xero's length, email in lower case, country in capitals."""
    text = fit(fold(value), XERO_LIMITS[name])
    if name == "email":
        return text.casefold()
    if name == "country":
        return text.upper()
    return text


def same(name: str, a: str | None, b: str | None) -> bool:
    return norm(name, a) == norm(name, b)


def decide(name: str, base: str | None, provet: str, xero: str, *, has_base: bool = True) -> str:
    """One field: SAME, TO_XERO (Provet changed), TO_PROVET (Xero changed) or CONFLICT."""
    if same(name, provet, xero):
        return SAME
    if not has_base or same(name, xero, base):
        return TO_XERO  # without a base, Xero's value is the base: Provet's differing value wins
    if same(name, provet, base):
        return TO_PROVET
    return CONFLICT


def is_company(client: Client) -> bool:
    return client.customer_type != 0 and bool(client.organization_name)


def suffix(client_id: int | str) -> str:
    return f" (Provet {client_id})"


def provet_values(client: Client, phone: str) -> dict[str, str]:
    return {
        "name": client_name(client),
        "email": contact_email(client.email),
        "phone": fold(phone),
        "street": fold(client.street_address),
        "postcode": fold(client.zip_code),
        "city": fold(client.city),
        "country": fold(client.country),
        "tax_number": fold(client.vat_number),
    }


def xero_values(contact: XeroContactState, client_id: int | str) -> dict[str, str]:
    name = fold(contact.name)
    if name.endswith(suffix(client_id)):
        name = name[: -len(suffix(client_id))]
    phone = dict(contact.default_phone)
    parts = (phone.get("PhoneCountryCode", ""), phone.get("PhoneAreaCode", ""), phone.get("PhoneNumber", ""))
    return {
        "name": name,
        "email": fold(contact.email),
        "phone": fold(" ".join(parts)),
        "street": fold(contact.street),
        "postcode": fold(contact.postcode),
        "city": fold(contact.city),
        "country": fold(contact.country),
        "tax_number": fold(contact.tax_number),
    }


def split_name(value: str, client: Client, xero_first: str = "", xero_last: str = "") -> tuple[str, str]:
    """A person's full name as Provet's first and last name (the rule is in the module docstring)."""
    value = fold(value)
    first, last = fold(xero_first), fold(xero_last)
    if (first or last) and fold(f"{first} {last}") == value:
        return first, last
    first, last = fold(client.firstname), fold(client.lastname)
    if fold(f"{first} {last}") == value:
        return first, last
    if first and value.startswith(first + " "):
        return first, value[len(first) + 1 :]
    if last and value.endswith(" " + last):
        return value[: -len(last) - 1], last
    head, _, tail = value.rpartition(" ")
    return head, tail


def provet_changes(
    client: Client, values: Mapping[str, str], contact: XeroContactState | None = None
) -> tuple[dict[str, str], str | None]:
    """The PATCH body for these field values, and the phone number to write (None: leave it)."""
    body: dict[str, str] = {}
    phone: str | None = None
    for name, raw in values.items():
        v = fold(raw)
        if name == "name":
            if is_company(client):
                body["organization_name"] = v
            else:
                body["firstname"], body["lastname"] = split_name(
                    v, client, contact.first_name if contact else "", contact.last_name if contact else ""
                )
        elif name == "phone":
            phone = v
        else:
            key = {"email": "email", "street": "street_address", "postcode": "zip_code", "city": "city",
                   "country": "country", "tax_number": "vat_number"}[name]  # fmt: skip
            body[key] = v.upper() if name == "country" else v
    return body, phone


def xero_element(client: Client, contact: XeroContactState, values: Mapping[str, str]) -> dict[str, Any]:
    """One `POST Contacts` element: ContactID and only what changes (a changed address is sent whole)."""
    element: dict[str, Any] = {"ContactID": contact.xero_id}
    address = dict(contact.pobox)
    address_changed = False
    for name, raw in values.items():
        v = fold(raw)
        if name == "name":
            if contact.name.endswith(suffix(client.id)):
                element["Name"] = named_apart(v, client.id)
            else:
                element["Name"] = fit(v, MAX_NAME)
            if not is_company(client):
                first, last = split_name(v, client)
                element["FirstName"], element["LastName"] = fit(first, 255), fit(last, 255)
        elif name == "email":
            element["EmailAddress"] = fit(v, 255)
        elif name == "phone":
            element["Phones"] = [{"PhoneType": "DEFAULT", "PhoneNumber": fit(v, 50), "PhoneAreaCode": "",
                                  "PhoneCountryCode": ""}]
        elif name == "tax_number":
            element["TaxNumber"] = fit(v, 50)
        else:
            key, limit = {"street": ("AddressLine1", 500), "postcode": ("PostalCode", 50), "city": ("City", 255),
                          "country": ("Country", 50)}[name]  # fmt: skip
            address[key] = fit(v, limit)
            address_changed = True
    if address_changed:
        address["AddressType"] = "POBOX"
        element["Addresses"] = [address]
    return element


def words(names: Iterable[str]) -> str:
    """The fields as people call them, for messages."""
    return ", ".join(FIELD_WORDS[n] for n in names)
