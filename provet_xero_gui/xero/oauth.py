"""Signing in to Xero as a desktop (public) client: authorization code + PKCE, loopback callback.

No client secret exists in a desktop app, so the code is bound to this run by a PKCE S256 verifier and a
random `state`. The browser comes back to `http://localhost:<port>/callback`; the listener binds to
127.0.0.1 only, answers exactly one valid callback, and closes after success, cancel, error or timeout.
Each connection is served on its own thread with its own timeout, so an idle connection (a browser opens
spare ones to the same address) never holds up the real callback.
"""

from __future__ import annotations

import base64
import hashlib
import html
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn
from urllib.parse import parse_qs, urlencode, urlsplit

from provet_xero_gui import redact
from provet_xero_gui.settings import DEFAULT_XERO_SCOPES, GRANULAR_XERO_SCOPES, OLDER_XERO_SCOPES

log = logging.getLogger(__name__)

# The redirect URIs registered for the provet-xero app at Xero (developer.xero.com → My Apps → the app →
# Redirect URIs). Xero needs exact URIs, so the listener tries these ports in order.
REDIRECT_PORTS: tuple[int, ...] = (47651, 47652, 47653, 47654, 47655)
CALLBACK_PATH = "/callback"
SCOPES = DEFAULT_XERO_SCOPES
SIGN_IN_TIMEOUT_SECONDS = 300
CONNECTION_TIMEOUT_SECONDS = 10.0  # one connection that sends nothing (a browser's preconnect) is dropped after this


def redirect_uri(port: int) -> str:
    return f"http://localhost:{port}{CALLBACK_PATH}"


class SignInError(Exception):
    """Sign-in did not complete; the message says why in plain words."""


class SignInCancelled(SignInError):
    pass


def scope_advice(requested: str) -> str:
    """What to change when Xero refuses the scopes asked for (`invalid_scope`), in plain words."""
    asked = set(requested.split())
    if "accounting.transactions" in asked:
        other, why = GRANULAR_XERO_SCOPES, "the Xero app was registered on or after 2 March 2026"
    else:
        other, why = OLDER_XERO_SCOPES, "the Xero app was registered before 2 March 2026"
    return (
        "Xero refused the permissions provet-xero asked for (invalid_scope). This usually means "
        f"{why} and expects the other set of permissions. In the settings file, set \"xero_scopes\" to "
        f"\"{other}\", then sign in to Xero again. If that is refused too, check the app's scopes at "
        "developer.xero.com (My Apps)."
    )


@dataclass(frozen=True)
class Pkce:
    verifier: str
    challenge: str
    state: str

    @classmethod
    def new(cls) -> Pkce:
        verifier = secrets.token_urlsafe(64)[:96]  # 43–128 chars of [A-Za-z0-9-_]
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        redact.remember(verifier)  # kept out of any crash report
        return cls(verifier, challenge, secrets.token_urlsafe(24))


