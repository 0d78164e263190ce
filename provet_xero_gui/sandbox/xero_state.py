"""The simulated Xero organisations: records, Xero's business rules and its arithmetic.

No HTTP here. Records are frozen dataclasses; a change replaces a record in its table through a
`Txn`, so a batch that fails with summarizeErrors=true is rolled back exactly, and test code can
hold a record without it changing under it. Callers hold the sandbox lock around every call.

Money is Decimal throughout; line tax is rounded per line to 2 dp (half away from zero) and then
summed, as Xero does.
"""

from __future__ import annotations

import logging
import random
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from provet_xero_gui.sandbox.seed import XeroOrgSeed

log = logging.getLogger(__name__)

CENT = Decimal("0.01")
UNIT4 = Decimal("0.0001")
ZERO = Decimal("0")
HUNDRED = Decimal("100")
NO_TAX = "NONE"  # always usable at 0 %, like Xero's "No VAT"/"Tax Exempt" default
TAX_AMOUNT_TOLERANCE = Decimal("0.01")  # a line's given TaxAmount may differ from Xero's own by this much
MAX_DESCRIPTION = 4000  # a line item's description (Xero's developer docs; the OpenAPI file gives no maximum)

_MS_DATE = re.compile(r"^/Date\((?P<ms>-?\d+)(?P<tz>[+-]\d{4})?\)/$")
_ISO_DATE = re.compile(r"^(?P<d>\d{4}-\d{2}-\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")

ADDRESS_TYPES = ("POBOX", "STREET")
PHONE_TYPES = ("DEFAULT", "DDI", "MOBILE", "FAX")
_ADDRESS_LIMITS = {
    "AddressLine1": 500, "AddressLine2": 500, "AddressLine3": 500, "AddressLine4": 500,
    "City": 255, "Region": 255, "PostalCode": 50, "Country": 50, "AttentionTo": 255,
}
_PHONE_LIMITS = {"PhoneNumber": 50, "PhoneAreaCode": 10, "PhoneCountryCode": 20}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

ACCOUNT_CLASS = {
    "BANK": "ASSET", "CURRENT": "ASSET", "FIXED": "ASSET", "INVENTORY": "ASSET", "NONCURRENT": "ASSET",
    "PREPAYMENT": "ASSET", "CURRLIAB": "LIABILITY", "LIABILITY": "LIABILITY", "TERMLIAB": "LIABILITY",
    "PAYG": "LIABILITY", "EQUITY": "EQUITY", "DEPRECIATN": "EXPENSE", "DIRECTCOSTS": "EXPENSE",
    "EXPENSE": "EXPENSE", "OVERHEADS": "EXPENSE", "OTHERINCOME": "REVENUE", "REVENUE": "REVENUE",
    "SALES": "REVENUE",
}


class Invalid(Exception):
    """One element failed Xero's validation; `messages` are Xero's ValidationErrors."""

    def __init__(self, messages: Iterable[str]) -> None:
        self.messages = list(messages)
        super().__init__("; ".join(self.messages))


class NotFound(Exception):
    """The addressed document does not exist in this organisation (HTTP 404)."""


# ---------------------------------------------------------------------------------------------
# Parsing and formatting helpers (shared with the HTTP layer)


def parse_date(value: Any) -> date:
    """Xero accepts "2024-03-20", "2024-03-20T00:00:00" and "/Date(1710892800000+0000)/"."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    m = _MS_DATE.match(text)
    if m:
        return datetime.fromtimestamp(int(m["ms"]) / 1000, tz=UTC).date()
    m = _ISO_DATE.match(text)
    if m:
        return date.fromisoformat(m["d"])
    raise ValueError(f"'{value}' is not a valid date")


def ms_date(d: date) -> str:
    """A date as Xero writes it in JSON: midnight UTC in the Microsoft JSON form."""
    ms = int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp() * 1000)
    return f"/Date({ms}+0000)/"


def ms_datetime(dt: datetime) -> str:
    ms = int(dt.astimezone(UTC).timestamp() * 1000)
    return f"/Date({ms}+0000)/"


def date_string(d: date) -> str:
    return f"{d.isoformat()}T00:00:00"


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _decimal(value: Any, what: str, errors: list[str]) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        errors.append(f"{what} must be a number.")
        return None
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        errors.append(f"{what} must be a number.")
        return None
    if not result.is_finite():
        errors.append(f"{what} must be a number.")
        return None
    return result


def _date_field(element: Mapping[str, Any], key: str, errors: list[str]) -> date | None:
    value = element.get(key)
    if value in (None, ""):
        return None
    try:
        return parse_date(value)
    except (ValueError, OverflowError, OSError):
        errors.append(f"The {key} '{value}' is not a valid date.")
        return None


def _ref_id(ref: Any, key: str) -> str | None:
    if isinstance(ref, Mapping) and ref.get(key):
        return str(ref[key]).lower()
    return None


def xero_len(text: str) -> int:
    """A text's length as Xero counts it against its limits: in UTF-16 code units, as .NET and SQL Server's
    nvarchar do, so an emoji or any other character beyond the Basic Multilingual Plane counts twice."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def norm_name(name: str) -> str:
    """How Xero compares contact names: trimmed, inner spaces collapsed, case-insensitive."""
    return " ".join(name.split()).casefold()


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


# ---------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class TaxRate:
    name: str
    tax_type: str
    rate: Decimal
    status: str
    can_apply_to_revenue: bool


@dataclass(frozen=True)
class Account:
    account_id: str
    code: str
    name: str
    type: str
    tax_type: str
    status: str
    enable_payments: bool
    bank_account_number: str | None
    updated: datetime

    @property
    def takes_payments(self) -> bool:
        return self.type == "BANK" or self.enable_payments


@dataclass(frozen=True)
class TrackingOption:
    option_id: str
    name: str
    status: str  # ACTIVE | ARCHIVED


