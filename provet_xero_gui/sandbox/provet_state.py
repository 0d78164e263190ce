"""The inside of the simulated Provet Cloud: the records, the filter language, validation, and the
thread-safe operations that both the HTTP handlers and the test hooks use.

Records are kept as plain dicts keyed by the API field names, relations as ids, so that filtering and
rendering work the same way for every resource. Every change stamps `modified` from the sandbox clock,
never going back in time (a stamp is always later than every stamp already in the data), so a
`modified__gte` cursor never misses a change even when the clock starts before the generated data.

Decisions where provet-api.md is silent (see also clinic.py):
- Filters: a bare `field=value` means `field__is`. Lists (`in`, `not_in`, `range`) are written `[1,2,3]`
  (brackets optional, items may be quoted). `range` is inclusive. `is_null` takes true/false. Relations
  filter by id (a URL to the object is accepted too); `contains`/`icontains` work on text fields only;
  to-many relations (`invoice_row`...) cannot be filtered. `is_not` and `not_in` match nulls; comparisons
  never do. Unknown fields or operators, related lookups (`client__city__is`) and values that do not
  parse are a 400 with a message.
- Order: `ordering=<field>` (`-<field>` descending; several comma-separated) as Django REST's OrderingFilter
  reads it: any field that can be filtered; unknown fields are dropped silently, as Django REST does. With
  no (usable) ordering a list comes newest first (`-id`): provet-api.md promises no order, and an order
  other than ascending id catches a reader that pages by `id__gt` without asking for `ordering=id`.
  Nulls sort last ascending and first descending (PostgreSQL's rule); ties keep ascending id.
- Datetimes in filters: ISO 8601 (`2024-03-20 00:00+00:00`, `...T00:00:00Z`, or a bare date = midnight);
  no offset means UTC. A raw `+` in a query string decodes to a space, as in Django, so
  `2024-03-20 00:00 00:00` is a 400 that says to send `+` as `%2B`.
- Payments may be posted only to finalised invoices; `paid` must be non-zero with at most 2 dp, have the
  sign of the amount due, and not exceed it (no overpayment: Xero refuses one too, so an overpayment
  would only ever be a bug). `status` must be 3; `payment_date` defaults to the sandbox's today. A
  custom `payment_method` must exist, not be archived and have the same `payment_type`.
- `cancel_payment` sets the payment's `status` to 99 (cancelled) and moves its and its invoice's
  `modified`; a cancelled payment cannot be cancelled again.
- PATCH /client/ ignores read-only and unknown fields (as Django REST does), rejects null text, bad
  e-mail, a country that is not ISO alpha-2, an unknown customer_type and a client left without a name,
  and always moves `modified` (auto_now). Phone numbers can be added (POST /phonenumber/) and changed
  (PATCH /phonenumber/{id}/); either moves the client's `modified`, so a client delta sees it.
"""

from __future__ import annotations

import logging
import random
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from provet_xero_gui.sandbox import clinic as C
from provet_xero_gui.sandbox.clinic import (
    Client,
    Department,
    Invoice,
    InvoicePayment,
    InvoiceRow,
    PaymentMethod,
    PhoneNumber,
    ProvetData,
    RowSpec,
    UnallocatedPayment,
    VatGroup,
)
from provet_xero_gui.sandbox.clock import SandboxClock

log = logging.getLogger(__name__)

OPERATORS = ("is", "is_not", "lt", "lte", "gt", "gte", "range", "in", "not_in", "is_null", "contains", "icontains")
RESERVED_PARAMS = frozenset({"page", "page_size", "filter_type", "format", "ordering"})
DEFAULT_ORDERING = ("-id",)  # newest first: provet-api.md promises no order, so a reader must ask for one
ONE_US = timedelta(microseconds=1)


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # int str bool money dec2 dec4 date datetime rel rels
    target: str = ""  # the resource a rel/rels field points at


def _fields(spec: str, **rels: str) -> tuple[Field, ...]:
    """`"id:int name:str ..."`; rel targets given as keyword arguments."""
    out = []
    for part in spec.split():
        name, kind = part.split(":")
        out.append(Field(name, kind, rels.get(name, "")))
    return tuple(out)


SCHEMA: dict[str, tuple[Field, ...]] = {
    "invoice": _fields(
        "id:int invoice_number:str invoice_prefix:str status:int invoice_date:date invoice_due_date:date "
        "date_paid:date created:datetime modified:datetime client:rel department:rel payer_name:str "
        "payer_organization_name:str payer_vat_number:str payer_street_address:str payer_zip_code:str "
        "payer_city:str payer_country:str total:money total_vat:money total_with_vat:money due_sum:money "
        "countersale:bool credit_note:bool credit_note_original_invoice:rel consolidated_invoice:bool "
        "consolidated_invoices:rels related_consolidated_invoice:rel vat_calculation_method:int "
        "invoice_row:rels invoice_payment:rels remarks:str",
        client="client",
        department="department",
        credit_note_original_invoice="invoice",
        consolidated_invoices="invoice",
        related_consolidated_invoice="invoice",
        invoice_row="invoicerow",
        invoice_payment="invoicepayment",
    ),
    "invoicerow": _fields(
        "id:int invoice:rel item:rel name:str invoice_group:str quantity:dec2 price:dec4 price_with_vat:dec4 "
        "sum:money sum_vat:money sum_total:money percentage_change:dec2 vat_percentage:dec2 account_number:str "
        "reporting_dimension_1:str reporting_dimension_2:str credited_invoicerow:rel",
        invoice="invoice",
        item="item",
        credited_invoicerow="invoicerow",
    ),
    "invoicepayment": _fields(
        "id:int invoice:rel payment_type:int payment_method:rel paid:money payment_date:date status:int "
        "info:str created:datetime modified:datetime",
        invoice="invoice",
        payment_method="paymentmethod",
    ),
    "paymentmethod": _fields("id:int name:str payment_type:int archived:bool"),
    "vatgroup": _fields("id:int title:str percentage:dec2 archived:bool account_number:str"),
    "client": _fields(
        "id:int firstname:str lastname:str organization_name:str customer_type:int vat_number:str "
        "register_number:str street_address:str street_address_2:str zip_code:str city:str country:str "
        "email:str archived:bool modified:datetime phone_numbers:rels",
        phone_numbers="phonenumber",
    ),
    "phonenumber": _fields("id:int client:rel phone_number:str description:str", client="client"),
    "unallocatedpayment": _fields(
        "id:int client:rel paid:money payment_type:int created:datetime modified:datetime", client="client"
    ),
    "department": _fields("id:int name:str"),
}
FIELD_INDEX = {res: {f.name: f for f in fields} for res, fields in SCHEMA.items()}
CLIENT_TEXT_FIELDS = [
    "firstname",
    "lastname",
    "organization_name",
    "vat_number",
    "register_number",
    "street_address",
    "street_address_2",
    "zip_code",
    "city",
    "country",
    "email",
]
CLIENT_WRITABLE = (*CLIENT_TEXT_FIELDS, "customer_type", "archived")


