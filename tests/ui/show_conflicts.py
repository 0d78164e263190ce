"""Not a test: shows the conflict view with realistic conflicts (or none: argument `empty`), to look at it.

    /work/shared/tools/shot /tmp/conflicts.png 4 .venv/bin/python tests/ui/show_conflicts.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from PySide6.QtWidgets import QApplication  # noqa: E402
from test_conflict_view import CONFLICTS, NAMES, conflict  # noqa: E402

from provet_xero_gui.ui.conflict_view import ConflictView  # noqa: E402

MORE = [
    conflict(5, "31", "street", "14 Old Mill Lane", "14 Old Mill Lane, Flat 3 (rear entrance by the car park)",
             "Flat 3, 14 Old Mill Lane"),
    conflict(6, "31", "tax_number", None, "GB 123 4567 89", "GB123456780"),
    conflict(7, "44", "email", "jo@example.org", "jo.brennan@example.org", "joanne.brennan@example.org"),
]
MORE_NAMES = {"31": "Østergaard Riding School & Livery Stables", "44": "Joanne Brennan"}


def main() -> int:
    app = QApplication(sys.argv[:1])
    view = ConflictView()
    view.setWindowTitle("provet-xero — Conflicts")
    view.set_conflicts([] if "empty" in sys.argv[1:] else [*CONFLICTS, *MORE], {**NAMES, **MORE_NAMES})
    view.select_conflict(1)
    if "refused" in sys.argv[1:]:
        view.show_refusal("The email was changed again in Provet (now billing.new@alvarez.example) after conflict 1 "
                          "was recorded, so nothing was chosen. The next sync shows the conflict with the new values; "
                          "choose again then.")
    view.resize(1320, 700)
    view.move(10, 10)
    view.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
