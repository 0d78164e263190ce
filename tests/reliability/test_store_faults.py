"""The local store failing under a real sync: the disk filling up while the journal is written (SQLite's
own SQLITE_FULL, brought on with `PRAGMA max_page_count`), the file held locked by a second process, and a
store from an older version upgraded. Each ends with a plain message, and the next pass leaves every
document in Xero exactly once."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.connected import connect_profile
from helpers.exactly_once import assert_exactly_once

from provet_xero_gui.app.passes import CannotSync, run_sync
from provet_xero_gui.mapping import Mapping, MappingFile
from provet_xero_gui.profile import Profile
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID
from provet_xero_gui.sandbox.runner import Sandbox, demo_mapping
from provet_xero_gui.store import Cursors, Log, Store, StoreError, database, migrations
from provet_xero_gui.store.sync_state import SyncState
from provet_xero_gui.sync.events import Event, Progress

SIZE = 60  # more than one batch of 50 invoices


@pytest.fixture
def clinic(monkeypatch: pytest.MonkeyPatch, profile_home: Path) -> Iterator[tuple[Sandbox, Profile]]:
    with Sandbox(size=SIZE) as sandbox:
        profile = connect_profile(sandbox, monkeypatch)
        MappingFile(profile.paths.mapping_file).save(Mapping.from_json(demo_mapping()))
        yield sandbox, profile.reload()


@pytest.fixture
def opened_stores(monkeypatch: pytest.MonkeyPatch) -> list[Store]:
    """Every Store a sync opens, so a test can reach the one a pass is using."""
    opened: list[Store] = []
    real = Profile.store

    def store(self: Profile) -> Store:
        opened.append(real(self))
        return opened[-1]

    monkeypatch.setattr(Profile, "store", store)
    return opened


def _fill_disk(store: Store) -> None:
    """From now on SQLite may not grow the file: the next write that needs a page fails with SQLITE_FULL."""
    pages = store.query("PRAGMA page_count")[0][0]
    store.query(f"PRAGMA max_page_count = {pages}")


def _sync(profile: Profile, events: Callable[[Event], None] | None = None) -> str | None:
    """One pass; why it stopped (its own words, or the reason it could not run), None when it went through."""
    try:
        result = run_sync(profile, events=events, sleep=lambda _s: None)
    except CannotSync as exc:
        return str(exc)
    return result.stopped


def _pending(profile: Profile) -> int:
    with Store(profile.paths.store_file) as store:
        return SyncState(store).counts()["pending_writes"]


def test_disk_full_while_journaling_a_batch_stops_plainly_and_sends_it_next_time(
    clinic: tuple[Sandbox, Profile], opened_stores: list[Store]
) -> None:
    sandbox, profile = clinic

    def on_event(event: Event) -> None:
        if isinstance(event, Progress) and event.phase == "sending invoices":
            _fill_disk(opened_stores[-1])  # the batch's journal entry is the next write

    stopped = _sync(profile, on_event)
    assert stopped is not None and "is full" in stopped and "Free some space" in stopped, stopped
    assert "Traceback" not in stopped and "OperationalError" not in stopped
    # The batch was never sent: its journal entry was not committed, so nothing went to Xero for it.
    assert sandbox.xero.invoices(CLINIC_TENANT_ID) == []
    assert _sync(profile) is None  # space freed: a new store connection has no page limit
    assert_exactly_once(sandbox)


def test_disk_full_while_recording_xeros_answer_replays_without_a_duplicate(
    clinic: tuple[Sandbox, Profile], opened_stores: list[Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox, profile = clinic
    server = sandbox.xero.server
    real_dispatch = server.dispatch

    def dispatch(req: Any) -> Any:
        answer = real_dispatch(req)
        if req.method == "PUT" and req.path.lower().endswith("/invoices") and not getattr(dispatch, "done", False):
            dispatch.done = True  # type: ignore[attr-defined]
            _fill_disk(opened_stores[-1])  # Xero has the invoices; recording its answer is what fails
        return answer

    monkeypatch.setattr(server, "dispatch", dispatch)
    stopped = _sync(profile)
    assert stopped is not None and "is full" in stopped, stopped
    in_xero = len(sandbox.xero.invoices(CLINIC_TENANT_ID))
    assert in_xero > 0 and _pending(profile) >= 1  # sent, not recorded: the entry waits to be replayed
    monkeypatch.setattr(server, "dispatch", real_dispatch)
    assert _sync(profile) is None
    assert _pending(profile) == 0
    assert_exactly_once(sandbox)


_HOLDER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
db.execute("BEGIN EXCLUSIVE")
print("held", flush=True)
sys.stdin.read()  # until the test closes our stdin
db.execute("COMMIT")
"""


