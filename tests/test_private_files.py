"""A profile's files are its user's alone (issue 17, point 5): folders 0700, every file 0600 — the store
with its -wal and -shm, the log, settings, mapping and the locks — when created, and an existing profile
left readable to others is tightened at the next start."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest

from provet_xero_gui.app.lock import ProfileLock
from provet_xero_gui.mapping import Mapping, MappingFile
from provet_xero_gui.private import PrivateRotatingFileHandler
from provet_xero_gui.profile import Profile
from provet_xero_gui.store import Log

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX modes (Windows relies on the profile's ACL)")


def _modes(home: Path) -> dict[str, str]:
    """Every folder and file under `home` that others could read or enter, with its mode."""
    loose = {}
    for path in [home, *home.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        wanted = 0o700 if path.is_dir() else 0o600
        if mode != wanted:
            loose[str(path.relative_to(home))] = oct(mode)
    return loose


def _use_every_file(profile: Profile) -> None:
    """What a day of use leaves: settings, mapping, store (open, written: -wal and -shm), the lock, the log."""
    profile.settings_file.update()
    MappingFile(profile.paths.mapping_file).save(Mapping())
    with ProfileLock.for_profile(profile.paths.data_dir), profile.store() as store:
        Log(store).append("info", "Test", "a line with a client's name", None, None)
        handler = PrivateRotatingFileHandler(profile.paths.log_file, maxBytes=200, backupCount=2, encoding="utf-8")
        logger = logging.getLogger("provet_xero_gui.test_private_files")
        logger.addHandler(handler)
        try:
            for i in range(20):  # several rollovers: each new file is private too
                logger.warning("line %d of the log", i)
        finally:
            logger.removeHandler(handler)
            handler.close()
        assert profile.paths.store_file.with_name(profile.paths.store_file.name + "-wal").exists()
        assert _modes(profile.paths.data_dir.parent) == {}  # while the store is open, -wal and -shm too


def test_a_new_profile_is_private(profile_home: Path) -> None:
    old = os.umask(0o022)  # the usual umask: what the app creates must not depend on it
    try:
        profile = Profile.open()
        _use_every_file(profile)
    finally:
        os.umask(old)
    assert _modes(profile_home) == {}
    assert profile.paths.log_file.with_name(profile.paths.log_file.name + ".1").exists()


def test_an_existing_profile_left_readable_is_tightened_at_start(profile_home: Path) -> None:
    old = os.umask(0o022)
    try:
        profile = Profile.open()
        _use_every_file(profile)
        for path in [profile_home, *profile_home.rglob("*")]:  # as an older version left them
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        (profile.paths.data_dir / "provet-xero.sqlite3.bad").write_text("kept aside")
        os.chmod(profile.paths.data_dir / "provet-xero.sqlite3.bad", 0o644)
        assert _modes(profile_home)
        Profile.open()  # the next start
    finally:
        os.umask(old)
    loose = _modes(profile_home)
    loose.pop(".", None)  # PROVET_XERO_HOME itself: the person's chosen folder, left as it is
    assert loose == {}
