"""The contract checks can fail: a field, a value or a query the documents do not allow is flagged, for Xero
(its OpenAPI documents) and for Provet (provet-api.md), and a run in which the app sends one fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from provet_xero_gui.sandbox.httpbase import Request, Response, add_exchange_hook, remove_exchange_hook
from provet_xero_gui.sandbox.runner import Sandbox

from .checker import Exchange, ProvetContract, XeroContract

pytestmark = [pytest.mark.contract_exempt("sends what the documents forbid, to see it flagged"),
              pytest.mark.filterwarnings("ignore:Unsupported scheme type:UserWarning")]
ROOT = Path(__file__).resolve().parents[2]
TENANT = "6f1c2a9e-1d2b-4c3d-8e4f-5a6b7c8d9e01"


@pytest.fixture(scope="module")
def xero_contract() -> XeroContract:
    return XeroContract()


def _xero(method: str, target: str, body: Any = None, *, status: int = 200, answer: Any = None,
          headers: dict[str, str] | None = None) -> Exchange:
    return Exchange("xero", "t", method, target, {"xero-tenant-id": TENANT, "content-type": "application/json",
                                                 **(headers or {})},
                    json.dumps(body) if body is not None else "", status, "application/json",
                    json.dumps(answer) if answer is not None else "")


def _invoice(**line: Any) -> dict[str, Any]:
    return {"Invoices": [{"Type": "ACCREC", "Contact": {"ContactID": TENANT}, "Date": "2026-09-01",
                          "DueDate": "2026-09-15", "Status": "AUTHORISED", "LineAmountTypes": "Exclusive",
                          "InvoiceNumber": "INV-1", "LineItems": [{"Description": "x", "Quantity": 1.0,
                                                                   "UnitAmount": 10.0, "AccountCode": "200",
                                                                   "TaxType": "OUTPUT2", **line}]}]}


def test_a_request_the_document_allows_passes(xero_contract: XeroContract) -> None:
    ex = _xero("PUT", "/api.xro/2.0/Invoices?summarizeErrors=false&unitdp=4", _invoice(TaxAmount=2.0))
    assert xero_contract.check(ex) == []


@pytest.mark.parametrize(("ex", "expected"), [
    (_xero("PUT", "/api.xro/2.0/Invoices", _invoice(Colour="blue")),
     "request body field Invoices[].LineItems[].Colour is not in the schema"),
    (_xero("PUT", "/api.xro/2.0/Invoices", {"Invoices": [{**_invoice()["Invoices"][0], "Type": "SALE"}]}),
     "'SALE' is not one of"),
    (_xero("PUT", "/api.xro/2.0/Invoices?summariseErrors=false", _invoice()),
     "query parameter 'summariseErrors' is not declared for PUT /Invoices"),
    (_xero("GET", "/api.xro/2.0/Invoices/PV-1"), "is not a 'uuid'"),
    (_xero("GET", "/api.xro/2.0/Widgets"), "is not an operation of xero_accounting.yaml"),
    (_xero("DELETE", "/api.xro/2.0/Invoices"), "is not an operation of xero_accounting.yaml"),
    (Exchange("xero", "t", "GET", "/api.xro/2.0/Invoices", {}, "", 200, "", ""), "xero-tenant-id"),
    (_xero("GET", "/api.xro/2.0/Organisation", answer={"Organisations": [{"Name": "x", "Vibe": "calm"}]}),
     "answer field Organisations[].Vibe is not in the schema"),
    (_xero("GET", "/api.xro/2.0/TaxRates", answer={"TaxRates": [{"Status": "SLEEPING"}]}), "answer 200"),
])
def test_xero_violations_are_flagged(xero_contract: XeroContract, ex: Exchange, expected: str) -> None:
    problems = xero_contract.check(ex)
    assert any(expected in p for p in problems), problems


def _provet(method: str, target: str, body: Any = None, answer: Any = None) -> Exchange:
    return Exchange("provet", "t", method, target, {}, json.dumps(body) if body is not None else "",
                    200, "application/json", json.dumps(answer) if answer is not None else "")


LIST = {"count": 0, "num_pages": 1, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize(("ex", "expected"), [
    (_provet("GET", "/4321/api/0.1/invoice/?status__in=%5B3,99%5D&modified__gte=2026-09-01+00:00:00%2B00:00"
             "&invoice_date__gte=2026-09-01&ordering=id&page_size=50", answer=LIST), None),
    (_provet("GET", "/4321/api/0.1/invoice/?colour__is=red", answer=LIST), "'colour' is not a field of /invoice/"),
    (_provet("GET", "/4321/api/0.1/invoice/?status__in=3", answer=LIST), "a list is written [1,2,3]"),
    (_provet("GET", "/4321/api/0.1/invoice/?status__approx=3", answer=LIST), "is not `<field>__<op>`"),
    (_provet("GET", "/4321/api/0.1/invoice/?modified__gte=yesterday", answer=LIST), "not a date or datetime"),
    (_provet("GET", "/4321/api/0.1/invoice/?page_size=5000", answer=LIST), "1 to 1000"),
    (_provet("GET", "/4321/api/0.1/invoice/?ordering=colour", answer=LIST), "ordering='colour'"),
    (_provet("GET", "/4321/api/0.1/invoice", answer=LIST), "trailing slash"),
    (_provet("GET", "/4321/api/0.1/item/"), "not a resource provet-api.md documents"),
    (_provet("POST", "/4321/api/0.1/invoicepayment/", {"invoice": "u", "paid": "1.00", "note": "x"}),
     "body field 'note'"),
    (_provet("DELETE", "/4321/api/0.1/invoicepayment/3/"), "documents no such write"),
    (_provet("GET", "/4321/api/0.1/invoice/", answer={**LIST, "results": [{"id": 1, "currency": "GBP"}]}),
     "fields provet-api.md does not list: ['currency']"),
    (_provet("GET", "/4321/api/0.1/invoice/", answer={"results": []}), "not the list envelope"),
])
def test_provet_violations_are_flagged(ex: Exchange, expected: str | None) -> None:
    problems = ProvetContract().check(ex)
    if expected is None:
        assert problems == []
    else:
        assert any(expected in p for p in problems), problems


def test_what_the_sandbox_records_is_what_is_checked(xero_contract: XeroContract) -> None:
    """Through the real HTTP path: the sandbox's hook sees the request as sent, the checker flags it."""
    got: list[tuple[str, Request, Response | None]] = []

    def hook(name: str, req: Request, resp: Response | None) -> None:
        got.append((name, req, resp))

    with Sandbox(size=12) as sb:
        token = sb.xero.connect()["access_token"]
        add_exchange_hook(hook)
        try:
            requests.put(f"{sb.xero.base_url}/api.xro/2.0/Invoices", json=_invoice(Colour="blue"), timeout=10,
                         headers={"Authorization": f"Bearer {token}", "xero-tenant-id": TENANT})
        finally:
            remove_exchange_hook(hook)
    (name, req, resp), = got
    assert resp is not None
    ex = Exchange(name, "t", req.method, req.target, {k: v for k, v in req.headers.items() if k in (
        "xero-tenant-id", "content-type")}, req.body.decode(), resp.status, resp.headers["Content-Type"],
        resp.body.decode())
    assert any("Colour is not in the schema" in p for p in xero_contract.check(ex))


