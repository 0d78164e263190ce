"""The simulated Xero sign-in: consent page, PKCE authorization codes, token rotation, connections.

Plain state plus the HTML/JSON answers of login.xero.com and identity.xero.com; `xero_server`
routes HTTP to it. Every lifetime reads the sandbox clock. Tokens are random strings from
`secrets` and are never logged.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import logging
import re
import secrets
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from provet_xero_gui.sandbox.clock import SandboxClock
from provet_xero_gui.sandbox.httpbase import Request, Response

log = logging.getLogger(__name__)

ACCESS_TOKEN_SECONDS = 30 * 60
REFRESH_TOKEN_SECONDS = 60 * 24 * 3600
REFRESH_GRACE_SECONDS = 30 * 60
AUTH_CODE_SECONDS = 5 * 60
CONSENT_REQUEST_SECONDS = 60 * 60

_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")

SCOPE_WORDS = {
    "openid": "Know who you are (your Xero user id)",
    "profile": "See your name",
    "email": "See your email address",
    "offline_access": "Stay connected while you are away (refresh access without asking again)",
    "accounting.transactions": "View and manage your invoices, bills, credit notes and payments",
    "accounting.transactions.read": "View your invoices, bills, credit notes and payments",
    "accounting.invoices": "View and manage your invoices and credit notes",
    "accounting.invoices.read": "View your invoices and credit notes",
    "accounting.payments": "View and manage your payments",
    "accounting.payments.read": "View your payments",
    "accounting.contacts": "View and manage your contacts",
    "accounting.contacts.read": "View your contacts",
    "accounting.settings": "View and manage your organisation settings, chart of accounts and tax rates",
    "accounting.settings.read": "View your organisation settings, chart of accounts and tax rates",
}
# Xero's granular scopes (apps created since 2 March 2026) and the broad one they replaced (older apps). An app
# may ask only for its own generation's scopes; the other generation's are refused with `invalid_scope`.
GRANULAR_SCOPES = frozenset({"accounting.invoices", "accounting.invoices.read", "accounting.payments",
                             "accounting.payments.read"})
BROAD_SCOPES = frozenset({"accounting.transactions", "accounting.transactions.read"})


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    name: str


@dataclass(frozen=True)
class Connection:
    id: str
    tenant_id: str
    tenant_name: str
    auth_event_id: str
    created: datetime
    updated: datetime

    def to_json(self) -> dict[str, str]:
        return {
            "id": self.id,
            "authEventId": self.auth_event_id,
            "tenantId": self.tenant_id,
            "tenantType": "ORGANISATION",
            "tenantName": self.tenant_name,
            "createdDateUtc": _iso(self.created),
            "updatedDateUtc": _iso(self.updated),
        }


@dataclass(frozen=True)
class AuthRequest:
    """A validated /authorize request waiting for the user's Allow or Deny."""

    request_id: str
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    challenge: str
    created: float


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str
    scopes: tuple[str, ...]
    grant_id: str
    issued: float
    used: bool = False


@dataclass
class _Grant:
    """One consent (Xero's authEventId): the scopes and the chain of tokens that came from it."""

    grant_id: str
    client_id: str
    scopes: tuple[str, ...]
    revoked: bool = False


@dataclass
class _RefreshToken:
    grant_id: str
    issued: float
    replaced_at: float | None = None  # first rotation; the grace period runs from here


@dataclass
class _AccessToken:
    grant_id: str
    expires: float


@dataclass(frozen=True)
class AccessInfo:
    """Who is calling with a valid access token."""

    client_id: str
    grant_id: str
    scopes: frozenset[str]
    tenant_ids: frozenset[str] = field(default_factory=frozenset)


