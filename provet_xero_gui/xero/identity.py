"""Xero's identity endpoints: exchange a code, refresh, revoke, and list connected organisations.

Plain `requests` calls (xero-python cannot refresh a PKCE token without a client secret). Errors are
`XeroAuthError` with a plain message; a refresh token Xero no longer accepts is `XeroConnectionEnded`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from provet_xero_gui.credentials import XeroTokenSet
from provet_xero_gui.http_body import AnswerTooSlow, read_body_by
from provet_xero_gui.settings import Endpoints

log = logging.getLogger(__name__)

TIMEOUT = (10, 30)  # connect, read: each wait for a byte
REQUEST_DEADLINE_SECONDS = 60.0  # a whole answer, however slowly it comes


class XeroAuthError(Exception):
    """Talking to Xero's sign-in service failed; the message is for people and holds no secret."""


class XeroConnectionEnded(XeroAuthError):
    """Xero no longer accepts the stored sign-in (revoked, expired after 60 days unused, or replaced)."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "The Xero connection has ended — sign in to Xero again." + (f" ({detail})" if detail else "")
        )


class XeroAnswerLost(XeroAuthError):
    """The request may have reached Xero but no usable answer came back (network cut, timeout, 5xx)."""


class XeroSignInBusy(XeroAuthError):
    """Xero's sign-in service said "too many requests" (429): nothing was done, try again later."""


@dataclass(frozen=True)
class Tenant:
    connection_id: str
    tenant_id: str
    name: str
    tenant_type: str


class IdentityClient:
    def __init__(
        self,
        identity_url: str,
        api_url: str,
        client_id: str,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        request_deadline: float = REQUEST_DEADLINE_SECONDS,
    ) -> None:
        self.request_deadline = request_deadline
        if not client_id:
            raise XeroAuthError(
                "This copy of provet-xero has no Xero app client id. Set PROVET_XERO_XERO_CLIENT_ID to the "
                "client id of your Xero app (developer.xero.com → My Apps)."
            )
        self.identity_url = identity_url.rstrip("/")
        self.api_url = api_url.rstrip("/")
        self.client_id = client_id
        self._session = session or requests.Session()
        self._clock = clock

    @classmethod
    def for_endpoints(cls, endpoints: Endpoints) -> IdentityClient:
        """The identity client of the configured Xero (or the sandbox's, when overridden)."""
        return cls(endpoints.xero_identity_url, endpoints.xero_api_url, endpoints.xero_client_id)

    def exchange_code(self, code: str, redirect_uri: str, verifier: str) -> XeroTokenSet:
        return self._token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": self.client_id,
                "code_verifier": verifier,
            }
        )

    def refresh(self, refresh_token: str) -> XeroTokenSet:
        return self._token_request(
            {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": self.client_id}
        )

    def revoke(self, refresh_token: str) -> None:
        try:
            resp = self._session.post(
                f"{self.identity_url}/connect/revocation",
                data={"token": refresh_token, "client_id": self.client_id},
                timeout=TIMEOUT,
            )
        except requests.RequestException:
            raise XeroAuthError("Xero could not be reached to end the connection.") from None
        if resp.status_code >= 400 and _oauth_error(resp) != "invalid_grant":
            raise XeroAuthError(f"Xero refused to end the connection (HTTP {resp.status_code}).")

    def connections(self, access_token: str) -> list[Tenant]:
        try:
            resp = self._session.get(
                f"{self.api_url}/connections",
                headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
                timeout=TIMEOUT,
            )
        except requests.RequestException:
            raise XeroAnswerLost("Xero could not be reached to list your organisations. Try again.") from None
        if resp.status_code == 401:
            raise XeroConnectionEnded("Xero refused the sign-in when listing organisations")
        if resp.status_code != 200:
            raise XeroAuthError(f"Xero could not list your organisations (HTTP {resp.status_code}). Try again.")
        data = _json(resp)
        if not isinstance(data, list):
            raise XeroAuthError("Xero's list of organisations was not understood.")
        return [
            Tenant(
                connection_id=str(c.get("id", "")),
                tenant_id=str(c.get("tenantId", "")),
                name=str(c.get("tenantName") or "(unnamed organisation)"),
                tenant_type=str(c.get("tenantType", "")),
            )
            for c in data
            if isinstance(c, dict) and c.get("tenantType", "ORGANISATION") == "ORGANISATION"
        ]

    def _token_request(self, form: dict[str, str]) -> XeroTokenSet:
        grant = form["grant_type"]
        try:
            resp = self._session.post(f"{self.identity_url}/connect/token", data=form, timeout=TIMEOUT, stream=True)
            read_body_by(resp, time.monotonic() + self.request_deadline)
        except AnswerTooSlow:
            raise XeroAnswerLost(
                f"Xero's sign-in service answered too slowly (not complete after {self.request_deadline:.0f} "
                "seconds)."
            ) from None
        except requests.RequestException:
            raise XeroAnswerLost("Xero's sign-in service did not answer.") from None
        if resp.status_code >= 500:
            status = resp.status_code
            raise XeroAnswerLost(f"Xero is unavailable right now: its sign-in service answered HTTP {status}.")
        if resp.status_code == 429:
            raise XeroSignInBusy("Xero is busy right now: its sign-in service answered that there were too many "
                                 "requests.")
        if resp.status_code != 200:
            error = _oauth_error(resp)
            if error == "invalid_grant":
                if grant == "refresh_token":
                    raise XeroConnectionEnded()
                raise XeroAuthError("Xero did not accept the sign-in code (it was used or expired). Sign in again.")
            if error == "invalid_client":
                raise XeroAuthError("Xero does not know this app's client id. Check PROVET_XERO_XERO_CLIENT_ID.")
            raise XeroAuthError(f"Xero's sign-in service refused the request ({error or resp.status_code}).")
        data = _json(resp)
        try:
            return XeroTokenSet(
                access_token=str(data["access_token"]),
                refresh_token=str(data["refresh_token"]),
                expires_at=self._clock() + float(data.get("expires_in", 1800)),
                scope=str(data.get("scope", "")),
                token_type=str(data.get("token_type", "Bearer")),
            )
        except (KeyError, TypeError, ValueError):
            raise XeroAuthError(
                "Xero's sign-in answer had no refresh token; the app needs the offline_access scope."
            ) from None


def _json(resp: requests.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        raise XeroAnswerLost("Xero's answer was not readable.") from None


def _oauth_error(resp: requests.Response) -> str | None:
    try:
        data = resp.json()
    except ValueError:
        return None
    return str(data.get("error")) if isinstance(data, dict) and data.get("error") else None
