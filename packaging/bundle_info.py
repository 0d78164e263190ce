"""What the bundle is called and what it contains: the one place the spec, build.py and the tests read.

The version comes from `provet_xero_gui.__version__` (read from the file, so nothing of the app is imported);
everything else that names the app (publisher, bundle identifier, AppStream id) is here.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
RESOURCES = ROOT / "resources"
ICONS = RESOURCES / "icons"

APP_NAME = "provet-xero"  # executable, bundle folder, .desktop file, icon name, Windows Run value
DISPLAY_NAME = "provet-xero"
PUBLISHER = "provet-xero contributors"
SUMMARY = "Keeps a veterinary clinic's Xero books in step with Provet Cloud"
MACOS_BUNDLE_ID = "com.provet-xero.app"  # the LaunchAgent label in provet_xero_gui/autostart.py matches it
APPSTREAM_ID = "com.provet_xero.ProvetXero"  # reverse-DNS; AppStream discourages hyphens in ids
# Inno Setup's AppId: a GUID that must never change, or upgrades install beside the old version.
WINDOWS_APP_ID = "{D4052D01-AEC8-4250-8976-7458E255756F}"

# PNG sizes rendered from the SVG: hicolor (Linux), the ICO (Windows) and the ICNS (macOS) take theirs from here.
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# ICNS element types holding PNG data, by pixel size (the @2x types share sizes with the next one up).
ICNS_TYPES = (("icp4", 16), ("icp5", 32), ("icp6", 64), ("ic07", 128), ("ic08", 256), ("ic09", 512),
              ("ic10", 1024), ("ic11", 32), ("ic12", 64), ("ic13", 256), ("ic14", 512))

# Imported by name at run time, so PyInstaller's import analysis cannot see them.
KEYRING_BACKENDS = (
    "keyring.backends.SecretService",
    "keyring.backends.kwallet",
    "keyring.backends.libsecret",
    "keyring.backends.Windows",
    "keyring.backends.macOS",
    "keyring.backends.macOS.api",
    "keyring.backends.chainer",
    "keyring.backends.fail",
    "keyring.backends.null",
)
SECRET_SERVICE_LIBS = ("secretstorage", "jeepney", "jeepney.io.blocking")
# Qt modules the app does not use: kept out of the bundle (PySide6-Essentials ships them all).
QT_EXCLUDES = tuple(f"PySide6.{m}" for m in (
    "Qt3DAnimation", "Qt3DCore", "Qt3DExtras", "Qt3DInput", "Qt3DLogic", "Qt3DRender", "QtBluetooth",
    "QtCharts", "QtConcurrent", "QtDataVisualization", "QtDesigner", "QtGraphs", "QtHelp", "QtHttpServer",
    "QtLocation", "QtMultimedia", "QtMultimediaWidgets", "QtNfc", "QtOpenGL", "QtOpenGLWidgets", "QtPdf",
    "QtPdfWidgets", "QtPositioning", "QtPrintSupport", "QtQml", "QtQuick", "QtQuick3D", "QtQuickControls2",
    "QtQuickTest", "QtQuickWidgets", "QtRemoteObjects", "QtScxml", "QtSensors", "QtSerialBus", "QtSerialPort",
    "QtSpatialAudio", "QtSql", "QtStateMachine", "QtTest", "QtTextToSpeech", "QtUiTools", "QtWebChannel",
    "QtWebEngineCore", "QtWebEngineQuick", "QtWebEngineWidgets", "QtWebSockets", "QtWebView", "QtXml",
    "QtAxContainer",
))
# Development tools that are in the virtualenv but never in the app.
DEV_EXCLUDES = ("tkinter", "pytest", "_pytest", "hypothesis", "openapi_core", "openapi_spec_validator",
                "jsonschema", "yaml", "IPython", "numpy", "pytestqt", "setuptools", "pip")


def version() -> str:
    """`__version__` from provet_xero_gui/__init__.py — the one place the version is set."""
    text = (ROOT / "provet_xero_gui" / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r'^__version__\s*=\s*"([^"]+)"', text, re.M)
    if not found:
        raise RuntimeError("no __version__ in provet_xero_gui/__init__.py")
    return found.group(1)


def platform_tag(platform: str | None = None) -> str:
    p = platform or sys.platform
    return "windows" if p.startswith("win") else "macos" if p == "darwin" else "linux"


def macos_info_plist(ver: str | None = None) -> dict[str, object]:
    """Info.plist entries of the .app: a real Dock app (LSUIElement off) that also shows a menu-bar extra."""
    ver = ver or version()
    return {
        "CFBundleName": DISPLAY_NAME,
        "CFBundleDisplayName": DISPLAY_NAME,
        "CFBundleIdentifier": MACOS_BUNDLE_ID,
        "CFBundleShortVersionString": ver,
        "CFBundleVersion": ver,
        "CFBundlePackageType": "APPL",
        "LSUIElement": False,  # a Dock icon and a menu bar; the tray icon is the menu-bar extra
        "LSApplicationCategoryType": "public.app-category.finance",
        "LSMinimumSystemVersion": "12.0",
        "NSHighResolutionCapable": True,
        "NSSupportsAutomaticGraphicsSwitching": True,
        "NSRequiresAquaSystemAppearance": False,  # follow dark mode
        "NSHumanReadableCopyright": f"© {PUBLISHER}",
    }


def windows_version_info(ver: str | None = None) -> str:
    """The VERSIONINFO resource of the .exe (PyInstaller's `version=` file format)."""
    ver = ver or version()
    nums = [int(n) for n in re.findall(r"\d+", ver)[:4]]
    nums += [0] * (4 - len(nums))
    tup = tuple(nums)
    strings = {
        "CompanyName": PUBLISHER,
        "FileDescription": SUMMARY,
        "FileVersion": ver,
        "InternalName": APP_NAME,
        "OriginalFilename": f"{APP_NAME}.exe",
        "ProductName": DISPLAY_NAME,
        "ProductVersion": ver,
        "LegalCopyright": f"© {PUBLISHER}",
    }
    entries = ",\n          ".join(f"StringStruct({k!r}, {v!r})" for k, v in strings.items())
    return f"""VSVersionInfo(
  ffi=FixedFileInfo(filevers={tup}, prodvers={tup}, mask=0x3f, flags=0x0, OS=0x40004, fileType=0x1,
                    subtype=0x0, date=(0, 0)),
  kids=[
    StringFileInfo([StringTable('040904B0', [
          {entries}])]),
    VarFileInfo([VarStruct('Translation', [1033, 1200])])
  ]
)
"""
