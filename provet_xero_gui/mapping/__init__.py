"""The mapping from Provet's VAT groups, payment methods and sales accounts onto Xero's tax rates and
accounts (and, optionally, departments onto a Xero tracking category's options): the model and its JSON
(model.py), the profile's file (file.py), the project's row and payment rules (rules.py), the check against
what Xero has now (checks.py), the sample of what Provet uses (usage.py) and a first suggestion (suggest.py).
Everything a caller needs is importable from here.
"""

from provet_xero_gui.mapping.checks import MappingProblem, check_mapping, tracking_trouble
from provet_xero_gui.mapping.file import MAX_MAPPING_BYTES, MappingFile, parse_mapping_text, read_mapping_file
from provet_xero_gui.mapping.model import (
    CONSOLIDATED_CHOICES,
    INVOICE_STATUSES,
    MAPPING_VERSION,
    Mapping,
    MappingError,
    TrackingChoice,
)
from provet_xero_gui.mapping.rules import (
    NOT_MONEY_TYPES,
    PT_ROUNDING,
    RowVatGroup,
    department_label,
    payment_key,
    payment_method_label,
    vat_group_for_row,
)
from provet_xero_gui.mapping.suggest import Suggestion, suggest_mapping
from provet_xero_gui.mapping.usage import (
    RECENT_INVOICES,
    MappingUsage,
    read_departments,
    read_payment_methods,
    read_usage,
    read_vat_groups,
    usage_of,
)

__all__ = [
    "CONSOLIDATED_CHOICES", "INVOICE_STATUSES", "MAPPING_VERSION", "MAX_MAPPING_BYTES", "NOT_MONEY_TYPES",
    "PT_ROUNDING", "RECENT_INVOICES", "Mapping", "MappingError", "MappingFile", "MappingProblem", "MappingUsage",
    "RowVatGroup", "Suggestion", "TrackingChoice", "check_mapping", "department_label", "parse_mapping_text",
    "payment_key", "payment_method_label", "read_departments", "read_mapping_file", "read_payment_methods",
    "read_usage", "read_vat_groups", "suggest_mapping", "tracking_trouble", "usage_of", "vat_group_for_row",
]
