"""Start at login: the file each platform reads, written and removed under a temporary home."""

from __future__ import annotations

import plistlib
from pathlib import Path

import pytest

from provet_xero_gui import autostart

COMMAND = ["/opt/provet xero/bin/python", "-m", "provet_xero_gui"]


def test_linux_autostart_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    assert not autostart.is_enabled(platform="linux")
    autostart.enable(COMMAND, platform="linux")
    path = tmp_path / ".config" / "autostart" / "provet-xero.desktop"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("[Desktop Entry]\n")
    assert 'Exec="/opt/provet xero/bin/python" -m provet_xero_gui\n' in text
    assert "Type=Application\n" in text and "X-GNOME-Autostart-enabled=true\n" in text
    assert autostart.is_enabled(platform="linux")
    autostart.disable(platform="linux")
    assert not path.exists() and not autostart.is_enabled(platform="linux")


def test_linux_follows_xdg_config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    autostart.enable(["provet-xero"], platform="linux")
    assert (tmp_path / "cfg" / "autostart" / "provet-xero.desktop").exists()


def test_macos_launch_agent(tmp_path: Path) -> None:
    autostart.enable(COMMAND, platform="darwin", home=tmp_path)
    path = tmp_path / "Library" / "LaunchAgents" / "com.provet-xero.app.plist"
    plist = plistlib.loads(path.read_bytes())
    assert plist["ProgramArguments"] == COMMAND
    assert plist["RunAtLoad"] is True and plist["Label"] == "com.provet-xero.app"
    autostart.disable(platform="darwin", home=tmp_path)
    assert not path.exists()


def test_windows_run_key_command_line() -> None:
    assert autostart.run_key_value(COMMAND) == '"/opt/provet xero/bin/python" -m provet_xero_gui'
    assert autostart.autostart_file("win32") is None


def test_desktop_exec_quoting() -> None:
    line = autostart.desktop_entry(["/usr/bin/app", "100%", 'say "hi"']).splitlines()[4]
    assert line == 'Exec=/usr/bin/app "100%%" "say \\"hi\\""'
