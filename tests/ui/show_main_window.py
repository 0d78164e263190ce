"""Screenshots of the main window (not a test): the demo clinic, already connected and synced once.

    /work/shared/tools/shot OUT.png 20 bash -c '... .venv/bin/python tests/ui/show_main_window.py [log|tieout|long]'
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer

from provet_xero_gui.app.demo import connect_provet, connect_xero, point_at, throwaway_profile
from provet_xero_gui.mapping import Mapping, MappingFile
from provet_xero_gui.profile import Profile
from provet_xero_gui.sandbox.runner import Sandbox, demo_mapping
from provet_xero_gui.ui.app import AppShell, main


def _prepare(shell: AppShell) -> None:
    page = sys.argv[1] if len(sys.argv) > 1 else ""
    shell.window.move(0, 0)
    if page == "log":
        QTimer.singleShot(6_000, lambda: shell.window.tabs.setCurrentWidget(shell.window.log_view))
        QTimer.singleShot(7_000, lambda: shell.window.log_view.table.selectRow(3))
    if page == "tieout":
        QTimer.singleShot(6_000, lambda: shell.window.tabs.setCurrentWidget(shell.window.tieout_page))
        QTimer.singleShot(6_500, shell.window.tieout_page.run_chosen)
    QTimer.singleShot(500, shell.controller.sync_now)


def run() -> int:
    with Sandbox(size=int(sys.argv[2]) if len(sys.argv) > 2 else 60) as sandbox, throwaway_profile():
        point_at(sandbox)
        profile = Profile.open()
        connect_provet(profile, sandbox)
        connect_xero(profile.reload(), sandbox)
        MappingFile(profile.paths.mapping_file).save(Mapping.from_json(demo_mapping()))
        # The clinic's own calendar (its documents are from the month before the sandbox's "today").
        return main(profile=profile.reload(), before_exec=_prepare, today=lambda: sandbox.clock.now().date())


if __name__ == "__main__":
    sys.exit(run())
