"""The local store: one SQLite file per profile (WAL), with a versioned schema.

It holds what makes sync safe to stop and start again: links between Provet and Xero ids, the read
cursors, the write journal (intended Xero writes with their Idempotency-Key, committed before the
call), attention items, conflicts, the last synced value of each client field, and the event log.

Several processes may open the same file (the window and a command-line `sync`): WAL mode plus a busy
timeout lets them take turns; each write is one short transaction.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from provet_xero_gui.private import private_file

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 30_000

# Each entry moves the schema one version forward. Never edit a released step; add a new one.
MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema
    """
    CREATE TABLE links (
        kind TEXT NOT NULL,              -- contact | invoice | credit_note | payment | ...
        provet_id TEXT NOT NULL,
        xero_id TEXT NOT NULL,
        xero_number TEXT,                -- InvoiceNumber / ContactNumber / payment Reference
        fingerprint TEXT,                -- hash of what was last sent, to see a change
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (kind, provet_id)
    );
    CREATE UNIQUE INDEX links_xero ON links (kind, xero_id);

    CREATE TABLE cursors (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );

    CREATE TABLE journal (
        id INTEGER PRIMARY KEY,
        idempotency_key TEXT NOT NULL UNIQUE,
        endpoint TEXT NOT NULL,          -- e.g. "PUT Invoices"
        payload TEXT NOT NULL,           -- the JSON body that is (to be) sent
        documents TEXT NOT NULL,         -- JSON list of the Provet ids in the batch
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
        result TEXT,
        created_at TEXT NOT NULL,
        finished_at TEXT
    );
    CREATE INDEX journal_pending ON journal (state) WHERE state = 'pending';

    CREATE TABLE attention (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        provet_id TEXT NOT NULL,
        document TEXT NOT NULL,          -- what a person calls it, e.g. "Invoice INV-1042"
        cause TEXT NOT NULL,             -- a stable code to group by, e.g. "vat_group_unmapped"
        reason TEXT NOT NULL,            -- plain words
        fix TEXT NOT NULL,               -- what to do about it
        state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved')),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (kind, provet_id, cause)
    );

    CREATE TABLE client_fields (
        provet_client_id TEXT NOT NULL,
        field TEXT NOT NULL,
        value TEXT,                      -- the value both sides had after the last sync
        synced_at TEXT NOT NULL,
        PRIMARY KEY (provet_client_id, field)
    );

    CREATE TABLE conflicts (
        id INTEGER PRIMARY KEY,
        provet_client_id TEXT NOT NULL,
        xero_contact_id TEXT NOT NULL,
        field TEXT NOT NULL,
        base_value TEXT,
        provet_value TEXT,
        xero_value TEXT,
        provet_changed_at TEXT,
        xero_changed_at TEXT,
        created_at TEXT NOT NULL,
        resolved_at TEXT,
        resolution TEXT                  -- provet | xero | a value chosen by hand
    );
    CREATE UNIQUE INDEX conflicts_open ON conflicts (provet_client_id, field) WHERE resolved_at IS NULL;

    CREATE TABLE log (
        id INTEGER PRIMARY KEY,
        ts TEXT NOT NULL,
        level TEXT NOT NULL,
        event TEXT NOT NULL,
        message TEXT NOT NULL,
        document_kind TEXT,
        document_id TEXT
    );
    CREATE INDEX log_ts ON log (ts);
    """,
    # 2: everything kept belongs to one Xero organisation and one Provet instance (a binding); links, cursors,
    # cached reference data, the journal, attention items, client bases and conflicts carry their binding.
    # What an older store holds belongs to the organisation chosen when it is first used (claimed then).
    """
    CREATE TABLE bindings (
        id INTEGER PRIMARY KEY,
        xero_tenant_id TEXT,             -- NULL until claimed by the organisation chosen in the settings
        xero_tenant_name TEXT,
        provet_url TEXT,
        start_date TEXT,                 -- YYYY-MM-DD: nothing older is sent to this organisation
        active INTEGER NOT NULL DEFAULT 0,
        rebuild_reason TEXT,             -- not NULL: links are rebuilt from Xero before anything is written
        rebuilt_at TEXT,
        rebuilt TEXT,                    -- JSON: links rebuilt by kind, and why
        created_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX bindings_active ON bindings (active) WHERE active = 1;
    INSERT INTO bindings (id, active, rebuild_reason, created_at)
        VALUES (1, 1, CASE WHEN EXISTS (SELECT 1 FROM links) THEN NULL ELSE 'new' END,
                strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'));

    DROP INDEX links_xero;
    ALTER TABLE links RENAME TO links_v1;
    CREATE TABLE links (
        scope INTEGER NOT NULL REFERENCES bindings (id),
        kind TEXT NOT NULL,
        provet_id TEXT NOT NULL,
        xero_id TEXT NOT NULL,
        xero_number TEXT,
        fingerprint TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (scope, kind, provet_id)
    );
    CREATE UNIQUE INDEX links_xero ON links (scope, kind, xero_id);
    INSERT INTO links (scope, kind, provet_id, xero_id, xero_number, fingerprint, created_at, updated_at)
        SELECT 1, kind, provet_id, xero_id, xero_number, fingerprint, created_at, updated_at FROM links_v1;
    DROP TABLE links_v1;

    ALTER TABLE cursors RENAME TO cursors_v1;
    CREATE TABLE cursors (
        scope INTEGER NOT NULL REFERENCES bindings (id),
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (scope, name)
    );
    INSERT INTO cursors (scope, name, value, updated_at) SELECT 1, name, value, updated_at FROM cursors_v1;
    DROP TABLE cursors_v1;

    ALTER TABLE attention RENAME TO attention_v1;
    CREATE TABLE attention (
        id INTEGER PRIMARY KEY,
        scope INTEGER NOT NULL REFERENCES bindings (id),
        kind TEXT NOT NULL,
        provet_id TEXT NOT NULL,
        document TEXT NOT NULL,
        cause TEXT NOT NULL,
        reason TEXT NOT NULL,
        fix TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved')),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (scope, kind, provet_id, cause)
    );
    INSERT INTO attention (id, scope, kind, provet_id, document, cause, reason, fix, state, created_at, updated_at)
        SELECT id, 1, kind, provet_id, document, cause, reason, fix, state, created_at, updated_at FROM attention_v1;
    DROP TABLE attention_v1;

    ALTER TABLE client_fields RENAME TO client_fields_v1;
    CREATE TABLE client_fields (
        scope INTEGER NOT NULL REFERENCES bindings (id),
        provet_client_id TEXT NOT NULL,
        field TEXT NOT NULL,
        value TEXT,
        synced_at TEXT NOT NULL,
        PRIMARY KEY (scope, provet_client_id, field)
    );
    INSERT INTO client_fields (scope, provet_client_id, field, value, synced_at)
        SELECT 1, provet_client_id, field, value, synced_at FROM client_fields_v1;
    DROP TABLE client_fields_v1;

    DROP INDEX conflicts_open;
    ALTER TABLE conflicts ADD COLUMN scope INTEGER NOT NULL DEFAULT 1;
    CREATE UNIQUE INDEX conflicts_open ON conflicts (scope, provet_client_id, field) WHERE resolved_at IS NULL;

    ALTER TABLE journal ADD COLUMN scope INTEGER NOT NULL DEFAULT 1;
    """,
)

# The binding every statement about links, cursors, caches, the journal, attention, client bases and conflicts
# reads and writes: the one active binding (bindings_active makes it at most one; the store always has one).
SCOPE = "(SELECT id FROM bindings WHERE active = 1)"

SCHEMA_VERSION = len(MIGRATIONS)


class StoreError(Exception):
    """The store cannot be opened or written; the message says why in plain words."""


class StoreDamaged(StoreError):
    """The store file is not a database any more (random bytes, a torn copy): it cannot be used again."""


@dataclass(frozen=True)
class Binding:
    """The Xero organisation and Provet instance that what the store keeps belongs to."""

    id: int
    xero_tenant_id: str | None
    xero_tenant_name: str | None
    provet_url: str | None
    start_date: str | None
    active: bool
    rebuild_reason: str | None  # not None: links are rebuilt from Xero before anything is written
    rebuilt_at: str | None
    rebuilt: dict[str, Any] | None  # {"links": {kind: n}, "reason": ...}
    linked: int = 0  # links kept for it

    @property
    def label(self) -> str:
        return self.xero_tenant_name or self.xero_tenant_id or "the organisation chosen first"


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


@dataclass(frozen=True)
class LogEntry:
    id: int
    ts: str
    level: str
    event: str
    message: str
    document_kind: str | None
    document_id: str | None


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
            if current > SCHEMA_VERSION:
                raise StoreError(
                    f"The local store {self.path} was made by a newer provet-xero (schema {current}, this "
                    f"version knows {SCHEMA_VERSION}). Update provet-xero."
                )
            for version in range(current + 1, SCHEMA_VERSION + 1):
                with self.transaction() as db:
                    # Another process may have migrated while we waited for the write lock.
                    if int(db.execute("PRAGMA user_version").fetchone()[0]) >= version:
                        continue
                    for statement in _statements(MIGRATIONS[version - 1]):
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

    # --- small shared pieces; the sync layer adds its own queries on top ----------------------------
    def get_cursor(self, name: str) -> str | None:
        rows = self.query(f"SELECT value FROM cursors WHERE scope = {SCOPE} AND name = ?", (name,))
        return rows[0]["value"] if rows else None

    def set_cursor(self, name: str, value: str) -> None:
        with self.transaction() as db:
            db.execute(
                f"INSERT INTO cursors (scope, name, value, updated_at) VALUES ({SCOPE}, ?, ?, ?) "
                "ON CONFLICT(scope, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (name, value, utcnow()),
            )

    def append_log(
        self,
        level: str,
        event: str,
        message: str,
        document_kind: str | None = None,
        document_id: str | None = None,
    ) -> int:
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO log (ts, level, event, message, document_kind, document_id) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (utcnow(), level, event, message, document_kind, document_id),
            )
            return int(cur.lastrowid)

    def read_log(self, after_id: int = 0, limit: int = 1000) -> list[LogEntry]:
        rows = self.query("SELECT * FROM log WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit))
        return [LogEntry(**dict(r)) for r in rows]

    # --- bindings: which Xero organisation and Provet instance the kept rows belong to -------------
    def bindings(self) -> list[Binding]:
        rows = self.query(
            "SELECT b.id, b.xero_tenant_id, b.xero_tenant_name, b.provet_url, b.start_date, b.active, "
            "b.rebuild_reason, b.rebuilt_at, b.rebuilt, (SELECT COUNT(*) FROM links l WHERE l.scope = b.id) "
            "FROM bindings b ORDER BY b.id"
        )
        return [Binding(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6], r[7], json.loads(r[8]) if r[8] else None,
                        r[9]) for r in rows]

    def active_binding(self) -> Binding:
        return next(b for b in self.bindings() if b.active)

    def claim_binding(self, tenant_id: str, tenant_name: str | None, provet_url: str | None) -> None:
        """The active binding, not claimed yet (a new store, or one older than bindings), is this organisation's.
        So is a new store's that no pass has used yet (its rebuild, the first thing a pass does, is still due):
        choosing another organisation during the first setup asks nothing."""
        with self.transaction() as db:
            db.execute(
                "UPDATE bindings SET xero_tenant_id = ?, xero_tenant_name = ?, provet_url = ? "
                "WHERE active = 1 AND (xero_tenant_id IS NULL OR (rebuild_reason = 'new' AND NOT EXISTS "
                "(SELECT 1 FROM links l WHERE l.scope = bindings.id)))",
                (tenant_id, tenant_name, provet_url),
            )

    def rename_binding(self, binding_id: int, tenant_name: str | None) -> None:
        with self.transaction() as db:
            db.execute("UPDATE bindings SET xero_tenant_name = ? WHERE id = ?", (tenant_name, binding_id))

    def activate_binding(self, binding_id: int) -> None:
        with self.transaction() as db:
            db.execute("UPDATE bindings SET active = 0 WHERE active = 1")
            db.execute("UPDATE bindings SET active = 1 WHERE id = ?", (binding_id,))

    def set_binding_start(self, binding_id: int, start_date: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE bindings SET start_date = ? WHERE id = ?", (start_date, binding_id))

    def new_binding(self, tenant_id: str, tenant_name: str | None, provet_url: str | None, start_date: str) -> int:
        """A fresh start for this organisation, made the active one; it rebuilds its links from Xero first."""
        with self.transaction() as db:
            db.execute("UPDATE bindings SET active = 0 WHERE active = 1")
            cur = db.execute(
                "INSERT INTO bindings (xero_tenant_id, xero_tenant_name, provet_url, start_date, active, "
                "rebuild_reason, created_at) VALUES (?, ?, ?, ?, 1, 'new organisation', ?)",
                (tenant_id, tenant_name, provet_url, start_date, utcnow()),
            )
            return int(cur.lastrowid)

    def counts(self) -> dict[str, int]:
        """What `status` shows: links by kind, open attention items, open conflicts, pending writes."""
        out = {f"linked_{r['kind']}": r["n"] for r in self.query(
            f"SELECT kind, COUNT(*) AS n FROM links WHERE scope = {SCOPE} GROUP BY kind ORDER BY kind")}
        out["attention"] = self.query(f"SELECT COUNT(*) FROM attention WHERE scope = {SCOPE} AND state = 'open'")[0][0]
        out["conflicts"] = self.query(
            f"SELECT COUNT(*) FROM conflicts WHERE scope = {SCOPE} AND resolved_at IS NULL")[0][0]
        out["pending_writes"] = self.query(
            f"SELECT COUNT(*) FROM journal WHERE scope = {SCOPE} AND state = 'pending'")[0][0]
        return out


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
