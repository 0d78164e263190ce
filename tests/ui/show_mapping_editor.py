"""Not a test: shows the mapping editor filled with the generated clinic and the demo mapping, with one problem
from `mapping check`, to look at it (`/work/shared/tools/shot /tmp/map.png 6 python tests/ui/show_mapping_editor.py`).

Optional argument: the tab to show (vat_groups, payment_methods, sales_accounts, departments, settings).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from PySide6.QtWidgets import QApplication
from test_mapping_editor import DEMO, clinic_sources

from provet_xero_gui.mapping import TrackingChoice, check_mapping
from provet_xero_gui.ui.mapping_editor import MappingEditor


def main() -> int:
    app = QApplication(sys.argv[:1])
    src = clinic_sources()
    # problems: a VAT group mapped to an archived tax rate, Stripe terminal mapped to an expense account,
    # and the Reduced 5% group, used on invoices, left unmapped; Main Street tagged, Riverside on the closed
    # (archived) site's option, Mobile & Equine without tracking
    mapping = replace(
        DEMO,
        payment_methods={**DEMO.payment_methods, "method:15": "404"},
        vat_groups={**{k: v for k, v in DEMO.vat_groups.items() if k != "3"}, "2": "TAX001"},
        departments={"1": TrackingChoice("Department", "Happy Paws Main Street"),
                     "2": TrackingChoice("Department", "Old Town (closed)")},
    )
    editor = MappingEditor()
    editor.setWindowTitle("provet-xero — Mapping")
    editor.set_sources(src.groups, src.methods, src.numbers, src.xero, src.usage, departments=src.departments)
    editor.set_mapping(mapping)
    problems = check_mapping(mapping, src.xero, src.groups, src.methods, src.usage.vat_groups,
                             src.usage.payment_keys, src.usage.account_numbers, departments=src.departments)
    editor.show_problems(problems)
    editor.resize(1340, 720)
    editor.move(10, 10)
    editor.show()
    tab = sys.argv[1] if len(sys.argv) > 1 else "vat_groups"
    if tab == "settings":
        editor.tabs.setCurrentWidget(editor.settings_page)
    else:
        editor.focus_where({"payment_methods": "payment_methods:method:15", "vat_groups": "vat_groups:2",
                            "sales_accounts": "sales_accounts:201", "departments": "departments:2"}[tab])
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
