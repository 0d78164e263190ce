"""Answers that are not what a Provet list should be: each is a plain ProvetError, never a traceback
from deep inside, and never a silently empty read. A tiny stub server plays the broken Provet."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from provet_xero_gui.provet.client import ProvetClient, ProvetError, ProvetPermissionError
from provet_xero_gui.provet.source import ProvetSource

TOKEN = {"access_token": "stub-token", "token_type": "Bearer", "expires_in": 3600, "scope": "restapi"}
SECRET = "stub-secret-value"


class Stub:
    """`answers[path] = (status, content_type, body)` for GETs; the token endpoint always works."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[int, str, bytes]] = {}
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
                pass

            def _send(self, status: int, ctype: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._send(200, "application/json", json.dumps(TOKEN).encode())

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                self._send(*stub.answers.get(path, (404, "application/json", b'{"detail": "Not found."}')))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/1/"

    def answer(self, resource: str, status: int, ctype: str, body: bytes | str | object) -> None:
        if not isinstance(body, bytes):
            body = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.answers[f"/1/api/0.1/{resource}/"] = (status, ctype, body)


@pytest.fixture(scope="module")
def stub() -> Iterator[Stub]:
    s = Stub()
    s.thread.start()
    yield s
    s.server.shutdown()
    s.server.server_close()


@pytest.fixture
def source(stub: Stub) -> ProvetSource:
    stub.answers.clear()
    return ProvetSource(ProvetClient(stub.url, "stub-id", SECRET, sleep=lambda s: None))


JSON = "application/json"


def _error(source: ProvetSource) -> str:
    with pytest.raises(ProvetError) as err:
        source.vat_groups()
    text = str(err.value)
    assert SECRET not in text and "stub-token" not in text and "Traceback" not in text
    return text


def test_an_html_page(stub: Stub, source: ProvetSource) -> None:
    stub.answer("vatgroup", 200, "text/html; charset=utf-8", "<!doctype html><html><body>Log in</body></html>")
    assert "with something that is not JSON (HTTP 200); check the instance address" in _error(source)


def test_an_html_error_page(stub: Stub, source: ProvetSource) -> None:
    stub.answer("vatgroup", 502, "text/html", "<html><h1>502 Bad Gateway</h1></html>")
    assert "Provet is unavailable (HTTP 502)" in _error(source)  # not "check the instance address" (issue 17)


def test_truncated_json(stub: Stub, source: ProvetSource) -> None:
    stub.answer("vatgroup", 200, JSON, b'{"count": 2, "next": null, "results": [{"id": 1, "title": "Stan')
    assert "was cut off or damaged; try again" in _error(source)


def test_json_without_results(stub: Stub, source: ProvetSource) -> None:
    stub.answer("vatgroup", 200, JSON, {"count": 2, "next": None})
    assert "list of VAT groups had no 'results'" in _error(source)
    stub.answer("vatgroup", 200, JSON, [{"id": 1}])
    assert "had no 'results'" in _error(source)
    stub.answer("vatgroup", 200, JSON, {"count": 1, "results": {"id": 1}})
    assert "had no 'results'" in _error(source)


def test_one_broken_result_among_good_ones(stub: Stub, source: ProvetSource) -> None:
    good = {"id": 1, "title": "Standard 20%", "percentage": "20.00", "archived": False, "account_number": "3001"}
    results = [good, "oops", {"id": 3, "title": "x"}, {**good, "id": 4, "percentage": "twenty"}]
    stub.answer("vatgroup", 200, JSON, {"count": 4, "next": None, "results": results})
    batch = source.vat_groups()
    assert [v.id for v in batch.records] == [1]
    assert [(b.id, b.message) for b in batch.bad] == [
        (None, "VAT group is not a JSON object"),
        (3, "VAT group: field 'percentage' is missing"),
        (4, "VAT group: field 'percentage' should be an amount, not 'twenty'"),
    ]


def test_empty_list(stub: Stub, source: ProvetSource) -> None:
    stub.answer("vatgroup", 200, JSON, {"count": 0, "next": None, "previous": None, "results": []})
    assert source.vat_groups().records == () and source.vat_groups().bad == ()


def test_permission_denied(stub: Stub, source: ProvetSource) -> None:
    stub.answer("client", 403, JSON, {"detail": "You do not have permission to perform this action."})
    with pytest.raises(ProvetPermissionError) as err:
        source.clients([1])
    assert str(err.value).startswith(
        "The Provet integration user is not allowed to read clients. In Provet, give it the permission "
        "'General: Patients and clients'"
    )
