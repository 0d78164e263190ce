"""Xero's sign-in and the keyring failing under a real sync (tokens in the real Secret Service, the sandbox's
identity server): an access token that expires mid-batch, a refresh token revoked mid-sync, a keyring locked
or gone at the start and in the middle of a pass, and locked between a token rotation and its save. Each
ends plainly, and nothing is lost or sent twice once the cause is gone.

A process killed between a token rotation and its save is tests/connect/test_connect_xero.py::
test_kill_between_rotation_and_save_recovers_with_the_old_token.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.connected import connect_profile, connect_xero
from helpers.exactly_once import assert_exactly_once
from helpers.keyring_lock import keyring_locked, lock, require_secret_service, unlock

from provet_xero_gui.app.passes import run_sync
from provet_xero_gui.mapping import Mapping, MappingFile
from provet_xero_gui.profile import Profile
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID
from provet_xero_gui.sandbox.runner import Sandbox, demo_mapping
from provet_xero_gui.store.sync_state import SyncState
from provet_xero_gui.sync.events import Event, Progress, SyncResult
from provet_xero_gui.xero.identity import IdentityClient

TOKEN = "POST /connect/token"


@pytest.fixture
def clinic(monkeypatch: pytest.MonkeyPatch, profile_home: Path) -> Iterator[tuple[Sandbox, Profile]]:
    require_secret_service()
    with Sandbox(size=60) as sandbox:
        profile = connect_profile(sandbox, monkeypatch)
        MappingFile(profile.paths.mapping_file).save(Mapping.from_json(demo_mapping()))
        yield sandbox, profile.reload()


def _sync(profile: Profile, events: Callable[[Event], None] | None = None) -> SyncResult:
    return run_sync(profile.reload(), events=events, sleep=lambda _s: None)


def _when_sending_invoices(action: Callable[[], None]) -> Callable[[Event], None]:
    """An event sink that runs `action` once, just before the first batch of invoices goes to Xero."""
    done: list[bool] = []

    def on_event(event: Event) -> None:
        if isinstance(event, Progress) and event.phase == "sending invoices" and not done:
            done.append(True)
            action()

    return on_event


def _refreshes(sandbox: Sandbox) -> int:
    return sandbox.xero.counter.counts().get(TOKEN, 0)


def _secrets(profile: Profile) -> list[str]:
    creds = profile.credentials()
    tokens = creds.load_xero_tokens()
    assert tokens is not None
    return [tokens.access_token, tokens.refresh_token, str(creds.load_provet_secret())]


def _no_secret_in_files(profile_home: Path, secrets: list[str]) -> None:
    for path in profile_home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(s.encode() in data for s in secrets), f"a secret is in {path}"


def test_access_token_expiring_mid_batch_is_refreshed_once_and_the_sync_goes_on(
    clinic: tuple[Sandbox, Profile],
) -> None:
    sandbox, profile = clinic
    before_tokens = profile.credentials().load_xero_tokens()
    before = _refreshes(sandbox)
    # Xero answers the batch's PUT with 401 "TokenExpired": the client refreshes and resends with the same key.
    result = _sync(profile, _when_sending_invoices(sandbox.xero.expire_access_tokens))
    assert result.stopped is None, result.stopped
    assert _refreshes(sandbox) - before == 1
    after_tokens = profile.credentials().load_xero_tokens()
    assert after_tokens is not None and before_tokens is not None
    assert after_tokens.refresh_token != before_tokens.refresh_token  # the rotated pair was saved
    assert result.sent.get("invoice", 0) == len(sandbox.xero.invoices(CLINIC_TENANT_ID))
    assert_exactly_once(sandbox)


def test_refresh_token_revoked_mid_sync_stops_plainly_and_replays_exactly_once_after_signing_in_again(
    clinic: tuple[Sandbox, Profile], monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox, profile = clinic
    server = sandbox.xero.server
    real_dispatch = server.dispatch
    revoked: list[bool] = []

    def dispatch(req: Any) -> Any:
        answer, key = real_dispatch(req)
        if req.method == "PUT" and req.path.lower().endswith("/invoices") and not revoked:
            # The batch is committed in Xero, its answer is lost, and the user disconnects the app in Xero:
            # the resend is refused, and so is the refresh.
            revoked.append(True)
            sandbox.xero.revoke_all_tokens()
            return None, key
        return answer, key

    monkeypatch.setattr(server, "dispatch", dispatch)
    result = _sync(profile)
    assert revoked
    assert result.stop_kind == "connection_ended"
    assert "sign in to Xero again" in (result.stopped or "")
    sent_before = len(sandbox.xero.invoices(CLINIC_TENANT_ID))
    assert sent_before > 0  # the batch is in Xero, and its journal entry is still open
    with profile.store() as store:
        assert SyncState(store).counts()["pending_writes"] >= 1
    monkeypatch.setattr(server, "dispatch", real_dispatch)

    connect_xero()  # the admin signs in again
    again = _sync(profile)
    assert again.stopped is None, again.stopped
    with profile.store() as store:
        assert SyncState(store).counts()["pending_writes"] == 0
    assert_exactly_once(sandbox)


def test_keyring_locked_at_start_is_a_plain_message_without_a_plaintext_fallback(
    clinic: tuple[Sandbox, Profile], profile_home: Path,
) -> None:
    sandbox, profile = clinic
    secrets = _secrets(profile)
    backend = profile.settings.keyring_backend
    with keyring_locked():
        out = subprocess.run([sys.executable, "-m", "provet_xero_gui", "sync", "--once"], capture_output=True,
                             text=True, timeout=120, env=dict(os.environ))
        assert out.returncode == 2
        assert "keyring is locked" in out.stderr and "Unlock it" in out.stderr, out.stderr
        assert "Traceback" not in out.stderr + out.stdout
        status = subprocess.run([sys.executable, "-m", "provet_xero_gui", "status"], capture_output=True,
                                text=True, timeout=60, env=dict(os.environ))
        assert "Traceback" not in status.stderr + status.stdout
    assert sandbox.xero.invoices(CLINIC_TENANT_ID) == []
    assert Profile.open().settings.keyring_backend == backend  # no other store was chosen quietly
    _no_secret_in_files(profile_home, secrets)
    assert _sync(profile).stopped is None
    assert_exactly_once(sandbox)


def test_keyring_gone_at_start_is_a_plain_message(clinic: tuple[Sandbox, Profile], profile_home: Path) -> None:
    """No Secret Service at all (the desktop's keyring not running): refused plainly, never a file instead."""
    _sandbox, profile = clinic
    secrets = _secrets(profile)
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": f"unix:path={profile_home}/no-such-bus"}
    out = subprocess.run([sys.executable, "-m", "provet_xero_gui", "sync", "--once"], capture_output=True, text=True,
                         timeout=120, env=env)
    assert out.returncode == 2
    assert "keyring" in out.stderr.lower() and "Traceback" not in out.stderr, out.stderr
    _no_secret_in_files(profile_home, secrets)


def test_keyring_locked_mid_run_stops_plainly_and_loses_nothing(
    clinic: tuple[Sandbox, Profile], profile_home: Path,
) -> None:
    sandbox, profile = clinic
    secrets = _secrets(profile)

    def lock_and_expire() -> None:
        lock()  # the screen locked; the next token Xero asks for needs the keyring
        sandbox.xero.expire_access_tokens()

    try:
        result = _sync(profile, _when_sending_invoices(lock_and_expire))
    finally:
        unlock()
    assert result.stopped is not None and "keyring is locked" in result.stopped, result.stopped
    assert "unexpected" not in result.stopped
    assert sandbox.xero.invoices(CLINIC_TENANT_ID) == []
    _no_secret_in_files(profile_home, secrets)
    again = _sync(profile)
    assert again.stopped is None, again.stopped
    assert_exactly_once(sandbox)


def test_keyring_locked_between_rotation_and_save_uses_nothing_unsaved_and_recovers(
    clinic: tuple[Sandbox, Profile], monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox, profile = clinic
    real_refresh = IdentityClient.refresh
    rotated: list[str] = []

    def refresh_then_lock(self: IdentityClient, refresh_token: str) -> Any:
        new = real_refresh(self, refresh_token)
        rotated.append(new.access_token)
        lock()  # Xero rotated the pair; the keyring locks before it can be saved
        return new

    monkeypatch.setattr(IdentityClient, "refresh", refresh_then_lock)
    try:
        result = _sync(profile, _when_sending_invoices(sandbox.xero.expire_access_tokens))
    finally:
        unlock()
    monkeypatch.setattr(IdentityClient, "refresh", real_refresh)
    assert rotated and result.stopped is not None
    assert "keyring is locked" in result.stopped and "30 minutes" in result.stopped, result.stopped
    stored = profile.credentials().load_xero_tokens()
    assert stored is not None and stored.access_token != rotated[0]  # the unsaved pair was never kept
    assert sandbox.xero.invoices(CLINIC_TENANT_ID) == []  # nor used
    again = _sync(profile)  # within Xero's grace window the old refresh token still works
    assert again.stopped is None, again.stopped
    assert_exactly_once(sandbox)
