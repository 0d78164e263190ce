"""The one place that hands out Xero access tokens and refreshes them.

Xero rotates the refresh token on every refresh, so the order matters: the new pair is saved to the
keyring *before* the new access token is used. If the refresh answer is lost, the old refresh token still
works for Xero's 30-minute grace window, so the refresh is tried once more with it (and a process killed
between getting and saving a pair recovers the same way on its next start). Threads that need a token at
the same time share one refresh.

A keyring that is locked or gone in the middle of a sync is `XeroTokensUnavailable`: both a
`CredentialsError` and a `XeroApiError`, so the pass that needed the token stops with the keyring's own
plain message (the journal keeps what was under way) instead of an "unexpected error".
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from provet_xero_gui.credentials import Credentials, CredentialsError, XeroTokenSet
from provet_xero_gui.xero.client import XeroApiError
from provet_xero_gui.xero.identity import (
    IdentityClient,
    XeroAnswerLost,
    XeroAuthError,
    XeroConnectionEnded,
    XeroSignInBusy,
)

log = logging.getLogger(__name__)

REFRESH_MARGIN_SECONDS = 120  # refresh this long before the access token expires


class NotSignedIn(XeroConnectionEnded):
    def __init__(self) -> None:
        Exception.__init__(self, "provet-xero is not signed in to Xero. Run `provet-xero connect xero` first.")


class XeroTokensUnavailable(XeroApiError, CredentialsError):
    """The keyring could not be read or written while a Xero token was needed; the message says why."""

    def __init__(self, message: str) -> None:
        XeroApiError.__init__(self, message)


class XeroSignInUnavailable(XeroApiError, XeroAuthError):
    """Xero's sign-in service was busy (429), unavailable (5xx) or silent when the tokens needed renewing: the
    pass stops with "will retry" words (a `XeroApiError` the engine knows), not as an unexpected error."""

    def __init__(self, message: str) -> None:
        XeroApiError.__init__(
            self, message + " The sync stopped here and tries again on its next pass; nothing is lost.", lost=True
        )


_NEW_PAIR_NOT_SAVED = (
    " Xero's renewed sign-in was not used. The previous one keeps working for 30 minutes: unlock the keyring "
    "and sync again within that time, or sign in to Xero again later."
)


class TokenManager:
    def __init__(
        self,
        credentials: Credentials,
        identity: IdentityClient,
        *,
        clock: Callable[[], float] = time.time,
        on_refreshed: Callable[[float], None] | None = None,
    ) -> None:
        self._credentials = credentials
        self._identity = identity
        self._clock = clock
        self._on_refreshed = on_refreshed
        self._lock = threading.Lock()
        self._current: XeroTokenSet | None = None
        self.refreshes = 0

    def _fresh(self, tokens: XeroTokenSet | None) -> bool:
        return tokens is not None and tokens.expires_at - REFRESH_MARGIN_SECONDS > self._clock()

    def access_token(self) -> str:
        current = self._current
        if self._fresh(current):
            assert current is not None
            return current.access_token
        with self._lock:
            # Another thread (or process) may have refreshed while we waited: look again.
            try:
                stored = self._credentials.load_xero_tokens()
            except CredentialsError as exc:
                raise XeroTokensUnavailable(str(exc)) from None
            if stored is None:
                raise NotSignedIn()
            if self._fresh(stored):
                self._current = stored
                return stored.access_token
            self._current = self._refresh(stored)
            return self._current.access_token

    def invalidate(self, access_token: str) -> None:
        """Xero refused this access token (401): the next call to access_token() refreshes."""
        with self._lock:
            if self._current is not None and self._current.access_token == access_token:
                self._current = XeroTokenSet(
                    self._current.access_token, self._current.refresh_token, 0.0, self._current.scope
                )
                try:
                    self._credentials.save_xero_tokens(self._current)
                except CredentialsError as exc:
                    raise XeroTokensUnavailable(str(exc)) from None

    def _refresh(self, stored: XeroTokenSet) -> XeroTokenSet:
        try:
            try:
                new = self._identity.refresh(stored.refresh_token)
            except XeroAnswerLost:
                log.warning("the Xero token refresh got no answer; trying once more within Xero's grace window")
                new = self._identity.refresh(stored.refresh_token)
        except (XeroAnswerLost, XeroSignInBusy) as exc:
            log.warning("Xero's sign-in service could not renew the tokens now: %s", exc)
            raise XeroSignInUnavailable(str(exc)) from None
        except XeroConnectionEnded:
            log.warning("Xero no longer accepts the stored sign-in; the connection has ended")
            raise
        try:
            self._credentials.save_xero_tokens(new)  # saved before the new access token is ever used
        except CredentialsError as exc:
            log.warning("the renewed Xero tokens could not be saved to the keyring; they are not used")
            raise XeroTokensUnavailable(str(exc) + _NEW_PAIR_NOT_SAVED) from None
        self.refreshes += 1
        log.info("Xero tokens refreshed (access token valid for %d s)", int(new.expires_at - self._clock()))
        if self._on_refreshed:
            self._on_refreshed(self._clock())
        return new
