"""Shared fixtures: every test runs in its own throwaway profile folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_ENDPOINT_VARS = (
    "PROVET_XERO_PROVET_URL",
    "PROVET_XERO_XERO_API_URL",
    "PROVET_XERO_XERO_IDENTITY_URL",
    "PROVET_XERO_XERO_LOGIN_URL",
    "PROVET_XERO_XERO_CLIENT_ID",
)


@pytest.fixture(autouse=True)
def profile_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PROVET_XERO_HOME in a temporary folder; endpoint overrides cleared."""
    home = tmp_path / "profile"
    monkeypatch.setenv("PROVET_XERO_HOME", str(home))
    for name in _ENDPOINT_VARS:
        monkeypatch.delenv(name, raising=False)
    return home


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", help="also run the long variants")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow") or os.environ.get("PROVET_XERO_RUNSLOW"):
        return
    skip = pytest.mark.skip(reason="long variant: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def synced(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    """(sandbox, profile): a sandbox clinic of 60 invoices, connected, the demo mapping saved, synced once."""
    from helpers.connected import connect_profile

    from provet_xero_gui.sandbox.runner import Sandbox, demo_mapping
    from provet_xero_gui.settings import write_json_atomically
    from provet_xero_gui.sync.runner import run_sync

    with Sandbox(size=60) as sandbox:
        profile = connect_profile(sandbox, monkeypatch)
        write_json_atomically(profile.paths.mapping_file, demo_mapping())
        assert run_sync(profile).stopped is None
        yield sandbox, profile
