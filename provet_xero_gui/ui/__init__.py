"""The desktop app (PySide6). The only layer that imports Qt."""

from provet_xero_gui.ui.qt_guard import make_emit_safe

# Before any of the app's signals is sent: a PySide6 whose emit() loses references to True would abort
# the process during a clinic-size sync (qt_guard.py says why and how).
make_emit_safe()
