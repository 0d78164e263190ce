"""Provet Cloud records as the app uses them: frozen dataclasses parsed from the API's JSON.

Parsing is strict about what the sync needs and lenient about the rest (unknown fields are ignored).
A record that cannot be used raises `RecordError` naming the record and the field in plain words, so
the engine can hold that one document with the reason and carry on with the others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

INVOICE_FINALISED = 3
INVOICE_VOIDED = 99
PAYMENT_REGISTERED = 3

PT_CONSOLIDATED = 6
PT_PREPAYMENT = 8
PT_CREDIT_INVOICE = 12
PAYMENT_TYPE_NAMES: dict[int, str] = {
    0: "Card", 1: "Cash", 2: "Bank transfer", 3: "Rounding", 4: "Cheque", 5: "Voucher",
    6: "Consolidated invoice", 7: "Mobile payment", 8: "Prepayment", 9: "Gift card", 10: "Finance",
    11: "Other", 12: "Credit invoice", 15: "Insurance claim",
}  # fmt: skip

_ID_IN_URL = re.compile(r"/(\d+)/?$")


class RecordError(ValueError):
    """A Provet record the app cannot use; the message names it and the field."""


def id_from_url(value: Any, what: str = "relation") -> int | None:
    """`https://.../api/0.1/client/12/` → 12; None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, dict) and "id" in value:  # an expose_<field> embedding
        return id_from_url(value["id"], what)
    if isinstance(value, str):
        m = _ID_IN_URL.search(value)
        if m:
            return int(m.group(1))
    raise RecordError(f"{what} is not a Provet link: {str(value)[:80]!r}")


class _Reader:
    """Reads fields of one JSON object, raising RecordError that names the record."""

    def __init__(self, data: Any, name: str) -> None:
        if not isinstance(data, dict):
            raise RecordError(f"{name} is not a JSON object")
        self.data = data
        self.name = name

    def _fail(self, field: str, why: str) -> RecordError:
        return RecordError(f"{self.name}: field '{field}' {why}")

    def raw(self, field: str, required: bool = True) -> Any:
        if field not in self.data:
            if required:
                raise self._fail(field, "is missing")
            return None
        return self.data[field]

    def int(self, field: str, required: bool = True) -> int | None:
        v = self.raw(field, required)
        if v is None and not required:
            return None
        if isinstance(v, bool) or not isinstance(v, int):
            if isinstance(v, str) and v.strip().lstrip("-").isdigit():
                return int(v)
            raise self._fail(field, f"should be a whole number, not {v!r}"[:120])
        return v

    def str(self, field: str, required: bool = False) -> str:
        v = self.raw(field, required)
        if v is None:
            return ""
        if not isinstance(v, str | int | float) or isinstance(v, bool):
            raise self._fail(field, "should be text")
        return _clean(str(v))

    def bool(self, field: str, default: bool = False) -> bool:
        v = self.raw(field, required=False)
        if v is None:
            return default
        if not isinstance(v, bool):
            raise self._fail(field, f"should be true or false, not {v!r}"[:120])
        return v

    def money(self, field: str, required: bool = True, default: str = "0") -> Decimal:
        v = self.raw(field, required)
        if v is None:
            return Decimal(default)
        if isinstance(v, bool) or not isinstance(v, str | int | float):
            raise self._fail(field, f"should be an amount, not {v!r}"[:120])
        try:
            d = Decimal(str(v))
        except InvalidOperation:
            raise self._fail(field, f"should be an amount, not {v!r}"[:120]) from None
        if not d.is_finite():
            raise self._fail(field, "is not a finite amount")
        return d

    def date(self, field: str, required: bool = True) -> date | None:
        v = self.raw(field, required)
        if v is None or v == "":
            if required:
                raise self._fail(field, "is empty")
            return None
        if not isinstance(v, str):
            raise self._fail(field, "should be a date")
        try:
            return date.fromisoformat(v[:10])
        except ValueError:
            raise self._fail(field, f"is not a date: {v[:40]!r}") from None

    def document_number(self, field: str) -> str:
        """A part of a document number: text that reads the same everywhere, or RecordError.

        Xero shows and searches it as the accountant types it; a character that cannot be seen, that turns
        the text around it backwards, or markup would make `INV-1042` look like another number (or run as
        code where it is shown as a web page), so such a number is held, never cleaned into another one."""
        value = self.str(field)
        hidden = sorted({f"U+{ord(c):04X}" for c in _HIDDEN.findall(value)})
        if hidden:
            raise self._fail(field, "holds invisible or direction-changing characters "
                                    f"({', '.join(hidden)}), so it would not read the same in Xero; correct it "
                                    "in Provet")
        if _MARKUP.search(value):
            raise self._fail(field, "holds markup (< or >), which a document number never has; correct it in "
                                    "Provet")
        return value

    def sane_date(self, field: str, required: bool = True) -> date | None:
        """A date within EARLIEST_DATE..LATEST_DATE: 9999-12-31 or 0001-01-01 is a mistake, not a date to book."""
        value = self.date(field, required)
        if value is not None and not EARLIEST_DATE <= value <= LATEST_DATE:
            raise self._fail(field, f"is {value.isoformat()}, outside the years {EARLIEST_DATE.year}–"
                                    f"{LATEST_DATE.year} the books can take; correct it in Provet")
        return value

    def datetime(self, field: str, required: bool = True) -> datetime | None:
        v = self.raw(field, required)
        if v is None or v == "":
            if required:
                raise self._fail(field, "is empty")
            return None
        if not isinstance(v, str):
            raise self._fail(field, "should be a date and time")
        try:
            return datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError:
            raise self._fail(field, f"is not a date and time: {v[:40]!r}") from None

    def link(self, field: str, required: bool = False) -> int | None:
        v = self.raw(field, required)
        return id_from_url(v, f"{self.name}: field '{field}'")

    def links(self, field: str) -> tuple[int, ...]:
        v = self.raw(field, required=False)
        if v is None:
            return ()
        if not isinstance(v, list):
            raise self._fail(field, "should be a list of links")
        out = [id_from_url(x, f"{self.name}: field '{field}'") for x in v]
        return tuple(i for i in out if i is not None)


