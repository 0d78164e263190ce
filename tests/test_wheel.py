"""A plain (non-editable) install from the wheel carries everything the app loads, and the build says
nothing about deprecated settings: the wheel is built from a copy of the checkout's tracked files (so the
checkout gets no build/ folder), installed with --no-deps into a folder of its own, and the app run from
there finds its icons, the .desktop file and the metainfo."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).parents[1]


def _tracked_copy(dest: Path) -> Path:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        if name.split("/", 1)[0] in ("tests", "benchmarks", "docs", "packaging", ".ci"):
            continue
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


def test_the_installed_wheel_finds_its_resources(tmp_path: Path) -> None:
    src = _tracked_copy(tmp_path / "src")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-cache-dir",
         "-w", str(tmp_path / "dist"), str(src)],
        capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "default"},
    )
    assert built.returncode == 0, built.stdout + built.stderr
    assert "project.license" not in built.stdout + built.stderr  # setuptools' deprecation of the table
    (wheel,) = (tmp_path / "dist").glob("provet_xero-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        metadata = next(zf.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
    assert "License-Expression: MIT" in metadata.splitlines()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)

    site = tmp_path / "site"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-cache-dir", "--target", str(site), str(wheel)],
        capture_output=True, text=True,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    check = (
        "import logging, sys\n"
        "logging.basicConfig(level=logging.WARNING)\n"
        "import provet_xero_gui\n"
        "from provet_xero_gui.ui.icons import APP_ICON, icon_path, resources_dir\n"
        "from provet_xero_gui.ui.status import TRAY_STATES\n"
        "print(provet_xero_gui.__file__)\n"
        "print(resources_dir())\n"
        "names = [APP_ICON, *(f'tray-{s}' for s in TRAY_STATES)]\n"
        "print(all(icon_path(n).is_file() for n in names))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site), "QT_QPA_PLATFORM": "offscreen"}
    ran = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert ran.returncode == 0, ran.stderr
    module_file, resources, icons_found = ran.stdout.splitlines()
    assert Path(module_file).is_relative_to(site)  # the installed copy, not the checkout's
    assert Path(resources) == site / "provet_xero_gui" / "resources"
    assert icons_found == "True"
    assert "no resources folder" not in ran.stderr and "missing" not in ran.stderr
    assert (site / "provet_xero_gui" / "resources" / "provet-xero.desktop").is_file()
    assert list((site / "provet_xero_gui" / "resources").glob("*.metainfo.xml"))
