"""The simulated Provet Cloud over HTTP: auth, slashes, paging, filters, writes, limits and faults."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

import pytest
import requests

from provet_xero_gui.sandbox import clinic as C
from provet_xero_gui.sandbox.clinic import Clinic
from provet_xero_gui.sandbox.clock import SandboxClock
from provet_xero_gui.sandbox.provet_server import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_PROVET_ID, ProvetSandbox

if TYPE_CHECKING:
    from provet_fixtures import ProvetApi

pytest_plugins = ["provet_fixtures"]
TIMEOUT = 10
Fetch = Callable[..., requests.Response]


def _stamp(dt) -> str:  # the documented filter format, "+" percent-encoded
    return dt.strftime("%Y-%m-%d %H:%M:%S.%f") + "%2B00:00"


# ---------------------------------------------------------------------------------------------- auth


def test_instance_url_and_constants(provet: ProvetSandbox) -> None:
    assert provet.instance_url == f"http://127.0.0.1:{provet.port}/{DEMO_PROVET_ID}/"
    assert DEMO_CLIENT_ID == "provet-xero-demo" and "not-real" in DEMO_CLIENT_SECRET


def test_token_with_basic_auth_and_with_form_fields(provet: ProvetSandbox, provet_fetch_token: Fetch) -> None:
    resp = provet_fetch_token(provet)
    assert resp.status_code == 200
    body = resp.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["scope"] == "restapi"
    form = {"grant_type": "client_credentials", "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET}
    assert requests.post(provet.token_url, data=form, timeout=TIMEOUT).status_code == 200


def test_token_refused(provet: ProvetSandbox, provet_fetch_token: Fetch) -> None:
    resp = provet_fetch_token(provet, secret="wrong")
    assert resp.status_code == 401 and resp.json() == {"error": "invalid_client"}
    bad_grant = {"grant_type": "password", "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET}
    assert requests.post(provet.token_url, data=bad_grant, timeout=TIMEOUT).status_code == 400


def test_bearer_missing_invalid_and_expired(
    provet: ProvetSandbox, provet_clock: SandboxClock, provet_fetch_token: Fetch
) -> None:
    url = provet.api_url + "vatgroup/"
    assert requests.get(url, timeout=TIMEOUT).status_code == 401
    assert requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=TIMEOUT).status_code == 401
    assert requests.get(url, headers={"Authorization": "Token abc"}, timeout=TIMEOUT).status_code == 401
    token = provet_fetch_token(provet).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert requests.get(url, headers=auth, timeout=TIMEOUT).status_code == 200
    provet_clock.advance(3599)
    assert requests.get(url, headers=auth, timeout=TIMEOUT).status_code == 200
    provet_clock.advance(2)
    resp = requests.get(url, headers=auth, timeout=TIMEOUT)
    assert resp.status_code == 401 and "expired" in resp.json()["detail"]


@pytest.mark.contract_exempt("sends what provet-api.md does not allow, on purpose (no trailing slash)")
def test_missing_trailing_slash_redirects(provet_api: ProvetApi) -> None:
    resp = provet_api.get("invoice", {"status__is": 3}, allow_redirects=False)
    assert resp.status_code == 301
    assert resp.headers["Location"] == provet_api.url("invoice/?status__is=3")
    assert provet_api.get("invoice/5", allow_redirects=False).headers["Location"] == provet_api.url("invoice/5/")
    assert provet_api.get("invoice").status_code == 200  # requests follows it


# -------------------------------------------------------------------------------------------- paging


def test_paging_follows_next_and_previous(provet_api: ProvetApi, provet_clinic: Clinic) -> None:
    first = provet_api.get("invoice/", {"page_size": 5, "ordering": "id"}).json()
    total = len(provet_clinic.provet.invoices)
    assert first["count"] == total and first["num_pages"] == -(-total // 5)
    assert first["previous"] is None and len(first["results"]) == 5
    seen, page, pages = [], first, 1
    while True:
        seen += [r["id"] for r in page["results"]]
        if not page["next"]:
            break
        nxt = provet_api.session.get(page["next"], timeout=TIMEOUT).json()
        pages += 1
        if pages == 2:
            assert "page=" not in nxt["previous"] and "page_size=5" in nxt["previous"]
        page = nxt
    assert seen == sorted(i.id for i in provet_clinic.provet.invoices)
    assert pages == first["num_pages"]
    assert provet_api.get("invoice/", {"page": pages + 1, "page_size": 5}).status_code == 404
    assert provet_api.get("invoice/", {"page": "last", "page_size": 5}).json()["previous"]


@pytest.mark.contract_exempt("orderings provet-api.md does not name, on purpose (an unknown field, two fields)")
def test_a_list_comes_newest_first_unless_an_order_is_asked_for(
    provet_api: ProvetApi, provet_clinic: Clinic
) -> None:
    """provet-api.md promises no order; the sandbox's own is not ascending id, so a reader must ask."""
    ids = sorted(i.id for i in provet_clinic.provet.invoices)

    def listed(**params: str) -> list[int]:
        return [r["id"] for r in provet_api.get("invoice/", {"page_size": 50, **params}).json()["results"]]

    assert listed() == ids[::-1]
    assert listed(ordering="id") == ids
    assert listed(ordering="-id") == ids[::-1]
    assert listed(ordering="no_such_field") == ids[::-1]  # dropped silently, as Django REST does
    by_status = listed(ordering="status,-id")
    keys = {i.id: (i.status, -i.id) for i in provet_clinic.provet.invoices}
    assert by_status == sorted(ids, key=lambda i: keys[i]) != ids
    # id__gt paging without asking for the order reads the newest page, then nothing: what a reader must avoid
    first = provet_api.get("invoice/", {"page_size": 5}).json()
    after = provet_api.get("invoice/", {"page_size": 5, "id__gt": max(r["id"] for r in first["results"])}).json()
    assert after["results"] == [] and first["count"] == len(ids) > 5


