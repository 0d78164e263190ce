"""The keyring, for real: these tests run against the Secret Service that the test command starts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.backends.null
import pytest

from provet_xero_gui.credentials import (
    CHUNK,
    SERVICE,
    Credentials,
    CredentialsError,
    XeroTokenSet,
)

SECRET_SERVICE = "keyring.backends.SecretService.Keyring"


@pytest.fixture
def creds() -> Credentials:
    c = Credentials(f"test{uuid.uuid4().hex}")
    yield c
    c.delete_xero_tokens()
    c.delete_provet_secret()


def _tokens(size: int = 1200) -> XeroTokenSet:
    return XeroTokenSet(
        access_token="eyJ" + "a" * size,
        refresh_token=uuid.uuid4().hex,
        expires_at=1_800_000_000.0,
        scope="offline_access accounting.invoices",
    )


def test_the_suite_runs_on_a_real_secret_service(creds: Credentials) -> None:
    assert creds.backend_name == SECRET_SERVICE


def test_provet_secret_round_trip(creds: Credentials) -> None:
    assert creds.load_provet_secret() is None
    creds.save_provet_secret("s3cret-Provet-ÄÖ")
    assert Credentials(creds.profile_id).load_provet_secret() == "s3cret-Provet-ÄÖ"
    creds.delete_provet_secret()
    assert creds.load_provet_secret() is None
    creds.delete_provet_secret()  # deleting twice is fine


def test_xero_tokens_round_trip_in_chunks_small_enough_for_windows(creds: Credentials) -> None:
    tokens = _tokens(size=4000)
    creds.save_xero_tokens(tokens)
    assert Credentials(creds.profile_id).load_xero_tokens() == tokens
    # What the Secret Service really holds: several entries, none over the Windows limit.
    backend = keyring.get_keyring()
    first = backend.get_password(SERVICE, f"{creds.profile_id}:xero-tokens")
    assert first is not None and len(first) <= CHUNK + 40
    parts = [backend.get_password(SERVICE, f"{creds.profile_id}:xero-tokens#{i}") for i in range(1, 5)]
    assert all(p is not None and len(p.encode("utf-16-le")) <= 2560 for p in parts)


def test_shrinking_a_value_removes_the_old_chunks(creds: Credentials) -> None:
    creds.save_xero_tokens(_tokens(size=4000))
    creds.save_xero_tokens(_tokens(size=10))
    backend = keyring.get_keyring()
    assert backend.get_password(SERVICE, f"{creds.profile_id}:xero-tokens#1") is None
    creds.delete_xero_tokens()
    assert creds.load_xero_tokens() is None


@pytest.mark.skipif(shutil.which("secret-tool") is None, reason="needs secret-tool from libsecret-tools")
def test_secret_is_visible_to_other_secret_service_clients(creds: Credentials) -> None:
    creds.save_provet_secret("visible-to-secret-tool")
    out = subprocess.run(
        ["secret-tool", "lookup", "service", SERVICE, "username", f"{creds.profile_id}:provet-client-secret"],
        capture_output=True, text=True, check=True,
    )
    assert out.stdout == "visible-to-secret-tool"


def test_profiles_do_not_see_each_other(creds: Credentials) -> None:
    creds.save_provet_secret("mine")
    assert Credentials(f"other{uuid.uuid4().hex}").load_provet_secret() is None


def test_tokens_never_show_in_repr() -> None:
    tokens = _tokens()
    assert tokens.access_token not in repr(tokens) and tokens.refresh_token not in repr(tokens)


@pytest.mark.parametrize("backend", [keyring.backends.fail.Keyring(), keyring.backends.null.Keyring()])
def test_no_usable_keyring_is_one_plain_error(backend: keyring.backend.KeyringBackend) -> None:
    c = Credentials("p1", backend=backend)
    for action in (c.load_provet_secret, c.load_xero_tokens, lambda: c.save_provet_secret("x")):
        with pytest.raises(CredentialsError) as info:
            action()
        msg = str(info.value)
        assert "keyring" in msg and ("Secret Service" in msg or "GNOME Keyring" in msg)
        assert "Traceback" not in msg


def test_plaintext_backends_are_refused() -> None:
    class PlaintextKeyring(keyring.backend.KeyringBackend):
        priority = 1

        def get_password(self, service, username):
            return None

        def set_password(self, service, username, password):
            raise AssertionError("must not be written to")

        def delete_password(self, service, username):
            pass

    with pytest.raises(CredentialsError, match="readable files"):
        Credentials("p1", backend=PlaintextKeyring()).save_provet_secret("never-written")


def test_remembered_backend_that_is_gone_is_a_plain_error() -> None:
    c = Credentials("p1", remembered_backend="keyring.backends.macOS.Keyring")
    with pytest.raises(CredentialsError, match="used before"):
        c.load_provet_secret()


def test_locked_keyring_says_unlock() -> None:
    class Locked(keyring.backend.KeyringBackend):
        priority = 5

        def get_password(self, service, username):
            raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

        def set_password(self, service, username, password):
            raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

        def delete_password(self, service, username):
            raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    with pytest.raises(CredentialsError, match=r"locked.*Unlock it"):
        Credentials("p1", backend=Locked()).save_provet_secret("x")


def test_status_without_a_keyring_is_plain_not_a_traceback() -> None:
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    out = subprocess.run(
        [sys.executable, "-m", "provet_xero_gui", "status"], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert "Keyring: unavailable" in out.stdout
    assert "No usable keyring" in out.stdout
    assert "Traceback" not in out.stdout + out.stderr
