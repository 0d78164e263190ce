"""The mapping from Provet's VAT groups, payment methods and sales accounts onto Xero's tax rates and
accounts (and, optionally, departments onto a Xero tracking category's options), its JSON file format
(DESIGN.md "The command line"), and the check against what Xero has now.
"""

from __future__ import annotations

import json
import logging
import os
import re
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from provet_xero_gui.provet.client import ProvetClient, ProvetError, ProvetOrderError, format_id_list
from provet_xero_gui.provet.records import (
    INVOICE_FINALISED,
    PAYMENT_REGISTERED,
    PAYMENT_TYPE_NAMES,
    PT_CONSOLIDATED,
    PT_CREDIT_INVOICE,
    Department,
    InvoiceRow,
    Payment,
    PaymentMethod,
    RecordError,
    VatGroup,
)
from provet_xero_gui.provet.source import ProvetSource
from provet_xero_gui.settings import write_json_atomically
from provet_xero_gui.xero.reference import XeroReference, tracking_key

log = logging.getLogger(__name__)

MAPPING_VERSION = 1
CONSOLIDATED_CHOICES = ("gathered", "both")
INVOICE_STATUSES = ("AUTHORISED", "DRAFT")


class MappingError(ValueError):
    """A mapping file that cannot be used; the message names the key and the problem."""


@dataclass(frozen=True)
class TrackingChoice:
    """A Xero tracking category and one of its options, by name (as Xero's API takes them on a line)."""

    category: str
    option: str

    def to_json(self) -> dict[str, str]:
        return {"category": self.category, "option": self.option}


@dataclass(frozen=True)
class Mapping:
    vat_groups: dict[str, str] = field(default_factory=dict)  # vatgroup id → TaxType
    payment_methods: dict[str, str] = field(default_factory=dict)  # "type:N" | "method:ID" → account Code
    sales_accounts: dict[str, str] = field(default_factory=dict)  # Provet account_number → account Code
    default_sales_account: str | None = None
    xero_payments_method: str | None = None  # Provet paymentmethod id for payments made in Xero
    rounding_account: str | None = None
    consolidated: str = "gathered"
    start_date: date | None = None
    invoice_status: str = "AUTHORISED"
    # Optional: department id → the tracking option its invoices' lines carry; unmapped → no tracking.
    departments: dict[str, TrackingChoice] = field(default_factory=dict)

    # --- lookups ----------------------------------------------------------------------------------
    def tax_type(self, vat_group_id: int) -> str | None:
        return self.vat_groups.get(str(vat_group_id))

    def payment_account(self, payment: Payment) -> str | None:
        return self.account_for(payment.payment_type, payment.payment_method_id)

    def account_for(self, payment_type: int | None, method_id: int | None) -> str | None:
        """A custom method's own mapping wins over its built-in type's."""
        if method_id is not None:
            code = self.payment_methods.get(f"method:{method_id}")
            if code:
                return code
        return self.payment_methods.get(f"type:{payment_type}") if payment_type is not None else None

    def tracking(self, department_id: int | None) -> TrackingChoice | None:
        return self.departments.get(str(department_id)) if department_id is not None else None

    def sales_account(self, account_number: str, xero_codes: Iterable[str] = ()) -> str | None:
        """Mapped code; else the same code when Xero has it; else the default sales account."""
        if account_number and account_number in self.sales_accounts:
            return self.sales_accounts[account_number]
        if account_number and account_number in set(xero_codes):
            return account_number
        return self.default_sales_account

    # --- file format ------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "version": MAPPING_VERSION,
            "vat_groups": dict(sorted(self.vat_groups.items())),
            "payment_methods": dict(sorted(self.payment_methods.items())),
            "sales_accounts": dict(sorted(self.sales_accounts.items())),
            "default_sales_account": self.default_sales_account,
            "xero_payments_method": self.xero_payments_method,
            "rounding_account": self.rounding_account,
            "consolidated": self.consolidated,
            "start_date": self.start_date.isoformat() if self.start_date else None,
            "invoice_status": self.invoice_status,
        }
        if self.departments:  # optional: a mapping without it stays byte-for-byte what it was
            data["departments"] = {k: v.to_json() for k, v in sorted(self.departments.items(), key=_id_order)}
        return data

    @classmethod
    def from_json(cls, data: Any) -> Mapping:
        if not isinstance(data, dict):
            raise MappingError("the mapping file does not hold a JSON object")
        if data.get("version") != MAPPING_VERSION:
            raise MappingError(f"unknown mapping version {data.get('version')!r} (this app reads version 1)")
        vat = _str_dict(data, "vat_groups", key_check=_is_id, key_hint="a VAT group id such as \"3\"")
        pay = _str_dict(data, "payment_methods", key_check=_is_payment_key, key_hint="\"type:N\" or \"method:ID\"")
        sales = _str_dict(data, "sales_accounts")
        consolidated = data.get("consolidated", "gathered")
        if consolidated not in CONSOLIDATED_CHOICES:
            raise MappingError(f"consolidated is {consolidated!r}; use \"gathered\" or \"both\"")
        status = data.get("invoice_status", "AUTHORISED")
        if status not in INVOICE_STATUSES:
            raise MappingError(f"invoice_status is {status!r}; use \"AUTHORISED\" or \"DRAFT\"")
        start = data.get("start_date")
        if start is not None:
            if not isinstance(start, str):
                _bad("start_date", start)
            try:
                start = date.fromisoformat(start)
            except ValueError:
                raise MappingError(f"start_date {start!r} is not a date written YYYY-MM-DD") from None
        xpm = _opt_str(data, "xero_payments_method")
        if xpm is not None and not _is_id(xpm):
            raise MappingError(f"xero_payments_method {xpm!r} should be a Provet payment method id such as \"7\"")
        return cls(
            departments=_departments(data),
            vat_groups=vat,
            payment_methods=pay,
            sales_accounts=sales,
            default_sales_account=_opt_str(data, "default_sales_account"),
            xero_payments_method=xpm,
            rounding_account=_opt_str(data, "rounding_account"),
            consolidated=consolidated,
            start_date=start,
            invoice_status=status,
        )


