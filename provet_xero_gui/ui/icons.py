"""The app's SVG icons, found beside the package in a checkout and inside a PyInstaller bundle."""

from __future__ import annotations

import logging
import sys
from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon

from provet_xero_gui.ui.status import TRAY_STATES

log = logging.getLogger(__name__)

APP_ICON = "provet-xero"


def resources_dir() -> Path:
    """`resources/`: inside the package (installed from a wheel), beside it (a checkout), or in the bundle."""
    here = Path(__file__).resolve()
    candidates = [here.parents[1] / "resources", here.parents[2] / "resources"]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.insert(0, Path(bundle) / "resources")
    for path in candidates:
        if (path / "icons").is_dir():
            return path
    log.warning("no resources folder found in %s", ", ".join(map(str, candidates)))
    return candidates[-1]


def icon_path(name: str) -> Path:
    return resources_dir() / "icons" / f"{name}.svg"


@cache
def icon(name: str) -> QIcon:
    """An icon by file name (without .svg); an empty icon, and a warning, if the file is missing."""
    path = icon_path(name)
    if not path.exists():
        log.warning("icon %s is missing", path)
        return QIcon()
    return QIcon(str(path))


def app_icon() -> QIcon:
    return icon(APP_ICON)


def state_icon(state: str) -> QIcon:
    """The tray icon for one of TRAY_STATES."""
    if state not in TRAY_STATES:
        raise ValueError(f"unknown tray state {state!r}")
    return icon(f"tray-{state}")