def test_answers_carry_the_sandbox_clock_in_their_date_header(provet_api: ProvetApi, provet: ProvetSandbox) -> None:
    provet.clock.advance(3 * 3600)
    said = parsedate_to_datetime(provet_api.get("vatgroup/").headers["Date"])
    assert abs(said - provet.clock.now()) < timedelta(seconds=5)


@pytest.mark.contract_exempt("sends what provet-api.md does not allow, on purpose (page_size over 1000)")
def test_page_size_capped_and_offset_limit(provet_api: ProvetApi) -> None:
    body = provet_api.get("invoicerow/", {"page_size": 5000}).json()
    assert len(body["results"]) == body["count"] <= 1000
    resp = provet_api.get("invoicerow/", {"page_size": 1000, "page": 11})
    assert resp.status_code == 400 and "id__gt" in resp.json()["detail"]


def test_page_size_cost_counts_against_the_limit(provet: ProvetSandbox, provet_api: ProvetApi) -> None:
    for _ in range(3):
        assert provet_api.get("invoice/", {"page_size": 1000}).status_code == 200  # 20 each
    assert provet.limiter.remaining("invoice", 60) == 0
    assert provet_api.get("invoice/", {"page_size": 10}).status_code == 429


# ------------------------------------------------------------------------------------------- filters


@pytest.mark.contract_exempt("also tries filter forms beyond provet-api.md (bare field=value, spaced lists)")
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status__is=0", lambda i: i.status == 0),
        ("status=0", lambda i: i.status == 0),
        ("status__is_not=3", lambda i: i.status != 3),
        ("id__lt=5", lambda i: i.id < 5),
        ("id__lte=5", lambda i: i.id <= 5),
        ("id__gt=20", lambda i: i.id > 20),
        ("id__gte=20", lambda i: i.id >= 20),
        ("id__range=[3,6]", lambda i: 3 <= i.id <= 6),
        ("id__in=[1,2,3]", lambda i: i.id in (1, 2, 3)),
        ("id__in=[1, 2, 3]", lambda i: i.id in (1, 2, 3)),
        ("id__not_in=[1,2,3]", lambda i: i.id not in (1, 2, 3)),
        ("client__is_null=true", lambda i: i.client_id is None),
        ("client__is_null=false", lambda i: i.client_id is not None),
        ("client__is=4", lambda i: i.client_id == 4),
        ("client__in=[4,5]", lambda i: i.client_id in (4, 5)),
        ("credit_note__is=true", lambda i: i.credit_note),
        ("due_sum__gt=0&status__is=3", lambda i: i.due_sum > 0 and i.status == 3),
        ("total_with_vat__lt=0", lambda i: i.total_with_vat < 0),
        ("invoice_date__range=[2026-09-10,2026-09-20]", lambda i: "2026-09-10" <= str(i.invoice_date) <= "2026-09-20"),
        ("invoice_prefix__is=RS", lambda i: i.invoice_prefix == "RS"),
        ("payer_name__contains=Smith", lambda i: "Smith" in i.payer_name),
        ("payer_name__icontains=smith", lambda i: "smith" in i.payer_name.lower()),
        ("payer_name__icontains=ÖBERG", lambda i: "öberg" in i.payer_name.lower()),
        ("status__is=0&status__is=2&filter_type=or", lambda i: i.status in (0, 2)),
        ("client__is_null=true&credit_note=true&filter_type=or", lambda i: i.client_id is None or i.credit_note),
    ],
)
def test_filter_operators(provet_api: ProvetApi, provet_clinic: Clinic, query: str, expected) -> None:
    resp = provet_api.get_raw(f"invoice/?{query}&page_size=1000&ordering=id")
    assert resp.status_code == 200, resp.text
    got = [r["id"] for r in resp.json()["results"]]
    want = [i.id for i in provet_clinic.provet.invoices if expected(i)]
    assert got == want and want, query


