"""The project's rules on rows and payments (provet-api.md) that the mapping is read by, and the words that
name what is mapped in messages: shared by the check, the sample of what is in use and the suggestion."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from provet_xero_gui.provet.records import (
    PAYMENT_TYPE_NAMES,
    PT_CONSOLIDATED,
    PT_CREDIT_INVOICE,
    Department,
    InvoiceRow,
    Payment,
    PaymentMethod,
    VatGroup,
)

PT_ROUNDING = 3
NOT_MONEY_TYPES = frozenset({PT_CONSOLIDATED, PT_CREDIT_INVOICE})  # settled by another document, not paid


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
            f"row '{row.name}' has VAT {percent(row.vat_percentage)} and account {row.account_number or '(none)'}, "
            f"which matches several VAT groups ({names}) and cannot be told apart",
        )
    if not candidates:
        return RowVatGroup(None,
                           f"row '{row.name}' has VAT {percent(row.vat_percentage)}, which no active VAT group has")
    return RowVatGroup(candidates[0])


def payment_key(payment: Payment) -> str:
    if payment.payment_method_id is not None:
        return f"method:{payment.payment_method_id}"
    return f"type:{payment.payment_type}"


def capitalised(text: str) -> str:
    """The first letter in capitals and the rest as it is (str.capitalize would lower 'Cash' to 'cash')."""
    return text[:1].upper() + text[1:]


def percent(value: Any) -> str:
    text = format(value.normalize(), "f") if hasattr(value, "normalize") else str(value)
    return f"{text}%"


def payment_method_label(key: str, methods: Iterable[PaymentMethod]) -> str:
    kind, _, value = key.partition(":")
    if kind == "type":
        return f"payment type '{PAYMENT_TYPE_NAMES.get(int(value), value)}'"
    method = next((m for m in methods if str(m.id) == value), None)
    return f"payment method '{method.name}'" if method else f"payment method {value}"


def department_label(department_id: str, departments: Iterable[Department]) -> str:
    found = next((d for d in departments if str(d.id) == department_id), None)
    return f"department '{found.name}'" if found else f"department {department_id}"
