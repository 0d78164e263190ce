from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from provet_xero_gui.store import SCHEMA_VERSION, Cursors, Log, Store, StoreError
from provet_xero_gui.store.sync_state import SyncState


def test_new_store_is_migrated_and_in_wal_mode(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite3") as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.query("PRAGMA journal_mode")[0][0] == "wal"
        tables = {r[0] for r in store.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"links", "cursors", "journal", "attention", "conflicts", "client_fields", "log"} <= tables


def test_reopening_keeps_data_and_does_not_migrate_again(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    with Store(path) as store:
        Cursors(store).set("invoice", "2026-11-01 00:00+00:00")
    with Store(path) as store:
        assert Cursors(store).get("invoice") == "2026-11-01 00:00+00:00"
        assert store.schema_version == SCHEMA_VERSION


def test_a_store_from_a_newer_version_is_refused_plainly(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer provet-xero"):
        Store(path)


def test_a_file_that_is_not_a_database_is_a_plain_error(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot be opened"):
        Store(path)


def test_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite3") as store:
        with pytest.raises(RuntimeError), store.transaction() as db:
            db.execute(
                "INSERT INTO links VALUES (1, 'invoice', '1', 'X1', 'INV-1', NULL, 'now', 'now')"
            )
            raise RuntimeError("crash in the middle")
        assert store.query("SELECT COUNT(*) FROM links")[0][0] == 0


def _writer(path: str, name: str, n: int) -> None:
    with Store(Path(path)) as store:
        for i in range(n):
            Log(store).append("info", "test", f"{name} {i}")
            with store.transaction() as db:
                db.execute(
                    "INSERT INTO links VALUES (1, 'invoice', ?, ?, NULL, NULL, 'now', 'now')",
                    (f"{name}-{i}", f"X-{name}-{i}"),
                )


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(path), name, 150)) for name in ("a", "b")]
    for p in procs:
        p.start()
    _writer(str(path), "main", 150)  # and this process at the same time
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    with Store(path) as store:
        assert store.query("PRAGMA integrity_check")[0][0] == "ok"
        assert store.query("SELECT COUNT(*) FROM log")[0][0] == 450
        assert store.query("SELECT COUNT(*) FROM links")[0][0] == 450
        assert len(Log(store).read(limit=10_000)) == 450


def test_counts_for_status(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite3") as store:
        with store.transaction() as db:
            db.execute("INSERT INTO links VALUES (1, 'contact', '7', 'C7', NULL, NULL, 'now', 'now')")
            db.execute(
                "INSERT INTO attention (scope, kind, provet_id, document, cause, reason, fix, created_at, updated_at)"
                " VALUES (1, 'invoice', '9', 'Invoice 9', 'vat', 'VAT group not mapped', 'Map it', 'now', 'now')"
            )
        assert SyncState(store).counts() == {"linked_contact": 1, "attention": 1, "conflicts": 0, "pending_writes": 0}
