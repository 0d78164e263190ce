"""The Xero accounting API through the official xero-python SDK, with limits, retries and plain errors.

The SDK does the HTTP, the auth header and the URL; this wrapper adds what a sync needs and the SDK does
not: fresh tokens from the TokenManager (xero-python cannot refresh a PKCE token), pacing under the
limits, waits on 429, backoff with jitter on 5xx and lost answers, one retry after a 401, and answers read
into small frozen dataclasses. Bodies are sent as Xero's own PascalCase JSON.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import quote

import urllib3
from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token
from xero_python.exceptions import ApiException

from provet_xero_gui.http_body import READ_CHUNK
from provet_xero_gui.xero.limits import DayLimitLow, XeroLimiter
from provet_xero_gui.xero.reference import (
    Account,
    Organisation,
    TaxRate,
    TrackingCategory,
    TrackingOption,
    XeroReference,
)

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
MAX_BACKOFF = 60.0
TIMEOUT = (10, 90)  # connect, read: each wait for a byte
REQUEST_DEADLINE_SECONDS = 180.0  # a whole answer, however slowly it comes
PAGE_SIZE = 1000
# Request URLs stay within MAX_URL_CHARS. Xero documents no URL limit; it answers 414 somewhere past 8,000
# characters (docs/sandbox-differences.md), and the sandbox refuses past 4,096. A look-up by many names,
# numbers or ids is split so that its list (as sent, percent-encoded) fits in LIST_ROOM, which leaves room
# for the host, the path and the other parameters.
MAX_URL_CHARS = 4000
LIST_ROOM = 3400


class TokenSource(Protocol):
    def access_token(self) -> str: ...
    def invalidate(self, access_token: str) -> None: ...


class XeroApiError(Exception):
    """A Xero call failed for good; the message says what happened in plain words."""

    def __init__(self, message: str, status: int = 0, lost: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.lost = lost  # the request may have been carried out: look before writing again


class XeroValidationError(XeroApiError):
    """A 400 for the whole request (one element sent alone, or an endpoint without per-element errors)."""

    def __init__(self, messages: Sequence[str]) -> None:
        super().__init__("Xero refused it: " + "; ".join(messages), 400)
        self.messages = tuple(messages)


def xero_len(text: str) -> int:
    """A text's length as Xero counts it against its limits: UTF-16 code units (it runs on .NET), so an
    emoji or any other character beyond the Basic Multilingual Plane counts as two."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def fit(text: str, limit: int) -> str:
    """`text` cut to at most `limit` of Xero's characters (see `xero_len`), never through the middle of a
    character, and without the space a cut can leave at the end (Xero would trim it and then differ)."""
    if len(text) * 2 <= limit or xero_len(text) <= limit:
        return text
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return text[:i].rstrip()
    return text


class XeroTooLargeError(XeroApiError):
    """A 413: the request body is over Xero's 3.5 MB. Nothing was done; smaller requests may go."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Xero refused {name}: the request is larger than the 3.5 MB Xero takes at once.", 413)


# --- parsing Xero's JSON ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class PaymentsPoll:
    """What one poll of Xero's changed payments found."""

    payments: list[XeroPaymentState]
    newest: datetime | None  # the newest UpdatedDateUTC among them
    answered_at: datetime | None  # Xero's own clock when it answered the first page (its Date header)


def _answer_date(headers: Any) -> datetime | None:
    """An answer's `Date` header as an aware datetime (the service's clock), or None."""
    value = headers.get("Date") or headers.get("date") if headers else None
    try:
        when = email.utils.parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None
    return when if when is not None and when.tzinfo is not None else None


def modified_since_header(since: datetime) -> str:
    """`If-Modified-Since` as Xero documents it, UTC to the second, written as the OpenAPI file's `date-time`:
    `2024-03-20T12:17:43Z`. A fraction is cut off (never rounded up), so nothing changed earlier in that
    second is skipped."""
    if since.tzinfo is None or since.utcoffset() is None:
        raise ValueError("If-Modified-Since needs a timezone-aware date and time")
    return since.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat(timespec="seconds") + "Z"


_MS_DATE = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/")


