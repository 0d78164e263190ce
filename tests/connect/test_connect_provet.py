"""`connect provet` as a person uses it, against the Provet sandbox: each failure has its own message."""

from __future__ import annotations

import socket
from pathlib import Path

from provet_xero_gui.credentials import Credentials
from provet_xero_gui.provet.client import ProvetClient
from provet_xero_gui.sandbox.provet_server import PERM_CLIENTS, PERM_INVOICES, PERMISSION_FAMILIES
from provet_xero_gui.sandbox.runner import Sandbox
from provet_xero_gui.settings import AppPaths, SettingsFile

from .conftest import cli


def _connect(url: str, client_id: str, secret: str):
    return cli("connect", "provet", "--url", url, "--client-id", client_id, stdin=secret + "\n")


def test_connect_stores_the_secret_in_the_keyring_only(app_env: dict, sandbox: Sandbox, profile_home: Path) -> None:
    c = sandbox.credentials
    out = _connect(c.provet_url.rstrip("/"), c.provet_client_id, c.provet_client_secret)
    assert out.returncode == 0, out.stderr
    assert "Connected to Provet Cloud" in out.stdout and "VAT groups readable" in out.stdout
    settings = SettingsFile(AppPaths.from_env().settings_file).load().settings
    assert settings.provet.url == c.provet_url and settings.provet.client_id == c.provet_client_id
    assert Credentials(settings.profile_id).load_provet_secret() == c.provet_client_secret
    for path in profile_home.rglob("*"):
        if path.is_file():
            assert c.provet_client_secret.encode() not in path.read_bytes(), path
    assert c.provet_client_secret not in out.stdout + out.stderr
    assert "Provet:  connected" in cli("status").stdout


def test_wrong_secret(app_env: dict, sandbox: Sandbox) -> None:
    c = sandbox.credentials
    out = _connect(c.provet_url, c.provet_client_id, "not-the-secret")
    assert out.returncode == 2
    assert "refused the client id or secret" in out.stderr and "not-the-secret" not in out.stderr
    assert "Traceback" not in out.stderr


def test_wrong_instance_url(app_env: dict, sandbox: Sandbox) -> None:
    c = sandbox.credentials
    wrong = c.provet_url.replace("/4321/", "/9999/")
    out = _connect(wrong, c.provet_client_id, c.provet_client_secret)
    assert out.returncode == 2 and "No Provet Cloud instance answers at" in out.stderr


def test_not_an_address(app_env: dict) -> None:
    out = _connect("provetcloud", "id", "s")
    assert out.returncode == 2 and "is not a Provet Cloud address" in out.stderr


def test_unreachable_host(app_env: dict) -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    out = _connect(f"http://127.0.0.1:{port}/4321/", "id", "secret")
    assert out.returncode == 2 and f"Cannot reach 127.0.0.1:{port}" in out.stderr


def test_secret_never_from_the_command_line(app_env: dict) -> None:
    out = cli("connect", "provet", "--url", "http://x/1/", "--client-id", "a", "--secret", "b")
    assert out.returncode == 2 and "unrecognized arguments" in out.stderr


def test_empty_stdin_is_a_plain_error(app_env: dict, sandbox: Sandbox) -> None:
    c = sandbox.credentials
    out = cli("connect", "provet", "--url", c.provet_url, "--client-id", c.provet_client_id, stdin="")
    assert out.returncode == 2 and "no client secret was given" in out.stderr


def test_missing_permission_stores_nothing(app_env: dict, sandbox: Sandbox, profile_home: Path) -> None:
    c = sandbox.credentials
    sandbox.provet.set_permissions(PERM_INVOICES, PERM_CLIENTS)  # not "Settings: Settings page"
    try:
        out = _connect(c.provet_url, c.provet_client_id, c.provet_client_secret)
    finally:
        sandbox.provet.set_permissions(*PERMISSION_FAMILIES)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "The Provet integration user is not allowed to read VAT groups" in out.stderr
    assert "give it the permission 'Settings: Settings page'" in out.stderr
    assert c.provet_client_secret not in out.stdout + out.stderr
    settings = SettingsFile(AppPaths.from_env().settings_file).load().settings
    assert settings.provet.url is None and settings.provet.client_id is None
    assert Credentials(settings.profile_id).load_provet_secret() is None


def test_token_renewed_once_on_401(sandbox: Sandbox) -> None:
    c = sandbox.credentials
    client = ProvetClient(c.provet_url, c.provet_client_id, c.provet_client_secret)
    assert client.check().vat_groups > 0
    sandbox.provet.expire_tokens()
    assert client.check().vat_groups > 0  # got a new token after the 401 and went on
