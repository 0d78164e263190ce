"""The whole Xero sign-in: browser consent, code exchange, organisation choice, saving the result.

Used by `provet-xero connect xero` and by the setup window (which runs it on a worker thread and passes
`should_cancel`). Tokens go to the keyring; the chosen organisation's id and name go to settings.
"""

from __future__ import annotations

import logging
import time
import webbrowser
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from provet_xero_gui.credentials import Credentials
from provet_xero_gui.settings import SettingsFile, XeroSettings
from provet_xero_gui.xero.identity import IdentityClient, Tenant, XeroAuthError
from provet_xero_gui.xero.oauth import (
    REDIRECT_PORTS,
    SIGN_IN_TIMEOUT_SECONDS,
    CallbackListener,
    Pkce,
    authorize_url,
)

log = logging.getLogger(__name__)


class ChooseOrganisation(XeroAuthError):
    """Several organisations are connected and none was named, or the one named (`wanted`) is not among
    them; `tenants` lists those connected."""

    def __init__(self, tenants: Sequence[Tenant], wanted: str | None = None) -> None:
        names = "; ".join(f"{t.name} ({t.tenant_id})" for t in tenants)
        if wanted:
            connected = "The organisation connected is" if len(tenants) == 1 else "The organisations connected are"
            message = (f"No connected Xero organisation is called '{wanted}' or has that id. {connected}: "
                       f"{names}. Choose one with --tenant.")
        else:
            message = f"Several Xero organisations are connected; choose one with --tenant: {names}"
        super().__init__(message)
        self.tenants = tuple(tenants)
        self.wanted = wanted


@dataclass(frozen=True)
class SignInResult:
    tenant: Tenant
    tenants: tuple[Tenant, ...]


def choose_tenant(tenants: Sequence[Tenant], wanted: str | None) -> Tenant:
    if not tenants:
        raise XeroAuthError("No Xero organisation was connected. Sign in again and tick the clinic's organisation.")
    if wanted:
        matches = [t for t in tenants if wanted in (t.tenant_id, t.name)] or [
            t for t in tenants if t.name.casefold() == wanted.casefold()
        ]
        if len(matches) != 1:
            raise ChooseOrganisation(tenants, wanted) if not matches else XeroAuthError(
                f"More than one Xero organisation is called '{wanted}'; give its id instead."
            )
        return matches[0]
    if len(tenants) == 1:
        return tenants[0]
    raise ChooseOrganisation(tenants)


def sign_in(
    identity: IdentityClient,
    login_url: str,
    credentials: Credentials,
    settings_file: SettingsFile,
    *,
    tenant: str | None = None,
    show_url: Callable[[str, bool], None] | None = None,
    open_browser: Callable[[str], bool] | None = webbrowser.open,
    should_cancel: Callable[[], bool] | None = None,
    timeout: float = SIGN_IN_TIMEOUT_SECONDS,
    ports: Sequence[int] = REDIRECT_PORTS,
) -> SignInResult:
    """Runs the browser flow to the end. `show_url(url, opened)` tells the person where to go.

    With several organisations and no `tenant`, the tokens are kept and ChooseOrganisation is raised;
    `select_tenant` then finishes without a second sign-in."""
    pkce = Pkce.new()
    scopes = settings_file.load().settings.xero_scopes
    listener = CallbackListener(pkce.state, ports, scopes=scopes)
    url = authorize_url(login_url, identity.client_id, listener.redirect_uri, pkce, scopes)
    opened = False
    if open_browser is not None:
        try:
            opened = bool(open_browser(url))
        except Exception as exc:  # a missing browser must not end the sign-in: the URL is shown instead
            log.warning("could not open the browser: %s", exc)
    if show_url is not None:
        show_url(url, opened)
    elif not opened:
        listener.close()
        raise XeroAuthError("No browser could be opened for the Xero sign-in; use --no-browser.")
    code = listener.wait(timeout, should_cancel)
    tokens = identity.exchange_code(code, listener.redirect_uri, pkce.verifier)
    credentials.save_xero_tokens(tokens)
    settings_file.change(lambda s: replace(s, keyring_backend=credentials.backend_name))
    tenants = tuple(identity.connections(tokens.access_token))
    chosen = choose_tenant(tenants, tenant)
    _save_tenant(settings_file, chosen)
    return SignInResult(chosen, tenants)


def select_tenant(identity: IdentityClient, access_token: str, settings_file: SettingsFile, wanted: str) -> Tenant:
    chosen = choose_tenant(identity.connections(access_token), wanted)
    _save_tenant(settings_file, chosen)
    return chosen


def _save_tenant(settings_file: SettingsFile, tenant: Tenant) -> None:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    xero = XeroSettings(tenant_id=tenant.tenant_id, tenant_name=tenant.name, connected_at=now,
                        refresh_token_used_at=now)
    settings_file.update(xero=xero)
    log.info("connected to the Xero organisation %s", tenant.name)


def record_refresh(settings_file: SettingsFile) -> Callable[[float], None]:
    """A TokenManager hook that keeps the date the refresh token was last used (60-day expiry warning)."""

    def hook(at: float) -> None:
        when = datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")
        settings_file.change(lambda s: replace(s, xero=replace(s.xero, refresh_token_used_at=when)))

    return hook


def refresh_token_days_left(settings: XeroSettings, now: float | None = None) -> float | None:
    """Days until the refresh token dies unused (60 days after its last use), or None if unknown."""
    if not settings.refresh_token_used_at:
        return None
    used = datetime.fromisoformat(settings.refresh_token_used_at).timestamp()
    return 60 - ((now if now is not None else time.time()) - used) / 86400