def authorize_url(login_url: str, client_id: str, redirect: str, pkce: Pkce, scopes: str = SCOPES) -> str:
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect,
            "scope": scopes,
            "state": pkce.state,
            "code_challenge": pkce.challenge,
            "code_challenge_method": "S256",
        }
    )
    return f"{login_url.rstrip('/')}/identity/connect/authorize?{query}"


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>provet-xero</title>
<style>body{{font-family:sans-serif;max-width:32em;margin:4em auto;color:#222}}</style></head>
<body><h1>{title}</h1><p>{text}</p></body></html>"""


@dataclass(frozen=True)
class CallbackResult:
    code: str


class CallbackListener:
    """One-shot HTTP listener on 127.0.0.1 for Xero's redirect."""

    def __init__(
        self,
        state: str,
        ports: Sequence[int] = REDIRECT_PORTS,
        *,
        scopes: str = SCOPES,
        connection_timeout: float = CONNECTION_TIMEOUT_SECONDS,
    ) -> None:
        if "offline_access" not in scopes.split():
            # Checked before anything is opened: without it Xero gives no refresh token, and the app would be
            # signed out after 30 minutes.
            raise SignInError(
                "The \"xero_scopes\" setting must include offline_access, or Xero would sign provet-xero out "
                f"after 30 minutes. In the settings file, set \"xero_scopes\" to \"{GRANULAR_XERO_SCOPES}\" (or, "
                f"for a Xero app registered before 2 March 2026, \"{OLDER_XERO_SCOPES}\"), then sign in again."
            )
        self._state = state
        self._scopes = scopes
        self.connection_timeout = connection_timeout
        self._done = threading.Event()
        self._finish_lock = threading.Lock()
        self._answering = 0  # requests being answered now (idle connections are not counted)
        self._answered = threading.Condition()
        self._result: CallbackResult | None = None
        self._error: SignInError | None = None
        self._server = self._bind(ports)
        self.port = self._server.server_address[1]
        self.redirect_uri = redirect_uri(self.port)
        self._thread = threading.Thread(target=self._serve, name="xero-callback", daemon=True)
        self._thread.start()

    def _bind(self, ports: Sequence[int]) -> HTTPServer:
        handler = _make_handler(self)
        for port in ports:
            try:
                return _LoopbackServer(("127.0.0.1", port), handler)
            except OSError as exc:
                log.info("callback port %d is not free (%s); trying the next one", port, exc.strerror)
        raise SignInError(
            "None of the ports provet-xero may use for the Xero sign-in is free "
            f"({', '.join(map(str, ports))}). Close the program using them and try again."
        )

    def _serve(self) -> None:
        while not self._done.is_set():
            self._server.handle_request()  # times out every 0.5 s to look at _done

    def _finish(self, result: CallbackResult | None, error: SignInError | None) -> bool:
        """The first answer (or cancel/timeout) wins; False when one came first (connections run at once)."""
        with self._finish_lock:
            if self._done.is_set():
                return False
            self._result, self._error = result, error
            self._done.set()
            return True

    def cancel(self) -> None:
        if not self._done.is_set():
            self._finish(None, SignInCancelled("Sign-in to Xero was cancelled."))

    def wait(self, timeout: float = SIGN_IN_TIMEOUT_SECONDS, should_cancel: Callable[[], bool] | None = None) -> str:
        """The authorization code; raises SignInError on deny, bad state, cancel or timeout. Always closes."""
        deadline = time.monotonic() + timeout
        try:
            while not self._done.wait(0.2):
                if should_cancel and should_cancel():
                    self.cancel()
                elif time.monotonic() > deadline:
                    self._finish(
                        None,
                        SignInError(
                            f"No answer came from the browser within {int(timeout // 60) or 1} minutes. "
                            "Start the sign-in again."
                        ),
                    )
        finally:
            self.close()
        if self._error:
            raise self._error
        assert self._result is not None
        return self._result.code

    def close(self) -> None:
        self._done.set()
        self._thread.join(timeout=2)
        with self._answered:  # the browser gets its page before the app (or the process) moves on
            self._answered.wait_for(lambda: self._answering == 0, timeout=2)
        self._server.server_close()

    def answering(self, delta: int) -> None:
        with self._answered:
            self._answering += delta
            self._answered.notify_all()

    # Called on the listener thread for each request.
    def handle(self, path: str) -> tuple[int, str, str]:
        """(status, title, text) for the browser."""
        parts = urlsplit(path)
        if parts.path != CALLBACK_PATH or self._done.is_set():
            return 404, "Not found", "This address is only for the provet-xero sign-in."
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if query.get("state") != self._state:
            # Not ours (stale tab, or a forged request): refuse, keep waiting for the real answer.
            log.warning("Xero sign-in callback with a wrong or missing state was refused")
            return 400, "Sign-in not accepted", "This sign-in answer does not belong to the current sign-in."
        error = query.get("error")
        if error:
            if error == "access_denied":
                msg = "Access to Xero was not allowed (Deny was chosen). Sign in again and choose Allow."
            elif error == "invalid_scope":
                msg = scope_advice(self._scopes)
            else:
                msg = f"Xero did not complete the sign-in ({error}). Try again."
            self._finish(None, SignInError(msg))
            return 200, "Sign-in not completed", html.escape(msg) + " You can close this tab."
        code = query.get("code")
        if not code:
            self._finish(None, SignInError("Xero's answer had no authorization code. Try again."))
            return 400, "Sign-in not completed", "The answer had no authorization code."
        if not self._finish(CallbackResult(code), None):
            return 404, "Not found", "This address is only for the provet-xero sign-in."
        # Not "signed in" yet: the code is still to be exchanged and the organisation chosen, and either can fail.
        return 200, "Xero answered", ("provet-xero is finishing the sign-in and shows there whether it worked. "
                                      "You can close this tab and return to provet-xero.")


class _LoopbackServer(ThreadingMixIn, HTTPServer):
    """Each connection on its own (daemon) thread: an idle one never blocks the accept loop."""

    timeout = 0.5
    daemon_threads = True
    block_on_close = False  # closing never waits for a connection that is still idle
    # POSIX: SO_REUSEADDR lets a port whose last sign-in left TIME_WAIT connections be bound again, while
    # a port another program listens on is still refused. Windows' SO_REUSEADDR would allow stealing a port
    # in use, so there it stays off and SO_EXCLUSIVEADDRUSE is set instead.
    allow_reuse_address = os.name == "posix"

    def server_bind(self) -> None:
        if hasattr(socket, "SO_EXCLUSIVEADDRUSE"):
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
        super().server_bind()


def _make_handler(listener: CallbackListener) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        timeout = listener.connection_timeout  # per connection: an idle one is dropped, not waited on for ever

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
            pass  # the query string holds the authorization code: never log it

        def do_GET(self) -> None:
            listener.answering(+1)
            try:
                status, title, text = listener.handle(self.path)
                body = _PAGE.format(title=html.escape(title), text=text).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
            finally:
                listener.answering(-1)

    return _Handler
