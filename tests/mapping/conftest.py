from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
from helpers.cli import run_cli
from helpers.connected import (
    connect_profile,
    connected_profile,  # noqa: F401  (the shared fixture, used here too)
)

from provet_xero_gui.cli import main
from provet_xero_gui.profile import Profile
from provet_xero_gui.sandbox.runner import Sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(size=12) as sb:
        yield sb


@pytest.fixture
def fresh_sandbox(sandbox: Sandbox) -> Sandbox:
    """Provet and Xero back to their seed (planted problems of the last test gone)."""
    sandbox.provet.reset()
    sandbox.xero.reset()
    return sandbox


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`provet-xero ARGS` (in this process: a child process would add only its start-up time)."""
    return run_cli(*args, stdin=stdin)


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The same command in this process (faster; for the many check variations): exit code, stdout, stderr."""
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def connected(fresh_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Profile:
    """A profile connected to a sandbox just reset to its seed."""
    return connect_profile(fresh_sandbox, monkeypatch)
