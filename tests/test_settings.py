from __future__ import annotations

import json
from pathlib import Path

import pytest

from provet_xero_gui.settings import (
    DEFAULT_XERO_API_URL,
    AppPaths,
    Endpoints,
    ProvetSettings,
    Settings,
    SettingsFile,
)


def test_home_override_puts_everything_in_one_folder(profile_home: Path) -> None:
    paths = AppPaths.from_env().ensure()
    assert paths.settings_file == profile_home / "config" / "settings.json"
    assert paths.store_file.parent == profile_home / "data"
    assert all(d.is_dir() and profile_home in d.parents for d in (paths.config_dir, paths.data_dir, paths.log_dir))


def test_platform_folders_without_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PROVET_XERO_HOME")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    paths = AppPaths.from_env()
    assert paths.config_dir == tmp_path / "cfg" / "provet-xero"


def test_endpoint_overrides_from_environment() -> None:
    env = {
        "PROVET_XERO_PROVET_URL": "http://127.0.0.1:9000/4321",
        "PROVET_XERO_XERO_API_URL": "http://127.0.0.1:9001/",
        "PROVET_XERO_XERO_CLIENT_ID": "abc",
    }
    e = Endpoints.from_env(env)
    assert e.provet_url == "http://127.0.0.1:9000/4321/"
    assert e.xero_api_url == "http://127.0.0.1:9001"
    assert e.xero_client_id == "abc"
    assert Endpoints.from_env({}).xero_api_url == DEFAULT_XERO_API_URL


def test_first_load_creates_a_profile_and_round_trips(tmp_path: Path) -> None:
    f = SettingsFile(tmp_path / "settings.json")
    first = f.load()
    assert first.problem is None and len(first.settings.profile_id) == 32
    changed = f.update(provet=ProvetSettings(url="https://provetcloud.com/4321/", client_id="cid"))
    again = SettingsFile(tmp_path / "settings.json").load()
    assert again.settings == changed
    assert again.settings.profile_id == first.settings.profile_id
    assert json.loads((tmp_path / "settings.json").read_text())["version"] == 1


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    f = SettingsFile(tmp_path / "settings.json")
    for i in range(5):
        f.save(Settings(profile_id=f"p{i}"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.json"]
    assert f.load().settings.profile_id == "p4"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"version": 1, "sync": {"provet_poll_seconds": "fast"}', "not valid JSON at line 1"),
        ('{"version": 1, "sync": {"provet_poll_seconds": "fast"}}', "sync.provet_poll_seconds should be int"),
        ('{"version": 1, "sync": {"conflict_rule": "coin flip"}}', "conflict_rule is 'coin flip'"),
        ('{"version": 1, "start_at_login": 1}', "start_at_login should be bool"),
        ('{"version": 99}', "written by a newer provet-xero"),
        ("[1, 2]", "does not hold a JSON object"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
    ],
)
def test_damaged_file_is_kept_aside_with_a_plain_message(
    tmp_path: Path, content: str | bytes, expected: str
) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    result = SettingsFile(path).load()
    assert result.problem is not None
    assert expected in result.problem
    assert str(path) in result.problem and "settings.json.bad" in result.problem
    assert (tmp_path / "settings.json.bad").read_bytes() == (
        content if isinstance(content, bytes) else content.encode()
    )
    # The app goes on with defaults, written to a fresh file that loads cleanly.
    assert SettingsFile(path).load().problem is None


def test_damaged_file_keeps_its_profile_id_when_readable(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"version": 1, "profile_id": "abc123", "sync": {"xero_poll_seconds": 1}}')
    result = SettingsFile(path).load()
    assert "at least 10 seconds" in (result.problem or "")
    assert result.settings.profile_id == "abc123"


def test_unknown_keys_from_a_hand_edit_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"version": 1, "profile_id": "p", "colour": "blue", "xero": {"tenant_name": "Acme"}}')
    result = SettingsFile(path).load()
    assert result.problem is None and result.settings.xero.tenant_name == "Acme"