def test_a_run_in_which_the_app_sends_a_forbidden_field_fails() -> None:
    """The session-level check: the probe's test passes on its own, and the run fails with the violation."""
    env = {k: v for k, v in os.environ.items() if k not in ("PROVET_XERO_SANDBOX_RECORD", "PYTEST_CURRENT_TEST")}
    probe = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/contract/probe_forbidden_field.py"]
    run = subprocess.run(probe, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert "1 passed" in run.stdout, run.stdout + run.stderr
    assert run.returncode == 1, run.stdout
    assert "CONTRACT VIOLATION" in run.stdout and "LineItems[].Colour is not in the schema" in run.stdout


def test_a_field_on_the_last_document_of_a_batch_of_fifty_is_flagged(xero_contract: XeroContract) -> None:
    """The checks see each list cut to its items of new shapes; an item with something new is always kept."""
    batch = [_invoice()["Invoices"][0] for _ in range(50)]
    batch[-1] = {**batch[-1], "LineItems": [{**batch[-1]["LineItems"][0], "Colour": "blue"}]}
    problems = xero_contract.check(_xero("PUT", "/api.xro/2.0/Invoices", {"Invoices": batch}))
    assert problems == ["request body field Invoices[].LineItems[].Colour is not in the schema"]
    batch[-1] = {**batch[0], "Status": "SLEEPING"}
    assert any("'SLEEPING' is not one of" in p
               for p in xero_contract.check(_xero("PUT", "/api.xro/2.0/Invoices", {"Invoices": batch})))
