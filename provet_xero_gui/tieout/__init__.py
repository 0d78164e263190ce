"""Daily tie-out: proves, day by day, that Xero holds what Provet says, and names every document behind
any difference.

For each day of a range, Provet's side is what the sync is meant to bring to Xero: finalised invoices and
credit notes (sales incl. VAT and the VAT itself, per VAT group) and payments (per payment method). Xero's
side is what Xero holds now for the documents linked to those (lines per VAT group, the rounding lines,
payments to the mapped accounts), plus payments made in Xero on linked invoices. Anonymous sales, their
payments, consolidated invoices (when their gathered invoices are sent instead) and prepayments not used yet
are left out of the totals by rule and listed as their own "held" lines.

The numbers add up by construction: every amount on a line is booked per document (Provet's and Xero's
share), so `provet_total - xero_total` is exactly the sum of the documents' differences. Each document with a
difference gets one cause (not sent yet, held with the attention list's reason, skipped, cent rounding,
changed in Xero after sync, payment made only in Xero); what no cause explains is "unexplained" (red).

Costs: Provet has no daily cap and is read by date. Xero is read three times for a range of any length
(invoices, credit notes and payments by date, 1,000 a call), plus a look-up by id for a linked document or
payment that Xero now dates elsewhere. What the sync already knows comes from the store, not from Xero: the
links, what was sent of each document, why a document waits (the attention list) and the account names (the
cached reference data). No Qt here.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from provet_xero_gui.mapping import Mapping, payment_key, vat_group_for_row
from provet_xero_gui.provet.client import ProvetError
from provet_xero_gui.provet.records import (
    INVOICE_FINALISED,
    INVOICE_VOIDED,
    PAYMENT_REGISTERED,
    PAYMENT_TYPE_NAMES,
    Invoice,
    InvoiceRow,
    Payment,
    PaymentMethod,
    UnallocatedPayment,
    VatGroup,
)
from provet_xero_gui.provet.source import BadRecord, ProvetSource
from provet_xero_gui.store.sent import SentDocument
from provet_xero_gui.store.sync_state import AttentionItem, Link, SyncState, cause_title
from provet_xero_gui.sync.payments import BOOKKEEPING_TYPES, FROM_XERO_PREFIX
from provet_xero_gui.sync.translate import money, rounding_tolerance
from provet_xero_gui.xero.client import (
    XeroDocumentDetail,
    XeroLineState,
    XeroPaymentState,
)
from provet_xero_gui.xero.port import XeroTieOutReads

log = logging.getLogger(__name__)

ZERO = Decimal("0.00")
MAX_DAYS = 366  # a year at most: the Provet reads of a longer range are better split

# Causes, in the order a person reads them, with their headings.
CAUSES: dict[str, str] = {
    "unexplained": "Unexplained",
    "changed_in_xero": "Changed in Xero after sync",
    "xero_only": "Payment made only in Xero",
    "held": "Held, waiting for a fix",
    "not_sent": "Not sent to Xero yet",
    "skipped": "Not sent, by choice",
    "rounding": "Cent rounding",
    "held_by_rule": "Held by rule",
}
# Differences that do not make a day amber: Xero rounds each line to the cent and the rounding account
# carries the rest, so the documents themselves agree.
BENIGN = frozenset({"rounding"})

EQUAL, EXPLAINED, UNEXPLAINED, HELD = "equal", "explained", "unexplained", "held"
STATUS_WORDS = {EQUAL: "ties out", EXPLAINED: "explained", UNEXPLAINED: "unexplained", HELD: "held by rule"}
_STATUS_RANK = {EQUAL: 0, HELD: 0, EXPLAINED: 1, UNEXPLAINED: 2}

LINE_KINDS = ("sales", "tax", "rounding", "payments", "held")
_LINE_ORDER = {k: i for i, k in enumerate(LINE_KINDS)}


def cause_words(cause: str) -> str:
    return CAUSES.get(cause, cause.replace("_", " ").capitalize())


# --- results ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """One document's share of a line's difference: `amount` = its Provet amount - its Xero amount."""

    cause: str
    document: str  # how a person names it: "Invoice 24002", "Payment #12 (25.00) on Invoice 24002"
    amount: Decimal
    reason: str  # plain words
    fix: str = ""
    provet_ref: str = ""  # "invoice:12", "payment:40" — what the drill-down opens
    xero_id: str = ""

    @property
    def explained(self) -> bool:
        return self.cause != "unexplained"


@dataclass(frozen=True)
class TieOutLine:
    """One day's total of one kind: sales or VAT of a VAT group, the rounding lines, a payment method's
    payments, or a held-by-rule group. `differences` list every document whose two sides differ."""

    kind: str  # sales | tax | rounding | payments | held
    key: str
    label: str
    provet_total: Decimal
    xero_total: Decimal
    differences: tuple[Difference, ...] = ()

    @property
    def difference(self) -> Decimal:
        return self.provet_total - self.xero_total

    @property
    def explained(self) -> Decimal:
        return sum((d.amount for d in self.differences if d.explained), ZERO)

    @property
    def unexplained(self) -> Decimal:
        """What no document's cause explains; zero unless some document's difference has no cause."""
        return self.difference - self.explained

    @property
    def status(self) -> str:
        if self.kind == "held":
            return HELD
        if self.unexplained != 0:
            return UNEXPLAINED
        if any(d.cause not in BENIGN for d in self.differences if d.amount != 0):
            return EXPLAINED
        return EQUAL


@dataclass(frozen=True)
class TieOutDay:
    day: date
    lines: tuple[TieOutLine, ...] = ()

    @property
    def status(self) -> str:
        """Green (equal), amber (every difference explained) or red (something unexplained); held lines are
        listed but never colour a day."""
        worst = EQUAL
        for line in self.lines:
            if line.kind != "held" and _STATUS_RANK[line.status] > _STATUS_RANK[worst]:
                worst = line.status
        return worst

    @property
    def compared(self) -> tuple[TieOutLine, ...]:
        return tuple(line for line in self.lines if line.kind != "held")

    @property
    def held(self) -> tuple[TieOutLine, ...]:
        return tuple(line for line in self.lines if line.kind == "held")

    @property
    def differences(self) -> tuple[tuple[TieOutLine, Difference], ...]:
        return tuple((line, d) for line in self.lines for d in line.differences)

    def total(self, kind: str, side: str) -> Decimal:
        return sum((getattr(line, f"{side}_total") for line in self.lines if line.kind == kind), ZERO)


@dataclass(frozen=True)
class TieOutReport:
    start: date
    end: date
    days: tuple[TieOutDay, ...]
    xero_calls: int
    xero_calls_by_endpoint: dict[str, int] = field(default_factory=dict)
    provet_pages: int = 0
    notes: tuple[str, ...] = ()
    organisation: str = ""

    @property
    def status(self) -> str:
        worst = EQUAL
        for day in self.days:
            if _STATUS_RANK[day.status] > _STATUS_RANK[worst]:
                worst = day.status
        return worst

    def count(self, status: str) -> int:
        return sum(1 for d in self.days if d.status == status)

    def day(self, on: date) -> TieOutDay | None:
        return next((d for d in self.days if d.day == on), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "status": self.status,
            "organisation": self.organisation,
            "days_equal": self.count(EQUAL),
            "days_explained": self.count(EXPLAINED),
            "days_unexplained": self.count(UNEXPLAINED),
            "xero_calls": self.xero_calls,
            "xero_calls_by_endpoint": dict(self.xero_calls_by_endpoint),
            "provet_pages": self.provet_pages,
            "notes": list(self.notes),
            "days": [
                {
                    "date": d.day.isoformat(),
                    "status": d.status,
                    "lines": [
                        {
                            "kind": line.kind,
                            "key": line.key,
                            "label": line.label,
                            "provet": str(line.provet_total),
                            "xero": str(line.xero_total),
                            "difference": str(line.difference),
                            "explained": str(line.explained),
                            "unexplained": str(line.unexplained),
                            "status": line.status,
                            "differences": [
                                {
                                    "cause": x.cause,
                                    "cause_title": cause_words(x.cause),
                                    "document": x.document,
                                    "amount": str(x.amount),
                                    "reason": x.reason,
                                    "fix": x.fix,
                                    "provet_ref": x.provet_ref,
                                    "xero_id": x.xero_id,
                                }
                                for x in line.differences
                            ],
                        }
                        for line in d.lines
                    ],
                }
                for d in self.days
            ],
        }


class TieOutRangeError(ValueError):
    """A date range the tie-out cannot take; the message says why in plain words."""


def check_range(start: date, end: date) -> None:
    if end < start:
        raise TieOutRangeError(f"the range ends ({end.isoformat()}) before it starts ({start.isoformat()})")
    if (end - start).days + 1 > MAX_DAYS:
        raise TieOutRangeError(
            f"the range is {(end - start).days + 1} days long; tie out at most {MAX_DAYS} days at a time"
        )


# --- the ledger: every amount booked per document -------------------------------------------------------


@dataclass(frozen=True)
class _Verdict:
    """Why one document's two sides differ. A rounding verdict holds only up to `limit`."""

    cause: str
    reason: str
    fix: str = ""
    limit: Decimal | None = None


