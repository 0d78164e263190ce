"""Not a test: the app's window in a throwaway profile, then a slot that raises, to look at the crash dialog.

    /work/shared/tools/shot /tmp/crash.png 8 .venv/bin/python tests/ui/show_crash.py
"""

from __future__ import annotations

import os
import sys
import tempfile

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

os.environ["PROVET_XERO_HOME"] = tempfile.mkdtemp(prefix="provet-xero-show-")

from provet_xero_gui.profile import Profile
from provet_xero_gui.ui.app import AppShell


def open_mapping_row() -> None:
    row = {"vat_group": 3, "access_token": "eyJhbGciOiJSUzI1NiIsImtpZCI6IjFDQUY4RTY2NzcyRDZEQzAyOEQ2NzI2RkQwMjYxNTgx"}
    raise KeyError(f"VAT group {row['vat_group']} vanished while dragging it (row {row})")


def main() -> int:
    app = QApplication(sys.argv[:1])
    shell = AppShell(app, Profile.open(), use_tray=False, schedule=False)
    shell.window.resize(1100, 700)
    shell.window.move(10, 10)
    shell.start()
    QTimer.singleShot(1500, open_mapping_row)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
