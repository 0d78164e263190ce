"""What a simulated Xero organisation starts with: the contract between the clinic generator
(`clinic.py`, which makes it to match the Provet side) and the Xero sandbox (`xero_server.py`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class TaxRateSeed:
    name: str  # "20% (VAT on Income)"
    tax_type: str  # "OUTPUT2", "RRINPUT"... unique in the organisation
    rate: Decimal  # effective rate in percent, e.g. Decimal("20")
    status: str = "ACTIVE"  # ACTIVE | DELETED | ARCHIVED
    can_apply_to_revenue: bool = True


@dataclass(frozen=True)
class AccountSeed:
    code: str
    name: str
    type: str  # Xero AccountType: REVENUE, SALES, BANK, CURRLIAB, EXPENSE, CURRENT...
    tax_type: str = "NONE"
    enable_payments: bool = False  # EnablePaymentsToAccount (BANK accounts take payments anyway)
    status: str = "ACTIVE"  # ACTIVE | ARCHIVED
    bank_account_number: str | None = None


@dataclass(frozen=True)
class ContactSeed:
    """A contact that already exists in Xero before the app ever runs (made by hand)."""

    name: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    contact_number: str | None = None
    is_customer: bool = True


@dataclass(frozen=True)
class TrackingCategorySeed:
    """A tracking category set up in Xero's settings ("Department", "Region"), with its options."""

    name: str
    options: tuple[str, ...] = ()  # ACTIVE options
    archived_options: tuple[str, ...] = ()
    status: str = "ACTIVE"  # ACTIVE | ARCHIVED


@dataclass(frozen=True)
class XeroOrgSeed:
    name: str
    tenant_id: str  # UUID string
    base_currency: str = "GBP"
    country_code: str = "GB"
    period_lock_date: date | None = None
    end_of_year_lock_date: date | None = None
    tax_rates: tuple[TaxRateSeed, ...] = ()
    accounts: tuple[AccountSeed, ...] = ()
    contacts: tuple[ContactSeed, ...] = ()
    tracking_categories: tuple[TrackingCategorySeed, ...] = ()


@dataclass(frozen=True)
class XeroSeed:
    """All organisations the demo user can connect; the first is the clinic's own."""

    organisations: tuple[XeroOrgSeed, ...] = field(default_factory=tuple)