@dataclass(frozen=True)
class TrackingCategory:
    category_id: str
    name: str
    status: str  # ACTIVE | ARCHIVED
    options: tuple[TrackingOption, ...] = ()

    def option(self, ref: Mapping[str, Any]) -> TrackingOption | None:
        """By TrackingOptionID, else by Option name (compared as Xero does: case-insensitive)."""
        wanted_id = str(ref.get("TrackingOptionID") or "").lower()
        if wanted_id:
            return next((o for o in self.options if o.option_id == wanted_id), None)
        wanted = norm_name(str(ref.get("Option") or ""))
        return next((o for o in self.options if norm_name(o.name) == wanted), None)


@dataclass(frozen=True)
class Contact:
    contact_id: str
    name: str
    status: str = "ACTIVE"  # ACTIVE | ARCHIVED
    contact_number: str | None = None
    account_number: str | None = None
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    tax_number: str = ""
    company_number: str = ""
    addresses: tuple[Mapping[str, str], ...] = ()
    phones: tuple[Mapping[str, str], ...] = ()
    is_customer: bool = False
    is_supplier: bool = False
    updated: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class LineItem:
    line_item_id: str
    description: str
    quantity: Decimal
    unit_amount: Decimal  # kept to 4 dp when written with unitdp=4, else 2 dp
    account_code: str | None
    tax_type: str
    tax_amount: Decimal
    line_amount: Decimal
    discount_rate: Decimal | None = None
    item_code: str | None = None
    tracking: tuple[Mapping[str, str], ...] = ()


@dataclass(frozen=True)
class Document:
    """A sales invoice (kind "invoice", Type ACCREC) or a credit note (kind "credit_note")."""

    doc_id: str
    kind: str
    type: str
    number: str
    contact_id: str
    date: date
    due_date: date | None
    status: str
    line_amount_types: str
    reference: str
    url: str
    currency: str
    line_items: tuple[LineItem, ...]
    sub_total: Decimal
    total_tax: Decimal
    total: Decimal
    updated: datetime
    amount_paid: Decimal = ZERO
    amount_credited: Decimal = ZERO  # invoice: credit notes allocated to it; credit note: allocated
    payment_ids: tuple[str, ...] = ()
    allocation_ids: tuple[str, ...] = ()
    fully_paid_on: date | None = None
    sent_to_contact: bool = False

    @property
    def amount_due(self) -> Decimal:
        return self.total - self.amount_paid - self.amount_credited

    @property
    def remaining_credit(self) -> Decimal:
        return self.amount_due

    @property
    def has_settlements(self) -> bool:
        return self.amount_paid > 0 or self.amount_credited > 0


@dataclass(frozen=True)
class Payment:
    payment_id: str
    invoice_id: str
    account_id: str
    date: date
    amount: Decimal
    reference: str
    status: str  # AUTHORISED | DELETED
    updated: datetime
    is_reconciled: bool = False
    made_in_xero: bool = False  # True when made through a test hook (bank reconciliation in Xero)
    on_credit_note: bool = False  # a refund of a credit note (PaymentType ARCREDITPAYMENT)


@dataclass(frozen=True)
class Allocation:
    allocation_id: str
    credit_note_id: str
    invoice_id: str
    amount: Decimal
    date: date
    is_deleted: bool = False


# ---------------------------------------------------------------------------------------------
# Transactions

_MISSING = object()


