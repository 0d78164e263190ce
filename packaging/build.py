"""Builds provet-xero for the platform this runs on and prints where the result is.

    .venv/bin/python -m pip install -c requirements/lock.txt -e ".[packaging]"  # PyInstaller, once
    .venv/bin/python packaging/build.py                   # then

- Linux:   dist/provet-xero-<version>-linux-<arch>.tar.gz (the one-folder bundle, menu entry, icons, install.sh)
- Windows: dist/provet-xero-<version>-setup.exe (Inno Setup 6's ISCC on PATH or in its usual folder);
           without Inno Setup, a zip of the one-folder bundle
- macOS:   dist/provet-xero.app and dist/provet-xero-<version>-macos-<arch>.zip; signed and notarised when
           PROVET_XERO_CODESIGN_IDENTITY / PROVET_XERO_NOTARY_PROFILE are set (packaging/macos/README.md)

The PyInstaller bundle itself is in build/dist/provet-xero (build/dist/provet-xero.app on macOS). The last line
printed is the path of the result.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bundle_info as info

ROOT = info.ROOT
SPEC = info.PACKAGING / "provet-xero.spec"
BUILD = ROOT / "build"
BUNDLE_DIST = BUILD / "dist"
WORK = BUILD / "pyinstaller"
DIST = ROOT / "dist"


def log(msg: str) -> None:
    print(f"build: {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], **kw) -> None:
    log(" ".join(map(str, cmd)))
    subprocess.run([str(c) for c in cmd], check=True, **kw)


def arch() -> str:
    machine = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "arm64", "aarch64": "aarch64"}.get(machine, machine)


def ensure_icons(plat: str) -> None:
    needed = {"windows": ["provet-xero.ico"], "macos": ["provet-xero.icns"]}.get(
        plat, [f"provet-xero-{s}.png" for s in (16, 32, 48, 64, 128, 256, 512)])
    if any(not (info.ICONS / name).exists() for name in needed):
        log("rendering the icon set (packaging/make_icons.py)")
        run([sys.executable, info.PACKAGING / "make_icons.py"])


def pyinstaller(clean: bool) -> None:
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
           "--distpath", BUNDLE_DIST, "--workpath", WORK]
    if clean:
        cmd.append("--clean")
    run([*cmd, SPEC], cwd=ROOT)


# --- Linux -----------------------------------------------------------------------------------------------


def linux_tarball(version: str) -> Path:
    """The bundle plus what a desktop needs to show it, in one folder `provet-xero/` inside the tarball."""
    bundle = BUNDLE_DIST / info.APP_NAME
    out = DIST / f"{info.APP_NAME}-{version}-linux-{arch()}.tar.gz"
    out.parent.mkdir(parents=True, exist_ok=True)
    top = info.APP_NAME
    extras: list[tuple[Path, str]] = [
        (info.PACKAGING / "linux" / "install.sh", "install.sh"),
        (info.PACKAGING / "linux" / "README.txt", "README.txt"),
        (info.RESOURCES / f"{info.APP_NAME}.desktop", f"share/applications/{info.APP_NAME}.desktop"),
        (info.RESOURCES / f"{info.APPSTREAM_ID}.metainfo.xml", f"share/metainfo/{info.APPSTREAM_ID}.metainfo.xml"),
        (info.ICONS / f"{info.APP_NAME}.svg", f"share/icons/hicolor/scalable/apps/{info.APP_NAME}.svg"),
    ]
    extras += [(info.ICONS / f"{info.APP_NAME}-{s}.png", f"share/icons/hicolor/{s}x{s}/apps/{info.APP_NAME}.png")
               for s in info.PNG_SIZES if s <= 512]

    def normalise(ti: tarfile.TarInfo) -> tarfile.TarInfo:
        ti.uid = ti.gid = 0
        ti.uname = ti.gname = ""
        return ti

    tmp = out.with_name(out.name + ".tmp")
    with tarfile.open(tmp, "w:gz", compresslevel=6) as tar:
        tar.add(bundle, arcname=top, filter=normalise)
        for src, arc in extras:
            ti = normalise(tar.gettarinfo(src, f"{top}/{arc}"))
            ti.mode = 0o755 if arc.endswith(".sh") else 0o644
            with src.open("rb") as fh:
                tar.addfile(ti, fh)
    os.replace(tmp, out)
    return out


# --- Windows ---------------------------------------------------------------------------------------------


def find_iscc() -> Path | None:
    found = shutil.which("ISCC") or shutil.which("iscc")
    if found:
        return Path(found)
    for base in (os.environ.get("PROGRAMFILES(X86)"), os.environ.get("PROGRAMFILES"),
                 os.path.join(os.environ.get("LOCALAPPDATA", ""), "Programs")):
        if base and (Path(base) / "Inno Setup 6" / "ISCC.exe").exists():
            return Path(base) / "Inno Setup 6" / "ISCC.exe"
    return None


def windows_installer(version: str) -> Path:
    bundle = BUNDLE_DIST / info.APP_NAME
    iscc = find_iscc()
    if iscc is None:
        log("Inno Setup 6 (ISCC.exe) not found: making a zip of the bundle instead of an installer")
        return Path(shutil.make_archive(str(DIST / f"{info.APP_NAME}-{version}-windows-{arch()}"), "zip",
                                        BUNDLE_DIST, info.APP_NAME))
    run([iscc, "/Q",
         f"/DAppVersion={version}", f"/DAppPublisher={info.PUBLISHER}",
         "/DAppId={" + info.WINDOWS_APP_ID,  # "{{" is how Inno Setup spells a literal "{"
         f"/DSourceDir={bundle}", f"/O{DIST}",
         info.PACKAGING / "windows" / "provet-xero.iss"])
    return DIST / f"{info.APP_NAME}-{version}-setup.exe"


# --- macOS -----------------------------------------------------------------------------------------------


def macos_app(version: str) -> Path:
    app = DIST / f"{info.APP_NAME}.app"
    shutil.rmtree(app, ignore_errors=True)
    DIST.mkdir(parents=True, exist_ok=True)
    run(["ditto", BUNDLE_DIST / f"{info.APP_NAME}.app", app])
    identity = os.environ.get("PROVET_XERO_CODESIGN_IDENTITY")
    if identity:  # the spec signed every binary and the .app with it (hardened runtime, timestamp)
        run(["codesign", "--verify", "--deep", "--strict", "--verbose=2", app])
    archive = DIST / f"{info.APP_NAME}-{version}-macos-{arch()}.zip"
    archive.unlink(missing_ok=True)
    run(["ditto", "-c", "-k", "--keepParent", app, archive])
    profile = os.environ.get("PROVET_XERO_NOTARY_PROFILE")
    if identity and profile:
        run(["xcrun", "notarytool", "submit", archive, "--keychain-profile", profile, "--wait"])
        run(["xcrun", "stapler", "staple", app])
        archive.unlink()
        run(["ditto", "-c", "-k", "--keepParent", app, archive])
    elif not identity:
        log("not signed (PROVET_XERO_CODESIGN_IDENTITY is not set): Gatekeeper will refuse it on other Macs")
    return archive


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clean", action="store_true", help="drop PyInstaller's cache and build from scratch")
    parser.add_argument("--bundle-only", action="store_true",
                        help="stop after the PyInstaller bundle (no tarball, installer or zip)")
    args = parser.parse_args(argv)

    plat, version = info.platform_tag(), info.version()
    log(f"provet-xero {version} for {plat} ({arch()}), Python {platform.python_version()}")
    started = time.monotonic()
    ensure_icons(plat)
    pyinstaller(args.clean)
    bundle = BUNDLE_DIST / (f"{info.APP_NAME}.app" if plat == "macos" else info.APP_NAME)
    log(f"bundle: {bundle} ({time.monotonic() - started:.0f} s)")
    if args.bundle_only:
        result = bundle
    elif plat == "linux":
        result = linux_tarball(version)
    elif plat == "windows":
        result = windows_installer(version)
    else:
        result = macos_app(version)
    log(f"done in {time.monotonic() - started:.0f} s")
    print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