def parse_xero_datetime(value: Any) -> datetime | None:
    """Xero writes `/Date(1700000000000+0000)/` for *UTC fields and ISO text for others."""
    if not value or not isinstance(value, str):
        return None
    m = _MS_DATE.fullmatch(value)
    if m:
        return datetime.fromtimestamp(int(m.group(1)) / 1000, UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_xero_date(value: Any) -> date | None:
    dt = parse_xero_datetime(value)
    return dt.date() if dt else None


def _dec(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value is not None else Decimal(0)
    except ArithmeticError:
        return Decimal(0)


def validation_messages(element: dict[str, Any]) -> tuple[str, ...]:
    """The ValidationErrors of one element (and of its line items and nested parts)."""
    out = [str(e.get("Message", "")) for e in element.get("ValidationErrors") or [] if isinstance(e, dict)]
    return tuple(m for m in out if m)


@dataclass(frozen=True)
class XeroDocumentState:
    """An invoice or credit note as Xero holds it."""

    xero_id: str
    number: str
    type: str
    status: str
    contact_id: str
    reference: str
    total: Decimal
    amount_due: Decimal
    amount_paid: Decimal
    amount_credited: Decimal
    has_errors: bool
    errors: tuple[str, ...]
    updated: datetime | None
    date: date | None = None
    allocations: tuple[tuple[str, Decimal], ...] = ()  # a credit note's (InvoiceID, Amount), deleted ones left out

    @classmethod
    def parse(cls, e: dict[str, Any]) -> XeroDocumentState:
        is_credit = "CreditNoteID" in e
        contact = e.get("Contact") or {}
        return cls(
            xero_id=str(e.get("CreditNoteID" if is_credit else "InvoiceID") or ""),
            number=str(e.get("CreditNoteNumber" if is_credit else "InvoiceNumber") or ""),
            type=str(e.get("Type") or ("ACCRECCREDIT" if is_credit else "ACCREC")),
            status=str(e.get("Status") or ""),
            contact_id=str(contact.get("ContactID") or ""),
            reference=str(e.get("Reference") or ""),
            total=_dec(e.get("Total")),
            amount_due=_dec(e.get("AmountDue") if not is_credit else e.get("RemainingCredit")),
            amount_paid=_dec(e.get("AmountPaid")),
            amount_credited=_dec(e.get("AmountCredited")),
            has_errors=bool(e.get("HasErrors")) or e.get("StatusAttributeString") == "ERROR",
            errors=validation_messages(e),
            updated=parse_xero_datetime(e.get("UpdatedDateUTC")),
            date=parse_xero_date(e.get("Date")),
            allocations=tuple(
                (str((a.get("Invoice") or {}).get("InvoiceID") or ""), _dec(a.get("Amount")))
                for a in e.get("Allocations") or [] if isinstance(a, dict) and not a.get("IsDeleted")
            ),
        )


@dataclass(frozen=True)
class XeroContactState:
    xero_id: str
    name: str
    contact_number: str
    email: str
    status: str
    has_errors: bool
    errors: tuple[str, ...]
    updated: datetime | None
    first_name: str = ""
    last_name: str = ""
    tax_number: str = ""
    phone: str = ""
    street: str = ""
    postcode: str = ""
    city: str = ""
    country: str = ""
    # The whole POBOX address and DEFAULT phone as Xero holds them: an update replaces an address (a phone)
    # of a type as a whole, so what is not synced (AddressLine2, Region, area code...) is sent back as it was.
    pobox: tuple[tuple[str, str], ...] = ()
    default_phone: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, e: dict[str, Any]) -> XeroContactState:
        address = next(
            (a for a in e.get("Addresses") or [] if isinstance(a, dict) and a.get("AddressType") == "POBOX"),
            {},
        )
        phone = next(
            (p for p in e.get("Phones") or [] if isinstance(p, dict) and p.get("PhoneType") == "DEFAULT"),
            {},
        )
        return cls(
            xero_id=str(e.get("ContactID") or ""),
            name=str(e.get("Name") or ""),
            contact_number=str(e.get("ContactNumber") or ""),
            email=str(e.get("EmailAddress") or ""),
            status=str(e.get("ContactStatus") or "ACTIVE"),
            has_errors=bool(e.get("HasValidationErrors")) or e.get("StatusAttributeString") == "ERROR",
            errors=validation_messages(e),
            updated=parse_xero_datetime(e.get("UpdatedDateUTC")),
            first_name=str(e.get("FirstName") or ""),
            last_name=str(e.get("LastName") or ""),
            tax_number=str(e.get("TaxNumber") or ""),
            phone=str(phone.get("PhoneNumber") or ""),
            street=str(address.get("AddressLine1") or ""),
            postcode=str(address.get("PostalCode") or ""),
            city=str(address.get("City") or ""),
            country=str(address.get("Country") or ""),
            pobox=tuple((str(k), str(v)) for k, v in address.items() if v is not None),
            default_phone=tuple((str(k), str(v)) for k, v in phone.items() if v is not None),
        )


@dataclass(frozen=True)
class XeroPaymentState:
    xero_id: str
    invoice_id: str
    invoice_number: str
    account_code: str
    date: date | None
    amount: Decimal
    reference: str
    status: str  # AUTHORISED | DELETED
    payment_type: str
    has_errors: bool
    errors: tuple[str, ...]
    updated: datetime | None
    credit_note_id: str = ""  # a refund of a credit note

    @classmethod
    def parse(cls, e: dict[str, Any]) -> XeroPaymentState:
        invoice = e.get("Invoice") or {}
        account = e.get("Account") or {}
        return cls(
            xero_id=str(e.get("PaymentID") or ""),
            invoice_id=str(invoice.get("InvoiceID") or ""),
            invoice_number=str(invoice.get("InvoiceNumber") or ""),
            credit_note_id=str((e.get("CreditNote") or {}).get("CreditNoteID") or ""),
            account_code=str(account.get("Code") or ""),
            date=parse_xero_date(e.get("Date")),
            amount=_dec(e.get("Amount")),
            reference=str(e.get("Reference") or ""),
            status=str(e.get("Status") or ""),
            payment_type=str(e.get("PaymentType") or ""),
            has_errors=bool(e.get("HasValidationErrors")) or e.get("StatusAttributeString") == "ERROR",
            errors=validation_messages(e),
            updated=parse_xero_datetime(e.get("UpdatedDateUTC")),
        )


@dataclass(frozen=True)
class XeroLineState:
    """One line of an invoice or credit note as Xero holds it (for the tie-out)."""

    description: str
    quantity: Decimal
    unit_amount: Decimal
    account_code: str
    tax_type: str
    tax_amount: Decimal
    line_amount: Decimal
    discount_rate: Decimal | None

    @classmethod
    def parse(cls, e: dict[str, Any]) -> XeroLineState:
        discount = e.get("DiscountRate")
        return cls(
            description=str(e.get("Description") or ""),
            quantity=_dec(e.get("Quantity")),
            unit_amount=_dec(e.get("UnitAmount")),
            account_code=str(e.get("AccountCode") or ""),
            tax_type=str(e.get("TaxType") or ""),
            tax_amount=_dec(e.get("TaxAmount")),
            line_amount=_dec(e.get("LineAmount")),
            discount_rate=_dec(discount) if discount not in (None, "", 0) else None,
        )


@dataclass(frozen=True)
class XeroDocumentDetail:
    """An invoice or credit note with its lines and tax, as Xero holds it: what a tie-out compares."""

    state: XeroDocumentState
    line_amount_types: str
    total_tax: Decimal
    lines: tuple[XeroLineState, ...]

    @property
    def is_credit_note(self) -> bool:
        return self.state.type == "ACCRECCREDIT"

    @classmethod
    def parse(cls, e: dict[str, Any]) -> XeroDocumentDetail:
        return cls(
            state=XeroDocumentState.parse(e),
            line_amount_types=str(e.get("LineAmountTypes") or "Exclusive"),
            total_tax=_dec(e.get("TotalTax")),
            lines=tuple(XeroLineState.parse(li) for li in e.get("LineItems") or [] if isinstance(li, dict)),
        )


def _where_dated(start: date, end: date) -> str:
    """Xero's `where` for a date range (both ends included)."""
    return (f"Date >= DateTime({start.year}, {start.month:02d}, {start.day:02d}) AND "
            f"Date <= DateTime({end.year}, {end.month:02d}, {end.day:02d})")


# --- the client ------------------------------------------------------------------------------------------


class XeroClient:
    def __init__(
        self,
        api_url: str,
        tenant_id: str,
        tokens: TokenSource,
        *,
        limiter: XeroLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        request_deadline: float = REQUEST_DEADLINE_SECONDS,
        pool: Any = None,
    ) -> None:
        """`pool`: what carries the SDK's requests instead of its own urllib3 pool (a test's in-process
        sandbox, sandbox/memory.py)."""
        self.tenant_id = tenant_id
        self.request_deadline = request_deadline  # seconds for a whole answer, on the real clock
        self._tokens = tokens
        self.limiter = limiter or XeroLimiter(sleep=sleep)
        self._sleep = sleep
        self.calls: Counter[str] = Counter()
        self.answered_at: datetime | None = None  # Xero's clock (its Date header) at the last answer
        self._calls_lock = threading.Lock()
        self._current_token = ""
        config = Configuration(oauth2_token=OAuth2Token(client_id="provet-xero"))
        self._api_client = ApiClient(
            config,
            pool_threads=1,
            oauth2_token_getter=self._token_for_sdk,
            oauth2_token_saver=lambda _token: None,  # tokens are saved by the TokenManager, never by the SDK
        )
        # Configuration() shares its first instance's values: set this client's token object explicitly.
        self._api_client.configuration.oauth2_token = OAuth2Token(client_id="provet-xero")
        if pool is not None:
            self._api_client.rest_client.pool_manager = pool
        # Our own loop decides about retries (with the same Idempotency-Key); urllib3 must not retry on its own.
        self._api_client.rest_client.pool_manager.connection_pool_kw["retries"] = urllib3.Retry(
            total=0, connect=0, read=0, redirect=0, status=0, raise_on_redirect=False
        )
        self.api = AccountingApi(self._api_client, base_url=api_url.rstrip("/") + "/api.xro/2.0")

    def _token_for_sdk(self) -> dict[str, Any]:
        self._current_token = self._tokens.access_token()
        # expires_at None: the SDK treats the token as valid and never tries to refresh it itself.
        return {
            "access_token": self._current_token,
            "scope": [],
            "expires_in": 1800,
            "token_type": "Bearer",
            "expires_at": None,
        }

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    # --- the call loop --------------------------------------------------------------------------------
    def call(self, name: str, method: Callable[..., Any], /, **kwargs: Any) -> Any:
        """One API call as decoded JSON, retried as the answer says. Raises XeroApiError / DayLimitLow."""
        renewed = False
        for attempt in range(1, MAX_ATTEMPTS + 1):
            self.limiter.before_call()
            with self._calls_lock:
                self.calls[name] += 1
            try:
                deadline = time.monotonic() + self.request_deadline
                resp, _status, headers = method(
                    self.tenant_id,
                    _return_http_data_only=False,
                    _preload_content=False,
                    _request_timeout=TIMEOUT,
                    **kwargs,
                )
                self.limiter.after_call(headers or {})
                self.answered_at = _answer_date(headers)
                return _decode(_read_within(resp, deadline, name, self.request_deadline))
            except ApiException as exc:
                headers = exc.headers or {}
                self.limiter.after_call(headers)
                status = exc.status or 0
                if status == 401 and not renewed:
                    renewed = True
                    self._tokens.invalidate(self._current_token)
                    continue
                if status == 429:
                    self.limiter.rate_limited(
                        headers.get("X-Rate-Limit-Problem"), _retry_after(headers.get("Retry-After"))
                    )
                    continue
                if status >= 500 or status == 0:
                    if attempt == MAX_ATTEMPTS:
                        raise XeroApiError(
                            f"Xero kept failing ({status or 'no answer'}) for {name}; it will be tried again "
                            "on the next sync.", status, lost=True) from None
                    self._backoff(attempt)
                    continue
                raise _error_for(name, status, exc.body) from None
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                log.warning("no answer from Xero for %s (%s); trying again", name, type(exc).__name__)
                if attempt == MAX_ATTEMPTS:
                    raise XeroApiError(
                        f"Xero could not be reached for {name}; it will be tried again on the next sync.",
                        lost=True,
                    ) from None
                self._backoff(attempt)
        raise XeroApiError(f"Xero kept refusing {name}; it will be tried again on the next sync.")

    def _backoff(self, attempt: int) -> None:
        self._sleep(min(MAX_BACKOFF, (2 ** (attempt - 1)) * (0.5 + random.random())))

    # --- reference data -------------------------------------------------------------------------------
    def reference(self) -> XeroReference:
        org = self.call("GET Organisation", self.api.get_organisations)["Organisations"][0]
        taxes = self.call("GET TaxRates", self.api.get_tax_rates)["TaxRates"]
        accounts = self.call("GET Accounts", self.api.get_accounts)["Accounts"]
        # Archived ones too: the mapping check tells "archived in Xero" from "Xero has no such option".
        tracking = self.call("GET TrackingCategories", self.api.get_tracking_categories,
                             include_archived=True).get("TrackingCategories") or []
        return XeroReference(
            Organisation(
                name=str(org.get("Name") or ""),
                base_currency=str(org.get("BaseCurrency") or ""),
                period_lock_date=parse_xero_date(org.get("PeriodLockDate")),
                end_of_year_lock_date=parse_xero_date(org.get("EndOfYearLockDate")),
            ),
            tuple(
                TaxRate(
                    tax_type=str(t.get("TaxType") or ""),
                    name=str(t.get("Name") or ""),
                    rate=_dec(t.get("EffectiveRate", t.get("DisplayTaxRate"))),
                    status=str(t.get("Status") or ""),
                    can_apply_to_revenue=bool(t.get("CanApplyToRevenue")),
                )
                for t in taxes
            ),
            tuple(
                Account(
                    code=str(a.get("Code") or ""),
                    name=str(a.get("Name") or ""),
                    type=str(a.get("Type") or ""),
                    status=str(a.get("Status") or ""),
                    enable_payments=bool(a.get("EnablePaymentsToAccount")),
                    tax_type=str(a.get("TaxType") or ""),
                )
                for a in accounts
                if a.get("Code")
            ),
            tuple(_tracking_category(c) for c in tracking if isinstance(c, dict) and c.get("Name")),
        )

    # --- writes ---------------------------------------------------------------------------------------
    def put_contacts(self, contacts: list[dict[str, Any]], key: str) -> list[XeroContactState]:
        data = self.call("PUT Contacts", self.api.create_contacts, contacts={"Contacts": contacts},
                         summarize_errors=False, idempotency_key=key)
        return [XeroContactState.parse(e) for e in data.get("Contacts", [])]

    def update_contacts(self, contacts: list[dict[str, Any]], key: str) -> list[XeroContactState]:
        data = self.call("POST Contacts", self.api.update_or_create_contacts, contacts={"Contacts": contacts},
                         summarize_errors=False, idempotency_key=key)
        return [XeroContactState.parse(e) for e in data.get("Contacts", [])]

    def put_invoices(self, invoices: list[dict[str, Any]], key: str) -> list[XeroDocumentState]:
        data = self.call("PUT Invoices", self.api.create_invoices, invoices={"Invoices": invoices},
                         summarize_errors=False, unitdp=4, idempotency_key=key)
        return [XeroDocumentState.parse(e) for e in data.get("Invoices", [])]

    def put_credit_notes(self, notes: list[dict[str, Any]], key: str) -> list[XeroDocumentState]:
        data = self.call("PUT CreditNotes", self.api.create_credit_notes, credit_notes={"CreditNotes": notes},
                         summarize_errors=False, unitdp=4, idempotency_key=key)
        return [XeroDocumentState.parse(e) for e in data.get("CreditNotes", [])]

    def allocate_credit_note(self, credit_note_id: str, invoice_id: str, amount: Decimal, on: date, key: str) -> None:
        body = {"Allocations": [{"Invoice": {"InvoiceID": invoice_id}, "Amount": float(amount),
                                 "Date": on.isoformat()}]}
        self.call("PUT CreditNotes/Allocations", self.api.create_credit_note_allocation,
                  credit_note_id=credit_note_id, allocations=body, idempotency_key=key)

    def void_invoice(self, invoice_id: str, key: str) -> XeroDocumentState:
        data = self.call("POST Invoices/{id}", self.api.update_invoice, invoice_id=invoice_id,
                         invoices={"Invoices": [{"InvoiceID": invoice_id, "Status": "VOIDED"}]}, idempotency_key=key)
        return XeroDocumentState.parse(data["Invoices"][0])

    def void_credit_note(self, credit_note_id: str, key: str) -> XeroDocumentState:
        data = self.call("POST CreditNotes/{id}", self.api.update_credit_note, credit_note_id=credit_note_id,
                         credit_notes={"CreditNotes": [{"CreditNoteID": credit_note_id, "Status": "VOIDED"}]},
                         idempotency_key=key)
        return XeroDocumentState.parse(data["CreditNotes"][0])

    def put_payments(self, payments: list[dict[str, Any]], key: str) -> list[XeroPaymentState]:
        data = self.call("PUT Payments", self.api.create_payments, payments={"Payments": payments},
                         summarize_errors=False, idempotency_key=key)
        return [XeroPaymentState.parse(e) for e in data.get("Payments", [])]

    def delete_payment(self, payment_id: str, key: str) -> XeroPaymentState:
        data = self.call("POST Payments/{id}", self.api.delete_payment, payment_id=payment_id,
                         payment_delete={"Status": "DELETED"}, idempotency_key=key)
        return XeroPaymentState.parse(data["Payments"][0])

    # --- reads ----------------------------------------------------------------------------------------
    def invoices_by_number(self, numbers: Sequence[str]) -> list[XeroDocumentState]:
        chunks = ({"invoice_numbers": chunk} for chunk in fit_in_url(list(numbers), ","))
        rows = self._lookup("GET Invoices", self.api.get_invoices, "Invoices", chunks, include_archived=True)
        return [XeroDocumentState.parse(e) for e in rows]

    def payments_modified_since(self, since: datetime) -> PaymentsPoll:
        """Payments changed at or after `since` (Xero's clock), all pages; the newest UpdatedDateUTC; and when
        Xero answered."""
        pages = self._pages("GET Payments", self.api.get_payments, "Payments",
                            if_modified_since=modified_since_header(since))
        rows = next(pages)
        answered_at = self.answered_at  # the first page's: later ones may come a little after
        out = [XeroPaymentState.parse(e) for e in rows + [e for batch in pages for e in batch]]
        stamps = [p.updated for p in out if p.updated]
        return PaymentsPoll(out, max(stamps) if stamps else None, answered_at)

    def invoices_by_id(self, ids: Sequence[str]) -> list[XeroDocumentState]:
        rows = self._lookup("GET Invoices", self.api.get_invoices, "Invoices", _ids(ids, 50))
        return [XeroDocumentState.parse(e) for e in rows]

    def all_contacts(self) -> list[XeroContactState]:
        """Every contact, archived ones too, a page of 1,000 a call (cheaper than looking up many one by one)."""
        return self.contacts_modified_since(None)

    def contacts_modified_since(self, since: datetime | None) -> list[XeroContactState]:
        """Contacts Xero changed at or after `since` (every contact when None), archived ones too; one call
        when fewer than a page (1,000) changed."""
        extra: dict[str, Any] = {"if_modified_since": modified_since_header(since)} if since is not None else {}
        rows = self._all_pages("GET Contacts", self.api.get_contacts, "Contacts", include_archived=True, **extra)
        return [XeroContactState.parse(e) for e in rows]

    def contacts_by_id(self, ids: Sequence[str]) -> list[XeroContactState]:
        """These contacts as Xero holds them now, 50 ids a call."""
        rows = self._lookup("GET Contacts", self.api.get_contacts, "Contacts", _ids(ids, 50), include_archived=True)
        return [XeroContactState.parse(e) for e in rows]

    def credit_notes_by_number(self, numbers: Sequence[str]) -> list[XeroDocumentState]:
        chunks = _where_any([f'CreditNoteNumber=="{_quote(n)}"' for n in numbers])
        return [XeroDocumentState.parse(e)
                for e in self._lookup("GET CreditNotes", self.api.get_credit_notes, "CreditNotes", chunks)]

    def contacts_matching(self, numbers: Sequence[str], names: Sequence[str]) -> list[XeroContactState]:
        """Contacts with any of these ContactNumbers or Names (archived ones too), in as few calls as keep each
        URL within MAX_URL_CHARS (one for a few clients)."""
        terms = [f'ContactNumber=="{_quote(n)}"' for n in numbers] + [f'Name=="{_quote(n)}"' for n in names]
        out: dict[str, XeroContactState] = {}
        for e in self._lookup("GET Contacts", self.api.get_contacts, "Contacts", _where_any(terms),
                              include_archived=True):
            contact = XeroContactState.parse(e)
            out.setdefault(contact.xero_id or str(len(out)), contact)
        return list(out.values())

    # --- reads for rebuilding a lost store's links: everything the app may have written, 1,000 a call -------
    def all_sales_documents(self, kind: str) -> list[XeroDocumentState]:
        """Every sales invoice (`kind` "invoice") or credit note ("credit_note"), every status, with the credit
        notes' allocations (the invoices are read in summary: no lines)."""
        if kind == "credit_note":
            rows = self._all_pages("GET CreditNotes", self.api.get_credit_notes, "CreditNotes",
                                   where='Type=="ACCRECCREDIT"')
        else:
            rows = self._all_pages("GET Invoices", self.api.get_invoices, "Invoices", where='Type=="ACCREC"',
                                   summary_only=True)
        return [XeroDocumentState.parse(e) for e in rows]

    def all_payments(self) -> list[XeroPaymentState]:
        """Every payment, deleted ones too."""
        return [XeroPaymentState.parse(e) for e in self._all_pages("GET Payments", self.api.get_payments, "Payments")]

    # --- reads for the tie-out: whole date ranges in as few calls as Xero allows -----------------------------
    def documents_dated(self, kind: str, start: date, end: date) -> list[XeroDocumentDetail]:
        """Sales invoices (`kind` "invoice") or credit notes ("credit_note") dated `start`..`end`, with their
        lines, every status, 1,000 a call (Xero's `where` on Date and Type is one of its optimised filters)."""
        credit = kind == "credit_note"
        where = f'Type=="{"ACCRECCREDIT" if credit else "ACCREC"}" AND {_where_dated(start, end)}'
        if credit:
            rows = self._all_pages("GET CreditNotes", self.api.get_credit_notes, "CreditNotes", where=where, unitdp=4)
        else:
            rows = self._all_pages("GET Invoices", self.api.get_invoices, "Invoices", where=where, unitdp=4)
        return [XeroDocumentDetail.parse(e) for e in rows]

    def documents_detail_by_id(self, kind: str, ids: Sequence[str]) -> list[XeroDocumentDetail]:
        """These invoices or credit notes with their lines (whatever their date), 40 ids a call."""
        if kind == "credit_note":  # GET CreditNotes has no IDs parameter; `where` on the id does it
            rows = self._lookup("GET CreditNotes", self.api.get_credit_notes, "CreditNotes",
                                _where_ids("CreditNoteID", ids, 40), unitdp=4)
        else:
            rows = self._lookup("GET Invoices", self.api.get_invoices, "Invoices", _ids(ids, 40), unitdp=4)
        return [XeroDocumentDetail.parse(e) for e in rows]

    def payments_dated(self, start: date, end: date) -> list[XeroPaymentState]:
        """Every payment dated `start`..`end` (deleted ones too), 1,000 a call."""
        rows = self._all_pages("GET Payments", self.api.get_payments, "Payments", where=_where_dated(start, end))
        return [XeroPaymentState.parse(e) for e in rows]

    def payments_by_id(self, ids: Sequence[str]) -> list[XeroPaymentState]:
        """These payments (whatever their date), 40 ids a call."""
        rows = self._lookup("GET Payments", self.api.get_payments, "Payments", _where_ids("PaymentID", ids, 40))
        return [XeroPaymentState.parse(e) for e in rows]

    # --- the two shapes of a read -------------------------------------------------------------------------
    def _pages(self, name: str, method: Callable[..., Any], key: str, **params: Any) -> Iterator[list[Any]]:
        """A list read page by page, PAGE_SIZE a call, up to the first page that is not full."""
        page = 1
        while True:
            batch = self.call(name, method, page=page, page_size=PAGE_SIZE, **params).get(key, [])
            yield batch
            if len(batch) < PAGE_SIZE:
                return
            page += 1

    def _all_pages(self, name: str, method: Callable[..., Any], key: str, **params: Any) -> list[Any]:
        return [e for batch in self._pages(name, method, key, **params) for e in batch]

    def _lookup(self, name: str, method: Callable[..., Any], key: str, chunks: Iterable[dict[str, Any]],
                **params: Any) -> list[Any]:
        """A look-up of many, one call (one page) per chunk; each chunk brings its own ids, numbers or `where`."""
        return [e for chunk in chunks
                for e in self.call(name, method, page=1, page_size=PAGE_SIZE, **params, **chunk).get(key, [])]


def _ids(ids: Sequence[str], size: int) -> Iterator[dict[str, Any]]:
    """The `IDs` parameter for `size` ids a call."""
    for start in range(0, len(ids), size):
        yield {"i_ds": list(ids[start : start + size])}


def _where_any(terms: Sequence[str]) -> Iterator[dict[str, Any]]:
    """A `where` of `terms` joined by OR, in as many calls as keep each URL within LIST_ROOM."""
    for part in fit_in_url(terms):
        yield {"where": " OR ".join(part)}


def _where_ids(field: str, ids: Sequence[str], size: int) -> Iterator[dict[str, Any]]:
    """A `where` on `field` for `size` ids at most a call (fewer when the URL would be too long)."""
    for start in range(0, len(ids), size):
        yield from _where_any([f'{field}==Guid("{_quote(i)}")' for i in ids[start : start + size]])


def _tracking_category(c: dict[str, Any]) -> TrackingCategory:
    return TrackingCategory(
        name=str(c.get("Name") or ""),
        status=str(c.get("Status") or "ACTIVE"),
        options=tuple(
            TrackingOption(str(o.get("Name") or ""), str(o.get("Status") or "ACTIVE"),
                           str(o.get("TrackingOptionID") or ""))
            for o in c.get("Options") or []
            if isinstance(o, dict) and o.get("Name")
        ),
        category_id=str(c.get("TrackingCategoryID") or ""),
    )


def fit_in_url(terms: Sequence[str], joiner: str = " OR ", room: int = LIST_ROOM) -> list[list[str]]:
    """`terms` in order, split into runs whose joined text, percent-encoded as it goes into the URL, fits in
    `room` characters (a term too long by itself goes alone)."""
    out: list[list[str]] = []
    size = 0
    glue = len(quote(joiner, safe=""))
    for term in terms:
        width = len(quote(term, safe=""))
        if out and size + glue + width <= room:
            out[-1].append(term)
            size += glue + width
        else:
            out.append([term])
            size = width
    return out


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _read_within(resp: Any, deadline: float, name: str, allowed: float) -> bytes | None:
    """The whole body by `deadline` (the read timeout counts each wait for a byte, not the answer): an answer
    dripping slowly ends as a lost answer (the request may have been carried out), not tried again."""
    if not hasattr(resp, "read1"):
        return resp.data
    chunks: list[bytes] = []
    while True:
        if time.monotonic() > deadline:
            resp.close()
            raise XeroApiError(
                f"Xero's answer to {name} came too slowly: it was not complete after {allowed:.0f} seconds, so "
                "provet-xero stopped waiting. Nothing is lost; it is checked and tried again on the next sync.",
                lost=True,
            )
        chunk = resp.read1(READ_CHUNK)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _decode(body: bytes | None) -> Any:
    if not body:
        return {}
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise XeroApiError("Xero's answer could not be read (damaged or cut off).", lost=True) from None


def _retry_after(value: str | None) -> float:
    try:
        return max(1.0, float(value)) if value else 60.0
    except ValueError:
        return 60.0


def _error_for(name: str, status: int, body: Any) -> XeroApiError:
    data: Any = None
    if isinstance(body, bytes | str):
        try:
            data = json.loads(body)
        except (ValueError, TypeError):
            data = None
    if status == 400 and isinstance(data, dict):
        messages = [m for el in data.get("Elements") or [] if isinstance(el, dict) for m in validation_messages(el)]
        return XeroValidationError(messages or [str(data.get("Message") or "validation error")])
    if status == 403:
        return XeroApiError("Xero refused access to the organisation: the connection may lack a permission "
                            "or the organisation was disconnected. Sign in to Xero again.", status)
    if status == 404:
        return XeroApiError(f"Xero does not have what {name} asked for (404).", status)
    if status == 413:
        return XeroTooLargeError(name)
    return XeroApiError(f"Xero refused {name} (HTTP {status}).", status)


__all__ = ["DayLimitLow", "XeroApiError", "XeroClient", "XeroTooLargeError", "XeroValidationError", "fit",
           "xero_len"]
