"""The real window (`provet_xero_gui.ui.app.main`, offscreen) in a process of its own, driven as an admin
drives it: it starts, its scheduled first pass runs on the worker thread, and once a pass has finished it
is quit with Ctrl+Q (the File menu's Quit). What the window showed is written as JSON to `--out`; the
process exits with main()'s own exit code.

    python -m helpers.window_process --out result.json                    # the profile and sandbox of the env
    python -m helpers.window_process --out r.json --sandbox-size 3000      # its own sandbox, clock sped up

With `--sandbox-size` the sandbox runs in this process on a clock `--scale` times faster than real time,
and the app paces both services on that clock (as the window benchmark does); afterwards the result says
whether every document arrived in Xero exactly once (helpers/exactly_once.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from functools import partial
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for helpers.*

from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest

from provet_xero_gui.app.passes import run_sync
from provet_xero_gui.profile import Profile
from provet_xero_gui.sync.events import SyncResult
from provet_xero_gui.ui.app import AppShell, main
from provet_xero_gui.ui.log_model import MESSAGE


class Driver:
    """Watches the running window and quits it the way a person does, after `passes` passes."""

    def __init__(self, shell: AppShell, out: dict[str, Any], passes: int) -> None:
        self.shell = shell
        self.out = out
        self.passes = passes
        out.update(passes=[], stopped_dialog=None, events_seen=0)
        shell.controller.pass_finished.connect(self._finished)
        shell.controller.cannot_sync.connect(lambda why: self._quit_after(f"cannot sync: {why}"))
        shell.controller.progress.connect(self._progress)

    def _progress(self, *_args: object) -> None:
        self.out["events_seen"] += 1

    def _finished(self, result: SyncResult) -> None:
        self.out["passes"].append({"stopped": result.stopped, "sent": result.sent})
        if len(self.out["passes"]) >= self.passes:
            self._quit_after(None)

    def _quit_after(self, why: str | None) -> None:
        if why:
            self.out["problem"] = why
        # The status and log reads after a pass arrive a moment later; then Ctrl+Q, as a person quits.
        QTimer.singleShot(500, self._quit)

    def _quit(self) -> None:
        window = self.shell.window
        model = window.log_model
        self.out["log"] = [model.index(r, MESSAGE).data() for r in range(model.rowCount())]
        self.out["tray_state"] = self.shell.controller.tray_state
        dialog = self.shell.stopped_dialog
        if dialog is not None:
            self.out["stopped_dialog"] = {"title": dialog.windowTitle(), "intro": dialog.intro_label.text(),
                                          "report": dialog.report_text, "visible": dialog.isVisible()}
        window.activateWindow()
        QTest.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
        if not self.shell._stopped:  # no shortcut map on this platform: the menu's Quit, the same action
            window.quit_action.trigger()


def _own_sandbox(size: int, scale: float) -> tuple[Any, Any]:
    """A sandbox in this process on a sped-up clock, connected and mapped as the demo does."""
    from provet_xero_gui.app.demo import connect_provet, connect_xero, point_at
    from provet_xero_gui.mapping import Mapping, MappingFile
    from provet_xero_gui.sandbox.runner import Sandbox, demo_mapping
    from provet_xero_gui.xero.limits import XeroLimiter

    sandbox = Sandbox(size=size, time_scale=scale).start()
    point_at(sandbox)
    profile = Profile.open()
    connect_provet(profile, sandbox)
    connect_xero(profile, sandbox)
    MappingFile(profile.paths.mapping_file).save(Mapping.from_json(demo_mapping()))

    def sleep(sandbox_seconds: float) -> None:
        time.sleep(sandbox.clock.real_seconds(max(0.0, sandbox_seconds)))

    clock = sandbox.clock.seconds
    run = partial(run_sync, limiter=XeroLimiter(clock=clock, sleep=sleep), sleep=sleep, clock=clock)
    return sandbox, run


def run(args: argparse.Namespace) -> int:
    out: dict[str, Any] = {}
    sandbox = None
    kwargs: dict[str, Any] = {}
    if args.sandbox_size:
        sandbox, kwargs["run"] = _own_sandbox(args.sandbox_size, args.scale)
    started = time.perf_counter()
    try:
        code = main(["provet-xero"], profile=Profile.open(),
                    before_exec=lambda shell: Driver(shell, out, args.passes), **kwargs)
        out["exit"] = code
        out["seconds"] = round(time.perf_counter() - started, 1)
        if sandbox is not None:
            from helpers.exactly_once import assert_exactly_once, expected_numbers

            invoices, notes = expected_numbers(sandbox)
            out["expected_documents"] = len(invoices) + len(notes)
            try:
                assert_exactly_once(sandbox)
                out["exactly_once"] = "yes"
            except AssertionError as exc:
                out["exactly_once"] = f"no: {exc}"
    finally:
        Path(args.out).write_text(json.dumps(out, default=str), encoding="utf-8")
        if sandbox is not None:
            sandbox.stop()
    return code


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--passes", type=int, default=1)
    parser.add_argument("--sandbox-size", type=int, default=0)
    parser.add_argument("--scale", type=float, default=60.0)
    try:
        sys.exit(run(parser.parse_args()))
    except Exception:
        traceback.print_exc()
        sys.exit(3)
