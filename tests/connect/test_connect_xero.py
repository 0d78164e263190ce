"""Signing in to Xero end to end against the sandbox: a browser at the consent page, the loopback
callback, tokens in the real Secret Service, the organisation in settings."""

from __future__ import annotations

import re
import socket
import threading
import time
from pathlib import Path

import pytest
from helpers.browser import consent

from provet_xero_gui.credentials import Credentials, XeroTokenSet
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID, GROUP_TENANT_ID
from provet_xero_gui.sandbox.runner import Sandbox
from provet_xero_gui.settings import AppPaths, Endpoints, SettingsFile
from provet_xero_gui.xero.identity import IdentityClient, XeroConnectionEnded
from provet_xero_gui.xero.oauth import REDIRECT_PORTS, SignInError
from provet_xero_gui.xero.signin import ChooseOrganisation, sign_in
from provet_xero_gui.xero.tokens import TokenManager

from .conftest import cli, start_cli

CLINIC = "Happy Paws Veterinary Ltd"


def _profile() -> tuple[SettingsFile, Credentials]:
    sf = SettingsFile(AppPaths.from_env().ensure().settings_file)
    settings = sf.load().settings
    return sf, Credentials(settings.profile_id)


def _identity() -> IdentityClient:
    e = Endpoints.from_env()
    return IdentityClient.for_endpoints(e)


def _sign_in_in_thread(**kwargs) -> tuple[threading.Thread, dict]:
    sf, creds = _profile()
    out: dict = {}
    got_url = threading.Event()

    def show(url: str, opened: bool) -> None:
        out["url"] = url
        got_url.set()

    def run() -> None:
        try:
            out["result"] = sign_in(_identity(), Endpoints.from_env().xero_login_url, creds, sf,
                                    show_url=show, open_browser=None, **kwargs)
        except Exception as exc:
            out["error"] = exc
        got_url.set()

    t = threading.Thread(target=run)
    t.start()
    assert got_url.wait(10)
    return t, out


def test_connect_xero_from_the_command_line_like_a_person(app_env: dict, sandbox: Sandbox) -> None:
    proc = start_cli("connect", "xero", "--no-browser", "--tenant", CLINIC)
    url = proc.stdout.readline().strip()
    assert url.startswith(sandbox.xero.base_url + "/identity/connect/authorize?")
    assert "code_challenge_method=S256" in url and "offline_access" in url
    page = consent(url)
    assert page.status_code == 200 and "You can close this tab and return to provet-xero" in page.text
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert f"Connected to the Xero organisation '{CLINIC}'" in out
    sf, creds = _profile()
    settings = sf.load().settings
    assert settings.xero.tenant_id == CLINIC_TENANT_ID and settings.xero.tenant_name == CLINIC
    assert settings.keyring_backend == "keyring.backends.SecretService.Keyring"
    tokens = creds.load_xero_tokens()
    assert tokens is not None and tokens.expires_at > time.time() + 1500
    # Nothing secret reached the settings file or the output.
    text = sf.path.read_text() + out + err
    assert tokens.access_token not in text and tokens.refresh_token not in text
    assert "connected to " in cli("status").stdout


def test_several_organisations_without_a_choice_lists_them(app_env: dict) -> None:
    proc = start_cli("connect", "xero", "--no-browser")
    consent(proc.stdout.readline().strip())
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert "choose one with --tenant" in err and CLINIC in err and "Happy Paws Group (test)" in err
    # The sign-in is kept: tokens are in the keyring, no organisation is chosen yet.
    sf, creds = _profile()
    assert creds.load_xero_tokens() is not None and sf.load().settings.xero.tenant_id is None


def test_one_organisation_is_chosen_without_asking(app_env: dict) -> None:
    t, out = _sign_in_in_thread()
    consent(out["url"], tenants=[CLINIC_TENANT_ID])
    t.join(30)
    assert out["result"].tenant.tenant_id == CLINIC_TENANT_ID


def test_choice_by_name_is_case_insensitive_and_by_id(app_env: dict) -> None:
    t, out = _sign_in_in_thread(tenant=GROUP_TENANT_ID)
    consent(out["url"])
    t.join(30)
    assert out["result"].tenant.name == "Happy Paws Group (test)"
    t, out = _sign_in_in_thread()
    consent(out["url"])
    t.join(30)
    assert isinstance(out["error"], ChooseOrganisation) and len(out["error"].tenants) == 2


def test_denied_consent_is_a_plain_message(app_env: dict) -> None:
    proc = start_cli("connect", "xero", "--no-browser", "--tenant", CLINIC)
    page = consent(proc.stdout.readline().strip(), allow=False)
    assert "not allowed" in page.text
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and "Access to Xero was not allowed" in err and "Traceback" not in err
    _, creds = _profile()
    assert creds.load_xero_tokens() is None


def test_a_callback_with_another_state_does_not_sign_in(app_env: dict) -> None:
    import requests

    t, out = _sign_in_in_thread(tenant=CLINIC, timeout=3)
    port = _port_of(out["url"])
    forged = requests.get(f"http://127.0.0.1:{port}/callback?code=forged&state=nope", timeout=5)
    assert forged.status_code == 400
    t.join(10)
    assert isinstance(out["error"], SignInError) and "No answer came from the browser" in str(out["error"])


def _port_of(url: str) -> int:
    return int(re.search(r"localhost%3A(\d+)%2Fcallback", url).group(1))