@dataclass
class _DocInfo:
    label: str
    provet_ref: str = ""
    xero_id: str = ""
    verdict: _Verdict | None = None


class _Ledger:
    def __init__(self, start: date, end: date) -> None:
        self.start = start
        self.end = end
        # (day, line key) → document key → [Provet amount, Xero amount]
        self.cells: dict[tuple[date, str], dict[str, list[Decimal]]] = defaultdict(dict)
        self.lines: dict[str, tuple[str, str]] = {}  # line key → (kind, label)
        self.docs: dict[str, _DocInfo] = {}

    def line(self, key: str, kind: str, label: str) -> str:
        self.lines.setdefault(key, (kind, label))
        return key

    def book(self, day: date | None, line: str, doc: str, *, provet: Decimal = ZERO, xero: Decimal = ZERO) -> None:
        """Add to one document's share of a line on a day; days outside the range are not shown."""
        if day is None or not self.start <= day <= self.end or (provet == 0 and xero == 0):
            return
        cell = self.cells[(day, line)].setdefault(doc, [ZERO, ZERO])
        cell[0] += provet
        cell[1] += xero

    def days(self) -> tuple[TieOutDay, ...]:
        by_day: dict[date, list[TieOutLine]] = defaultdict(list)
        for (day, key), docs in self.cells.items():
            kind, label = self.lines[key]
            diffs: list[Difference] = []
            for doc_key, (p, x) in sorted(docs.items(), key=lambda kv: self.docs[kv[0]].label):
                if p == x:
                    continue
                info = self.docs[doc_key]
                diffs.append(_difference(info, p - x))
            provet = sum((v[0] for v in docs.values()), ZERO)
            xero = sum((v[1] for v in docs.values()), ZERO)
            by_day[day].append(TieOutLine(kind, key, label, provet, xero, tuple(diffs)))
        out = []
        day = self.start
        while day <= self.end:
            lines = sorted(by_day.get(day, ()), key=lambda ln: (_LINE_ORDER[ln.kind], ln.label, ln.key))
            out.append(TieOutDay(day, tuple(lines)))
            day += timedelta(days=1)
        return tuple(out)