class ProvetValidationError(ValueError):
    """A 400 in Django REST's shape: `{"field": ["message", ...]}`."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


class FilterError(ValueError):
    """A query parameter the API does not understand (answered 400 with the message)."""


class NotFound(LookupError):
    pass


# ------------------------------------------------------------------------------------------- filters

Predicate = Callable[[dict[str, Any]], bool]
_PLUS_AS_SPACE = re.compile(r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)? \d{2}(:?\d{2})?$")


def parse_datetime(text: str) -> datetime:
    t = text.strip()
    try:
        value = datetime.fromisoformat(t)
    except ValueError:
        if _PLUS_AS_SPACE.search(t):
            raise FilterError(
                f"Enter a valid date/time: {text!r}. A '+' in a query string means a space; send it as %2B."
            ) from None
        raise FilterError(f"Enter a valid date/time: {text!r}.") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def ref_id(value: Any, resource: str) -> int:
    """An id from an int, a digit string or an object URL (`.../<resource>/<id>/`)."""
    if isinstance(value, bool):
        raise ValueError("not an id")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    m = re.search(rf"/{resource}/(\d+)/?$", text)
    if m:
        return int(m.group(1))
    raise ValueError(f"{value!r} is not an id or a {resource} URL")


def _parse_bool(text: str) -> bool:
    low = text.strip().lower()
    if low in ("true", "1", "yes"):
        return True
    if low in ("false", "0", "no"):
        return False
    raise FilterError(f"'{text}' is not a boolean; use true or false.")


def _parse_value(f: Field, text: str) -> Any:
    try:
        match f.kind:
            case "int":
                return int(text)
            case "rel":
                return ref_id(text, f.target)
            case "bool":
                return _parse_bool(text)
            case "money" | "dec2" | "dec4":
                return Decimal(text)
            case "date":
                return date.fromisoformat(text.strip()[:10])
            case "datetime":
                return parse_datetime(text)
            case _:
                return text
    except FilterError:
        raise
    except (ValueError, InvalidOperation):
        raise FilterError(f"'{text}' is not a valid value for {f.name}.") from None


def _parse_list(f: Field, text: str) -> list[Any]:
    t = text.strip()
    if t.startswith("[") and t.endswith("]"):
        t = t[1:-1]
    items = [p.strip().strip("'\"") for p in t.split(",")] if t.strip() else []
    return [_parse_value(f, p) for p in items]


def _predicate(f: Field, op: str, raw: str) -> Predicate:
    name = f.name
    if op == "is_null":
        want = _parse_bool(raw)
        return lambda r: (r[name] is None) == want
    if op in ("contains", "icontains"):
        if f.kind != "str":
            raise FilterError(f"Operator '{op}' works on text fields only, not on {name}.")
        if op == "contains":
            return lambda r: r[name] is not None and raw in r[name]
        needle = raw.casefold()
        return lambda r: r[name] is not None and needle in r[name].casefold()
    if op in ("in", "not_in"):
        values = set(_parse_list(f, raw))
        if op == "in":
            return lambda r: r[name] in values
        return lambda r: r[name] not in values
    if op == "range":
        bounds = _parse_list(f, raw)
        if len(bounds) != 2:
            raise FilterError(f"{name}__range takes two values: [low,high].")
        lo, hi = bounds
        return lambda r: r[name] is not None and lo <= r[name] <= hi
    value = _parse_value(f, raw)
    compare: dict[str, Callable[[Any], bool]] = {
        "is": lambda v: v == value,
        "is_not": lambda v: v != value,
        "lt": lambda v: v is not None and v < value,
        "lte": lambda v: v is not None and v <= value,
        "gt": lambda v: v is not None and v > value,
        "gte": lambda v: v is not None and v >= value,
    }
    test = compare[op]
    return lambda r: test(r[name])


def parse_filters(resource: str, query: dict[str, list[str]]) -> tuple[list[Predicate], bool]:
    """The filters of a list request and whether they are OR-ed (`filter_type=or`)."""
    fields = FIELD_INDEX[resource]
    or_mode = False
    preds: list[Predicate] = []
    for key, values in query.items():
        if key in RESERVED_PARAMS or key.startswith("expose_"):
            if key == "filter_type":
                ft = values[-1].lower()
                if ft not in ("and", "or"):
                    raise FilterError("filter_type must be 'and' or 'or'.")
                or_mode = ft == "or"
            continue
        name, _, op = key.rpartition("__")
        if not name or op not in OPERATORS:
            name, op = key, "is"
        if "__" in name:
            raise FilterError(f"Related lookups are not supported: '{key}'. Filter by id instead.")
        f = fields.get(name)
        if f is None:
            known = ", ".join(sorted(n for n, fl in fields.items() if fl.kind != "rels"))
            raise FilterError(f"Unknown filter field '{name}' on /{resource}/. Known fields: {known}.")
        if f.kind == "rels":
            raise FilterError(f"Field '{name}' is a list of relations and cannot be filtered.")
        preds.extend(_predicate(f, op, v) for v in values)
    return preds, or_mode


def order_keys(resource: str, ordering: str | None) -> tuple[str, ...]:
    """The usable keys of an `ordering` value (Django REST drops unknown fields silently), or the default."""
    fields = FIELD_INDEX[resource]
    keys = tuple(
        k for k in (part.strip() for part in (ordering or "").split(","))
        if k and k.lstrip("-") in fields and fields[k.lstrip("-")].kind != "rels" and k.count("-") <= 1
        and not k.endswith("-")
    )
    return keys or DEFAULT_ORDERING


# --------------------------------------------------------------------------------------------- state


class ProvetState:
    """All records of one instance behind one lock. Methods return frozen records (clinic.py types)."""

    def __init__(self, data: ProvetData, clock: SandboxClock) -> None:
        self._lock = threading.RLock()
        self._clock = clock
        self.tables: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in SCHEMA}
        self._load(data)
        stamps = [
            r[k]
            for t in ("invoice", "invoicepayment", "client", "unallocatedpayment")
            for r in self.tables[t].values()
            for k in ("created", "modified")
            if k in r
        ]
        self._last_stamp = max(stamps, default=clock.now())
        numbers = [
            int(r["invoice_number"])
            for r in self.tables["invoice"].values()
            if r["invoice_number"] and r["invoice_number"].isdigit()
        ]
        self._next_number = max(numbers, default=24000) + 1
        self._last_ids = {name: max(table, default=0) for name, table in self.tables.items()}

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    # -- loading and freezing
    def _load(self, data: ProvetData) -> None:
        t = self.tables
        for v in data.vat_groups:
            t["vatgroup"][v.id] = {
                "id": v.id,
                "title": v.title,
                "percentage": v.percentage,
                "archived": v.archived,
                "account_number": v.account_number,
            }
        for m in data.payment_methods:
            t["paymentmethod"][m.id] = {
                "id": m.id,
                "name": m.name,
                "payment_type": m.payment_type,
                "archived": m.archived,
            }
        for d in data.departments:
            t["department"][d.id] = {"id": d.id, "name": d.name}
        for c in data.clients:
            rec = {name: getattr(c, name) for name in ("id", *CLIENT_WRITABLE, "modified")}
            rec["phone_numbers"] = [p.id for p in c.phone_numbers]
            t["client"][c.id] = rec
            for p in c.phone_numbers:
                t["phonenumber"][p.id] = {
                    "id": p.id,
                    "client": c.id,
                    "phone_number": p.phone_number,
                    "description": p.description,
                }
        for inv in data.invoices:
            t["invoice"][inv.id] = _invoice_dict(inv)
            for r in inv.rows:
                t["invoicerow"][r.id] = _row_dict(r)
            for p in inv.payments:
                t["invoicepayment"][p.id] = _payment_dict(p)
        t["invoicepayment"] = dict(sorted(t["invoicepayment"].items()))
        for u in data.unallocated_payments:
            t["unallocatedpayment"][u.id] = {
                "id": u.id,
                "client": u.client_id,
                "paid": u.paid,
                "payment_type": u.payment_type,
                "created": u.created,
                "modified": u.modified,
            }

    def snapshot(self) -> ProvetData:
        """The whole instance as it is now, as immutable records."""
        with self._lock:
            t = self.tables
            return ProvetData(
                tuple(self.vat_group(i) for i in t["vatgroup"]),
                tuple(self.payment_method(i) for i in t["paymentmethod"]),
                tuple(Department(d["id"], d["name"]) for d in t["department"].values()),
                tuple(self.client(i) for i in t["client"]),
                tuple(self.invoice(i) for i in t["invoice"]),
                tuple(self.unallocated_payment(i) for i in t["unallocatedpayment"]),
            )

    # -- lookups (frozen records)
    def record(self, resource: str, rid: int) -> dict[str, Any]:
        rec = self.tables[resource].get(rid)
        if rec is None:
            raise NotFound(f"{resource} {rid} does not exist")
        return rec

    def invoice(self, invoice_id: int) -> Invoice:
        with self._lock:
            d = self.record("invoice", invoice_id)
            rows = tuple(self.row(r) for r in d["invoice_row"])
            pays = tuple(self.payment(p) for p in d["invoice_payment"])
            return Invoice(
                d["id"],
                d["invoice_number"],
                d["invoice_prefix"],
                d["status"],
                d["invoice_date"],
                d["invoice_due_date"],
                d["date_paid"],
                d["created"],
                d["modified"],
                d["client"],
                d["department"],
                d["payer_name"],
                d["payer_organization_name"],
                d["payer_vat_number"],
                d["payer_street_address"],
                d["payer_zip_code"],
                d["payer_city"],
                d["payer_country"],
                d["total"],
                d["total_vat"],
                d["total_with_vat"],
                d["due_sum"],
                d["countersale"],
                d["credit_note"],
                d["credit_note_original_invoice"],
                d["consolidated_invoice"],
                tuple(d["consolidated_invoices"]),
                d["related_consolidated_invoice"],
                d["vat_calculation_method"],
                d["remarks"],
                rows,
                pays,
            )

    def invoices(self, status: int | None = None) -> list[Invoice]:
        with self._lock:
            return [self.invoice(i) for i, d in self.tables["invoice"].items() if status in (None, d["status"])]

    def row(self, row_id: int) -> InvoiceRow:
        with self._lock:
            d = self.record("invoicerow", row_id)
            return InvoiceRow(
                d["id"],
                d["invoice"],
                d["item"],
                d["name"],
                d["invoice_group"],
                d["quantity"],
                d["price"],
                d["price_with_vat"],
                d["sum"],
                d["sum_vat"],
                d["sum_total"],
                d["percentage_change"],
                d["vat_percentage"],
                d["account_number"],
                d["reporting_dimension_1"],
                d["reporting_dimension_2"],
                d["credited_invoicerow"],
            )

    def payment(self, payment_id: int) -> InvoicePayment:
        with self._lock:
            d = self.record("invoicepayment", payment_id)
            return InvoicePayment(
                d["id"],
                d["invoice"],
                d["payment_type"],
                d["payment_method"],
                d["paid"],
                d["payment_date"],
                d["status"],
                d["info"],
                d["created"],
                d["modified"],
            )

    def payments_for(self, invoice_id: int, *, include_cancelled: bool = True) -> list[InvoicePayment]:
        with self._lock:
            pays = [self.payment(p) for p in self.record("invoice", invoice_id)["invoice_payment"]]
        return [p for p in pays if include_cancelled or p.status == C.PAYMENT_REGISTERED]

    def client(self, client_id: int) -> Client:
        with self._lock:
            d = self.record("client", client_id)
            phones = tuple(self.phone_number(p) for p in d["phone_numbers"])
            return Client(**{k: d[k] for k in ("id", *CLIENT_WRITABLE, "modified")}, phone_numbers=phones)

    def clients(self) -> list[Client]:
        with self._lock:
            return [self.client(i) for i in self.tables["client"]]

    def phone_number(self, phone_id: int) -> PhoneNumber:
        with self._lock:
            d = self.record("phonenumber", phone_id)
            return PhoneNumber(d["id"], d["client"], d["phone_number"], d["description"])

    def vat_group(self, group_id: int) -> VatGroup:
        with self._lock:
            d = self.record("vatgroup", group_id)
            return VatGroup(d["id"], d["title"], d["percentage"], d["account_number"], d["archived"])

    def payment_method(self, method_id: int) -> PaymentMethod:
        with self._lock:
            d = self.record("paymentmethod", method_id)
            return PaymentMethod(d["id"], d["name"], d["payment_type"], d["archived"])

    def payment_methods(self) -> list[PaymentMethod]:
        with self._lock:
            return [self.payment_method(i) for i in self.tables["paymentmethod"]]

    def unallocated_payment(self, prepayment_id: int) -> UnallocatedPayment:
        with self._lock:
            d = self.record("unallocatedpayment", prepayment_id)
            return UnallocatedPayment(d["id"], d["client"], d["paid"], d["payment_type"], d["created"], d["modified"])

    def unallocated_payments(self) -> list[UnallocatedPayment]:
        with self._lock:
            return [self.unallocated_payment(i) for i in self.tables["unallocatedpayment"]]

    def query(
        self, resource: str, preds: Sequence[Predicate], or_mode: bool, ordering: str | None = None
    ) -> list[dict[str, Any]]:
        """Matching records in the order asked for (`ordering`, see the module's notes; newest first when
        none is given). Call with `lock` held while rendering them."""
        rows: Iterable[dict[str, Any]] = self.tables[resource].values()
        if not preds:
            found = list(rows)
        elif or_mode:
            found = [r for r in rows if any(p(r) for p in preds)]
        else:
            found = [r for r in rows if all(p(r) for p in preds)]
        found.sort(key=lambda r: r["id"])  # ties keep ascending id
        for key in reversed(order_keys(resource, ordering)):  # a stable sort per key, the last key first
            name, descending = key.lstrip("-"), key.startswith("-")
            present = [r for r in found if r[name] is not None]
            nulls = [r for r in found if r[name] is None]
            present.sort(key=lambda r: r[name], reverse=descending)
            found = nulls + present if descending else present + nulls
        return found

    # -- stamps and ids
    def stamp(self) -> datetime:
        """Now on the sandbox clock, but always after every stamp handed out before."""
        with self._lock:
            now = self._clock.now()
            if now <= self._last_stamp:
                now = self._last_stamp + ONE_US
            self._last_stamp = now
            return now

    def today(self) -> date:
        return self._clock.now().date()

    def _new_id(self, resource: str) -> int:
        self._last_ids[resource] += 1
        return self._last_ids[resource]

    # -- invoices
    def add_invoice(
        self,
        client_id: int | None,
        rows: Sequence[RowSpec],
        *,
        finalise: bool = True,
        countersale: bool = False,
        department_id: int | None = 1,
        invoice_date: date | None = None,
        due_days: int = 14,
        invoice_prefix: str | None = None,
        vat_calculation_method: int = C.VAT_FROM_NET,
        remarks: str = "",
        payer_name: str = "",
    ) -> Invoice:
        """A new invoice (as a clinic user makes one); finalised unless `finalise=False` (a draft)."""
        with self._lock:
            if client_id is not None:
                self.record("client", client_id)
            if department_id is not None:
                self.record("department", department_id)
            inv_id = self._new_id("invoice")
            day = invoice_date or self.today()
            now = self.stamp()
            d = dict.fromkeys(FIELD_INDEX["invoice"])
            d.update(
                id=inv_id,
                invoice_prefix=None,
                status=C.INVOICE_DRAFT,
                invoice_date=day,
                invoice_due_date=day + timedelta(days=due_days),
                created=now,
                modified=now,
                client=client_id,
                department=department_id,
                countersale=countersale,
                credit_note=False,
                consolidated_invoice=False,
                consolidated_invoices=[],
                vat_calculation_method=vat_calculation_method,
                invoice_row=[],
                invoice_payment=[],
                remarks=remarks,
                payer_name=payer_name,
            )
            d.update(dict(zip(_PAYER_FIELDS[1:], ("",) * 6, strict=True)))
            self.tables["invoice"][inv_id] = d
            self._add_rows(d, rows)
            d["_prefix"] = invoice_prefix
            self._recompute(d, touch=False)
            if finalise:
                self._finalise(d)
            return self.invoice(inv_id)

    def _add_rows(self, d: dict[str, Any], rows: Sequence[RowSpec]) -> None:
        for spec in rows:
            amounts = C.compute_row(
                spec.quantity, spec.unit_price, spec.vat_percentage, spec.percentage_change, d["vat_calculation_method"]
            )
            row_id = self._new_id("invoicerow")
            self.tables["invoicerow"][row_id] = {
                "id": row_id,
                "invoice": d["id"],
                "item": spec.item,
                "name": spec.name,
                "invoice_group": spec.invoice_group,
                "quantity": spec.quantity,
                "price": amounts.price,
                "price_with_vat": amounts.price_with_vat,
                "sum": amounts.sum,
                "sum_vat": amounts.sum_vat,
                "sum_total": amounts.sum_total,
                "percentage_change": spec.percentage_change,
                "vat_percentage": spec.vat_percentage,
                "account_number": spec.account_number,
                "reporting_dimension_1": "",
                "reporting_dimension_2": "",
                "credited_invoicerow": spec.credited_invoicerow_id,
            }
            d["invoice_row"].append(row_id)

    def finalise_invoice(self, invoice_id: int) -> Invoice:
        with self._lock:
            d = self.record("invoice", invoice_id)
            if d["status"] in (C.INVOICE_FINALISED, C.INVOICE_VOIDED):
                raise ValueError(f"invoice {invoice_id} is already finalised or voided")
            self._finalise(d)
            return self.invoice(invoice_id)

    def _finalise(self, d: dict[str, Any]) -> None:
        d["status"] = C.INVOICE_FINALISED
        d["invoice_number"] = str(self._next_number)
        self._next_number += 1
        d["invoice_prefix"] = d.pop("_prefix", C.DEPARTMENT_PREFIX.get(d["department"]))
        client = self.client(d["client"]) if d["client"] is not None else None
        d.update(zip(_PAYER_FIELDS, C.payer_snapshot(client, d["payer_name"] or ""), strict=True))
        self._recompute(d)

    def void_invoice(self, invoice_id: int) -> Invoice:
        """Void as Provet's UI does; payments stay attached (the sync must then wait for the admin)."""
        with self._lock:
            d = self.record("invoice", invoice_id)
            if d["status"] == C.INVOICE_VOIDED:
                raise ValueError(f"invoice {invoice_id} is already voided")
            d["status"] = C.INVOICE_VOIDED
            self._recompute(d)
            return self.invoice(invoice_id)

    def _recompute(self, d: dict[str, Any], *, touch: bool = True) -> None:
        rows = [self.tables["invoicerow"][r] for r in d["invoice_row"]]
        pays = [self.tables["invoicepayment"][p] for p in d["invoice_payment"]]
        d["total"] = sum((r["sum"] for r in rows), C.ZERO)
        d["total_vat"] = sum((r["sum_vat"] for r in rows), C.ZERO)
        d["total_with_vat"] = sum((r["sum_total"] for r in rows), C.ZERO)
        registered = [p for p in pays if p["status"] == C.PAYMENT_REGISTERED]
        d["due_sum"] = d["total_with_vat"] - sum((p["paid"] for p in registered), C.ZERO)
        if d["status"] == C.INVOICE_FINALISED and d["due_sum"] == 0:
            d["date_paid"] = max((p["payment_date"] for p in registered), default=d["invoice_date"])
        else:
            d["date_paid"] = None
        if touch:
            d["modified"] = self.stamp()

    def credit_invoice(
        self,
        invoice_id: int,
        row_ids: Sequence[int] | None = None,
        *,
        positive: bool = False,
        refund_payment_type: int | None = C.PT_TRANSFER,
    ) -> Invoice:
        """A finalised credit note for some rows (default all), settled as clinic.py describes; with
        `refund_payment_type=None` the part not settled against the original stays due."""
        with self._lock:
            orig = self.record("invoice", invoice_id)
            if orig["status"] != C.INVOICE_FINALISED or orig["credit_note"]:
                raise ValueError("only a finalised invoice that is not a credit note can be credited")
            chosen = list(row_ids) if row_ids is not None else list(orig["invoice_row"])
            sign = 1 if positive else -1
            specs = []
            for rid in chosen:
                r = self.record("invoicerow", rid)
                if r["invoice"] != invoice_id:
                    raise ValueError(f"row {rid} is not on invoice {invoice_id}")
                unit = r["price_with_vat"] if orig["vat_calculation_method"] == C.VAT_FROM_GROSS else r["price"]
                specs.append(
                    RowSpec(
                        r["name"],
                        r["quantity"] * sign,
                        unit,
                        r["vat_percentage"],
                        r["account_number"],
                        r["percentage_change"],
                        r["item"],
                        r["invoice_group"],
                        rid,
                    )
                )
            cn = self.add_invoice(
                orig["client"],
                specs,
                finalise=False,
                countersale=orig["countersale"],
                department_id=orig["department"],
                due_days=0,
                invoice_prefix=orig["invoice_prefix"],
                vat_calculation_method=orig["vat_calculation_method"],
                remarks=f"Credit for invoice {orig['invoice_number']}",
            )
            cd = self.tables["invoice"][cn.id]
            cd["credit_note"], cd["credit_note_original_invoice"] = True, invoice_id
            self._finalise(cd)
            credit = cd["total_with_vat"]
            settle = min(max(orig["due_sum"], C.ZERO), abs(credit))
            csign = -1 if credit < 0 else 1
            if settle:
                self._insert_payment(orig, C.PT_CREDIT_INVOICE, None, settle, self.today(), "Credit note")
                self._insert_payment(cd, C.PT_CREDIT_INVOICE, None, settle * csign, self.today(), "Credit note")
            rest = abs(credit) - settle
            if rest and refund_payment_type is not None:
                self._insert_payment(cd, refund_payment_type, None, rest * csign, self.today(), "Refund")
            return self.invoice(cn.id)

    def consolidate(self, invoice_ids: Sequence[int], *, invoice_date: date | None = None) -> Invoice:
        """A consolidated invoice over finalised, unpaid invoices of one client (see clinic.py)."""
        with self._lock:
            gathered = [self.record("invoice", i) for i in invoice_ids]
            clients = {g["client"] for g in gathered}
            if not gathered or len(clients) != 1 or None in clients:
                raise ValueError("consolidate invoices of one named client")
            for g in gathered:
                if g["status"] != C.INVOICE_FINALISED or g["credit_note"] or g["consolidated_invoice"]:
                    raise ValueError(f"invoice {g['id']} cannot be consolidated")
                if g["related_consolidated_invoice"] or g["due_sum"] != g["total_with_vat"]:
                    raise ValueError(f"invoice {g['id']} is already paid in part or consolidated")
            first = gathered[0]
            specs = [self._row_as_spec(r, first["vat_calculation_method"]) for g in gathered for r in g["invoice_row"]]
            cons = self.add_invoice(
                first["client"],
                specs,
                finalise=False,
                department_id=first["department"],
                invoice_date=invoice_date,
                due_days=30,
                invoice_prefix=first["invoice_prefix"],
                vat_calculation_method=first["vat_calculation_method"],
                remarks="Monthly account",
            )
            cd = self.tables["invoice"][cons.id]
            cd["consolidated_invoice"], cd["consolidated_invoices"] = True, [g["id"] for g in gathered]
            self._finalise(cd)
            for g in gathered:
                g["related_consolidated_invoice"] = cons.id
                self._insert_payment(
                    g, C.PT_CONSOLIDATED, None, g["due_sum"], cd["invoice_date"], "Consolidated invoice"
                )
            return self.invoice(cons.id)

    def _row_as_spec(self, row_id: int, method: int) -> RowSpec:
        r = self.tables["invoicerow"][row_id]
        unit = r["price_with_vat"] if method == C.VAT_FROM_GROSS else r["price"]
        return RowSpec(
            r["name"],
            r["quantity"],
            unit,
            r["vat_percentage"],
            r["account_number"],
            r["percentage_change"],
            r["item"],
            r["invoice_group"],
        )

    # -- payments
    def add_payment(
        self,
        invoice_id: int,
        amount: Decimal | str,
        *,
        payment_type: int = C.PT_CARD,
        payment_method_id: int | None = None,
        payment_date: date | None = None,
        info: str = "",
        status: int = C.PAYMENT_REGISTERED,
    ) -> InvoicePayment:
        """Register a payment with the API's validation (raises ProvetValidationError)."""
        with self._lock:
            try:
                paid = Decimal(str(amount))
            except InvalidOperation:
                raise ProvetValidationError({"paid": ["A valid number is required."]}) from None
            inv = self._validate_payment(invoice_id, payment_type, payment_method_id, paid, status)
            pay_id = self._insert_payment(
                inv, payment_type, payment_method_id, paid, payment_date or self.today(), info
            )
            return self.payment(pay_id)

    def _validate_payment(
        self, invoice_id: int, payment_type: int, method_id: int | None, paid: Decimal, status: int
    ) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        inv = self.tables["invoice"].get(invoice_id)
        if inv is None:
            errors["invoice"] = [f'Invalid pk "{invoice_id}" - object does not exist.']
        elif inv["status"] != C.INVOICE_FINALISED:
            errors["invoice"] = ["Payments can be added only to finalised invoices (status 3)."]
        if payment_type not in C.PAYMENT_TYPES:
            errors["payment_type"] = [f'"{payment_type}" is not a valid choice.']
        if method_id is not None:
            method = self.tables["paymentmethod"].get(method_id)
            if method is None:
                errors["payment_method"] = [f'Invalid pk "{method_id}" - object does not exist.']
            elif method["archived"]:
                errors["payment_method"] = ["This payment method is archived."]
            elif method["payment_type"] != payment_type:
                errors["payment_method"] = [f"This payment method has payment_type {method['payment_type']}."]
        if status != C.PAYMENT_REGISTERED:
            errors["status"] = ["A new payment must have status 3 (registered)."]
        if not paid.is_finite() or int(paid.as_tuple().exponent) < -2:
            errors["paid"] = ["Ensure that there are no more than 2 decimal places."]
        elif paid == 0:
            errors["paid"] = ["A payment cannot be zero."]
        elif inv is not None and inv["status"] == C.INVOICE_FINALISED:
            due = inv["due_sum"]
            if due == 0 or (paid > 0) != (due > 0) or abs(paid) > abs(due):
                errors["paid"] = [f"The payment exceeds the amount due ({due:.2f})."]
        if errors:
            raise ProvetValidationError(errors)
        assert inv is not None
        return inv

    def _insert_payment(
        self, inv: dict[str, Any], payment_type: int, method_id: int | None, paid: Decimal, day: date, info: str
    ) -> int:
        pay_id = self._new_id("invoicepayment")
        now = self.stamp()
        self.tables["invoicepayment"][pay_id] = {
            "id": pay_id,
            "invoice": inv["id"],
            "payment_type": payment_type,
            "payment_method": method_id,
            "paid": paid,
            "payment_date": day,
            "status": C.PAYMENT_REGISTERED,
            "info": info,
            "created": now,
            "modified": now,
        }
        inv["invoice_payment"].append(pay_id)
        self._recompute(inv)
        return pay_id

    def cancel_payment(self, payment_id: int) -> InvoicePayment:
        with self._lock:
            p = self.record("invoicepayment", payment_id)
            if p["status"] == C.PAYMENT_CANCELLED:
                raise ProvetValidationError({"non_field_errors": ["This payment is already cancelled."]})
            p["status"] = C.PAYMENT_CANCELLED
            p["modified"] = self.stamp()
            self._recompute(self.tables["invoice"][p["invoice"]])
            return self.payment(payment_id)

    def add_prepayment(
        self, client_id: int, amount: Decimal | str, payment_type: int = C.PT_CASH
    ) -> UnallocatedPayment:
        with self._lock:
            self.record("client", client_id)
            pid = self._new_id("unallocatedpayment")
            now = self.stamp()
            self.tables["unallocatedpayment"][pid] = {
                "id": pid,
                "client": client_id,
                "paid": Decimal(str(amount)),
                "payment_type": payment_type,
                "created": now,
                "modified": now,
            }
            return self.unallocated_payment(pid)

    def use_prepayment(
        self, prepayment_id: int, invoice_id: int, amount: Decimal | str | None = None
    ) -> InvoicePayment:
        """Use (part of) a prepayment on an invoice: a type-8 payment, and the prepayment shrinks."""
        with self._lock:
            pre = self.record("unallocatedpayment", prepayment_id)
            inv = self.record("invoice", invoice_id)
            use = Decimal(str(amount)) if amount is not None else min(pre["paid"], max(inv["due_sum"], C.ZERO))
            if use <= 0 or use > pre["paid"]:
                raise ValueError(f"cannot use {use} of prepayment {prepayment_id} (left: {pre['paid']})")
            pay = self.add_payment(invoice_id, use, payment_type=C.PT_PREPAYMENT, info=f"Prepayment #{prepayment_id}")
            pre["paid"] -= use
            pre["modified"] = self.stamp()
            return pay

    # -- clients
    def edit_client(self, client_id: int, /, **changes: Any) -> Client:
        """Change client fields as Provet's UI (or a PATCH) would; validated, moves `modified`."""
        with self._lock:
            rec = self.record("client", client_id)
            clean = _validate_client(rec, changes)
            rec.update(clean)
            rec["modified"] = self.stamp()
            return self.client(client_id)

    def add_client(self, firstname: str = "", lastname: str = "", **fields: Any) -> Client:
        with self._lock:
            cid = self._new_id("client")
            rec: dict[str, Any] = dict.fromkeys(CLIENT_TEXT_FIELDS, "")
            rec.update(id=cid, customer_type=0, archived=False, country="GB", phone_numbers=[])
            clean = _validate_client(rec, {"firstname": firstname, "lastname": lastname, **fields})
            rec.update(clean)
            rec["modified"] = self.stamp()
            self.tables["client"][cid] = rec
            return self.client(cid)

    def add_phone_number(self, client_id: int, phone_number: str, description: str = "Mobile") -> PhoneNumber:
        with self._lock:
            client = self.record("client", client_id)
            _check_phone(phone_number)
            pid = self._new_id("phonenumber")
            self.tables["phonenumber"][pid] = {
                "id": pid,
                "client": client_id,
                "phone_number": phone_number,
                "description": description,
            }
            client["phone_numbers"].append(pid)
            client["modified"] = self.stamp()
            return self.phone_number(pid)

    def edit_phone_number(
        self, phone_id: int, phone_number: str | None = None, description: str | None = None
    ) -> PhoneNumber:
        with self._lock:
            rec = self.record("phonenumber", phone_id)
            if phone_number is not None:
                _check_phone(phone_number)
                rec["phone_number"] = phone_number
            if description is not None:
                rec["description"] = description
            self.tables["client"][rec["client"]]["modified"] = self.stamp()
            return self.phone_number(phone_id)

    # -- settings-page records
    def add_vat_group(
        self, title: str, percentage: Decimal | str, account_number: str | None = None, archived: bool = False
    ) -> VatGroup:
        with self._lock:
            gid = self._new_id("vatgroup")
            self.tables["vatgroup"][gid] = {
                "id": gid,
                "title": title,
                "percentage": Decimal(str(percentage)),
                "archived": archived,
                "account_number": account_number,
            }
            return self.vat_group(gid)

    def set_vat_group_archived(self, group_id: int, archived: bool = True) -> VatGroup:
        with self._lock:
            self.record("vatgroup", group_id)["archived"] = archived
            return self.vat_group(group_id)

    def add_payment_method(self, name: str, payment_type: int, archived: bool = False) -> PaymentMethod:
        with self._lock:
            mid = self._new_id("paymentmethod")
            self.tables["paymentmethod"][mid] = {
                "id": mid,
                "name": name,
                "payment_type": payment_type,
                "archived": archived,
            }
            return self.payment_method(mid)

    # -- the live demo
    def demo_activity(self, rng: random.Random) -> list[str]:
        """A little new trade for the live demo: a paid (or part-paid) invoice, a client edit, and
        sometimes a late payment on an older invoice. Returns what happened, in words."""
        with self._lock:
            done: list[str] = []
            active = [cid for cid, c in self.tables["client"].items() if not c["archived"]]
            client_id = rng.choice(active)
            specs = [C.row_spec(rng.choice(C.FIRST_VISITS), C.VAT_FROM_NET)]
            specs += [
                C.row_spec(item, C.VAT_FROM_NET, rng.choice(item.quantities))
                for item in rng.sample(C.CATALOG, rng.choice((0, 1, 2)))
            ]
            dept = rng.choice(list(self.tables["department"]))
            inv = self.add_invoice(client_id, specs, department_id=dept, invoice_prefix=C.DEPARTMENT_PREFIX.get(dept))
            done.append(
                f"invoice {inv.document_number} for {self.client(client_id).display_name}: {inv.total_with_vat}"
            )
            kind, method = rng.choice(C.PAY_CHOICES)
            amount = inv.due_sum if rng.random() < 0.7 else C.q2(inv.due_sum / 2)
            if amount > 0:
                self.add_payment(inv.id, amount, payment_type=kind, payment_method_id=method)
                done.append(f"payment {amount} on {inv.document_number}")
            c = self.client(client_id)
            field, value = rng.choice(
                [
                    ("email", f"{C.ascii_slug(c.firstname) or 'client'}.{rng.randrange(1000)}@example.net"),
                    ("street_address", f"{rng.randrange(1, 99)} {rng.choice(C.STREETS)}"),
                ]
            )
            self.edit_client(client_id, **{field: value})
            done.append(f"client {c.display_name}: {field} changed")
            if rng.random() < 0.3:
                open_ = [
                    i
                    for i, d in self.tables["invoice"].items()
                    if d["status"] == C.INVOICE_FINALISED
                    and d["due_sum"] > 0
                    and not d["credit_note"]
                    and d["client"] is not None
                ]
                if open_:
                    target = self.tables["invoice"][rng.choice(open_)]
                    late = target["due_sum"]
                    self.add_payment(target["id"], late, payment_type=C.PT_TRANSFER)
                    done.append(f"late payment {late:.2f} on invoice {target['id']}")
            log.info("provet sandbox demo activity: %s", "; ".join(done))
            return done


