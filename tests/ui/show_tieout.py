"""Not a test: shows the Tie-out page with a sample week (long names, each colour; argument `month`: inside
a whole month), or with nothing yet (argument `empty`), to look at it.

    /work/shared/tools/shot /tmp/tieout.png 4 .venv/bin/python tests/ui/show_tieout.py
"""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from PySide6.QtWidgets import QApplication
from test_tieout_view import sample_report

from provet_xero_gui.ui.tieout_view import TieOutView


def main() -> int:
    app = QApplication(sys.argv[:1])
    view = TieOutView(today=lambda: date(2026, 10, 14))
    view.setWindowTitle("provet-xero — Tie-out")
    if "empty" not in sys.argv[1:]:
        report = sample_report()
        if "month" in sys.argv[1:]:  # the week inside a whole month of green days
            more = tuple(replace(report.days[0], day=date(2026, 9, n)) for n in range(8, 31))
            report = replace(report, end=date(2026, 9, 30), days=report.days + more)
        view.set_report(report)
        view.select_day(date(2026, 9, 4))
    view.resize(1340, 720)
    view.move(10, 10)
    view.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
