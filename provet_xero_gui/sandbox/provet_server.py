"""A simulated Provet Cloud instance on 127.0.0.1: OAuth client credentials, the REST API subset in
`specs/provet/provet-api.md`, paging, filters, per-endpoint rate limits and switchable faults.

    clinic = generate_clinic(seed=1, size=50)
    clock = SandboxClock(start=clinic.now)
    with ProvetSandbox(clinic.provet, clock) as provet:
        provet.instance_url        # http://127.0.0.1:PORT/4321/
        provet.add_payment(7, "12.50", payment_type=PT_CASH)

Served (`<instance>` = `/<provet_id>/`):
- `POST <instance>oauth2/token/` client credentials (HTTP Basic, or `client_id`/`client_secret` form
  fields), scope `restapi`. Wrong client → 401 `{"error": "invalid_client"}`. Tokens live `token_lifetime`
  sandbox seconds (3600).
- `<instance>api/0.1/`: GET list/detail of invoice, invoicerow, invoicepayment, paymentmethod, vatgroup,
  client, phonenumber, unallocatedpayment, department; POST invoicepayment; POST
  invoicepayment/{id}/cancel_payment/; PATCH client/{id}/; POST phonenumber/ and PATCH phonenumber/{id}/.
- Lists: `{count, num_pages, next, previous, results}`, `page` (or `last`), `page_size` (default 50,
  larger values are capped at 1000 as Django REST does), in the order `ordering=<field>` asks for, newest
  first (`-id`) when none is asked for (see provet_state.py). An offset of 10,000 or more is a
  400 telling the client to page by `id__gt` (the documented limit). A page past the end is 404
  "Invalid page.". `expose_<field>=true` embeds the related object(s) instead of their URLs.
- Every answer's `Date` header is on the sandbox clock (Provet's own "now"; the app caps its cursors by it).
- Missing trailing slash → 301 to the slashed URL (any method). No/unknown/expired Bearer → 401, checked
  before the rate limit. Permissions, checked after the token and before the rate limit (Django REST's
  order): the integration user holds permission families (`PERMISSION_FAMILIES`; all three by default);
  any request to a resource whose family it lacks is a 403 `{"detail": "You do not have permission to
  perform this action."}`, not counted against a budget.
  Rate limits per endpoint over a rolling 60 s of the sandbox clock: GET counts against the resource's
  bucket (list and detail alike: invoice 60, invoicerow 100, invoicepayment 100, client 125,
  unallocatedpayment 200, others 300), each write method against its own bucket of 300; a page_size over
  50 costs ceil(page_size/50). Over the limit: 429 with `Retry-After` (whole sandbox seconds, at least 1)
  and nothing is counted.
- Money is rendered as strings with 2 dp ("12.50"), unit prices with 4 dp, quantities and percentages
  with 2 dp, dates as YYYY-MM-DD and datetimes as ISO 8601 with offset (UTC). Relations are absolute URLs
  under the instance URL (`item` points at /item/, which is not served).
Filter and validation rules: see provet_state.py; data rules: clinic.py.

Test hooks (thread-safe; they act as a clinic user in Provet's UI would, bypass auth and limits, and
return frozen clinic.py records): `add_invoice`, `finalise_invoice`, `void_invoice`, `credit_invoice`,
`consolidate`, `add_payment`, `cancel_payment`, `add_prepayment`, `use_prepayment`, `add_client`,
`edit_client`, `add_phone_number`, `edit_phone_number`, `add_vat_group`, `set_vat_group_archived`,
`add_payment_method`, `set_permissions(*families)`; look-ups `invoice`, `invoices`, `payments_for`,
`payment`, `client`, `clients`, `unallocated_payments`, `snapshot`; `demo_activity(rng)`; `expire_tokens()`;
`set_client_secret()`; `reset(data, clock=...)` to reuse one running server across tests (it also gives
back every permission).
Bad answers, for the bad-input tests: `garble(resource, mode, times=0)` makes GETs of one resource answer
an HTML page (`html`, as a login or maintenance page in front of Provet does), JSON cut off half way
(`truncated`), a page of 10 MB or more (`huge`: every record carries a long unknown field) or every record
twice (`repeated`); `tamper(resource, id, set=..., drop=...)` changes how one record is rendered (wrong
types, missing or unknown fields, values the UI would refuse). `reset()` clears both.
`state` is the underlying ProvetState for anything else.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import math
import random
import secrets
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from provet_xero_gui.sandbox import clinic as C
from provet_xero_gui.sandbox.clinic import (
    Client,
    Invoice,
    InvoicePayment,
    PaymentMethod,
    PhoneNumber,
    ProvetData,
    RowSpec,
    UnallocatedPayment,
    VatGroup,
)
from provet_xero_gui.sandbox.clock import SandboxClock
from provet_xero_gui.sandbox.faults import CallCounter, Faults
from provet_xero_gui.sandbox.httpbase import Request, Response, Router, SandboxServer
from provet_xero_gui.sandbox.provet_state import (
    FIELD_INDEX,
    SCHEMA,
    FilterError,
    NotFound,
    ProvetState,
    ProvetValidationError,
    parse_filters,
    ref_id,
)

log = logging.getLogger(__name__)

DEMO_CLIENT_ID = "provet-xero-demo"
DEMO_CLIENT_SECRET = "sandbox-secret-not-real"
DEMO_PROVET_ID = "4321"

API_PREFIX = "api/0.1/"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
MAX_OFFSET = 10_000
TOKEN_LIFETIME = 3600
RATE_WINDOW = 60.0
GET_LIMITS = {"invoice": 60, "invoicerow": 100, "invoicepayment": 100, "client": 125, "unallocatedpayment": 200}
DEFAULT_LIMIT = 300
PERM_INVOICES = "Financial: Invoices"
PERM_CLIENTS = "General: Patients and clients"
PERM_SETTINGS = "Settings: Settings page"
PERMISSION_FAMILIES: dict[str, frozenset[str]] = {
    PERM_INVOICES: frozenset({"invoice", "invoicerow", "invoicepayment", "unallocatedpayment"}),
    PERM_CLIENTS: frozenset({"client", "phonenumber"}),
    PERM_SETTINGS: frozenset({"vatgroup", "paymentmethod", "department"}),
}
PERMISSION_DENIED = "You do not have permission to perform this action."
GARBLE_MODES = ("html", "truncated", "huge", "repeated")
HUGE_PAGE_BYTES = 10 * 1024 * 1024
MAINTENANCE_PAGE = (
    "<!DOCTYPE html><html><head><title>Provet Cloud - Service break</title></head><body><h1>We'll be back "
    "soon</h1><p>Provet Cloud is being updated. Please try again in a few minutes.</p></body></html>"
)


class RateLimiter:
    """Rolling-window request budgets per bucket, on the sandbox clock."""

    def __init__(self, clock: SandboxClock, window: float = RATE_WINDOW) -> None:
        self._clock = clock
        self._window = window
        self._lock = threading.Lock()
        self._spent: dict[str, deque[tuple[float, int]]] = {}

    def take(self, bucket: str, limit: int, cost: int = 1) -> int | None:
        """Spend `cost`; None when allowed, else the seconds to wait (nothing is spent then)."""
        with self._lock:
            now = self._clock.seconds()
            spent = self._spent.setdefault(bucket, deque())
            while spent and spent[0][0] <= now - self._window:
                spent.popleft()
            used = sum(c for _, c in spent)
            if used + cost <= limit:
                spent.append((now, cost))
                return None
            freed = 0
            for stamp, c in spent:
                freed += c
                if used - freed + cost <= limit:
                    return max(1, math.ceil(stamp + self._window - now))
            return max(1, math.ceil(self._window))

    def remaining(self, bucket: str, limit: int) -> int:
        with self._lock:
            now = self._clock.seconds()
            spent = self._spent.get(bucket, deque())
            return limit - sum(c for t, c in spent if t > now - self._window)

    def reset(self) -> None:
        with self._lock:
            self._spent.clear()


class ProvetSandbox:
    """The simulated Provet Cloud instance: HTTP server + state + test hooks."""

    def __init__(
        self,
        data: ProvetData,
        clock: SandboxClock,
        *,
        port: int = 0,
        provet_id: str = DEMO_PROVET_ID,
        client_id: str = DEMO_CLIENT_ID,
        client_secret: str = DEMO_CLIENT_SECRET,
        faults: Faults | None = None,
        rate_limits: bool = True,
        token_lifetime: int = TOKEN_LIFETIME,
        permissions: Iterable[str] | None = None,
    ) -> None:
        self.clock = clock
        self.permissions: frozenset[str] = frozenset(PERMISSION_FAMILIES)
        if permissions is not None:
            self.set_permissions(*permissions)
        self.provet_id = provet_id
        self._data = data
        self.state = ProvetState(data, clock)
        self.limiter = RateLimiter(clock)
        self.rate_limits = rate_limits
        self.token_lifetime = token_lifetime
        self._client_id = client_id
        self._client_secret = client_secret
        self._tokens: dict[str, float] = {}  # token -> expiry in sandbox seconds
        self._tokens_lock = threading.Lock()
        self._server = SandboxServer(self._router(), name="provet", port=port, faults=faults, counter=CallCounter(),
                                     now=lambda: self.clock.now())
        self._bad_lock = threading.Lock()
        self._garbled: dict[str, list[Any]] = {}  # resource -> [mode, answers left (0: until cleared)]
        self._tampered: dict[tuple[str, int], tuple[dict[str, Any], frozenset[str]]] = {}

    # -- lifecycle
    def start(self) -> ProvetSandbox:
        self._server.start()
        log.info("provet sandbox on %s", self.instance_url)
        return self

    def stop(self) -> None:
        self._server.stop()

    def reset(self, data: ProvetData | None = None, *, clock: SandboxClock | None = None) -> None:
        """Back to `data` (default: what it started with), on `clock` if given; tokens, rate-limit
        budgets, call counts and faults cleared. Lets one running server serve many tests."""
        if clock is not None:
            self.clock = clock
        self.state = ProvetState(data or self._data, self.clock)
        self.limiter = RateLimiter(self.clock)
        with self._tokens_lock:
            self._tokens.clear()
        self.counter.reset()
        self.faults.reset()
        self.permissions = frozenset(PERMISSION_FAMILIES)
        self.clear_bad_answers()

    def __enter__(self) -> ProvetSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def server(self) -> SandboxServer:
        return self._server

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def instance_url(self) -> str:
        return f"{self._server.base_url}/{self.provet_id}/"

    @property
    def api_url(self) -> str:
        return self.instance_url + API_PREFIX

    @property
    def token_url(self) -> str:
        return self.instance_url + "oauth2/token/"

    @property
    def counter(self) -> CallCounter:
        return self._server.counter

    @property
    def faults(self) -> Faults:
        return self._server.faults

    def url(self, resource: str, rid: int) -> str:
        """The API URL of one object, as the API writes relations."""
        return f"{self.api_url}{resource}/{rid}/"

    # -- routing
    def _router(self) -> Router:
        r = Router()
        base = f"/{self.provet_id}/"
        api = base + API_PREFIX
        r.add("POST", base + "oauth2/token/", self._token, "POST /oauth2/token/")
        for res in SCHEMA:
            r.add("GET", f"{api}{res}/", self._guard(res, self._list), f"GET /{res}/")
            r.add("GET", rf"{api}{res}/(?P<id>\d+)/", self._guard(res, self._detail), f"GET /{res}/{{id}}/")
        r.add(
            "POST", f"{api}invoicepayment/", self._guard("invoicepayment", self._post_payment), "POST /invoicepayment/"
        )
        r.add(
            "POST",
            rf"{api}invoicepayment/(?P<id>\d+)/cancel_payment/",
            self._guard("invoicepayment", self._cancel_payment),
            "POST /invoicepayment/{id}/cancel_payment/",
        )
        r.add("PATCH", rf"{api}client/(?P<id>\d+)/", self._guard("client", self._patch_client), "PATCH /client/{id}/")
        r.add("POST", f"{api}phonenumber/", self._guard("phonenumber", self._post_phone), "POST /phonenumber/")
        r.add(
            "PATCH",
            rf"{api}phonenumber/(?P<id>\d+)/",
            self._guard("phonenumber", self._patch_phone),
            "PATCH /phonenumber/{id}/",
        )
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"):
            r.add(method, rf"/{self.provet_id}(/.*[^/])?", self._append_slash, f"{method} (no trailing slash)")
        return r

    def _guard(self, resource: str, handler: Callable[[Request, str], Response]) -> Callable[[Request], Response]:
        """Bearer check, then the rate limit, then the handler; validation errors become 400s."""

        def run(req: Request) -> Response:
            denied = self._authenticate(req) or self._authorise(resource)
            if denied:
                return denied
            cost = 1
            if req.method == "GET" and "id" not in req.params:
                cost = _page_cost(req)
            bucket = resource if req.method == "GET" else f"{req.method} {resource}"
            limit = GET_LIMITS.get(resource, DEFAULT_LIMIT) if req.method == "GET" else DEFAULT_LIMIT
            if self.rate_limits:
                wait = self.limiter.take(bucket, limit, cost)
                if wait is not None:
                    detail = f"Request was throttled. Expected available in {wait} seconds."
                    return Response.json({"detail": detail}, 429, {"Retry-After": str(wait)})
            try:
                resp = handler(req, resource)
                return self._garble(resource, resp) if req.method == "GET" else resp
            except ProvetValidationError as exc:
                return Response.json(exc.errors, 400)
            except FilterError as exc:
                return Response.json({"detail": str(exc)}, 400)
            except NotFound:
                return Response.json({"detail": "Not found."}, 404)

        return run

    def _append_slash(self, req: Request) -> Response:
        query = urlencode([(k, v) for k, vs in req.query.items() for v in vs])
        location = f"{self._server.base_url}{req.path}/" + (f"?{query}" if query else "")
        return Response(301, b"", {"Location": location})

    # -- auth
    def _token(self, req: Request) -> Response:
        form = req.form()
        client_id, secret = form.get("client_id"), form.get("client_secret")
        auth = req.header("authorization") or ""
        if auth.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(auth[6:].strip()).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return Response.json({"error": "invalid_client"}, 401)
        if form.get("grant_type") != "client_credentials":
            return Response.json({"error": "unsupported_grant_type"}, 400)
        if client_id != self._client_id or secret is None or not secrets.compare_digest(secret, self._client_secret):
            return Response.json({"error": "invalid_client"}, 401, {"WWW-Authenticate": 'Basic realm="provet"'})
        scope = form.get("scope") or "restapi"
        if "restapi" not in scope.split():
            return Response.json({"error": "invalid_scope"}, 400)
        token = secrets.token_urlsafe(24)
        with self._tokens_lock:
            self._tokens[token] = self.clock.seconds() + self.token_lifetime
        body = {"access_token": token, "token_type": "Bearer", "expires_in": self.token_lifetime, "scope": "restapi"}
        return Response.json(body, headers={"Cache-Control": "no-store"})

    def _authenticate(self, req: Request) -> Response | None:
        auth = req.header("authorization") or ""
        scheme, _, token = auth.partition(" ")
        challenge = {"WWW-Authenticate": 'Bearer realm="api"'}
        if scheme.lower() != "bearer" or not token.strip():
            return Response.json({"detail": "Authentication credentials were not provided."}, 401, challenge)
        with self._tokens_lock:
            expiry = self._tokens.get(token.strip())
        if expiry is None:
            return Response.json({"detail": "Invalid token."}, 401, challenge)
        if self.clock.seconds() >= expiry:
            return Response.json({"detail": "The access token has expired."}, 401, challenge)
        return None

    def _authorise(self, resource: str) -> Response | None:
        if any(resource in PERMISSION_FAMILIES[f] for f in self.permissions):
            return None
        return Response.json({"detail": PERMISSION_DENIED}, 403)

    def set_permissions(self, *families: str) -> None:
        """The permission families the integration user holds from now on (as an admin would set them)."""
        unknown = sorted(set(families) - set(PERMISSION_FAMILIES))
        if unknown:
            raise ValueError(f"unknown permission families {unknown}; known: {sorted(PERMISSION_FAMILIES)}")
        self.permissions = frozenset(families)

    def expire_tokens(self) -> None:
        """Make every issued token expired (as if its hour had passed)."""
        with self._tokens_lock:
            now = self.clock.seconds()
            for token in self._tokens:
                self._tokens[token] = now

    def set_client_secret(self, secret: str) -> None:
        """Rotate the integration's secret (as an admin would in Provet's settings)."""
        self._client_secret = secret

    # -- reads
    def _list(self, req: Request, resource: str) -> Response:
        page_size = _page_size(req)
        preds, or_mode = parse_filters(resource, req.query)
        expose = _exposed(req, resource)
        with self.state.lock:
            matches = self.state.query(resource, preds, or_mode, req.arg("ordering"))
            count = len(matches)
            num_pages = max(1, math.ceil(count / page_size))
            raw_page = req.arg("page", "1") or "1"
            if raw_page == "last":
                page = num_pages
            elif raw_page.isdigit() and int(raw_page) >= 1:
                page = int(raw_page)
            else:
                return Response.json({"detail": "Invalid page."}, 404)
            if (page - 1) * page_size >= MAX_OFFSET:
                detail = f"Paging by offset stops at {MAX_OFFSET} results; page by id__gt=<last id> instead."
                return Response.json({"detail": detail}, 400)
            loop = self.faults.page_loop
            if page > num_pages and loop != "endless":
                return Response.json({"detail": "Invalid page."}, 404)
            first = (page - 1) * page_size if page <= num_pages else 0  # "endless": page 1 over and over
            chunk = matches[first : first + page_size]
            results = [self._render(resource, rec, expose) for rec in chunk]
        nxt = self._page_link(req, page + 1) if page < num_pages else None
        if loop == "same":
            nxt = self._page_link(req, page)
        elif loop == "endless":
            nxt = self._page_link(req, page + 1)
        body = {
            "count": count,
            "num_pages": num_pages,
            "next": nxt,
            "previous": self._page_link(req, page - 1) if page > 1 else None,
            "results": results,
        }
        return _json(body)

    def _page_link(self, req: Request, page: int) -> str:
        pairs = [(k, v) for k, vs in req.query.items() if k != "page" for v in vs]
        if page > 1:
            pairs.append(("page", str(page)))
        query = urlencode(pairs)
        base = self.faults.foreign_next.rstrip("/") or self._server.base_url
        return f"{base}{req.path}" + (f"?{query}" if query else "")

    def _detail(self, req: Request, resource: str) -> Response:
        expose = _exposed(req, resource)
        with self.state.lock:
            rec = self.state.record(resource, int(req.params["id"]))
            return _json(self._render(resource, rec, expose))

    def _render(self, resource: str, rec: dict[str, Any], expose: frozenset[str] = frozenset()) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in SCHEMA[resource]:
            value = rec[f.name]
            if f.name == "id":
                out["id"] = value
                out["url"] = self.url(resource, value)
                continue
            if f.kind == "rel":
                if value is not None and f.name in expose:
                    value = self._render(f.target, self.state.tables[f.target][value])
                elif value is not None:
                    value = self.url(f.target, value)
            elif f.kind == "rels":
                if f.name in expose:
                    value = [self._render(f.target, self.state.tables[f.target][v]) for v in value]
                else:
                    value = [self.url(f.target, v) for v in value]
            else:
                value = _scalar(f.kind, value)
            out[f.name] = value
        tampered = self._tampered.get((resource, out["id"])) if self._tampered else None
        if tampered:
            changes, dropped = tampered
            out = {k: v for k, v in out.items() if k not in dropped}
            out.update(changes)
        return out

    # -- bad answers (test hooks)
    def garble(self, resource: str, mode: str, times: int = 0) -> None:
        """Answer GETs of `resource` (lists and details) wrongly: `mode` is one of GARBLE_MODES; `times` answers
        (0: until `clear_bad_answers`)."""
        if resource not in SCHEMA or mode not in GARBLE_MODES:
            raise ValueError(f"garble needs a resource of {sorted(SCHEMA)} and a mode of {GARBLE_MODES}")
        with self._bad_lock:
            self._garbled[resource] = [mode, times]

    def tamper(
        self, resource: str, rid: int, set: dict[str, Any] | None = None, drop: Iterable[str] = ()  # noqa: A002
    ) -> None:
        """Render record `rid` of `resource` with these fields set (any JSON value, unknown names too) and
        these left out: a record as a broken or newer Provet might send it."""
        with self.state.lock:
            self.state.record(resource, rid)
        with self._bad_lock:
            self._tampered[(resource, rid)] = (dict(set or {}), frozenset(drop))

    def clear_bad_answers(self) -> None:
        with self._bad_lock:
            self._garbled.clear()
            self._tampered.clear()

    def _garble(self, resource: str, resp: Response) -> Response:
        with self._bad_lock:
            fault = self._garbled.get(resource)
            if fault is None or resp.status != 200:
                return resp
            mode, left = fault
            if left == 1:
                del self._garbled[resource]
            elif left > 1:
                fault[1] = left - 1
        if mode == "html":
            return Response.html(MAINTENANCE_PAGE)
        if mode == "truncated":
            return Response(200, resp.body[: len(resp.body) // 2], dict(resp.headers))
        data = json.loads(resp.body)
        results = data.get("results") if isinstance(data, dict) and "results" in data else None
        if mode == "repeated" and results is not None:
            data["results"] = [r for r in results for _ in (1, 2)]
        elif mode == "huge":
            records = results if results else [data]
            pad = "x" * (-(-HUGE_PAGE_BYTES // len(records)))
            for r in records:
                r["internal_notes"] = pad
        return _json(data)

    # -- writes
    def _post_payment(self, req: Request, _resource: str) -> Response:
        body = _body(req)
        errors: dict[str, list[str]] = {}
        invoice_id = _ref(body, "invoice", "invoice", errors, required=True)
        method_id = _ref(body, "payment_method", "paymentmethod", errors, required=False)
        payment_type = body.get("payment_type")
        if isinstance(payment_type, str) and payment_type.isdigit():
            payment_type = int(payment_type)
        if payment_type is None:
            errors["payment_type"] = ["This field is required."]
        elif isinstance(payment_type, bool) or not isinstance(payment_type, int):
            errors["payment_type"] = ["A valid integer is required."]
        paid = body.get("paid")
        amount = Decimal(0)
        if paid is None or paid == "":
            errors["paid"] = ["This field is required."]
        else:
            try:
                amount = Decimal(str(paid))
            except InvalidOperation:
                errors["paid"] = ["A valid number is required."]
        payment_date = None
        if body.get("payment_date"):
            try:
                payment_date = date.fromisoformat(str(body["payment_date"]))
            except ValueError:
                errors["payment_date"] = ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]
        status = body.get("status", C.PAYMENT_REGISTERED)
        info = body.get("info") or ""
        if not isinstance(info, str) or len(info) > 255:
            errors["info"] = ["Ensure this field is text of no more than 255 characters."]
        if errors:
            raise ProvetValidationError(errors)
        assert invoice_id is not None and isinstance(payment_type, int)
        pay = self.state.add_payment(
            invoice_id,
            amount,
            payment_type=payment_type,
            payment_method_id=method_id,
            payment_date=payment_date,
            info=info,
            status=status if isinstance(status, int) else -1,
        )
        with self.state.lock:
            return _json(self._render("invoicepayment", self.state.record("invoicepayment", pay.id)), 201)

    def _cancel_payment(self, req: Request, _resource: str) -> Response:
        pay = self.state.cancel_payment(int(req.params["id"]))
        with self.state.lock:
            return _json(self._render("invoicepayment", self.state.record("invoicepayment", pay.id)))

    def _patch_client(self, req: Request, _resource: str) -> Response:
        body = _body(req)
        client = self.state.edit_client(int(req.params["id"]), **body)
        with self.state.lock:
            return _json(self._render("client", self.state.record("client", client.id)))

    def _post_phone(self, req: Request, _resource: str) -> Response:
        body = _body(req)
        errors: dict[str, list[str]] = {}
        client_id = _ref(body, "client", "client", errors, required=True)
        if not body.get("phone_number"):
            errors["phone_number"] = ["This field is required."]
        if errors:
            raise ProvetValidationError(errors)
        assert client_id is not None
        phone = self.state.add_phone_number(client_id, str(body["phone_number"]), str(body.get("description") or ""))
        with self.state.lock:
            return _json(self._render("phonenumber", self.state.record("phonenumber", phone.id)), 201)

    def _patch_phone(self, req: Request, _resource: str) -> Response:
        body = _body(req)
        number = body.get("phone_number")
        description = body.get("description")
        phone = self.state.edit_phone_number(
            int(req.params["id"]),
            None if number is None else str(number),
            None if description is None else str(description),
        )
        with self.state.lock:
            return _json(self._render("phonenumber", self.state.record("phonenumber", phone.id)))

    # -- test hooks (see the module docstring)
    def add_invoice(self, client_id: int | None, rows: Sequence[RowSpec], **kwargs: Any) -> Invoice:
        return self.state.add_invoice(client_id, rows, **kwargs)

    def finalise_invoice(self, invoice_id: int) -> Invoice:
        return self.state.finalise_invoice(invoice_id)

    def void_invoice(self, invoice_id: int) -> Invoice:
        return self.state.void_invoice(invoice_id)

    def credit_invoice(self, invoice_id: int, row_ids: Sequence[int] | None = None, **kwargs: Any) -> Invoice:
        return self.state.credit_invoice(invoice_id, row_ids, **kwargs)

    def consolidate(self, invoice_ids: Sequence[int], *, invoice_date: date | None = None) -> Invoice:
        return self.state.consolidate(invoice_ids, invoice_date=invoice_date)

    def add_payment(self, invoice_id: int, amount: Decimal | str, **kwargs: Any) -> InvoicePayment:
        return self.state.add_payment(invoice_id, amount, **kwargs)

    def cancel_payment(self, payment_id: int) -> InvoicePayment:
        return self.state.cancel_payment(payment_id)

    def add_prepayment(
        self, client_id: int, amount: Decimal | str, payment_type: int = C.PT_CASH
    ) -> UnallocatedPayment:
        return self.state.add_prepayment(client_id, amount, payment_type)

    def use_prepayment(
        self, prepayment_id: int, invoice_id: int, amount: Decimal | str | None = None
    ) -> InvoicePayment:
        return self.state.use_prepayment(prepayment_id, invoice_id, amount)

    def add_client(self, firstname: str = "", lastname: str = "", **fields: Any) -> Client:
        return self.state.add_client(firstname, lastname, **fields)

    def edit_client(self, client_id: int, /, **changes: Any) -> Client:
        return self.state.edit_client(client_id, **changes)

    def add_phone_number(self, client_id: int, phone_number: str, description: str = "Mobile") -> PhoneNumber:
        return self.state.add_phone_number(client_id, phone_number, description)

    def edit_phone_number(
        self, phone_id: int, phone_number: str | None = None, description: str | None = None
    ) -> PhoneNumber:
        return self.state.edit_phone_number(phone_id, phone_number, description)

    def add_vat_group(
        self, title: str, percentage: Decimal | str, account_number: str | None = None, archived: bool = False
    ) -> VatGroup:
        return self.state.add_vat_group(title, percentage, account_number, archived)

    def set_vat_group_archived(self, group_id: int, archived: bool = True) -> VatGroup:
        return self.state.set_vat_group_archived(group_id, archived)

    def add_payment_method(self, name: str, payment_type: int, archived: bool = False) -> PaymentMethod:
        return self.state.add_payment_method(name, payment_type, archived)

    def invoice(self, invoice_id: int) -> Invoice:
        return self.state.invoice(invoice_id)

    def invoices(self, status: int | None = None) -> list[Invoice]:
        return self.state.invoices(status)

    def payments_for(self, invoice_id: int, *, include_cancelled: bool = True) -> list[InvoicePayment]:
        return self.state.payments_for(invoice_id, include_cancelled=include_cancelled)

    def payment(self, payment_id: int) -> InvoicePayment:
        return self.state.payment(payment_id)

    def client(self, client_id: int) -> Client:
        return self.state.client(client_id)

    def clients(self) -> list[Client]:
        return self.state.clients()

    def unallocated_payments(self) -> list[UnallocatedPayment]:
        return self.state.unallocated_payments()

    def snapshot(self) -> ProvetData:
        return self.state.snapshot()

    def demo_activity(self, rng: random.Random) -> list[str]:
        return self.state.demo_activity(rng)


# ------------------------------------------------------------------------------------------ helpers


def _json(data: Any, status: int = 200) -> Response:
    try:
        return Response.json(data, status)
    except UnicodeEncodeError:  # half an emoji (a lone surrogate), as tamper() can plant: sent \u-escaped
        body = json.dumps(data, default=str).encode("ascii")
        return Response(status, body, {"Content-Type": "application/json; charset=utf-8"})


def _scalar(kind: str, value: Any) -> Any:
    """Django REST's rendering: Decimals as fixed-point strings, dates ISO, datetimes with offset."""
    if value is None:
        return None
    if kind == "money" or kind == "dec2":
        return f"{value:.2f}"
    if kind == "dec4":
        return f"{value:.4f}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _page_size(req: Request) -> int:
    raw = req.arg("page_size")
    if raw is None or raw == "":
        return DEFAULT_PAGE_SIZE
    if not raw.isdigit() or int(raw) < 1:
        raise FilterError(f"page_size must be a positive whole number, not {raw!r}.")
    return min(int(raw), MAX_PAGE_SIZE)


