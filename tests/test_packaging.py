"""Packaging: one version, consistent names across platforms, the icon set, the Linux tarball and install.sh.

The bundle itself is built and run by scripts/check-bundle.sh (CI); these are the fast checks of what goes
into it, on any machine.
"""

from __future__ import annotations

import ast
import configparser
import importlib.util
import os
import plistlib
import re
import stat
import struct
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest

from provet_xero_gui import __version__, autostart

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"


def _load(name: str, path: Path) -> ModuleType:
    sys.path.insert(0, str(PACKAGING))  # build.py and make_icons.py import bundle_info from beside them
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(PACKAGING))


info = _load("bundle_info", PACKAGING / "bundle_info.py")
build = _load("provet_xero_packaging_build", PACKAGING / "build.py")
make_icons = _load("provet_xero_packaging_make_icons", PACKAGING / "make_icons.py")

DESKTOP = ROOT / "resources" / f"{info.APP_NAME}.desktop"
METAINFO = ROOT / "resources" / f"{info.APPSTREAM_ID}.metainfo.xml"
ISS = PACKAGING / "windows" / "provet-xero.iss"
INSTALL_SH = PACKAGING / "linux" / "install.sh"


def _desktop_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


# --- one version, one set of names -----------------------------------------------------------------------


def test_the_version_is_read_from_the_package() -> None:
    assert info.version() == __version__
    plist = info.macos_info_plist()
    assert plist["CFBundleShortVersionString"] == plist["CFBundleVersion"] == __version__
    ast.parse(info.windows_version_info())  # PyInstaller evaluates it as Python
    assert f"filevers=({', '.join(__version__.split('.'))}, 0)" in info.windows_version_info()


def test_the_installer_script_takes_version_and_publisher_from_build_py() -> None:
    text = ISS.read_text(encoding="utf-8")
    assert __version__ not in text and info.PUBLISHER not in text
    for name in ("AppVersion", "AppPublisher", "AppId"):
        assert f"#ifndef {name}" in text and f"{name}={{#{name}}}" in text
    assert re.fullmatch(r"\{[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}\}", info.WINDOWS_APP_ID)


def test_the_metainfo_lists_the_current_version_as_the_newest_release() -> None:
    releases = ET.parse(METAINFO).getroot().findall("releases/release")
    assert releases and releases[0].get("version") == __version__


def test_the_installer_is_per_user_and_shares_start_at_login_with_the_app() -> None:
    text = ISS.read_text(encoding="utf-8")
    assert re.search(r"^PrivilegesRequired=lowest$", text, re.M)
    assert f'#define RunKey "{autostart.RUN_KEY}"' in text
    assert f'#define AppName "{autostart.APP_ID}"' in text  # the Run value name the app reads and writes
    assert 'ValueName: "{#AppName}"' in text and "Tasks: startatlogin" in text
    assert "RegDeleteValue(HKEY_CURRENT_USER, '{#RunKey}', '{#AppName}')" in text  # uninstall always clears it
    assert "MB_DEFBUTTON2" in text  # removing the user's data is asked, and "No" is the default


def test_macos_is_a_dock_app_with_the_launch_agents_identifier() -> None:
    plist = info.macos_info_plist()
    assert plist["LSUIElement"] is False
    assert plist["CFBundleIdentifier"] == autostart.LAUNCH_AGENT_LABEL
    assert plistlib.loads(plistlib.dumps(plist)) == plist
    plistlib.loads((PACKAGING / "macos" / "entitlements.plist").read_bytes())


@pytest.mark.parametrize("module", [*info.KEYRING_BACKENDS, *info.SECRET_SERVICE_LIBS, "xero_python.accounting"])
def test_hidden_imports_name_real_modules(module: str) -> None:
    assert importlib.util.find_spec(module) is not None


# --- Linux desktop integration ---------------------------------------------------------------------------


def test_the_desktop_file_matches_the_app_and_its_icons() -> None:
    entry = _desktop_entry(DESKTOP)
    assert entry["Type"] == "Application"
    assert entry["Exec"] == info.APP_NAME == autostart.APP_ID
    assert entry["Icon"] == info.APP_NAME
    assert entry["StartupWMClass"] == info.APP_NAME  # QGuiApplication.setDesktopFileName in ui/app.py
    assert entry["Categories"].endswith(";") and "Office" in entry["Categories"].split(";")
    assert (info.ICONS / f"{entry['Icon']}.svg").exists()


def test_the_metainfo_points_at_the_desktop_file() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.get("type") == "desktop-application"
    assert root.findtext("id") == info.APPSTREAM_ID
    assert root.findtext("launchable") == DESKTOP.name
    assert root.findtext("provides/binary") == info.APP_NAME
    assert f"appstream_id={info.APPSTREAM_ID}" in INSTALL_SH.read_text(encoding="utf-8")


