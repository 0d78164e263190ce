"""What the mapping must cover: the VAT groups, payment keys and account numbers a sample of the newest
finalised invoices uses, read from Provet at a bounded cost."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from provet_xero_gui.mapping.checks import MappingProblem
from provet_xero_gui.mapping.rules import NOT_MONEY_TYPES, capitalised, payment_key, percent, vat_group_for_row
from provet_xero_gui.provet.client import ProvetClient, format_id_list
from provet_xero_gui.provet.records import (
    INVOICE_FINALISED,
    PAYMENT_REGISTERED,
    Department,
    InvoiceRow,
    Payment,
    PaymentMethod,
    RecordError,
    VatGroup,
)
from provet_xero_gui.provet.source import ProvetSource

log = logging.getLogger(__name__)

RECENT_INVOICES = 200  # how many of the newest finalised invoices `mapping check` reads
INVOICE_PAGE = 100  # costs 2 of /invoice/'s 60 a minute
IDS_PER_CALL = 100  # invoice ids in one invoice__in=[...] filter
ROW_PAGE = 200  # costs 4 of /invoicerow/'s and /invoicepayment/'s 100 a minute


@dataclass(frozen=True)
class MappingUsage:
    """What a sample of finalised invoices needs from the mapping."""

    vat_groups: frozenset[int]
    payment_keys: frozenset[str]  # "method:ID" for a custom method, else "type:N"
    account_numbers: frozenset[str]
    row_problems: tuple[MappingProblem, ...]  # rows whose VAT group cannot be told (fixed in Provet)
    invoices_read: int = 0
    invoices_total: int = 0


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
            unresolved.setdefault((percent(row.vat_percentage), row.account_number), []).append(found.problem or "")
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
            capitalised(texts[0]) + more + "; their invoices cannot be sent.",
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
    for batch, count in provet.newest_pages("invoice/", params, INVOICE_PAGE):
        total = count
        ids += [int(r["id"]) for r in reversed(batch) if isinstance(r.get("id"), int) and r.get("client")]
        if len(ids) >= limit:
            break
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
