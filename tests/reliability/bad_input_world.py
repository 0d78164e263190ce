"""A sync engine on a fresh sandbox (answered in this process), with the checks a person makes after a pass:
what Xero holds, what waits in the attention list, and that nothing crashed. Used by test_bad_input.py."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from helpers.sandbox_clients import sandbox_clients

from provet_xero_gui.mapping import Mapping
from provet_xero_gui.provet.client import ProvetClient
from provet_xero_gui.provet.source import ProvetSource
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID, RowSpec
from provet_xero_gui.sandbox.runner import Sandbox, demo_mapping
from provet_xero_gui.store import Store
from provet_xero_gui.store.sync_state import AttentionItem, SyncState
from provet_xero_gui.sync.engine import SyncEngine
from provet_xero_gui.sync.events import Event, Notice, SyncResult
from provet_xero_gui.xero.client import XeroClient


def row(
    name: str = "Consultation",
    net: str = "50.00",
    vat: str = "20",
    qty: str = "1",
    discount: str = "0",
    account: str | None = "200",
) -> RowSpec:
    """A row as a clinic user enters it: net unit price, VAT %, quantity, discount (negative %) or surcharge."""
    return RowSpec(name, Decimal(qty), Decimal(net), Decimal(vat), account, Decimal(discount))


@dataclass
class World:
    sandbox: Sandbox
    store: Store
    provet_client: ProvetClient
    xero_client: XeroClient
    mapping_json: dict[str, Any] = field(default_factory=demo_mapping)
    events: list[Event] = field(default_factory=list)

    # --- planting ----------------------------------------------------------------------------------------
    @property
    def provet(self) -> Any:
        return self.sandbox.provet

    @property
    def xero(self) -> Any:
        return self.sandbox.xero

    def client_id(self) -> int:
        """An ordinary named client of the clinic."""
        return next(c.id for c in self.provet.clients() if c.customer_type == 0 and not c.archived)

    def invoice(self, rows: list[RowSpec] | None = None, client_id: int | None = None, **kwargs: Any) -> Any:
        """A finalised invoice (one ordinary row unless told) for `client_id` (an ordinary client unless told)."""
        return self.provet.add_invoice(client_id or self.client_id(), rows if rows is not None else [row()], **kwargs)

    # --- running -----------------------------------------------------------------------------------------
    def engine(self, mapping: Mapping | None = None) -> SyncEngine:
        return SyncEngine(
            ProvetSource(self.provet_client),
            self.xero_client,
            SyncState(self.store),
            mapping or Mapping.from_json(self.mapping_json),
            events=self.events.append,
        )

    def sync(self, *, retry_all: bool = False, **kwargs: Any) -> SyncResult:
        """One pass, as the app runs it; never an "unexpected error" (a crash caught by the engine)."""
        retry = {a.key for a in self.attention()} if retry_all else set()
        before = len(self.events)
        result = self.engine().run_pass(retry, **kwargs)
        crashes = [e.message for e in self.events[before:] if isinstance(e, Notice) and "unexpected" in e.message]
        assert not crashes, crashes
        assert result.stopped is None or "unexpected error" not in result.stopped, result.stopped
        return result

    def assert_settled(self) -> None:
        """Another pass finds nothing to do: no document, payment or contact change bounces between the sides."""
        before = self.xero.counter.counts()
        result = self.sync()
        writes = {
            k: v - before.get(k, 0)
            for k, v in self.xero.counter.counts().items()
            if not k.startswith("GET") and v != before.get(k, 0)
        }
        assert result.stopped is None and result.sent == {} and not writes, (result.sent, writes)

    # --- looking -----------------------------------------------------------------------------------------
    @property
    def state(self) -> SyncState:
        return SyncState(self.store)

    def attention(self, cause: str | None = None) -> list[AttentionItem]:
        return [a for a in self.state.attention() if cause is None or a.cause == cause]

    def item_for(self, provet_id: int) -> AttentionItem:
        """The one attention item about this Provet record."""
        (found,) = [a for a in self.attention() if a.provet_id == str(provet_id)]
        return found

    def xero_invoice(self, number: str) -> Any:
        (found,) = [d for d in self.xero.invoices(CLINIC_TENANT_ID) if d.number == number]
        return found

    def numbers(self) -> Counter[str]:
        """Document number → how many times Xero holds it (invoices and credit notes)."""
        docs = [*self.xero.invoices(CLINIC_TENANT_ID), *self.xero.credit_notes(CLINIC_TENANT_ID)]
        return Counter(d.number for d in docs if d.status not in ("DELETED",))

    def expected_numbers(self) -> set[str]:
        """What the default rules send: finalised, named, not consolidated."""
        return {
            inv.document_number
            for inv in self.provet.invoices(status=3)
            if inv.client_id is not None and not inv.consolidated_invoice
        }

    def contacts(self) -> list[Any]:
        return self.xero.contacts(CLINIC_TENANT_ID)

    def contact_of(self, client_id: int) -> Any:
        (found,) = [c for c in self.contacts() if c.contact_number == f"Provet-{client_id}"]
        return found

    def live_payments(self) -> list[Any]:
        return [p for p in self.xero.payments(CLINIC_TENANT_ID) if p.status == "AUTHORISED"]

    def assert_everything_else_once(self, *absent: str) -> None:
        """Every document the rules send is in Xero exactly once, except `absent` (which must not be)."""
        got = self.numbers()
        assert all(n == 1 for n in got.values()), got.most_common(3)
        ours = {n for n in got if n in self.expected_numbers() or n in absent}
        assert ours == self.expected_numbers() - set(absent), (
            sorted(self.expected_numbers() - set(absent) - ours),
            sorted(ours & set(absent)),
        )
        # A payment on a consolidated invoice lands in parts on its gathered invoices: once per invoice.
        refs = Counter(
            (p.reference, p.invoice_id) for p in self.live_payments() if p.reference.startswith("Provet payment #")
        )
        assert all(n == 1 for n in refs.values()), refs.most_common(3)


def open_world(tmp_path: Path, *, size: int = 1) -> Iterator[World]:
    """A fresh sandbox clinic (the smallest the generator makes) and an empty store; closed afterwards."""
    sb = Sandbox(size=size)
    store = Store(tmp_path / "store.sqlite3")
    provet, xero = sandbox_clients(sb)
    try:
        yield World(sb, store, provet, xero)
    finally:
        store.close()
        sb.stop()
