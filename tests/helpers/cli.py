"""`provet-xero ARGS` run in this process: the same `main()` the console script calls, with standard input,
output and error of its own, answered as a finished process would be (exit code, stdout, stderr). A child
process is kept for what needs one (a kill, a lock held by another process, the console script itself)."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys

from provet_xero_gui.cli import main


class _Input(io.StringIO):
    """Standard input from a pipe (not a terminal), as a child process given `input=` has."""

    def isatty(self) -> bool:
        return False


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    out, err = io.StringIO(), io.StringIO()
    saved_stdin = sys.stdin
    sys.stdin = _Input(stdin or "")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse: --help, --version, a usage error
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    finally:
        sys.stdin = saved_stdin
    return subprocess.CompletedProcess(["provet-xero", *args], code, out.getvalue(), err.getvalue())
