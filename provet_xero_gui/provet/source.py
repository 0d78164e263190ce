"""What the sync engine reads from and writes to Provet Cloud, as typed records (records.py).

Reads come back as a `ReadBatch`: the records that could be read, and a `BadRecord` for each one that
could not (missing field, wrong type...), so one broken record never stops the others. An answer that is
not a Provet list at all (an HTML page, cut-off JSON, no `results`) raises `ProvetError`: then nothing in
the batch can be trusted.

Lists are paged by `id__gt=<last id>` with `ordering=id` asked for explicitly (Provet promises no order of
its own), never by page number, so any number of results can be read (Provet refuses page offsets past
10,000). Every page is checked before it is used (provet-api.md's rule): its ids must rise, and what was
read must add up to the list's `count`; when either fails, `ProvetOrderError` stops the read, so no cursor
moves past a record that was never read. The first page asks for 50; once
the answer's `count` says how many are left, the next pages ask for just that many rounded up to 50 (at
most `max_page_size`), since a page of n×50 costs n calls of the endpoint's budget.

A batch's `cursor` (the largest `modified` read) never goes beyond Provet's own clock (the answer's `Date`
header): a record stamped in the future (a server clock three hours ahead, a record dated 2030) would
otherwise carry the cursor past every change still to come. Such a record is still read and used, and it
is reported in `ReadBatch.future` so it can be told in plain words.

Writes follow provet-api.md. A write whose answer was lost (`ProvetUncertainWriteError`) is looked up
before it is sent again, so a dropped connection never makes a second payment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Generic, Protocol, TypeVar

from provet_xero_gui.provet.client import (
    ListCheck,
    ProvetClient,
    ProvetError,
    ProvetRefusedError,
    ProvetUncertainWriteError,
    format_datetime,
    format_id_list,
)
from provet_xero_gui.provet.records import (
    INVOICE_FINALISED,
    INVOICE_VOIDED,
    PAYMENT_REGISTERED,
    Client,
    Department,
    Invoice,
    InvoiceRow,
    Payment,
    PaymentMethod,
    PhoneNumber,
    RecordError,
    UnallocatedPayment,
    VatGroup,
    id_from_url,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

PAGE_SIZE = 50  # Provet's default page: costs one call
MAX_PAGE_SIZE = 500  # 10 calls' worth; Provet allows up to 1000
ID_CHUNK = 100  # ids per `__in=[...]` filter, so a URL stays well under 2,000 characters
PAYMENT_TYPE_OTHER = 11
PAYMENT_CANCELLED = 99
CENT = Decimal("0.01")
DATE_PRECISION = timedelta(seconds=1)  # a `Date` header names a whole second
FUTURE_TOLERANCE = timedelta(minutes=2)  # later than Provet's clock by more than this: an impossible stamp

RESOURCE_WORDS = {
    "invoice": "invoice",
    "invoicerow": "invoice row",
    "invoicepayment": "payment",
    "unallocatedpayment": "prepayment",
    "client": "client",
    "phonenumber": "phone number",
    "vatgroup": "VAT group",
    "paymentmethod": "payment method",
    "department": "department",
}


class _HasModified(Protocol):
    @property
    def modified(self) -> datetime | None: ...


@dataclass(frozen=True)
class BadRecord:
    """A record Provet sent that could not be read; `message` says why, in plain words."""

    resource: str  # the API resource: "invoice", "invoicerow", "invoicepayment", "client", ...
    id: int | None  # None when even the id could not be read
    message: str
    invoice_id: int | None = None  # for a row or a payment: the invoice it belongs to, when readable

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class FutureStamp:
    """A record whose `modified` is later than Provet's own clock said it was when the record was read."""

    resource: str
    id: int | None
    modified: datetime
    provet_now: datetime
    label: str = ""  # the document's own name when it has one ("invoice RS-24001"), else ""

    @property
    def message(self) -> str:
        word = RESOURCE_WORDS.get(self.resource, self.resource)
        name = self.label or f"{word} {self.id if self.id is not None else '(no id)'}"
        return (
            f"Provet's {name} says it was last changed on {self.modified.astimezone():%Y-%m-%d at %H:%M}, later "
            f"than Provet's own clock ({self.provet_now.astimezone():%Y-%m-%d %H:%M}): that date is impossible. It is "
            "synced as usual, and the sync goes on from Provet's clock, not from that date, so later changes "
            "are not missed. Ask Provet support to correct the record's date."
        )

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class ReadBatch(Generic[T]):
    """Records read from one list, the ones that could not be read, and the largest `modified` seen.

    `cursor` is what the next `changed_*(since=cursor)` should start from (`modified__gte`, so the newest
    record is read once more: the engine tells repeats apart). Caveat for a read of several pages: a
    record changed *while* the pages were read, on a page already read, is not in this batch, and a
    later page may carry a newer stamp than its change; an engine that must never miss one keeps a small
    overlap (e.g. starts the next read a few minutes before `cursor`)."""

    records: tuple[T, ...] = ()
    bad: tuple[BadRecord, ...] = ()
    cursor: datetime | None = None  # largest `modified` among everything read (bad records too), never later
    # than Provet's clock said it was (see `future`); None if none
    total: int | None = None  # a page of a longer list: how many the whole list has (Provet's `count`)
    future: tuple[FutureStamp, ...] = ()  # records stamped later than Provet's own clock
    provet_now: datetime | None = None  # Provet's own clock when the list was read (its `Date` header)

    def cursor_is_impossible(self, since: datetime | None) -> bool:
        """True when `since` (a cursor kept from before) is later than Provet's own clock: an older version
        let a record dated in the future carry it there, so changes made since then were never read."""
        return since is not None and self.provet_now is not None and since > self.provet_now + FUTURE_TOLERANCE

    @property
    def ids(self) -> frozenset[int]:
        return frozenset(getattr(r, "id") for r in self.records)  # noqa: B009 - T is any record type

    def __iter__(self) -> Iterator[T]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)


