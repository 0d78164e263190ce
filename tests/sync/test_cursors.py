"""Reading changes never skips a document: Provet's lists are read in the order asked for, or the pass stops
and moves no cursor (issue 16.3); a Provet record dated in the future never carries a cursor past Provet's
own clock (issue 17.2); the Xero payments poll steps back and sends If-Modified-Since to the second, so a
payment saved in the same second as the cursor is not skipped, and seeing one again is harmless (16.4)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from helpers.connected import connect_profile
from helpers.exactly_once import assert_exactly_once
from helpers.keyring_lock import require_secret_service

from provet_xero_gui.mapping import Mapping, MappingFile
from provet_xero_gui.provet.source import ProvetSource
from provet_xero_gui.sandbox import provet_state
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID, RowSpec
from provet_xero_gui.sandbox.runner import Sandbox, demo_mapping
from provet_xero_gui.store.sync_state import SyncState
from provet_xero_gui.sync.clients import CURSOR_PROVET as CURSOR_CLIENTS
from provet_xero_gui.sync.engine import CURSOR_INVOICES, SyncEngine
from provet_xero_gui.sync.events import Notice
from provet_xero_gui.sync.payments import CURSOR_PROVET, CURSOR_XERO, XERO_OVERLAP
from provet_xero_gui.xero.client import modified_since_header

from .conftest import World


def _small_pages(world: World) -> SyncEngine:
    """The engine reading Provet five records a page, so every list spans several pages."""
    return SyncEngine(ProvetSource(world.provet, page_size=5, max_page_size=5), world.xero, SyncState(world.store),
                      Mapping.from_json(demo_mapping()), events=world.events.append)


def _new_invoice(world: World, total: str) -> int:
    client = world.sandbox.provet.clients()[0]
    net = (Decimal(total) / Decimal("1.2")).quantize(Decimal("0.0001"))
    inv = world.sandbox.provet.add_invoice(client.id, [RowSpec("Surgery", Decimal(1), net, Decimal(20), "200")],
                                           finalise=True)
    return inv.id


def _in_xero(world: World, provet_id: int) -> bool:
    number = world.sandbox.provet.invoice(provet_id).document_number
    return number in {d.number for d in world.xero_invoices()}


def _xero_paid(world: World, provet_id: int) -> list[Decimal]:
    link = world.state.link("invoice", provet_id)
    assert link is not None
    return sorted(p.amount for p in world.sandbox.xero.payments(CLINIC_TENANT_ID)
                  if p.invoice_id == link.xero_id and p.status == "AUTHORISED")


# --- 16.3: Provet's order --------------------------------------------------------------------------------------


def test_every_document_is_sent_when_provets_lists_span_many_pages(world: World) -> None:
    """The sandbox lists newest first unless asked: a reader paging by id without asking loses documents."""
    result = _small_pages(world).run_pass()
    assert result.stopped is None, result.stopped
    assert_exactly_once(world.sandbox)
    assert _small_pages(world).run_pass().sent == {}


def test_a_provet_list_out_of_order_stops_the_pass_moves_no_cursor_and_loses_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(provet_state, "order_keys", lambda resource, ordering: ("-id",))  # `ordering` ignored
    result = _small_pages(world).run_pass()
    assert result.stopped is not None and result.stop_kind == "error"
    assert "out of order" in result.stopped and "Provet support" in result.stopped
    assert "http" not in result.stopped
    assert world.state.cursor(CURSOR_INVOICES) is None and world.state.cursor(CURSOR_PROVET) is None
    monkeypatch.undo()  # Provet answers in order again
    again = _small_pages(world).run_pass()
    assert again.stopped is None, again.stopped
    assert_exactly_once(world.sandbox)


def test_the_command_line_says_plainly_that_provets_list_came_out_of_order(
    monkeypatch: pytest.MonkeyPatch, profile_home: Path
) -> None:
    require_secret_service()
    with Sandbox(size=12) as sandbox:
        profile = connect_profile(sandbox, monkeypatch)
        MappingFile(profile.paths.mapping_file).save(Mapping.from_json(demo_mapping()))
        with monkeypatch.context() as m:
            m.setattr(provet_state, "order_keys", lambda resource, ordering: ("-id",))  # `ordering` ignored
            out = subprocess.run([sys.executable, "-m", "provet_xero_gui", "sync", "--once"], capture_output=True,
                                 text=True, timeout=120, env=dict(os.environ))
        assert out.returncode == 2, out.stdout + out.stderr
        assert "out of order" in out.stderr and "Traceback" not in out.stdout + out.stderr, out.stderr
        assert sandbox.xero.invoices(CLINIC_TENANT_ID) == []  # nothing read out of order was sent
        again = subprocess.run([sys.executable, "-m", "provet_xero_gui", "sync", "--once"], capture_output=True,
                               text=True, timeout=120, env=dict(os.environ))
        assert again.returncode in (0, 1), again.stderr  # 1: documents held for attention, as always
        assert_exactly_once(sandbox)


# --- 17.2: a record dated in the future ---------------------------------------------------------------------------


@pytest.mark.parametrize("when", ["3 hours ahead", "2030"])
def test_a_document_dated_in_the_future_does_not_stop_later_ones(world: World, when: str) -> None:
    provet = world.sandbox.provet
    assert world.engine().run_pass().stopped is None
    odd = _new_invoice(world, "60.00")
    future = provet.clock.now() + timedelta(hours=3) if when != "2030" else datetime(2030, 1, 1, tzinfo=UTC)
    provet.state.tables["invoice"][odd]["modified"] = future  # what Provet holds, whatever the reason
    first = world.engine().run_pass()
    assert first.stopped is None and _in_xero(world, odd)  # the odd one itself goes, once
    warnings = [e.message for e in world.events if isinstance(e, Notice) and e.level == "warning"]
    number = provet.invoice(odd).document_number
    assert any(f"invoice {number}" in w and "impossible" in w for w in warnings), warnings
    assert datetime.fromisoformat(world.state.cursor(CURSOR_INVOICES) or "") <= provet.clock.now()

    for amount in ("30.00", "45.00"):  # later passes keep sending new invoices and their payments
        provet.clock.advance(60)
        new = _new_invoice(world, amount)
        provet.add_payment(new, "10.00", payment_type=1)
        result = world.engine().run_pass()
        assert result.stopped is None and _in_xero(world, new), result
        assert _xero_paid(world, new) == [Decimal("10.00")]
    assert Counter(d.number for d in world.xero_invoices())[number] == 1
    assert_exactly_once(world.sandbox)


def test_a_payment_dated_in_the_future_does_not_stop_later_payments(world: World) -> None:
    provet = world.sandbox.provet
    inv = _new_invoice(world, "90.00")
    assert world.engine().run_pass().stopped is None
    odd = provet.add_payment(inv, "10.00", payment_type=1)
    provet.state.tables["invoicepayment"][odd.id]["modified"] = datetime(2030, 1, 1, tzinfo=UTC)
    world.engine().run_pass()
    assert _xero_paid(world, inv) == [Decimal("10.00")]
    assert datetime.fromisoformat(world.state.cursor(CURSOR_PROVET) or "") <= provet.clock.now()
    provet.clock.advance(60)
    provet.add_payment(inv, "20.00", payment_type=1)  # a later payment on an invoice already in Xero
    assert world.engine().run_pass().stopped is None
    assert _xero_paid(world, inv) == [Decimal("10.00"), Decimal("20.00")]


def test_cursors_an_older_version_left_in_the_future_are_repaired(world: World) -> None:
    provet = world.sandbox.provet
    paid_later = _new_invoice(world, "90.00")
    assert world.engine().run_pass().stopped is None
    cursors = (CURSOR_INVOICES, CURSOR_PROVET, CURSOR_CLIENTS)
    for name in cursors:  # what the old code kept after a record dated 2030
        world.state.set_cursor(name, "2030-01-01T00:00:00+00:00")
    new = _new_invoice(world, "30.00")
    provet.add_payment(paid_later, "10.00", payment_type=1)
    client_id = provet.invoice(paid_later).client_id
    provet.edit_client(client_id, email="moved.on@example.org")
    provet.clock.advance(60)
    first = world.engine().run_pass()
    assert first.stopped is None
    warnings = [e.message for e in world.events if isinstance(e, Notice) and e.level == "warning"]
    assert sum("later than Provet's own clock" in w for w in warnings) == 3, warnings
    assert world.engine().run_pass().stopped is None
    assert _in_xero(world, new) and _xero_paid(world, paid_later) == [Decimal("10.00")]
    contact = world.state.link("contact", client_id)
    assert contact is not None
    (xero_contact,) = [c for c in world.xero_contacts() if c.contact_id == contact.xero_id]
    assert xero_contact.email == "moved.on@example.org"
    for name in cursors:
        assert datetime.fromisoformat(world.state.cursor(name) or "") <= provet.clock.now()
    assert_exactly_once(world.sandbox)


# --- 16.4: the Xero payments poll ---------------------------------------------------------------------------------


def test_a_xero_payment_saved_in_the_same_second_as_the_cursor_is_not_skipped(world: World) -> None:
    xero = world.sandbox.xero
    inv = _new_invoice(world, "90.00")
    world.engine().run_pass()
    invoice_id = world.state.link("invoice", inv).xero_id
    second = world.sandbox.clock.now().replace(microsecond=0) + timedelta(seconds=1)
    a = xero.make_payment(CLINIC_TENANT_ID, invoice_id, "30.00", "090")
    xero.restamp_payment(CLINIC_TENANT_ID, a.payment_id, second + timedelta(milliseconds=500))
    assert world.engine().run_pass().sent == {"xero_payment": 1}
    assert world.state.cursor(CURSOR_XERO) == (second + timedelta(milliseconds=500)).isoformat()
    # Saved at .700 of the same second, but only readable after that poll (a save that took a moment).
    b = xero.make_payment(CLINIC_TENANT_ID, invoice_id, "20.00", "090")
    xero.restamp_payment(CLINIC_TENANT_ID, b.payment_id, second + timedelta(milliseconds=700))
    assert world.engine().run_pass().sent == {"xero_payment": 1}
    for _ in range(2):  # A and B are seen again by the overlap: harmless
        assert world.engine().run_pass().sent == {}
    posted = Counter((p.info, p.paid) for p in world.sandbox.provet.payments_for(inv) if p.status == 3
                     and p.info.startswith("Xero payment "))
    assert posted == {(f"Xero payment {a.payment_id}", Decimal("30.00")): 1,
                      (f"Xero payment {b.payment_id}", Decimal("20.00")): 1}
    assert_exactly_once(world.sandbox)


def test_a_quiet_while_after_a_burst_of_payments_reads_none_of_them_again(world: World) -> None:
    """The poll steps back from where it reached on Xero's own clock (when Xero answered), not from the
    newest payment: after the first pass's burst of payments and a quiet quarter of an hour, the next poll
    finds nothing to read again. (Stepping back from the newest payment re-read the whole burst, 9 pages
    after a 10,000-invoice backfill, on every poll of a quiet day.)"""
    assert world.engine().run_pass().stopped is None
    assert world.sandbox.xero.payments(CLINIC_TENANT_ID)  # the burst
    world.sandbox.clock.advance(15 * 60)
    assert world.engine().run_pass().sent == {}  # a quiet pass: its poll reaches Xero's clock
    reached = datetime.fromisoformat(world.state.cursor(CURSOR_XERO))
    assert reached >= world.sandbox.clock.now() - timedelta(minutes=1)
    assert world.xero.payments_modified_since(reached - XERO_OVERLAP).payments == []
    assert_exactly_once(world.sandbox)


def test_if_modified_since_goes_as_xero_documents_it_utc_to_the_second() -> None:
    when = datetime(2026, 3, 20, 14, 17, 43, 999_999, tzinfo=timezone(timedelta(hours=2)))
    assert modified_since_header(when) == "2026-03-20T12:17:43Z"  # cut off, never rounded up
    with pytest.raises(ValueError, match="timezone"):
        modified_since_header(datetime(2026, 3, 20, 12, 0))