def _page_cost(req: Request) -> int:
    with contextlib.suppress(FilterError):
        size = _page_size(req)
        return math.ceil(size / DEFAULT_PAGE_SIZE) if size > DEFAULT_PAGE_SIZE else 1
    return 1


def _exposed(req: Request, resource: str) -> frozenset[str]:
    fields = FIELD_INDEX[resource]
    out = set()
    for key, values in req.query.items():
        if not key.startswith("expose_"):
            continue
        name = key[len("expose_") :]
        f = fields.get(name)
        if f is None or f.kind not in ("rel", "rels") or f.target not in SCHEMA:
            raise FilterError(f"'{name}' is not a relation of /{resource}/ that can be exposed.")
        if values[-1].lower() not in ("false", "0", "no"):
            out.add(name)
    return frozenset(out)


def _body(req: Request) -> dict[str, Any]:
    ctype = (req.header("content-type") or "").lower()
    if "application/x-www-form-urlencoded" in ctype:
        return dict(req.form())
    try:
        body = req.json()
    except ValueError as exc:
        raise ProvetValidationError({"non_field_errors": [str(exc)]}) from None
    if not isinstance(body, dict):
        raise ProvetValidationError({"non_field_errors": ["Expected a JSON object."]})
    return body


def _ref(body: dict[str, Any], name: str, resource: str, errors: dict[str, list[str]], *, required: bool) -> int | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            errors[name] = ["This field is required."]
        return None
    try:
        return ref_id(value, resource)
    except ValueError:
        errors[name] = ["Invalid hyperlink - No URL match."]
        return None


__all__ = [
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_PROVET_ID",
    "PERMISSION_FAMILIES",
    "PERM_CLIENTS",
    "PERM_INVOICES",
    "PERM_SETTINGS",
    "ProvetSandbox",
    "RateLimiter",
]
