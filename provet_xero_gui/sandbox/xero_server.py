"""A simulated Xero on 127.0.0.1: sign-in, tokens, connections and the accounting API.

One server answers for every Xero host, told apart by path, so the app's three URL overrides can
all point at `XeroSandbox.base_url`:

    GET  /identity/connect/authorize      consent page (login.xero.com); POST = Allow / Deny
    POST /connect/token                   authorization_code + PKCE, refresh_token (identity.xero.com)
    POST /connect/revocation
    GET  /connections, DELETE /connections/{id}            (api.xero.com; "/Connections" too)
    /api.xro/2.0/Organisation | TaxRates | Accounts | TrackingCategories | Contacts[/{id|number}]
                 Invoices[/{id|number}] | CreditNotes[/{id|number}][/Allocations[/{id}]]
                 Payments[/{id}]

Behaviour the app can rely on (as in the real Xero):
- JSON is PascalCase as in xero_accounting.yaml. Document dates are written "/Date(ms+0000)/" with
  a "DateString" twin "2024-03-20T00:00:00"; *UTC stamps are "/Date(ms+0000)/". Dates are accepted
  as "2024-03-20", "2024-03-20T00:00:00" or "/Date(ms)/" (what xero-python sends).
- Writes answer 200. summarizeErrors=true (default): one bad element → 400 ValidationException with
  every element in "Elements" (its own ValidationErrors) and nothing saved. summarizeErrors=false:
  200, good elements saved, bad ones carry ValidationErrors, HasErrors/HasValidationErrors and
  StatusAttributeString "ERROR".
- Idempotency-Key (≤ 128 chars) on writes: the first successful (2xx) answer is stored for 24
  sandbox hours per organisation, method, path and key, and replayed without doing anything again.
- Lists page at 100 (`page` 1-based, `pageSize` ≤ 1000) with a "pagination" block, also when
  `page` is not given (then page 1). If-Modified-Since (RFC 1123 or ISO 8601; naive = UTC;
  second precision) keeps records whose UpdatedDateUTC is at or after it (inclusive, so nothing is
  missed at the boundary). Xero documents the header to the second; a fraction is read the strictest
  way, rounded up to the next whole second, so a client that sends a cursor finer than a second misses
  what changed earlier in that second (as it might at Xero). Every change moves UpdatedDateUTC.
- A request URL (path and query) longer than 4,096 characters is answered 414 (Xero: about 8,000).
- Limits per organisation on the sandbox clock: 60 calls per rolling minute, 5,000 per rolling
  day, 5 at once; every accounting answer carries X-MinLimit-Remaining, X-DayLimit-Remaining and
  X-AppMinLimit-Remaining. Over a limit: 429 with X-Rate-Limit-Problem (minute|day|concurrent|
  appminute) and Retry-After in *sandbox* seconds, like the real header; a client on a sped-up
  clock waits `clock.real_seconds(retry_after)`. /connect/* and /connections are not counted.
- GET TrackingCategories lists the ACTIVE categories with their ACTIVE options; includeArchived=true
  adds the archived ones. A line item's Tracking is checked against them as Xero checks it, because the
  app maps Provet departments onto tracking options and an accountant archives options in Xero: each
  entry names (by Name or TrackingCategoryID) an ACTIVE category and (by Option or TrackingOptionID) one
  of its ACTIVE options, names compared case-insensitively; at most two categories a line, each once.
  Anything else is a ValidationError on that element. Stored and echoed in Xero's own spelling with
  both ids.
- Access tokens live 30 sandbox minutes, codes 5, refresh tokens 60 days. Every refresh returns a
  new refresh token; the old one keeps working for 30 minutes after its first use, then gives
  400 {"error": "invalid_grant"}.

Test hooks (plain methods, thread-safe; none of them counts against the limits):
    tenant_ids; invoices(t) / credit_notes(t) / contacts(t) / payments(t) / allocations(t) /
    accounts(t) / tax_rates(t) / tracking_categories(t) → lists of frozen records (xero_state);
    invoice(t, id_or_number); credit_note(t, id_or_number); contact(t, id_or_number); organisation(t) → dict;
    make_payment(t, invoice_id, amount, account_code, date=None, reference="") — a bank line
    reconciled in Xero; delete_payment(t, payment_id); edit_contact(t, contact_id, **fields) and
    add_contact(t, name, **fields) — by hand in Xero (fields: name, email, first_name, last_name,
    tax_number, contact_number, account_number, status, addresses, phones; addresses/phones as
    Xero JSON); edit_invoice(t, invoice_id, **json_fields); set_lock_date(t, date,
    end_of_year=False); archive_tax_rate(t, tax_type); archive_account(t, code);
    archive_tracking_option(t, category, option) and archive_tracking_category(t, category) — by name;
    register_as_older_app(client_id) (its sign-in must ask for the older accounting.transactions scope);
    revoke_all_tokens(); expire_access_tokens(); connect(client_id, tenant_ids, scopes) → a token
    answer as after sign-in, without the browser; approve_consent(authorize_url, allow=True,
    tenant_ids=None) → the Location the browser would be sent to (ValueError where Xero shows an
    error page); limits (settable, e.g. XeroLimits(per_day=1000) or XeroLimits.off());
    reset_limits(); reset(clock=None, limits=None) → back to the seed with the server running;
    work_delay (real seconds each accounting call holds its concurrency slot).
    Rule breaks in hooks raise XeroRuleError (its .messages are Xero's ValidationErrors); unknown
    ids raise KeyError.

Simplifications: sales documents only (ACCREC, ACCRECCREDIT); payments only on invoices (no
refunds, prepayments or overpayments); documents are updated only when addressed by id (body or
URL), never matched by number; tracking categories are read-only (set up in the seed, archived by
the hooks: the app never writes them); connections are per user and app, like Xero's, so /connections
shows every organisation the demo user connected to this client.
"""

from __future__ import annotations

import email.utils
import logging
import math
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from provet_xero_gui.sandbox.clock import SandboxClock
from provet_xero_gui.sandbox.faults import CallCounter, Faults
from provet_xero_gui.sandbox.httpbase import Request, Response, Router, SandboxServer
from provet_xero_gui.sandbox.seed import XeroSeed
from provet_xero_gui.sandbox.xero_identity import (
    DEFAULT_SCOPES,
    AccessInfo,
    Tenant,
    TokenProblem,
    XeroIdentity,
)
from provet_xero_gui.sandbox.xero_state import (
    ACCOUNT_CLASS,
    Account,
    Allocation,
    Contact,
    Document,
    Invalid,
    LineItem,
    NotFound,
    OrgState,
    Payment,
    TaxRate,
    TrackingCategory,
    Txn,
    date_string,
    ms_date,
    ms_datetime,
    parse_date,
)

log = logging.getLogger(__name__)

DEMO_CLIENT_ID = "provet-xero-demo"
DEMO_APP_NAME = "Provet Cloud ↔ Xero (demo)"
DEFAULT_REDIRECT_URIS = tuple(f"http://localhost:{p}/callback" for p in (47651, 47652, 47653, 47654, 47655))
API_PREFIX = "/api.xro/2.0"
IDEMPOTENCY_SECONDS = 24 * 3600
MAX_PAGE_SIZE = 1000
MAX_BODY_BYTES = 3_500_000
# The longest request target (path and query string as sent) answered; longer ones get 414. Xero documents no
# limit and answers 414 past about 8,000 characters; the sandbox is stricter (docs/sandbox-differences.md).
MAX_URL_CHARS = 4096
DEFAULT_PAGE_SIZE = 100

