"""Every paged read of Provet asks for its order, checks that the answer keeps it and adds up to `count`, and
stops loudly otherwise (provet-api.md's ordering rule); a record stamped in the future never carries the
cursor past Provet's own clock.

The sandbox lists newest first unless asked (provet-api.md promises no order), so a reader that forgets to
ask for `ordering=id` is caught here."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from provet_xero_gui.mapping import read_usage, read_vat_groups
from provet_xero_gui.provet.client import ProvetClient, ProvetOrderError
from provet_xero_gui.provet.source import ProvetSource
from provet_xero_gui.sandbox import provet_state
from provet_xero_gui.sandbox.clinic import RowSpec
from provet_xero_gui.sandbox.httpbase import Response
from provet_xero_gui.sandbox.provet_server import ProvetSandbox

ALL_STATUSES = (0, 1, 2, 3, 4, 99)


def _all_ids(provet: ProvetSandbox) -> list[int]:
    return sorted(i.id for i in provet.invoices())


@pytest.fixture
def order_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Provet whose lists ignore `ordering` (newest first whatever is asked)."""
    monkeypatch.setattr(provet_state, "order_keys", lambda resource, ordering: ("-id",))


def _plain(message: str) -> None:
    assert "http" not in message and "Traceback" not in message and "{" not in message, message
    assert "again next time" in message and "Provet support" in message, message


# --- the order is asked for, so every record is read -----------------------------------------------------


def test_paging_by_id_reads_every_record_over_many_pages(provet: ProvetSandbox, client: ProvetClient) -> None:
    source = ProvetSource(client, page_size=5, max_page_size=5)
    batch = source.changed_invoices(None, statuses=ALL_STATUSES)
    assert [i.id for i in batch.records] == _all_ids(provet)
    assert source.pages_read == 6  # 26 invoices in pages of 5
    rows = source.rows_for(_all_ids(provet))
    assert sorted(r.id for group in rows.values() for r in group) == sorted(
        r.id for i in provet.invoices() for r in i.rows
    )


def test_following_next_links_reads_in_id_order(provet: ProvetSandbox, client: ProvetClient) -> None:
    assert [r["id"] for r in client.iter_pages("invoice/", page_size=5)] == _all_ids(provet)


def test_the_mapping_check_samples_the_newest_invoices(provet: ProvetSandbox, client: ProvetClient) -> None:
    provet.add_invoice(1, [RowSpec("Surgery", Decimal(1), Decimal("10.00"), Decimal(20), "4999")], finalise=True)
    usage = read_usage(client, read_vat_groups(client), limit=1)
    assert usage.account_numbers == frozenset({"4999"}) and usage.invoices_read == 1


# --- an answer out of order, or short of its count, stops the read ----------------------------------------


def test_a_list_out_of_order_stops_the_read_plainly(
    provet: ProvetSandbox, client: ProvetClient, order_ignored: None
) -> None:
    with pytest.raises(ProvetOrderError, match="out of order") as by_id:
        ProvetSource(client, page_size=5, max_page_size=5).changed_invoices(None, statuses=ALL_STATUSES)
    _plain(str(by_id.value))
    assert "invoices" in str(by_id.value)
    with pytest.raises(ProvetOrderError, match="out of order") as by_next:
        list(client.iter_pages("vatgroup/", page_size=2))
    assert "VAT groups" in str(by_next.value)
    with pytest.raises(ProvetOrderError, match="out of order"):
        read_usage(client, [], limit=1)


def test_a_list_short_of_its_count_stops_the_read(
    provet: ProvetSandbox, client: ProvetClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = _all_ids(provet)[7]  # on the second page of five

    def leave_out(resource: str, resp: Response) -> Response:  # the record vanishes; `count` still has it
        data: Any = json.loads(resp.body)
        if resource == "invoice" and isinstance(data, dict) and "results" in data:
            data["results"] = [r for r in data["results"] if r["id"] != victim]
        return Response.json(data, resp.status)

    monkeypatch.setattr(provet, "_garble", leave_out)
    with pytest.raises(ProvetOrderError, match=r"announced 26 but only \d+ came") as short:
        ProvetSource(client, page_size=5, max_page_size=5).changed_invoices(None, statuses=ALL_STATUSES)
    _plain(str(short.value))
    with pytest.raises(ProvetOrderError, match="announced 26 but only 25 came"):
        list(client.iter_pages("invoice/", page_size=5))


def test_a_record_listed_twice_is_read_once_and_not_a_break_in_the_order(
    provet: ProvetSandbox, client: ProvetClient
) -> None:
    provet.garble("invoice", "repeated")
    batch = ProvetSource(client, page_size=5, max_page_size=5).changed_invoices(None, statuses=ALL_STATUSES)
    assert [i.id for i in batch.records] == _all_ids(provet)


# --- a record stamped in the future -------------------------------------------------------------------------


@pytest.mark.parametrize("ahead", [timedelta(hours=3), datetime(2030, 1, 1, tzinfo=UTC)])
def test_a_record_stamped_in_the_future_does_not_carry_the_cursor(
    provet: ProvetSandbox, client: ProvetClient, ahead: timedelta | datetime
) -> None:
    since = provet.state.stamp()
    inv = provet.add_invoice(3, [RowSpec("Surgery", Decimal(1), Decimal("10.00"), Decimal(20), "200")],
                             finalise=True)
    when = provet.clock.now() + ahead if isinstance(ahead, timedelta) else ahead
    provet.state.tables["invoice"][inv.id]["modified"] = when  # Provet's record says so, whatever the reason
    batch = ProvetSource(client).changed_invoices(since)
    assert [i.id for i in batch.records] == [inv.id]  # still read, and used
    assert batch.cursor is not None and batch.cursor <= provet.clock.now()
    later = provet.add_invoice(4, [RowSpec("Surgery", Decimal(1), Decimal("20.00"), Decimal(20), "200")],
                               finalise=True)
    assert later.id in ProvetSource(client).changed_invoices(batch.cursor).ids  # the next read still sees it
    (stamp,) = batch.future
    assert stamp.id == inv.id and stamp.modified == when
    assert f"invoice {inv.document_number}" in stamp.message and "impossible" in stamp.message