def _id_order(item: tuple[str, Any]) -> tuple[int, str]:
    return (int(item[0]) if item[0].isdigit() else 1 << 62, item[0])


def _departments(data: dict) -> dict[str, TrackingChoice]:
    value = data.get("departments", {})
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MappingError('departments should be an object of "department id": {"category": ..., "option": ...}')
    out: dict[str, TrackingChoice] = {}
    for k, v in value.items():
        if not _is_id(k):
            raise MappingError(f"departments: key {k!r} should be a Provet department id such as \"2\"")
        if not isinstance(v, dict) or not all(isinstance(v.get(n), str) and v[n].strip() for n in ("category",
                                                                                                   "option")):
            raise MappingError(f"departments: the value for {k!r} should be {{\"category\": \"<Xero tracking "
                               f"category>\", \"option\": \"<its option>\"}}, not {json.dumps(v)}")
        out[k] = TrackingChoice(v["category"].strip(), v["option"].strip())
    return out


def _bad(name: str, value: Any) -> Any:
    raise MappingError(f"{name} should be text, not {json.dumps(value)}")


def _opt_str(data: dict, name: str) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        _bad(name, value)
    return value


def _is_id(text: str) -> bool:
    return text.isdigit()


def _is_payment_key(text: str) -> bool:
    kind, _, value = text.partition(":")
    return kind in ("type", "method") and value.isdigit()


def _str_dict(data: dict, name: str, key_check=None, key_hint: str = "") -> dict[str, str]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise MappingError(f"{name} should be an object of \"key\": \"value\" pairs")
    for k, v in value.items():
        if key_check and not key_check(k):
            raise MappingError(f"{name}: key {k!r} should be {key_hint}")
        if not isinstance(v, str) or not v:
            raise MappingError(f"{name}: the value for {k!r} should be a Xero code, not {json.dumps(v)}")
    return dict(value)


