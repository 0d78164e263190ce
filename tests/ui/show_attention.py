"""Not a test: shows the attention view with realistic items (or none: argument `empty`), to look at it.

    /work/shared/tools/shot /tmp/attention.png 4 .venv/bin/python tests/ui/show_attention.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from PySide6.QtWidgets import QApplication
from test_attention_view import ITEMS, item

from provet_xero_gui.ui.attention_view import AttentionView

MORE = [
    item(7, "invoice", "230", "Invoice 2024-230 (Dr. Maximilian von Hohenzollern-Sigmaringen, £1,284.60)",
         "xero_rejected", "Xero refused it: The Contact must be active to be used on a transaction",
         "Restore the contact in Xero (Contacts → Archived), then Retry."),
    item(8, "invoice", "231", "Invoice 2024-231 (Ms Siobhán Ní Bhriain, £56.00)", "rounding_account_missing",
         "Xero would total it 56.01, not 56.00, and no rounding account is chosen",
         "Choose a rounding account in the mapping, then Retry."),
]


def main() -> int:
    app = QApplication(sys.argv[:1])
    view = AttentionView()
    view.setWindowTitle("provet-xero — Attention")
    view.set_items([] if "empty" in sys.argv[1:] else [*ITEMS, *MORE])
    view.set_vat_group_ids({"Reduced 5%": 3})
    view.select_item("invoice:101")
    view.resize(1320, 700)
    view.move(10, 10)
    view.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
