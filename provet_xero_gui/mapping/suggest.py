"""A first mapping, suggested from what Xero has: whatever the person already mapped is kept, and what could
not be decided is said in plain words."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from provet_xero_gui.mapping.model import Mapping, TrackingChoice
from provet_xero_gui.mapping.rules import NOT_MONEY_TYPES, PT_ROUNDING, percent
from provet_xero_gui.provet.records import PAYMENT_TYPE_NAMES, Department, PaymentMethod, VatGroup
from provet_xero_gui.xero.reference import Account, XeroReference, tracking_key

T = TypeVar("T")

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

    Each part is suggested on its own (a named step below); their notes come in the order of the parts.
    """
    base = base or Mapping()
    vat = _suggest_vat(xero, [g for g in vat_groups if not g.archived], base.vat_groups)
    pay = _suggest_payments(xero, [m for m in payment_methods if not m.archived], base)
    sales = _suggest_sales(xero, account_numbers, base)
    rounding = _suggest_rounding(xero, base)
    depts = _suggest_departments(xero, departments, base.departments)
    mapping = replace(
        base,
        departments=depts.value,
        vat_groups=vat.value,
        payment_methods=pay.value[0],
        sales_accounts=sales.value[1],
        default_sales_account=sales.value[0],
        xero_payments_method=pay.value[1],
        rounding_account=rounding.value,
    )
    return Suggestion(mapping, (*vat.notes, *pay.notes, *sales.notes, *rounding.notes, *depts.notes))


@dataclass(frozen=True)
class _Part(Generic[T]):
    """One part of a suggestion and what could not be decided for it."""

    value: T
    notes: tuple[str, ...] = ()


def _suggest_vat(xero: XeroReference, groups: list[VatGroup], mapped: dict[str, str]) -> _Part[dict[str, str]]:
    vat, notes = dict(mapped), []
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
            notes.append(f"VAT group '{g.title}' ({percent(g.percentage)}) could be {names} in Xero: choose one.")
        else:
            notes.append(f"VAT group '{g.title}' ({percent(g.percentage)}) has no active Xero tax rate for sales "
                         "with the same percentage: add one in Xero, then map it.")
    return _Part(vat, tuple(notes))


def _suggest_payments(xero: XeroReference, methods: list[PaymentMethod], base: Mapping
                      ) -> _Part[tuple[dict[str, str], str | None]]:
    """(payment mapping, the Provet method for payments made in Xero)."""
    takers = sorted((a for a in xero.accounts if a.active and a.takes_payments), key=lambda a: a.code)
    banks = [a for a in takers if a.type == "BANK"]
    fallback = banks[0] if banks else None
    xero_method = base.xero_payments_method or next(
        (str(m.id) for m in methods if "xero" in m.name.lower()), None)
    pay = dict(base.payment_methods)
    type_account = _suggest_payment_types(pay, takers, fallback)
    notes = []
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
    return _Part((pay, xero_method), tuple(notes))


def _suggest_payment_types(pay: dict[str, str], takers: list[Account], fallback: Account | None
                           ) -> dict[int, str | None]:
    """Maps each built-in payment type (in `pay`, where not mapped yet); returns each type's account code."""
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
    return type_account


def _suggest_sales(xero: XeroReference, account_numbers: Iterable[str], base: Mapping
                   ) -> _Part[tuple[str | None, dict[str, str]]]:
    """(the default sales account, sales accounts): an account number archived in Xero goes to the default."""
    notes = []
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
    return _Part((default_sales, sales), tuple(notes))


def _suggest_rounding(xero: XeroReference, base: Mapping) -> _Part[str | None]:
    rounding = base.rounding_account or next(
        (a.code for a in xero.accounts if a.active and "rounding" in a.name.lower()), None)
    if rounding is None:
        return _Part(None, ("Xero has no account named 'Rounding': choose the account for rounding differences.",))
    return _Part(rounding)


def _suggest_departments(
    xero: XeroReference, departments: Iterable[Department], mapped: dict[str, TrackingChoice]
) -> _Part[dict[str, TrackingChoice]]:
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
    return _Part(out, tuple(notes))
