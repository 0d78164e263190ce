"""Secrets in the OS keyring, behind one small class (the Maestral way).

Only the keyring holds the Xero token set and the Provet client secret; there is no plaintext fallback.
When no usable keyring exists, every method raises `CredentialsError` with a plain message saying what
is wrong and how to fix it. The backend used the first time is remembered (in settings, by the caller)
so a later run cannot quietly read from or write to a different store.

Windows Credential Manager refuses values over 2,560 bytes (UTF-16, so 1,280 characters): values are
stored in chunks of at most 1,000 characters under `<name>`, `<name>#1`, `<name>#2`...
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass, field

import keyring
import keyring.backend
import keyring.errors

from provet_xero_gui import redact

log = logging.getLogger(__name__)

SERVICE = "provet-xero"
CHUNK = 1000
_CHUNK_HEADER = "provet-xero-chunks:"

_REFUSED_BACKENDS = {
    "keyring.backends.fail.Keyring": "no keyring backend could be loaded",
    "keyring.backends.null.Keyring": "the keyring is switched off (null backend)",
}


class CredentialsError(Exception):
    """The keyring cannot be used. The message is for people and never holds a secret."""


@dataclass(frozen=True)
class XeroTokenSet:
    """What Xero's token endpoint gave us. `repr` hides the tokens so a log line cannot leak them."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: float  # epoch seconds when the access token stops working
    scope: str = ""
    token_type: str = "Bearer"

    def to_json(self) -> str:
        return json.dumps(
            {
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "expires_at": self.expires_at,
                "scope": self.scope,
                "token_type": self.token_type,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> XeroTokenSet:
        data = json.loads(text)
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=str(data["refresh_token"]),
            expires_at=float(data["expires_at"]),
            scope=str(data.get("scope", "")),
            token_type=str(data.get("token_type", "Bearer")),
        )


def backend_name(backend: keyring.backend.KeyringBackend) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


HOW_TO_FIX = (
    "On Windows and macOS the system keyring is built in; on Linux start a Secret Service keyring "
    "(GNOME Keyring or KWallet) and unlock it, then try again."
)


def _check_usable(backend: keyring.backend.KeyringBackend) -> None:
    name = backend_name(backend)
    if name in _REFUSED_BACKENDS:
        raise CredentialsError(
            f"No usable keyring was found to keep provet-xero's secrets safe: {_REFUSED_BACKENDS[name]}. "
            + HOW_TO_FIX
        )
    if "plaintext" in name.lower() or name.startswith("keyrings.alt"):
        raise CredentialsError(
            f"The configured keyring ({name}) keeps secrets as readable files; provet-xero refuses it. "
            + HOW_TO_FIX
        )
    try:
        priority = backend.priority
    except Exception as exc:
        raise CredentialsError(f"The keyring ({name}) cannot be used: {_plain(exc)}. {HOW_TO_FIX}") from None
    if priority <= 0:
        raise CredentialsError(f"The keyring ({name}) is not usable on this computer. {HOW_TO_FIX}")


def _plain(exc: BaseException) -> str:
    """An exception's text, without anything that could be a secret (keyring messages carry none)."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


class Credentials:
    """One profile's secrets. `profile_id` keeps throwaway (demo/test) profiles apart from the real one."""

    def __init__(
        self,
        profile_id: str,
        *,
        remembered_backend: str | None = None,
        backend: keyring.backend.KeyringBackend | None = None,
    ) -> None:
        if not profile_id:
            raise ValueError("a profile id is needed to name the keyring entries")
        self.profile_id = profile_id
        self._remembered = remembered_backend
        self._backend = backend

    @property
    def backend(self) -> keyring.backend.KeyringBackend:
        """The keyring in use, found once; raises CredentialsError when it is not usable."""
        if self._backend is None:
            self._backend = self._find_backend()
        _check_usable(self._backend)
        return self._backend

    @property
    def backend_name(self) -> str:
        return backend_name(self.backend)

    def _find_backend(self) -> keyring.backend.KeyringBackend:
        if self._remembered:
            try:
                return keyring.core.load_keyring(self._remembered)
            except Exception as exc:
                raise CredentialsError(
                    f"The keyring used before ({self._remembered}) is not available now ({_plain(exc)}). "
                    "Unlock or start it, or sign in again to store the secrets in the current keyring."
                ) from None
        return keyring.get_keyring()

    # --- Xero ---------------------------------------------------------------------------------------
    def save_xero_tokens(self, tokens: XeroTokenSet) -> None:
        redact.remember(tokens.access_token, tokens.refresh_token)  # kept out of any crash report
        self._set("xero-tokens", tokens.to_json())

    def load_xero_tokens(self) -> XeroTokenSet | None:
        text = self._get("xero-tokens")
        if text is None:
            return None
        try:
            tokens = XeroTokenSet.from_json(text)
        except (ValueError, KeyError, TypeError):
            raise CredentialsError(
                "The Xero sign-in stored in the keyring is damaged. Sign in to Xero again."
            ) from None
        redact.remember(tokens.access_token, tokens.refresh_token)
        return tokens

    def delete_xero_tokens(self) -> None:
        self._delete("xero-tokens")

    # --- Provet -------------------------------------------------------------------------------------
    def save_provet_secret(self, secret: str) -> None:
        if not secret:
            raise ValueError("the Provet client secret is empty")
        redact.remember(secret)
        self._set("provet-client-secret", secret)

    def load_provet_secret(self) -> str | None:
        secret = self._get("provet-client-secret")
        redact.remember(secret)
        return secret

    def delete_provet_secret(self) -> None:
        self._delete("provet-client-secret")

    # --- chunked storage ------------------------------------------------------------------------------
    def _user(self, name: str, part: int = 0) -> str:
        base = f"{self.profile_id}:{name}"
        return base if part == 0 else f"{base}#{part}"

    def _call(self, what: str, fn, *args):
        backend = self.backend
        try:
            return fn(backend, *args)
        except keyring.errors.KeyringLocked:
            raise CredentialsError(
                f"The keyring is locked, so provet-xero could not {what}. Unlock it and try again."
            ) from None
        except keyring.errors.KeyringError as exc:
            raise CredentialsError(
                f"The keyring ({backend_name(backend)}) refused to {what}: {_plain(exc)}. {HOW_TO_FIX}"
            ) from None
        except Exception as exc:  # D-Bus and OS errors from the backends
            raise CredentialsError(
                f"The keyring ({backend_name(backend)}) failed to {what}: {_plain(exc)}. {HOW_TO_FIX}"
            ) from None

    def _set(self, name: str, value: str) -> None:
        parts = [value[i : i + CHUNK] for i in range(0, len(value), CHUNK)] or [""]
        old_count = self._chunk_count(name)
        # Write the tail chunks first and the header last, so a reader never sees a header
        # pointing at chunks that are not written yet.
        for i, part in enumerate(parts[1:], start=1):
            self._call("save a secret", lambda b, u, p: b.set_password(SERVICE, u, p), self._user(name, i), part)
        head = parts[0] if len(parts) == 1 else f"{_CHUNK_HEADER}{len(parts)}:{parts[0]}"
        self._call("save a secret", lambda b, u, p: b.set_password(SERVICE, u, p), self._user(name), head)
        for i in range(len(parts), old_count):
            self._delete_one(self._user(name, i))

    def _get(self, name: str) -> str | None:
        head = self._call("read a secret", lambda b, u: b.get_password(SERVICE, u), self._user(name))
        if head is None or not head.startswith(_CHUNK_HEADER):
            return head
        count, first = _split_header(head)
        parts = [first]
        for i in range(1, count):
            part = self._call("read a secret", lambda b, u: b.get_password(SERVICE, u), self._user(name, i))
            if part is None:
                raise CredentialsError(
                    "A secret in the keyring is incomplete (a part is missing). Sign in again to replace it."
                )
            parts.append(part)
        return "".join(parts)

    def _chunk_count(self, name: str) -> int:
        head = self._call("read a secret", lambda b, u: b.get_password(SERVICE, u), self._user(name))
        if head is None:
            return 0
        return _split_header(head)[0] if head.startswith(_CHUNK_HEADER) else 1

    def _delete(self, name: str) -> None:
        count = self._chunk_count(name)
        for i in range(count):
            self._delete_one(self._user(name, i))

    def _delete_one(self, user: str) -> None:
        def delete(b: keyring.backend.KeyringBackend, u: str) -> None:
            with contextlib.suppress(keyring.errors.PasswordDeleteError):  # already gone is fine
                b.delete_password(SERVICE, u)

        self._call("delete a secret", delete, user)


def _split_header(head: str) -> tuple[int, str]:
    rest = head[len(_CHUNK_HEADER) :]
    count_text, _, first = rest.partition(":")
    try:
        return int(count_text), first
    except ValueError:
        raise CredentialsError("A secret in the keyring is damaged. Sign in again to replace it.") from None
