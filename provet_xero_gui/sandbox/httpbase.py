"""A small routed HTTP server on loopback, the base of both simulated services.

Standard library only (ThreadingHTTPServer), so the sandbox ships inside the app bundle with no
extra dependency. Handlers take a `Request` and return a `Response`; the server adds latency,
5xx and 429 faults, "dropped after commit" and per-route call counting around them.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from provet_xero_gui.sandbox.faults import CallCounter, Faults

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
UNAVAILABLE_PAGE = (
    "<!doctype html><html><head><title>503 Service Unavailable</title></head><body><h1>Service Unavailable</h1>"
    "<p>The server is temporarily unable to service your request (sandbox fault).</p></body></html>"
)

# Watchers of every exchange any sandbox server in this process answers: (server name, request, answer or
# None when the connection was dropped). The contract checks of the test suite (tests/contract) hang here;
# a watcher that fails is logged and never changes the answer. Empty by default: nothing is watched.
ExchangeHook = Callable[[str, "Request", "Response | None"], None]
_exchange_hooks: list[ExchangeHook] = []


def add_exchange_hook(hook: ExchangeHook) -> None:
    _exchange_hooks.append(hook)


def remove_exchange_hook(hook: ExchangeHook) -> None:
    if hook in _exchange_hooks:
        _exchange_hooks.remove(hook)


# When this variable names a folder, every sandbox server in every process (the test run and the command
# lines it starts) appends each exchange to `<folder>/exchanges-<pid>.jsonl`, with the test that was running
# (PYTEST_CURRENT_TEST); the test suite checks them against Xero's OpenAPI documents and provet-api.md.
RECORD_ENV = "PROVET_XERO_SANDBOX_RECORD"
_record_lock = threading.Lock()


# Sign-in and token exchanges carry secrets (codes, verifiers, tokens): only their method, path and status are
# recorded.
_SECRET_PATHS = ("/oauth2/", "/connect/", "/identity/")
_RECORDED_HEADERS = frozenset({"content-type", "accept", "xero-tenant-id", "idempotency-key", "if-modified-since"})


def _record(folder: str, name: str, req: Request, resp: Response | None) -> None:
    if any(part in req.path for part in _SECRET_PATHS):
        req = Request(req.method, req.path, {}, {}, b"", target=req.path)
        resp = Response(resp.status) if resp is not None else None
    line = json.dumps({
        "server": name,
        "test": os.environ.get("PYTEST_CURRENT_TEST", ""),
        "method": req.method,
        "target": req.target,
        "headers": {k: v for k, v in req.headers.items() if k in _RECORDED_HEADERS},
        "body": req.body.decode("utf-8", "replace"),
        "status": resp.status if resp is not None else 0,
        "rctype": (resp.headers.get("Content-Type") or "") if resp is not None else "",
        "rbody": resp.body.decode("utf-8", "replace") if resp is not None else "",
    }, ensure_ascii=False)
    with _record_lock, open(os.path.join(folder, f"exchanges-{os.getpid()}.jsonl"), "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def _tell_hooks(name: str, req: Request, resp: Response | None) -> None:
    folder = os.environ.get(RECORD_ENV)
    if folder:
        try:
            _record(folder, name, req, resp)
        except OSError:
            log.exception("sandbox %s: the exchange could not be recorded", name)
    for hook in list(_exchange_hooks):
        try:
            hook(name, req, resp)
        except Exception:  # a watcher's bug must not become the sandbox's answer
            log.exception("sandbox %s: an exchange hook failed", name)


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # without the query string, percent-decoding left to the handler
    query: dict[str, list[str]]
    headers: dict[str, str]  # keys lower-cased
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # named groups of the route pattern
    target: str = ""  # the request target as sent (path and query string, percent-encoded)

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def json(self) -> Any:
        """The body as JSON; raises ValueError with a plain message when it is not."""
        try:
            return json.loads(self.body.decode("utf-8") or "null")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"request body is not valid JSON: {exc}") from None

    def form(self) -> dict[str, str]:
        parsed = parse_qs(self.body.decode("utf-8"), keep_blank_values=True)
        return {k: v[-1] for k, v in parsed.items()}


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drip: float = 0.0  # seconds between the body's bytes (the `drip` fault)

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        body = json.dumps(data, ensure_ascii=False, default=str).encode("utf-8")
        h = {"Content-Type": "application/json; charset=utf-8"}
        h.update(headers or {})
        return cls(status, body, h)

    @classmethod
    def html(cls, text: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        h = {"Content-Type": "text/html; charset=utf-8"}
        h.update(headers or {})
        return cls(status, text.encode("utf-8"), h)

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Response:
        return cls(status, b"", {"Location": location})


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    name: str  # used by the call counter, e.g. "GET /Invoices"
    handler: Handler


class Router:
    """Routes by method and a full-match regex on the path (named groups become params)."""

    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(self, method: str, pattern: str, handler: Handler, name: str | None = None) -> None:
        self._routes.append(
            Route(method.upper(), re.compile(pattern), name or f"{method.upper()} {pattern}", handler)
        )

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """(route, params, path_known): path_known tells 405 from 404 when no route matched."""
        path_known = False
        for route in self._routes:
            m = route.pattern.fullmatch(path)
            if m:
                path_known = True
                if route.method == method:
                    return route, m.groupdict(), True
        return None, {}, path_known


class SandboxServer:
    """One simulated service on 127.0.0.1, served from a background thread."""

    def __init__(
        self,
        router: Router,
        *,
        name: str,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
        counter: CallCounter | None = None,
        fault_filter: Callable[[Request], bool] | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        """`now`: the service's own clock, sent in every answer's `Date` header (default: this computer's)."""
        if host not in LOOPBACK_HOSTS:
            raise ValueError(f"the sandbox serves on loopback only, not on {host!r}")
        self.name = name
        self.router = router
        self.faults = faults or Faults()
        self.counter = counter or CallCounter()
        self._fault_filter = fault_filter or (lambda _req: True)
        self.now = now
        self._httpd = _Server((host, port), _make_handler(self))
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=f"sandbox-{self.name}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread:  # shutdown() waits for a serving loop: one never started would wait for ever
            self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def exchange(self, req: Request) -> Response | None:
        """One whole exchange as the served socket has it (faults, counter, recorder and hooks), answered in
        this process: the HTTP handler below and the in-process transports (sandbox/memory.py) both use it."""
        resp, key = self.dispatch(req)
        if _exchange_hooks or RECORD_ENV in os.environ:
            _tell_hooks(self.name, req, resp)
        self.counter.record(key, resp.status if resp is not None else 0)
        return resp

    # Called by the request handler thread.
    def dispatch(self, req: Request) -> tuple[Response | None, str]:
        """The answer (None = drop the connection) and the counter key."""
        route, params, path_known = self.router.match(req.method, req.path)
        if route is None:
            key = f"{req.method} (unknown)"
            status = 405 if path_known else 404
            detail = "Not found." if status == 404 else "Method not allowed."
            return Response.json({"detail": detail}, status), key
        req = Request(req.method, req.path, req.query, req.headers, req.body, params, req.target)
        faultable = self._fault_filter(req)
        if faultable and self.faults.latency:
            time.sleep(self.faults.latency)
        if faultable and self.faults.should_fail():
            if self.faults.error_html:
                return Response.html(UNAVAILABLE_PAGE, 503, {"Retry-After": "120"}), route.name
            unavailable = {"detail": "Service temporarily unavailable (sandbox fault)."}
            return Response.json(unavailable, 503), route.name
        if faultable and self.faults.should_rate_limit():
            limited = {"detail": "Too many requests (sandbox fault)."}
            headers = {"Retry-After": str(self.faults.retry_after), "X-Rate-Limit-Problem": "minute"}
            return Response.json(limited, 429, headers), route.name
        try:
            resp = route.handler(req)
        except Exception:  # a sandbox bug must look like a server error, not hang the client
            log.exception("sandbox %s: handler for %s failed", self.name, route.name)
            resp = Response.json({"detail": "Internal server error (sandbox)."}, 500)
        if faultable and resp.status < 400 and self.faults.should_drop(req.method):
            return None, route.name
        if faultable and self.faults.drip > 0:
            resp.drip = self.faults.drip
        return resp, route.name


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self) -> None:
        if ":" in self.server_address[0]:
            self.address_family = socket.AF_INET6
        super().server_bind()


