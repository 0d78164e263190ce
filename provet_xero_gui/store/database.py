"""The local store's database: one SQLite file per profile (WAL), its schema brought forward in place
(migrations.py), and the transactions every repository of this package writes in.

Several processes may open the same file (the window and a command-line `sync`): WAL mode plus a busy
timeout lets them take turns; each write is one short transaction.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from provet_xero_gui.private import private_file
from provet_xero_gui.store import migrations as schema

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 30_000

# The binding every statement about links, cursors, caches, the journal, attention, client bases and conflicts
# reads and writes: the one active binding (bindings_active makes it at most one; the store always has one).
SCOPE = "(SELECT id FROM bindings WHERE active = 1)"


class StoreError(Exception):
    """The store cannot be opened or written; the message says why in plain words."""


class StoreDamaged(StoreError):
    """The store file is not a database any more (random bytes, a torn copy): it cannot be used again."""


def plain_store_error(path: Path, exc: BaseException) -> str:
    """What a person can do about an SQLite failure; nothing was saved by the failed transaction."""
    text = str(exc).strip() or type(exc).__name__
    lowered = text.lower()
    if "disk is full" in lowered or "disk full" in lowered:
        return (f"The disk that holds provet-xero's data ({path.parent}) is full, so the sync could not save its "
                "progress. Free some space and sync again; nothing is lost.")
    if "locked" in lowered or "busy" in lowered:
        return (f"Another program is holding provet-xero's local store ({path}) locked, so the sync could not "
                "save its progress. Close that program or wait for it, then sync again; nothing is lost.")
    if "readonly" in lowered or "read-only" in lowered:
        return (f"provet-xero's local store ({path}) cannot be written (read-only file or folder). Make it "
                "writable for your user and sync again; nothing is lost.")
    return f"The local store {path} could not save: {text}. Nothing is lost; sync again."


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class Store:
    """One connection per Store object; safe to use from one thread at a time (a lock guards it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        for private in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if private == path or private.exists():
                private_file(private)  # 0600 before SQLite opens it; SQLite gives -wal/-shm the same mode
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
            self._db.row_factory = sqlite3.Row
            self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.execute("PRAGMA foreign_keys = ON")
            self.migrate()
        except sqlite3.DatabaseError as exc:
            if getattr(self, "_db", None) is not None:
                self._db.close()
            if isinstance(exc, sqlite3.OperationalError) and _is_busy_or_full(exc):
                raise StoreError(plain_store_error(path, exc)) from None
            if _is_damaged(exc):
                raise StoreDamaged(f"The local store {path} cannot be opened: {exc}.") from None
            raise StoreError(f"The local store {path} cannot be opened: {exc}.") from None

    @classmethod
    def open_or_set_aside(cls, path: Path, now: datetime | None = None) -> Store:
        """The store at `path`; a damaged one (not a database any more) is renamed with a timestamp, kept
        aside, and a new one made in its place, which rebuilds its links from Xero before it writes anything."""
        try:
            return cls(path)
        except StoreDamaged:
            stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
            aside = path.with_name(f"{path.name}.damaged-{stamp}")
            for suffix in ("", "-wal", "-shm", "-journal"):
                part = Path(f"{path}{suffix}")
                if part.exists():
                    os.replace(part, Path(f"{aside}{suffix}"))
            log.warning("local store %s was damaged; kept aside as %s", path, aside)
            store = cls(path)
            with store.transaction() as db:
                db.execute(f"UPDATE bindings SET rebuild_reason = ? WHERE id = {SCOPE}", (f"damaged:{aside}",))
            return store

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> None:
        """Bring the schema forward, one version per transaction; refuse a newer schema."""
        with self._lock:
            current = self.schema_version
            newest = schema.SCHEMA_VERSION
            if current > newest:
                raise StoreError(
                    f"The local store {self.path} was made by a newer provet-xero (schema {current}, this "
                    f"version knows {newest}). Update provet-xero."
                )
            for version in range(current + 1, newest + 1):
                with self.transaction() as db:
                    # Another process may have migrated while we waited for the write lock.
                    if int(db.execute("PRAGMA user_version").fetchone()[0]) >= version:
                        continue
                    for statement in _statements(schema.MIGRATIONS[version - 1]):
                        db.execute(statement)
                    db.execute(f"PRAGMA user_version = {version}")
                log.info("store %s migrated to schema %d", self.path, version)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction taken up front (BEGIN IMMEDIATE), so two writers never deadlock.

        Any SQLite failure inside it (disk full, file locked by another program, read-only) rolls it back and
        comes out as a StoreError with a plain message: the transaction left nothing behind."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise self._failed(exc) from None
            try:
                yield self._db
            except BaseException as exc:
                self._rollback()
                if isinstance(exc, sqlite3.DatabaseError):
                    raise self._failed(exc) from None
                raise
            else:
                try:
                    self._db.execute("COMMIT")
                except sqlite3.DatabaseError as exc:
                    self._rollback()
                    raise self._failed(exc) from None

    def _failed(self, exc: sqlite3.DatabaseError) -> StoreError:
        log.warning("local store: %s", exc)
        return StoreError(plain_store_error(self.path, exc))

    def _rollback(self) -> None:
        # SQLite rolls back by itself after some errors (SQLITE_FULL): a second ROLLBACK would fail and hide
        # the real error.
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    def query(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.OperationalError as exc:
                if _is_busy_or_full(exc):
                    raise self._failed(exc) from None
                raise


def _is_damaged(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text or "encrypted" in text


def _is_busy_or_full(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text or "full" in text


def _statements(script: str) -> list[str]:
    """Split a migration into statements (executescript would commit our transaction)."""
    out: list[str] = []
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
