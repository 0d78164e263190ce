"""The simulated Xero sign-in: consent page, PKCE codes, token rotation, expiry, connections."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from xero_helpers import (
    CLINIC,
    OTHER,
    REDIRECT,
    authorize_url,
    pkce_pair,
    sign_in,
)

from provet_xero_gui.sandbox.xero_server import DEMO_CLIENT_ID, XeroSandbox

pytest_plugins = ["xero_fixtures"]


def _token(sandbox: XeroSandbox, **form: str) -> requests.Response:
    return requests.post(f"{sandbox.base_url}/connect/token", data={"client_id": DEMO_CLIENT_ID, **form}, timeout=10)


def _refresh(sandbox: XeroSandbox, refresh_token: str) -> requests.Response:
    return _token(sandbox, grant_type="refresh_token", refresh_token=refresh_token)


def _org(sandbox: XeroSandbox, token: dict[str, Any]) -> requests.Response:
    return requests.get(f"{sandbox.base_url}/api.xro/2.0/Organisation", timeout=10, headers={
        "Authorization": f"Bearer {token['access_token']}", "xero-tenant-id": CLINIC})


def _consent(sandbox: XeroSandbox, url: str) -> tuple[requests.Session, str, str]:
    session = requests.Session()
    page = session.get(url, timeout=10)
    assert page.status_code == 200
    request_id = re.search(r'name="request_id" value="([^"]+)"', page.text)
    assert request_id
    return session, page.text, request_id.group(1)


def test_consent_page_is_real_html_with_orgs_scopes_and_both_buttons(xero_sandbox: XeroSandbox) -> None:
    _verifier, challenge = pkce_pair()
    _session, page, _rid = _consent(xero_sandbox, authorize_url(xero_sandbox, challenge))
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>Xero | Connect" in page
    assert '<form id="consent" method="post"' in page
    assert page.count('type="checkbox" name="tenant"') == 2
    assert "Happy Paws Veterinary Ltd" in page and "Other Practice (Demo)" in page
    assert "View and manage your invoices and credit notes" in page  # scopes in words
    assert 'value="allow"' in page and 'value="deny"' in page


def test_allow_redirects_with_code_and_state_and_connects_chosen_orgs(xero_sandbox: XeroSandbox) -> None:
    verifier, challenge = pkce_pair()
    session, _page, rid = _consent(xero_sandbox, authorize_url(xero_sandbox, challenge, state="abc"))
    answer = session.post(f"{xero_sandbox.base_url}/identity/connect/authorize", allow_redirects=False,
                          data={"request_id": rid, "action": "allow", "tenant": [CLINIC]}, timeout=10)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["abc"]
    tokens = _token(xero_sandbox, grant_type="authorization_code", code=query["code"][0],
                    redirect_uri=REDIRECT, code_verifier=verifier)
    assert tokens.status_code == 200
    body = tokens.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 1800
    assert {"access_token", "refresh_token", "id_token", "scope"} <= set(body)
    conns = requests.get(f"{xero_sandbox.base_url}/connections", timeout=10,
                         headers={"Authorization": f"Bearer {body['access_token']}"}).json()
    assert [c["tenantId"] for c in conns] == [CLINIC]


def test_deny_redirects_with_access_denied(xero_sandbox: XeroSandbox) -> None:
    _verifier, challenge = pkce_pair()
    session, _page, rid = _consent(xero_sandbox, authorize_url(xero_sandbox, challenge, state="s1"))
    answer = session.post(f"{xero_sandbox.base_url}/identity/connect/authorize", allow_redirects=False,
                          data={"request_id": rid, "action": "deny"}, timeout=10)
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query == {"error": ["access_denied"], "state": ["s1"]}


def test_unregistered_redirect_uri_gets_an_error_page_not_a_redirect(xero_sandbox: XeroSandbox) -> None:
    _verifier, challenge = pkce_pair()
    url = authorize_url(xero_sandbox, challenge, redirect="http://localhost:9999/callback")
    answer = requests.get(url, allow_redirects=False, timeout=10)
    assert answer.status_code == 400
    assert "text/html" in answer.headers["Content-Type"]
    assert "redirect_uri" in answer.text and "Location" not in answer.headers


def test_unknown_client_and_missing_pkce(xero_sandbox: XeroSandbox) -> None:
    _verifier, challenge = pkce_pair()
    bad_client = authorize_url(xero_sandbox, challenge).replace(DEMO_CLIENT_ID, "someone-else")
    assert requests.get(bad_client, allow_redirects=False, timeout=10).status_code == 400
    no_pkce = authorize_url(xero_sandbox, challenge, code_challenge_method="plain")
    answer = requests.get(no_pkce, allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    assert "error=invalid_request" in answer.headers["Location"]


def test_codes_are_single_use(xero_sandbox: XeroSandbox) -> None:
    verifier, challenge = pkce_pair()
    location = xero_sandbox.approve_consent(authorize_url(xero_sandbox, challenge))
    code = parse_qs(urlsplit(location).query)["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
    assert _token(xero_sandbox, **form).status_code == 200
    again = _token(xero_sandbox, **form)
    assert again.status_code == 400 and again.json() == {"error": "invalid_grant"}


def test_wrong_pkce_verifier_is_refused(xero_sandbox: XeroSandbox) -> None:
    _verifier, challenge = pkce_pair()
    other_verifier, _ = pkce_pair()
    location = xero_sandbox.approve_consent(authorize_url(xero_sandbox, challenge))
    code = parse_qs(urlsplit(location).query)["code"][0]
    answer = _token(xero_sandbox, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                    code_verifier=other_verifier)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_code_bound_to_redirect_uri_and_expires_after_five_minutes(xero_sandbox: XeroSandbox) -> None:
    verifier, challenge = pkce_pair()
    for redirect, advance in (("http://localhost:47652/callback", 0), (REDIRECT, 301)):
        location = xero_sandbox.approve_consent(authorize_url(xero_sandbox, challenge))
        code = parse_qs(urlsplit(location).query)["code"][0]
        xero_sandbox.clock.advance(advance)
        answer = _token(xero_sandbox, grant_type="authorization_code", code=code, redirect_uri=redirect,
                        code_verifier=verifier)
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_no_refresh_token_without_offline_access(xero_sandbox: XeroSandbox) -> None:
    tokens = sign_in(xero_sandbox, scope="openid accounting.settings")
    assert "refresh_token" not in tokens and tokens["access_token"]


def test_access_token_expires_after_thirty_minutes(xero_sandbox: XeroSandbox) -> None:
    tokens = sign_in(xero_sandbox)
    assert _org(xero_sandbox, tokens).status_code == 200
    xero_sandbox.clock.advance(30 * 60 + 1)
    answer = _org(xero_sandbox, tokens)
    assert answer.status_code == 401
    assert answer.json()["Title"] == "Unauthorized" and answer.json()["Detail"].startswith("TokenExpired")
    fresh = _refresh(xero_sandbox, tokens["refresh_token"]).json()
    assert _org(xero_sandbox, fresh).status_code == 200


def test_refresh_rotates_and_old_token_has_thirty_minute_grace(xero_sandbox: XeroSandbox) -> None:
    tokens = sign_in(xero_sandbox)
    first = _refresh(xero_sandbox, tokens["refresh_token"])
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert "id_token" not in rotated and rotated["expires_in"] == 1800
    # The answer was "lost": the old token still gives a valid pair within the grace period.
    xero_sandbox.clock.advance(29 * 60)
    retry = _refresh(xero_sandbox, tokens["refresh_token"])
    assert retry.status_code == 200
    assert _org(xero_sandbox, retry.json()).status_code == 200
    xero_sandbox.clock.advance(2 * 60)  # 31 minutes after the first rotation
    late = _refresh(xero_sandbox, tokens["refresh_token"])
    assert late.status_code == 400 and late.json() == {"error": "invalid_grant"}
    assert _refresh(xero_sandbox, rotated["refresh_token"]).status_code == 200


def test_refresh_token_expires_after_sixty_days_unused(xero_sandbox: XeroSandbox) -> None:
    tokens = sign_in(xero_sandbox)
    xero_sandbox.clock.advance(60 * 24 * 3600 + 1)
    assert _refresh(xero_sandbox, tokens["refresh_token"]).json() == {"error": "invalid_grant"}


def test_revocation_ends_refresh_access_and_connections(xero_sandbox: XeroSandbox) -> None:
    tokens = sign_in(xero_sandbox)
    answer = requests.post(f"{xero_sandbox.base_url}/connect/revocation", timeout=10,
                           data={"token": tokens["refresh_token"], "client_id": DEMO_CLIENT_ID})
    assert answer.status_code == 200
    assert _refresh(xero_sandbox, tokens["refresh_token"]).json() == {"error": "invalid_grant"}
    assert _org(xero_sandbox, tokens).status_code == 401


def test_hooks_revoke_all_and_expire_access(xero_sandbox: XeroSandbox) -> None:
    tokens = sign_in(xero_sandbox)
    xero_sandbox.expire_access_tokens()
    assert _org(xero_sandbox, tokens).status_code == 401
    fresh = _refresh(xero_sandbox, tokens["refresh_token"]).json()
    assert _org(xero_sandbox, fresh).status_code == 200
    xero_sandbox.revoke_all_tokens()
    assert _org(xero_sandbox, fresh).status_code == 401
    assert _refresh(xero_sandbox, fresh["refresh_token"]).status_code == 400


def test_token_endpoint_errors_are_oauth_json(xero_sandbox: XeroSandbox) -> None:
    assert _token(xero_sandbox, grant_type="password").json() == {"error": "unsupported_grant_type"}
    unknown = requests.post(f"{xero_sandbox.base_url}/connect/token", timeout=10,
                            data={"grant_type": "refresh_token", "refresh_token": "x", "client_id": "nobody"})
    assert unknown.status_code == 400 and unknown.json() == {"error": "invalid_client"}


def test_connections_match_the_identity_spec_and_can_be_deleted(
    xero_sandbox: XeroSandbox, xero_identity_spec: Any
) -> None:
    from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

    class AtXero(RequestsOpenAPIRequest):
        @property
        def host_url(self) -> str:
            return "https://api.xero.com"

    tokens = sign_in(xero_sandbox)
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    answer = requests.get(f"{xero_sandbox.base_url}/Connections", headers=auth, timeout=10)
    assert answer.status_code == 200
    xero_identity_spec.validate_response(AtXero(answer.request), RequestsOpenAPIResponse(answer))
    conns = answer.json()
    assert {c["tenantId"] for c in conns} == {CLINIC, OTHER}
    assert all(c["tenantType"] == "ORGANISATION" and c["authEventId"] for c in conns)
    other = next(c for c in conns if c["tenantId"] == OTHER)
    gone = requests.delete(f"{xero_sandbox.base_url}/Connections/{other['id']}", headers=auth, timeout=10)
    assert gone.status_code == 204
    xero_identity_spec.validate_response(AtXero(gone.request), RequestsOpenAPIResponse(gone))
    forbidden = requests.get(f"{xero_sandbox.base_url}/api.xro/2.0/Organisation", timeout=10,
                             headers={**auth, "xero-tenant-id": OTHER})
    assert forbidden.status_code == 403 and forbidden.json()["Detail"] == "AuthorizationUnsuccessful"


def test_sdk_identity_api_reads_connections(xero_sandbox: XeroSandbox) -> None:
    from xero_python.api_client import ApiClient, Configuration
    from xero_python.api_client.oauth2 import OAuth2Token
    from xero_python.identity import IdentityApi

    store: dict[str, Any] = dict(xero_sandbox.connect())
    client = ApiClient(Configuration(oauth2_token=OAuth2Token(client_id=DEMO_CLIENT_ID)), pool_threads=1,
                       oauth2_token_getter=lambda: store, oauth2_token_saver=store.update)
    client.configuration.oauth2_token = OAuth2Token(client_id=DEMO_CLIENT_ID)
    conns = IdentityApi(client, base_url=xero_sandbox.base_url).get_connections()
    assert {str(c.tenant_id) for c in conns} == {CLINIC, OTHER}
    assert all(c.tenant_type == "ORGANISATION" for c in conns)
