"""Opening the connections a sync needs from a profile: the Provet client, the Xero client and its token
manager. Every entry point (command line, window, demo) goes through here, so "not connected" reads the
same everywhere.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from provet_xero_gui.credentials import Credentials, CredentialsError
from provet_xero_gui.profile import Profile
from provet_xero_gui.provet.client import ProvetClient
from provet_xero_gui.xero.client import XeroClient
from provet_xero_gui.xero.identity import IdentityClient, XeroAuthError
from provet_xero_gui.xero.limits import XeroLimiter
from provet_xero_gui.xero.signin import record_refresh
from provet_xero_gui.xero.tokens import TokenManager


class NotConnected(Exception):
    """A connection the command needs is not set up; the message says which and how to fix it."""


@dataclass(frozen=True)
class Connections:
    provet: ProvetClient
    xero: XeroClient
    tokens: TokenManager
    credentials: Credentials


def open_provet(
    profile: Profile,
    credentials: Credentials,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> ProvetClient:
    s = profile.settings
    url = s.provet.url or profile.endpoints.provet_url
    if not (url and s.provet.client_id):
        raise NotConnected("Provet Cloud is not connected. Run `provet-xero connect provet` first.")
    try:
        secret = credentials.load_provet_secret()
    except CredentialsError as exc:
        raise NotConnected(str(exc)) from None
    if not secret:
        raise NotConnected("The Provet client secret is not in the keyring. Run `provet-xero connect provet` again.")
    return ProvetClient(url, s.provet.client_id, secret, sleep=sleep, monotonic=clock)


def open_xero(
    profile: Profile,
    credentials: Credentials,
    *,
    limiter: XeroLimiter | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[XeroClient, TokenManager]:
    s = profile.settings
    if not s.xero.tenant_id:
        raise NotConnected("Xero is not connected. Run `provet-xero connect xero` first.")
    try:
        identity = IdentityClient.for_endpoints(profile.endpoints)
    except XeroAuthError as exc:
        raise NotConnected(str(exc)) from None
    tokens = TokenManager(credentials, identity, on_refreshed=record_refresh(profile.settings_file))
    client = XeroClient(profile.endpoints.xero_api_url, s.xero.tenant_id, tokens, limiter=limiter, sleep=sleep)
    return client, tokens


def open_connections(
    profile: Profile,
    *,
    limiter: XeroLimiter | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Connections:
    """`limiter`, `sleep` and `clock` pace both services; a test or the benchmark passes the sandbox's."""
    credentials = profile.credentials()
    provet = open_provet(profile, credentials, sleep=sleep, clock=clock)
    xero, tokens = open_xero(profile, credentials, limiter=limiter, sleep=sleep)
    return Connections(provet, xero, tokens, credentials)