def test_contains_is_case_sensitive_and_works_on_clients(provet_api: ProvetApi) -> None:
    assert len(provet_api.all_ids("client/", {"lastname__contains": "Smith"})) == 2
    assert provet_api.all_ids("client/", {"lastname__contains": "smith"}) == []
    assert provet_api.all_ids("client/", {"firstname__icontains": "zoë"}) == [2]


def test_relation_filter_by_id_or_url(provet_api: ProvetApi, provet_clinic: Clinic) -> None:
    inv = provet_clinic.provet.invoice(4)
    assert provet_api.all_ids("invoicepayment/", {"invoice__in": "[4]"}) == [p.id for p in inv.payments]
    assert provet_api.all_ids("invoicerow/", {"invoice__is": provet_api.url("invoice/4/")}) == [r.id for r in inv.rows]
    rows_1_2 = [r.id for i in (1, 2) for r in provet_clinic.provet.invoice(i).rows]
    assert provet_api.all_ids("invoicerow/", {"invoice__in": "[1,2]"}) == rows_1_2


@pytest.mark.contract_exempt("sends what provet-api.md does not allow, on purpose (an unencoded +)")
def test_datetime_filter_with_encoded_plus(provet_api: ProvetApi, provet_clinic: Clinic) -> None:
    cut = provet_clinic.now - timedelta(days=10)
    resp = provet_api.get_raw("invoice/?ordering=id&modified__gte=" + cut.strftime("%Y-%m-%d %H:%M") + "%2B00:00")
    assert resp.status_code == 200
    want = [i.id for i in provet_clinic.provet.invoices if i.modified >= cut.replace(second=0)]
    assert [r["id"] for r in resp.json()["results"]] == want and want
    # requests encodes "+" as %2B itself when given params
    assert provet_api.get("invoice/", {"modified__gte": cut.strftime("%Y-%m-%d %H:%M+00:00")}).json()["count"] == len(
        want
    )
    raw_plus = provet_api.get_raw("invoice/?modified__gte=" + cut.strftime("%Y-%m-%d %H:%M") + "+00:00")
    assert raw_plus.status_code == 400 and "%2B" in raw_plus.json()["detail"]


@pytest.mark.contract_exempt("sends what provet-api.md does not allow, on purpose (bad filters)")
@pytest.mark.parametrize(
    "query",
    [
        "nope__is=1",
        "client__city__is=Bath",
        "id__is=abc",
        "credit_note__is=maybe",
        "payer_name__lt=x&id__in=[x]",
        "total__contains=1",
        "invoice_row__is=1",
        "filter_type=xor",
        "expose_nope=true",
        "page_size=0",
    ],
)
def test_bad_filters_are_400_with_a_message(provet_api: ProvetApi, query: str) -> None:
    resp = provet_api.get_raw(f"invoice/?{query}")
    assert resp.status_code == 400 and resp.json()["detail"]


@pytest.mark.contract_exempt("sends what provet-api.md does not allow, on purpose (an unknown field)")
def test_unknown_field_names_the_field(provet_api: ProvetApi) -> None:
    resp = provet_api.get("invoice/", {"nope__gte": 1})
    assert "'nope'" in resp.json()["detail"]


