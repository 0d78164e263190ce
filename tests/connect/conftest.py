from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.cli import run_cli

from provet_xero_gui.sandbox.runner import Sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(size=12) as sb:
        yield sb


@pytest.fixture
def app_env(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, profile_home: Path) -> dict[str, str]:
    """This process and its children point at the sandbox; Xero starts from its seed for each test."""
    sandbox.xero.reset()
    for key, value in sandbox.env().items():
        monkeypatch.setenv(key, value)
    return dict(os.environ)


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`provet-xero ARGS` in this process (`start_cli` for one that waits for the browser)."""
    return run_cli(*args, stdin=stdin)


def start_cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "provet_xero_gui", *args],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
