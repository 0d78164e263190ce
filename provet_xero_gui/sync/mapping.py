"""The mapping from Provet's VAT groups, payment methods and sales accounts onto Xero's tax rates and
accounts, its JSON file format (DESIGN.md "The command line"), and the check against what Xero has now.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from provet_xero_gui.provet.records import PAYMENT_TYPE_NAMES, InvoiceRow, Payment, PaymentMethod, VatGroup
from provet_xero_gui.settings import write_json_atomically
from provet_xero_gui.xero.reference import XeroReference

log = logging.getLogger(__name__)

MAPPING_VERSION = 1
CONSOLIDATED_CHOICES = ("gathered", "both")
INVOICE_STATUSES = ("AUTHORISED", "DRAFT")


class MappingError(ValueError):
    """A mapping file that cannot be used; the message names the key and the problem."""


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

    def sales_account(self, account_number: str, xero_codes: Iterable[str] = ()) -> str | None:
        """Mapped code; else the same code when Xero has it; else the default sales account."""
        if account_number and account_number in self.sales_accounts:
            return self.sales_accounts[account_number]
        if account_number and account_number in set(xero_codes):
            return account_number
        return self.default_sales_account

    # --- file format ------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
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
            try:
                start = date.fromisoformat(start) if isinstance(start, str) else _bad("start_date", start)
            except ValueError:
                raise MappingError(f"start_date {start!r} is not a date written YYYY-MM-DD") from None
        xpm = _opt_str(data, "xero_payments_method")
        if xpm is not None and not _is_id(xpm):
            raise MappingError(f"xero_payments_method {xpm!r} should be a Provet payment method id such as \"7\"")
        return cls(
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


def parse_mapping_text(text: str, source: Path | str) -> Mapping:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MappingError(f"{source} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
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


def check_mapping(
    mapping: Mapping,
    xero: XeroReference,
    vat_groups: Iterable[VatGroup],
    payment_methods: Iterable[PaymentMethod],
    vat_groups_in_use: Iterable[int] = (),
    payment_keys_in_use: Iterable[str] = (),
) -> list[MappingProblem]:
    """Every problem, each where it is mapped, with its fix. Empty list = ready to send."""
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
            problems.append(MappingProblem(f"payment_methods:{key}", f"{label.capitalize()} is used but not mapped.",
                                           "Map it to a Xero account that accepts payments."))
    for key, code in sorted(mapping.payment_methods.items()):
        label = payment_method_label(key, methods)
        problems += _account_problems(xero, f"payment_methods:{key}", code, label, needs_payments=True)

    for number, code in sorted(mapping.sales_accounts.items()):
        problems += _account_problems(xero, f"sales_accounts:{number}", code, f"sales account {number}")
    if mapping.default_sales_account:
        problems += _account_problems(xero, "default_sales_account", mapping.default_sales_account,
                                      "the default sales account")
    if mapping.rounding_account:
        problems += _account_problems(xero, "rounding_account", mapping.rounding_account, "the rounding account")
    else:
        problems.append(MappingProblem("rounding_account", "No rounding account is chosen: an invoice whose total "
                                       "Xero would round differently cannot be sent.",
                                       "Choose the Xero account for rounding differences."))
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
        return [MappingProblem(where, f"{label.capitalize()} is mapped to account {code}, which Xero does not have.",
                               "Map it to an existing Xero account.")]
    if not account.active:
        return [MappingProblem(where, f"{label.capitalize()} is mapped to {account.label}, which is archived in Xero.",
                               "Map it to an active account.")]
    if needs_payments and not account.takes_payments:
        return [MappingProblem(where, f"{label.capitalize()} is mapped to {account.label}, which cannot take payments.",
                               "Choose a bank account, or allow payments to this account in Xero's chart of accounts.")]
    return []