class MappingFile:
    """The profile's saved mapping (config/mapping.json)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def exists(self) -> bool:
        return self.path.exists()

    def load(self) -> Mapping:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise MappingError(
                "no mapping has been saved yet; set it up in the window or run `mapping import`"
            ) from None
        return parse_mapping_text(text, self.path)

    def save(self, mapping: Mapping) -> None:
        write_json_atomically(self.path, mapping.to_json())


MAX_MAPPING_BYTES = 1_000_000  # a mapping is a few kB; a clinic group's largest is far below this


def read_mapping_file(path: Path | str) -> str:
    """The text of a mapping file to import: a regular file of at most MAX_MAPPING_BYTES, in UTF-8.

    A device (`/dev/zero`), a folder or a pipe is refused before it is read, so an import never reads for
    ever or fills the memory. Raises MappingError (FileNotFoundError/OSError for a missing or unreadable one)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not block the open
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise MappingError(f"{path} is not a regular file (it is a device, a folder or a pipe); give the "
                               "mapping file provet-xero exported")
        data = fh.read(MAX_MAPPING_BYTES + 1)
    if len(data) > MAX_MAPPING_BYTES:
        raise MappingError(f"{path} is too large to be a mapping file (more than {MAX_MAPPING_BYTES // 1000} kB; "
                           "a mapping is a few kB)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise MappingError(f"{path} is not a text file (UTF-8 JSON expected)") from None


def parse_mapping_text(text: str, source: Path | str) -> Mapping:
    if len(text) > MAX_MAPPING_BYTES:
        raise MappingError(f"{source} is too large to be a mapping file (a mapping is a few kB)")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MappingError(f"{source} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise MappingError(f"{source} is nested too deeply to be a mapping file") from None
    try:
        return Mapping.from_json(data)
    except MappingError as exc:
        raise MappingError(f"{source}: {exc}") from None


# --- VAT groups of rows (the project rule of provet-api.md) --------------------------------------------


@dataclass(frozen=True)
class RowVatGroup:
    group: VatGroup | None
    problem: str | None = None  # plain words, when the row's VAT group cannot be told


def vat_group_for_row(row: InvoiceRow, groups: Iterable[VatGroup]) -> RowVatGroup:
    """The non-archived group with the row's percentage; several → the one with the row's account number."""
    candidates = [g for g in groups if not g.archived and g.percentage == row.vat_percentage]
    if len(candidates) > 1:
        by_account = [g for g in candidates if g.account_number == row.account_number]
        if len(by_account) == 1:
            return RowVatGroup(by_account[0])
        names = ", ".join(f"'{g.title}'" for g in candidates)
        return RowVatGroup(
            None,
            f"row '{row.name}' has VAT {_pct(row.vat_percentage)} and account {row.account_number or '(none)'}, "
            f"which matches several VAT groups ({names}) and cannot be told apart",
        )
    if not candidates:
        return RowVatGroup(None, f"row '{row.name}' has VAT {_pct(row.vat_percentage)}, which no active VAT group has")
    return RowVatGroup(candidates[0])


def _cap(text: str) -> str:
    """The first letter in capitals and the rest as it is (str.capitalize would lower 'Cash' to 'cash')."""
    return text[:1].upper() + text[1:]


def _pct(value: Any) -> str:
    text = format(value.normalize(), "f") if hasattr(value, "normalize") else str(value)
    return f"{text}%"


def payment_method_label(key: str, methods: Iterable[PaymentMethod]) -> str:
    kind, _, value = key.partition(":")
    if kind == "type":
        return f"payment type '{PAYMENT_TYPE_NAMES.get(int(value), value)}'"
    method = next((m for m in methods if str(m.id) == value), None)
    return f"payment method '{method.name}'" if method else f"payment method {value}"


# --- the check against Xero ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MappingProblem:
    where: str  # the mapping key it concerns, e.g. "vat_groups:3", "payment_methods:type:0", "rounding_account"
    message: str
    fix: str

    def line(self) -> str:
        """`where: message — fix`, as `mapping check` prints it."""
        return f"{self.where}: {self.message} — {self.fix}"


def tracking_trouble(xero: XeroReference, choice: TrackingChoice) -> str | None:
    """Why Xero would refuse this tracking option on a new line ("option 'X' of tracking category 'Y', which
    is archived in Xero"); None when it can be used."""
    category = xero.tracking_category(choice.category)
    if category is None:
        return f"tracking category '{choice.category}', which Xero does not have"
    if not category.active:
        return f"tracking category '{category.name}', which is archived in Xero"
    option = category.option(choice.option)
    if option is None:
        return f"option '{choice.option}' of tracking category '{category.name}', which Xero does not have"
    if not option.active:
        return f"option '{option.name}' of tracking category '{category.name}', which is archived in Xero"
    return None


def department_label(department_id: str, departments: Iterable[Department]) -> str:
    found = next((d for d in departments if str(d.id) == department_id), None)
    return f"department '{found.name}'" if found else f"department {department_id}"


def check_mapping(
    mapping: Mapping,
    xero: XeroReference,
    vat_groups: Iterable[VatGroup],
    payment_methods: Iterable[PaymentMethod],
    vat_groups_in_use: Iterable[int] = (),
    payment_keys_in_use: Iterable[str] = (),
    account_numbers_in_use: Iterable[str] = (),
    departments: Iterable[Department] = (),
) -> list[MappingProblem]:
    """Every problem, each where it is mapped, with its fix. Empty list = ready to send.

    `account_numbers_in_use` (Provet rows' account numbers) adds the sales accounts they reach by the
    same-code rule: none at all, or an archived one. `departments` only names them in the messages: an
    unmapped department is no problem (its invoices go without tracking).
    """
    problems: list[MappingProblem] = []
    groups = {g.id: g for g in vat_groups}
    methods = list(payment_methods)

    for gid in sorted(set(vat_groups_in_use)):
        if str(gid) not in mapping.vat_groups:
            title = groups[gid].title if gid in groups else str(gid)
            problems.append(
                MappingProblem(f"vat_groups:{gid}", f"VAT group '{title}' is used on invoices but not mapped.",
                               "Map it to a Xero tax rate.")
            )
    for gid, tax_type in sorted(mapping.vat_groups.items()):
        title = groups[int(gid)].title if int(gid) in groups else f"VAT group {gid}"
        rate = xero.tax_rate(tax_type)
        where = f"vat_groups:{gid}"
        if rate is None:
            problems.append(MappingProblem(where, f"'{title}' is mapped to tax rate {tax_type}, which Xero does not "
                                           "have.", "Map it to one of Xero's current tax rates."))
        elif not rate.active:
            problems.append(MappingProblem(where, f"'{title}' is mapped to '{rate.name}', which is "
                                           f"{rate.status.lower()} in Xero.", "Map it to an active tax rate."))
        elif not rate.can_apply_to_revenue:
            problems.append(MappingProblem(where, f"'{title}' is mapped to '{rate.name}', which Xero does not allow on "
                                           "sales.", "Map it to a tax rate for income."))
        elif int(gid) in groups and groups[int(gid)].percentage != rate.rate:
            problems.append(MappingProblem(
                where,
                f"'{title}' is {_pct(groups[int(gid)].percentage)} in Provet but '{rate.name}' is {_pct(rate.rate)} in "
                "Xero, so the VAT would differ.", "Map it to a tax rate with the same percentage."))

    for key in sorted(set(payment_keys_in_use)):
        kind, _, value = key.partition(":")
        method_id = int(value) if kind == "method" else None
        method = next((m for m in methods if m.id == method_id), None)
        payment_type = int(value) if kind == "type" else (method.payment_type if method else None)
        if mapping.account_for(payment_type, method_id) is None:
            label = payment_method_label(key, methods)
            problems.append(MappingProblem(f"payment_methods:{key}", f"{_cap(label)} is used but not mapped.",
                                           "Map it to a Xero account that accepts payments."))
    for key, code in sorted(mapping.payment_methods.items()):
        label = payment_method_label(key, methods)
        problems += _account_problems(xero, f"payment_methods:{key}", code, label, needs_payments=True)

    for number, code in sorted(mapping.sales_accounts.items()):
        problems += _account_problems(xero, f"sales_accounts:{number}", code, f"sales account {number}")
    codes = [a.code for a in xero.accounts]
    for number in sorted(set(account_numbers_in_use) - set(mapping.sales_accounts)):
        code = mapping.sales_account(number, codes)
        if code is None:
            problems.append(MappingProblem(
                f"sales_accounts:{number}", f"Rows with account number {number} have no Xero account: Xero has no "
                f"account {number} and no default sales account is chosen.",
                f"Map {number} to a Xero sales account, or choose a default sales account."))
        elif code == number:
            account = xero.account(code)
            if account is not None and not account.active:
                problems.append(MappingProblem(
                    f"sales_accounts:{number}", f"Rows with account number {number} go to the Xero account with the "
                    f"same code, {account.label}, which is archived in Xero.",
                    f"Map {number} to an active sales account."))
    if mapping.default_sales_account:
        problems += _account_problems(xero, "default_sales_account", mapping.default_sales_account,
                                      "the default sales account")
    if mapping.rounding_account:
        problems += _account_problems(xero, "rounding_account", mapping.rounding_account, "the rounding account")
    else:
        problems.append(MappingProblem("rounding_account", "No rounding account is chosen: an invoice whose total "
                                       "Xero would round differently cannot be sent.",
                                       "Choose the Xero account for rounding differences."))
    depts = list(departments)
    for did, choice in sorted(mapping.departments.items(), key=_id_order):
        trouble = tracking_trouble(xero, choice)
        if trouble:
            problems.append(MappingProblem(
                f"departments:{did}", f"{_cap(department_label(did, depts))} is mapped to {trouble}.",
                "Map it to an active option of a Xero tracking category, or remove its mapping (its invoices then "
                "go to Xero without tracking)."))
    if mapping.xero_payments_method and not any(str(m.id) == mapping.xero_payments_method for m in methods):
        problems.append(MappingProblem("xero_payments_method", f"Provet has no payment method "
                                       f"{mapping.xero_payments_method} for payments made in Xero.",
                                       "Choose the clinic's \"Xero payments\" method."))
    return problems


def _account_problems(
    xero: XeroReference, where: str, code: str, label: str, needs_payments: bool = False
) -> list[MappingProblem]:
    account = xero.account(code)
    if account is None:
        return [MappingProblem(where, f"{_cap(label)} is mapped to account {code}, which Xero does not have.",
                               "Map it to an existing Xero account.")]
    if not account.active:
        return [MappingProblem(where, f"{_cap(label)} is mapped to {account.label}, which is archived in Xero.",
                               "Map it to an active account.")]
    if needs_payments and not account.takes_payments:
        return [MappingProblem(where, f"{_cap(label)} is mapped to {account.label}, which cannot take payments.",
                               "Choose a bank account, or allow payments to this account in Xero's chart of accounts.")]
    return []


# --- what the mapping must cover: VAT groups, payment keys and account numbers in use ------------------

RECENT_INVOICES = 200  # how many of the newest finalised invoices `mapping check` reads
INVOICE_PAGE = 100  # costs 2 of /invoice/'s 60 a minute
IDS_PER_CALL = 100  # invoice ids in one invoice__in=[...] filter
ROW_PAGE = 200  # costs 4 of /invoicerow/'s and /invoicepayment/'s 100 a minute
PT_ROUNDING = 3
NOT_MONEY_TYPES = frozenset({PT_CONSOLIDATED, PT_CREDIT_INVOICE})  # settled by another document, not paid


@dataclass(frozen=True)
class MappingUsage:
    """What a sample of finalised invoices needs from the mapping."""

    vat_groups: frozenset[int]
    payment_keys: frozenset[str]  # "method:ID" for a custom method, else "type:N"
    account_numbers: frozenset[str]
    row_problems: tuple[MappingProblem, ...]  # rows whose VAT group cannot be told (fixed in Provet)
    invoices_read: int = 0
    invoices_total: int = 0


def payment_key(payment: Payment) -> str:
    if payment.payment_method_id is not None:
        return f"method:{payment.payment_method_id}"
    return f"type:{payment.payment_type}"


def usage_of(
    rows: Iterable[InvoiceRow],
    payments: Iterable[Payment],
    groups: Iterable[VatGroup],
    *,
    invoices_read: int = 0,
    invoices_total: int = 0,
) -> MappingUsage:
    """Pure: the VAT groups (by the row rule), payment keys and account numbers these records use."""
    groups = list(groups)
    used: set[int] = set()
    numbers: set[str] = set()
    unresolved: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        found = vat_group_for_row(row, groups)
        if found.group is not None:
            used.add(found.group.id)
        else:
            unresolved.setdefault((_pct(row.vat_percentage), row.account_number), []).append(found.problem or "")
        if row.account_number:
            numbers.add(row.account_number)
    keys = {
        payment_key(p)
        for p in payments
        if p.status == PAYMENT_REGISTERED and p.payment_type not in NOT_MONEY_TYPES and p.paid != 0
    }
    problems = []
    for (pct, _number), texts in sorted(unresolved.items()):
        more = f" (and {len(texts) - 1} more rows like it)" if len(texts) > 1 else ""
        ambiguous = "several VAT groups" in texts[0]
        problems.append(MappingProblem(
            "invoice rows",
            _cap(texts[0]) + more + "; their invoices cannot be sent.",
            "In Provet, give those VAT groups different account numbers (or archive the unused one)."
            if ambiguous else f"In Provet, add or restore a VAT group of {pct}.",
        ))
    return MappingUsage(frozenset(used), frozenset(keys), frozenset(numbers), tuple(problems),
                        invoices_read, invoices_total)


def read_vat_groups(provet: ProvetClient) -> list[VatGroup]:
    return [VatGroup.parse(g) for g in provet.iter_pages("vatgroup/")]


def read_payment_methods(provet: ProvetClient) -> list[PaymentMethod]:
    return [PaymentMethod.parse(m) for m in provet.iter_pages("paymentmethod/")]


def read_departments(provet: ProvetClient) -> list[Department]:
    """Provet's departments (one call for a clinic's handful); one that cannot be read is left out."""
    return list(ProvetSource(provet).departments().records)


def read_usage(
    provet: ProvetClient,
    groups: Iterable[VatGroup],
    *,
    start_date: date | None = None,
    limit: int = RECENT_INVOICES,
) -> MappingUsage:
    """The usage of the newest `limit` finalised invoices with a client (anonymous ones are never sent),
    dated on or after `start_date`.

    A sample, not everything: its cost is bounded whatever the clinic's history — about
    ceil(limit/100)+1 invoice pages, then rows and payments in `invoice__in` batches (each ~1 call per 50
    records). A VAT group or payment method used only on older invoices is not seen here; the sync holds
    those documents for attention with the same message, so nothing is lost.
    """
    params: dict[str, Any] = {"status__is": INVOICE_FINALISED}
    if start_date is not None:
        params["invoice_date__gte"] = start_date.isoformat()
    ids: list[int] = []
    total = 0
    page: int | str = "last"
    lowest: int | None = None  # pages are read newest first: each must lie wholly below the one read before
    while True:
        data = provet.get("invoice/", {**params, "ordering": "id", "page_size": INVOICE_PAGE, "page": page})
        if not isinstance(data, dict) or not isinstance(data.get("results"), list):
            raise ProvetError("Provet's invoice list was not understood.")
        total = int(data.get("count") or 0)
        batch = [r for r in data["results"] if isinstance(r, dict)]
        page_ids = [r["id"] for r in batch if isinstance(r.get("id"), int)]
        if page_ids != sorted(page_ids) or (lowest is not None and page_ids and page_ids[-1] >= lowest):
            raise ProvetOrderError(
                "Provet sent its list of invoices out of order, although it was asked for them by id, so the "
                "newest invoices cannot be told. Try again later; if this keeps happening, tell Provet support "
                "that the list ignores 'ordering=id'."
            )
        lowest = page_ids[0] if page_ids else lowest
        ids += [int(r["id"]) for r in reversed(batch) if isinstance(r.get("id"), int) and r.get("client")]
        number = int(data.get("num_pages") or 1) if page == "last" else int(page)
        if len(ids) >= limit or number <= 1 or total == 0:
            break
        page = number - 1
    ids = sorted(ids[:limit])
    rows: list[InvoiceRow] = []
    payments: list[Payment] = []
    for start in range(0, len(ids), IDS_PER_CALL):
        chunk = format_id_list(ids[start : start + IDS_PER_CALL])
        rows += _parsed(InvoiceRow.parse, provet.iter_pages("invoicerow/", {"invoice__in": chunk}, ROW_PAGE))
        payments += _parsed(Payment.parse, provet.iter_pages(
            "invoicepayment/", {"invoice__in": chunk, "status__is": PAYMENT_REGISTERED}, ROW_PAGE))
    log.debug("mapping usage: %d of %d invoices, %d rows, %d payments", len(ids), total, len(rows), len(payments))
    return usage_of(rows, payments, groups, invoices_read=len(ids), invoices_total=total)


def _parsed(parse: Any, records: Iterable[Any]) -> list[Any]:
    out = []
    for data in records:
        try:
            out.append(parse(data))
        except RecordError as exc:  # the sync holds that document with the reason; the check skips it
            log.info("skipped while checking the mapping: %s", exc)
    return out


# --- a first mapping, suggested from what Xero has --------------------------------------------------

_IGNORED_WORDS = frozenset({"vat", "on", "the", "and", "of", "payment", "payments", "account", "method"})


@dataclass(frozen=True)
class Suggestion:
    mapping: Mapping
    notes: tuple[str, ...]  # what it could not decide, in plain words


def _stems(text: str) -> set[str]:
    return {w[:5] for w in re.findall(r"[a-z]{3,}", text.lower()) if w not in _IGNORED_WORDS}


def _best_by_name(text: str, options: list[Any], name: Callable[[Any], str]) -> Any | None:
    """The one option whose name shares most words with `text`; None when no word is shared or it is a tie."""
    wanted = _stems(text)
    scored = sorted(((len(wanted & _stems(name(o))), i) for i, o in enumerate(options)), reverse=True)
    if not scored or scored[0][0] == 0 or (len(scored) > 1 and scored[1][0] == scored[0][0]):
        return None
    return options[scored[0][1]]


def suggest_mapping(
    xero: XeroReference,
    vat_groups: Iterable[VatGroup],
    payment_methods: Iterable[PaymentMethod],
    *,
    account_numbers: Iterable[str] = (),
    base: Mapping | None = None,
    departments: Iterable[Department] = (),
) -> Suggestion:
    """A mapping proposed from Xero's tax rates and accounts; whatever `base` already maps is kept.

    VAT group → the active sales tax rate with the same percentage (several: the tax rate of the Xero
    account with the group's account number, else the closest name). Built-in payment types → the account
    that accepts payments with the closest name, else the first bank account; a custom method gets its
    own entry only when its name points at another account than its type. Rounding payments, consolidated
    invoices and credit invoices are left out (not money into a bank account). A department → the active
    tracking option with the same name (case and spaces aside) in an active tracking category.
    """
    base = base or Mapping()
    notes: list[str] = []
    groups = [g for g in vat_groups if not g.archived]
    methods = [m for m in payment_methods if not m.archived]

    vat = dict(base.vat_groups)
    for g in groups:
        if str(g.id) in vat:
            continue
        rates = [t for t in xero.tax_rates if t.active and t.can_apply_to_revenue and t.rate == g.percentage]
        account = xero.account(g.account_number) if g.account_number else None
        by_account = [t for t in rates if account is not None and t.tax_type == account.tax_type]
        rate = rates[0] if len(rates) == 1 else by_account[0] if by_account else _best_by_name(
            g.title, rates, lambda t: t.name)
        if rate is not None:
            vat[str(g.id)] = rate.tax_type
        elif rates:
            names = ", ".join(f"'{t.name}'" for t in rates)
            notes.append(f"VAT group '{g.title}' ({_pct(g.percentage)}) could be {names} in Xero: choose one.")
        else:
            notes.append(f"VAT group '{g.title}' ({_pct(g.percentage)}) has no active Xero tax rate for sales with "
                         "the same percentage: add one in Xero, then map it.")

    takers = sorted((a for a in xero.accounts if a.active and a.takes_payments), key=lambda a: a.code)
    banks = [a for a in takers if a.type == "BANK"]
    fallback = banks[0] if banks else None
    xero_method = base.xero_payments_method or next(
        (str(m.id) for m in methods if "xero" in m.name.lower()), None)
    pay = dict(base.payment_methods)
    type_account: dict[int, str | None] = {}
    for ptype, type_name in sorted(PAYMENT_TYPE_NAMES.items()):
        key = f"type:{ptype}"
        if ptype in NOT_MONEY_TYPES or ptype == PT_ROUNDING:
            continue
        if key in pay:
            type_account[ptype] = pay[key]
            continue
        account = _best_by_name(type_name, takers, lambda a: a.name) or fallback
        type_account[ptype] = account.code if account else None
        if account is not None:
            pay[key] = account.code
    if fallback is None:
        notes.append("Xero has no active bank account: add one, then map the payment methods to it.")
    for m in methods:
        key = f"method:{m.id}"
        if key in pay or str(m.id) == xero_method or m.payment_type in NOT_MONEY_TYPES or m.payment_type == PT_ROUNDING:
            continue
        if m.name.strip().lower() == PAYMENT_TYPE_NAMES.get(m.payment_type, "").lower():
            continue  # the built-in method of its type
        account = _best_by_name(m.name, takers, lambda a: a.name)
        if account is not None and account.code != type_account.get(m.payment_type):
            pay[key] = account.code
    if any(m.payment_type == PT_ROUNDING for m in methods) and f"type:{PT_ROUNDING}" not in pay:
        notes.append("Payment type 'Rounding' was left unmapped: if the clinic uses it, map it to an account for "
                     "cent differences that accepts payments.")
    if xero_method is None:
        notes.append("Provet has no \"Xero payments\" method: add one (type Other) so payments made in Xero can be "
                     "recorded in Provet, then choose it.")

    revenue = sorted((a for a in xero.accounts if a.active and a.type in ("REVENUE", "SALES")), key=lambda a: a.code)
    default_sales = base.default_sales_account or (revenue[0].code if revenue else None)
    if default_sales is None:
        notes.append("Xero has no active sales account to use as the default sales account: choose one.")
    sales = dict(base.sales_accounts)
    for number in sorted(set(account_numbers) - set(sales)):
        account = xero.account(number)
        if account is not None and not account.active and default_sales:
            sales[number] = default_sales
            notes.append(f"Account number {number} is archived in Xero; its rows go to {default_sales} instead.")
    rounding = base.rounding_account or next(
        (a.code for a in xero.accounts if a.active and "rounding" in a.name.lower()), None)
    if rounding is None:
        notes.append("Xero has no account named 'Rounding': choose the account for rounding differences.")

    depts, dept_notes = _suggest_departments(xero, departments, base.departments)
    notes += dept_notes

    mapping = replace(
        base,
        departments=depts,
        vat_groups=vat,
        payment_methods=pay,
        sales_accounts=sales,
        default_sales_account=default_sales,
        xero_payments_method=xero_method,
        rounding_account=rounding,
    )
    return Suggestion(mapping, tuple(notes))


def _suggest_departments(
    xero: XeroReference, departments: Iterable[Department], mapped: dict[str, TrackingChoice]
) -> tuple[dict[str, TrackingChoice], list[str]]:
    out, notes = dict(mapped), []
    options = [(c, o) for c in xero.tracking_categories if c.active for o in c.options if o.active]
    for d in sorted(departments, key=lambda d: d.id):
        if str(d.id) in out:
            continue
        same = [(c, o) for c, o in options if tracking_key(o.name) == tracking_key(d.name)]
        if len(same) == 1:
            out[str(d.id)] = TrackingChoice(same[0][0].name, same[0][1].name)
        elif same:
            names = ", ".join(f"'{c.name}'" for c, _o in same)
            notes.append(f"Department '{d.name}' is an option in several Xero tracking categories ({names}): choose "
                         "one, or leave it unmapped.")
        elif options:
            notes.append(f"Department '{d.name}' has no tracking option of the same name in Xero: its invoices go "
                         "without tracking unless you map it.")
    return out, notes