class TokenProblem(Exception):
    """An access token that cannot be used; `detail` is Xero's Detail text."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class XeroIdentity:
    """Clients, consents, codes, tokens and connections for the one demo user."""

    def __init__(
        self,
        clock: SandboxClock,
        clients: Mapping[str, Sequence[str]],
        tenants: Sequence[Tenant],
        app_names: Mapping[str, str] | None = None,
    ) -> None:
        self._clock = clock
        self._clients = {cid: tuple(uris) for cid, uris in clients.items()}
        self._app_names = dict(app_names or {})
        self._tenants = list(tenants)
        self._lock = threading.RLock()
        self._pending: dict[str, AuthRequest] = {}
        self._codes: dict[str, _Code] = {}
        self._grants: dict[str, _Grant] = {}
        self._refresh: dict[str, _RefreshToken] = {}
        self._access: dict[str, _AccessToken] = {}
        self._connections: dict[tuple[str, str], Connection] = {}  # (client_id, tenant_id)
        self.older_apps: set[str] = set()  # client ids of apps registered before the granular scopes

    # -- login.xero.com -----------------------------------------------------------------------

    def authorize_page(self, req: Request) -> Response:
        """GET /identity/connect/authorize: check the request, then show the consent page."""
        client_id = req.arg("client_id") or ""
        redirect_uri = req.arg("redirect_uri") or ""
        if client_id not in self._clients:
            return _error_page("unauthorized_client", "Unknown client or client not enabled.")
        if redirect_uri not in self._clients[client_id]:
            return _error_page("invalid_request", "Invalid redirect_uri: it is not registered for this app.")
        state = req.arg("state")
        problem = self._authorize_problem(req, client_id)
        if problem:
            return Response.redirect(_with_query(redirect_uri, {"error": problem[0],
                                                                "error_description": problem[1], "state": state}))
        scopes = tuple(dict.fromkeys((req.arg("scope") or "").split()))
        now = self._clock.seconds()
        request = AuthRequest(
            secrets.token_urlsafe(18), client_id, redirect_uri, scopes, state, req.arg("code_challenge") or "", now
        )
        with self._lock:
            self._pending = {k: v for k, v in self._pending.items() if now - v.created < CONSENT_REQUEST_SECONDS}
            self._pending[request.request_id] = request
        return Response.html(self._consent_html(request), headers={"Cache-Control": "no-store"})

    def _authorize_problem(self, req: Request, client_id: str = "") -> tuple[str, str] | None:
        if req.arg("response_type") != "code":
            return "unsupported_response_type", "response_type must be 'code'."
        if not req.arg("code_challenge"):
            return "invalid_request", "code_challenge is required (PKCE) for this app."
        if req.arg("code_challenge_method") != "S256":
            return "invalid_request", "code_challenge_method must be S256."
        scopes = (req.arg("scope") or "").split()
        if not scopes:
            return "invalid_scope", "At least one scope is required."
        unknown = [s for s in scopes if s not in SCOPE_WORDS]
        if unknown:
            return "invalid_scope", f"Unknown scope: {' '.join(unknown)}"
        other = BROAD_SCOPES if client_id not in self.older_apps else GRANULAR_SCOPES
        refused = [s for s in scopes if s in other]
        if refused:
            return "invalid_scope", f"This app cannot request these scopes: {' '.join(refused)}"
        return None

    def consent_submit(self, req: Request) -> Response:
        """POST /identity/connect/authorize: the user's Allow (with organisations) or Deny."""
        form = parse_qs(req.body.decode("utf-8"), keep_blank_values=True)
        request_id = (form.get("request_id") or [""])[-1]
        action = (form.get("action") or [""])[-1]
        with self._lock:
            request = self._pending.pop(request_id, None)
        if request is None:
            return _error_page("invalid_request", "This sign-in request has expired or was already answered.")
        if action != "allow":
            return Response.redirect(_with_query(request.redirect_uri,
                                                 {"error": "access_denied", "state": request.state}))
        chosen = [t for t in form.get("tenant", []) if any(x.tenant_id == t for x in self._tenants)]
        if not chosen:
            with self._lock:
                self._pending[request.request_id] = request
            return Response.html(self._consent_html(request, "Choose at least one organisation."), 400)
        code = self.approve(request, chosen)
        return Response.redirect(_with_query(request.redirect_uri, {"code": code, "state": request.state}))

    def pending(self, request_id: str) -> AuthRequest | None:
        with self._lock:
            return self._pending.get(request_id)

    def approve(self, request: AuthRequest, tenant_ids: Sequence[str]) -> str:
        """Record the consent and its connections; returns the authorization code."""
        now = self._clock.seconds()
        when = self._clock.now()
        grant = _Grant(str(uuid.uuid4()), request.client_id, request.scopes)
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._pending.pop(request.request_id, None)
            self._grants[grant.grant_id] = grant
            self._codes[code] = _Code(request.client_id, request.redirect_uri, request.challenge,
                                      request.scopes, grant.grant_id, now)
            for tenant in self._tenants:
                if tenant.tenant_id not in tenant_ids:
                    continue
                key = (request.client_id, tenant.tenant_id)
                old = self._connections.get(key)
                self._connections[key] = (
                    replace(old, auth_event_id=grant.grant_id, updated=when) if old
                    else Connection(str(uuid.uuid4()), tenant.tenant_id, tenant.name, grant.grant_id, when, when)
                )
        log.info("sandbox xero: consent given for %d organisation(s)", len(tenant_ids))
        return code

    def _consent_html(self, request: AuthRequest, problem: str = "") -> str:
        app = html.escape(self._app_names.get(request.client_id, request.client_id))
        orgs = "\n".join(
            f'<li><label><input type="checkbox" name="tenant" value="{html.escape(t.tenant_id)}" checked> '
            f"{html.escape(t.name)}</label></li>"
            for t in self._tenants
        )
        scopes = "\n".join(f"<li>{html.escape(SCOPE_WORDS.get(s, s))}</li>" for s in request.scopes)
        warning = f'<p class="problem" role="alert">{html.escape(problem)}</p>' if problem else ""
        body = _CONSENT_BODY.format(
            app=app, orgs=orgs, scopes=scopes, warning=warning, request_id=html.escape(request.request_id)
        )
        return _page(f"Xero | Connect {self._app_names.get(request.client_id, request.client_id)}", body)

    # -- identity.xero.com --------------------------------------------------------------------

    def token(self, req: Request) -> Response:
        """POST /connect/token: authorization_code (with PKCE) or refresh_token."""
        form = req.form()
        client_id = form.get("client_id") or _basic_client_id(req.header("authorization"))
        if not client_id or client_id not in self._clients:
            return _oauth_error("invalid_client", 400)
        grant_type = form.get("grant_type")
        with self._lock:
            if grant_type == "authorization_code":
                return self._redeem_code(form, client_id)
            if grant_type == "refresh_token":
                return self._redeem_refresh(form, client_id)
        return _oauth_error("unsupported_grant_type", 400)

    def _redeem_code(self, form: Mapping[str, str], client_id: str) -> Response:
        code = self._codes.get(form.get("code", ""))
        now = self._clock.seconds()
        if code is None or code.used or now - code.issued > AUTH_CODE_SECONDS:
            return _oauth_error("invalid_grant", 400)
        code.used = True  # single use, whatever happens next
        if code.client_id != client_id or code.redirect_uri != form.get("redirect_uri"):
            return _oauth_error("invalid_grant", 400)
        verifier = form.get("code_verifier", "")
        if not _VERIFIER.match(verifier) or _s256(verifier) != code.challenge:
            return _oauth_error("invalid_grant", 400)
        grant = self._grants[code.grant_id]
        return Response.json(self._issue(grant, with_id_token=True), headers=_NO_STORE)

    def _redeem_refresh(self, form: Mapping[str, str], client_id: str) -> Response:
        token = form.get("refresh_token", "")
        record = self._refresh.get(token)
        now = self._clock.seconds()
        if record is None:
            return _oauth_error("invalid_grant", 400)
        grant = self._grants[record.grant_id]
        expired = now - record.issued > REFRESH_TOKEN_SECONDS
        past_grace = record.replaced_at is not None and now - record.replaced_at > REFRESH_GRACE_SECONDS
        if grant.revoked or grant.client_id != client_id or expired or past_grace:
            return _oauth_error("invalid_grant", 400)
        if record.replaced_at is None:
            record.replaced_at = now
        return Response.json(self._issue(grant, with_id_token=False), headers=_NO_STORE)

    def _issue(self, grant: _Grant, *, with_id_token: bool) -> dict[str, object]:
        now = self._clock.seconds()
        access = secrets.token_urlsafe(48)
        self._access[access] = _AccessToken(grant.grant_id, now + ACCESS_TOKEN_SECONDS)
        answer: dict[str, object] = {}
        if with_id_token and "openid" in grant.scopes:
            answer["id_token"] = self._id_token(grant)
        answer.update(
            {"access_token": access, "expires_in": ACCESS_TOKEN_SECONDS, "token_type": "Bearer"}
        )
        if "offline_access" in grant.scopes:
            refresh = secrets.token_hex(32)
            self._refresh[refresh] = _RefreshToken(grant.grant_id, now)
            answer["refresh_token"] = refresh
        answer["scope"] = " ".join(grant.scopes)
        return answer

    def _id_token(self, grant: _Grant) -> str:
        """JWT-shaped and unsigned (alg none): the sandbox vouches for nobody."""
        issued = int(self._clock.now().timestamp())
        claims = {
            "iss": "https://identity.xero.com", "aud": grant.client_id, "iat": issued,
            "exp": issued + 300, "sub": "sandbox-demo-user", "xero_userid": "sandbox-demo-user",
            "global_session_id": grant.grant_id, "email": "demo@example.com",
            "given_name": "Demo", "family_name": "User", "preferred_username": "demo@example.com",
        }
        return ".".join(_b64(json.dumps(part).encode()) for part in ({"alg": "none", "typ": "JWT"}, claims)) + "."

    def revoke(self, req: Request) -> Response:
        """POST /connect/revocation: ends the grant behind a refresh token, and its connections."""
        form = req.form()
        client_id = form.get("client_id") or _basic_client_id(req.header("authorization"))
        if not client_id or client_id not in self._clients:
            return _oauth_error("invalid_client", 400)
        with self._lock:
            record = self._refresh.get(form.get("token", ""))
            if record is not None and self._grants[record.grant_id].client_id == client_id:
                self._revoke_grant(record.grant_id)
        return Response(200)

    def _revoke_grant(self, grant_id: str) -> None:
        self._grants[grant_id].revoked = True
        for key, conn in list(self._connections.items()):
            if conn.auth_event_id == grant_id:
                del self._connections[key]

    # -- api.xero.com/connections -------------------------------------------------------------

    def check_access(self, authorization: str | None) -> AccessInfo:
        """Who holds this Bearer token; raises TokenProblem when it cannot be used."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise TokenProblem("AuthenticationUnsuccessful")
        token = authorization[7:].strip()
        with self._lock:
            record = self._access.get(token)
            if record is None:
                raise TokenProblem("AuthenticationUnsuccessful")
            grant = self._grants[record.grant_id]
            if grant.revoked:
                raise TokenProblem("AuthenticationUnsuccessful")
            if self._clock.seconds() >= record.expires:
                expired_at = self._clock.now() - timedelta(seconds=self._clock.seconds() - record.expires)
                raise TokenProblem(f"TokenExpired: token expired at {expired_at.strftime('%m/%d/%Y %H:%M:%S')}")
            tenants = frozenset(t for (cid, t) in self._connections if cid == grant.client_id)
            return AccessInfo(grant.client_id, grant.grant_id, frozenset(grant.scopes), tenants)

    def connections(self, client_id: str, auth_event_id: str | None = None) -> list[Connection]:
        with self._lock:
            found = [c for (cid, _t), c in self._connections.items() if cid == client_id]
        if auth_event_id:
            found = [c for c in found if c.auth_event_id == auth_event_id]
        return sorted(found, key=lambda c: c.created)

    def delete_connection(self, client_id: str, connection_id: str) -> bool:
        with self._lock:
            for key, conn in list(self._connections.items()):
                if key[0] == client_id and conn.id == connection_id:
                    del self._connections[key]
                    return True
        return False

    # -- test hooks ---------------------------------------------------------------------------

    def revoke_all_tokens(self) -> None:
        with self._lock:
            for grant_id in list(self._grants):
                self._revoke_grant(grant_id)

    def expire_access_tokens(self) -> None:
        now = self._clock.seconds()
        with self._lock:
            for record in self._access.values():
                record.expires = min(record.expires, now)

    def connect_directly(self, client_id: str, tenant_ids: Sequence[str] | None = None,
                         scopes: Sequence[str] = ()) -> dict[str, object]:
        """A token pair as if the user had signed in and allowed, without the browser."""
        if client_id not in self._clients:
            raise ValueError(f"unknown client {client_id!r}")
        chosen = list(tenant_ids) if tenant_ids is not None else [t.tenant_id for t in self._tenants]
        request = AuthRequest("direct", client_id, self._clients[client_id][0],
                              tuple(scopes) or DEFAULT_SCOPES, None, "", self._clock.seconds())
        code = self.approve(request, chosen)
        with self._lock:
            record = self._codes.pop(code)
            return self._issue(self._grants[record.grant_id], with_id_token=True)


DEFAULT_SCOPES = (
    "openid", "profile", "email", "offline_access", "accounting.invoices", "accounting.payments",
    "accounting.contacts", "accounting.settings",
)

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _s256(verifier: str) -> str:
    return _b64(hashlib.sha256(verifier.encode("ascii")).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _iso(dt: datetime) -> str:
    """RFC 3339 in UTC with a "Z", as the identity spec's date-time demands (Xero itself omits it)."""
    return dt.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _basic_client_id(header: str | None) -> str | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        return base64.b64decode(header[6:]).decode("utf-8").split(":", 1)[0]
    except (ValueError, UnicodeDecodeError):
        return None