@dataclass(frozen=True)
class GroupedBatch(Mapping[int, tuple[T, ...]], Generic[T]):
    """Rows or payments per invoice id: a read-only mapping with every asked-for invoice as a key (an
    invoice without any has `()`), plus the records that could not be read."""

    groups: Mapping[int, tuple[T, ...]] = field(default_factory=dict)
    bad: tuple[BadRecord, ...] = ()
    cursor: datetime | None = None

    def __getitem__(self, invoice_id: int) -> tuple[T, ...]:
        return self.groups[invoice_id]

    def __iter__(self) -> Iterator[int]:
        return iter(self.groups)

    def __len__(self) -> int:
        return len(self.groups)

    def bad_for(self, invoice_id: int) -> tuple[BadRecord, ...]:
        """The unreadable rows/payments of one invoice (its document must wait while there are any)."""
        return tuple(b for b in self.bad if b.invoice_id == invoice_id)

    @property
    def unplaced(self) -> tuple[BadRecord, ...]:
        """Unreadable records whose invoice could not be told: every invoice read with them is in doubt."""
        return tuple(b for b in self.bad if b.invoice_id is None)


def max_modified(records: Iterable[_HasModified], start: datetime | None = None) -> datetime | None:
    """The largest `modified` of `records` (and `start`), for the engine's cursor; None if there is none."""
    best = start
    for r in records:
        m = r.modified
        if m is not None and (best is None or m > best):
            best = m
    return best