XeroRuleError = Invalid  # what the hooks raise when Xero's rules refuse a change


@dataclass(frozen=True)
class XeroLimits:
    """Xero's per-organisation limits; `enabled=False` still counts and reports, never refuses."""

    per_minute: int = 60
    per_day: int = 5000
    concurrent: int = 5
    app_per_minute: int = 10_000
    enabled: bool = True

    @classmethod
    def off(cls) -> XeroLimits:
        return cls(enabled=False)


@dataclass(frozen=True)
class _Admission:
    headers: dict[str, str]
    problem: str | None = None
    retry_after: int = 0


class _Limiter:
    """Rolling minute and day windows per tenant, one minute window per app, in-flight counts."""

    def __init__(self, limits: XeroLimits, clock: SandboxClock) -> None:
        self.limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        self._minute: dict[str, deque[float]] = {}
        self._day: dict[str, deque[float]] = {}
        self._app: dict[str, deque[float]] = {}
        self._in_flight: dict[str, int] = {}

    def admit(self, tenant: str, app: str) -> _Admission:
        lim = self.limits
        now = self._clock.seconds()
        with self._lock:
            minute = _pruned(self._minute.setdefault(tenant, deque()), now - 60)
            day = _pruned(self._day.setdefault(tenant, deque()), now - 86400)
            app_min = _pruned(self._app.setdefault(app, deque()), now - 60)
            in_flight = self._in_flight.get(tenant, 0)
            checks = (
                ("concurrent", in_flight >= lim.concurrent, 1.0),
                ("minute", len(minute) >= lim.per_minute, minute[0] + 60 - now if minute else 1),
                ("day", len(day) >= lim.per_day, day[0] + 86400 - now if day else 1),
                ("appminute", len(app_min) >= lim.app_per_minute, app_min[0] + 60 - now if app_min else 1),
            )
            if lim.enabled:
                for problem, over, wait in checks:
                    if over:
                        headers = self._headers(minute, day, app_min)
                        return _Admission(headers, problem, max(1, math.ceil(wait)))
            minute.append(now)
            day.append(now)
            app_min.append(now)
            self._in_flight[tenant] = in_flight + 1
            return _Admission(self._headers(minute, day, app_min))

    def release(self, tenant: str) -> None:
        with self._lock:
            self._in_flight[tenant] = max(0, self._in_flight.get(tenant, 0) - 1)

    def reset(self) -> None:
        with self._lock:
            self._minute.clear()
            self._day.clear()
            self._app.clear()

    def _headers(self, minute: deque[float], day: deque[float], app_min: deque[float]) -> dict[str, str]:
        lim = self.limits
        return {
            "X-MinLimit-Remaining": str(max(0, lim.per_minute - len(minute))),
            "X-DayLimit-Remaining": str(max(0, lim.per_day - len(day))),
            "X-AppMinLimit-Remaining": str(max(0, lim.app_per_minute - len(app_min))),
        }


def _pruned(window: deque[float], older_than: float) -> deque[float]:
    while window and window[0] <= older_than:
        window.popleft()
    return window


_SCOPES = {
    "settings": ({"accounting.settings"}, {"accounting.settings.read"}),
    "contacts": ({"accounting.contacts"}, {"accounting.contacts.read"}),
    "invoices": (
        {"accounting.transactions", "accounting.invoices"},
        {"accounting.transactions.read", "accounting.invoices.read"},
    ),
    "payments": (
        {"accounting.transactions", "accounting.payments"},
        {"accounting.transactions.read", "accounting.payments.read"},
    ),
}


def _scope_ok(granted: frozenset[str], group: str, write: bool) -> bool:
    full, read = _SCOPES[group]
    return bool(granted & full) or (not write and bool(granted & read))


@dataclass
class _Stored:
    at: float
    response: Response