def _make_handler(server: SandboxServer) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out as two writes; with Nagle on, every keep-alive answer waits ~40 ms for
        # a delayed ACK (measured 42 ms against 0.7 ms).
        disable_nagle_algorithm = True
        server_version = f"provet-xero-sandbox-{server.name}"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
            log.debug("sandbox %s: " + format, server.name, *args)

        def date_time_string(self, timestamp: float | None = None) -> str:
            """The `Date` header on the service's own clock (the sandbox clock), as a real server's is on its."""
            if timestamp is None and server.now is not None:
                return email.utils.format_datetime(server.now().astimezone(UTC), usegmt=True)
            return super().date_time_string(timestamp)

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            req = Request(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                target=self.path,
            )
            resp = server.exchange(req)
            if resp is None:
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.send_response(resp.status)
            for k, v in resp.headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(resp.body)))
            self.end_headers()
            if self.command != "HEAD" and resp.drip > 0:
                self._drip(resp.body, resp.drip)
            elif self.command != "HEAD":
                self.wfile.write(resp.body)

        def _drip(self, body: bytes, every: float) -> None:
            """The body a byte at a time; a client that gave up ends it (its connection is gone)."""
            self.close_connection = True
            try:
                for i in range(len(body)):
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
                    time.sleep(every)
            except OSError:
                pass

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

    return _Handler