# ------------------------------------------------------------------------------ fields and relations


def test_fields_and_money_rendering(provet_api: ProvetApi, provet_clinic: Clinic) -> None:
    inv = provet_api.get("invoice/4/").json()
    expected = {
        "id", "url", "invoice_number", "invoice_prefix", "status", "invoice_date", "invoice_due_date", "date_paid",
        "created", "modified", "client", "department", "payer_name", "payer_organization_name", "payer_vat_number",
        "payer_street_address", "payer_zip_code", "payer_city", "payer_country", "total", "total_vat",
        "total_with_vat", "due_sum", "countersale", "credit_note", "credit_note_original_invoice",
        "consolidated_invoice", "consolidated_invoices", "related_consolidated_invoice", "vat_calculation_method",
        "invoice_row", "invoice_payment", "remarks",
    }  # fmt: skip
    assert set(inv) == expected
    src = provet_clinic.provet.invoice(4)
    assert inv["total_with_vat"] == f"{src.total_with_vat:.2f}" and inv["due_sum"] == "0.00"
    assert inv["created"].endswith("+00:00")
    pay = provet_api.get("invoicepayment/", {"invoice__is": 4}).json()["results"][0]
    assert set(pay) == {"id", "url", "invoice", "payment_type", "payment_method", "paid", "payment_date", "status",
                        "info", "created", "modified"}  # fmt: skip
    assert Decimal(pay["paid"]).as_tuple().exponent == -2
    row = provet_api.get("invoicerow/1/").json()
    assert row["price"].count(".") == 1 and len(row["price"].split(".")[1]) == 4
    assert set(provet_api.get("vatgroup/1/").json()) == {
        "id",
        "url",
        "title",
        "percentage",
        "archived",
        "account_number",
    }
    assert set(provet_api.get("paymentmethod/1/").json()) == {"id", "url", "name", "payment_type", "archived"}
    assert set(provet_api.get("unallocatedpayment/1/").json()) == {"id", "url", "client", "paid", "payment_type",
                                                                   "created", "modified"}  # fmt: skip
    assert set(provet_api.get("department/1/").json()) == {"id", "url", "name"}


def test_relations_are_absolute_urls_that_resolve(provet_api: ProvetApi) -> None:
    inv = provet_api.get("invoice/2/").json()
    assert inv["url"] == provet_api.url("invoice/2/")
    client = provet_api.session.get(inv["client"], timeout=TIMEOUT).json()
    assert client["id"] == 2 and client["firstname"] == "Zoë"
    for row_url in inv["invoice_row"]:
        assert provet_api.session.get(row_url, timeout=TIMEOUT).json()["invoice"] == inv["url"]
    phone = provet_api.session.get(client["phone_numbers"][0], timeout=TIMEOUT).json()
    assert phone["client"] == client["url"]
    assert provet_api.get("invoice/99999/").status_code == 404


def test_expose_embeds_related_objects(provet_api: ProvetApi) -> None:
    inv = provet_api.get("invoice/2/", {"expose_client": "true", "expose_invoice_row": "true"}).json()
    assert inv["client"]["lastname"] == "Ní Bhriain"
    assert all(isinstance(r, dict) and r["invoice"] == inv["url"] for r in inv["invoice_row"])
    listed = provet_api.get("invoice/", {"id__in": "[2]", "expose_invoice_payment": "1"}).json()["results"][0]
    assert listed["invoice_payment"][0]["paid"]


@pytest.mark.contract_exempt("filters by bare field=value, beyond provet-api.md")
def test_consolidated_and_credit_note_links(provet_api: ProvetApi, provet_clinic: Clinic) -> None:
    cons = provet_api.get("invoice/", {"consolidated_invoice": "true"}).json()["results"][0]
    for url in cons["consolidated_invoices"]:
        gathered = provet_api.session.get(url, timeout=TIMEOUT).json()
        assert gathered["related_consolidated_invoice"] == cons["url"]
    note = provet_api.get("invoice/", {"credit_note": "true"}).json()["results"][0]
    assert note["credit_note_original_invoice"].startswith(provet_api.url("invoice/"))


# --------------------------------------------------------------------------------------------- writes