class XeroSandbox:
    """The simulated Xero: one loopback server, one in-memory state per organisation."""

    def __init__(
        self,
        seed: XeroSeed,
        clock: SandboxClock,
        *,
        port: int = 0,
        faults: Faults | None = None,
        clients: Mapping[str, Sequence[str]] | None = None,
        limits: XeroLimits | None = None,
        app_names: Mapping[str, str] | None = None,
    ) -> None:
        self._seed = seed
        self._lock = threading.RLock()
        self._clients = dict(clients or {DEMO_CLIENT_ID: DEFAULT_REDIRECT_URIS})
        self._app_names = {DEMO_CLIENT_ID: DEMO_APP_NAME, **(app_names or {})}
        self._build(clock, limits or XeroLimits())
        router = Router()
        self._add_routes(router)
        self.server = SandboxServer(
            router, name="xero", port=port, faults=faults,
            fault_filter=lambda req: not req.path.startswith("/identity/"),
            now=lambda: self.clock.now(),
        )

    def _build(self, clock: SandboxClock, limits: XeroLimits) -> None:
        """Fresh organisations from the seed, no tokens, empty limit windows."""
        self.clock = clock
        self._orgs: dict[str, OrgState] = {
            o.tenant_id.lower(): OrgState(o, clock.now) for o in self._seed.organisations
        }
        tenants = [Tenant(o.tenant_id, o.name) for o in self._seed.organisations]
        self.identity = XeroIdentity(clock, self._clients, tenants, self._app_names)
        self._limiter = _Limiter(limits, clock)
        self._idempotent: dict[tuple[str, str, str, str], _Stored] = {}
        self.work_delay = 0.0

    def reset(self, clock: SandboxClock | None = None, limits: XeroLimits | None = None) -> None:
        """Back to the seed (and optionally a new clock), keeping the server running; for tests."""
        with self._lock:
            self._build(clock or self.clock, limits or self.limits)
        self.faults.reset()
        self.counter.reset()

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def counter(self) -> CallCounter:
        return self.server.counter

    @property
    def faults(self) -> Faults:
        return self.server.faults

    @property
    def limits(self) -> XeroLimits:
        return self._limiter.limits

    @limits.setter
    def limits(self, value: XeroLimits) -> None:
        self._limiter.limits = value

    def start(self) -> XeroSandbox:
        self.server.start()
        log.info("sandbox xero: serving on %s", self.base_url)
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> XeroSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- routes -------------------------------------------------------------------------------

    def _add_routes(self, r: Router) -> None:
        # Through `self.identity` at call time, so reset() can swap the identity state.
        r.add("GET", r"/identity/connect/authorize", lambda req: self.identity.authorize_page(req),
              "GET /identity/connect/authorize")
        r.add("POST", r"/identity/connect/authorize", lambda req: self.identity.consent_submit(req),
              "POST /identity/connect/authorize")
        r.add("POST", r"/connect/token", lambda req: self.identity.token(req), "POST /connect/token")
        r.add("POST", r"/connect/revocation", lambda req: self.identity.revoke(req), "POST /connect/revocation")
        r.add("GET", r"/[Cc]onnections", self._get_connections, "GET /connections")
        r.add("DELETE", r"/[Cc]onnections/(?P<id>[^/]+)", self._delete_connection, "DELETE /connections/{id}")
        api: list[tuple[str, str, str, str, Callable[[Request, OrgState], Response]]] = [
            ("GET", "Organisation", "settings", "/Organisation", self._get_organisation),
            ("GET", "TaxRates", "settings", "/TaxRates", self._get_tax_rates),
            ("GET", "Accounts", "settings", "/Accounts", self._get_accounts),
            ("GET", "TrackingCategories", "settings", "/TrackingCategories", self._get_tracking_categories),
            ("GET", "Contacts", "contacts", "/Contacts", self._get_contacts),
            ("PUT", "Contacts", "contacts", "/Contacts", self._put_contacts),
            ("POST", "Contacts", "contacts", "/Contacts", self._put_contacts),
            ("GET", "Contacts/{key}", "contacts", "/Contacts/(?P<key>[^/]+)", self._get_contact),
            ("POST", "Contacts/{key}", "contacts", "/Contacts/(?P<key>[^/]+)", self._post_contact),
            ("GET", "Invoices", "invoices", "/Invoices", self._doc_list("invoice")),
            ("PUT", "Invoices", "invoices", "/Invoices", self._doc_write("invoice")),
            ("POST", "Invoices", "invoices", "/Invoices", self._doc_write("invoice")),
            ("GET", "Invoices/{key}", "invoices", "/Invoices/(?P<key>[^/]+)", self._doc_one("invoice")),
            ("POST", "Invoices/{key}", "invoices", "/Invoices/(?P<key>[^/]+)", self._doc_write("invoice")),
            ("GET", "CreditNotes", "invoices", "/CreditNotes", self._doc_list("credit_note")),
            ("PUT", "CreditNotes", "invoices", "/CreditNotes", self._doc_write("credit_note")),
            ("POST", "CreditNotes", "invoices", "/CreditNotes", self._doc_write("credit_note")),
            ("GET", "CreditNotes/{key}", "invoices", "/CreditNotes/(?P<key>[^/]+)", self._doc_one("credit_note")),
            ("POST", "CreditNotes/{key}", "invoices", "/CreditNotes/(?P<key>[^/]+)",
             self._doc_write("credit_note")),
            ("PUT", "CreditNotes/{key}/Allocations", "invoices", "/CreditNotes/(?P<key>[^/]+)/Allocations",
             self._put_allocations),
            ("DELETE", "CreditNotes/{key}/Allocations/{aid}", "invoices",
             "/CreditNotes/(?P<key>[^/]+)/Allocations/(?P<aid>[^/]+)", self._delete_allocation),
            ("GET", "Payments", "payments", "/Payments", self._get_payments),
            ("PUT", "Payments", "payments", "/Payments", self._put_payments),
            ("POST", "Payments", "payments", "/Payments", self._put_payments),
            ("GET", "Payments/{key}", "payments", "/Payments/(?P<key>[^/]+)", self._get_payment),
            ("POST", "Payments/{key}", "payments", "/Payments/(?P<key>[^/]+)", self._post_payment),
        ]
        for method, name, scope, pattern, handler in api:
            regex = "(?i)" + re.escape(API_PREFIX) + pattern
            r.add(method, regex, self._accounting(handler, scope, method != "GET"), f"{method} /{name}")

    def _accounting(
        self, handler: Callable[[Request, OrgState], Response], scope: str, write: bool
    ) -> Callable[[Request], Response]:
        """Auth, tenant, scope, limits and Idempotency-Key around one accounting handler."""

        def run(req: Request) -> Response:
            if len(req.target) > MAX_URL_CHARS:
                return _problem(414, "Request-URI Too Long",
                                f"The request URL is longer than {MAX_URL_CHARS} characters.")
            try:
                access = self.identity.check_access(req.header("authorization"))
            except TokenProblem as problem:
                return _problem(401, "Unauthorized", problem.detail,
                                {"WWW-Authenticate": 'Bearer error="invalid_token"'})
            tenant = (req.header("xero-tenant-id") or "").strip().lower()
            org = self._orgs.get(tenant)
            if org is None or tenant not in {t.lower() for t in access.tenant_ids}:
                return _problem(403, "Forbidden", "AuthorizationUnsuccessful")
            if not _scope_ok(access.scopes, scope, write):
                return _problem(403, "Forbidden", "AuthorizationUnsuccessful")
            if len(req.body) > MAX_BODY_BYTES:
                return _problem(413, "Request Entity Too Large", "The request body is larger than 3.5 MB.")
            admission = self._limiter.admit(tenant, access.client_id)
            if admission.problem:
                return _too_many(admission)
            try:
                if self.work_delay:
                    time.sleep(self.work_delay)
                resp = self._run_once(req, tenant, lambda: handler(req, org))
            finally:
                self._limiter.release(tenant)
            resp.headers.update(admission.headers)
            return resp

        return run

    def _run_once(self, req: Request, tenant: str, call: Callable[[], Response]) -> Response:
        key = req.header("idempotency-key")
        if req.method == "GET" or not key:
            with self._lock:
                return call()
        if len(key) > 128:
            return _validation_error(["The Idempotency-Key must not be longer than 128 characters."], [{}])
        slot = (tenant, req.method, req.path.lower(), key)
        with self._lock:
            now = self.clock.seconds()
            stored = self._idempotent.get(slot)
            if stored and now - stored.at <= IDEMPOTENCY_SECONDS:
                return Response(stored.response.status, stored.response.body, dict(stored.response.headers))
            resp = call()
            if 200 <= resp.status < 300:
                self._idempotent[slot] = _Stored(now, Response(resp.status, resp.body, dict(resp.headers)))
            return resp

    # -- connections --------------------------------------------------------------------------

    def _identity_access(self, req: Request) -> AccessInfo | Response:
        try:
            return self.identity.check_access(req.header("authorization"))
        except TokenProblem as problem:
            return _problem(401, "Unauthorized", problem.detail, {"WWW-Authenticate": 'Bearer error="invalid_token"'})

    def _get_connections(self, req: Request) -> Response:
        access = self._identity_access(req)
        if isinstance(access, Response):
            return access
        conns = self.identity.connections(access.client_id, req.arg("authEventId"))
        return Response.json([c.to_json() for c in conns])

    def _delete_connection(self, req: Request) -> Response:
        access = self._identity_access(req)
        if isinstance(access, Response):
            return access
        if not self.identity.delete_connection(access.client_id, req.params["id"].lower()):
            return _problem(404, "Not Found", "The resource you're looking for cannot be found")
        return Response(204)

    # -- reference data -----------------------------------------------------------------------

    def _get_organisation(self, req: Request, org: OrgState) -> Response:
        return Response.json(self._envelope("Organisations", [_render_organisation(org)]))

    def _get_tax_rates(self, req: Request, org: OrgState) -> Response:
        rows = [_render_tax_rate(t) for t in org.tax_rates.values()]
        rows = _where_filter(rows, req.arg("where"))
        if isinstance(rows, Response):
            return rows
        if req.arg("TaxType"):
            rows = [r for r in rows if r["TaxType"] == req.arg("TaxType")]
        return Response.json(self._envelope("TaxRates", _order(rows, req.arg("order"))))

    def _get_accounts(self, req: Request, org: OrgState) -> Response:
        ims = _if_modified_since(req)
        accounts = [a for a in org.accounts.values() if ims is None or a.updated >= ims]
        rows = _where_filter([_render_account(a, org.base_currency) for a in accounts], req.arg("where"))
        if isinstance(rows, Response):
            return rows
        return Response.json(self._envelope("Accounts", _order(rows, req.arg("order"))))

    def _get_tracking_categories(self, req: Request, org: OrgState) -> Response:
        archived = (req.arg("includeArchived") or "").lower() == "true"
        rows = [_render_tracking_category(c, archived) for c in org.tracking.values()
                if archived or c.status == "ACTIVE"]
        rows = _where_filter(rows, req.arg("where"))
        if isinstance(rows, Response):
            return rows
        return Response.json(self._envelope("TrackingCategories", _order(rows, req.arg("order") or "Name")))

    # -- contacts -----------------------------------------------------------------------------

    def _get_contacts(self, req: Request, org: OrgState) -> Response:
        ims = _if_modified_since(req)
        ids = _csv_set(req, "IDs", lower=True)
        include_archived = (req.arg("includeArchived") or "").lower() == "true"
        term = (req.arg("searchTerm") or "").casefold()
        found = [
            c for c in org.contacts.values()
            if (ims is None or c.updated >= ims)
            and (ids is None or c.contact_id in ids)
            and (include_archived or ids is not None or c.status == "ACTIVE")
            and (not term or term in " ".join(
                (c.name, c.first_name, c.last_name, c.contact_number or "", c.email)).casefold())
        ]
        summary = (req.arg("summaryOnly") or "").lower() == "true"
        return self._list_answer(req, "Contacts", found, lambda c: _render_contact(c, summary=summary))

    def _get_contact(self, req: Request, org: OrgState) -> Response:
        try:
            contact = org.find_contact(req.params["key"])
        except NotFound:
            return _not_found()
        return Response.json(self._envelope("Contacts", [_render_contact(contact)]))

    def _put_contacts(self, req: Request, org: OrgState) -> Response:
        return self._batch(req, "Contacts", lambda e, txn: org.save_contact(e, txn),
                           lambda c: _render_contact(c), "HasValidationErrors")

    def _post_contact(self, req: Request, org: OrgState) -> Response:
        key = req.params["key"]
        try:
            contact = org.find_contact(key)
        except NotFound:
            return _not_found()
        return self._batch(req, "Contacts", lambda e, txn: org.save_contact(e, txn, contact.contact_id),
                           lambda c: _render_contact(c), "HasValidationErrors")

    # -- invoices and credit notes ------------------------------------------------------------

    def _doc_list(self, kind: str) -> Callable[[Request, OrgState], Response]:
        def handler(req: Request, org: OrgState) -> Response:
            ims = _if_modified_since(req)
            ids = _csv_set(req, "IDs", lower=True)
            numbers = _csv_set(req, "InvoiceNumbers" if kind == "invoice" else "CreditNoteNumbers")
            statuses = _csv_set(req, "Statuses")
            contact_ids = _csv_set(req, "ContactIDs", lower=True)
            found = [
                d for d in org.docs(kind).values()
                if (ims is None or d.updated >= ims)
                and (ids is None or d.doc_id in ids)
                and (numbers is None or d.number in numbers)
                and (statuses is None or d.status in statuses)
                and (contact_ids is None or d.contact_id in contact_ids)
            ]
            unitdp4 = req.arg("unitdp") == "4"
            summary = (req.arg("summaryOnly") or "").lower() == "true"
            return self._list_answer(req, _collection(kind), found,
                                     lambda d: _render_doc(org, d, unitdp4=unitdp4, summary=summary))

        return handler

    def _doc_one(self, kind: str) -> Callable[[Request, OrgState], Response]:
        def handler(req: Request, org: OrgState) -> Response:
            try:
                doc = org.find_doc(kind, req.params["key"])
            except NotFound:
                return _not_found()
            unitdp4 = req.arg("unitdp") == "4"
            return Response.json(self._envelope(_collection(kind), [_render_doc(org, doc, unitdp4=unitdp4)]))

        return handler

    def _doc_write(self, kind: str) -> Callable[[Request, OrgState], Response]:
        def handler(req: Request, org: OrgState) -> Response:
            unitdp4 = req.arg("unitdp") == "4"
            path_id: str | None = None
            if "key" in req.params:
                try:
                    path_id = org.find_doc(kind, req.params["key"]).doc_id
                except NotFound:
                    return _not_found()

            def op(e: Mapping[str, Any], txn: Txn) -> Document:
                return org.save_document(kind, e, txn, unitdp4=unitdp4, path_id=path_id)

            return self._batch(req, _collection(kind), op,
                               lambda d: _render_doc(org, org.docs(kind)[d.doc_id], unitdp4=unitdp4), "HasErrors")

        return handler

    def _put_allocations(self, req: Request, org: OrgState) -> Response:
        try:
            cn = org.find_doc("credit_note", req.params["key"])
        except NotFound:
            return _not_found()
        return self._batch(req, "Allocations", lambda e, txn: org.allocate(cn.doc_id, e, txn),
                           lambda a: _render_allocation(org, a, with_credit_note=True), None)

    def _delete_allocation(self, req: Request, org: OrgState) -> Response:
        txn = Txn()
        try:
            alloc = org.delete_allocation(req.params["key"], req.params["aid"], txn)
        except NotFound:
            return _not_found()
        except Invalid as exc:
            txn.rollback()
            return _validation_error(exc.messages, [{}])
        return Response.json(_render_allocation(org, alloc, with_credit_note=True))

    # -- payments -----------------------------------------------------------------------------

    def _get_payments(self, req: Request, org: OrgState) -> Response:
        ims = _if_modified_since(req)
        found = [p for p in org.payments.values() if ims is None or p.updated >= ims]
        return self._list_answer(req, "Payments", found, lambda p: _render_payment(org, p))

    def _get_payment(self, req: Request, org: OrgState) -> Response:
        payment = org.payments.get(req.params["key"].lower())
        if payment is None:
            return _not_found()
        return Response.json(self._envelope("Payments", [_render_payment(org, payment)]))

    def _put_payments(self, req: Request, org: OrgState) -> Response:
        return self._batch(req, "Payments", lambda e, txn: org.create_payment(e, txn),
                           lambda p: _render_payment(org, org.payments[p.payment_id]), "HasValidationErrors")

    def _post_payment(self, req: Request, org: OrgState) -> Response:
        """POST /Payments/{id} {"Status": "DELETED"}: the only change Xero allows to a payment."""
        body = _body(req)
        if isinstance(body, Response):
            return body
        element = _elements(body, "Payments")
        element = element[0] if isinstance(element, list) and element else body
        if not isinstance(element, Mapping) or element.get("Status") != "DELETED":
            return _validation_error(["A payment can only be deleted (Status DELETED), not edited."], [element])
        txn = Txn()
        try:
            payment = org.delete_payment(req.params["key"], txn)
        except NotFound:
            return _not_found()
        except Invalid as exc:
            txn.rollback()
            return _validation_error(exc.messages, [element])
        return Response.json(self._envelope("Payments", [_render_payment(org, payment)]))

    # -- shared answer shapes -----------------------------------------------------------------

    def _envelope(self, key: str, rows: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return {
            "Id": str(uuid.uuid4()),
            "Status": "OK",
            "ProviderName": self._app_names.get(DEMO_CLIENT_ID, "Xero API Partner"),
            "DateTimeUTC": ms_datetime(self.clock.now()).replace("+0000", ""),
            **extra,
            key: rows,
        }

    def _list_answer(
        self, req: Request, key: str, records: Sequence[Any], render: Callable[[Any], dict[str, Any]]
    ) -> Response:
        """One page of a list; only `where`/`order` need every record rendered first."""
        try:
            page = max(1, int(req.arg("page") or 1))
            size = min(MAX_PAGE_SIZE, max(1, int(req.arg("pageSize") or DEFAULT_PAGE_SIZE)))
        except ValueError:
            return _query_error("page and pageSize must be whole numbers")
        start = (page - 1) * size
        if req.arg("where") or req.arg("order"):
            rows = _where_filter([render(r) for r in records], req.arg("where"))
            if isinstance(rows, Response):
                return rows
            rows = _order(rows, req.arg("order"))
            count, chunk = len(rows), rows[start:start + size]
        else:
            count, chunk = len(records), [render(r) for r in records[start:start + size]]
        pagination = {"page": page, "pageSize": size, "pageCount": max(1, math.ceil(count / size)),
                      "itemCount": count}
        return Response.json(self._envelope(key, chunk, pagination=pagination))

    def _batch(
        self, req: Request, key: str, op: Callable[[Mapping[str, Any], Txn], Any],
        render: Callable[[Any], dict[str, Any]], error_flag: str | None,
    ) -> Response:
        """Xero's batch write: per-element validation, all-or-nothing unless summarizeErrors=false."""
        body = _body(req)
        if isinstance(body, Response):
            return body
        elements = _elements(body, key)
        if not isinstance(elements, list):
            return _post_data_error(f"The request must carry a {key} list.")
        summarize = (req.arg("summarizeErrors") or "true").lower() != "false"
        txn = Txn()
        results: list[tuple[Any, list[str]]] = []
        for element in elements:
            mark = txn.mark()
            try:
                results.append((op(element, txn), []))
            except Invalid as exc:
                txn.rollback(mark)
                results.append((None, exc.messages))
        failed = any(messages for _record, messages in results)
        if failed and summarize:
            txn.rollback()
            echoed = [_echo(e, msgs, error_flag) for e, (_r, msgs) in zip(elements, results, strict=True)]
            return _validation_error(None, echoed)
        rows = []
        for element, (record, messages) in zip(elements, results, strict=True):
            if messages:
                rows.append(_echo(element, messages, error_flag))
            else:
                row = render(record)
                if not summarize:
                    row["StatusAttributeString"] = "OK"
                rows.append(row)
        return Response.json(self._envelope(key, rows))

    # -- test hooks ---------------------------------------------------------------------------

    @property
    def tenant_ids(self) -> tuple[str, ...]:
        return tuple(o.tenant_id for o in self._orgs.values())

    def _org(self, tenant_id: str) -> OrgState:
        try:
            return self._orgs[tenant_id.lower()]
        except KeyError:
            raise KeyError(f"no organisation with tenant id {tenant_id}") from None

    def invoices(self, tenant_id: str) -> list[Document]:
        with self._lock:
            return list(self._org(tenant_id).invoices.values())

    def credit_notes(self, tenant_id: str) -> list[Document]:
        with self._lock:
            return list(self._org(tenant_id).credit_notes.values())

    def contacts(self, tenant_id: str) -> list[Contact]:
        with self._lock:
            return list(self._org(tenant_id).contacts.values())

    def payments(self, tenant_id: str) -> list[Payment]:
        with self._lock:
            return list(self._org(tenant_id).payments.values())

    def allocations(self, tenant_id: str) -> list[Allocation]:
        with self._lock:
            return list(self._org(tenant_id).allocations.values())

    def accounts(self, tenant_id: str) -> list[Account]:
        with self._lock:
            return list(self._org(tenant_id).accounts.values())

    def tax_rates(self, tenant_id: str) -> list[TaxRate]:
        with self._lock:
            return list(self._org(tenant_id).tax_rates.values())

    def tracking_categories(self, tenant_id: str) -> list[TrackingCategory]:
        with self._lock:
            return list(self._org(tenant_id).tracking.values())

    def invoice(self, tenant_id: str, key: str) -> Document:
        """By InvoiceID or InvoiceNumber; KeyError when there is none."""
        with self._lock:
            try:
                return self._org(tenant_id).find_doc("invoice", key)
            except NotFound:
                raise KeyError(key) from None

    def credit_note(self, tenant_id: str, key: str) -> Document:
        with self._lock:
            try:
                return self._org(tenant_id).find_doc("credit_note", key)
            except NotFound:
                raise KeyError(key) from None

    def contact(self, tenant_id: str, key: str) -> Contact:
        """By ContactID or ContactNumber; KeyError when there is none."""
        with self._lock:
            try:
                return self._org(tenant_id).find_contact(key)
            except NotFound:
                raise KeyError(key) from None

    def organisation(self, tenant_id: str) -> dict[str, Any]:
        with self._lock:
            return _render_organisation(self._org(tenant_id))

    def _hook(self, tenant_id: str, change: Callable[[OrgState, Txn], Any]) -> Any:
        with self._lock:
            txn = Txn()
            try:
                return change(self._org(tenant_id), txn)
            except Exception:
                txn.rollback()
                raise

    def make_payment(
        self, tenant_id: str, invoice_id: str, amount: Decimal | str | float, account_code: str,
        date: date | None = None, reference: str = "",
    ) -> Payment:
        """A payment made in Xero itself (bank reconciliation, online payment)."""
        element = {"Invoice": {"InvoiceID": invoice_id}, "Account": {"Code": account_code},
                   "Amount": str(amount), "Reference": reference, "IsReconciled": True}
        if date is not None:
            element["Date"] = date.isoformat()
        return self._hook(tenant_id, lambda org, txn: org.create_payment(element, txn, made_in_xero=True))

    def restamp_payment(self, tenant_id: str, payment_id: str, updated: datetime) -> Payment:
        """Give a payment this UpdatedDateUTC, as if Xero had saved it then (a save that took a moment, so
        its stamp is earlier than when it could first be read)."""

        def change(org: OrgState, _txn: Txn) -> Payment:
            payment = replace(org.payments[payment_id.lower()], updated=updated.astimezone(UTC))
            org.payments[payment.payment_id] = payment
            return payment

        return self._hook(tenant_id, change)

    def delete_payment(self, tenant_id: str, payment_id: str) -> Payment:
        """A payment deleted by hand in Xero."""
        return self._hook(tenant_id, lambda org, txn: _known(org.delete_payment, payment_id, txn))

    def edit_contact(self, tenant_id: str, contact_id: str, **fields: Any) -> Contact:
        """A contact edited by hand in Xero; the same rules as the API (unique active name...)."""
        element = _contact_fields(fields)
        return self._hook(tenant_id, lambda org, txn: org.save_contact(element, txn, contact_id.lower()))

    def add_contact(self, tenant_id: str, name: str, **fields: Any) -> Contact:
        """A contact created by hand in Xero."""
        element = _contact_fields({"name": name, **fields})
        return self._hook(tenant_id, lambda org, txn: org.save_contact(element, txn))

    def edit_invoice(self, tenant_id: str, invoice_id: str, **json_fields: Any) -> Document:
        """An invoice changed by hand in Xero, e.g. edit_invoice(t, id, Status="VOIDED")."""
        return self._hook(tenant_id, lambda org, txn: org.save_document(
            "invoice", json_fields, txn, path_id=_known(org.find_doc, "invoice", invoice_id).doc_id))

    def set_lock_date(self, tenant_id: str, lock_date: date | None, *, end_of_year: bool = False) -> None:
        with self._lock:
            org = self._org(tenant_id)
            if end_of_year:
                org.end_of_year_lock_date = lock_date
            else:
                org.period_lock_date = lock_date

    def archive_tax_rate(self, tenant_id: str, tax_type: str) -> None:
        with self._lock:
            org = self._org(tenant_id)
            org.tax_rates[tax_type] = replace(org.tax_rates[tax_type], status="ARCHIVED")

    def archive_account(self, tenant_id: str, code: str) -> None:
        with self._lock:
            org = self._org(tenant_id)
            org.accounts[code] = replace(org.accounts[code], status="ARCHIVED", updated=self.clock.now())

    def archive_tracking_option(self, tenant_id: str, category: str, option: str) -> None:
        """An option archived in Xero's settings: documents already tagged keep it, new lines may not use it."""
        with self._lock:
            org = self._org(tenant_id)
            found = org.tracking_category({"Name": category})
            target = found.option({"Option": option}) if found else None
            if found is None or target is None:
                raise KeyError(f"{category}: {option}")
            options = tuple(replace(o, status="ARCHIVED") if o == target else o for o in found.options)
            org.tracking[found.category_id] = replace(found, options=options)

    def archive_tracking_category(self, tenant_id: str, category: str) -> None:
        with self._lock:
            org = self._org(tenant_id)
            found = org.tracking_category({"Name": category})
            if found is None:
                raise KeyError(category)
            org.tracking[found.category_id] = replace(found, status="ARCHIVED")

    def register_as_older_app(self, client_id: str) -> None:
        """As if this app had been registered at Xero before 2 March 2026: its sign-in may ask for
        accounting.transactions but not for the granular accounting.invoices / accounting.payments (and a
        newer app the other way round); the wrong set is refused with `invalid_scope`. Undone by reset()."""
        self.identity.older_apps.add(client_id)

    def revoke_all_tokens(self) -> None:
        """As if the user disconnected the app in Xero: every token and connection ends."""
        self.identity.revoke_all_tokens()

    def expire_access_tokens(self) -> None:
        """Every access token issued so far is expired now (refresh tokens still work)."""
        self.identity.expire_access_tokens()

    def reset_limits(self) -> None:
        self._limiter.reset()

    def connect(
        self, client_id: str = DEMO_CLIENT_ID, tenant_ids: Sequence[str] | None = None,
        scopes: Sequence[str] = DEFAULT_SCOPES,
    ) -> dict[str, Any]:
        """A token answer as after sign-in and Allow, without the browser (for engine tests)."""
        return dict(self.identity.connect_directly(client_id, tenant_ids, scopes))

    def approve_consent(
        self, authorize_url: str, *, allow: bool = True, tenant_ids: Sequence[str] | None = None
    ) -> str:
        """Play the user at the consent page: returns the Location the browser would be sent to.

        Raises ValueError when Xero would show an error page instead of redirecting.
        """
        parts = urlsplit(authorize_url)
        query = parse_qs(parts.query, keep_blank_values=True)
        page = self.identity.authorize_page(Request("GET", parts.path, query, {}, b""))
        if page.status == 302:
            return page.headers["Location"]
        if page.status != 200:
            raise ValueError(page.body.decode("utf-8"))
        request_id = re.search(rb'name="request_id" value="([^"]+)"', page.body)
        assert request_id is not None
        chosen = list(tenant_ids) if tenant_ids is not None else list(self.tenant_ids)
        form = [("request_id", request_id.group(1).decode()), ("action", "allow" if allow else "deny")]
        form += [("tenant", t) for t in chosen]
        answer = self.identity.consent_submit(
            Request("POST", parts.path, {}, {}, urlencode(form).encode("utf-8"))
        )
        if answer.status != 302:
            raise ValueError(answer.body.decode("utf-8"))
        return answer.headers["Location"]


# ---------------------------------------------------------------------------------------------
# Rendering records as Xero's JSON


def _num(value: Decimal) -> float:
    return float(value)


def _render_organisation(org: OrgState) -> dict[str, Any]:
    version = {"GB": "UK", "NZ": "NZ", "AU": "AU", "US": "US"}.get(org.country_code, "GLOBAL")
    row: dict[str, Any] = {
        "OrganisationID": org.organisation_id,
        "APIKey": "",
        "Name": org.name,
        "LegalName": org.name,
        "PaysTax": True,
        "Version": version,
        "OrganisationType": "COMPANY",
        "BaseCurrency": org.base_currency,
        "CountryCode": org.country_code,
        "IsDemoCompany": False,
        "OrganisationStatus": "ACTIVE",
        "FinancialYearEndDay": 31,
        "FinancialYearEndMonth": 3 if org.country_code == "GB" else 12,
        "DefaultSalesTax": "Tax Exclusive",
        "DefaultPurchasesTax": "Tax Exclusive",
        "CreatedDateUTC": ms_datetime(org.created),
        "OrganisationEntityType": "COMPANY",
        "Timezone": "GMTSTANDARDTIME" if org.country_code == "GB" else "UTC",
        "ShortCode": "!" + org.organisation_id[:5],
        "Class": "STANDARD",
        "Edition": "BUSINESS",
        "LineOfBusiness": "Veterinary services",
        "Addresses": [],
        "Phones": [],
        "ExternalLinks": [],
        "PaymentTerms": {},
    }
    if org.period_lock_date:
        row["PeriodLockDate"] = ms_date(org.period_lock_date)
    if org.end_of_year_lock_date:
        row["EndOfYearLockDate"] = ms_date(org.end_of_year_lock_date)
    return row


def _render_tax_rate(t: TaxRate) -> dict[str, Any]:
    return {
        "Name": t.name,
        "TaxType": t.tax_type,
        "TaxComponents": [{"Name": t.name, "Rate": _num(t.rate), "IsCompound": False, "IsNonRecoverable": False}],
        "Status": t.status,
        "CanApplyToAssets": True,
        "CanApplyToEquity": True,
        "CanApplyToExpenses": True,
        "CanApplyToLiabilities": True,
        "CanApplyToRevenue": t.can_apply_to_revenue,
        "DisplayTaxRate": _num(t.rate),
        "EffectiveRate": _num(t.rate),
    }


def _render_tracking_category(c: TrackingCategory, archived: bool) -> dict[str, Any]:
    return {
        "TrackingCategoryID": c.category_id,
        "Name": c.name,
        "Status": c.status,
        "Options": [{"TrackingOptionID": o.option_id, "Name": o.name, "Status": o.status}
                    for o in c.options if archived or o.status == "ACTIVE"],
    }


def _render_account(a: Account, currency: str) -> dict[str, Any]:
    row: dict[str, Any] = {
        "AccountID": a.account_id,
        "Code": a.code,
        "Name": a.name,
        "Status": a.status,
        "Type": a.type,
        "TaxType": a.tax_type,
        "Class": ACCOUNT_CLASS.get(a.type, "ASSET"),
        "EnablePaymentsToAccount": a.enable_payments,
        "ShowInExpenseClaims": False,
        "ReportingCode": "",
        "HasAttachments": False,
        "UpdatedDateUTC": ms_datetime(a.updated),
        "AddToWatchlist": False,
    }
    if a.type == "BANK":
        row["BankAccountType"] = "BANK"
        row["BankAccountNumber"] = a.bank_account_number or ""
        row["CurrencyCode"] = currency
    return row


def _render_contact(c: Contact, *, summary: bool = False) -> dict[str, Any]:
    row: dict[str, Any] = {"ContactID": c.contact_id}
    if c.contact_number:
        row["ContactNumber"] = c.contact_number
    if c.account_number:
        row["AccountNumber"] = c.account_number
    row.update({
        "ContactStatus": c.status,
        "Name": c.name,
        "FirstName": c.first_name,
        "LastName": c.last_name,
        "EmailAddress": c.email,
    })
    if c.company_number:
        row["CompanyNumber"] = c.company_number
    if c.tax_number:
        row["TaxNumber"] = c.tax_number
    if not summary:
        row["BankAccountDetails"] = ""
        row["Addresses"] = [dict(a) for a in c.addresses]
        row["Phones"] = [dict(p) for p in c.phones]
    row.update({
        "UpdatedDateUTC": ms_datetime(c.updated),
        "ContactGroups": [],
        "IsSupplier": c.is_supplier,
        "IsCustomer": c.is_customer,
        "ContactPersons": [],
        "HasAttachments": False,
        "HasValidationErrors": False,
    })
    return row


def _render_contact_ref(c: Contact) -> dict[str, Any]:
    row: dict[str, Any] = {"ContactID": c.contact_id}
    if c.contact_number:
        row["ContactNumber"] = c.contact_number
    row.update({"Name": c.name, "ContactStatus": c.status, "Addresses": [], "Phones": [],
                "ContactGroups": [], "ContactPersons": [], "HasValidationErrors": False})
    return row


def _render_line(li: LineItem, unitdp4: bool) -> dict[str, Any]:
    unit = li.unit_amount if unitdp4 else li.unit_amount.quantize(Decimal("0.01"))
    row: dict[str, Any] = {
        "LineItemID": li.line_item_id,
        "Description": li.description,
        "Quantity": _num(li.quantity),
        "UnitAmount": _num(unit),
    }
    if li.item_code:
        row["ItemCode"] = li.item_code
    if li.account_code:
        row["AccountCode"] = li.account_code
    row.update({
        "TaxType": li.tax_type,
        "TaxAmount": _num(li.tax_amount),
        "LineAmount": _num(li.line_amount),
        "Tracking": [dict(t) for t in li.tracking],
    })
    if li.discount_rate is not None:
        row["DiscountRate"] = _num(li.discount_rate)
    return row


def _render_doc(org: OrgState, d: Document, *, unitdp4: bool = False, summary: bool = False) -> dict[str, Any]:
    invoice = d.kind == "invoice"
    row: dict[str, Any] = {"Type": d.type}
    row["InvoiceID" if invoice else "CreditNoteID"] = d.doc_id
    row["InvoiceNumber" if invoice else "CreditNoteNumber"] = d.number
    row["Reference"] = d.reference
    if d.url:
        row["Url"] = d.url
    payments = [org.payments[p] for p in d.payment_ids]
    row["Payments"] = [
        {"PaymentID": p.payment_id, "Date": ms_date(p.date), "Amount": _num(p.amount), "Reference": p.reference,
         "CurrencyRate": 1.0, "HasAccount": False, "HasValidationErrors": False}
        for p in payments
    ]
    allocations = [org.allocations[a] for a in d.allocation_ids]
    if invoice:
        row["CreditNotes"] = [_credit_ref(org, a) for a in allocations]
        row.update({"Prepayments": [], "Overpayments": [], "AmountDue": _num(d.amount_due),
                    "AmountPaid": _num(d.amount_paid), "AmountCredited": _num(d.amount_credited),
                    "SentToContact": d.sent_to_contact, "CurrencyRate": 1.0,
                    "IsDiscounted": any(li.discount_rate for li in d.line_items)})
    else:
        row["Allocations"] = [_render_allocation(org, a, with_credit_note=False) for a in allocations]
        row.update({"RemainingCredit": _num(d.remaining_credit), "AppliedAmount": _num(d.amount_credited),
                    "SentToContact": d.sent_to_contact, "CurrencyRate": 1.0})
    row.update({
        "HasErrors": False,
        "HasAttachments": False,
        "Contact": _render_contact_ref(org.contacts[d.contact_id]),
        "DateString": date_string(d.date),
        "Date": ms_date(d.date),
    })
    if d.due_date:
        row["DueDateString"] = date_string(d.due_date)
        row["DueDate"] = ms_date(d.due_date)
    row.update({
        "Status": d.status,
        "LineAmountTypes": d.line_amount_types,
        "SubTotal": _num(d.sub_total),
        "TotalTax": _num(d.total_tax),
        "Total": _num(d.total),
        "UpdatedDateUTC": ms_datetime(d.updated),
        "CurrencyCode": d.currency,
    })
    if not summary:
        row["LineItems"] = [_render_line(li, unitdp4) for li in d.line_items]
    if d.fully_paid_on:
        row["FullyPaidOnDate"] = ms_date(d.fully_paid_on)
    return row


def _credit_ref(org: OrgState, a: Allocation) -> dict[str, Any]:
    cn = org.credit_notes[a.credit_note_id]
    return {"CreditNoteID": cn.doc_id, "CreditNoteNumber": cn.number, "ID": cn.doc_id,
            "AppliedAmount": _num(a.amount), "DateString": date_string(a.date), "Date": ms_date(a.date),
            "LineItems": [], "Total": _num(cn.total), "HasErrors": False}


def _doc_ref(org: OrgState, d: Document) -> dict[str, Any]:
    """The short form of a document inside a payment or an allocation."""
    contact = _render_contact_ref(org.contacts[d.contact_id])
    if d.kind == "invoice":
        return {"Type": d.type, "InvoiceID": d.doc_id, "InvoiceNumber": d.number, "Contact": contact,
                "Status": d.status, "Payments": [], "CreditNotes": [], "Prepayments": [], "Overpayments": [],
                "LineItems": [], "CurrencyCode": d.currency, "HasErrors": False, "IsDiscounted": False}
    return {"Type": d.type, "CreditNoteID": d.doc_id, "CreditNoteNumber": d.number, "Contact": contact,
            "Status": d.status, "LineItems": [], "CurrencyCode": d.currency, "HasErrors": False}


def _render_allocation(org: OrgState, a: Allocation, *, with_credit_note: bool) -> dict[str, Any]:
    row: dict[str, Any] = {
        "AllocationID": a.allocation_id,
        "Amount": _num(a.amount),
        "Date": ms_date(a.date),
        "Invoice": _doc_ref(org, org.invoices[a.invoice_id]),
        "IsDeleted": a.is_deleted,
    }
    if with_credit_note:
        row["CreditNote"] = _doc_ref(org, org.credit_notes[a.credit_note_id])
    return row


def _render_payment(org: OrgState, p: Payment) -> dict[str, Any]:
    account = org.account_by_id(p.account_id)
    target = (
        {"CreditNote": _doc_ref(org, org.credit_notes[p.invoice_id])} if p.on_credit_note
        else {"Invoice": _doc_ref(org, org.invoices[p.invoice_id])}
    )
    return {
        "PaymentID": p.payment_id,
        "Date": ms_date(p.date),
        "BankAmount": _num(p.amount),
        "Amount": _num(p.amount),
        "Reference": p.reference,
        "CurrencyRate": 1.0,
        "PaymentType": "ARCREDITPAYMENT" if p.on_credit_note else "ACCRECPAYMENT",
        "Status": p.status,
        "UpdatedDateUTC": ms_datetime(p.updated),
        "HasAccount": True,
        "IsReconciled": p.is_reconciled,
        "Account": {"AccountID": p.account_id, "Code": account.code if account else ""},
        **target,
        "HasValidationErrors": False,
    }


def _collection(kind: str) -> str:
    return "Invoices" if kind == "invoice" else "CreditNotes"


def _echo(element: Any, messages: list[str], error_flag: str | None) -> dict[str, Any]:
    row: dict[str, Any] = dict(element) if isinstance(element, Mapping) else {}
    row["ValidationErrors"] = [{"Message": m} for m in messages]
    if messages:
        row["StatusAttributeString"] = "ERROR"
        if error_flag:
            row[error_flag] = True
    return row


# ---------------------------------------------------------------------------------------------
# Request helpers


def _body(req: Request) -> Any:
    try:
        return req.json()
    except ValueError as exc:
        return _post_data_error(str(exc))


def _elements(body: Any, key: str) -> Any:
    if isinstance(body, Mapping) and key in body:
        return body[key]
    if isinstance(body, Mapping):
        return [body]
    return body


def _csv_set(req: Request, name: str, *, lower: bool = False) -> set[str] | None:
    values = req.query.get(name)
    if not values:
        return None
    items = {v.strip().strip('"') for raw in values for v in raw.split(",") if v.strip()}
    return {v.lower() for v in items} if lower else items


def _if_modified_since(req: Request) -> datetime | None:
    raw = req.header("if-modified-since")
    if not raw:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        try:
            parsed = datetime.fromisoformat(raw.strip())
        except ValueError:
            log.debug("sandbox xero: ignoring unreadable If-Modified-Since %r", raw)
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    parsed = parsed.astimezone(UTC)
    if parsed.microsecond:  # finer than Xero's documented second: read the strictest way, rounded up
        parsed = parsed.replace(microsecond=0) + timedelta(seconds=1)
    return parsed


_CLAUSE = re.compile(
    r"^\s*(?P<field>[A-Za-z][\w.]*)\s*(?:(?P<op>==|!=|>=|<=|>|<)\s*(?P<value>.+?)"
    r"|\.(?P<fn>Contains|StartsWith|EndsWith)\((?P<arg>\"[^\"]*\")\))\s*$"
)
_DATE_CALL = re.compile(r"^DateTime\((\d{4}),\s*(\d{1,2}),\s*(\d{1,2})\)$")
_GUID_CALL = re.compile(r'^Guid\("([^"]+)"\)$', re.IGNORECASE)


def _where_filter(rows: list[dict[str, Any]], where: str | None) -> list[dict[str, Any]] | Response:
    """A small part of Xero's `where`: clauses joined by AND/OR (no brackets)."""
    if not where or not where.strip():
        return rows
    try:
        alternatives = [
            [_parse_clause(c) for c in re.split(r"\s+AND\s+|\s*&&\s*", part)]
            for part in re.split(r"\s+OR\s+|\s*\|\|\s*", where.strip())
        ]
    except ValueError as exc:
        return _query_error(str(exc))
    return [r for r in rows if any(all(test(r) for test in clauses) for clauses in alternatives)]


def _parse_clause(text: str) -> Callable[[dict[str, Any]], bool]:
    m = _CLAUSE.match(text)
    if not m:
        raise ValueError(f"Unsupported where clause: {text}")
    path = m["field"].split(".")
    if m["fn"]:
        needle = m["arg"][1:-1].casefold()
        fn = {"Contains": str.__contains__, "StartsWith": str.startswith, "EndsWith": str.endswith}[m["fn"]]
        return lambda row: fn(str(_dig(row, path) or "").casefold(), needle)
    want = _literal(m["value"].strip())
    op = m["op"]

    def test(row: dict[str, Any]) -> bool:
        have = _comparable(_dig(row, path), want)
        if op in ("==", "!="):
            return (have == want) == (op == "==")
        if have is None:
            return False
        try:
            return {">": have > want, "<": have < want, ">=": have >= want, "<=": have <= want}[op]
        except TypeError:
            return False

    return test


def _literal(text: str) -> Any:
    if text.startswith('"') and text.endswith('"'):
        return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    m = _GUID_CALL.match(text)
    if m:
        return m.group(1).lower()
    m = _DATE_CALL.match(text)
    if m:
        return date(int(m[1]), int(m[2]), int(m[3]))
    try:
        return Decimal(text)
    except ArithmeticError:
        raise ValueError(f"Unsupported value in where clause: {text}") from None


def _dig(row: Mapping[str, Any], path: list[str]) -> Any:
    value: Any = row
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _comparable(value: Any, like: Any) -> Any:
    if isinstance(like, date) and isinstance(value, str):
        try:
            return parse_date(value)
        except ValueError:
            return None
    if isinstance(like, Decimal) and isinstance(value, (int, float)) and not isinstance(value, bool):
        return Decimal(str(value))
    if isinstance(like, str) and isinstance(value, str) and _looks_like_uuid(like):
        return value.lower()
    return value


def _looks_like_uuid(text: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text))


