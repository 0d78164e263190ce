"""The mapping itself: Provet's VAT groups, payment methods, sales accounts and departments onto Xero's tax
rates, accounts and tracking options, and its JSON form (DESIGN.md "The command line"), read strictly so
that a bad file is refused with the key and the problem."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from provet_xero_gui.provet.records import Payment

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
            data["departments"] = {k: v.to_json() for k, v in sorted(self.departments.items(), key=id_order)}
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


def id_order(item: tuple[str, Any]) -> tuple[int, str]:
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
