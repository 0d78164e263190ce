"""Start provet-xero when the user signs in: each platform's own way, no Qt.

- Windows: a value under HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run.
- macOS: a LaunchAgent plist in ~/Library/LaunchAgents.
- Linux and other XDG desktops: a .desktop file in ~/.config/autostart (or $XDG_CONFIG_HOME/autostart).

Each starts the app with `--minimized`: at login it waits in the tray, the window opens from there.
The text builders are pure functions so they are tested on any platform; `enable`/`disable` write them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import plistlib
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)

APP_ID = "provet-xero"
LAUNCH_AGENT_LABEL = "com.provet-xero.app"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
MINIMIZED = "--minimized"


def launch_command(*, minimized: bool = True) -> list[str]:
    """How the login starts this very installation (the bundle's executable, or this Python with the
    package): in the tray, unless `minimized` is False."""
    base = [sys.executable] if getattr(sys, "frozen", False) else [sys.executable, "-m", "provet_xero_gui"]
    return [*base, MINIMIZED] if minimized else base


# --- the text each platform wants ----------------------------------------------------------------


def desktop_entry(command: Sequence[str]) -> str:
    """An XDG autostart entry (Desktop Entry Specification; Exec quoting per its rules)."""
    exec_line = " ".join(_desktop_quote(arg) for arg in command)
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Name=provet-xero",
        "Comment=Keeps the clinic's Xero in step with Provet Cloud",
        f"Exec={exec_line}",
        "Icon=provet-xero",
        "Terminal=false",
        "X-GNOME-Autostart-enabled=true",
        "",
    ])


def _desktop_quote(arg: str) -> str:
    if arg and not any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`%'):
        return arg
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`").replace("$", "\\$")
    return f'"{escaped.replace("%", "%%")}"'


def launch_agent_plist(command: Sequence[str]) -> bytes:
    """A per-user LaunchAgent that runs the app once at login."""
    return plistlib.dumps({
        "Label": LAUNCH_AGENT_LABEL,
        "ProgramArguments": list(command),
        "RunAtLoad": True,
        "KeepAlive": False,
        "ProcessType": "Interactive",
    })


def run_key_value(command: Sequence[str]) -> str:
    """The command line Windows runs from the Run key (its own quoting rules)."""
    return subprocess.list2cmdline(list(command))


# --- where it goes ----------------------------------------------------------------------------------


def _platform(platform: str | None) -> str:
    p = platform or sys.platform
    return "windows" if p.startswith("win") else "macos" if p == "darwin" else "xdg"


def autostart_file(platform: str | None = None, home: Path | None = None) -> Path | None:
    """The file that makes the app start at login (None on Windows, which uses the registry)."""
    kind = _platform(platform)
    if kind == "macos":
        return (home or Path.home()) / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"
    if kind == "xdg":
        config = os.environ.get("XDG_CONFIG_HOME") if home is None else None
        base = Path(config) if config and Path(config).is_absolute() else (home or Path.home()) / ".config"
        return base / "autostart" / f"{APP_ID}.desktop"
    return None


def enable(command: Sequence[str], *, platform: str | None = None, home: Path | None = None) -> None:
    path = autostart_file(platform, home)
    if path is None:
        _windows_set(run_key_value(command))
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    body = launch_agent_plist(command) if path.suffix == ".plist" else desktop_entry(command).encode("utf-8")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(body)
    os.replace(tmp, path)
    log.info("start at login enabled: %s", path)


def disable(*, platform: str | None = None, home: Path | None = None) -> None:
    path = autostart_file(platform, home)
    if path is None:
        _windows_set(None)
        return
    path.unlink(missing_ok=True)
    log.info("start at login disabled")


def is_enabled(*, platform: str | None = None, home: Path | None = None) -> bool:
    path = autostart_file(platform, home)
    if path is None:
        return _windows_get() is not None
    return path.exists()


def refresh(command: Sequence[str], *, platform: str | None = None, home: Path | None = None) -> bool:
    """Rewrite an entry that starts this same command without `--minimized` (written by an older version,
    or the Windows installer's task) so login starts in the tray; True when it was rewritten. Entries of
    another installation are left alone."""
    old = [arg for arg in command if arg != MINIMIZED]
    if old == list(command):
        return False
    path = autostart_file(platform, home)
    if path is None:
        current = _windows_get()
        stale = current is not None and current.replace('"', "").strip() == run_key_value(old).replace('"', "")
    elif not path.exists():
        stale = False
    elif path.suffix == ".plist":
        stale = plistlib.loads(path.read_bytes()).get("ProgramArguments") == old
    else:
        stale = path.read_text(encoding="utf-8") == desktop_entry(old)
    if stale:
        enable(command, platform=platform, home=home)
    return stale


def _windows_set(value: str | None) -> None:
    import winreg  # only on Windows

    with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
        if value is None:
            with contextlib.suppress(FileNotFoundError):
                winreg.DeleteValue(key, APP_ID)
        else:
            winreg.SetValueEx(key, APP_ID, 0, winreg.REG_SZ, value)


def _windows_get() -> str | None:
    import winreg

    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
            return str(winreg.QueryValueEx(key, APP_ID)[0])
    except FileNotFoundError:
        return None

