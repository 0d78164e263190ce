"""A deterministic veterinary clinic: what its Provet Cloud holds, and the Xero organisations it
connects to. The sandbox servers, the demo and the tests all start from `generate_clinic()`.

Same `seed` and `size` give identical data (the base date is fixed, not today). `size` is roughly the
number of finalised invoices; clients, prepayments, credit notes and consolidations scale with it. A
fixed "showcase" set, present at every size >= 12, holds every case the sync has to handle.

Decisions where `provet-api.md` is silent (the Provet sandbox and the tests follow them too):
- Money is `Decimal`, rounded ROUND_HALF_UP to 2 dp; unit prices carry up to 4 dp, quantities 2 dp.
- `vat_calculation_method` 0 (VAT_FROM_NET): `price` (excl. VAT) is the master; per row
  `sum = round(quantity * price * (1 + percentage_change/100))`, `sum_vat = round(sum * vat/100)`,
  `sum_total = sum + sum_vat`. Method 1 (VAT_FROM_GROSS, shelf prices): `price_with_vat` is the master;
  `sum_total = round(quantity * price_with_vat * (1 + pc/100))`, `sum_vat = round(sum_total * vat/(100+vat))`,
  `sum = sum_total - sum_vat`. The other price is derived to 4 dp. Invoice `total`, `total_vat`,
  `total_with_vat` are the sums of the rows' `sum`, `sum_vat`, `sum_total`; `due_sum = total_with_vat -`
  the registered (status 3) payments. Because VAT is rounded per row, a VAT computed on the invoice total
  can differ by cents (the rounding showcases make sure it does).
- `percentage_change` is negative for a discount and positive for a surcharge.
- Payments: `status` 3 registered, 99 cancelled (`cancel_payment`). A payment with a built-in type has
  `payment_method` null; a custom method's payment names that method (its `payment_type` matches).
  `/paymentmethod/` lists one built-in entry per payment type (ids 1-14) plus the clinic's own methods.
- Credit notes: rows copy the credited rows (`credited_invoicerow`) with the quantity negated, so the
  amounts are negative (one showcase credit note keeps positive amounts: the flag, not the sign, counts).
  Settlement as Provet books it: when the original still has an amount due, the original gets a payment of
  type 12 (credit invoice) for `min(due, |credit|)` and the credit note a type-12 payment of the same size
  with the credit note's sign; whatever is left is refunded by a cash/transfer payment on the credit note.
  Type-12 payments are bookkeeping, not money.
- Consolidated invoices gather finalised invoices of one client that have no payment yet. The
  consolidated invoice copies their rows (so its totals are their sum), each gathered invoice gets
  `related_consolidated_invoice` and a type-6 payment of its whole due amount dated on the consolidation
  (so its `due_sum` becomes 0), and the client's real payments are registered on the consolidated
  invoice. Type-6 payments are bookkeeping, not money.
- Prepayments (`unallocatedpayment`): using one adds a type-8 payment to the invoice (`info` names the
  prepayment) and lowers the prepayment's `paid` to what is left (0.00 when all used; the record stays).
- `invoice_number` is a string, numbered in order of finalisation across the whole clinic.
- Phone numbers (`/phonenumber/`, field names are a project rule): `id, url, client, phone_number,
  description`.
"""

from __future__ import annotations

import logging
import random
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property

from provet_xero_gui.sandbox.seed import (
    AccountSeed,
    ContactSeed,
    TaxRateSeed,
    TrackingCategorySeed,
    XeroOrgSeed,
    XeroSeed,
)

log = logging.getLogger(__name__)

CENT = Decimal("0.01")
PRICE_DP = Decimal("0.0001")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)

DEFAULT_START = date(2026, 10, 1)
CLINIC_TENANT_ID = "3f2d6f9e-8c1a-4b7e-9d5a-2a6c1e0b7f41"
GROUP_TENANT_ID = "a7e4b2c9-1d3f-4e8a-b6c0-5f9d8e2a1c37"

VAT_FROM_NET = 0
VAT_FROM_GROSS = 1

INVOICE_DRAFT, INVOICE_SENT, INVOICE_OPEN, INVOICE_FINALISED, INVOICE_INVOICING = 0, 1, 2, 3, 4
INVOICE_VOIDED = 99
PAYMENT_REGISTERED, PAYMENT_CANCELLED = 3, 99

PT_CARD, PT_CASH, PT_TRANSFER, PT_ROUNDING, PT_CHEQUE, PT_VOUCHER = 0, 1, 2, 3, 4, 5
PT_CONSOLIDATED, PT_MOBILE, PT_PREPAYMENT, PT_GIFT_CARD, PT_FINANCE, PT_OTHER = 6, 7, 8, 9, 10, 11
PT_CREDIT_INVOICE, PT_INSURANCE = 12, 15
# fmt: off
PAYMENT_TYPES: dict[int, str] = {
    0: "Card", 1: "Cash", 2: "Bank transfer", 3: "Rounding", 4: "Cheque", 5: "Voucher",
    6: "Consolidated invoice", 7: "Mobile payment", 8: "Prepayment", 9: "Gift card", 10: "Finance",
    11: "Other", 12: "Credit invoice", 15: "Insurance claim",
}
# fmt: on
CUSTOMER_TYPES = (0, 1, 2, 3, 4)


