"""A small connected clinic for the reliability tests that drive the command line and the engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.connected import connect_profile

from provet_xero_gui.mapping import Mapping, MappingFile
from provet_xero_gui.profile import Profile
from provet_xero_gui.sandbox.runner import Sandbox, demo_mapping


@pytest.fixture
def clinic(monkeypatch: pytest.MonkeyPatch, profile_home: Path) -> Iterator[tuple[Sandbox, Profile]]:
    """A 12-invoice sandbox clinic with a profile connected to it and the demo mapping saved."""
    with Sandbox(size=12) as sandbox:
        profile = connect_profile(sandbox, monkeypatch)
        MappingFile(profile.paths.mapping_file).save(Mapping.from_json(demo_mapping()))
        yield sandbox, profile.reload()