_PAYER_FIELDS = (
    "payer_name",
    "payer_organization_name",
    "payer_vat_number",
    "payer_street_address",
    "payer_zip_code",
    "payer_city",
    "payer_country",
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _check_phone(number: str) -> None:
    if not isinstance(number, str) or not re.fullmatch(r"\+?[\d ()-]{5,30}", number):
        raise ProvetValidationError({"phone_number": ["Enter a valid phone number."]})


def _validate_client(rec: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """The writable fields of `changes`, checked; read-only and unknown ones are ignored."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in CLIENT_WRITABLE:
            continue
        if name == "customer_type":
            if isinstance(value, bool) or not isinstance(value, int) or value not in C.CUSTOMER_TYPES:
                errors[name] = [f'"{value}" is not a valid choice.']
        elif name == "archived":
            if not isinstance(value, bool):
                errors[name] = ["Must be a valid boolean."]
        elif value is None:
            errors[name] = ["This field may not be null."]
        elif not isinstance(value, str):
            errors[name] = ["Not a valid string."]
        elif len(value) > 255:
            errors[name] = ["Ensure this field has no more than 255 characters."]
        elif name == "email" and value and not _EMAIL.match(value):
            errors[name] = ["Enter a valid email address."]
        elif name == "country" and value and not re.fullmatch(r"[A-Z]{2}", value):
            errors[name] = ["Use an ISO 3166 alpha-2 country code, e.g. GB."]
        clean[name] = value
    if not errors:
        merged = {**rec, **clean}
        if not C.display_name(
            merged["customer_type"], merged["organization_name"], merged["firstname"], merged["lastname"]
        ):
            errors["non_field_errors"] = ["A client needs a name or an organisation name."]
    if errors:
        raise ProvetValidationError(errors)
    return clean


def _invoice_dict(inv: Invoice) -> dict[str, Any]:
    d = {
        f: getattr(inv, f)
        for f in (
            "id",
            "invoice_number",
            "invoice_prefix",
            "status",
            "invoice_date",
            "invoice_due_date",
            "date_paid",
            "created",
            "modified",
            *_PAYER_FIELDS,
            "total",
            "total_vat",
            "total_with_vat",
            "due_sum",
            "countersale",
            "credit_note",
            "consolidated_invoice",
            "vat_calculation_method",
            "remarks",
        )
    }
    d.update(
        client=inv.client_id,
        department=inv.department_id,
        credit_note_original_invoice=inv.credit_note_original_invoice_id,
        consolidated_invoices=list(inv.consolidated_invoice_ids),
        related_consolidated_invoice=inv.related_consolidated_invoice_id,
        invoice_row=[r.id for r in inv.rows],
        invoice_payment=[p.id for p in inv.payments],
    )
    return d


def _row_dict(r: InvoiceRow) -> dict[str, Any]:
    d = {
        f: getattr(r, f)
        for f in (
            "id",
            "item",
            "name",
            "invoice_group",
            "quantity",
            "price",
            "price_with_vat",
            "sum",
            "sum_vat",
            "sum_total",
            "percentage_change",
            "vat_percentage",
            "account_number",
            "reporting_dimension_1",
            "reporting_dimension_2",
        )
    }
    d.update(invoice=r.invoice_id, credited_invoicerow=r.credited_invoicerow_id)
    return d


def _payment_dict(p: InvoicePayment) -> dict[str, Any]:
    return {
        "id": p.id,
        "invoice": p.invoice_id,
        "payment_type": p.payment_type,
        "payment_method": p.payment_method_id,
        "paid": p.paid,
        "payment_date": p.payment_date,
        "status": p.status,
        "info": p.info,
        "created": p.created,
        "modified": p.modified,
    }
