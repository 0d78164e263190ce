"""The pass reads Provet page by page and sends each page while the next is read: a failure half-way must
still lose nothing, duplicate nothing, and leave no reader running."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from provet_xero_gui.mapping import Mapping
from provet_xero_gui.provet.client import ProvetError
from provet_xero_gui.provet.source import ProvetSource
from provet_xero_gui.sandbox.runner import demo_mapping
from provet_xero_gui.store.sync_state import SyncState
from provet_xero_gui.sync.engine import SyncEngine

from .conftest import World


class BreaksAfterSixthPage(ProvetSource):
    """Provet's invoice list breaks after its sixth page, once (an HTML error page mid-way, say).

    Late enough that the pass must have sent a batch before it takes the broken page, whatever the machine's
    speed: it keeps at most READ_AHEAD (2) chunks read ahead, so taking pages 1-6 of 20 sends chunks 1-4
    (80 invoices, more than a batch of 50 even without the anonymous ones) before the break is met."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.broken = False
        self.pages_given = 0

    def changed_invoice_pages(self, since: Any, statuses: Any = ()) -> Iterator[Any]:
        for page in super().changed_invoice_pages(since, statuses):
            if self.pages_given >= 6 and not self.broken:
                self.broken = True
                raise ProvetError("Provet answered the invoice list with something that is not JSON")
            self.pages_given += 1
            yield page


def _engine(world: World, source: ProvetSource) -> SyncEngine:
    return SyncEngine(source, world.xero, SyncState(world.store), Mapping.from_json(demo_mapping()),
                      events=world.events.append)


def _no_readers_left() -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if not [t for t in threading.enumerate() if t.name.startswith("provet-xero ") and t.is_alive()]:
            return True
        time.sleep(0.05)
    return False


def test_a_list_breaking_half_way_sends_the_first_pages_then_the_rest_next_time_exactly_once(
    make_world: Callable[..., World],
) -> None:
    world = make_world(size=160)
    source = BreaksAfterSixthPage(world.provet, page_size=20, max_page_size=20)

    first = _engine(world, source).run_pass()

    assert first.stopped and "not JSON" in first.stopped
    sent_first = {i.number for i in world.xero_invoices()}
    assert sent_first, "the first pages' documents were sent while the list was still being read"
    assert _no_readers_left()
    assert world.state.cursor("provet:invoices") is None  # the cursor moves only when the whole list was read

    second = _engine(world, source).run_pass()
    assert second.stopped is None

    numbers = Counter(i.number for i in world.xero_invoices())
    assert numbers and max(numbers.values()) == 1
    assert sent_first < set(numbers) == _expected_numbers(world)
    linked = world.state.links("invoice", None)
    assert {link.xero_id for link in linked.values()} == {i.doc_id for i in world.xero_invoices()}
    contacts = Counter(c.contact_number for c in world.xero_contacts() if c.contact_number)
    assert contacts and max(contacts.values()) == 1


def _expected_numbers(world: World) -> set[str]:
    return {inv.document_number for inv in world.sandbox.provet.invoices()
            if inv.status == 3 and inv.client_id is not None and not inv.consolidated_invoice
            and not inv.credit_note}


def test_a_pause_after_the_first_batch_stops_the_readers_and_the_next_pass_goes_on(
    make_world: Callable[..., World],
) -> None:
    world = make_world(size=160)
    engine = SyncEngine(ProvetSource(world.provet), world.xero, SyncState(world.store),
                        Mapping.from_json(demo_mapping()), events=world.events.append,
                        should_stop=lambda: world.xero.calls.get("PUT Invoices", 0) >= 1)
    paused = engine.run_pass()
    assert paused.stop_kind == "paused"
    assert 0 < len(world.xero_invoices()) < len(_expected_numbers(world))
    assert _no_readers_left()

    done = _engine(world, ProvetSource(world.provet)).run_pass()
    assert done.stopped is None
    numbers = Counter(i.number for i in world.xero_invoices())
    assert max(numbers.values()) == 1
    assert set(numbers) == _expected_numbers(world)