def q2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def q4(value: Decimal) -> Decimal:
    return value.quantize(PRICE_DP, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class VatGroup:
    id: int
    title: str
    percentage: Decimal
    account_number: str | None
    archived: bool = False


@dataclass(frozen=True, slots=True)
class PaymentMethod:
    id: int
    name: str
    payment_type: int
    archived: bool = False


@dataclass(frozen=True, slots=True)
class Department:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    id: int
    client_id: int
    phone_number: str
    description: str = "Mobile"


@dataclass(frozen=True, slots=True)
class Client:
    id: int
    firstname: str
    lastname: str
    organization_name: str
    customer_type: int
    vat_number: str
    register_number: str
    street_address: str
    street_address_2: str
    zip_code: str
    city: str
    country: str
    email: str
    archived: bool
    modified: datetime
    phone_numbers: tuple[PhoneNumber, ...] = ()

    @property
    def display_name(self) -> str:
        return display_name(self.customer_type, self.organization_name, self.firstname, self.lastname)


def display_name(customer_type: int, organization_name: str, firstname: str, lastname: str) -> str:
    """Provet's rule: the organisation name for a non-private client that has one, else the person."""
    if customer_type != 0 and organization_name:
        return organization_name
    return f"{firstname} {lastname}".strip()


@dataclass(frozen=True, slots=True)
class InvoiceRow:
    id: int
    invoice_id: int
    item: int | None
    name: str
    invoice_group: str
    quantity: Decimal
    price: Decimal
    price_with_vat: Decimal
    sum: Decimal
    sum_vat: Decimal
    sum_total: Decimal
    percentage_change: Decimal
    vat_percentage: Decimal
    account_number: str | None
    reporting_dimension_1: str = ""
    reporting_dimension_2: str = ""
    credited_invoicerow_id: int | None = None


@dataclass(frozen=True, slots=True)
class InvoicePayment:
    id: int
    invoice_id: int
    payment_type: int
    payment_method_id: int | None
    paid: Decimal
    payment_date: date
    status: int
    info: str
    created: datetime
    modified: datetime


@dataclass(frozen=True, slots=True)
class Invoice:
    id: int
    invoice_number: str | None
    invoice_prefix: str | None
    status: int
    invoice_date: date
    invoice_due_date: date
    date_paid: date | None
    created: datetime
    modified: datetime
    client_id: int | None
    department_id: int | None
    payer_name: str
    payer_organization_name: str
    payer_vat_number: str
    payer_street_address: str
    payer_zip_code: str
    payer_city: str
    payer_country: str
    total: Decimal
    total_vat: Decimal
    total_with_vat: Decimal
    due_sum: Decimal
    countersale: bool
    credit_note: bool
    credit_note_original_invoice_id: int | None
    consolidated_invoice: bool
    consolidated_invoice_ids: tuple[int, ...]
    related_consolidated_invoice_id: int | None
    vat_calculation_method: int
    remarks: str
    rows: tuple[InvoiceRow, ...] = ()
    payments: tuple[InvoicePayment, ...] = ()

    @property
    def document_number(self) -> str | None:
        if self.invoice_number is None:
            return None
        return f"{self.invoice_prefix}-{self.invoice_number}" if self.invoice_prefix else self.invoice_number


@dataclass(frozen=True, slots=True)
class UnallocatedPayment:
    id: int
    client_id: int
    paid: Decimal
    payment_type: int
    created: datetime
    modified: datetime


@dataclass(frozen=True)
class ProvetData:
    """Everything one Provet instance holds, as immutable records (ids are Provet's)."""

    vat_groups: tuple[VatGroup, ...]
    payment_methods: tuple[PaymentMethod, ...]
    departments: tuple[Department, ...]
    clients: tuple[Client, ...]
    invoices: tuple[Invoice, ...]
    unallocated_payments: tuple[UnallocatedPayment, ...]

    @cached_property
    def _invoice_index(self) -> dict[int, Invoice]:
        return {inv.id: inv for inv in self.invoices}

    @cached_property
    def _client_index(self) -> dict[int, Client]:
        return {c.id: c for c in self.clients}

    def invoice(self, invoice_id: int) -> Invoice:
        return self._invoice_index[invoice_id]

    def client(self, client_id: int) -> Client:
        return self._client_index[client_id]

    @property
    def rows(self) -> tuple[InvoiceRow, ...]:
        return tuple(r for inv in self.invoices for r in inv.rows)

    @property
    def payments(self) -> tuple[InvoicePayment, ...]:
        return tuple(sorted((p for inv in self.invoices for p in inv.payments), key=lambda p: p.id))

    @property
    def phone_numbers(self) -> tuple[PhoneNumber, ...]:
        return tuple(p for c in self.clients for p in c.phone_numbers)


@dataclass(frozen=True)
class Clinic:
    """The generated clinic: Provet's data, Xero's starting state, and the moment it was taken at."""

    provet: ProvetData
    xero: XeroSeed
    now: datetime  # every generated stamp is before this; start a SandboxClock here
    seed: int
    size: int


# ---------------------------------------------------------------------------------------- row amounts


@dataclass(frozen=True, slots=True)
class RowAmounts:
    price: Decimal
    price_with_vat: Decimal
    sum: Decimal
    sum_vat: Decimal
    sum_total: Decimal


def compute_row(
    quantity: Decimal,
    unit_price: Decimal,
    vat_percentage: Decimal,
    percentage_change: Decimal = ZERO,
    method: int = VAT_FROM_NET,
) -> RowAmounts:
    """A row's amounts as Provet computes them; `unit_price` is net for method 0, gross for method 1."""
    factor = 1 + percentage_change / HUNDRED
    if method == VAT_FROM_GROSS:
        gross = q4(unit_price)
        total = q2(quantity * gross * factor)
        vat = q2(total * vat_percentage / (HUNDRED + vat_percentage))
        net_price = q4(gross * HUNDRED / (HUNDRED + vat_percentage))
        return RowAmounts(net_price, gross, total - vat, vat, total)
    net = q4(unit_price)
    amount = q2(quantity * net * factor)
    vat = q2(amount * vat_percentage / HUNDRED)
    return RowAmounts(net, q4(net * (1 + vat_percentage / HUNDRED)), amount, vat, amount + vat)


@dataclass(frozen=True, slots=True)
class RowSpec:
    """A row to put on a new invoice (generator and sandbox hooks). `unit_price` is excl. VAT when the
    invoice computes VAT from net (method 0), incl. VAT when from gross (method 1)."""

    name: str
    quantity: Decimal
    unit_price: Decimal
    vat_percentage: Decimal
    account_number: str | None = None
    percentage_change: Decimal = ZERO
    item: int | None = None
    invoice_group: str = ""
    credited_invoicerow_id: int | None = None


# -------------------------------------------------------------------------------- fixed reference data

DEPARTMENTS = (
    Department(1, "Happy Paws Main Street"),
    Department(2, "Happy Paws Riverside"),
    Department(3, "Mobile & Equine"),
)
DEPARTMENT_PREFIX: dict[int, str | None] = {1: None, 2: "RS", 3: "EQ"}

VAT_GROUPS = (
    VatGroup(1, "Standard 20%", Decimal("20.00"), "200"),
    VatGroup(2, "Standard 20% – products", Decimal("20.00"), "201"),
    VatGroup(3, "Reduced 5%", Decimal("5.00"), "201"),
    VatGroup(4, "Zero-rated", Decimal("0.00"), "201"),
    VatGroup(5, "Exempt", Decimal("0.00"), "260"),
    VatGroup(6, "Standard 20% (old series)", Decimal("20.00"), "200", archived=True),
)


def _payment_methods() -> tuple[PaymentMethod, ...]:
    builtin = [PaymentMethod(i + 1, name, t) for i, (t, name) in enumerate(PAYMENT_TYPES.items())]
    n = len(builtin)
    custom = [
        PaymentMethod(n + 1, "Stripe terminal", PT_CARD),
        PaymentMethod(n + 2, "Petplan direct claim", PT_INSURANCE),
        PaymentMethod(n + 3, "Xero payments", PT_OTHER),
        PaymentMethod(n + 4, "PayPal Here", PT_MOBILE),
        PaymentMethod(n + 5, "Vet4Pets voucher (discontinued)", PT_VOUCHER, archived=True),
    ]
    return tuple(builtin + custom)


PAYMENT_METHODS = _payment_methods()
STRIPE_METHOD = 15
PETPLAN_METHOD = 16
XERO_PAYMENTS_METHOD = 17
PAYPAL_METHOD = 18


@dataclass(frozen=True, slots=True)
class CatalogItem:
    item: int
    name: str
    group: str
    net_price: Decimal  # 4 dp, used when VAT is computed from net
    shelf_price: Decimal  # incl. VAT, used when VAT is computed from gross
    vat: Decimal
    account: str | None
    quantities: tuple[str, ...] = ("1",)


def _item(
    item: int,
    name: str,
    group: str,
    price: str,
    vat: str,
    account: str | None,
    quantities: tuple[str, ...] = ("1",),
    *,
    gross: bool = False,
) -> CatalogItem:
    p, v = Decimal(price), Decimal(vat)
    if gross:
        return CatalogItem(item, name, group, q4(p * HUNDRED / (HUNDRED + v)), p, v, account, quantities)
    return CatalogItem(item, name, group, p, q2(p * (HUNDRED + v) / HUNDRED), v, account, quantities)


SERVICES = (
    _item(1001, "Consultation", "Clinical services", "45.00", "20", "200"),
    _item(1002, "Repeat consultation", "Clinical services", "32.50", "20", "200"),
    _item(1003, "Annual vaccination booster", "Clinical services", "52.00", "20", "200"),
    _item(1004, "Nail clip", "Clinical services", "12.00", "20", "200"),
    _item(1005, "Dental scale and polish", "Clinical services", "189.00", "20", "200"),
    _item(1006, "In-house blood panel", "Clinical services", "86.40", "20", "200"),
    _item(1007, "Radiograph (per plate)", "Clinical services", "95.00", "20", "200", ("1", "2", "3")),
    _item(1008, "Microchip implant", "Clinical services", "19.95", "20", "200"),
    _item(1009, "Hospitalisation (per day)", "Clinical services", "64.1667", "20", "200", ("1", "2")),
    _item(1010, "Castration – cat", "Clinical services", "68.75", "20", "200"),
)
PRODUCTS = (
    _item(2001, "Metacam 1.5 mg/ml oral suspension 10 ml", "Medicines", "17.85", "20", "201", gross=True),
    _item(2002, "Amoxicillin 250 mg tablet", "Medicines", "0.52", "20", "201", ("7", "14", "28"), gross=True),
    _item(2003, "Frontline Plus spot-on, dog 10–20 kg", "Medicines", "9.59", "20", "201", ("1", "3"), gross=True),
    _item(2004, "Bravecto chew 500 mg", "Medicines", "25.99", "20", "201", gross=True),
    _item(2005, "Drontal cat tablet", "Medicines", "4.25", "20", "201", ("1", "2"), gross=True),
    _item(2006, "Dexdomitor 0.5 mg/ml (per ml)", "Medicines", "6.48", "20", "201", ("0.35", "0.5", "1.25"), gross=True),
    _item(2007, "Renal diet 2 kg", "Food", "24.99", "20", "201", ("1", "2"), gross=True),
)
OTHER_ITEMS = (
    _item(3001, "Heated recovery mat (reduced rate)", "Products", "31.50", "5", None, gross=True),
    _item(4001, "Book: Caring for your new puppy", "Products", "7.99", "0", "201", gross=True),
    _item(5001, "Insurance claim administration", "Other", "25.00", "0", "260"),
)
CATALOG = SERVICES + PRODUCTS + OTHER_ITEMS
FIRST_VISITS = SERVICES[:3]
RESERVED_ITEMS = {
    "zero": OTHER_ITEMS[1],
    "exempt": OTHER_ITEMS[2],
    "reduced": OTHER_ITEMS[0],
}


def row_spec(item: CatalogItem, method: int, quantity: str | Decimal = "1", discount: str = "0") -> RowSpec:
    """A row for a catalogue item, priced the way the invoice computes VAT."""
    price = item.shelf_price if method == VAT_FROM_GROSS else item.net_price
    return RowSpec(
        item.name, Decimal(quantity), price, item.vat, item.account, Decimal(discount), item.item, item.group
    )


# ------------------------------------------------------------------------------------------- builders


@dataclass(slots=True)
class _Row:
    spec: RowSpec
    amounts: RowAmounts
    credited: _Row | None = None
    id: int = 0


@dataclass(slots=True)
class _Pay:
    invoice: _Inv
    payment_type: int
    method_id: int | None
    paid: Decimal
    day: date
    created: datetime
    info: str = ""
    prepay: _Prepay | None = None
    id: int = 0


@dataclass(slots=True)
class _Inv:
    client: int | None
    department: int
    status: int
    invoice_date: date
    due_date: date
    created: datetime
    finalised: datetime | None
    modified: datetime
    method: int
    countersale: bool = False
    credit_note: bool = False
    original: _Inv | None = None
    consolidated: bool = False
    gathered: list[_Inv] = field(default_factory=list)
    related: _Inv | None = None
    remarks: str = ""
    payer_name: str = ""
    rows: list[_Row] = field(default_factory=list)
    payments: list[_Pay] = field(default_factory=list)
    id: int = 0
    number: str | None = None

    @property
    def total_with_vat(self) -> Decimal:
        return sum((r.amounts.sum_total for r in self.rows), ZERO)

    @property
    def due(self) -> Decimal:
        return self.total_with_vat - sum((p.paid for p in self.payments), ZERO)


@dataclass(slots=True)
class _Prepay:
    client: int
    paid: Decimal
    payment_type: int
    created: datetime
    modified: datetime
    id: int = 0


@dataclass(slots=True)
class _ClientB:
    firstname: str
    lastname: str
    organization_name: str = ""
    customer_type: int = 0
    vat_number: str = ""
    register_number: str = ""
    street_address: str = ""
    street_address_2: str = ""
    zip_code: str = ""
    city: str = ""
    country: str = "GB"
    email: str = ""
    archived: bool = False
    phones: list[tuple[str, str]] = field(default_factory=list)
    modified: datetime | None = None


# fmt: off
FIRST_NAMES = (
    "Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Noah", "Mia", "Jack", "Sophia", "Charlie", "Grace",
    "Leo", "Lily", "Freddie", "Freya", "Alfie", "Emily", "Theo", "Ivy", "Arthur", "Ella", "Chloë", "Siân",
    "Seán", "Björn", "Renée", "José", "François", "Łukasz", "Zoë", "Aoife", "Dafydd", "Niamh", "Priya",
    "Mohammed", "Fatima", "Wei", "Yusuf", "Anaïs",
)
# fmt: on
# fmt: off
LAST_NAMES = (
    "Smith", "Jones", "Williams", "Brown", "Taylor", "Davies", "Evans", "Wilson", "Thomas", "Johnson",
    "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards", "Hughes", "Green", "Hall",
    "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood", "Turner", "Martin", "Cooper", "Hill", "Ward",
    "Morris", "Moore", "Clark", "Lee", "King", "Baker", "Harrison", "Morgan", "O'Brien", "Ó Súilleabháin",
    "Öztürk", "Nowak", "Nguyen", "García", "Lefèvre", "Kowalczyk", "MacLeòid", "Ahmed", "Khan",
)
# fmt: on
# fmt: off
COMPANY_FORMS = (
    "{} Farms Ltd", "{} Equestrian Centre", "{} & Sons Livestock", "{} Kennels Ltd", "{} Stables LLP", "{} Cattery",
)
# fmt: on
# fmt: off
STREETS = (
    "Mill Lane", "Church Road", "Station Road", "Victoria Street", "Park Avenue", "High Street", "Queen's Road",
    "Orchard Close", "Brook Lane", "Cherry Tree Walk",
)
# fmt: on
# fmt: off
CITIES = (("Bristol", "BS"), ("Bath", "BA"), ("Cardiff", "CF"), ("Gloucester", "GL"), ("Swindon", "SN"),
          ("Taunton", "TA"))
# fmt: on


def ascii_slug(text: str) -> str:
    norm = unicodedata.normalize("NFKD", text.replace("Ł", "L").replace("ł", "l"))
    return "".join(ch for ch in norm if ch.isascii() and (ch.isalnum() or ch in ".-")).lower()


class _Builder:
    """Collects the clinic while it is being made; `freeze()` numbers everything and makes records."""

    def __init__(self, rng: random.Random, start: date) -> None:
        self.rng = rng
        self.start = start
        self.now = datetime.combine(start, time(8, 0), UTC)
        self.clients: list[_ClientB] = []
        self.invoices: list[_Inv] = []
        self.prepays: list[_Prepay] = []

    # -- helpers
    def at(self, day: date, minute: int | None = None) -> datetime:
        """A stamp during opening hours (08:30-18:00) on `day`."""
        m = self.rng.randrange(30, 600) if minute is None else minute
        return datetime.combine(day, time(8, 0), UTC) + timedelta(minutes=m, seconds=self.rng.randrange(60))

    def before_now(self, day: date) -> bool:
        return day < self.start

    def add_client(self, c: _ClientB) -> int:
        self.clients.append(c)
        return len(self.clients)

    # -- invoices
    def invoice(
        self,
        client: int | None,
        day: date,
        specs: list[RowSpec],
        *,
        method: int = VAT_FROM_NET,
        countersale: bool = False,
        department: int = 1,
        status: int = INVOICE_FINALISED,
        due_days: int = 14,
        remarks: str = "",
        payer_name: str = "",
    ) -> _Inv:
        created = self.at(day)
        finalised = None
        if status not in (INVOICE_DRAFT, INVOICE_OPEN):
            finalised = created + timedelta(minutes=self.rng.randrange(2, 40))
        inv = _Inv(
            client,
            department,
            status,
            day,
            day + timedelta(days=due_days),
            created,
            finalised,
            finalised or created,
            method,
            countersale,
            remarks=remarks,
            payer_name=payer_name,
        )
        for spec in specs:
            amounts = compute_row(spec.quantity, spec.unit_price, spec.vat_percentage, spec.percentage_change, method)
            inv.rows.append(_Row(spec, amounts))
        self.invoices.append(inv)
        return inv

    def pay(
        self,
        inv: _Inv,
        amount: Decimal,
        day: date,
        payment_type: int = PT_CARD,
        method_id: int | None = None,
        info: str = "",
        *,
        after: datetime | None = None,
    ) -> _Pay | None:
        """Register a payment unless it would fall after "now" (`after`: not before this stamp)."""
        if not self.before_now(day) or amount == 0:
            return None
        floor = max(inv.finalised or inv.created, after or inv.created) + timedelta(minutes=1)
        created = max(self.at(day), floor)
        if created >= self.now:
            return None
        p = _Pay(inv, payment_type, method_id, amount, day, created, info)
        inv.payments.append(p)
        inv.modified = max(inv.modified, created)
        return p

    def credit(
        self,
        orig: _Inv,
        day: date,
        rows: list[_Row] | None = None,
        *,
        positive: bool = False,
        refund_type: int = PT_TRANSFER,
    ) -> _Inv:
        """A credit note for `rows` of `orig` (all by default), settled the way Provet books it."""
        chosen = rows if rows is not None else orig.rows
        cn = self.invoice(
            orig.client,
            day,
            [],
            method=orig.method,
            countersale=orig.countersale,
            department=orig.department,
            due_days=0,
        )
        cn.credit_note, cn.original = True, orig
        sign = 1 if positive else -1
        for r in chosen:
            spec = r.spec
            qty = spec.quantity * sign
            amounts = compute_row(qty, spec.unit_price, spec.vat_percentage, spec.percentage_change, orig.method)
            cn.rows.append(
                _Row(
                    RowSpec(
                        spec.name,
                        qty,
                        spec.unit_price,
                        spec.vat_percentage,
                        spec.account_number,
                        spec.percentage_change,
                        spec.item,
                        spec.invoice_group,
                    ),
                    amounts,
                    r,
                )
            )
        self.settle_credit(cn, orig, day, refund_type)
        return cn

    def settle_credit(self, cn: _Inv, orig: _Inv, day: date, refund_type: int) -> None:
        credit = cn.total_with_vat
        sign = -1 if credit < 0 else 1
        settle = min(max(orig.due, ZERO), abs(credit))
        self.pay(orig, settle, day, PT_CREDIT_INVOICE, info="Credit note", after=cn.finalised)
        self.pay(cn, settle * sign, day, PT_CREDIT_INVOICE, info="Credit note")
        rest = abs(credit) - settle
        if rest:
            refund_day = day + timedelta(days=1) if self.before_now(day + timedelta(days=1)) else day
            self.pay(cn, rest * sign, refund_day, refund_type, info="Refund")

    def consolidate(self, gathered: list[_Inv], day: date) -> _Inv:
        """A consolidated invoice over unpaid invoices of one client (see module docstring)."""
        first = gathered[0]
        c = self.invoice(
            first.client,
            day,
            [],
            method=first.method,
            department=first.department,
            due_days=30,
            remarks="Monthly account",
        )
        c.consolidated, c.gathered = True, list(gathered)
        for g in gathered:
            for r in g.rows:
                c.rows.append(_Row(r.spec, r.amounts))
        stamp = c.finalised or c.created
        for g in gathered:
            g.related = c
            due = g.due
            p = _Pay(g, PT_CONSOLIDATED, None, due, day, stamp, "Consolidated invoice")
            g.payments.append(p)
            g.modified = max(g.modified, stamp)
        return c

    def prepay(self, client: int, amount: Decimal, day: date, payment_type: int = PT_CASH) -> _Prepay:
        stamp = self.at(day)
        p = _Prepay(client, amount, payment_type, stamp, stamp)
        self.prepays.append(p)
        return p

    def use_prepayment(self, pre: _Prepay, inv: _Inv, day: date) -> Decimal:
        amount = min(pre.paid, inv.due)
        p = self.pay(inv, amount, day, PT_PREPAYMENT, after=pre.created)
        if p is None:
            return ZERO
        pre.paid -= amount
        pre.modified = max(pre.modified, p.created)
        p.prepay = pre
        return amount

    def void(self, inv: _Inv, day: date) -> None:
        inv.status = INVOICE_VOIDED
        inv.modified = max(inv.modified, self.at(day))


# ------------------------------------------------------------------------------------------ generator


def generate_clinic(seed: int = 1, size: int = 12, *, start: date | None = None) -> Clinic:
    """Make the clinic: fixed showcase cases, then ordinary trade up to about `size` finalised invoices."""
    if size < 1:
        raise ValueError("size must be at least 1")
    rng = random.Random(seed)
    b = _Builder(rng, start or DEFAULT_START)
    span = max(28, -(-size // 20))  # about 20 invoices a day, never under four weeks
    _showcase_clients(b)
    n_clients = max(12, size // 3)
    for _ in range(n_clients - len(b.clients)):
        _random_client(b, span)
    n_showcase = _showcase_invoices(b)
    _ordinary_trade(b, max(0, size - n_showcase), span)
    provet = _freeze(b)
    log.debug("generated clinic seed=%s size=%s: %d invoices", seed, size, len(provet.invoices))
    return Clinic(provet=provet, xero=_xero_seed(), now=b.now, seed=seed, size=size)


def _showcase_clients(b: _Builder) -> None:
    day = b.start - timedelta(days=60)
    stamp = b.at(day, 10)
    add = b.add_client
    add(
        _ClientB(
            "Åsa",
            "Öberg",
            street_address="12 Mill Lane",
            zip_code="BS1 4DJ",
            city="Bristol",
            email="asa.oberg@example.se",
            phones=[("07700 900101", "Mobile")],
            modified=stamp,
        )
    )
    add(
        _ClientB(
            "Zoë",
            "Ní Bhriain",
            street_address="3 Orchard Close",
            street_address_2="Flat 2",
            zip_code="BA1 2QT",
            city="Bath",
            email="zoe.nibhriain@example.ie",
            phones=[("07700 900102", "Mobile"), ("0117 496 0102", "Home")],
            modified=stamp,
        )
    )
    add(
        _ClientB(
            "Jürgen",
            "Müller",
            "Müller GmbH",
            2,
            vat_number="DE129273398",
            register_number="HRB 12345",
            street_address="Königstraße 5",
            zip_code="70173",
            city="Stuttgart",
            country="DE",
            email="buchhaltung@mueller-gmbh.example.de",
            phones=[("+49 711 000000", "Work")],
            modified=stamp,
        )
    )
    add(
        _ClientB(
            "James",
            "Smith",
            street_address="14 Station Road",
            zip_code="BS6 5AA",
            city="Bristol",
            email="james.smith@example.com",
            phones=[("07700 900104", "Mobile")],
            modified=stamp,
        )
    )
    add(
        _ClientB(
            "James",
            "Smith",
            street_address="2 Park Avenue",
            zip_code="CF10 1AB",
            city="Cardiff",
            email="jsmith.cardiff@example.co.uk",
            phones=[("07700 900105", "Mobile")],
            modified=stamp,
        )
    )
    add(
        _ClientB(
            "Helen",
            "Hollis",
            "Hollybrook Farm Ltd",
            1,
            vat_number="GB123456789",
            register_number="04567812",
            street_address="Hollybrook Farm",
            street_address_2="Wick Road",
            zip_code="GL12 8AB",
            city="Gloucester",
            email="office@hollybrookfarm.co.uk",
            phones=[("01454 000111", "Work")],
            modified=stamp,
        )
    )
    add(
        _ClientB(
            "Margaret",
            "Reid",
            "Greyfriars Dog Rescue",
            4,
            register_number="1123456",
            street_address="The Old Chapel",
            zip_code="TA1 1AA",
            city="Taunton",
            email="hello@greyfriars-rescue.org.uk",
            modified=stamp,
        )
    )
    add(
        _ClientB(
            "Priya",
            "Patel",
            street_address="8 Victoria Street",
            zip_code="SN1 1AA",
            city="Swindon",
            phones=[("07700 900108", "Mobile")],
            modified=stamp,
        )
    )  # no email on file
    add(
        _ClientB(
            "Tom",
            "Baker",
            "Baker's Bakery",
            0,
            street_address="1 High Street",
            zip_code="BS8 1AA",
            city="Bristol",
            email="tom@bakersbakery.example.co.uk",
            modified=stamp,
        )
    )
    add(
        _ClientB(
            "Sam",
            "Ng",
            "",
            1,
            street_address="22 Brook Lane",
            zip_code="BS3 1AA",
            city="Bristol",
            email="sam.ng@example.com",
            modified=stamp,
        )
    )  # company without organisation name
    add(
        _ClientB(
            "Derek",
            "Olde",
            street_address="9 Church Road",
            zip_code="BA2 3AA",
            city="Bath",
            email="derek.olde@example.com",
            archived=True,
            modified=stamp,
        )
    )
    add(
        _ClientB(
            "Siobhán",
            "O'Connor-Ó Briain",
            street_address="40 Queen's Road",
            zip_code="BS8 1RE",
            city="Bristol",
            email="siobhan@example.ie",
            phones=[("07700 900112", "Mobile")],
            modified=stamp,
        )
    )


ASA, ZOE, MULLER, SMITH_A, SMITH_B, HOLLYBROOK, GREYFRIARS, PRIYA, TOM, SAM, DEREK, SIOBHAN = range(1, 13)


def _random_client(b: _Builder, span: int) -> None:
    rng = b.rng
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    n = len(b.clients) + 1
    city, pc = rng.choice(CITIES)
    c = _ClientB(
        first,
        last,
        street_address=f"{rng.randrange(1, 200)} {rng.choice(STREETS)}",
        zip_code=f"{pc}{rng.randrange(1, 20)} {rng.randrange(1, 9)}{rng.choice('ABDEFGHJLNP')}"
        f"{rng.choice('QRSTUWXYZ')}",
        city=city,
    )
    if rng.random() < 0.12:
        c.customer_type = rng.choice((1, 1, 1, 2, 3, 4))
        c.organization_name = rng.choice(COMPANY_FORMS).format(last)
        if c.customer_type in (1, 2):
            c.vat_number = f"GB{rng.randrange(100000000, 999999999)}"
    if rng.random() < 0.9:
        c.email = f"{ascii_slug(first)}.{ascii_slug(last)}{n}@example.com"
    for kind in ("Mobile", "Home")[: rng.choice((0, 1, 1, 2))]:
        c.phones.append((f"07700 9{rng.randrange(0, 100000):05d}", kind))
    c.archived = rng.random() < 0.02
    c.modified = b.at(b.start - timedelta(days=span + rng.randrange(1, 400)))
    b.add_client(c)


def _showcase_invoices(b: _Builder) -> int:
    """The fixed cases; returns how many finalised invoices they made."""
    s = b.start
    net, gross = VAT_FROM_NET, VAT_FROM_GROSS
    d = lambda n: s - timedelta(days=n)  # noqa: E731 - a local shorthand for "n days ago"
    consult, repeat, vacc = FIRST_VISITS
    metacam, amoxi, frontline, bravecto, _drontal, dexdo, renal = PRODUCTS
    before = sum(1 for inv in b.invoices if inv.status == INVOICE_FINALISED)

    asa1 = b.invoice(ASA, d(27), [row_spec(consult, net), row_spec(metacam, net)])
    b.pay(asa1, asa1.due, d(27), PT_CARD)
    zoe1 = b.invoice(
        ZOE, d(26), [row_spec(vacc, net), row_spec(frontline, net, "3"), row_spec(SERVICES[3], net)], department=2
    )
    b.pay(zoe1, Decimal("20.00"), d(26), PT_CASH)
    b.invoice(
        MULLER,
        d(25),
        [row_spec(SERVICES[6], net, "2", "-10"), row_spec(consult, net, "1", "-12.5")],
        department=3,
        due_days=30,
        remarks="Stable visit, 2 horses",
    )
    smith_a = b.invoice(
        SMITH_A, d(24), [row_spec(SERVICES[4], net), row_spec(SERVICES[5], net), row_spec(amoxi, net, "14")]
    )
    b.pay(smith_a, Decimal("100.00"), d(24), PT_TRANSFER, info="Deposit")
    b.pay(smith_a, Decimal("80.00"), d(22), PT_CARD)
    b.pay(smith_a, smith_a.due, d(20), PT_CASH)
    smith_b = b.invoice(
        SMITH_B,
        d(23),
        [row_spec(bravecto, gross), row_spec(renal, gross, "2")],
        method=gross,
        countersale=True,
        due_days=0,
    )
    b.pay(smith_b, smith_b.due, d(23), PT_CARD, STRIPE_METHOD)
    anon1 = b.invoice(
        None,
        d(22),
        [row_spec(frontline, gross), row_spec(PRODUCTS[4], gross, "2")],
        method=gross,
        countersale=True,
        due_days=0,
    )
    b.pay(anon1, anon1.due, d(22), PT_CASH)
    # Rounding A: per-row VAT 3 x 2.01 = 6.03, VAT on the total 30.09 x 20% = 6.02.
    r_a = [
        RowSpec(
            "Suture removal",
            Decimal(1),
            Decimal("10.025"),
            Decimal(20),
            "200",
            item=1011,
            invoice_group="Clinical services",
        )
    ] * 3
    b.invoice(PRIYA, d(21), r_a)
    # Rounding B: VAT from gross 24.99 -> 4.17 VAT, but 20.82 x 20% = 4.16 (an exclusive recompute is 1p off).
    tom1 = b.invoice(
        TOM,
        d(19),
        [row_spec(renal, gross), row_spec(renal, gross), row_spec(renal, gross), row_spec(amoxi, gross, "14")],
        method=gross,
        countersale=True,
        due_days=0,
    )
    b.pay(tom1, tom1.due, d(19), PT_TRANSFER)
    # VAT 0 (zero-rated and exempt share 0%), 5% without an account number, discount and surcharge.
    b.invoice(
        GREYFRIARS,
        d(18),
        [
            row_spec(consult, net, "1", "-20"),
            row_spec(RESERVED_ITEMS["zero"], net, "3"),
            row_spec(RESERVED_ITEMS["exempt"], net),
            row_spec(RESERVED_ITEMS["reduced"], net),
            row_spec(dexdo, net, "0.35"),
            row_spec(SERVICES[8], net, "1", "50"),
        ],
        due_days=30,
        remarks="Charity discount 20%",
    )
    # Consolidation: three unpaid invoices gathered into one monthly invoice, then partly paid.
    gathered = [
        b.invoice(HOLLYBROOK, d(n), [row_spec(repeat, net), row_spec(amoxi, net, "28")], department=3, due_days=30)
        for n in (17, 15, 13)
    ]
    cons = b.consolidate(gathered, d(10))
    b.pay(cons, Decimal("150.00"), d(5), PT_TRANSFER, info="BACS HOLLYBROOK")
    # Prepayments: one used in full, one in part, one not at all.
    pre1 = b.prepay(ASA, Decimal("100.00"), d(16), PT_CASH)
    asa2 = b.invoice(ASA, d(9), [row_spec(SERVICES[4], net)])
    b.use_prepayment(pre1, asa2, d(9))
    b.pay(asa2, asa2.due, d(9), PT_CARD)
    pre2 = b.prepay(ZOE, Decimal("50.00"), d(14), PT_CARD)
    zoe2 = b.invoice(ZOE, d(8), [row_spec(SERVICES[3], net), row_spec(PRODUCTS[4], net)], department=2)
    b.use_prepayment(pre2, zoe2, d(8))
    b.prepay(SAM, Decimal("75.00"), d(3), PT_TRANSFER)
    # Credit notes: full credit of an unpaid invoice, a row of a paid one, a positive one on a part-paid one.
    sam1 = b.invoice(SAM, d(11), [row_spec(consult, net), row_spec(bravecto, net)])
    b.credit(sam1, d(9))
    b.credit(asa1, d(8), [asa1.rows[1]])
    b.credit(zoe1, d(7), [zoe1.rows[1]], positive=True)
    # Insurance: the insurer pays most, the owner the excess.
    ins = b.invoice(
        SIOBHAN,
        d(6),
        [row_spec(SERVICES[6], net, "2"), row_spec(SERVICES[8], net, "2"), row_spec(RESERVED_ITEMS["exempt"], net)],
    )
    b.pay(ins, Decimal("99.00"), d(6), PT_CASH, info="Policy excess")
    b.pay(ins, ins.due, d(2), PT_INSURANCE, PETPLAN_METHOD, info="Petplan claim 88812")
    anon2 = b.invoice(
        None,
        d(12),
        [row_spec(metacam, gross)],
        method=gross,
        countersale=True,
        due_days=0,
        payer_name="Walk-in: Mrs Jenkins",
        department=2,
    )
    b.pay(anon2, anon2.due, d(12), PT_MOBILE, PAYPAL_METHOD)
    b.invoice(
        TOM,
        d(4),
        [
            RowSpec(
                "Post-op check (no charge)",
                Decimal(1),
                ZERO,
                Decimal(20),
                "200",
                item=1012,
                invoice_group="Clinical services",
            )
        ],
    )
    voided = b.invoice(PRIYA, d(6), [row_spec(consult, net)])
    b.void(voided, d(5))
    b.invoice(ASA, d(2), [row_spec(repeat, net)], status=INVOICE_DRAFT)
    b.invoice(SMITH_A, d(1), [row_spec(vacc, net), row_spec(SERVICES[7], net)], status=INVOICE_DRAFT)
    b.invoice(MULLER, d(1), [row_spec(consult, net)], status=INVOICE_OPEN, department=3)
    return sum(1 for inv in b.invoices if inv.status == INVOICE_FINALISED) - before


def _ordinary_trade(b: _Builder, count: int, span: int) -> None:
    """Everyday invoices spread over `span` days before the start, with the usual mix of payments."""
    rng = b.rng
    active = [i + 1 for i, c in enumerate(b.clients) if not c.archived]
    made: list[_Inv] = []
    for _ in range(count):
        day = b.start - timedelta(days=rng.randrange(1, span + 1))
        if rng.random() < 0.72:
            inv = _consultation(b, rng.choice(active), day)
        else:
            client = None if rng.random() < 0.15 else rng.choice(active)
            inv = _counter_sale(b, client, day)
        _pay_ordinary(b, inv)
        made.append(inv)
    extra = count // 30
    for _ in range(extra):  # drafts and open invoices never reach Xero
        day = b.start - timedelta(days=rng.randrange(1, 8))
        b.invoice(
            rng.choice(active),
            day,
            [row_spec(rng.choice(FIRST_VISITS), VAT_FROM_NET)],
            status=rng.choice((INVOICE_DRAFT, INVOICE_DRAFT, INVOICE_OPEN)),
        )
    for inv in rng.sample(made, min(len(made), count // 200)):
        if not inv.payments:
            b.void(inv, min(inv.invoice_date + timedelta(days=1), b.start - timedelta(days=1)))
    candidates = [
        i for i in made if i.client and i.status == INVOICE_FINALISED and i.invoice_date < b.start - timedelta(days=2)
    ]
    for orig in rng.sample(candidates, min(len(candidates), count // 60)):
        day = orig.invoice_date + timedelta(days=rng.randrange(1, 10))
        if b.before_now(day):
            rows = None if rng.random() < 0.4 else [rng.choice(orig.rows)]
            b.credit(orig, day, rows)
    for _ in range(count // 150):
        client = rng.choice(active)
        first = b.start - timedelta(days=rng.randrange(20, span + 20))
        gathered = [
            _consultation(b, client, first + timedelta(days=k * 3), due_days=30) for k in range(rng.randrange(2, 5))
        ]
        cons_day = first + timedelta(days=12)
        if b.before_now(cons_day):
            cons = b.consolidate(gathered, cons_day)
            if rng.random() < 0.7:
                b.pay(cons, cons.due, cons_day + timedelta(days=rng.randrange(1, 20)), PT_TRANSFER)
    for _ in range(count // 40):
        client = rng.choice(active)
        day = b.start - timedelta(days=rng.randrange(2, span + 1))
        pre = b.prepay(
            client, Decimal(rng.choice((25, 50, 100, 150))).quantize(CENT), day, rng.choice((PT_CASH, PT_CARD))
        )
        if rng.random() < 0.5:
            use_day = day + timedelta(days=rng.randrange(0, 15))
            if b.before_now(use_day):
                inv = _consultation(b, client, use_day)
                b.use_prepayment(pre, inv, use_day)
                if inv.due > 0 and rng.random() < 0.8:
                    b.pay(inv, inv.due, use_day, PT_CARD)


def _consultation(b: _Builder, client: int, day: date, due_days: int = 14) -> _Inv:
    rng = b.rng
    specs = [row_spec(rng.choice(FIRST_VISITS), VAT_FROM_NET)]
    for _ in range(rng.choice((0, 1, 1, 2, 3))):
        item = rng.choice(CATALOG)
        discount = rng.choice(("-5", "-10", "-12.5", "-15")) if rng.random() < 0.12 else "0"
        specs.append(row_spec(item, VAT_FROM_NET, rng.choice(item.quantities), discount))
    dept = rng.choice((1, 1, 1, 2, 2, 3))
    return b.invoice(client, day, specs, department=dept, due_days=due_days)


def _counter_sale(b: _Builder, client: int | None, day: date) -> _Inv:
    rng = b.rng
    specs = [
        row_spec(item, VAT_FROM_GROSS, rng.choice(item.quantities))
        for item in rng.sample(PRODUCTS + OTHER_ITEMS[:2], rng.choice((1, 1, 2, 3)))
    ]
    return b.invoice(
        client, day, specs, method=VAT_FROM_GROSS, countersale=True, due_days=0, department=rng.choice((1, 1, 2))
    )


# fmt: off
PAY_CHOICES = (
    (PT_CARD, None), (PT_CARD, None), (PT_CARD, None), (PT_CARD, STRIPE_METHOD), (PT_CARD, STRIPE_METHOD),
    (PT_CASH, None), (PT_CASH, None), (PT_TRANSFER, None), (PT_MOBILE, PAYPAL_METHOD), (PT_CHEQUE, None),
    (PT_INSURANCE, PETPLAN_METHOD),
)
# fmt: on


def _pay_ordinary(b: _Builder, inv: _Inv) -> None:
    rng = b.rng
    due = inv.due
    if due <= 0:
        return
    how = rng.random()
    kind, method = rng.choice(PAY_CHOICES)
    if inv.client is None or how < 0.6:
        b.pay(inv, due, inv.invoice_date, kind, method)
    elif how < 0.8:
        part = q2(due * Decimal(rng.choice(("0.25", "0.3", "0.5", "0.6"))))
        b.pay(inv, part, inv.invoice_date, kind, method)
        if how < 0.72:
            kind2, method2 = rng.choice(PAY_CHOICES)
            b.pay(inv, due - part, inv.invoice_date + timedelta(days=rng.randrange(1, 21)), kind2, method2)


# --------------------------------------------------------------------------------------------- freeze


def _freeze(b: _Builder) -> ProvetData:
    invoices = sorted(b.invoices, key=lambda i: i.created)
    for n, inv in enumerate(invoices, 1):
        inv.id = n
    numbered = sorted((i for i in invoices if i.finalised is not None), key=lambda i: i.finalised)
    for n, inv in enumerate(numbered, 24001):
        inv.number = str(n)
    row_id = 0
    for inv in invoices:
        for r in inv.rows:
            row_id += 1
            r.id = row_id
    payments = sorted((p for inv in invoices for p in inv.payments), key=lambda p: p.created)
    for n, p in enumerate(payments, 1):
        p.id = n
    prepays = sorted(b.prepays, key=lambda p: p.created)
    for n, pre in enumerate(prepays, 1):
        pre.id = n
    clients = _freeze_clients(b)
    by_id = {c.id: c for c in clients}
    frozen = tuple(_freeze_invoice(inv, by_id) for inv in invoices)
    unalloc = tuple(UnallocatedPayment(p.id, p.client, p.paid, p.payment_type, p.created, p.modified) for p in prepays)
    return ProvetData(VAT_GROUPS, PAYMENT_METHODS, DEPARTMENTS, clients, frozen, unalloc)


def _freeze_clients(b: _Builder) -> tuple[Client, ...]:
    out = []
    phone_id = 0
    for n, c in enumerate(b.clients, 1):
        phones = []
        for number, kind in c.phones:
            phone_id += 1
            phones.append(PhoneNumber(phone_id, n, number, kind))
        out.append(
            Client(
                n,
                c.firstname,
                c.lastname,
                c.organization_name,
                c.customer_type,
                c.vat_number,
                c.register_number,
                c.street_address,
                c.street_address_2,
                c.zip_code,
                c.city,
                c.country,
                c.email,
                c.archived,
                c.modified or b.now - timedelta(days=400),
                tuple(phones),
            )
        )
    return tuple(out)


def _freeze_invoice(inv: _Inv, clients: dict[int, Client]) -> Invoice:
    rows = tuple(
        InvoiceRow(
            r.id,
            inv.id,
            r.spec.item,
            r.spec.name,
            r.spec.invoice_group,
            r.spec.quantity,
            r.amounts.price,
            r.amounts.price_with_vat,
            r.amounts.sum,
            r.amounts.sum_vat,
            r.amounts.sum_total,
            r.spec.percentage_change,
            r.spec.vat_percentage,
            r.spec.account_number,
            credited_invoicerow_id=r.credited.id if r.credited else None,
        )
        for r in inv.rows
    )
    payments = tuple(
        InvoicePayment(
            p.id,
            inv.id,
            p.payment_type,
            p.method_id,
            p.paid,
            p.day,
            PAYMENT_REGISTERED,
            f"Prepayment #{p.prepay.id}" if p.prepay else p.info,
            p.created,
            p.created,
        )
        for p in sorted(inv.payments, key=lambda p: p.id)
    )
    total = sum((r.sum for r in rows), ZERO)
    total_vat = sum((r.sum_vat for r in rows), ZERO)
    total_with_vat = sum((r.sum_total for r in rows), ZERO)
    due = total_with_vat - sum((p.paid for p in payments), ZERO)
    date_paid = _date_paid(inv, total_with_vat, payments)
    payer = _payer(clients.get(inv.client) if inv.client else None, inv.payer_name)
    remarks = inv.remarks
    if inv.credit_note and inv.original is not None:
        remarks = f"Credit for invoice {inv.original.number}"
    return Invoice(
        inv.id,
        inv.number,
        DEPARTMENT_PREFIX.get(inv.department) if inv.number else None,
        inv.status,
        inv.invoice_date,
        inv.due_date,
        date_paid,
        inv.created,
        inv.modified,
        inv.client,
        inv.department,
        *payer,
        total,
        total_vat,
        total_with_vat,
        due,
        inv.countersale,
        inv.credit_note,
        inv.original.id if inv.original else None,
        inv.consolidated,
        tuple(g.id for g in inv.gathered),
        inv.related.id if inv.related else None,
        inv.method,
        remarks,
        rows,
        payments,
    )


def _date_paid(inv: _Inv, total: Decimal, payments: tuple[InvoicePayment, ...]) -> date | None:
    if inv.status != INVOICE_FINALISED:
        return None
    if total == 0:
        return inv.invoice_date
    running = ZERO
    for p in payments:
        running += p.paid
        if running == total:
            return p.payment_date
    return None


def payer_snapshot(client: Client | None, payer_name: str = "") -> tuple[str, str, str, str, str, str, str]:
    """(payer_name, organization, vat, street, zip, city, country) as Provet copies them at invoicing."""
    return _payer(client, payer_name)


def _payer(client: Client | None, payer_name: str) -> tuple[str, str, str, str, str, str, str]:
    if client is None:
        return (payer_name, "", "", "", "", "", "")
    org = client.organization_name if client.customer_type != 0 else ""
    return (
        f"{client.firstname} {client.lastname}".strip(),
        org,
        client.vat_number,
        client.street_address,
        client.zip_code,
        client.city,
        client.country,
    )


# ------------------------------------------------------------------------------------------- Xero seed


def _xero_seed() -> XeroSeed:
    """The clinic's Xero organisation (matching the VAT groups and accounts above) and a second one."""
    clinic = XeroOrgSeed(
        name="Happy Paws Veterinary Ltd",
        tenant_id=CLINIC_TENANT_ID,
        tax_rates=(
            TaxRateSeed("20% (VAT on Income)", "OUTPUT2", Decimal("20")),
            TaxRateSeed("5% (VAT on Income)", "RROUTPUT", Decimal("5")),
            TaxRateSeed("Zero Rated Income", "ZERORATEDOUTPUT", Decimal("0")),
            TaxRateSeed("Exempt Income", "EXEMPTOUTPUT", Decimal("0")),
            TaxRateSeed("No VAT", "NONE", Decimal("0")),
            TaxRateSeed("20% (VAT on Expenses)", "INPUT2", Decimal("20"), can_apply_to_revenue=False),
            TaxRateSeed("17.5% (VAT on Income)", "TAX001", Decimal("17.5"), status="ARCHIVED"),
        ),
        accounts=(
            AccountSeed("200", "Sales – Clinical services", "REVENUE", "OUTPUT2"),
            AccountSeed("201", "Sales – Medicines & products", "REVENUE", "OUTPUT2"),
            AccountSeed("260", "Other Revenue", "REVENUE", "EXEMPTOUTPUT"),
            AccountSeed("202", "Sales – Grooming (closed)", "REVENUE", "OUTPUT2", status="ARCHIVED"),
            AccountSeed("090", "Business Bank Account", "BANK", bank_account_number="20-00-00 12345678"),
            AccountSeed("091", "Cash in till", "BANK", bank_account_number="CASH-TILL-1"),
            AccountSeed("610", "Card clearing", "CURRENT", enable_payments=True),
            AccountSeed("620", "Insurance claims receivable", "CURRENT", enable_payments=True),
            AccountSeed("815", "Client prepayments", "CURRLIAB", enable_payments=True),
            AccountSeed("630", "Inventory", "INVENTORY"),
            AccountSeed("404", "Bank fees", "EXPENSE", "INPUT2"),
            AccountSeed("860", "Rounding", "CURRLIAB"),
        ),
        contacts=(
            ContactSeed("Hollybrook Farm Ltd", "Helen", "Hollis", "accounts@hollybrook-farm.co.uk"),
            ContactSeed("VetSupplies UK Ltd", email="orders@vetsupplies.example.co.uk", is_customer=False),
        ),
        # The accountant reports by clinic site: one option per Provet department, one more for head office,
        # and the site that closed (archived: its history stays, nothing new may use it).
        tracking_categories=(
            TrackingCategorySeed(
                "Department", (*(d.name for d in DEPARTMENTS), "Head office"), archived_options=("Old Town (closed)",)
            ),
        ),
    )
    group = XeroOrgSeed(
        name="Happy Paws Group (test)",
        tenant_id=GROUP_TENANT_ID,
        tax_rates=(
            TaxRateSeed("20% (VAT on Income)", "OUTPUT2", Decimal("20")),
            TaxRateSeed("Zero Rated Income", "ZERORATEDOUTPUT", Decimal("0")),
            TaxRateSeed("Exempt Income", "EXEMPTOUTPUT", Decimal("0")),
            TaxRateSeed("No VAT", "NONE", Decimal("0")),
        ),
        accounts=(
            AccountSeed("200", "Sales", "REVENUE", "OUTPUT2"),
            AccountSeed("260", "Other Revenue", "REVENUE", "EXEMPTOUTPUT"),
            AccountSeed("090", "Group Bank Account", "BANK", bank_account_number="20-00-00 87654321"),
        ),
    )
    return XeroSeed(organisations=(clinic, group))
