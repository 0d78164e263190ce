"""Start at login: the file each platform reads, written and removed under a temporary home."""

from __future__ import annotations

import plistlib
from pathlib import Path

import pytest

from provet_xero_gui import autostart

COMMAND = ["/opt/provet xero/bin/python", "-m", "provet_xero_gui", "--minimized"]
OLD_COMMAND = COMMAND[:-1]  # what versions before --minimized wrote


def test_login_starts_the_app_in_the_tray(monkeypatch: pytest.MonkeyPatch) -> None:
    assert autostart.launch_command()[-1] == "--minimized"
    assert autostart.launch_command()[1:] == ["-m", "provet_xero_gui", "--minimized"]
    monkeypatch.setattr("sys.frozen", True, raising=False)
    monkeypatch.setattr("sys.executable", r"C:\Programs\provet-xero\provet-xero.exe")
    assert autostart.launch_command() == [r"C:\Programs\provet-xero\provet-xero.exe", "--minimized"]
    assert autostart.launch_command(minimized=False) == [r"C:\Programs\provet-xero\provet-xero.exe"]


def test_linux_autostart_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    assert not autostart.is_enabled(platform="linux")
    autostart.enable(COMMAND, platform="linux")
    path = tmp_path / ".config" / "autostart" / "provet-xero.desktop"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("[Desktop Entry]\n")
    assert 'Exec="/opt/provet xero/bin/python" -m provet_xero_gui --minimized\n' in text
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
    assert plist["ProgramArguments"][-1] == "--minimized"
    assert plist["RunAtLoad"] is True and plist["Label"] == "com.provet-xero.app"
    autostart.disable(platform="darwin", home=tmp_path)
    assert not path.exists()


def test_windows_run_key_command_line() -> None:
    assert autostart.run_key_value(COMMAND) == '"/opt/provet xero/bin/python" -m provet_xero_gui --minimized'
    assert autostart.autostart_file("win32") is None


def test_desktop_exec_quoting() -> None:
    line = autostart.desktop_entry(["/usr/bin/app", "100%", 'say "hi"']).splitlines()[4]
    assert line == 'Exec=/usr/bin/app "100%%" "say \\"hi\\""'


def test_an_older_entry_of_this_installation_is_rewritten_to_start_in_the_tray(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    desktop = tmp_path / ".config" / "autostart" / "provet-xero.desktop"
    assert not autostart.refresh(COMMAND, platform="linux")  # none: nothing written
    assert not desktop.exists()
    autostart.enable(OLD_COMMAND, platform="linux")
    assert autostart.refresh(COMMAND, platform="linux")
    assert 'Exec="/opt/provet xero/bin/python" -m provet_xero_gui --minimized\n' in desktop.read_text("utf-8")
    assert not autostart.refresh(COMMAND, platform="linux")  # already right

    autostart.enable(OLD_COMMAND, platform="darwin", home=tmp_path)
    assert autostart.refresh(COMMAND, platform="darwin", home=tmp_path)
    plist = tmp_path / "Library" / "LaunchAgents" / "com.provet-xero.app.plist"
    assert plistlib.loads(plist.read_bytes())["ProgramArguments"] == COMMAND

    autostart.enable(["/usr/local/other/provet-xero"], platform="linux")  # another installation's: left alone
    assert not autostart.refresh(COMMAND, platform="linux")
    assert "Exec=/usr/local/other/provet-xero\n" in desktop.read_text("utf-8")


def test_the_windows_installers_run_value_is_rewritten(monkeypatch: pytest.MonkeyPatch) -> None:
    exe = r"C:\Users\anna\AppData\Local\Programs\provet-xero\provet-xero.exe"
    registry = {"value": f'"{exe}"'}  # as provet-xero.iss writes it
    monkeypatch.setattr(autostart, "_windows_get", lambda: registry["value"])
    monkeypatch.setattr(autostart, "_windows_set", lambda value: registry.update(value=value))
    assert autostart.refresh([exe, "--minimized"], platform="win32")
    assert registry["value"] == f"{exe} --minimized"
    assert not autostart.refresh([exe, "--minimized"], platform="win32")
