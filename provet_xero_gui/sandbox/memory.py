"""The sandbox answered in this process: the clients' own code against the sandbox's own rules, with no socket.

A test that does not need the wire hands these transports to the real clients (XeroClient's connection pool,
ProvetClient's requests session). Every request still goes through the sandbox's router, its checks (tokens,
scopes, URL and body size, limits, Idempotency-Key replays), its faults, its call counter and the contract
recorder, so it is refused exactly as over loopback HTTP. Only a slow (dripping) answer needs the socket: in
process it is refused outright, never silently sent whole.
"""

from __future__ import annotations

import email.utils
import io
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
import urllib3
from requests.adapters import BaseAdapter, HTTPAdapter

from provet_xero_gui.sandbox.httpbase import Request, SandboxServer


def answer(server: SandboxServer, method: str, url: str, headers: Mapping[str, str], body: bytes | None
           ) -> urllib3.HTTPResponse:
    """`server`'s answer to one request as the raw HTTP answer a socket would have brought (same status,
    headers and `Date` on the service's clock); a connection the sandbox drops raises as a dropped one does."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    req = Request(method.upper(), parts.path, parse_qs(parts.query, keep_blank_values=True),
                  {k.lower(): str(v) for k, v in headers.items()}, body or b"", target=target)
    resp = server.exchange(req)
    if resp is None:
        raise urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError("dropped by the sandbox"))
    if resp.drip:
        raise NotImplementedError("an answer that drips needs the socket: serve the sandbox over loopback HTTP")
    out = dict(resp.headers)
    out.setdefault("Content-Length", str(len(resp.body)))
    when = server.now() if server.now is not None else datetime.now(UTC)  # as the HTTP handler's Date
    out.setdefault("Date", email.utils.format_datetime(when.astimezone(UTC), usegmt=True))
    return urllib3.HTTPResponse(body=io.BytesIO(resp.body), headers=out, status=resp.status,
                                preload_content=False, decode_content=True, request_method=method.upper(),
                                request_url=url)


class InProcessPool:
    """Stands in for the urllib3 pool of xero-python's REST client (XeroClient's `pool`)."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.connection_pool_kw: dict[str, Any] = {}

    def request(self, method: str, url: str, body: Any = None, fields: Any = None, headers: Any = None,
                **_kw: Any) -> urllib3.HTTPResponse:
        if fields and method.upper() in ("GET", "HEAD", "DELETE"):
            url += ("&" if "?" in url else "?") + urlencode(fields)  # as urllib3's request_encode_url
        data = body.encode("utf-8") if isinstance(body, str) else body
        return answer(self.server, method, url, headers or {}, data)


class InProcessAdapter(BaseAdapter):
    """A requests transport adapter that hands each request to the sandbox server in this process."""

    def __init__(self, server: SandboxServer) -> None:
        super().__init__()
        self.server = server
        self._build = HTTPAdapter()

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: Any = True, cert: Any = None, proxies: Any = None) -> requests.Response:
        body = request.body.encode("utf-8") if isinstance(request.body, str) else request.body
        try:
            raw = answer(self.server, request.method or "GET", request.url or "", request.headers, body)
        except urllib3.exceptions.ProtocolError as exc:
            raise requests.ConnectionError(exc, request=request) from None
        return self._build.build_response(request, raw)

    def close(self) -> None:
        self._build.close()


def provet_session(server: SandboxServer) -> requests.Session:
    """A requests session whose calls to `server` are answered in this process."""
    session = requests.Session()
    session.mount(server.base_url, InProcessAdapter(server))
    return session
