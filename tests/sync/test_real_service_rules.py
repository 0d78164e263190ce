"""What the real Xero and Provet document, kept by the sync against the sandbox: no Url into Provet's JSON
API, every Xero URL within the length Xero answers, and Provet asked only for what the start date lets go."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from provet_xero_gui.mapping import Mapping
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID
from provet_xero_gui.sandbox.httpbase import Request, Response, add_exchange_hook, remove_exchange_hook
from provet_xero_gui.sandbox.runner import demo_mapping
from provet_xero_gui.sandbox.xero_server import MAX_URL_CHARS
from provet_xero_gui.xero.client import fit_in_url

from .conftest import World

Seen = list[tuple[str, Request, "Response | None"]]


@pytest.fixture
def world(make_world) -> World:
    """Over loopback HTTP: these rules are about the requests as they go out."""
    return make_world(wire=True)


@pytest.fixture
def seen() -> Iterator[Seen]:
    got: Seen = []

    def hook(name: str, req: Request, resp: Response | None) -> None:
        got.append((name, req, resp))

    add_exchange_hook(hook)
    yield got
    remove_exchange_hook(hook)


def test_no_document_url_points_at_provets_json_api(world: World) -> None:
    """provet-api.md gives no web address for a document's page, only the API's `url`: Url is left out."""
    assert world.engine().run_pass().stopped is None
    docs = world.xero_invoices() + world.xero_credit_notes()
    assert docs and all(d.url == "" for d in docs), {d.number: d.url for d in docs if d.url}


def test_the_start_date_goes_into_provets_invoice_filter(world: World, seen: Seen) -> None:
    start = date(2026, 9, 15)
    result = world.engine(replace(Mapping.from_json(demo_mapping()), start_date=start)).run_pass()
    assert result.stopped is None
    lists = [(req, resp) for name, req, resp in seen
             if name == "provet" and req.method == "GET" and req.path.rstrip("/").endswith("/invoice")
             and "id__in" not in req.query]
    assert lists, "the pass read no invoice list"
    assert all(req.query.get("invoice_date__gte") == [start.isoformat()] for req, _ in lists), [
        req.target for req, _ in lists]
    read = [r for _req, resp in lists if resp is not None for r in _results(resp)]
    assert read and all(r["invoice_date"] >= start.isoformat() for r in read)
    sent = world.xero_invoices() + world.xero_credit_notes()
    assert sent and all(d.date >= start for d in sent)


def _results(resp: Response) -> list[dict[str, Any]]:
    import json

    return json.loads(resp.body)["results"]


def test_contact_look_ups_by_many_long_names_keep_every_url_within_the_limit(world: World, seen: Seen) -> None:
    """A batch of 50 clients is looked up by 50 numbers and 50 names; with long, accented names that is
    one `where` of over 10,000 characters as sent. It goes in several calls, none answered 414."""
    names = [f"Tierklinik Müller-Lüdenscheidt Großtiere & Pferde Zweigstelle Nummer {n:03d}" for n in range(50)]
    for name in names[::5]:
        world.sandbox.xero.add_contact(CLINIC_TENANT_ID, name)
    numbers = [f"Provet-{n}" for n in range(1000, 1050)]
    found = world.xero.contacts_matching(numbers=numbers, names=names)
    assert sorted(c.name for c in found) == sorted(names[::5])
    looked = [req for name, req, _ in seen if name == "xero" and req.path.endswith("/Contacts")]
    assert len(looked) == len(fit_in_url([f'x=="{t}"' for t in numbers + names])) > 1
    assert all(len(req.target) <= MAX_URL_CHARS for req in looked)
    assert all(resp is not None and resp.status == 200 for name, _req, resp in seen if name == "xero")


def test_fit_in_url_keeps_order_and_room() -> None:
    terms = [f'Name=="{"é" * n}"' for n in (10, 300, 5, 900, 2)]
    chunks = fit_in_url(terms, room=2000)
    assert [t for c in chunks for t in c] == terms
    from urllib.parse import quote

    assert all(len(quote(" OR ".join(c), safe="")) <= 2000 for c in chunks if len(c) > 1)


