"""Shared fixtures: every test runs in its own throwaway profile folder. And the contract checks: every
exchange with the sandbox (in this process and in the command lines tests start) is recorded, and at the end
of the run checked against Xero's OpenAPI documents and provet-api.md (tests/contract/checker.py); any
violation fails the run. PROVET_XERO_CONTRACT=off skips them; a test that sends what the documents forbid on
purpose is marked `contract_exempt("why")`, one whose sandbox spoils its answers `contract_bad_answers("why")`."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import warnings
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


_RECORD_ENV = "PROVET_XERO_SANDBOX_RECORD"  # provet_xero_gui.sandbox.httpbase.RECORD_ENV
_contract: dict[str, Any] = {}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "contract_exempt(reason): sends what Xero's or Provet's documents do not "
                                       "allow on purpose; its exchanges are not contract-checked")
    config.addinivalue_line("markers", "contract_bad_answers(reason): the sandbox spoils its answers on purpose; "
                                       "only the requests are contract-checked")
    if os.environ.get("PROVET_XERO_CONTRACT", "on") == "off" or os.environ.get(_RECORD_ENV):
        return  # off, or an outer run records (a test that runs pytest itself)
    folder = tempfile.mkdtemp(prefix="provet-xero-exchanges-")
    os.environ[_RECORD_ENV] = folder
    _contract["folder"] = folder


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    folder = _contract.pop("folder", None)
    if folder is None:
        return
    os.environ.pop(_RECORD_ENV, None)
    from pathlib import Path

    from contract.checker import check_all, read_exchanges

    started = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # openapi_core: "Unsupported scheme type" (OAuth2)
            seen, checked, problems = check_all(read_exchanges(Path(folder)), frozenset(_contract.get("exempt", ())),
                                                frozenset(_contract.get("bad_answers", ())))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    took = time.perf_counter() - started
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_line(f"contract: {seen} sandbox exchanges, {checked} distinct ones checked against Xero's "
                            f"OpenAPI documents and provet-api.md in {took:.1f} s, {len(problems)} violation(s)")
        for line in problems[:60]:
            reporter.write_line(f"  CONTRACT VIOLATION {line}", red=True)
    if problems:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _contract["exempt"] = {item.nodeid for item in items if item.get_closest_marker("contract_exempt")}
    _contract["bad_answers"] = {item.nodeid for item in items if item.get_closest_marker("contract_bad_answers")}
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

    from provet_xero_gui.app.passes import run_sync
    from provet_xero_gui.sandbox.runner import Sandbox, demo_mapping
    from provet_xero_gui.settings import write_json_atomically

    with Sandbox(size=60) as sandbox:
        profile = connect_profile(sandbox, monkeypatch)
        write_json_atomically(profile.paths.mapping_file, demo_mapping())
        assert run_sync(profile).stopped is None
        yield sandbox, profile
