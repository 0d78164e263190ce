"""Xero reference data the mapping is checked against: tax rates, accounts, tracking categories, the organisation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class TaxRate:
    tax_type: str
    name: str
    rate: Decimal  # effective rate, percent
    status: str  # ACTIVE | DELETED | ARCHIVED | PENDING
    can_apply_to_revenue: bool

    @property
    def active(self) -> bool:
        return self.status == "ACTIVE"


@dataclass(frozen=True)
class Account:
    code: str
    name: str
    type: str  # BANK, REVENUE, SALES, CURRLIAB, ...
    status: str  # ACTIVE | ARCHIVED
    enable_payments: bool
    tax_type: str = ""

    @property
    def active(self) -> bool:
        return self.status == "ACTIVE"

    @property
    def takes_payments(self) -> bool:
        return self.type == "BANK" or self.enable_payments

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}".strip()


@dataclass(frozen=True)
class Organisation:
    name: str
    base_currency: str
    period_lock_date: date | None
    end_of_year_lock_date: date | None

    @property
    def lock_date(self) -> date | None:
        """The later of the two lock dates: nothing dated on or before it can be written."""
        dates = [d for d in (self.period_lock_date, self.end_of_year_lock_date) if d]
        return max(dates) if dates else None


def tracking_key(name: str) -> str:
    """How tracking names are compared: trimmed, inner spaces collapsed, case-insensitive (a mapping file
    typed by hand still finds "Main street" when Xero spells it "Main Street")."""
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class TrackingOption:
    name: str
    status: str  # ACTIVE | ARCHIVED | DELETED
    option_id: str = ""

    @property
    def active(self) -> bool:
        return self.status == "ACTIVE"


@dataclass(frozen=True)
class TrackingCategory:
    """A Xero tracking category ("Department", "Region") and its options, archived ones included."""

    name: str
    status: str  # ACTIVE | ARCHIVED | DELETED
    options: tuple[TrackingOption, ...] = ()
    category_id: str = ""

    @property
    def active(self) -> bool:
        return self.status == "ACTIVE"

    def option(self, name: str) -> TrackingOption | None:
        wanted = tracking_key(name)
        return next((o for o in self.options if tracking_key(o.name) == wanted), None)


@dataclass(frozen=True)
class XeroReference:
    organisation: Organisation
    tax_rates: tuple[TaxRate, ...]
    accounts: tuple[Account, ...]
    tracking_categories: tuple[TrackingCategory, ...] = ()

    def tax_rate(self, tax_type: str) -> TaxRate | None:
        return next((t for t in self.tax_rates if t.tax_type == tax_type), None)

    def account(self, code: str) -> Account | None:
        return next((a for a in self.accounts if a.code == code), None)

    def tracking_category(self, name: str) -> TrackingCategory | None:
        wanted = tracking_key(name)
        return next((c for c in self.tracking_categories if tracking_key(c.name) == wanted), None)