def _xero_payment(api: ProvetApi, invoice_id: int, paid: str) -> requests.Response:
    return api.post("invoicepayment/", {
        "invoice": api.url(f"invoice/{invoice_id}/"), "payment_type": 11,
        "payment_method": api.url(f"paymentmethod/{C.XERO_PAYMENTS_METHOD}/"), "paid": paid,
        "payment_date": "2026-09-30", "status": 3, "info": "Xero payment 0f8e",
    })  # fmt: skip


def test_post_payment(provet_api: ProvetApi, provet: ProvetSandbox, provet_clinic: Clinic) -> None:
    before = provet.invoice(3)
    resp = _xero_payment(provet_api, 3, "12.50")
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["paid"] == "12.50" and body["status"] == 3 and body["invoice"] == provet_api.url("invoice/3/")
    after = provet.invoice(3)
    assert after.due_sum == before.due_sum - Decimal("12.50") and after.modified > before.modified
    assert body["url"] in provet_api.get("invoice/3/").json()["invoice_payment"]
    delta = provet_api.get_raw("invoicepayment/?modified__gte=" + _stamp(provet_clinic.now)).json()
    assert [r["id"] for r in delta["results"]] == [body["id"]]


@pytest.mark.parametrize(
    ("invoice_id", "paid", "extra", "field"),
    [
        (24, "10.00", {}, "invoice"),  # a draft
        (21, "10.00", {}, "invoice"),  # voided
        (3, "9999.00", {}, "paid"),  # more than due
        (3, "0", {}, "paid"),
        (3, "-5.00", {}, "paid"),
        (3, "1.005", {}, "paid"),
        (1, "1.00", {}, "paid"),  # paid in full already
        (3, "1.00", {"payment_type": 0}, "payment_method"),  # Xero payments method is type 11
        (3, "1.00", {"payment_method": 19, "payment_type": 5}, "payment_method"),  # archived method
        (3, "1.00", {"payment_type": 42}, "payment_type"),
        (3, "1.00", {"status": 99}, "status"),
        (99999, "1.00", {}, "invoice"),
    ],
)
def test_post_payment_refused(provet_api: ProvetApi, provet: ProvetSandbox, invoice_id, paid, extra, field) -> None:
    body = {"invoice": invoice_id, "payment_type": 11, "payment_method": C.XERO_PAYMENTS_METHOD, "paid": paid, **extra}
    if "payment_method" in extra and isinstance(extra["payment_method"], int):
        body["payment_method"] = provet_api.url(f"paymentmethod/{extra['payment_method']}/")
    resp = provet_api.post("invoicepayment/", body)
    assert resp.status_code == 400, resp.text
    assert field in resp.json()
    assert provet.counter.statuses().get(201) is None


def test_cancel_payment(provet_api: ProvetApi, provet: ProvetSandbox) -> None:
    pay = provet.payments_for(1)[0]
    resp = provet_api.post(f"invoicepayment/{pay.id}/cancel_payment/")
    assert resp.status_code == 200 and resp.json()["status"] == C.PAYMENT_CANCELLED
    inv = provet.invoice(1)
    assert inv.due_sum == inv.total_with_vat and inv.date_paid is None
    again = provet_api.post(f"invoicepayment/{pay.id}/cancel_payment/")
    assert again.status_code == 400
    assert provet_api.post("invoicepayment/99999/cancel_payment/").status_code == 404


@pytest.mark.contract_exempt("sends what provet-api.md does not allow, on purpose (a read-only id in the body)")
def test_patch_client_moves_modified_and_shows_in_delta(provet_api: ProvetApi, provet: ProvetSandbox,
                                                        provet_clock: SandboxClock) -> None:  # fmt: skip
    provet_clock.advance(5)
    cursor = provet_clock.now()
    provet_clock.advance(5)
    resp = provet_api.patch("client/3/", {"email": "finance@mueller.example.de", "city": "München", "id": 77})
    assert resp.status_code == 200, resp.text
    assert resp.json()["email"] == "finance@mueller.example.de" and resp.json()["id"] == 3
    delta = provet_api.get_raw("client/?modified__gte=" + _stamp(cursor)).json()
    assert [c["id"] for c in delta["results"]] == [3]
    assert provet.client(3).city == "München"


