"""Fixtures for the window's tests: a sandbox clinic and a profile connected to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers.connected import connect_profile

from provet_xero_gui.mapping import Mapping, MappingFile
from provet_xero_gui.profile import Profile
from provet_xero_gui.sandbox.runner import Sandbox, demo_mapping


@pytest.fixture
def make_connected(monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """make_connected(size) -> (sandbox, profile): Provet and Xero connected, the demo mapping saved."""
    started: list[Sandbox] = []

    def make(size: int = 12) -> tuple[Sandbox, Profile]:
        sandbox = Sandbox(size=size).start()
        started.append(sandbox)
        profile = connect_profile(sandbox, monkeypatch)
        MappingFile(profile.paths.mapping_file).save(Mapping.from_json(demo_mapping()))
        return sandbox, profile.reload()

    yield make
    for sandbox in started:
        sandbox.stop()
