"""The check of a mapping against what Xero has now (and what Provet uses): every problem where it is mapped,
each with its fix."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from provet_xero_gui.mapping.model import Mapping, TrackingChoice, id_order
from provet_xero_gui.mapping.rules import capitalised, department_label, payment_method_label, percent
from provet_xero_gui.provet.records import Department, PaymentMethod, VatGroup
from provet_xero_gui.xero.reference import XeroReference


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
    methods = list(payment_methods)
    return [
        *_vat_problems(mapping, xero, {g.id: g for g in vat_groups}, vat_groups_in_use),
        *_payment_problems(mapping, xero, methods, payment_keys_in_use),
        *_sales_problems(mapping, xero, account_numbers_in_use),
        *_rounding_problems(mapping, xero),
        *_department_problems(mapping, xero, list(departments)),
        *_xero_payments_problems(mapping, methods),
    ]


def _vat_problems(mapping: Mapping, xero: XeroReference, groups: dict[int, VatGroup],
                  in_use: Iterable[int]) -> list[MappingProblem]:
    """VAT groups in use but unmapped, then each mapped one whose Xero tax rate cannot take it."""
    problems: list[MappingProblem] = []
    for gid in sorted(set(in_use)):
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
                f"'{title}' is {percent(groups[int(gid)].percentage)} in Provet but '{rate.name}' is "
                f"{percent(rate.rate)} in Xero, so the VAT would differ.",
                "Map it to a tax rate with the same percentage."))
    return problems


def _payment_problems(mapping: Mapping, xero: XeroReference, methods: list[PaymentMethod],
                      in_use: Iterable[str]) -> list[MappingProblem]:
    """Payment keys in use but unmapped, then each mapped one whose account cannot take payments."""
    problems: list[MappingProblem] = []
    for key in sorted(set(in_use)):
        kind, _, value = key.partition(":")
        method_id = int(value) if kind == "method" else None
        method = next((m for m in methods if m.id == method_id), None)
        payment_type = int(value) if kind == "type" else (method.payment_type if method else None)
        if mapping.account_for(payment_type, method_id) is None:
            label = payment_method_label(key, methods)
            problems.append(MappingProblem(f"payment_methods:{key}", f"{capitalised(label)} is used but not mapped.",
                                           "Map it to a Xero account that accepts payments."))
    for key, code in sorted(mapping.payment_methods.items()):
        label = payment_method_label(key, methods)
        problems += _account_problems(xero, f"payment_methods:{key}", code, label, needs_payments=True)
    return problems


def _sales_problems(mapping: Mapping, xero: XeroReference, in_use: Iterable[str]) -> list[MappingProblem]:
    """Mapped sales accounts, the account numbers in use that reach none (or an archived one by the
    same-code rule), and the default sales account."""
    problems: list[MappingProblem] = []
    for number, code in sorted(mapping.sales_accounts.items()):
        problems += _account_problems(xero, f"sales_accounts:{number}", code, f"sales account {number}")
    codes = [a.code for a in xero.accounts]
    for number in sorted(set(in_use) - set(mapping.sales_accounts)):
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
    return problems


def _rounding_problems(mapping: Mapping, xero: XeroReference) -> list[MappingProblem]:
    if mapping.rounding_account:
        return _account_problems(xero, "rounding_account", mapping.rounding_account, "the rounding account")
    return [MappingProblem("rounding_account", "No rounding account is chosen: an invoice whose total "
                           "Xero would round differently cannot be sent.",
                           "Choose the Xero account for rounding differences.")]


def _department_problems(mapping: Mapping, xero: XeroReference, depts: list[Department]) -> list[MappingProblem]:
    problems: list[MappingProblem] = []
    for did, choice in sorted(mapping.departments.items(), key=id_order):
        trouble = tracking_trouble(xero, choice)
        if trouble:
            problems.append(MappingProblem(
                f"departments:{did}", f"{capitalised(department_label(did, depts))} is mapped to {trouble}.",
                "Map it to an active option of a Xero tracking category, or remove its mapping (its invoices then "
                "go to Xero without tracking)."))
    return problems


def _xero_payments_problems(mapping: Mapping, methods: list[PaymentMethod]) -> list[MappingProblem]:
    if mapping.xero_payments_method and not any(str(m.id) == mapping.xero_payments_method for m in methods):
        return [MappingProblem("xero_payments_method", f"Provet has no payment method "
                               f"{mapping.xero_payments_method} for payments made in Xero.",
                               "Choose the clinic's \"Xero payments\" method.")]
    return []


def _account_problems(
    xero: XeroReference, where: str, code: str, label: str, needs_payments: bool = False
) -> list[MappingProblem]:
    account = xero.account(code)
    if account is None:
        return [MappingProblem(where, f"{capitalised(label)} is mapped to account {code}, which Xero does not "
                               "have.",
                               "Map it to an existing Xero account.")]
    if not account.active:
        return [MappingProblem(where, f"{capitalised(label)} is mapped to {account.label}, which is archived in "
                               "Xero.",
                               "Map it to an active account.")]
    if needs_payments and not account.takes_payments:
        return [MappingProblem(where, f"{capitalised(label)} is mapped to {account.label}, which cannot take "
                               "payments.",
                               "Choose a bank account, or allow payments to this account in Xero's chart of accounts.")]
    return []
