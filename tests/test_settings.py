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
    WindowSettings,
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


def test_the_window_section_round_trips_as_plain_values(tmp_path: Path) -> None:
    f = SettingsFile(tmp_path / "settings.json")
    f.load()
    window = WindowSettings(x=-1280, y=40, width=1000, height=640, maximized=True, tab="log",
                            splitters={"log.0": [380, 160]}, log_header="AAAA/w==", log_newest_first=False,
                            tray_hint_shown=True)
    f.update(window=window)
    raw = json.loads((tmp_path / "settings.json").read_text(encoding="utf-8"))["window"]
    assert raw["x"] == -1280 and raw["splitters"] == {"log.0": [380, 160]} and raw["tab"] == "log"
    assert f.load().settings.window == window
    assert window.geometry == (-1280, 40, 1000, 640)
    assert WindowSettings(x=1, y=2, width=3).geometry is None  # all four or none


def test_damaged_window_values_are_dropped_and_nothing_else_is_lost(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({
        "version": 1, "profile_id": "abc123", "start_at_login": True, "sync": {"provet_poll_seconds": 120},
        "window": {"x": "left", "y": 5, "width": 800, "height": 600, "maximized": "yes", "tab": 7,
                   "splitters": {"log.0": [300, "a"], "tieout.0": [10], "tieout.1": [200, 100], "x": 5},
                   "log_header": None, "log_newest_first": False, "tray_hint_shown": 1},
    }), encoding="utf-8")
    loaded = SettingsFile(path).load()
    assert loaded.problem is None and not path.with_name("settings.json.bad").exists()
    s = loaded.settings
    assert (s.profile_id, s.start_at_login, s.sync.provet_poll_seconds) == ("abc123", True, 120)
    w = s.window
    assert w.geometry is None and w.maximized is False and w.tab is None and w.tray_hint_shown is False
    assert w.splitters == {"tieout.1": [200, 100]}
    assert w.log_newest_first is False  # the good values stay


@pytest.mark.parametrize("window", [
    "big", [1, 2], {"x": 10, "y": 10, "width": 0, "height": 500}, {"x": 10, "y": 10, "width": 10**9, "height": 5},
    {"x": True, "y": 0, "width": 800, "height": 600}, {"splitters": ["log.0"]}, {"log_header": "A" * 50_000},
])
def test_a_damaged_window_section_gives_the_defaults(tmp_path: Path, window: object) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"version": 1, "profile_id": "abc123", "window": window}), encoding="utf-8")
    loaded = SettingsFile(path).load()
    assert loaded.problem is None
    assert loaded.settings.window == WindowSettings()


_BUMP_SCRIPT = """
import sys
from dataclasses import replace
from pathlib import Path
from provet_xero_gui.settings import SettingsFile
f = SettingsFile(Path(sys.argv[1]))
for _ in range(int(sys.argv[2])):
    f.change(lambda s: replace(s, sync=replace(s.sync, provet_poll_seconds=s.sync.provet_poll_seconds + 1)))
"""


def test_edits_from_threads_and_another_process_at_once_lose_nothing(tmp_path: Path) -> None:
    """The window, the sync thread and the command line all edit the file: no edit undoes another."""
    import subprocess
    import sys
    import threading
    from dataclasses import replace

    path = tmp_path / "settings.json"
    f = SettingsFile(path)
    f.load()

    def bump(times: int) -> None:
        for _ in range(times):
            f.change(lambda s: replace(s, sync=replace(s.sync, provet_poll_seconds=s.sync.provet_poll_seconds + 1)))

    other = subprocess.Popen([sys.executable, "-c", _BUMP_SCRIPT, str(path), "40"])
    threads = [threading.Thread(target=bump, args=(40,)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert other.wait(timeout=60) == 0
    assert SettingsFile(path).load().settings.sync.provet_poll_seconds == 60 + 4 * 40
    assert not list(tmp_path.glob("*.bad"))
