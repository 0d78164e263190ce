"""Everything kept belongs to one Xero organisation and one Provet instance (a binding): an older store upgrades
in place and its rows go to the organisation chosen when it is first used; another binding sees none of them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from provet_xero_gui import store as store_module
from provet_xero_gui.store import Bindings, Store
from provet_xero_gui.store.sync_state import NewLink, SyncState


def _schema_1_store(path: Path) -> None:
    """A store as provet-xero made it before bindings, with a link, a cursor, a pending write and an item."""
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(store_module.MIGRATIONS[0])
    db.execute("INSERT INTO links VALUES ('invoice', '7', 'X7', 'INV-7', 'INV-7', 'now', 'now')")
    db.execute("INSERT INTO cursors VALUES ('provet:invoices', '2026-11-01T00:00:00+00:00', 'now')")
    db.execute("INSERT INTO journal (idempotency_key, endpoint, payload, documents, created_at) "
               "VALUES ('k1', 'PUT Invoices', '[]', '[]', 'now')")
    db.execute("INSERT INTO attention (kind, provet_id, document, cause, reason, fix, created_at, updated_at) "
               "VALUES ('invoice', '9', 'Invoice 9', 'lock_date', 'locked', 'move it', 'now', 'now')")
    db.execute("PRAGMA user_version = 1")
    db.close()


def test_an_older_store_upgrades_in_place_and_its_rows_go_to_the_organisation_chosen(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    _schema_1_store(path)
    with Store(path) as store:
        state = SyncState(store)
        assert store.schema_version == store_module.SCHEMA_VERSION
        kept = Bindings(store).active()
        assert kept.xero_tenant_id is None and kept.rebuild_reason is None, "links it has: nothing to rebuild"
        assert state.link("invoice", 7).xero_id == "X7"
        assert state.cursor("provet:invoices") == "2026-11-01T00:00:00+00:00"
        assert [e.key for e in state.pending()] == ["k1"] and [i.provet_id for i in state.attention()] == ["9"]

        Bindings(store).claim("tenant-A", "Clinic A", "https://provet.example/1/")
        Bindings(store).claim("tenant-B", "Clinic B", "https://provet.example/1/")  # claimed once, for good
        assert Bindings(store).active().xero_tenant_name == "Clinic A"

        # Another organisation started fresh sees none of A's rows, and writes its own beside them.
        b = Bindings(store).new("tenant-B", "Clinic B", "https://provet.example/1/", "2026-11-15")
        assert state.link("invoice", 7) is None and state.cursor("provet:invoices") is None
        assert state.pending() == [] and state.attention() == []
        assert state.binding().rebuild_reason == "new organisation" and state.binding().start_date == "2026-11-15"
        state.add_links([NewLink("invoice", "7", "B7", "INV-7")])
        state.set_cursor("provet:invoices", "2026-11-20T00:00:00+00:00")

        Bindings(store).activate(1)  # back to A: its own rows, untouched
        assert state.link("invoice", 7).xero_id == "X7"
        assert state.cursor("provet:invoices") == "2026-11-01T00:00:00+00:00"
        Bindings(store).activate(b)
        assert state.link("invoice", 7).xero_id == "B7"
        assert {x.xero_tenant_id: x.linked for x in Bindings(store).all()} == {"tenant-A": 1, "tenant-B": 1}


def test_a_new_store_rebuilds_its_links_before_it_writes(tmp_path: Path) -> None:
    with Store(tmp_path / "new.sqlite3") as store:
        state = SyncState(store)
        assert state.binding().rebuild_reason == "new"
        Bindings(store).claim("tenant-A", "Clinic A", None)
        Bindings(store).claim("tenant-B", "Clinic B", None)  # the first setup changed its mind: nothing used yet
        assert state.binding().xero_tenant_id == "tenant-B"
        state.record_rebuild([NewLink("payment", "5", "P5")], {"payment": 1}, "new")
        assert state.binding().rebuild_reason is None and state.binding().rebuilt == {"links": {"payment": 1},
                                                                                       "reason": "new"}
        assert state.link("payment", 5).xero_id == "P5"
        Bindings(store).claim("tenant-C", "Clinic C", None)  # used now: it stays Clinic B's
        assert state.binding().xero_tenant_id == "tenant-B"


def test_a_damaged_store_is_kept_aside_and_a_new_one_made(tmp_path: Path) -> None:
    path = tmp_path / "provet-xero.sqlite3"
    path.write_bytes(b"\x00\xffnot sqlite" * 500)
    with Store.open_or_set_aside(path) as store:
        aside = list(tmp_path.glob("provet-xero.sqlite3.damaged-*"))
        assert len(aside) == 1 and aside[0].read_bytes() == b"\x00\xffnot sqlite" * 500
        assert Bindings(store).active().rebuild_reason == f"damaged:{aside[0]}"
        assert store.query("PRAGMA integrity_check")[0][0] == "ok"