# Control characters (other than tab and newline), and half an emoji: a lone UTF-16 surrogate, which JSON can
# carry (`"\ud83d"`, an emoji cut in two by a system that counts UTF-16) but no text encoding can write.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


# Bidirectional embeddings, overrides and isolates, and zero-width characters (space, joiners, word joiner,
# invisible operators, byte-order mark, Arabic letter mark, Mongolian vowel separator).
_HIDDEN = re.compile("[\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_MARKUP = re.compile(r"[<>]")
EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(2099, 12, 31)


def _clean(text: str) -> str:
    """Control characters (other than tab/newline) and lone surrogates never reach Xero or the log."""
    return _CONTROL.sub("", text).strip()


@dataclass(frozen=True)
class VatGroup:
    id: int
    title: str
    percentage: Decimal
    archived: bool
    account_number: str

    @classmethod
    def parse(cls, data: Any) -> VatGroup:
        r = _Reader(data, "VAT group")
        return cls(
            id=r.int("id"),
            title=r.str("title") or f"VAT group {r.int('id')}",
            percentage=r.money("percentage"),
            archived=r.bool("archived"),
            account_number=r.str("account_number"),
        )


@dataclass(frozen=True)
class PaymentMethod:
    id: int
    name: str
    payment_type: int
    archived: bool

    @classmethod
    def parse(cls, data: Any) -> PaymentMethod:
        r = _Reader(data, "payment method")
        return cls(id=r.int("id"), name=r.str("name"), payment_type=r.int("payment_type"), archived=r.bool("archived"))


@dataclass(frozen=True)
class Department:
    id: int
    name: str

    @classmethod
    def parse(cls, data: Any) -> Department:
        r = _Reader(data, "department")
        return cls(id=r.int("id"), name=r.str("name"))


@dataclass(frozen=True)
class Client:
    id: int
    firstname: str
    lastname: str
    organization_name: str
    customer_type: int
    vat_number: str
    register_number: str
    street_address: str
    street_address_2: str
    zip_code: str
    city: str
    country: str
    email: str
    archived: bool
    modified: datetime | None
    phone_ids: tuple[int, ...]

    @property
    def display_name(self) -> str:
        """As Provet shows it: the organisation for companies, else first and last name."""
        if self.customer_type != 0 and self.organization_name:
            return self.organization_name
        return " ".join(p for p in (self.firstname, self.lastname) if p)

    @classmethod
    def parse(cls, data: Any) -> Client:
        r = _Reader(data, f"client {data.get('id') if isinstance(data, dict) else '?'}")
        return cls(
            id=r.int("id"),
            firstname=r.str("firstname"),
            lastname=r.str("lastname"),
            organization_name=r.str("organization_name"),
            customer_type=r.int("customer_type", required=False) or 0,
            vat_number=r.str("vat_number"),
            register_number=r.str("register_number"),
            street_address=r.str("street_address"),
            street_address_2=r.str("street_address_2"),
            zip_code=r.str("zip_code"),
            city=r.str("city"),
            country=r.str("country").upper()[:2],
            email=r.str("email"),
            archived=r.bool("archived"),
            modified=r.datetime("modified", required=False),
            phone_ids=r.links("phone_numbers"),
        )


@dataclass(frozen=True)
class PhoneNumber:
    id: int
    client_id: int | None
    phone_number: str

    @classmethod
    def parse(cls, data: Any) -> PhoneNumber:
        r = _Reader(data, "phone number")
        return cls(id=r.int("id"), client_id=r.link("client"), phone_number=r.str("phone_number"))


@dataclass(frozen=True)
class InvoiceRow:
    id: int
    invoice_id: int
    name: str
    quantity: Decimal
    price: Decimal
    price_with_vat: Decimal
    sum: Decimal
    sum_vat: Decimal
    sum_total: Decimal
    percentage_change: Decimal
    vat_percentage: Decimal
    account_number: str

    @classmethod
    def parse(cls, data: Any) -> InvoiceRow:
        r = _Reader(data, f"invoice row {data.get('id') if isinstance(data, dict) else '?'}")
        invoice_id = r.link("invoice", required=True)
        if invoice_id is None:
            raise RecordError("invoice row: field 'invoice' is empty")
        return cls(
            id=r.int("id"),
            invoice_id=invoice_id,
            name=r.str("name"),
            quantity=r.money("quantity"),
            price=r.money("price"),
            price_with_vat=r.money("price_with_vat", required=False),
            sum=r.money("sum"),
            sum_vat=r.money("sum_vat"),
            sum_total=r.money("sum_total"),
            percentage_change=r.money("percentage_change", required=False),
            vat_percentage=r.money("vat_percentage"),
            account_number=r.str("account_number"),
        )


@dataclass(frozen=True)
class Payment:
    id: int
    invoice_id: int
    payment_type: int
    payment_method_id: int | None
    paid: Decimal
    payment_date: date
    status: int
    info: str
    modified: datetime | None

    @classmethod
    def parse(cls, data: Any) -> Payment:
        r = _Reader(data, f"payment {data.get('id') if isinstance(data, dict) else '?'}")
        invoice_id = r.link("invoice", required=True)
        if invoice_id is None:
            raise RecordError("payment: field 'invoice' is empty")
        created = r.datetime("created", required=False)
        paid_on = r.date("payment_date", required=False) or (created.date() if created else None)
        if paid_on is None:
            raise RecordError(f"payment {r.int('id')}: it has no payment date")
        return cls(
            id=r.int("id"),
            invoice_id=invoice_id,
            payment_type=r.int("payment_type"),
            payment_method_id=r.link("payment_method"),
            paid=r.money("paid"),
            payment_date=paid_on,
            status=r.int("status", required=False) or PAYMENT_REGISTERED,
            info=r.str("info"),
            modified=r.datetime("modified", required=False),
        )


@dataclass(frozen=True)
class Invoice:
    id: int
    invoice_number: str
    invoice_prefix: str
    status: int
    invoice_date: date | None
    invoice_due_date: date | None
    modified: datetime | None
    client_id: int | None
    department_id: int | None
    total: Decimal
    total_vat: Decimal
    total_with_vat: Decimal
    due_sum: Decimal
    countersale: bool
    credit_note: bool
    credit_note_original_invoice_id: int | None
    consolidated_invoice: bool
    consolidated_invoice_ids: tuple[int, ...]
    related_consolidated_invoice_id: int | None
    vat_calculation_method: int
    remarks: str
    currency: str
    url: str = ""
    row_ids: tuple[int, ...] = ()  # `invoice_row`: every row Provet has, to check that all were read
    payment_ids: tuple[int, ...] = ()  # `invoice_payment`

    @property
    def document_number(self) -> str:
        """`prefix-number`, or the number alone: Xero's InvoiceNumber / CreditNoteNumber."""
        return f"{self.invoice_prefix}-{self.invoice_number}" if self.invoice_prefix else self.invoice_number

    @property
    def kind(self) -> str:
        if self.credit_note:
            return "credit note"
        if self.consolidated_invoice:
            return "consolidated invoice"
        return "counter sale" if self.countersale else "invoice"

    @property
    def label(self) -> str:
        """How a person names it in the log and the attention list."""
        number = self.document_number or f"(id {self.id})"
        return f"{self.kind.capitalize()} {number}"

    @classmethod
    def parse(cls, data: Any) -> Invoice:
        r = _Reader(data, f"invoice {data.get('id') if isinstance(data, dict) else '?'}")
        return cls(
            id=r.int("id"),
            invoice_number=r.document_number("invoice_number"),
            invoice_prefix=r.document_number("invoice_prefix"),
            status=r.int("status"),
            invoice_date=r.sane_date("invoice_date", required=False),
            invoice_due_date=r.sane_date("invoice_due_date", required=False),
            modified=r.datetime("modified", required=False),
            client_id=r.link("client"),
            department_id=r.link("department"),
            total=r.money("total"),
            total_vat=r.money("total_vat"),
            total_with_vat=r.money("total_with_vat"),
            due_sum=r.money("due_sum", required=False),
            countersale=r.bool("countersale"),
            credit_note=r.bool("credit_note"),
            credit_note_original_invoice_id=r.link("credit_note_original_invoice"),
            consolidated_invoice=r.bool("consolidated_invoice"),
            consolidated_invoice_ids=r.links("consolidated_invoices"),
            related_consolidated_invoice_id=r.link("related_consolidated_invoice"),
            vat_calculation_method=r.int("vat_calculation_method", required=False) or 0,
            remarks=r.str("remarks"),
            currency=r.str("currency").upper(),
            url=r.str("url"),
            row_ids=r.links("invoice_row"),
            payment_ids=r.links("invoice_payment"),
        )


@dataclass(frozen=True)
class UnallocatedPayment:
    """A prepayment not (yet fully) used on an invoice; `paid` is what is left of it."""

    id: int
    client_id: int | None
    paid: Decimal
    payment_type: int
    created: datetime | None
    modified: datetime | None

    @classmethod
    def parse(cls, data: Any) -> UnallocatedPayment:
        r = _Reader(data, f"prepayment {data.get('id') if isinstance(data, dict) else '?'}")
        return cls(
            id=r.int("id"),
            client_id=r.link("client"),
            paid=r.money("paid"),
            payment_type=r.int("payment_type", required=False) or 0,
            created=r.datetime("created", required=False),
            modified=r.datetime("modified", required=False),
        )