def _with_query(uri: str, params: Mapping[str, str | None]) -> str:
    parts = urlsplit(uri)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _oauth_error(error: str, status: int) -> Response:
    return Response.json({"error": error}, status, headers=_NO_STORE)


def _error_page(code: str, message: str) -> Response:
    body = _ERROR_BODY.format(code=html.escape(code), message=html.escape(message))
    return Response.html(_page("Xero | Error", body), 400)


_STYLE = """<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f7f9;color:#1e3145;margin:0}
main{max-width:30rem;margin:3rem auto;background:#fff;border-radius:8px;padding:2rem;
box-shadow:0 2px 8px rgba(0,0,0,.12)}
h1{font-size:1.4rem;margin-top:0}h2{font-size:1rem;margin-bottom:.4rem}
ul{padding-left:1.2rem}li{margin:.3rem 0}.orgs{list-style:none;padding:0}
.buttons{display:flex;gap:1rem;margin-top:1.5rem}
button{font-size:1rem;padding:.6rem 1.4rem;border-radius:4px;border:1px solid #0078c8;cursor:pointer}
button[value=allow]{background:#0078c8;color:#fff}button[value=deny]{background:#fff;color:#0078c8}
.problem{color:#b00020;font-weight:600}.sandbox{font-size:.8rem;color:#667}
</style>"""

_CONSENT_BODY = """<h1>{app} wants to connect to your Xero organisation</h1>
<p class="sandbox">Simulated Xero (sandbox) &mdash; signed in as demo@example.com</p>
{warning}
<form id="consent" method="post" action="/identity/connect/authorize">
<input type="hidden" name="request_id" value="{request_id}">
<h2>Organisations to connect</h2>
<ul class="orgs">
{orgs}
</ul>
<h2>{app} will be able to</h2>
<ul class="scopes">
{scopes}
</ul>
<div class="buttons">
<button type="submit" name="action" value="allow">Allow access</button>
<button type="submit" name="action" value="deny">Cancel</button>
</div>
</form>"""

_ERROR_BODY = """<h1>Sorry, something went wrong</h1>
<p class="problem" role="alert">Error: {code}</p>
<p>{message}</p>
<p class="sandbox">Simulated Xero (sandbox)</p>"""


def _page(title: str, body: str) -> str:
    """A whole HTML page; the style sheet is added here so templates need no brace escaping."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"{_STYLE}</head>\n<body><main>\n{body}\n</main></body></html>\n"
    )
