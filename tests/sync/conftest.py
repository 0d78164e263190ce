"""An engine wired to a fresh sandbox in one line: what engine tests start from.

`make_world()` answers both services in this process (sandbox/memory.py): the real clients against the
sandbox's own router and rules, with no socket, so a test takes milliseconds and is refused exactly as over
the wire. `make_world(wire=True)` serves the sandbox on loopback HTTP instead, for what only the wire shows:
answers that drip, connections that break, headers and Idempotency-Keys as sent."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers.sandbox_clients import sandbox_clients

from provet_xero_gui.mapping import Mapping
from provet_xero_gui.provet.client import ProvetClient
from provet_xero_gui.provet.source import ProvetSource
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID
from provet_xero_gui.sandbox.runner import Sandbox, demo_mapping
from provet_xero_gui.store import Store
from provet_xero_gui.store.sync_state import SyncState
from provet_xero_gui.sync.engine import SyncEngine
from provet_xero_gui.sync.events import Event
from provet_xero_gui.xero.client import XeroClient


@dataclass
class World:
    sandbox: Sandbox
    provet: ProvetClient
    xero: XeroClient
    store: Store
    events: list[Event]

    def engine(self, mapping: Mapping | None = None) -> SyncEngine:
        return SyncEngine(
            ProvetSource(self.provet), self.xero, SyncState(self.store),
            mapping or Mapping.from_json(demo_mapping()), events=self.events.append,
            provet_calls=lambda: sum(self.provet.calls.values()),
        )

    @property
    def state(self) -> SyncState:
        return SyncState(self.store)

    def xero_invoices(self) -> list:
        return self.sandbox.xero.invoices(CLINIC_TENANT_ID)

    def xero_credit_notes(self) -> list:
        return self.sandbox.xero.credit_notes(CLINIC_TENANT_ID)

    def xero_contacts(self) -> list:
        return self.sandbox.xero.contacts(CLINIC_TENANT_ID)


@pytest.fixture
def make_world(tmp_path: Path) -> Iterator[Callable[..., World]]:
    opened: list[tuple[Sandbox, Store]] = []

    def make(size: int = 12, *, wire: bool = False, **sandbox_args) -> World:
        sb = Sandbox(size=size, **sandbox_args)
        if wire:
            sb.start()
        store = Store(tmp_path / f"store{len(opened)}.sqlite3")
        opened.append((sb, store))
        return World(sb, *sandbox_clients(sb, wire=wire), store, [])

    yield make
    for sb, store in opened:
        store.close()
        sb.stop()


@pytest.fixture
def world(make_world: Callable[..., World]) -> World:
    return make_world()