def test_port_in_use_takes_the_next_registered_port(app_env: dict) -> None:
    # Which registered port is free first right now (an outgoing connection may hold any of them).
    t, out = _sign_in_in_thread(tenant=CLINIC)
    first = _port_of(out["url"])
    consent(out["url"])
    t.join(30)
    busy = socket.socket()
    busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the sign-in left TIME_WAIT behind
    busy.bind(("127.0.0.1", first))
    busy.listen()
    try:
        t, out = _sign_in_in_thread(tenant=CLINIC)
        second = _port_of(out["url"])
        assert second in REDIRECT_PORTS and REDIRECT_PORTS.index(second) > REDIRECT_PORTS.index(first)
        consent(out["url"])
        t.join(30)
        assert out["result"].tenant.tenant_id == CLINIC_TENANT_ID
    finally:
        busy.close()


# --- the token lifecycle ----------------------------------------------------------------------------


def _signed_in(sandbox: Sandbox) -> tuple[Credentials, TokenManager, XeroTokenSet]:
    t, out = _sign_in_in_thread(tenant=CLINIC)
    consent(out["url"])
    t.join(30)
    _, creds = _profile()
    tokens = creds.load_xero_tokens()
    assert tokens is not None
    return creds, TokenManager(creds, _identity()), tokens


def _expire_locally(creds: Credentials, tokens: XeroTokenSet) -> None:
    creds.save_xero_tokens(XeroTokenSet(tokens.access_token, tokens.refresh_token, 0.0, tokens.scope))


def _api_works(sandbox: Sandbox, access_token: str) -> bool:
    return bool(_identity().connections(access_token))


def test_refresh_rotates_and_saves_the_new_pair_before_use(app_env: dict, sandbox: Sandbox) -> None:
    creds, manager, first = _signed_in(sandbox)
    _expire_locally(creds, first)
    token = manager.access_token()
    stored = creds.load_xero_tokens()
    assert token != first.access_token and stored.access_token == token
    assert stored.refresh_token != first.refresh_token
    assert _api_works(sandbox, token)


def test_lost_refresh_answer_is_saved_by_the_grace_window(app_env: dict, sandbox: Sandbox) -> None:
    creds, manager, first = _signed_in(sandbox)
    _expire_locally(creds, first)
    sandbox.xero.faults.drop_next_writes = 1  # Xero rotates the token, but the answer never arrives
    token = manager.access_token()
    assert _api_works(sandbox, token)
    assert creds.load_xero_tokens().refresh_token != first.refresh_token


def test_kill_between_rotation_and_save_recovers_with_the_old_token(app_env: dict, sandbox: Sandbox) -> None:
    creds, _manager, first = _signed_in(sandbox)
    _identity().refresh(first.refresh_token)  # rotated at Xero; the process "died" before saving
    _expire_locally(creds, first)
    token = TokenManager(creds, _identity()).access_token()  # the next start, with the old pair
    assert _api_works(sandbox, token)


def test_threads_needing_a_token_at_once_cause_one_refresh(app_env: dict, sandbox: Sandbox) -> None:
    creds, manager, first = _signed_in(sandbox)
    _expire_locally(creds, first)
    before = sandbox.xero.counter.counts().get("POST /connect/token", 0)
    tokens: list[str] = []
    threads = [threading.Thread(target=lambda: tokens.append(manager.access_token())) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert len(set(tokens)) == 1 and len(tokens) == 8
    assert sandbox.xero.counter.counts().get("POST /connect/token", 0) - before == 1
    assert manager.refreshes == 1


def test_revoked_connection_is_a_clear_state_not_a_retry_loop(app_env: dict, sandbox: Sandbox) -> None:
    creds, manager, first = _signed_in(sandbox)
    _expire_locally(creds, first)
    sandbox.xero.revoke_all_tokens()
    before = sandbox.xero.counter.total()
    with pytest.raises(XeroConnectionEnded, match="sign in to Xero again"):
        manager.access_token()
    assert sandbox.xero.counter.total() - before == 1


def test_disconnect_revokes_at_xero_and_deletes_the_secrets(app_env: dict, sandbox: Sandbox) -> None:
    creds, _manager, first = _signed_in(sandbox)
    out = cli("disconnect", "xero")
    assert out.returncode == 0, out.stderr
    assert creds.load_xero_tokens() is None
    with pytest.raises(XeroConnectionEnded):
        _identity().refresh(first.refresh_token)
    assert "Xero:    not connected" in cli("status").stdout


def test_refresh_records_when_the_refresh_token_was_last_used(app_env: dict, sandbox: Sandbox) -> None:
    from provet_xero_gui.xero.signin import record_refresh, refresh_token_days_left

    creds, _m, first = _signed_in(sandbox)
    sf, _ = _profile()
    _expire_locally(creds, first)
    TokenManager(creds, _identity(), on_refreshed=record_refresh(sf)).access_token()
    days = refresh_token_days_left(sf.load().settings.xero)
    assert days is not None and 59.9 < days <= 60


def test_nothing_secret_is_left_in_any_file(app_env: dict, sandbox: Sandbox, profile_home: Path) -> None:
    creds, manager, first = _signed_in(sandbox)
    _expire_locally(creds, first)
    second = manager.access_token()
    secrets = {first.access_token, first.refresh_token, second, creds.load_xero_tokens().refresh_token}
    for path in profile_home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(s.encode() in data for s in secrets), path


def test_a_tenant_name_that_matches_nothing_says_so_and_lists_the_connected_ones(app_env: dict) -> None:
    proc = start_cli("connect", "xero", "--no-browser", "--tenant", "No Such Clinic")
    page = consent(proc.stdout.readline().strip(), tenants=[CLINIC_TENANT_ID])
    assert page.status_code == 200
    assert "Signed in" not in page.text  # the browser cannot know yet whether it worked: here it did not
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert "No connected Xero organisation is called 'No Such Clinic'" in err
    assert f"The organisation connected is: {CLINIC} ({CLINIC_TENANT_ID})" in err
    assert "Several" not in err
    assert "Traceback" not in err