def _difference(info: _DocInfo, amount: Decimal) -> Difference:
    v = info.verdict or _Verdict("unexplained", "no reason could be found for this difference")
    if v.cause == "rounding" and v.limit is not None and abs(amount) > v.limit:
        v = _Verdict(
            "unexplained",
            f"it differs by {amount}, more than cent rounding can explain",
            "Compare the document in Provet and in Xero.",
        )
    return Difference(v.cause, info.label, amount, v.reason, v.fix, info.provet_ref, info.xero_id)


# --- what was sent ---------------------------------------------------------------------------------------


def _four(value: Any) -> Decimal:
    try:
        return Decimal(str(value if value is not None else 0)).quantize(Decimal("0.0001"))
    except ArithmeticError:
        return Decimal(0)


def _changed_since_sent(detail: XeroDocumentDetail, sent: SentDocument) -> str | None:
    """How Xero's document differs from what was sent, in plain words; None when it is as sent."""
    total = money(detail.state.total)
    if total != money(sent.total):
        return f"its total in Xero is {total}, but {money(sent.total)} was sent"
    if len(detail.lines) != len(sent.lines):
        return f"it has {len(detail.lines)} lines in Xero, but {len(sent.lines)} were sent"
    for n, (have, was) in enumerate(zip(detail.lines, sent.lines, strict=True), start=1):
        if (
            have.tax_type != was.tax_type
            or have.account_code != was.account_code
            or _four(have.quantity) != _four(was.quantity)
            or _four(have.unit_amount) != _four(was.unit_amount)
            or _four(have.discount_rate) != _four(was.discount_rate)
        ):
            return f"line {n} ('{have.description[:40]}') was changed in Xero"
        if was.tax_amount is not None and money(have.tax_amount) != money(was.tax_amount):
            return f"the VAT of line {n} ('{have.description[:40]}') was changed in Xero"
    return None


# --- the tie-out ---------------------------------------------------------------------------------------------