# --- the icon set ----------------------------------------------------------------------------------------


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_the_icon_set_has_every_size_each_platform_needs() -> None:
    for size in make_icons.HICOLOR_SIZES:
        assert _png_size((info.ICONS / f"provet-xero-{size}.png").read_bytes()) == (size, size)

    ico = (info.ICONS / "provet-xero.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", ico[:6])
    assert (reserved, kind, count) == (0, 1, len(info.ICO_SIZES))
    for i, size in enumerate(info.ICO_SIZES):
        w, h, _, _, _, _, length, offset = struct.unpack("<BBBBHHII", ico[6 + 16 * i: 22 + 16 * i])
        assert (w, h) == ((0, 0) if size == 256 else (size, size))
        assert _png_size(ico[offset: offset + length]) == (size, size)

    icns = (info.ICONS / "provet-xero.icns").read_bytes()
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)
    found, pos = {}, 8
    while pos < len(icns):
        kind, length = icns[pos: pos + 4].decode(), struct.unpack(">I", icns[pos + 4: pos + 8])[0]
        found[kind] = _png_size(icns[pos + 8: pos + length])[0]
        pos += length
    assert found == dict(info.ICNS_TYPES)


def test_the_committed_pngs_are_rendered_from_the_current_svg(qapp, tmp_path: Path) -> None:
    from PySide6.QtGui import QImage

    make_icons.make_icons(tmp_path)
    for size in (16, 64, 256):
        name = f"provet-xero-{size}.png"
        fresh = QImage(str(tmp_path / name)).convertToFormat(QImage.Format.Format_ARGB32)
        committed = QImage(str(info.ICONS / name)).convertToFormat(QImage.Format.Format_ARGB32)
        assert fresh.size() == committed.size()
        a, b = fresh.constBits().tobytes(), committed.constBits().tobytes()
        mean_diff = sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)
        assert mean_diff < 2, f"{name} differs from the SVG: run packaging/make_icons.py"


# --- the Linux tarball and install.sh --------------------------------------------------------------------


@pytest.fixture
def tarball(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """build.linux_tarball() around a stand-in bundle (an executable that only knows --version)."""
    bundle = tmp_path / "bundle" / info.APP_NAME
    (bundle / "_internal").mkdir(parents=True)
    exe = bundle / info.APP_NAME
    exe.write_text(f'#!/bin/sh\n[ "$1" = --version ] && echo "provet-xero {__version__}"\nexit 0\n')
    exe.chmod(0o755)
    monkeypatch.setattr(build, "BUNDLE_DIST", tmp_path / "bundle")
    monkeypatch.setattr(build, "DIST", tmp_path / "dist")
    return build.linux_tarball(__version__)


def test_the_tarball_holds_the_bundle_and_what_a_desktop_needs(tarball: Path) -> None:
    assert tarball.name == f"provet-xero-{__version__}-linux-{build.arch()}.tar.gz"
    with tarfile.open(tarball) as tar:
        members = {m.name: m for m in tar.getmembers()}
    top = info.APP_NAME
    assert members[f"{top}/{top}"].mode & stat.S_IXUSR
    assert members[f"{top}/install.sh"].mode & stat.S_IXUSR
    for name in (f"share/applications/{top}.desktop", f"share/metainfo/{info.APPSTREAM_ID}.metainfo.xml",
                 f"share/icons/hicolor/scalable/apps/{top}.svg", f"share/icons/hicolor/256x256/apps/{top}.png",
                 "README.txt"):
        assert f"{top}/{name}" in members
    assert all(m.uid == 0 and m.uname == "" for m in members.values())


def test_install_sh_installs_for_the_user_and_uninstalls_cleanly(tarball: Path, tmp_path: Path) -> None:
    with tarfile.open(tarball) as tar:
        tar.extractall(tmp_path / "unpacked", filter="tar")
    home = tmp_path / "home with space"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home)}
    (home / ".config" / "provet-xero").mkdir(parents=True)  # the user's settings
    (home / ".config" / "autostart").mkdir(parents=True)
    (home / ".config" / "autostart" / "provet-xero.desktop").write_text("[Desktop Entry]\n")  # Settings wrote it
    installer = tmp_path / "unpacked" / info.APP_NAME / "install.sh"

    done = subprocess.run(["sh", str(installer)], env=env, capture_output=True, text=True, check=True)
    assert f"Installed provet-xero {__version__}" in done.stdout
    dest = home / ".local" / "opt" / info.APP_NAME
    assert os.path.realpath(home / ".local" / "bin" / info.APP_NAME) == str(dest / info.APP_NAME)
    entry = _desktop_entry(home / ".local" / "share" / "applications" / f"{info.APP_NAME}.desktop")
    assert entry["Exec"] == f'"{dest / info.APP_NAME}"'
    assert (home / ".local/share/icons/hicolor/48x48/apps/provet-xero.png").exists()

    subprocess.run(["sh", str(dest / "install.sh"), "--uninstall"], env=env, check=True, capture_output=True)
    assert not dest.exists() and not (home / ".local" / "bin" / info.APP_NAME).exists()
    assert not (home / ".local/share/applications/provet-xero.desktop").exists()
    assert not (home / ".config" / "autostart" / "provet-xero.desktop").exists()
    assert not list((home / ".local/share/icons").rglob("provet-xero.*"))
    assert (home / ".config" / "provet-xero").is_dir()  # settings kept unless --purge

    subprocess.run(["sh", str(installer)], env=env, check=True, capture_output=True)
    subprocess.run(["sh", str(dest / "install.sh"), "--uninstall", "--purge"], env=env, check=True,
                   capture_output=True)
    assert not (home / ".config" / "provet-xero").exists()