class ProvetSource:
    """Typed reads and writes over a `ProvetClient`, as the sync engine uses them."""

    def __init__(
        self,
        client: ProvetClient,
        *,
        page_size: int = PAGE_SIZE,
        max_page_size: int = MAX_PAGE_SIZE,
        id_chunk: int = ID_CHUNK,
    ) -> None:
        if not 1 <= page_size <= max_page_size <= 1000:
            raise ValueError("page sizes must be 1 <= page_size <= max_page_size <= 1000")
        self.client = client
        self.page_size = page_size  # the first page, and the step later pages grow in
        self.max_page_size = max_page_size
        self.id_chunk = id_chunk
        self.pages_read = 0

    # --- URLs -----------------------------------------------------------------------------------------
    def url(self, resource: str, rid: int) -> str:
        """An object's API URL, as Provet writes relations."""
        return f"{self.client.api_url}{resource}/{int(rid)}/"

    # --- reference data -------------------------------------------------------------------------------
    def vat_groups(self) -> ReadBatch[VatGroup]:
        return self._read("vatgroup", VatGroup.parse)

    def payment_methods(self) -> ReadBatch[PaymentMethod]:
        return self._read("paymentmethod", PaymentMethod.parse)

    def departments(self) -> ReadBatch[Department]:
        return self._read("department", Department.parse)

    # --- invoices -------------------------------------------------------------------------------------
    def changed_invoices(
        self, since: datetime | None, statuses: Sequence[int] = (INVOICE_FINALISED, INVOICE_VOIDED)
    ) -> ReadBatch[Invoice]:
        """Invoices in `statuses` modified at or after `since` (all of them when None), by id."""
        return self._collect("invoice", self.changed_invoice_pages(since, statuses))

    def changed_invoice_pages(
        self, since: datetime | None, statuses: Sequence[int] = (INVOICE_FINALISED, INVOICE_VOIDED),
        dated_from: date | None = None,
    ) -> Iterator[ReadBatch[Invoice]]:
        """`changed_invoices` a page at a time, so the first page can be worked on while the next is read;
        only those dated `dated_from` or later when given (the sync's start date)."""
        filters: dict[str, Any] = {"status__in": format_id_list(tuple(statuses))}
        if since is not None:
            filters["modified__gte"] = format_datetime(since)
        if dated_from is not None:
            filters["invoice_date__gte"] = dated_from.isoformat()
        return self._pages("invoice", Invoice.parse, filters)

    def invoices_dated(
        self, start: date, end: date, statuses: Sequence[int] = (INVOICE_FINALISED, INVOICE_VOIDED)
    ) -> ReadBatch[Invoice]:
        """Invoices in `statuses` whose invoice date is from `start` to `end`, both included (the tie-out)."""
        filters = {"invoice_date__gte": start.isoformat(), "invoice_date__lte": end.isoformat(),
                   "status__in": format_id_list(tuple(statuses))}
        return self._read("invoice", Invoice.parse, filters)

    def invoices(self, ids: Iterable[int]) -> ReadBatch[Invoice]:
        """These invoices (any status); ids Provet does not have are simply absent."""
        return self._read_ids("invoice", Invoice.parse, "id__in", ids)

    def rows_for(self, invoice_ids: Iterable[int]) -> GroupedBatch[InvoiceRow]:
        """Every row of these invoices, grouped by invoice, in id order."""
        ids = _ids(invoice_ids)
        batch = self._read_ids("invoicerow", InvoiceRow.parse, "invoice__in", ids)
        return _group(ids, batch, lambda r: r.invoice_id)

    def payments_for(self, invoice_ids: Iterable[int]) -> GroupedBatch[Payment]:
        """Every payment of these invoices (cancelled ones too, status 99), grouped by invoice."""
        ids = _ids(invoice_ids)
        batch = self._read_ids("invoicepayment", Payment.parse, "invoice__in", ids)
        return _group(ids, batch, lambda p: p.invoice_id)

    def payments(self, ids: Iterable[int]) -> ReadBatch[Payment]:
        """These payments; one that cannot be read is a BadRecord, one Provet no longer has is absent."""
        return self._read_ids("invoicepayment", Payment.parse, "id__in", ids)

    def payments_dated(self, start: date, end: date) -> ReadBatch[Payment]:
        """Payments (cancelled ones too) whose payment date is from `start` to `end`, both included."""
        filters = {"payment_date__gte": start.isoformat(), "payment_date__lte": end.isoformat()}
        return self._read("invoicepayment", Payment.parse, filters)

    def changed_payments(self, since: datetime | None) -> ReadBatch[Payment]:
        """Payments created, or cancelled, at or after `since` (cancelled ones have status 99)."""
        return self._read("invoicepayment", Payment.parse, _since(since))

    # --- clients --------------------------------------------------------------------------------------
    def clients(self, ids: Iterable[int]) -> ReadBatch[Client]:
        return self._read_ids("client", Client.parse, "id__in", ids)

    def changed_clients(self, since: datetime | None) -> ReadBatch[Client]:
        """Clients changed at or after `since` (a phone number change moves the client's `modified`)."""
        return self._read("client", Client.parse, _since(since))

    def phone_numbers(self, ids: Iterable[int]) -> ReadBatch[PhoneNumber]:
        return self._read_ids("phonenumber", PhoneNumber.parse, "id__in", ids)

    def prepayments_created(self, since: datetime, until: datetime) -> ReadBatch[UnallocatedPayment]:
        """Prepayments created at or after `since` and before `until`."""
        filters = {"created__gte": format_datetime(since), "created__lt": format_datetime(until)}
        return self._read("unallocatedpayment", UnallocatedPayment.parse, filters)

    def unallocated_payments(
        self, since: datetime | None = None, client_ids: Iterable[int] | None = None
    ) -> ReadBatch[UnallocatedPayment]:
        """Prepayments (what is left of each), optionally only those changed since / of these clients."""
        if client_ids is not None:
            return self._read_ids("unallocatedpayment", UnallocatedPayment.parse, "client__in", client_ids, since)
        return self._read("unallocatedpayment", UnallocatedPayment.parse, _since(since))

    # --- writes ---------------------------------------------------------------------------------------
    def post_payment(
        self,
        invoice_url_or_id: str | int,
        amount: Decimal,
        payment_date: date,
        payment_method_id: int,
        xero_payment_id: str,
    ) -> Payment:
        """Register a payment made in Xero on a finalised Provet invoice (type 11 "other", the clinic's
        "Xero payments" method, info "Xero payment <PaymentID>"). When the answer is lost, the invoice's
        payments are looked at before it is sent again, so it is never made twice.

        A refusal (invoice not finalised, more than is due...) raises `ProvetRefusedError` with
        Provet's words."""
        invoice_id = id_from_url(invoice_url_or_id, "invoice")
        if invoice_id is None:
            raise ValueError("post_payment needs an invoice")
        invoice_url = invoice_url_or_id if isinstance(invoice_url_or_id, str) else self.url("invoice", invoice_id)
        if not xero_payment_id.strip():
            raise ValueError("post_payment needs the Xero PaymentID")
        body = {
            "invoice": invoice_url,
            "payment_type": PAYMENT_TYPE_OTHER,
            "payment_method": self.url("paymentmethod", payment_method_id),
            "paid": _two_dp(amount),
            "payment_date": payment_date.isoformat(),
            "status": PAYMENT_REGISTERED,
            "info": xero_info(xero_payment_id),
        }
        for attempt in (1, 2, 3):
            try:
                data = self.client.request("POST", "invoicepayment/", json=body)
            except ProvetUncertainWriteError:
                found = self.find_xero_payment(invoice_id, xero_payment_id)
                if found is not None:
                    log.info("Provet payment for Xero payment %s was saved (answer lost)", xero_payment_id)
                    return found
                if attempt == 3:
                    raise
                log.info("Provet payment for Xero payment %s was not saved; sending it again", xero_payment_id)
                continue
            return _written(Payment.parse, data, "payment")
        raise AssertionError("unreachable")

    def find_xero_payment(self, invoice_id: int, xero_payment_id: str) -> Payment | None:
        """The registered (not cancelled) Provet payment made for this Xero payment, if there is one."""
        info = xero_info(xero_payment_id)
        for p in self.payments_for([invoice_id]).get(invoice_id, ()):
            if p.info == info and p.status == PAYMENT_REGISTERED:
                return p
        return None

    def cancel_payment(self, payment_id: int) -> Payment:
        """Reverse a payment (`cancel_payment`); a payment already cancelled is simply returned."""
        path = f"invoicepayment/{int(payment_id)}/cancel_payment/"
        try:
            data = self.client.request("POST", path, json={})
        except ProvetUncertainWriteError:
            current = self.payment(payment_id)
            if current.status == PAYMENT_CANCELLED:
                return current
            data = self.client.request("POST", path, json={})
        except ProvetRefusedError:
            current = self.payment(payment_id)
            if current.status == PAYMENT_CANCELLED:
                return current
            raise
        try:
            return Payment.parse(data)
        except RecordError:  # the answer was not the payment itself: read it
            return self.payment(payment_id)

    def payment(self, payment_id: int) -> Payment:
        try:
            return Payment.parse(self.client.get(f"invoicepayment/{int(payment_id)}/"))
        except RecordError as exc:
            raise ProvetError(f"Provet's payment {payment_id} could not be read: {exc}") from None

    def patch_client(self, client_id: int, fields: Mapping[str, str]) -> Client:
        """Change these client fields (setting the same values again is harmless, so it is retried)."""
        if not fields:
            raise ValueError("patch_client needs at least one field")
        data = self.client.request("PATCH", f"client/{int(client_id)}/", json=dict(fields), idempotent=True)
        return _written(Client.parse, data, "client")

    def add_phone_number(self, client_id: int, phone_number: str, description: str = "Mobile") -> PhoneNumber:
        """Give a client another phone number (looked up first when the answer is lost)."""
        body = {"client": self.url("client", client_id), "phone_number": phone_number, "description": description}
        try:
            data = self.client.request("POST", "phonenumber/", json=body)
        except ProvetUncertainWriteError:
            found = self._find_phone(client_id, phone_number)
            if found is not None:
                return found
            data = self.client.request("POST", "phonenumber/", json=body)
        return _written(PhoneNumber.parse, data, "phone number")

    def patch_phone_number(self, phone_id: int, phone_number: str) -> PhoneNumber:
        data = self.client.request(
            "PATCH", f"phonenumber/{int(phone_id)}/", json={"phone_number": phone_number}, idempotent=True
        )
        return _written(PhoneNumber.parse, data, "phone number")

    def _find_phone(self, client_id: int, phone_number: str) -> PhoneNumber | None:
        for c in self.clients([client_id]).records:
            for p in self.phone_numbers(c.phone_ids).records:
                if p.phone_number == phone_number:
                    return p
        return None

    # --- the reading machinery ------------------------------------------------------------------------
    def _read_ids(
        self,
        resource: str,
        parse: Callable[[Any], T],
        key: str,
        ids: Iterable[int],
        since: datetime | None = None,
    ) -> ReadBatch[T]:
        """`key=[...]` in chunks of `id_chunk` ids, every page of each."""
        wanted = _ids(ids)
        records: list[T] = []
        bad: list[BadRecord] = []
        future: list[FutureStamp] = []
        cursor: datetime | None = None
        for start in range(0, len(wanted), self.id_chunk):
            chunk = wanted[start : start + self.id_chunk]
            part = self._read(resource, parse, {key: format_id_list(chunk), **_since(since)})
            records.extend(part.records)
            bad.extend(part.bad)
            future.extend(part.future)
            cursor = _later(cursor, part.cursor)
        return ReadBatch(tuple(records), tuple(bad), cursor, future=tuple(future))

    def _read(self, resource: str, parse: Callable[[Any], T], filters: Mapping[str, Any] | None = None) -> ReadBatch[T]:
        """Every result of a filtered list, paged by `id__gt`, each parsed on its own."""
        return self._collect(resource, self._pages(resource, parse, filters))

    def _collect(self, resource: str, pages: Iterable[ReadBatch[T]]) -> ReadBatch[T]:
        """All the pages of one list as one batch."""
        records: list[T] = []
        bad: list[BadRecord] = []
        future: list[FutureStamp] = []
        cursor: datetime | None = None
        provet_now: datetime | None = None
        for page in pages:
            records.extend(page.records)
            bad.extend(page.bad)
            future.extend(page.future)
            cursor = _later(cursor, page.cursor)
            provet_now = page.provet_now or provet_now
        if bad:
            log.warning("%d %s record(s) could not be read", len(bad), RESOURCE_WORDS.get(resource, resource))
        return ReadBatch(tuple(records), tuple(bad), cursor, future=tuple(future), provet_now=provet_now)

    def _pages(
        self, resource: str, parse: Callable[[Any], T], filters: Mapping[str, Any] | None = None
    ) -> Iterator[ReadBatch[T]]:
        """A filtered list a page at a time (see `_read`); each page's `total` is the whole list's count.
        Each page is checked (`ListCheck`) before it is yielded; the last one also for the list's `count`."""
        total: int | None = None
        last_id: int | None = None
        seen: set[int] = set()  # a record Provet lists twice is one record: read once, never sent twice
        check = ListCheck(resource)
        size = self.page_size
        while True:
            params: dict[str, Any] = {**(filters or {}), "ordering": "id", "page_size": size}
            if last_id is not None:
                params["id__gt"] = last_id
            data = self.client.get(f"{resource}/", params)
            self.pages_read += 1
            results = _results(data, resource)
            count = data.get("count")
            check.page(count, results)
            if total is None and isinstance(count, int) and not isinstance(count, bool):
                total = count  # later pages count only what is left after `id__gt`
            records: list[T] = []
            bad: list[BadRecord] = []
            cursor: datetime | None = None
            page_max: int | None = None
            for raw in results:
                rid = _raw_id(raw)
                if rid is not None and (page_max is None or rid > page_max):
                    page_max = rid
                cursor = _later(cursor, _raw_modified(raw))
                if rid is not None:
                    if rid in seen:
                        continue
                    seen.add(rid)
                try:
                    records.append(parse(raw))
                except RecordError as exc:
                    bad.append(_bad(resource, raw, str(exc)))
                except (ValueError, TypeError, KeyError, AttributeError, ArithmeticError) as exc:
                    bad.append(_bad(resource, raw, f"could not be read ({type(exc).__name__})"))
            cursor, future = self._within_provets_clock(resource, results, cursor)
            last = not results or not data.get("next") or len(results) < size
            if last:
                check.finished()
            yield ReadBatch(tuple(records), tuple(bad), cursor, total, future, self.client.server_now)
            if last:
                return
            if page_max is None or (last_id is not None and page_max <= last_id):
                raise ProvetError(
                    f"Provet's list of {RESOURCE_WORDS.get(resource, resource)}s could not be paged: its records "
                    "have no usable ids."
                )
            last_id = page_max
            size = self._next_size(data.get("count"), len(results))

    def _within_provets_clock(
        self, resource: str, results: list[Any], cursor: datetime | None
    ) -> tuple[datetime | None, tuple[FutureStamp, ...]]:
        """The page's cursor, no later than Provet's own clock said (its `Date` header, which names a whole
        second; this computer's clock when it sent none), and the records stamped later than that clock by
        more than clocks can differ (`FutureStamp`)."""
        if cursor is None:
            return None, ()
        provet_now = self.client.server_now or datetime.now(UTC)
        if cursor < provet_now + DATE_PRECISION:  # within the second the clock named: a true stamp
            return cursor, ()
        future = []
        for raw in results:
            modified = _raw_modified(raw)
            if modified is not None and modified > provet_now + FUTURE_TOLERANCE:
                stamp = FutureStamp(resource, _raw_id(raw), modified, provet_now, _label(resource, raw))
                log.info("%s", stamp.message)
                future.append(stamp)
        return provet_now, tuple(future)  # read again from there: harmless, and nothing after it is missed

    def _next_size(self, count: Any, got: int) -> int:
        """Just enough for what is left (in steps of 50, which each cost one call), capped."""
        step = self.page_size
        if not isinstance(count, int) or isinstance(count, bool):
            return step
        left = max(count - got, 1)
        return min(self.max_page_size, -(-left // step) * step)


def xero_info(xero_payment_id: str) -> str:
    """The `info` of a Provet payment that came from Xero; also how it is found again."""
    return f"Xero payment {xero_payment_id.strip()}"


# ------------------------------------------------------------------------------------------ helpers


def _ids(ids: Iterable[int]) -> list[int]:
    return sorted({int(i) for i in ids})


def _since(since: datetime | None) -> dict[str, str]:
    return {} if since is None else {"modified__gte": format_datetime(since)}


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return b if b > a else a


def _results(data: Any, resource: str) -> list[Any]:
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list):
        raise ProvetError(
            f"Provet's list of {RESOURCE_WORDS.get(resource, resource)}s had no 'results'; its answer was not "
            "understood. Check the instance address, or try again later."
        )
    return results


def _raw_id(raw: Any) -> int | None:
    value = raw.get("id") if isinstance(raw, dict) else None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _raw_modified(raw: Any) -> datetime | None:
    value = raw.get("modified") if isinstance(raw, dict) else None
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _label(resource: str, raw: Any) -> str:
    """"invoice RS-24001" for an invoice with a number; "" otherwise (the id names it then)."""
    if resource != "invoice" or not isinstance(raw, dict):
        return ""
    number, prefix = raw.get("invoice_number"), raw.get("invoice_prefix")
    if not isinstance(number, str) or not number.strip():
        return ""
    name = f"{prefix}-{number}" if isinstance(prefix, str) and prefix.strip() else number
    return f"invoice {name}"


def _bad(resource: str, raw: Any, message: str) -> BadRecord:
    rid = _raw_id(raw)
    word = RESOURCE_WORDS.get(resource, resource)
    if not message.lower().startswith(word.lower()):
        message = f"{word.capitalize()} {rid if rid is not None else '(no id)'}: {message}"
    invoice_id = None
    if resource in ("invoicerow", "invoicepayment") and isinstance(raw, dict):
        try:
            invoice_id = id_from_url(raw.get("invoice"))
        except RecordError:
            invoice_id = None
    elif resource == "invoice":
        invoice_id = rid
    return BadRecord(resource, rid, message, invoice_id)


def _group(ids: Sequence[int], batch: ReadBatch[T], key: Callable[[T], int]) -> GroupedBatch[T]:
    groups: dict[int, list[T]] = {i: [] for i in ids}
    for rec in batch.records:
        groups.setdefault(key(rec), []).append(rec)
    frozen = {i: tuple(sorted(recs, key=lambda r: getattr(r, "id"))) for i, recs in groups.items()}  # noqa: B009
    return GroupedBatch(frozen, batch.bad, batch.cursor)


def _two_dp(amount: Decimal) -> str:
    value = Decimal(amount)
    if not value.is_finite() or value.quantize(CENT) != value:
        raise ValueError(f"a Provet payment amount has at most 2 decimals, not {amount}")
    return f"{value.quantize(CENT):.2f}"


def _written(parse: Callable[[Any], T], data: Any, what: str) -> T:
    """Parse a write's answer; a saved record whose answer cannot be read is a plain error."""
    try:
        return parse(data)
    except RecordError as exc:
        raise ProvetError(f"Provet saved the {what}, but its answer could not be read: {exc}") from None
