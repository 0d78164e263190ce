"""The scopes the Xero sign-in asks for are a setting: an app registered at Xero before the granular scopes is
refused with `invalid_scope`, and the person is told in plain words what to change."""

from __future__ import annotations

import json

import requests
from helpers.browser import consent

from provet_xero_gui.credentials import Credentials
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID
from provet_xero_gui.sandbox.runner import Sandbox
from provet_xero_gui.sandbox.xero_server import DEMO_CLIENT_ID
from provet_xero_gui.settings import (
    DEFAULT_XERO_SCOPES,
    OLDER_XERO_SCOPES,
    AppPaths,
    Endpoints,
    Settings,
    SettingsFile,
)

from .conftest import cli, start_cli


def test_an_older_xero_app_refuses_the_granular_scopes_with_plain_words_then_signs_in(
    app_env: dict, sandbox: Sandbox
) -> None:
    sandbox.xero.register_as_older_app(Endpoints.from_env().xero_client_id or DEMO_CLIENT_ID)
    proc = start_cli("connect", "xero", "--no-browser", "--tenant", CLINIC_TENANT_ID)
    url = proc.stdout.readline().strip()
    assert "accounting.invoices" in url  # the default: Xero's granular set
    page = requests.get(url, timeout=10)  # Xero sends the browser straight back with error=invalid_scope
    assert "refused the permissions" in page.text
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and "Traceback" not in err
    assert "Xero refused the permissions provet-xero asked for" in err
    assert f'set "xero_scopes" to "{OLDER_XERO_SCOPES}"' in err
    sf = SettingsFile(AppPaths.from_env().ensure().settings_file)
    assert Credentials(sf.load().settings.profile_id).load_xero_tokens() is None

    # Doing what the message says signs in, and the older scope reaches invoices and payments.
    sf.update(xero_scopes=OLDER_XERO_SCOPES)
    proc = start_cli("connect", "xero", "--no-browser", "--tenant", CLINIC_TENANT_ID)
    url = proc.stdout.readline().strip()
    assert "accounting.transactions" in url and "accounting.invoices" not in url
    consent(url)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    tokens = Credentials(sf.load().settings.profile_id).load_xero_tokens()
    assert tokens is not None and "accounting.transactions" in tokens.scope.split()
    answer = requests.get(f"{sandbox.xero.base_url}/api.xro/2.0/Invoices", timeout=10, headers={
        "Authorization": f"Bearer {tokens.access_token}", "xero-tenant-id": CLINIC_TENANT_ID})
    assert answer.status_code == 200


def test_a_newer_app_refuses_the_older_scope(app_env: dict, sandbox: Sandbox) -> None:
    SettingsFile(AppPaths.from_env().ensure().settings_file).update(xero_scopes=OLDER_XERO_SCOPES)
    proc = start_cli("connect", "xero", "--no-browser", "--tenant", CLINIC_TENANT_ID)
    requests.get(proc.stdout.readline().strip(), timeout=10)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and f'set "xero_scopes" to "{DEFAULT_XERO_SCOPES}"' in err


def test_the_scope_setting_has_a_default_and_a_set_without_offline_access_is_refused_plainly(
    app_env: dict,
) -> None:
    assert Settings().xero_scopes == DEFAULT_XERO_SCOPES
    data = Settings().to_json()
    assert Settings.from_json({**data, "xero_scopes": OLDER_XERO_SCOPES}).xero_scopes == OLDER_XERO_SCOPES
    # A set without offline_access is kept in the file (nothing else is lost) and refused before the browser.
    sf = SettingsFile(AppPaths.from_env().ensure().settings_file)
    sf.update(xero_scopes="openid accounting.transactions")
    assert sf.load().problem is None
    result = cli("connect", "xero", "--no-browser", "--tenant", CLINIC_TENANT_ID)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "must include offline_access" in result.stderr and json.dumps(DEFAULT_XERO_SCOPES) in result.stderr
    assert "identity/connect/authorize" not in result.stdout  # no sign-in address was given out