def _order(rows: list[dict[str, Any]], order: str | None) -> list[dict[str, Any]]:
    if not order:
        return rows
    for part in reversed([p.strip() for p in order.split(",") if p.strip()]):
        words = part.split()
        path, descending = words[0].split("."), len(words) > 1 and words[1].upper() == "DESC"
        rows = sorted(rows, key=lambda r: _sort_key(_dig(r, path)), reverse=descending)
    return rows


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, str):
        try:
            return (1, parse_date(value).isoformat()) if value.startswith("/Date(") else (2, value.casefold())
        except ValueError:
            return (2, value.casefold())
    return (3, value)


def _contact_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    names = {"name": "Name", "email": "EmailAddress", "first_name": "FirstName", "last_name": "LastName",
             "tax_number": "TaxNumber", "contact_number": "ContactNumber", "account_number": "AccountNumber",
             "status": "ContactStatus", "addresses": "Addresses", "phones": "Phones",
             "company_number": "CompanyNumber"}
    unknown = set(fields) - set(names)
    if unknown:
        raise TypeError(f"unknown contact field(s): {', '.join(sorted(unknown))}")
    return {names[k]: v for k, v in fields.items()}


def _known(find: Callable[..., Any], *args: Any) -> Any:
    """A hook's lookup: Xero's 404 becomes the KeyError a Python caller expects."""
    try:
        return find(*args)
    except NotFound as exc:
        raise KeyError(str(exc)) from None