class TieOut:
    """Builds a `TieOutReport`; the collaborators are the sync's own (a ProvetSource, a XeroClient, the
    store's SyncState and the saved mapping)."""

    def __init__(
        self,
        provet: ProvetSource,
        xero: XeroTieOutReads,
        state: SyncState,
        mapping: Mapping,
        *,
        progress: Callable[[str], None] = lambda _text: None,
    ) -> None:
        self.provet = provet
        self.xero = xero
        self.state = state
        self.mapping = mapping
        self._progress = progress

    def run(self, start: date, end: date) -> TieOutReport:
        check_range(start, end)
        calls_before = Counter(self.xero.calls)
        pages_before = self.provet.pages_read
        self.notes: list[str] = []
        self.ledger = _Ledger(start, end)
        self._read_provet(start, end)
        self._read_xero(start, end)
        self._book_documents()
        self._book_payments()
        self._book_prepayments()
        used = Counter(self.xero.calls)
        used.subtract(calls_before)
        by_endpoint = {k: v for k, v in sorted(used.items()) if v > 0}
        report = TieOutReport(
            start,
            end,
            self.ledger.days(),
            sum(by_endpoint.values()),
            by_endpoint,
            self.provet.pages_read - pages_before,
            tuple(self.notes),
            self._organisation(),
        )
        log.info("tie-out %s..%s: %s (%d Xero calls)", start, end, report.status, report.xero_calls)
        return report

    # --- reading Provet --------------------------------------------------------------------------------------
    def _unreadable(self, bad: Sequence[BadRecord]) -> None:
        for b in bad:
            self.notes.append(f"Provet could not be read for one record, so the tie-out may miss it: {b.message}")

    def _read_provet(self, start: date, end: date) -> None:
        self._progress("reading Provet")
        dated = self.provet.invoices_dated(start, end)
        self._unreadable(dated.bad)
        self.invoices: dict[int, Invoice] = {i.id: i for i in dated.records}
        paid = self.provet.payments_dated(start, end)
        self._unreadable(paid.bad)
        self.payments: dict[int, Payment] = {p.id: p for p in paid.records}
        # The clinic's days: from its local midnight at the start to the one after the end.
        since = datetime.combine(start, time()).astimezone()
        until = datetime.combine(end + timedelta(days=1), time()).astimezone()
        pre = self.provet.prepayments_created(since, until)
        self._unreadable(pre.bad)
        self.prepayments: list[UnallocatedPayment] = list(pre.records)
        self.vat_groups: list[VatGroup] = list(self.provet.vat_groups().records)
        self.methods: dict[int, PaymentMethod] = {m.id: m for m in self.provet.payment_methods().records}
        self._more_invoices({p.invoice_id for p in self.payments.values()})

    def _more_invoices(self, ids: Iterable[int]) -> None:
        missing = sorted(set(ids) - set(self.invoices))
        if missing:
            read = self.provet.invoices(missing)
            self._unreadable(read.bad)
            self.invoices.update({i.id: i for i in read.records})

    # --- reading Xero ----------------------------------------------------------------------------------------
    def _read_xero(self, start: date, end: date) -> None:
        self._progress("reading Xero")
        self.doc_links: dict[str, Link] = {**self.state.links("invoice"), **self.state.links("credit_note")}
        self.doc_by_xero = {link.xero_id: pid for pid, link in self.doc_links.items()}
        self.details: dict[str, XeroDocumentDetail] = {}
        for kind in ("invoice", "credit_note"):
            for d in self.xero.documents_dated(kind, start, end):
                self.details[d.state.xero_id] = d
        # Linked documents Provet dates in the range but Xero now dates elsewhere: looked up by id.
        for kind in ("invoice", "credit_note"):
            missing = sorted(
                {
                    link.xero_id
                    for pid, link in self.doc_links.items()
                    if link.kind == kind
                    and int(pid) in self.invoices
                    and _in(self.invoices[int(pid)].invoice_date, start, end)
                    and link.xero_id not in self.details
                }
            )
            if missing:
                for d in self.xero.documents_detail_by_id(kind, missing):
                    self.details[d.state.xero_id] = d
        # Linked documents Xero dates in the range but Provet dates elsewhere: read from Provet.
        self._more_invoices(int(self.doc_by_xero[x]) for x in self.details if x in self.doc_by_xero)
        self._read_rows()

        self.pay_links = self.state.links("payment")
        self.from_xero_links = self.state.links("xero_payment")
        self.xero_of_payment: dict[int, list[str]] = defaultdict(list)  # Provet payment → Xero payments
        for pid, link in self.pay_links.items():
            base = pid.split("@")[0]
            if base.isdigit():
                self.xero_of_payment[int(base)].append(link.xero_id)
        for pid, link in self.from_xero_links.items():
            if pid.isdigit():
                self.xero_of_payment[int(pid)].append(link.xero_id)
        self.payment_of_xero = {x: pid for pid, xs in self.xero_of_payment.items() for x in xs}
        self.xero_payments: dict[str, XeroPaymentState] = {p.xero_id: p for p in self.xero.payments_dated(start, end)}
        missing_pay = sorted(
            {x for pid in self.payments for x in self.xero_of_payment.get(pid, ()) if x not in self.xero_payments}
        )
        if missing_pay:
            self.xero_payments.update({p.xero_id: p for p in self.xero.payments_by_id(missing_pay)})
        # Xero payments in the range for Provet payments dated elsewhere: read from Provet (no daily cap).
        for x in self.xero_payments:
            pid = self.payment_of_xero.get(x)
            if pid is not None and pid not in self.payments:
                try:
                    self.payments[pid] = self.provet.payment(pid)
                except ProvetError as exc:  # one unreadable payment leaves only its Provet side out
                    self.notes.append(f"Provet payment {pid} could not be read ({exc}).")
        self._more_invoices({p.invoice_id for p in self.payments.values()})
        self.attention: dict[tuple[str, str], AttentionItem] = {}
        for item in self.state.attention():
            self.attention.setdefault((item.kind, item.provet_id), item)

    def _read_rows(self) -> None:
        ids = [
            i.id
            for i in self.invoices.values()
            if i.status in (INVOICE_FINALISED, INVOICE_VOIDED) and not self._held_by_rule(i)
        ]
        self.rows: dict[int, tuple[InvoiceRow, ...]] = {}
        if ids:
            read = self.provet.rows_for(ids)
            self._unreadable(read.bad)
            self.rows = {i: tuple(sorted(rows, key=lambda r: r.id)) for i, rows in read.items()}

    def _organisation(self) -> str:
        cached = self.state.cached("xero_reference")
        try:
            return str(cached[0]["organisation"][0]) if cached else ""
        except (KeyError, IndexError, TypeError):
            return ""

    def _account_names(self) -> dict[str, str]:
        cached = self.state.cached("xero_reference")
        try:
            return {str(a[0]): str(a[1]) for a in cached[0]["accounts"]} if cached else {}
        except (KeyError, IndexError, TypeError):
            return {}

    # --- documents -----------------------------------------------------------------------------------------
    def _held_by_rule(self, inv: Invoice) -> str | None:
        if inv.client_id is None:
            return "anonymous"
        if inv.consolidated_invoice and self.mapping.consolidated == "gathered":
            return "consolidated"
        return None

    def _book_documents(self) -> None:
        self._progress("comparing documents")
        L = self.ledger
        self.sent = self.state.sent_documents(str(i) for i in self.invoices if str(i) in self.doc_links)
        seen_xero: set[str] = set()
        for inv in sorted(self.invoices.values(), key=lambda i: i.id):
            if inv.status not in (INVOICE_FINALISED, INVOICE_VOIDED):
                continue
            doc = f"invoice:{inv.id}"
            link = self.doc_links.get(str(inv.id))
            detail = self.details.get(link.xero_id) if link else None
            rule = self._held_by_rule(inv)
            if rule and inv.status == INVOICE_FINALISED:
                self._book_held_document(inv, rule)
                continue
            if rule:
                continue
            L.docs[doc] = _DocInfo(inv.label, doc, link.xero_id if link else "", self._doc_verdict(inv, link, detail))
            if inv.status == INVOICE_FINALISED:
                self._book_provet_rows(inv, doc)
            if detail is not None:
                seen_xero.add(detail.state.xero_id)
                self._book_xero_lines(detail, self.rows.get(inv.id, ()), doc)
        # Linked Xero documents whose Provet document could not be read: their Xero side still counts.
        for xid, detail in self.details.items():
            pid = self.doc_by_xero.get(xid)
            if pid is None or xid in seen_xero:
                continue  # made in Xero (never synced), or booked above
            doc = f"invoice:{pid}"
            L.docs[doc] = _DocInfo(
                f"{'Credit note' if detail.is_credit_note else 'Invoice'} {detail.state.number}",
                doc,
                xid,
                _Verdict("unexplained", "its Provet document could not be read", "Check the document in Provet."),
            )
            self._book_xero_lines(detail, (), doc)

    def _book_held_document(self, inv: Invoice, rule: str) -> None:
        doc = f"invoice:{inv.id}"
        if rule == "anonymous":
            key = self.ledger.line("held:anonymous", "held", "Held by rule: anonymous sales (no client)")
            reason = "an anonymous sale (no client): Xero needs a named contact, so it stays in Provet"
        else:
            key = self.ledger.line(
                "held:consolidated",
                "held",
                "Not sent by rule: consolidated invoices (their gathered invoices are counted)",
            )
            reason = "a consolidated invoice: its gathered invoices are sent instead, so it is not counted twice"
        self.ledger.docs[doc] = _DocInfo(inv.label, doc, "", _Verdict("held_by_rule", reason))
        self.ledger.book(inv.invoice_date, key, doc, provet=money(inv.total_with_vat))

    def _provet_sign(self, inv: Invoice) -> Decimal:
        """Provet's rows as revenue: a credit note takes revenue away whatever the sign of its amounts (the
        flag, not the sign, makes it a credit note; translate.py sends it to Xero the same way)."""
        if not inv.credit_note:
            return Decimal(1)
        rows = self.rows.get(inv.id, ())
        negative = inv.total_with_vat < 0 or (inv.total_with_vat == 0 and all(r.quantity <= 0 for r in rows))
        return Decimal(1) if negative else Decimal(-1)

    def _group_of(self, row: InvoiceRow) -> VatGroup | None:
        return vat_group_for_row(row, self.vat_groups).group

    def _sales_lines(self, group_key: str) -> tuple[str, str]:
        """The sales and VAT line keys of a VAT group ("vat:3"), or of a Xero tax rate no group maps to."""
        kind, _, value = group_key.partition(":")
        if kind == "vat" and value.isdigit():
            group = next((g for g in self.vat_groups if g.id == int(value)), None)
            title = group.title if group else f"VAT group {value}"
            tax_type = self.mapping.tax_type(int(value))
            name = f"{title} → {tax_type}" if tax_type else f"{title} (not mapped)"
        elif kind == "vat":
            name = "VAT group cannot be told from the row"
        else:
            name = f"Xero tax rate {value} (no VAT group)"
        sales = self.ledger.line(f"sales:{group_key}", "sales", f"Sales incl. VAT — {name}")
        tax = self.ledger.line(f"tax:{group_key}", "tax", f"VAT — {name}")
        return sales, tax

    def _book_provet_rows(self, inv: Invoice, doc: str) -> None:
        sign = self._provet_sign(inv)
        for row in self.rows.get(inv.id, ()):
            group = self._group_of(row)
            sales, tax = self._sales_lines(f"vat:{group.id}" if group else "vat:?")
            self.ledger.book(inv.invoice_date, sales, doc, provet=sign * row.sum_total)
            self.ledger.book(inv.invoice_date, tax, doc, provet=sign * row.sum_vat)

    def _book_xero_lines(self, detail: XeroDocumentDetail, rows: Sequence[InvoiceRow], doc: str) -> None:
        if detail.state.status in ("VOIDED", "DELETED"):
            return
        sign = Decimal(-1) if detail.is_credit_note else Decimal(1)
        day = detail.state.date
        for line, key in zip(detail.lines, self._attribute(detail.lines, rows), strict=True):
            gross = line.line_amount + line.tax_amount if detail.line_amount_types == "Exclusive" else line.line_amount
            if key == "rounding":
                code = self.mapping.rounding_account or line.account_code
                name = self._account_names().get(code, "")
                rounding = self.ledger.line(
                    "rounding", "rounding", f"Rounding lines — account {code}{f' {name}' if name else ''}"
                )
                self.ledger.book(day, rounding, doc, xero=sign * gross)
                if line.tax_amount:
                    _sales, tax = self._sales_lines(f"xero:{line.tax_type or 'NONE'}")
                    self.ledger.book(day, tax, doc, xero=sign * line.tax_amount)
                continue
            sales, tax = self._sales_lines(key)
            self.ledger.book(day, sales, doc, xero=sign * gross)
            self.ledger.book(day, tax, doc, xero=sign * line.tax_amount)

    def _attribute(self, lines: Sequence[XeroLineState], rows: Sequence[InvoiceRow]) -> list[str]:
        """Which VAT group each Xero line stands for. The sync sends one line per Provet row in row order
        (then a rounding line), so position tells, even where two VAT groups share a Xero tax rate; lines
        changed in Xero fall back to their tax rate."""
        groups = [self._group_of(r) for r in rows]
        n = len(rows)
        if (
            rows
            and len(lines) in (n, n + 1)
            and all(
                g is None or lines[i].tax_type == (self.mapping.tax_type(g.id) or lines[i].tax_type)
                for i, g in enumerate(groups)
            )
            and (len(lines) == n or self._is_rounding(lines[n]))
        ):
            return [f"vat:{g.id}" if g else "vat:?" for g in groups] + (["rounding"] if len(lines) > n else [])
        out = []
        own = [g for g in groups if g is not None]
        for line in lines:
            if self._is_rounding(line):
                out.append("rounding")
                continue
            match = next((g for g in own if self.mapping.tax_type(g.id) == line.tax_type), None)
            if match is None:
                match = next(
                    (
                        g
                        for g in sorted(self.vat_groups, key=lambda g: (g.archived, g.id))
                        if self.mapping.tax_type(g.id) == line.tax_type
                    ),
                    None,
                )
            out.append(f"vat:{match.id}" if match else f"xero:{line.tax_type or 'NONE'}")
        return out

    def _is_rounding(self, line: XeroLineState) -> bool:
        return line.description == "Rounding" and (
            not self.mapping.rounding_account or line.account_code == self.mapping.rounding_account
        )

    def _doc_verdict(self, inv: Invoice, link: Link | None, detail: XeroDocumentDetail | None) -> _Verdict:
        kind = "credit_note" if inv.credit_note else "invoice"
        item = self.attention.get((kind, str(inv.id)))
        if inv.status == INVOICE_VOIDED:
            if link is None or detail is None or detail.state.status in ("VOIDED", "DELETED"):
                return _Verdict("unexplained", "voided in Provet")  # nothing booked: never shown
            if item is not None:
                return _held(item)
            return _Verdict("not_sent", "it was voided in Provet; the next sync voids it in Xero")
        if link is None:
            if item is not None and not item.by_rule:
                return _held(item)
            start = self.mapping.start_date
            if start and inv.invoice_date and inv.invoice_date < start:
                return _Verdict(
                    "skipped",
                    f"it is dated before the sync start date ({start.isoformat()})",
                    "Move the start date in the mapping if it should go to Xero.",
                )
            return _Verdict("not_sent", "it is not in Xero yet; the next sync sends it")
        if detail is None:
            return _Verdict(
                "changed_in_xero",
                "it cannot be found in Xero any more (deleted there?)",
                "Ask the accountant; the document is still in Provet.",
            )
        state = detail.state
        if state.status in ("VOIDED", "DELETED"):
            return _Verdict(
                "changed_in_xero",
                f"it was {state.status.lower()} in Xero after the sync",
                "Ask the accountant why; Provet still has it as finalised.",
            )
        if state.date != inv.invoice_date:
            return _Verdict(
                "changed_in_xero",
                f"it is dated {state.date.isoformat() if state.date else 'nothing'} in Xero but "
                f"{inv.invoice_date.isoformat() if inv.invoice_date else 'nothing'} in Provet",
                "Correct the date in Xero (or ask the accountant).",
            )
        sent = self.sent.get(str(inv.id))
        if sent is not None:
            change = _changed_since_sent(detail, sent)
            if change:
                return _Verdict("changed_in_xero", change, "Correct it in Xero, or ask the accountant.")
            if money(abs(sent.total)) != money(abs(inv.total_with_vat)):  # a credit note goes with a plus sign
                return _Verdict(
                    "unexplained",
                    f"Provet's total is now {money(inv.total_with_vat)}, but {money(sent.total)} was sent",
                    "Compare the document in Provet and in Xero.",
                )
        return _Verdict(
            "rounding",
            "Xero rounds each line to the cent; the document's total agrees",
            limit=rounding_tolerance(self.rows.get(inv.id, ())),
        )

    # --- payments --------------------------------------------------------------------------------------------
    def _payment_line(self, key: str) -> str:
        kind, _, value = key.partition(":")
        account = None
        if kind == "type" and value.isdigit():
            name = PAYMENT_TYPE_NAMES.get(int(value), f"payment type {value}")
            account = self.mapping.account_for(int(value), None)
        elif kind == "method" and value.isdigit():
            method = self.methods.get(int(value))
            name = method.name if method else f"payment method {value}"
            account = self.mapping.account_for(method.payment_type if method else None, int(value))
        else:
            name = 'Payments made in Xero (no "Xero payments" method chosen)'
        if key == f"method:{self.mapping.xero_payments_method}":
            where = "Xero's own accounts"
        elif account:
            acc_name = self._account_names().get(account, "")
            where = f"account {account}{f' {acc_name}' if acc_name else ''}"
        else:
            where = "no account mapped"
        return self.ledger.line(f"payments:{key}", "payments", f"Payments — {name} → {where}")

    def _book_payments(self) -> None:
        self._progress("comparing payments")
        L = self.ledger
        matched: set[str] = set()
        for p in sorted(self.payments.values(), key=lambda x: x.id):
            if p.payment_type in BOOKKEEPING_TYPES or p.paid == 0:
                continue
            inv = self.invoices.get(p.invoice_id)
            doc = f"payment:{p.id}"
            label = f"Payment #{p.id} ({money(p.paid)}) on {inv.label if inv else f'Provet invoice {p.invoice_id}'}"
            if inv is not None and inv.client_id is None:
                if p.status == PAYMENT_REGISTERED:
                    key = L.line("held:anonymous_payments", "held", "Held by rule: payments on anonymous sales")
                    L.docs[doc] = _DocInfo(
                        label, doc, "", _Verdict("held_by_rule", "paid on an anonymous sale, which stays in Provet")
                    )
                    L.book(p.payment_date, key, doc, provet=money(p.paid))
                continue
            refund = inv is not None and inv.credit_note
            amount = -abs(p.paid) if refund else p.paid
            line = self._payment_line(payment_key(p))
            xids = self.xero_of_payment.get(p.id, [])
            found = [self.xero_payments[x] for x in xids if x in self.xero_payments]
            matched.update(xids)
            L.docs[doc] = _DocInfo(label, doc, ",".join(xids), self._payment_verdict(p, inv, found, len(xids)))
            if p.status == PAYMENT_REGISTERED:
                L.book(p.payment_date, line, doc, provet=money(amount))
            for x in found:
                if x.status == "AUTHORISED":
                    L.book(x.date, line, doc, xero=_xero_amount(x))
        self._book_xero_only(matched)

    def _book_xero_only(self, matched: set[str]) -> None:
        """Payments made in Xero on synced invoices that Provet does not have (yet)."""
        L = self.ledger
        method = self.mapping.xero_payments_method
        for x in sorted(self.xero_payments.values(), key=lambda p: (p.date or date.min, p.xero_id)):
            if x.xero_id in matched or x.xero_id in self.payment_of_xero or x.status != "AUTHORISED":
                continue
            pid = self.doc_by_xero.get(x.invoice_id)
            if pid is None:
                continue  # on a document made in Xero: not part of what syncs
            inv = self.invoices.get(int(pid))
            doc = f"xero_payment:{x.xero_id}"
            number = f"{inv.kind} {inv.document_number}" if inv else (x.invoice_number or "a synced invoice")
            L.docs[doc] = _DocInfo(
                f"Xero payment of {money(x.amount)} on {number}",
                f"invoice:{pid}",
                x.xero_id,
                _Verdict(
                    "xero_only",
                    f"made in Xero on {x.date.isoformat() if x.date else '?'} to account "
                    f"{x.account_code or '?'}{f' ({x.reference})' if x.reference else ''}; Provet does not have "
                    "it yet",
                    'The next sync copies it to Provet with the "Xero payments" method.'
                    if method
                    else 'Choose the clinic\'s "Xero payments" method in the mapping, then sync.',
                ),
            )
            line = self._payment_line(f"method:{method}" if method else "xero")
            L.book(x.date, line, doc, xero=_xero_amount(x))

    def _payment_verdict(self, p: Payment, inv: Invoice | None, found: list[XeroPaymentState], linked: int) -> _Verdict:
        item = self.attention.get(("payment", str(p.id)))
        from_xero = str(p.id) in self.from_xero_links or p.info.startswith(FROM_XERO_PREFIX)
        live = [x for x in found if x.status == "AUTHORISED"]
        if p.status != PAYMENT_REGISTERED:
            if not live:
                return _Verdict("unexplained", "cancelled in Provet")  # nothing booked: never shown
            if item is not None:
                return _held(item)
            return _Verdict("not_sent", "it was cancelled in Provet; the next sync deletes it in Xero")
        if any(x.status == "DELETED" for x in found):
            fix = (
                "The next sync cancels it in Provet."
                if from_xero
                else "Ask the accountant; enter the payment in Xero again if it was deleted by mistake."
            )
            return _Verdict("changed_in_xero", "it was deleted in Xero after the sync", fix)
        if linked == 0:
            if item is not None:
                return _held(item)
            if inv is not None:
                inv_item = self.attention.get(("credit_note" if inv.credit_note else "invoice", str(inv.id)))
                if inv_item is not None and not inv_item.by_rule:
                    return _Verdict("held", f"its {inv.kind} waits: {inv_item.reason}", inv_item.fix)
                start = self.mapping.start_date
                if start and inv.invoice_date and inv.invoice_date < start:
                    return _Verdict(
                        "skipped", f"its {inv.kind} is dated before the sync start date ({start.isoformat()})"
                    )
                if inv.consolidated_invoice and self.mapping.consolidated == "gathered":
                    return _Verdict(
                        "not_sent", "it waits until every invoice its consolidated invoice gathers is in Xero"
                    )
            if from_xero:
                return _Verdict("unexplained", "it came from Xero, but its Xero payment is not linked")
            return _Verdict("not_sent", "it is not in Xero yet; the next sync sends it")
        if len(found) < linked:
            return _Verdict(
                "changed_in_xero", "its Xero payment cannot be found any more (deleted there?)", "Ask the accountant."
            )
        if any(x.date != p.payment_date for x in live):
            return _Verdict("changed_in_xero", f"it is dated {live[0].date} in Xero but {p.payment_date} in Provet")
        if item is not None:  # e.g. part of a payment on a consolidated invoice did not fit
            return _held(item)
        return _Verdict("unexplained", "Xero holds a different amount for it")

    # --- prepayments -----------------------------------------------------------------------------------------
    def _book_prepayments(self) -> None:
        L = self.ledger
        for pre in self.prepayments:
            if pre.paid <= 0 or pre.created is None:
                continue
            doc = f"prepayment:{pre.id}"
            key = L.line("held:prepayments", "held", "Held by rule: prepayments not used on an invoice yet")
            method = PAYMENT_TYPE_NAMES.get(pre.payment_type, str(pre.payment_type))
            L.docs[doc] = _DocInfo(
                f"Prepayment #{pre.id} ({method}) of client {pre.client_id}",
                doc,
                "",
                _Verdict(
                    "held_by_rule",
                    f"{money(pre.paid)} of it is not used on an invoice yet; it reaches Xero "
                    "as a payment on the invoice it is used on",
                ),
            )
            L.book(pre.created.astimezone().date(), key, doc, provet=money(pre.paid))  # the clinic's own day


def _held(item: AttentionItem) -> _Verdict:
    return _Verdict("held", f"{cause_title(item.cause)}: {item.reason}", item.fix)


def _xero_amount(x: XeroPaymentState) -> Decimal:
    """A refund on a credit note pays money out: it counts against the method's takings."""
    return -money(x.amount) if x.payment_type == "ARCREDITPAYMENT" else money(x.amount)


def _in(day: date | None, start: date, end: date) -> bool:
    return day is not None and start <= day <= end


def parse_day(text: str) -> date:
    """A date as a person writes it on the command line (YYYY-MM-DD); ValueError with plain words."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise TieOutRangeError(f"'{text}' is not a date; write it as YYYY-MM-DD, e.g. 2026-09-01") from None
