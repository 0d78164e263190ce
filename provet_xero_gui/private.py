"""Keeping a profile's files to its user (folders 0700, files 0600), and plain words when they cannot be written.

The store holds clients' names, emails, phones, addresses and tax numbers, and the log; settings and the
mapping say which Xero organisation and Provet instance they belong to. On POSIX systems (Linux, macOS)
each profile folder is made 0700 and every file in it 0600 — created so (the store is created before
SQLite opens it, and SQLite gives its -wal and -shm files the store's own mode), and tightened at every
start for a profile an older version left readable to others.

On Windows the modes mean nothing; the profile lives under %APPDATA% / %LOCALAPPDATA%, whose ACL
(inherited by everything created below) grants only the user, SYSTEM and Administrators. A
`PROVET_XERO_HOME` elsewhere on Windows keeps whatever ACL its folder has.
"""

from __future__ import annotations

import errno
import logging
import logging.handlers
import os
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
_POSIX = os.name == "posix"


def private_dir(path: Path) -> Path:
    """`path` (and a missing parent) created 0700; an existing one tightened to 0700."""
    path = Path(path)
    if not path.parent.exists():
        path.parent.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    path.mkdir(mode=PRIVATE_DIR, exist_ok=True)
    _chmod(path, PRIVATE_DIR)
    return path


def private_file(path: Path) -> Path:
    """`path` created empty with 0600 when missing (before anything else opens it), else tightened."""
    path = Path(path)
    if _POSIX:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        except FileExistsError:
            _chmod(path, PRIVATE_FILE)
        except OSError as exc:  # a read-only folder, a full disk: whoever opens it next says so plainly
            log.debug("could not create %s (%s)", path, exc.strerror or exc)
        else:
            os.close(fd)
    return path


def tighten(folder: Path) -> None:
    """`folder` and everything below it: folders 0700, files 0600. Symbolic links are left alone, and a
    file that cannot be changed (another user's) is logged, never an error."""
    if not _POSIX or not Path(folder).is_dir():
        return
    _chmod(Path(folder), PRIVATE_DIR)
    for root, dirs, files in os.walk(folder):
        for name in dirs:
            p = Path(root, name)
            if not p.is_symlink():
                _chmod(p, PRIVATE_DIR)
        for name in files:
            p = Path(root, name)
            if not p.is_symlink():
                _chmod(p, PRIVATE_FILE)


def _chmod(path: Path, mode: int) -> None:
    if not _POSIX:
        return
    try:
        if (path.stat().st_mode & 0o777) != mode:
            os.chmod(path, mode)
    except OSError as exc:
        log.warning("could not make %s private (%s)", path, exc.strerror or exc)


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A RotatingFileHandler whose files (the log and each new one after a rollover) are created 0600."""

    def _open(self) -> IO[Any]:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
        _chmod(Path(self.baseFilename), PRIVATE_FILE)
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)


def plain_os_error(exc: OSError) -> str:
    """What a failed file operation means for the person, and what to do (no errno, no traceback)."""
    where = f" ({exc.filename})" if exc.filename else ""
    code = exc.errno
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return (f"The disk is full{where}: provet-xero could not save its files. Free some space and try again; "
                "nothing is lost.")
    if code in (errno.EROFS, errno.EACCES, errno.EPERM):
        return (f"provet-xero cannot write its files{where}: the folder or file is read-only or belongs to another "
                "user. Make it writable for your user and try again; nothing is lost.")
    if code == errno.EISDIR:
        return (f"There is a folder where provet-xero keeps a file{where}. Move or delete that folder and try "
                "again.")
    if code == errno.ENOTDIR:
        return (f"There is a file where provet-xero keeps a folder{where}. Move or delete that file and try "
                "again.")
    return f"provet-xero could not use its files{where}: {exc.strerror or 'the system refused'}. Try again."
