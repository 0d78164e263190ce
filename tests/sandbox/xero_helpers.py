"""Helpers for the Xero sandbox tests: the seed, raw HTTP with spec checks, PKCE sign-in, payloads."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
import yaml

from provet_xero_gui.sandbox.seed import (
    AccountSeed,
    ContactSeed,
    TaxRateSeed,
    TrackingCategorySeed,
    XeroOrgSeed,
    XeroSeed,
)
from provet_xero_gui.sandbox.xero_server import DEFAULT_REDIRECT_URIS, DEMO_CLIENT_ID, XeroSandbox

SPECS = Path(__file__).resolve().parents[1] / "contract" / "specs" / "xero"  # the project's copy, with its licence

CLINIC = "6f1c2a9e-1d2b-4c3d-8e4f-5a6b7c8d9e01"
OTHER = "0b7f5e3a-9c8d-4e2f-a1b0-c9d8e7f6a502"
START = datetime(2024, 6, 3, 9, 0, tzinfo=UTC)
REDIRECT = DEFAULT_REDIRECT_URIS[0]

_RATES = (
    TaxRateSeed("20% (VAT on Income)", "OUTPUT2", Decimal("20")),
    TaxRateSeed("5% (VAT on Income)", "RROUTPUT", Decimal("5")),
    TaxRateSeed("Zero Rated Income", "ZERORATEDOUTPUT", Decimal("0")),
    TaxRateSeed("20% (VAT on Expenses)", "INPUT2", Decimal("20"), can_apply_to_revenue=False),
    TaxRateSeed("17.5% (old)", "OLDOUTPUT", Decimal("17.5"), status="ARCHIVED"),
)
_ACCOUNTS = (
    AccountSeed("200", "Sales", "REVENUE", "OUTPUT2"),
    AccountSeed("210", "Pharmacy sales", "SALES", "RROUTPUT"),
    AccountSeed("260", "Old sales", "REVENUE", "OUTPUT2", status="ARCHIVED"),
    AccountSeed("090", "Business Bank Account", "BANK", bank_account_number="20-00-00 12345678"),
    AccountSeed("610", "Accounts Receivable", "CURRENT"),
    AccountSeed("880", "Card clearing", "CURRLIAB", enable_payments=True),
)


_TRACKING = (
    TrackingCategorySeed("Region", ("North", "South"), archived_options=("West",)),
    TrackingCategorySeed("Project", ("Alpha",)),
    TrackingCategorySeed("Old projects", ("Legacy",), status="ARCHIVED"),
)


def make_seed() -> XeroSeed:
    clinic = XeroOrgSeed(
        "Happy Paws Veterinary Ltd", CLINIC, tax_rates=_RATES, accounts=_ACCOUNTS,
        contacts=(ContactSeed("Existing Customer Ltd", email="ar@existing.example"),), tracking_categories=_TRACKING,
    )
    other = XeroOrgSeed("Other Practice (Demo)", OTHER, tax_rates=_RATES, accounts=_ACCOUNTS)
    return XeroSeed((clinic, other))


@dataclass
class XeroHttp:
    """Raw HTTP against the sandbox with a token and tenant, checking answers against the spec."""

    sandbox: XeroSandbox
    token: dict[str, Any]
    tenant: str = CLINIC
    spec: Any = None  # openapi_core.OpenAPI for xero_accounting.yaml, or None to skip checks

    def call(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None, check: bool = True) -> requests.Response:
        h = {"Authorization": f"Bearer {self.token['access_token']}", "xero-tenant-id": self.tenant,
             "Accept": "application/json"}
        h.update(headers or {})
        resp = requests.request(method, f"{self.sandbox.base_url}/api.xro/2.0{path}", json=json,
                                params=params, headers=h, timeout=10)
        if check and self.spec is not None and resp.status_code in (200, 400):
            check_accounting(self.spec, resp)
        return resp

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.call("GET", path, **kw)

    def put(self, path: str, json: Any, **kw: Any) -> requests.Response:
        return self.call("PUT", path, json=json, **kw)

    def post(self, path: str, json: Any, **kw: Any) -> requests.Response:
        return self.call("POST", path, json=json, **kw)


def load_spec(name: str) -> Any:
    from openapi_core import OpenAPI
    from openapi_core.configurations import Config

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with (SPECS / name).open(encoding="utf-8") as fh:
        spec = yaml.load(fh, Loader=loader)
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


def _adapters(resp: requests.Response) -> tuple[Any, Any]:
    from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

    class AtXero(RequestsOpenAPIRequest):
        """The sandbox request as if sent to api.xero.com, the spec's server."""

        @property
        def host_url(self) -> str:
            return "https://api.xero.com"

    return AtXero(resp.request), RequestsOpenAPIResponse(resp)


def check_accounting(spec: Any, resp: requests.Response, *, request: bool = True) -> None:
    """Both the request the test sent and the sandbox's answer must satisfy the spec."""
    req, res = _adapters(resp)
    if request:
        spec.validate_request(req)
    spec.validate_response(req, res)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


SCOPES = ("openid profile email offline_access accounting.invoices accounting.payments "
          "accounting.contacts accounting.settings")


def authorize_url(sandbox: XeroSandbox, challenge: str, *, state: str = "st4te", redirect: str = REDIRECT,
                  scope: str = SCOPES, **extra: str) -> str:
    params = {"response_type": "code", "client_id": DEMO_CLIENT_ID, "redirect_uri": redirect, "scope": scope,
              "state": state, "code_challenge": challenge, "code_challenge_method": "S256", **extra}
    return f"{sandbox.base_url}/identity/connect/authorize?{urlencode(params)}"


def sign_in(sandbox: XeroSandbox, *, scope: str = SCOPES) -> dict[str, Any]:
    """The whole browser dance over HTTP: consent page, Allow, code for tokens."""
    verifier, challenge = pkce_pair()
    location = sandbox.approve_consent(authorize_url(sandbox, challenge, scope=scope))
    code = parse_qs(urlsplit(location).query)["code"][0]
    resp = requests.post(f"{sandbox.base_url}/connect/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": DEMO_CLIENT_ID, "code_verifier": verifier}, timeout=10)
    resp.raise_for_status()
    return resp.json()


def invoice_json(number: str, *, contact: dict[str, Any] | None = None, amount: str = "100.00",
                 status: str = "AUTHORISED", tax: str = "OUTPUT2", account: str = "200",
                 day: date = date(2024, 6, 1), **extra: Any) -> dict[str, Any]:
    return {
        "Type": "ACCREC", "Contact": contact or {"Name": "Jane Doe"}, "InvoiceNumber": number,
        "Date": day.isoformat(), "DueDate": date(2024, 7, 1).isoformat(), "Status": status,
        "LineAmountTypes": "Exclusive",
        "LineItems": [{"Description": "Consultation", "Quantity": 1, "UnitAmount": float(amount),
                       "AccountCode": account, "TaxType": tax}],
        **extra,
    }