# ---------------------------------------------------------------------------------------------
# Error answers


def _problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    body = {"Type": None, "Title": title, "Status": status, "Detail": detail,
            "Instance": str(uuid.uuid4()), "Extensions": {}}
    return Response.json(body, status, headers)


def _not_found() -> Response:
    return _problem(404, "Not Found", "The resource you're looking for cannot be found")


def _too_many(admission: _Admission) -> Response:
    headers = dict(admission.headers)
    headers["Retry-After"] = str(admission.retry_after)
    headers["X-Rate-Limit-Problem"] = admission.problem or "minute"
    return _problem(429, "Too Many Requests", f"Rate limit exceeded: {admission.problem}", headers)


def _validation_error(messages: Iterable[str] | None, elements: list[Any]) -> Response:
    if messages is not None:
        elements = [_echo(e, list(messages), None) for e in elements]
    return Response.json({"ErrorNumber": 10, "Type": "ValidationException",
                          "Message": "A validation exception occurred", "Elements": elements}, 400)


def _post_data_error(message: str) -> Response:
    return Response.json({"ErrorNumber": 14, "Type": "PostDataInvalidException", "Message": message}, 400)


def _query_error(message: str) -> Response:
    return Response.json({"ErrorNumber": 16, "Type": "QueryParseException", "Message": message}, 400)