class _Holder:
    """A second process holding an exclusive transaction on the store file."""

    def __init__(self, path: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(path)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "held"

    def release(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            assert self.proc.wait(10) == 0


def test_store_locked_by_another_process_mid_pass_stops_plainly_and_loses_nothing(
    clinic: tuple[Sandbox, Profile], monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox, profile = clinic
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 1000)  # the app waits 30 s; the test need not
    holders: list[_Holder] = []

    def on_event(event: Event) -> None:
        if isinstance(event, Progress) and event.phase == "sending invoices" and not holders:
            holders.append(_Holder(profile.paths.store_file))

    try:
        stopped = _sync(profile, on_event)
        assert stopped is not None and "Another program is holding" in stopped and "nothing is lost" in stopped
        assert holders, "the lock was taken in the middle of the pass"
    finally:
        for h in holders:
            h.release()
    assert sandbox.xero.invoices(CLINIC_TENANT_ID) == []
    assert _sync(profile) is None
    assert_exactly_once(sandbox)


def test_a_lock_held_briefly_is_waited_for(clinic: tuple[Sandbox, Profile]) -> None:
    """The busy timeout: a second program writing for a moment (the window and the command line) costs a wait."""
    sandbox, profile = clinic
    Store(profile.paths.store_file).close()  # the file exists and is migrated
    holder = _Holder(profile.paths.store_file)
    import threading

    timer = threading.Timer(1.5, holder.release)
    timer.start()
    try:
        assert _sync(profile) is None
    finally:
        timer.join()
    assert_exactly_once(sandbox)


def test_store_from_an_older_version_is_upgraded_and_its_unfinished_writes_replayed(
    clinic: tuple[Sandbox, Profile], monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox, profile = clinic
    # A pass under the current schema ends with a write Xero carried out but never answered: a pending entry.
    sandbox.xero.faults.drop_next_writes = 1000
    stopped = _sync(profile)
    sandbox.xero.faults.reset()
    assert stopped is not None and _pending(profile) >= 1
    with Store(profile.paths.store_file) as store:
        old_version = store.schema_version
        log_lines = len(Log(store).read(limit=100_000))

    # The next version of provet-xero brings one more migration step.
    newer = (*migrations.MIGRATIONS, "ALTER TABLE journal ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;")
    monkeypatch.setattr(migrations, "MIGRATIONS", newer)
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", len(newer))
    assert _sync(profile) is None
    with Store(profile.paths.store_file) as store:
        assert store.schema_version == old_version + 1
        assert "attempts" in {r[1] for r in store.query("PRAGMA table_info(journal)")}
        assert len(Log(store).read(limit=100_000)) > log_lines  # the old log is kept
        assert SyncState(store).counts()["pending_writes"] == 0
    assert_exactly_once(sandbox)


def test_a_failing_upgrade_leaves_the_old_store_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "store.sqlite3"
    with Store(path) as store:
        Cursors(store).set("provet:invoices", "2026-01-01T00:00:00+00:00")
        version = store.schema_version
    broken = (*migrations.MIGRATIONS, "CREATE TABLE extra (x TEXT); ALTER TABLE no_such_table ADD COLUMN y;")
    monkeypatch.setattr(migrations, "MIGRATIONS", broken)
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", len(broken))
    with pytest.raises(StoreError) as caught:
        Store(path)
    assert str(path) in str(caught.value) and "Traceback" not in str(caught.value)
    monkeypatch.undo()
    with Store(path) as store:
        assert store.schema_version == version
        assert Cursors(store).get("provet:invoices") == "2026-01-01T00:00:00+00:00"
        assert "extra" not in {r[0] for r in store.query("SELECT name FROM sqlite_master")}
