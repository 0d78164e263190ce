"""Provet answers that would leak the token or hang the app (issue 17, points 3, 4 and 6): a `next` link to
another host, scheme or port; a `next` that goes round for ever; an answer that drips a byte at a time; a
503 maintenance page. Each ends in a plain ProvetError, and the token goes nowhere but the instance."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import islice

import pytest

from provet_xero_gui.provet.client import (
    ProvetClient,
    ProvetError,
    ProvetForeignLinkError,
    ProvetUnreachableError,
)
from provet_xero_gui.provet.source import ProvetSource
from provet_xero_gui.sandbox.provet_server import ProvetSandbox

from .conftest import make_client


class Elsewhere:
    """Another host that would like the token: records every request's Authorization header."""

    def __init__(self) -> None:
        self.authorizations: list[str | None] = []
        seen = self.authorizations

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
                pass

            def do_GET(self) -> None:
                seen.append(self.headers.get("Authorization"))
                body = b'{"count": 0, "next": null, "results": []}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def elsewhere() -> Iterator[Elsewhere]:
    e = Elsewhere()
    yield e
    e.close()


def _small_pages(provet: ProvetSandbox) -> None:
    """Enough VAT groups for a second page at page_size 1."""
    assert len(provet.state.tables["vatgroup"]) > 2


@pytest.mark.parametrize("where", ["other_port", "other_host", "https", "userinfo"])
def test_a_next_link_to_another_address_is_refused_and_gets_no_token(
    provet: ProvetSandbox, client: ProvetClient, elsewhere: Elsewhere, where: str
) -> None:
    _small_pages(provet)
    provet.faults.foreign_next = {
        "other_port": f"http://127.0.0.1:{elsewhere.port}",
        "other_host": f"http://localhost:{elsewhere.port}",
        "https": f"https://127.0.0.1:{provet.port}",  # same host and port, another scheme
        "userinfo": f"http://127.0.0.1:{provet.port}@127.0.0.1:{elsewhere.port}",
    }[where]
    with pytest.raises(ProvetForeignLinkError) as caught:
        list(client.iter_pages("vatgroup/", page_size=1))
    message = str(caught.value)
    assert "another address" in message and provet.instance_url in message
    assert "Traceback" not in message and "Bearer" not in message
    assert elsewhere.authorizations == []  # nothing was sent there, token or not


def test_a_next_link_on_the_instance_itself_is_followed(provet: ProvetSandbox, client: ProvetClient) -> None:
    groups = list(client.iter_pages("vatgroup/", page_size=1))
    assert len(groups) == len(provet.state.tables["vatgroup"])


@pytest.mark.parametrize(
    ("loop", "words"),
    [
        ("same", "as if it went round in a loop"),  # `next` is the page just read: the same record again
        ("endless", "out of order"),  # page 1 again under ever larger numbers: the ids fall back (ListCheck)
    ],
)
def test_a_next_link_that_never_ends_is_a_plain_error(
    provet: ProvetSandbox, client: ProvetClient, loop: str, words: str
) -> None:
    _small_pages(provet)
    provet.faults.page_loop = loop
    with pytest.raises(ProvetError, match=words) as caught:
        list(islice(client.iter_pages("vatgroup/", page_size=1), 500))  # islice: a test that can fail, not hang
    assert "Traceback" not in str(caught.value)
    # Stopped within what the list's count allows (one spare page), not after hundreds of requests.
    assert provet.counter.counts()["GET /vatgroup/"] <= len(provet.state.tables["vatgroup"]) + 1


def test_an_answer_that_drips_a_byte_at_a_time_ends_at_the_deadline(provet: ProvetSandbox) -> None:
    client = make_client(provet)
    client.request_deadline = 0.5  # the app allows two minutes; the test need not wait that long
    client.get("vatgroup/", {"page_size": 1})  # signed in before the fault
    provet.faults.drip = 0.05  # a page of a few kB would take minutes
    outcome: dict[str, object] = {}

    def read() -> None:
        try:
            outcome["groups"] = client.get("vatgroup/", {"page_size": 50})
        except ProvetError as exc:
            outcome["error"] = exc

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(20)  # a guard against a hang, not a measure: the client's own deadline ends it
    assert not reader.is_alive(), "the dripping answer was waited for without end"
    error = outcome.get("error")
    assert isinstance(error, ProvetUnreachableError), outcome
    assert "too slowly" in str(error) and "Nothing is lost" in str(error)
    assert provet.counter.counts()["GET /vatgroup/"] == 2  # given up, not tried again (it would drip again)


def test_the_sync_reader_stops_plainly_on_a_dripping_answer(provet: ProvetSandbox) -> None:
    client = make_client(provet)
    client.request_deadline = 0.5
    source = ProvetSource(client)
    provet.faults.drip = 0.05
    with pytest.raises(ProvetUnreachableError, match="too slowly"):
        source.vat_groups()


def test_a_503_maintenance_page_says_provet_is_unavailable(provet: ProvetSandbox, client: ProvetClient) -> None:
    client._sleep = lambda _s: None  # the backoff between attempts
    client.get("vatgroup/", {"page_size": 1})
    provet.faults.error_html = True
    provet.faults.fail_next = 100
    with pytest.raises(ProvetError) as caught:
        client.get("vatgroup/")
    message = str(caught.value)
    assert "Provet is unavailable (HTTP 503)" in message
    assert "instance address" not in message and "Traceback" not in message


def test_a_503_maintenance_page_at_sign_in_says_provet_is_unavailable(provet: ProvetSandbox) -> None:
    client = make_client(provet)
    client._sleep = lambda _s: None
    provet.faults.error_html = True
    provet.faults.fail_next = 100
    with pytest.raises(ProvetError) as caught:
        client.get("vatgroup/")
    assert "Provet is unavailable (HTTP 503)" in str(caught.value)
    assert "instance address" not in str(caught.value) and "No Provet Cloud instance" not in str(caught.value)
