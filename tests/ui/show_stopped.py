"""Not a test: the window's next start after a native crash, to look at the "stopped unexpectedly" dialog.
It needs a keyring, as the demo does:

    /work/shared/tools/shot /tmp/stopped.png 14 dbus-run-session -- bash -c 'eval "$(printf pass |
        gnome-keyring-daemon --unlock --components=secrets)"; .venv/bin/python tests/ui/show_stopped.py'
"""

from __future__ import annotations

import subprocess
import sys

from provet_xero_gui.app.demo import connect_provet, connect_xero, point_at, throwaway_profile
from provet_xero_gui.mapping import Mapping, MappingFile
from provet_xero_gui.profile import Profile
from provet_xero_gui.sandbox.runner import Sandbox, demo_mapping
from provet_xero_gui.ui.app import main

# A run of the app that crashes natively while its crash log is open, as a real crash would.
CRASH = """
import faulthandler
from provet_xero_gui.crash_log import CrashLog
from provet_xero_gui.profile import Profile
p = Profile.open()
p.paths.log_file.write_text("2026-12-02 18:40:01 INFO provet_xero_gui.sync: sending invoices 1,450 of 5,000\\n")
CrashLog(p.paths.log_dir, p.paths.log_file).open()
faulthandler._sigsegv()
"""


def run() -> int:
    with Sandbox(size=60) as sandbox, throwaway_profile():
        point_at(sandbox)
        profile = Profile.open()
        connect_provet(profile, sandbox)
        connect_xero(profile.reload(), sandbox)
        MappingFile(profile.paths.mapping_file).save(Mapping.from_json(demo_mapping()))
        subprocess.run([sys.executable, "-c", CRASH], check=False)
        return main(profile=profile.reload(), before_exec=lambda shell: shell.window.move(0, 0),
                    today=lambda: sandbox.clock.now().date())


if __name__ == "__main__":
    sys.exit(run())