@pytest.mark.contract_exempt("sends what provet-api.md does not allow, on purpose (refused client fields)")
@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email"},
        {"firstname": None},
        {"country": "Germany"},
        {"customer_type": 9},
        {"firstname": "", "lastname": "", "organization_name": ""},
        {"archived": "yes"},
    ],
)
def test_patch_client_refused(provet_api: ProvetApi, provet: ProvetSandbox, body: dict) -> None:
    before = provet.client(3)
    resp = provet_api.patch("client/3/", body)
    assert resp.status_code == 400, resp.text
    assert provet.client(3) == before


@pytest.mark.contract_exempt("sends what provet-api.md does not allow, on purpose (methods it does not document)")
def test_unsupported_methods(provet_api: ProvetApi) -> None:
    assert provet_api.session.put(provet_api.url("client/3/"), json={}, timeout=TIMEOUT).status_code == 405
    assert provet_api.post("invoice/", {}).status_code == 405
    assert provet_api.patch("invoice/3/", {}).status_code == 405


def test_phone_numbers_post_and_patch_move_client(provet_api: ProvetApi, provet: ProvetSandbox) -> None:
    before = provet.client(7).modified
    resp = provet_api.post("phonenumber/", {"client": provet_api.url("client/7/"), "phone_number": "07700 900777"})
    assert resp.status_code == 201
    assert provet.client(7).modified > before
    phone_id = resp.json()["id"]
    assert provet_api.patch(f"phonenumber/{phone_id}/", {"phone_number": "07700 900778"}).status_code == 200
    assert provet.client(7).phone_numbers[-1].phone_number == "07700 900778"
    assert provet_api.patch(f"phonenumber/{phone_id}/", {"phone_number": "call me"}).status_code == 400


# ------------------------------------------------------------------------------------ limits and faults


def test_invoice_list_rate_limit_and_recovery(provet_api: ProvetApi, provet_clock: SandboxClock) -> None:
    for n in range(60):
        assert provet_api.get("invoice/", {"page_size": 1}).status_code == 200, n
    resp = provet_api.get("invoice/", {"page_size": 1})
    assert resp.status_code == 429
    wait = int(resp.headers["Retry-After"])
    assert 1 <= wait <= 60
    assert provet_api.get("vatgroup/").status_code == 200  # another endpoint has its own budget
    assert provet_api.get("invoice/1/").status_code == 429  # detail shares the invoice budget
    provet_clock.advance(wait + 0.5)
    assert provet_api.get("invoice/", {"page_size": 1}).status_code == 200


def test_rate_limits_can_be_switched_off(provet: ProvetSandbox, provet_fetch_token: Fetch) -> None:
    provet.rate_limits = False
    sb = provet
    try:
        token = provet_fetch_token(sb).json()["access_token"]
        with requests.Session() as s:
            s.headers["Authorization"] = f"Bearer {token}"
            codes = {s.get(sb.api_url + "invoice/", params={"page_size": 1000}, timeout=TIMEOUT).status_code
                     for _ in range(5)}  # fmt: skip
    finally:
        provet.rate_limits = True
    assert codes == {200}


def test_fault_503_before_anything_happens(provet_api: ProvetApi, provet: ProvetSandbox) -> None:
    provet.faults.fail_next = 1
    before = provet.invoice(3).due_sum
    assert _xero_payment(provet_api, 3, "5.00").status_code == 503
    assert provet.invoice(3).due_sum == before
    assert _xero_payment(provet_api, 3, "5.00").status_code == 201


def test_fault_dropped_after_commit(provet_api: ProvetApi, provet: ProvetSandbox) -> None:
    provet.faults.drop_next_writes = 1
    before = len(provet.payments_for(3))
    with pytest.raises(requests.ConnectionError):
        _xero_payment(provet_api, 3, "5.00")
    pays = provet.payments_for(3)
    assert len(pays) == before + 1 and pays[-1].info == "Xero payment 0f8e"
    assert provet.counter.statuses().get(0) == 1


def test_counter_counts_per_endpoint(provet_api: ProvetApi, provet: ProvetSandbox) -> None:
    provet_api.get("invoice/")
    provet_api.get("invoice/1/")
    provet_api.get("client/")
    counts = provet.counter.counts()
    assert counts["GET /invoice/"] == 1 and counts["GET /invoice/{id}/"] == 1 and counts["GET /client/"] == 1
    assert counts["POST /oauth2/token/"] == 1
