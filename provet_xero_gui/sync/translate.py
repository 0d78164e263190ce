"""Pure translation of a finalised Provet invoice or credit note into a Xero document.

No I/O: everything needed is passed in, so the rules are tested directly (and by property tests).
Xero computes each line itself (line amount rounded to 2 dp, then tax per line rounded to 2 dp); this
module computes the same. Each line carries Provet's own VAT for its row as `TaxAmount` when Xero accepts it
(within `TAX_AMOUNT_TOLERANCE` of Xero's figure), so the VAT per tax rate in Xero equals Provet's to the cent;
where Xero's total would still differ from Provet's `total_with_vat` it adds a rounding line to the mapped
rounding account, so Xero's total always equals Provet's to the cent. Credit notes carry no DiscountRate
(Xero's schema: credit notes do not support discounts): a credit note's discount goes into the unit price,
as a surcharge does, and the rounding line keeps the cents. When the
invoice's department is mapped to a tracking option, every line (the rounding line too) carries it, so
Xero's tracking reports add up to the department's whole takings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from provet_xero_gui.mapping import Mapping, tracking_trouble, vat_group_for_row
from provet_xero_gui.provet.records import Invoice, InvoiceRow, VatGroup
from provet_xero_gui.xero.client import fit
from provet_xero_gui.xero.reference import XeroReference

CENT = Decimal("0.01")
UNIT_DP = Decimal("0.0001")
HUNDRED = Decimal(100)
NO_TAX = "NONE"
MAX_DESCRIPTION = 4000
VAT_FROM_GROSS = 1
# How far a line's TaxAmount may be from Xero's own figure for Xero to take it. Xero does not document it;
# the project's rule (docs/sandbox-differences.md) is one cent, which the sandbox enforces.
TAX_AMOUNT_TOLERANCE = CENT


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Hold:
    """Why a document is not sent now, in plain words, and what fixes it. `cause` groups the list."""

    cause: str
    reason: str
    fix: str


@dataclass(frozen=True)
class XeroLine:
    description: str
    quantity: Decimal
    unit_amount: Decimal
    account_code: str
    tax_type: str
    discount_rate: Decimal | None = None
    tracking: tuple[tuple[str, str], ...] = ()  # (category, option) as Xero spells them
    tax_amount: Decimal | None = None  # sent as TaxAmount (Provet's VAT for the row); None: Xero's own figure

    def amounts(self, tax_rate: Decimal, line_amount_types: str) -> tuple[Decimal, Decimal]:
        """(LineAmount, TaxAmount) as Xero computes them (the given TaxAmount where there is one)."""
        line_amount, tax = self.xero_amounts(tax_rate, line_amount_types)
        return line_amount, tax if self.tax_amount is None else self.tax_amount

    def xero_amounts(self, tax_rate: Decimal, line_amount_types: str) -> tuple[Decimal, Decimal]:
        """(LineAmount, TaxAmount) as Xero works them out by itself."""
        gross = self.quantity * self.unit_amount
        if self.discount_rate:
            gross = gross * (HUNDRED - self.discount_rate) / HUNDRED
        line_amount = money(gross)
        if tax_rate == 0 or line_amount_types == "NoTax":
            return line_amount, Decimal("0.00")
        if line_amount_types == "Inclusive":
            return line_amount, money(line_amount * tax_rate / (HUNDRED + tax_rate))
        return line_amount, money(line_amount * tax_rate / HUNDRED)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "Description": self.description,
            "Quantity": float(self.quantity),
            "UnitAmount": float(self.unit_amount),
            "AccountCode": self.account_code,
            "TaxType": self.tax_type,
        }
        if self.discount_rate:
            out["DiscountRate"] = float(self.discount_rate)
        if self.tax_amount is not None:
            out["TaxAmount"] = float(self.tax_amount)
        if self.tracking:
            out["Tracking"] = [{"Name": category, "Option": option} for category, option in self.tracking]
        return out


@dataclass(frozen=True)
class XeroDocument:
    """An ACCREC invoice or an ACCRECCREDIT credit note, ready to send."""

    provet_id: int
    is_credit_note: bool
    number: str
    contact_id: str
    date: date
    due_date: date
    reference: str
    url: str
    line_amount_types: str
    lines: tuple[XeroLine, ...]
    status: str
    total: Decimal  # what Xero's Total will be: equal to Provet's total (sign-corrected)
    total_tax: Decimal

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "Type": "ACCRECCREDIT" if self.is_credit_note else "ACCREC",
            "Contact": {"ContactID": self.contact_id},
            "Date": self.date.isoformat(),
            "Reference": self.reference,
            "LineAmountTypes": self.line_amount_types,
            "LineItems": [line.to_json() for line in self.lines],
            "Status": self.status,
        }
        if self.is_credit_note:
            body["CreditNoteNumber"] = self.number
        else:
            body["InvoiceNumber"] = self.number
            body["DueDate"] = self.due_date.isoformat()
            if self.url:
                body["Url"] = self.url
        return body


def provet_reference(invoice_id: int) -> str:
    """The Reference that ties a Xero document back to its Provet invoice (also used to look it up)."""
    return f"Provet #{invoice_id}"


def translate(
    invoice: Invoice,
    rows: Sequence[InvoiceRow],
    contact_id: str,
    mapping: Mapping,
    vat_groups: Iterable[VatGroup],
    xero: XeroReference,
    url: str = "",
) -> XeroDocument | Hold:
    """The Xero document for a finalised Provet invoice or credit note, or why it must wait."""
    org = xero.organisation
    if invoice.currency and invoice.currency != org.base_currency:
        return Hold(
            "currency",
            f"it is in {invoice.currency}, but the Xero organisation works in {org.base_currency}",
            "Enter it in Xero by hand, or correct the currency in Provet, then Retry.",
        )
    if not invoice.document_number:
        # Xero would number it itself (INV-0001...): nobody could find it under Provet's number, and the
        # look-up that keeps a resend from making a duplicate would not find it either.
        return Hold("no_number", "it is finalised but has no invoice number",
                    "Check the invoice in Provet, then Retry.")
    if invoice.invoice_date is None:
        return Hold("no_date", "it has no invoice date", "Check the invoice in Provet, then Retry.")
    lock = org.lock_date
    if lock and invoice.invoice_date <= lock:
        return Hold(
            "lock_date",
            f"it is dated {invoice.invoice_date.isoformat()}, on or before Xero's lock date {lock.isoformat()}",
            "Ask the accountant to move the lock date in Xero (or enter it by hand), then Retry.",
        )
    if not rows:
        if money(invoice.total_with_vat) == 0:
            return Hold("empty", "it has no rows and a total of 0.00: there is nothing to book",
                        "Nothing to do: an empty document stays in Provet.")
        return Hold("no_rows", f"it has no rows but a total of {money(invoice.total_with_vat)}",
                    "Check the invoice's rows in Provet, then Retry.")
    if money(sum((r.sum_total for r in rows), Decimal(0))) != money(invoice.total_with_vat):
        return Hold(
            "rows_do_not_add_up",
            f"its rows add up to {money(sum((r.sum_total for r in rows), Decimal(0)))}, "
            f"not to its total {money(invoice.total_with_vat)}",
            "Check the invoice in Provet, then Retry.",
        )
    # Credit notes go to Xero with positive amounts; the Provet flag, not the sign, makes it a credit note.
    negative = invoice.total_with_vat < 0 or (invoice.total_with_vat == 0 and all(r.quantity <= 0 for r in rows))
    sign = Decimal(-1) if invoice.credit_note and negative else Decimal(1)
    if not invoice.credit_note and invoice.total_with_vat < 0:
        return Hold(
            "negative_invoice",
            f"its total is negative ({money(invoice.total_with_vat)}), which Xero does not allow on an invoice",
            "Issue it as a credit note in Provet.",
        )
    tracking = _tracking(invoice, mapping, xero)
    if isinstance(tracking, Hold):
        return tracking
    gross = invoice.vat_calculation_method == VAT_FROM_GROSS
    lat = "Inclusive" if gross else "Exclusive"
    codes = [a.code for a in xero.accounts if a.active]

    lines: list[XeroLine] = []
    total = tax_total = Decimal("0.00")
    groups = list(vat_groups)
    for row in rows:
        found = vat_group_for_row(row, groups)
        if found.group is None:
            return _vat_group_unknown(row, groups, found.problem)
        tax_type = mapping.tax_type(found.group.id)
        if tax_type is None:
            return Hold(
                "vat_group_unmapped",
                f"VAT group '{found.group.title}' is not mapped",
                f"Map VAT group '{found.group.title}' to a Xero tax rate, then Retry.",
            )
        rate = xero.tax_rate(tax_type)
        if rate is None or not rate.active:
            return Hold(
                "tax_rate_unusable",
                f"VAT group '{found.group.title}' is mapped to tax rate {tax_type}, which Xero cannot use now",
                f"Map VAT group '{found.group.title}' to an active Xero tax rate, then Retry.",
            )
        account = mapping.sales_account(row.account_number, codes)
        if account is None:
            return Hold(
                "sales_account_unmapped",
                f"row '{row.name}' has sales account {row.account_number or '(none)'}, which is not mapped",
                "Map the sales account, or choose a default sales account, then Retry.",
            )
        line = _line(row, sign, gross, account, tax_type, tracking, credit_note=invoice.credit_note)
        _amount, xero_tax = line.xero_amounts(rate.rate, lat)
        provet_tax = money(row.sum_vat * sign)
        if abs(provet_tax - xero_tax) <= TAX_AMOUNT_TOLERANCE and (provet_tax == 0 or rate.rate != 0):
            line = replace(line, tax_amount=provet_tax)
        amount, tax = line.amounts(rate.rate, lat)
        lines.append(line)
        total += amount if gross else amount + tax
        tax_total += tax

    target = money(invoice.total_with_vat * sign)
    difference = target - total
    if abs(difference) > rounding_tolerance(rows):
        # More than rounding can explain: sending it with a large "rounding" line would hide an error.
        return Hold(
            "amounts_differ",
            f"its rows give {total} in Xero but {target} in Provet, more than rounding can explain",
            "Check the rows' prices and VAT in Provet, then Retry.",
        )
    if difference:
        if not mapping.rounding_account:
            return Hold(
                "rounding_account_missing",
                f"Xero would total it {total}, not {target}, and no rounding account is chosen",
                "Choose a rounding account in the mapping, then Retry.",
            )
        lines.append(XeroLine("Rounding", Decimal(1), difference, mapping.rounding_account, NO_TAX,
                              tracking=tracking))
        total += difference

    return XeroDocument(
        provet_id=invoice.id,
        is_credit_note=invoice.credit_note,
        number=invoice.document_number,
        contact_id=contact_id,
        date=invoice.invoice_date,
        due_date=max(invoice.invoice_due_date or invoice.invoice_date, invoice.invoice_date),
        reference=provet_reference(invoice.id),
        url=url if url.startswith(("https://", "http://")) else "",
        line_amount_types=lat,
        lines=tuple(lines),
        status=mapping.invoice_status,
        total=total,
        total_tax=tax_total,
    )


def _tracking(invoice: Invoice, mapping: Mapping, xero: XeroReference) -> tuple[tuple[str, str], ...] | Hold:
    """The invoice's department's tracking option in Xero's own spelling; none when it is not mapped
    (tracking is optional); a Hold when Xero would refuse the option (archived or gone since mapping)."""
    choice = mapping.tracking(invoice.department_id)
    if choice is None:
        return ()
    trouble = tracking_trouble(xero, choice)
    if trouble:
        return Hold(
            "tracking_option_unusable",
            f"its department (Provet id {invoice.department_id}) is mapped to {trouble}, so Xero would refuse "
            "its lines",
            "Map the department to an active tracking option (or make the option active again in Xero, or remove "
            "the department's mapping to send it without tracking), then Retry.",
        )
    category = xero.tracking_category(choice.category)
    option = category.option(choice.option) if category else None
    assert category is not None and option is not None
    return ((category.name, option.name),)


def _vat_group_unknown(row: InvoiceRow, groups: Sequence[VatGroup], problem: str | None) -> Hold:
    """Why a row's VAT group cannot be told, with the fix that fits: no group has its rate, the only ones
    that have it are archived (archived after the mapping was made), or several have it."""
    pct = f"{row.vat_percentage.normalize():f}%"
    same_rate = [g for g in groups if g.percentage == row.vat_percentage]
    if same_rate and all(g.archived for g in same_rate):
        names = ", ".join(f"'{g.title}'" for g in same_rate)
        return Hold(
            "vat_group_unknown",
            f"row '{row.name}' has VAT {pct}, and the VAT group with that rate ({names}) is archived in Provet",
            f"Make VAT group {names} active again in Provet, or add an active VAT group of {pct} and map it, "
            "then Retry.",
        )
    if not same_rate:
        return Hold(
            "vat_group_unknown",
            problem or f"row '{row.name}' has VAT {pct}, which no VAT group has",
            f"Correct the row's VAT in Provet, or add a VAT group of {pct} there and map it, then Retry.",
        )
    return Hold(
        "vat_group_unknown",
        problem or f"row '{row.name}' has VAT {pct}, which several VAT groups have",
        "Correct the row's VAT in Provet, or make its VAT group unique, then Retry.",
    )


def rounding_tolerance(rows: Sequence[InvoiceRow]) -> Decimal:
    """The most that Xero's arithmetic can honestly differ from Provet's for these rows: per row a cent for
    the line amount, a cent for its tax, and the 4-dp unit price's own rounding times the quantity."""
    return sum(
        (CENT * 2 + abs(r.quantity) * UNIT_DP * (1 + r.vat_percentage / HUNDRED) for r in rows), CENT
    )


def _line(
    row: InvoiceRow, sign: Decimal, gross: bool, account: str, tax_type: str,
    tracking: tuple[tuple[str, str], ...] = (), *, credit_note: bool = False,
) -> XeroLine:
    """One Xero line for a Provet row: a discount becomes DiscountRate (on a credit note, which Xero gives no
    discounts, it goes into the price), a surcharge goes into the price."""
    price = row.price_with_vat if gross else row.price
    quantity = row.quantity * sign
    discount: Decimal | None = None
    if row.percentage_change < 0:
        discount = -row.percentage_change
        if discount > HUNDRED:
            discount = HUNDRED
        if credit_note:
            price = price * (HUNDRED - discount) / HUNDRED
            discount = None
    elif row.percentage_change > 0:
        price = price * (HUNDRED + row.percentage_change) / HUNDRED
    unit = price.quantize(UNIT_DP, rounding=ROUND_HALF_UP)
    description = fit(row.name or "(no description)", MAX_DESCRIPTION)
    if quantity == 0:
        # Xero refuses a zero quantity; the row is worth nothing either way, so send 1 × 0.
        quantity, unit = Decimal(1), Decimal(0)
    return XeroLine(description, quantity, unit, account, tax_type, discount, tracking)
