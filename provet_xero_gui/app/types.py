"""The value types the window and the command line may hold: frozen dataclasses, enums and constants that cross
from the application layer to them (and the application layer's own results). Re-exported here so that the rule
for `ui/` and `cli.py` is simply "import only `provet_xero_gui.app`" (tests/test_layers.py checks it)."""

from __future__ import annotations

from provet_xero_gui.app.application import Retried
from provet_xero_gui.app.attention import RetryOutcome
from provet_xero_gui.app.conflicts import ConflictChoice, ConflictSnapshot, Resolution
from provet_xero_gui.app.errors import AppError
from provet_xero_gui.app.mapping import MappingCheck, Suggested
from provet_xero_gui.app.onboarding import MappingSources, SetupState, Step, XeroSignIn
from provet_xero_gui.app.organisation import OrganisationQuestion
from provet_xero_gui.app.status import DocumentDetails, Status
from provet_xero_gui.mapping import NOT_MONEY_TYPES, Mapping, MappingProblem, MappingUsage, TrackingChoice
from provet_xero_gui.profile import Profile
from provet_xero_gui.provet.client import ProvetCheck
from provet_xero_gui.provet.records import PAYMENT_TYPE_NAMES, Department, PaymentMethod, VatGroup
from provet_xero_gui.settings import WindowSettings
from provet_xero_gui.store import Binding, LogEntry
from provet_xero_gui.store.conflicts import Conflict
from provet_xero_gui.store.sync_state import AttentionItem
from provet_xero_gui.sync.events import ConflictFound, Event, PassFinished, Progress, SyncResult
from provet_xero_gui.tieout import (
    EQUAL,
    EXPLAINED,
    HELD,
    STATUS_WORDS,
    UNEXPLAINED,
    Difference,
    TieOutDay,
    TieOutLine,
    TieOutReport,
)
from provet_xero_gui.tieout.daily import DailyTieOut
from provet_xero_gui.xero.identity import Tenant
from provet_xero_gui.xero.reference import XeroReference

__all__ = [
    "EQUAL", "EXPLAINED", "HELD", "NOT_MONEY_TYPES", "PAYMENT_TYPE_NAMES", "STATUS_WORDS", "UNEXPLAINED",
    "AppError", "AttentionItem", "Binding", "Conflict", "ConflictChoice", "ConflictFound", "ConflictSnapshot",
    "DailyTieOut", "Department", "Difference", "DocumentDetails", "Event", "LogEntry", "Mapping", "MappingCheck",
    "MappingProblem", "MappingSources", "MappingUsage", "OrganisationQuestion", "PassFinished", "PaymentMethod",
    "Profile", "Progress", "ProvetCheck", "Resolution", "Retried", "RetryOutcome", "SetupState", "Status", "Step",
    "Suggested", "SyncResult", "Tenant", "TieOutDay", "TieOutLine", "TieOutReport", "TrackingChoice", "VatGroup",
    "WindowSettings", "XeroReference", "XeroSignIn",
]  # fmt: skip