class Txn:
    """An undo log: every table write goes through it so a failed batch can be taken back."""

    def __init__(self) -> None:
        self._undo: list[tuple[dict[Any, Any], Any, Any]] = []

    def put(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        self._undo.append((table, key, table.get(key, _MISSING)))
        table[key] = value

    def delete(self, table: dict[Any, Any], key: Any) -> None:
        if key in table:
            self._undo.append((table, key, table[key]))
            del table[key]

    def mark(self) -> int:
        return len(self._undo)

    def rollback(self, to: int = 0) -> None:
        while len(self._undo) > to:
            table, key, old = self._undo.pop()
            if old is _MISSING:
                table.pop(key, None)
            else:
                table[key] = old


# ---------------------------------------------------------------------------------------------
# An organisation


class OrgState:
    """One Xero organisation: settings, chart of accounts, tax rates, contacts and documents."""

    def __init__(self, seed: XeroOrgSeed, now: Callable[[], datetime]) -> None:
        self.seed = seed
        self.tenant_id = seed.tenant_id
        self.name = seed.name
        self.base_currency = seed.base_currency
        self.country_code = seed.country_code
        self.period_lock_date = seed.period_lock_date
        self.end_of_year_lock_date = seed.end_of_year_lock_date
        self._now = now
        self.rng = random.Random(seed.tenant_id)
        self.organisation_id = new_uuid(self.rng)
        self.created = now()
        self.tax_rates: dict[str, TaxRate] = {
            t.tax_type: TaxRate(t.name, t.tax_type, t.rate, t.status, t.can_apply_to_revenue)
            for t in seed.tax_rates
        }
        self.accounts: dict[str, Account] = {}
        for a in seed.accounts:
            self.accounts[a.code] = Account(
                new_uuid(self.rng), a.code, a.name, a.type, a.tax_type, a.status, a.enable_payments,
                a.bank_account_number, self.created,
            )
        self.contacts: dict[str, Contact] = {}
        for c in seed.contacts:
            cid = new_uuid(self.rng)
            self.contacts[cid] = Contact(
                cid, c.name, contact_number=c.contact_number, first_name=c.first_name,
                last_name=c.last_name, email=c.email, is_customer=c.is_customer,
                addresses=_default_addresses(), phones=_default_phones(), updated=self.created,
            )
        # Own random stream, so adding tracking categories to a seed leaves every other id as it was.
        ids = random.Random(f"{seed.tenant_id}:tracking")
        self.tracking: dict[str, TrackingCategory] = {}
        for t in seed.tracking_categories:
            options = tuple(TrackingOption(new_uuid(ids), name, "ACTIVE") for name in t.options) + tuple(
                TrackingOption(new_uuid(ids), name, "ARCHIVED") for name in t.archived_options)
            category = TrackingCategory(new_uuid(ids), t.name, t.status, options)
            self.tracking[category.category_id] = category
        self.invoices: dict[str, Document] = {}
        self.credit_notes: dict[str, Document] = {}
        self.payments: dict[str, Payment] = {}
        self.allocations: dict[str, Allocation] = {}
        self._numbers: dict[tuple[str, str], str] = {}  # (kind, casefolded number) -> doc id
        self._counters = {"invoice": 0, "credit_note": 0}

    # -- small lookups ------------------------------------------------------------------------

    def now(self) -> datetime:
        return self._now()

    def today(self) -> date:
        return self._now().date()

    def lock_date(self) -> tuple[date, str] | None:
        """The later of the two lock dates, with the words Xero uses for it."""
        found = [
            (d, label)
            for d, label in (
                (self.period_lock_date, "period lock date"),
                (self.end_of_year_lock_date, "end of year lock date"),
            )
            if d is not None
        ]
        return max(found) if found else None

    def check_lock(self, d: date, what: str = "document") -> str | None:
        lock = self.lock_date()
        if lock and d <= lock[0]:
            return f"The {what} date cannot be before the {lock[1]} of {lock[0].strftime('%d %b %Y')}"
        return None

    def account_by_id_or_code(self, ref: Mapping[str, Any] | None) -> Account | None:
        if not isinstance(ref, Mapping):
            return None
        if ref.get("AccountID"):
            wanted = str(ref["AccountID"]).lower()
            return next((a for a in self.accounts.values() if a.account_id == wanted), None)
        if ref.get("Code") is not None:
            return self.accounts.get(str(ref["Code"]))
        return None

    def account_by_id(self, account_id: str) -> Account | None:
        return next((a for a in self.accounts.values() if a.account_id == account_id), None)

    def docs(self, kind: str) -> dict[str, Document]:
        return self.invoices if kind == "invoice" else self.credit_notes

    def find_doc(self, kind: str, key: str) -> Document:
        """By id, or by number (Xero's /Invoices/{InvoiceNumber})."""
        table = self.docs(kind)
        doc = table.get(key.lower())
        if doc is None:
            doc_id = self._numbers.get((kind, key.casefold()))
            doc = table.get(doc_id) if doc_id else None
        if doc is None:
            raise NotFound(key)
        return doc

    def find_contact(self, key: str) -> Contact:
        """By ContactID, or by ContactNumber (Xero's /Contacts/{ContactNumber})."""
        contact = self.contacts.get(key.lower())
        if contact is None:
            contact = next((c for c in self.contacts.values() if c.contact_number == key), None)
        if contact is None:
            raise NotFound(key)
        return contact

    def active_name_owner(self, name: str, except_id: str | None = None) -> Contact | None:
        wanted = norm_name(name)
        for c in self.contacts.values():
            if c.status == "ACTIVE" and c.contact_id != except_id and norm_name(c.name) == wanted:
                return c
        return None

    # -- contacts -----------------------------------------------------------------------------

    def save_contact(self, element: Mapping[str, Any], txn: Txn, path_id: str | None = None) -> Contact:
        """Create, or update when ContactID is given (in the body or the URL)."""
        if not isinstance(element, Mapping):
            raise Invalid(["A contact must be a JSON object."])
        target = path_id or element.get("ContactID")
        existing: Contact | None = None
        if target:
            existing = self.contacts.get(str(target).lower())
            if existing is None:
                raise Invalid([f"The contact with ContactID '{target}' could not be found."])
        contact = self._contact_from(element, existing)
        txn.put(self.contacts, contact.contact_id, contact)
        return contact

    def _contact_from(self, e: Mapping[str, Any], old: Contact | None) -> Contact:
        errors: list[str] = []

        def text(key: str, current: str | None, limit: int) -> str | None:
            if key not in e:
                return current
            value = e[key]
            if value is None:
                return current
            value = str(value)
            if xero_len(value) > limit:
                errors.append(f"{_words(key)} must not be more than {limit} characters long.")
            return value

        name = (text("Name", old.name if old else None, 255) or "").strip()
        if not name:
            errors.append("The contact name must be specified.")
        number = text("ContactNumber", old.contact_number if old else None, 50)
        account_number = text("AccountNumber", old.account_number if old else None, 50)
        email = text("EmailAddress", old.email if old else "", 255) or ""
        if email and not _EMAIL.match(email):
            errors.append("Email address must be valid.")
        status = str(e.get("ContactStatus") or (old.status if old else "ACTIVE"))
        if status not in ("ACTIVE", "ARCHIVED"):
            errors.append(f"The contact status '{status}' is not valid.")
        if name and status == "ACTIVE":
            owner = self.active_name_owner(name, old.contact_id if old else None)
            if owner is not None:
                errors.append(
                    f"The contact name {name} is already assigned to another contact. "
                    "The contact name must be unique across all active contacts."
                )
        addresses = _merge_typed(
            old.addresses if old else _default_addresses(), e.get("Addresses"), "AddressType",
            ADDRESS_TYPES, _ADDRESS_LIMITS, errors,
        )
        phones = _merge_typed(
            old.phones if old else _default_phones(), e.get("Phones"), "PhoneType",
            (*PHONE_TYPES, "OFFICE"), _PHONE_LIMITS, errors,
        )
        fields = {
            "first_name": text("FirstName", old.first_name if old else "", 255) or "",
            "last_name": text("LastName", old.last_name if old else "", 255) or "",
            "tax_number": text("TaxNumber", old.tax_number if old else "", 50) or "",
            "company_number": text("CompanyNumber", old.company_number if old else "", 50) or "",
        }
        if errors:
            raise Invalid(errors)
        is_customer = bool(e.get("IsCustomer", old.is_customer if old else False))
        is_supplier = bool(e.get("IsSupplier", old.is_supplier if old else False))
        contact_id = old.contact_id if old else new_uuid(self.rng)
        return Contact(
            contact_id, name, status, number or None, account_number or None, email=email,
            addresses=addresses, phones=phones, is_customer=is_customer, is_supplier=is_supplier,
            updated=self.now(), **fields,
        )

    def _contact_for_document(self, ref: Any, errors: list[str], txn: Txn) -> Contact | None:
        """Resolve Contact {ContactID | ContactNumber | Name}; an unknown Name makes a new contact."""
        if not isinstance(ref, Mapping) or not any(ref.get(k) for k in ("ContactID", "ContactNumber", "Name")):
            errors.append("A Contact must be specified for this type of transaction")
            return None
        if ref.get("ContactID"):
            contact = self.contacts.get(str(ref["ContactID"]).lower())
            if contact is None:
                errors.append(f"The contact with ContactID '{ref['ContactID']}' could not be found.")
                return None
        elif ref.get("ContactNumber"):
            contact = next(
                (c for c in self.contacts.values() if c.contact_number == str(ref["ContactNumber"])), None
            )
            if contact is None:
                if not ref.get("Name"):
                    errors.append(f"The contact with ContactNumber '{ref['ContactNumber']}' could not be found.")
                    return None
                contact = self.active_name_owner(str(ref["Name"]))
        else:
            contact = self.active_name_owner(str(ref["Name"]))
        if contact is None:
            try:
                contact = self.save_contact(ref, txn)
            except Invalid as exc:
                errors.extend(exc.messages)
                return None
        if contact.status != "ACTIVE":
            errors.append(f"The contact '{contact.name}' is archived and cannot be used on a transaction.")
        return contact

    # -- invoices and credit notes ------------------------------------------------------------

    def save_document(
        self, kind: str, element: Mapping[str, Any], txn: Txn, *, unitdp4: bool = False,
        path_id: str | None = None,
    ) -> Document:
        """Create, or update when the id is given (body or URL); all of Xero's rules applied.

        A document is only ever matched by its id: a new element whose number is taken gets
        "Invoice # must be unique.", never a silent update of the other document.
        """
        if not isinstance(element, Mapping):
            raise Invalid(["A document must be a JSON object."])
        if element.get("Allocations"):
            raise Invalid(["The sandbox takes allocations only through PUT /CreditNotes/{id}/Allocations."])
        url = element.get("Url")
        if url and not re.match(r"^https?://[^\s/]+", str(url)):
            raise Invalid(["The Url must be a valid absolute URL (http:// or https://)."])
        id_key = "InvoiceID" if kind == "invoice" else "CreditNoteID"
        target = path_id or element.get(id_key)
        if target:
            try:
                old = self.find_doc(kind, str(target))
            except NotFound:
                raise Invalid([f"{_kind_words(kind)} '{target}' could not be found."]) from None
            return self._update_document(old, element, txn, unitdp4)
        return self._create_document(kind, element, txn, unitdp4)

    def _create_document(self, kind: str, e: Mapping[str, Any], txn: Txn, unitdp4: bool) -> Document:
        errors: list[str] = []
        expected_type = "ACCREC" if kind == "invoice" else "ACCRECCREDIT"
        doc_type = e.get("Type")
        if doc_type != expected_type:
            errors.append(
                f"The document Type must be {expected_type} (the sandbox simulates sales documents only)."
                if doc_type else "The document Type must be specified."
            )
        status = str(e.get("Status") or "DRAFT")
        if status not in ("DRAFT", "SUBMITTED", "AUTHORISED"):
            errors.append(f"A new document cannot be created with status {status}.")
        contact = self._contact_for_document(e.get("Contact"), errors, txn)
        doc_date = _date_field(e, "Date", errors) or self.today()
        due = _date_field(e, "DueDate", errors)
        if kind == "invoice" and status in ("SUBMITTED", "AUTHORISED") and due is None and "DueDate" not in e:
            errors.append("Due Date is required.")
        number = str(e.get("InvoiceNumber" if kind == "invoice" else "CreditNoteNumber") or "").strip()
        if number:
            self._check_number_free(kind, number, None, errors)
        currency = str(e.get("CurrencyCode") or self.base_currency)
        if currency != self.base_currency:
            errors.append(f"Organisation is not subscribed to currency {currency}")
        lat = str(e.get("LineAmountTypes") or "Exclusive")
        if lat not in ("Exclusive", "Inclusive", "NoTax"):
            errors.append(f"LineAmountTypes '{lat}' is not valid.")
            lat = "Exclusive"
        lines = self._lines(e.get("LineItems"), lat, status, unitdp4, (), errors, kind)
        if status == "AUTHORISED" and not lines and not errors:
            errors.append("At least one line item must be specified for an approved document.")
        lock_error = self.check_lock(doc_date)
        if lock_error:
            errors.append(lock_error)
        sub_total, total_tax, total = _totals(lines, lat)
        if total < 0:
            errors.append("The document total cannot be negative.")
        if errors:
            raise Invalid(errors)
        assert contact is not None
        if not number:
            number = self._next_number(kind)
        doc = Document(
            doc_id=new_uuid(self.rng), kind=kind, type=expected_type, number=number,
            contact_id=contact.contact_id, date=doc_date, due_date=due, status=status,
            line_amount_types=lat, reference=str(e.get("Reference") or ""), url=str(e.get("Url") or ""),
            currency=currency, line_items=lines, sub_total=sub_total, total_tax=total_tax, total=total,
            updated=self.now(), sent_to_contact=bool(e.get("SentToContact", False)),
        )
        if doc.total == 0 and status == "AUTHORISED":
            doc = replace(doc, status="PAID", fully_paid_on=doc_date)
        txn.put(self.docs(kind), doc.doc_id, doc)
        txn.put(self._numbers, (kind, number.casefold()), doc.doc_id)
        if not contact.is_customer:
            txn.put(self.contacts, contact.contact_id, replace(contact, is_customer=True, updated=self.now()))
        return doc

    def _update_document(self, old: Document, e: Mapping[str, Any], txn: Txn, unitdp4: bool) -> Document:
        errors: list[str] = []
        kind = old.kind
        status = str(e.get("Status") or old.status)
        if old.status in ("VOIDED", "DELETED"):
            raise Invalid([f"This document cannot be edited as it has a status of {old.status}."])
        allowed = {
            "DRAFT": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
            "SUBMITTED": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
            "AUTHORISED": {"AUTHORISED", "VOIDED"},
            "PAID": {"PAID", "AUTHORISED"},
        }[old.status]
        if status not in allowed:
            errors.append(f"{_kind_words(kind)} not of valid status for modification: {old.status} to {status}.")
        if status == "VOIDED" and old.has_settlements:
            errors.append(
                "This document cannot be voided as it has payments or credit notes allocated to it."
            )
        contact = None
        if "Contact" in e and e["Contact"] is not None:
            contact = self._contact_for_document(e["Contact"], errors, txn)
        doc_date = _date_field(e, "Date", errors) or old.date
        due = _date_field(e, "DueDate", errors) if "DueDate" in e else old.due_date
        number_key = "InvoiceNumber" if kind == "invoice" else "CreditNoteNumber"
        number = str(e.get(number_key) or old.number).strip()
        if number.casefold() != old.number.casefold():
            self._check_number_free(kind, number, old.doc_id, errors)
        lat = str(e.get("LineAmountTypes") or old.line_amount_types)
        if lat not in ("Exclusive", "Inclusive", "NoTax"):
            errors.append(f"LineAmountTypes '{lat}' is not valid.")
            lat = old.line_amount_types
        effective = "AUTHORISED" if status in ("PAID", "VOIDED") else status
        if "LineItems" in e:
            lines = self._lines(e.get("LineItems"), lat, effective, unitdp4, old.line_items, errors, kind)
        elif lat != old.line_amount_types:
            lines = self._recalc(old.line_items, lat, errors)
        else:
            lines = old.line_items
        if (status in ("SUBMITTED", "AUTHORISED") and old.status == "DRAFT") or (
            status == "AUTHORISED" and old.status == "SUBMITTED"
        ):
            self._check_approvable(kind, lines, due, errors)
        sub_total, total_tax, total = _totals(lines, lat)
        currency = str(e.get("CurrencyCode") or old.currency)
        if currency != self.base_currency:
            errors.append(f"Organisation is not subscribed to currency {currency}")
        for d in {old.date, doc_date}:
            lock_error = self.check_lock(d)
            if lock_error:
                errors.append(lock_error)
                break
        new_contact_id = contact.contact_id if contact else old.contact_id
        if old.has_settlements and (
            total != old.total or new_contact_id != old.contact_id or doc_date != old.date
            or _amount_view(lines) != _amount_view(old.line_items)
        ):
            errors.append(
                "This document cannot be edited as it has a payment or credit note allocated to it."
            )
        if total < 0:
            errors.append("The document total cannot be negative.")
        if total < old.amount_paid + old.amount_credited:
            errors.append("The document total cannot be less than the amount already paid or credited.")
        if errors:
            raise Invalid(errors)
        if status == "PAID":
            status = old.status
        doc = replace(
            old, number=number, contact_id=new_contact_id, date=doc_date, due_date=due, status=status,
            line_amount_types=lat, reference=str(e.get("Reference", old.reference) or ""),
            url=str(e.get("Url", old.url) or ""), currency=currency, line_items=lines,
            sub_total=sub_total, total_tax=total_tax, total=total, updated=self.now(),
            sent_to_contact=bool(e.get("SentToContact", old.sent_to_contact)),
        )
        if doc.status == "AUTHORISED" and doc.amount_due == 0:
            doc = replace(doc, status="PAID", fully_paid_on=doc.fully_paid_on or doc_date)
        txn.put(self.docs(kind), doc.doc_id, doc)
        if number.casefold() != old.number.casefold():
            txn.delete(self._numbers, (kind, old.number.casefold()))
            txn.put(self._numbers, (kind, number.casefold()), doc.doc_id)
        if status == "DELETED":
            txn.delete(self._numbers, (kind, number.casefold()))
        return doc

    def _check_approvable(
        self, kind: str, lines: tuple[LineItem, ...], due: date | None, errors: list[str]
    ) -> None:
        """What approving a draft needs that a draft did not: account codes, lines, a due date."""
        if not lines:
            errors.append("At least one line item must be specified for an approved document.")
        if any(li.account_code is None for li in lines):
            errors.append("An account code must be specified for each line item of an approved document.")
        if kind == "invoice" and due is None:
            errors.append("Due Date is required.")

    def _check_number_free(self, kind: str, number: str, own_id: str | None, errors: list[str]) -> None:
        owner = self._numbers.get((kind, number.casefold()))
        if owner and owner != own_id:
            errors.append("Invoice # must be unique." if kind == "invoice" else "Credit Note # must be unique.")

    def _next_number(self, kind: str) -> str:
        prefix = "INV-" if kind == "invoice" else "CN-"
        while True:
            self._counters[kind] += 1
            number = f"{prefix}{self._counters[kind]:04d}"
            if (kind, number.casefold()) not in self._numbers:
                return number

    def _lines(
        self, raw: Any, lat: str, status: str, unitdp4: bool, old: tuple[LineItem, ...], errors: list[str],
        kind: str = "invoice",
    ) -> tuple[LineItem, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            errors.append("LineItems must be a list.")
            return ()
        old_by_id = {li.line_item_id: li for li in old}
        lines: list[LineItem] = []
        for i, item in enumerate(raw, start=1):
            if not isinstance(item, Mapping):
                errors.append(f"Line item {i} must be a JSON object.")
                continue
            line = self._line(item, lat, status, unitdp4, old_by_id, errors, kind)
            if line is not None:
                lines.append(line)
        return tuple(lines)

    def _line(
        self, item: Mapping[str, Any], lat: str, status: str, unitdp4: bool,
        old_by_id: Mapping[str, LineItem], errors: list[str], kind: str = "invoice",
    ) -> LineItem | None:
        n_errors = len(errors)
        if kind == "credit_note":
            # Xero's schema: "credit notes in Xero do not support discounts" (DiscountRate, DiscountAmount).
            for name in ("DiscountRate", "DiscountAmount"):
                if item.get(name) not in (None, 0, "0"):
                    errors.append(f"{name} is not supported on credit notes. Credit notes in Xero do not "
                                  "support discounts.")
        quantity = _decimal(item.get("Quantity"), "Quantity", errors)
        unit = _decimal(item.get("UnitAmount"), "UnitAmount", errors)
        given_line = _decimal(item.get("LineAmount"), "LineAmount", errors)
        discount = _decimal(item.get("DiscountRate"), "DiscountRate", errors)
        given_tax = _decimal(item.get("TaxAmount"), "TaxAmount", errors)
        if quantity is None:
            quantity = Decimal(1)
        if unit is None:
            unit = given_line / quantity if given_line is not None and quantity else ZERO
        unit = unit.quantize(UNIT4 if unitdp4 else CENT, rounding=ROUND_HALF_UP)
        if discount is not None and not ZERO <= discount <= HUNDRED:
            errors.append("DiscountRate must be between 0 and 100.")
        if xero_len(str(item.get("Description") or "")) > MAX_DESCRIPTION:
            errors.append(f"Description must not be more than {MAX_DESCRIPTION} characters long.")
        code = item.get("AccountCode")
        code = str(code) if code not in (None, "") else None
        if item.get("AccountID") and code is None:
            account = self.account_by_id(str(item["AccountID"]).lower())
            code = account.code if account else str(item["AccountID"])
        account = self.accounts.get(code) if code else None
        if code is None:
            if status != "DRAFT":
                errors.append("An account code must be specified for each line item of an approved document.")
        elif account is None or account.type == "BANK":
            errors.append(f"Account code '{code}' is not a valid code for this document.")
        elif account.status != "ACTIVE":
            errors.append(
                f"The account code '{code}' has been archived, or deleted. "
                "Each line item must reference a valid account."
            )
        tax_type = item.get("TaxType")
        if lat == "NoTax":
            tax_type = NO_TAX
        elif not tax_type:
            tax_type = account.tax_type if account and account.tax_type else NO_TAX
        tax_type = str(tax_type)
        rate = self._tax_rate_for_revenue(tax_type, errors)
        if len(errors) > n_errors:
            return None
        gross = quantity * unit
        if discount:
            gross = gross * (HUNDRED - discount) / HUNDRED
        line_amount = money(gross)
        if given_line is not None and abs(money(given_line) - line_amount) > CENT:
            errors.append(
                f"The line total {money(given_line)} does not match the expected line total {line_amount}."
            )
            return None
        tax = _line_tax(line_amount, rate, lat)
        if given_tax is not None:
            # Xero takes a line's TaxAmount in place of its own figure only when it is close to it; how close
            # is not documented, so the sandbox allows TAX_AMOUNT_TOLERANCE (docs/sandbox-differences.md).
            # A rate of 0 % (or NoTax) takes no tax at all.
            slack = TAX_AMOUNT_TOLERANCE if rate and lat != "NoTax" else ZERO
            if abs(money(given_tax) - tax) > slack:
                errors.append(f"Tax amount {money(given_tax)} is incorrect for {tax_type} tax type, should be {tax}")
                return None
            tax = money(given_tax)
        wanted_id = str(item.get("LineItemID") or "").lower()
        line_id = wanted_id if wanted_id in old_by_id else new_uuid(self.rng)
        tracking = self._tracking(item.get("Tracking"), errors)
        if len(errors) > n_errors:
            return None
        return LineItem(
            line_id, str(item.get("Description") or ""), quantity, unit, code, tax_type, tax, line_amount,
            discount, str(item["ItemCode"]) if item.get("ItemCode") else None, tracking,
        )

    def tracking_category(self, ref: Mapping[str, Any]) -> TrackingCategory | None:
        """By TrackingCategoryID, else by Name (case-insensitive, as Xero matches it)."""
        wanted_id = str(ref.get("TrackingCategoryID") or "").lower()
        if wanted_id:
            return self.tracking.get(wanted_id)
        wanted = norm_name(str(ref.get("Name") or ""))
        return next((c for c in self.tracking.values() if norm_name(c.name) == wanted), None)

    def _tracking(self, raw: Any, errors: list[str]) -> tuple[Mapping[str, str], ...]:
        """A line's Tracking checked against the organisation's tracking categories, as Xero does: each
        entry names an ACTIVE category and one of its ACTIVE options, at most two categories, each once.
        Stored in Xero's own spelling, with both ids, so it reads back the way Xero shows it."""
        if raw is None:
            return ()
        if not isinstance(raw, list):
            errors.append("Tracking must be a list of tracking categories.")
            return ()
        if len(raw) > 2:
            errors.append("A line item can have at most two tracking categories.")
            return ()
        out: list[Mapping[str, str]] = []
        for entry in raw:
            if not isinstance(entry, Mapping):
                errors.append("Each tracking entry must be a JSON object.")
                continue
            label = str(entry.get("Name") or entry.get("TrackingCategoryID") or "")
            category = self.tracking_category(entry)
            if category is None or category.status != "ACTIVE":
                errors.append(f"There is no ACTIVE tracking category with the name '{label}'.")
                continue
            if any(t["TrackingCategoryID"] == category.category_id for t in out):
                errors.append(f"The tracking category '{category.name}' can be used only once on a line item.")
                continue
            if not (entry.get("Option") or entry.get("TrackingOptionID")):
                errors.append(f"A tracking option must be specified for the tracking category '{category.name}'.")
                continue
            option = category.option(entry)
            option_label = str(entry.get("Option") or entry.get("TrackingOptionID"))
            if option is None:
                errors.append(f"The tracking option '{option_label}' does not exist in the tracking category "
                              f"'{category.name}'.")
                continue
            if option.status != "ACTIVE":
                errors.append(f"The tracking option '{option.name}' in the tracking category '{category.name}' "
                              "has been archived and cannot be used.")
                continue
            out.append({"Name": category.name, "Option": option.name, "TrackingCategoryID": category.category_id,
                        "TrackingOptionID": option.option_id})
        return tuple(out)

    def _tax_rate_for_revenue(self, tax_type: str, errors: list[str]) -> Decimal:
        rate = self.tax_rates.get(tax_type)
        if rate is None:
            if tax_type == NO_TAX:
                return ZERO
            errors.append(
                f"The TaxType code '{tax_type}' does not exist or cannot be used with this type of transaction."
            )
            return ZERO
        if rate.status != "ACTIVE":
            errors.append(f"The TaxType code '{tax_type}' is {rate.status.lower()} and cannot be used.")
        elif not rate.can_apply_to_revenue:
            errors.append(
                f"The TaxType code '{tax_type}' does not exist or cannot be used with this type of transaction."
            )
        return rate.rate

    def _recalc(self, lines: tuple[LineItem, ...], lat: str, errors: list[str]) -> tuple[LineItem, ...]:
        out = []
        for li in lines:
            tax_type = NO_TAX if lat == "NoTax" else li.tax_type
            rate = self._tax_rate_for_revenue(tax_type, errors)
            out.append(replace(li, tax_type=tax_type, tax_amount=_line_tax(li.line_amount, rate, lat)))
        return tuple(out)

    # -- payments -----------------------------------------------------------------------------

    def create_payment(self, e: Mapping[str, Any], txn: Txn, *, made_in_xero: bool = False) -> Payment:
        if not isinstance(e, Mapping):
            raise Invalid(["A payment must be a JSON object."])
        errors: list[str] = []
        if e.get("Prepayment") or e.get("Overpayment"):
            raise Invalid(["The sandbox simulates payments on sales invoices and refunds of credit notes only."])
        on_credit_note = bool(e.get("CreditNote"))
        if on_credit_note:  # a refund: money paid back to the client against a credit note
            invoice = self._credit_note_ref(e.get("CreditNote"), errors)
        else:
            invoice = self._invoice_ref(e.get("Invoice"), e.get("InvoiceNumber"), errors)
        account = self.account_by_id_or_code(e.get("Account") or ({"Code": e["Code"]} if e.get("Code") else None))
        if account is None:
            errors.append("Account could not be found" if e.get("Account") or e.get("Code")
                          else "An account must be specified for a payment.")
        elif account.status != "ACTIVE" or not account.takes_payments:
            errors.append("Account type is invalid for making a payment to/from")
        amount = _decimal(e.get("Amount"), "Amount", errors)
        if amount is None:
            if "Amount" not in e:
                errors.append("Payment amount must be specified.")
        elif amount <= 0:
            errors.append("Payment amount must be greater than zero.")
        pay_date = _date_field(e, "Date", errors) or self.today()
        lock_error = self.check_lock(pay_date, "payment")
        if lock_error:
            errors.append(lock_error)
        if invoice is not None:
            if invoice.status != "AUTHORISED":
                errors.append(
                    f"Payments can only be made against AUTHORISED documents; this one is {invoice.status}."
                )
            elif amount is not None and amount > 0 and money(amount) > invoice.amount_due:
                errors.append("Payment amount exceeds the amount outstanding on this document")
        if errors:
            raise Invalid(errors)
        assert invoice is not None and account is not None and amount is not None
        payment = Payment(
            new_uuid(self.rng), invoice.doc_id, account.account_id, pay_date, money(amount),
            str(e.get("Reference") or ""), "AUTHORISED", self.now(), bool(e.get("IsReconciled", False)),
            made_in_xero, on_credit_note,
        )
        txn.put(self.payments, payment.payment_id, payment)
        paid = invoice.amount_paid + payment.amount
        doc = replace(
            invoice, amount_paid=paid, payment_ids=(*invoice.payment_ids, payment.payment_id), updated=self.now()
        )
        txn.put(self.credit_notes if on_credit_note else self.invoices, doc.doc_id, _settle_status(doc, pay_date))
        return payment

    def _credit_note_ref(self, ref: Any, errors: list[str]) -> Document | None:
        key = ref.get("CreditNoteID") or ref.get("CreditNoteNumber") if isinstance(ref, Mapping) else None
        if not key:
            errors.append("A credit note must be specified for a refund.")
            return None
        try:
            return self.find_doc("credit_note", str(key))
        except NotFound:
            errors.append(f"Credit note '{key}' could not be found.")
            return None

    def _invoice_ref(self, ref: Any, number: Any, errors: list[str]) -> Document | None:
        key = None
        if isinstance(ref, Mapping):
            key = ref.get("InvoiceID") or ref.get("InvoiceNumber")
        key = key or number
        if not key:
            errors.append("An invoice must be specified for a payment.")
            return None
        try:
            return self.find_doc("invoice", str(key))
        except NotFound:
            errors.append(f"Invoice '{key}' could not be found.")
            return None

    def delete_payment(self, payment_id: str, txn: Txn) -> Payment:
        payment = self.payments.get(payment_id.lower())
        if payment is None:
            raise NotFound(payment_id)
        if payment.status == "DELETED":
            raise Invalid(["This payment has already been deleted."])
        lock_error = self.check_lock(payment.date, "payment")
        if lock_error:
            raise Invalid([lock_error])
        gone = replace(payment, status="DELETED", updated=self.now())
        txn.put(self.payments, gone.payment_id, gone)
        table = self.credit_notes if payment.on_credit_note else self.invoices
        invoice = table[payment.invoice_id]
        doc = replace(
            invoice, amount_paid=invoice.amount_paid - payment.amount,
            payment_ids=tuple(p for p in invoice.payment_ids if p != payment.payment_id), updated=self.now(),
        )
        txn.put(table, doc.doc_id, _settle_status(doc, None))
        return gone

    # -- credit note allocations --------------------------------------------------------------

    def allocate(self, credit_note_id: str, e: Mapping[str, Any], txn: Txn) -> Allocation:
        cn = self.find_doc("credit_note", credit_note_id)
        if not isinstance(e, Mapping):
            raise Invalid(["An allocation must be a JSON object."])
        errors: list[str] = []
        invoice = self._invoice_ref(e.get("Invoice"), None, errors)
        amount = _decimal(e.get("Amount"), "Amount", errors)
        if amount is None and "Amount" not in e:
            errors.append("Amount must be specified.")
        elif amount is not None and amount <= 0:
            errors.append("The amount being allocated must be greater than zero.")
        alloc_date = _date_field(e, "Date", errors) or self.today()
        lock_error = self.check_lock(alloc_date, "allocation")
        if lock_error:
            errors.append(lock_error)
        if cn.status != "AUTHORISED":
            errors.append(f"Only AUTHORISED credit notes can be allocated; this one is {cn.status}.")
        if invoice is not None:
            if invoice.status != "AUTHORISED":
                errors.append(f"The invoice must be AUTHORISED to allocate credit to it; it is {invoice.status}.")
            if invoice.contact_id != cn.contact_id:
                errors.append("The credit note and the invoice must be for the same contact.")
            if amount is not None and amount > 0:
                if money(amount) > cn.remaining_credit:
                    errors.append("The amount being allocated exceeds the remaining credit on the credit note.")
                if money(amount) > invoice.amount_due:
                    errors.append("The amount being allocated exceeds the amount due on the invoice.")
        if errors:
            raise Invalid(errors)
        assert invoice is not None and amount is not None
        alloc = Allocation(new_uuid(self.rng), cn.doc_id, invoice.doc_id, money(amount), alloc_date)
        txn.put(self.allocations, alloc.allocation_id, alloc)
        self._apply_allocation(cn, invoice, alloc.amount, alloc.allocation_id, alloc_date, txn, add=True)
        return alloc

    def delete_allocation(self, credit_note_id: str, allocation_id: str, txn: Txn) -> Allocation:
        cn = self.find_doc("credit_note", credit_note_id)
        alloc = self.allocations.get(allocation_id.lower())
        if alloc is None or alloc.credit_note_id != cn.doc_id or alloc.is_deleted:
            raise NotFound(allocation_id)
        lock_error = self.check_lock(alloc.date, "allocation")
        if lock_error:
            raise Invalid([lock_error])
        gone = replace(alloc, is_deleted=True)
        txn.put(self.allocations, gone.allocation_id, gone)
        invoice = self.invoices[alloc.invoice_id]
        self._apply_allocation(cn, invoice, alloc.amount, alloc.allocation_id, None, txn, add=False)
        return gone

    def _apply_allocation(
        self, cn: Document, invoice: Document, amount: Decimal, alloc_id: str, when: date | None, txn: Txn,
        *, add: bool,
    ) -> None:
        sign = 1 if add else -1
        for doc in (cn, invoice):
            ids = (*doc.allocation_ids, alloc_id) if add else tuple(a for a in doc.allocation_ids if a != alloc_id)
            updated = replace(
                doc, amount_credited=doc.amount_credited + sign * amount, allocation_ids=ids, updated=self.now()
            )
            txn.put(self.docs(doc.kind), doc.doc_id, _settle_status(updated, when))


def _settle_status(doc: Document, when: date | None) -> Document:
    """AUTHORISED ⇄ PAID as the amount due reaches or leaves zero."""
    if doc.status == "AUTHORISED" and doc.amount_due <= 0:
        return replace(doc, status="PAID", fully_paid_on=when or doc.date)
    if doc.status == "PAID" and doc.amount_due > 0:
        return replace(doc, status="AUTHORISED", fully_paid_on=None)
    return doc


def _line_tax(line_amount: Decimal, rate: Decimal, lat: str) -> Decimal:
    if lat == "NoTax" or rate == 0:
        return ZERO.quantize(CENT)
    if lat == "Inclusive":
        return money(line_amount * rate / (HUNDRED + rate))
    return money(line_amount * rate / HUNDRED)


def _totals(lines: Iterable[LineItem], lat: str) -> tuple[Decimal, Decimal, Decimal]:
    """(SubTotal, TotalTax, Total): Inclusive lines hold tax inside LineAmount."""
    lines = list(lines)
    amount = sum((li.line_amount for li in lines), ZERO.quantize(CENT))
    tax = sum((li.tax_amount for li in lines), ZERO.quantize(CENT))
    if lat == "Inclusive":
        return amount - tax, tax, amount
    return amount, tax, amount + tax


def _amount_view(lines: Iterable[LineItem]) -> list[tuple[Decimal, Decimal, str, Decimal]]:
    return [(li.quantity, li.unit_amount, li.tax_type, li.line_amount) for li in lines]


def _default_addresses() -> tuple[Mapping[str, str], ...]:
    return tuple({"AddressType": t} for t in ADDRESS_TYPES)


def _default_phones() -> tuple[Mapping[str, str], ...]:
    return tuple({"PhoneType": t} for t in PHONE_TYPES)


def _merge_typed(
    current: tuple[Mapping[str, str], ...], given: Any, type_key: str, types: tuple[str, ...],
    limits: Mapping[str, int], errors: list[str],
) -> tuple[Mapping[str, str], ...]:
    """Xero keeps one address per AddressType (one phone per PhoneType); a given one replaces it."""
    if given is None:
        return current
    if not isinstance(given, list):
        errors.append(f"{type_key[:-4]}es must be a list.")
        return current
    merged = {entry[type_key]: dict(entry) for entry in current}
    for entry in given:
        if not isinstance(entry, Mapping) or entry.get(type_key) not in types:
            errors.append(f"{type_key} must be one of {', '.join(types)}.")
            continue
        clean = {type_key: str(entry[type_key])}
        for key, limit in limits.items():
            if entry.get(key) not in (None, ""):
                value = str(entry[key])
                if xero_len(value) > limit:
                    errors.append(f"{_words(key)} must not be more than {limit} characters long.")
                clean[key] = value
        merged[clean[type_key]] = clean
    return tuple(merged.values())


def _words(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", key)


def _kind_words(kind: str) -> str:
    return "Invoice" if kind == "invoice" else "Credit note"
