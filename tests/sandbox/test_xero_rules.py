"""Xero's business rules as the sandbox enforces them: one test per rule the app leans on."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from email.utils import format_datetime
from typing import Any

import pytest
import requests
from xero_helpers import CLINIC, XeroHttp, authorize_url, invoice_json, pkce_pair

from provet_xero_gui.sandbox.xero_server import XeroRuleError, XeroSandbox

pytest_plugins = ["xero_fixtures"]
pytestmark = pytest.mark.filterwarnings("ignore:Unsupported scheme type:UserWarning")


def _errors(resp: requests.Response, index: int = 0) -> list[str]:
    body = resp.json()
    elements = body["Elements"] if "Elements" in body else next(v for k, v in body.items() if isinstance(v, list))
    return [e["Message"] for e in elements[index]["ValidationErrors"]]


def _create(xero_http: XeroHttp, *bodies: dict[str, Any]) -> list[dict[str, Any]]:
    resp = xero_http.put("/Invoices", {"Invoices": list(bodies)})
    assert resp.status_code == 200, resp.text
    return resp.json()["Invoices"]


def _pay(xero_http: XeroHttp, invoice_id: str, amount: float, *, code: str = "090",
         day: str = "2024-06-03") -> requests.Response:
    return xero_http.put("/Payments", {"Payments": [{"Invoice": {"InvoiceID": invoice_id},
                                                     "Account": {"Code": code}, "Amount": amount, "Date": day}]})


def test_invoice_number_must_be_unique(xero_sandbox: XeroSandbox, xero_http: XeroHttp) -> None:
    _create(xero_http, invoice_json("PV-100"))
    again = xero_http.put("/Invoices", {"Invoices": [invoice_json("pv-100")]})
    assert again.status_code == 400 and _errors(again) == ["Invoice # must be unique."]
    same_batch = xero_http.put("/Invoices", {"Invoices": [invoice_json("PV-101"), invoice_json("PV-101")]})
    assert same_batch.status_code == 400 and _errors(same_batch, 1) == ["Invoice # must be unique."]
    assert [i.number for i in xero_sandbox.invoices(CLINIC)] == ["PV-100"]


def test_contact_name_unique_among_active_contacts(xero_sandbox: XeroSandbox, xero_http: XeroHttp) -> None:
    dup = xero_http.put("/Contacts", {"Contacts": [{"Name": " existing  customer LTD"}]})
    assert dup.status_code == 400
    assert _errors(dup) == [
        "The contact name existing  customer LTD is already assigned to another contact. "
        "The contact name must be unique across all active contacts."
    ]
    seeded = xero_sandbox.contacts(CLINIC)[0]
    xero_sandbox.edit_contact(CLINIC, seeded.contact_id, status="ARCHIVED")
    assert xero_http.put("/Contacts", {"Contacts": [{"Name": "Existing Customer Ltd"}]}).status_code == 200


@pytest.mark.contract_exempt("sends a ContactNumber over the schema's 50 characters on purpose")
def test_contact_number_at_most_fifty_characters(xero_http: XeroHttp) -> None:
    long = xero_http.put("/Contacts", {"Contacts": [{"Name": "Long Number", "ContactNumber": "x" * 51}]},
                         check=False)  # the spec itself forbids the request
    assert long.status_code == 400
    assert _errors(long) == ["Contact Number must not be more than 50 characters long."]


@pytest.mark.parametrize(("tax", "message"), [
    ("NOPE", "The TaxType code 'NOPE' does not exist or cannot be used with this type of transaction."),
    ("OLDOUTPUT", "The TaxType code 'OLDOUTPUT' is archived and cannot be used."),
    ("INPUT2", "The TaxType code 'INPUT2' does not exist or cannot be used with this type of transaction."),
])
def test_tax_type_must_exist_be_active_and_usable_on_revenue(xero_http: XeroHttp, tax: str, message: str) -> None:
    resp = xero_http.put("/Invoices", {"Invoices": [invoice_json("PV-T", tax=tax)]})
    assert resp.status_code == 400 and _errors(resp) == [message]


def test_archiving_a_tax_rate_stops_its_use(xero_sandbox: XeroSandbox, xero_http: XeroHttp) -> None:
    xero_sandbox.archive_tax_rate(CLINIC, "RROUTPUT")
    resp = xero_http.put("/Invoices", {"Invoices": [invoice_json("PV-T", tax="RROUTPUT")]})
    assert _errors(resp) == ["The TaxType code 'RROUTPUT' is archived and cannot be used."]


@pytest.mark.parametrize(("code", "message"), [
    ("999", "Account code '999' is not a valid code for this document."),
    ("090", "Account code '090' is not a valid code for this document."),
    ("260", "The account code '260' has been archived, or deleted. Each line item must reference a valid account."),
])
def test_account_code_must_exist_and_be_active(xero_http: XeroHttp, code: str, message: str) -> None:
    resp = xero_http.put("/Invoices", {"Invoices": [invoice_json("PV-A", account=code)]})
    assert resp.status_code == 400 and _errors(resp) == [message]


def test_line_arithmetic_like_xero(xero_http: XeroHttp) -> None:
    def lines(lat: str, *items: tuple[str, str, str | None]) -> dict[str, Any]:
        body = invoice_json(f"PV-{lat}", LineAmountTypes=lat)
        body["LineItems"] = [
            {"Description": "x", "Quantity": float(q), "UnitAmount": float(u), "AccountCode": "200",
             "TaxType": "OUTPUT2", **({"DiscountRate": float(d)} if d else {})}
            for q, u, d in items
        ]
        return body

    exclusive, inclusive, no_tax = _create(
        xero_http,
        lines("Exclusive", ("1", "0.63", None), ("1", "0.63", None), ("3", "10.00", "15")),
        lines("Inclusive", ("1", "10.00", None), ("2", "0.99", None)),
        lines("NoTax", ("2", "12.50", None)),
    )
    # Tax per line rounded (0.126 → 0.13 twice), then summed; 15 % off 30.00 = 25.50 (+5.10 tax).
    assert [li["TaxAmount"] for li in exclusive["LineItems"]] == [0.13, 0.13, 5.10]
    assert (exclusive["SubTotal"], exclusive["TotalTax"], exclusive["Total"]) == (26.76, 5.36, 32.12)
    assert exclusive["IsDiscounted"] is True
    # Inclusive: 10.00 holds 1.67 tax, 1.98 holds 0.33.
    assert (inclusive["SubTotal"], inclusive["TotalTax"], inclusive["Total"]) == (9.98, 2.00, 11.98)
    assert (no_tax["TotalTax"], no_tax["Total"], no_tax["LineItems"][0]["TaxType"]) == (0.0, 25.0, "NONE")


def test_overpayment_refused(xero_http: XeroHttp) -> None:
    inv = _create(xero_http, invoice_json("PV-P", amount="10.00"))[0]  # 12.00 due
    assert _pay(xero_http, inv["InvoiceID"], 5).status_code == 200
    over = _pay(xero_http, inv["InvoiceID"], 7.01)
    assert over.status_code == 400
    assert _errors(over) == ["Payment amount exceeds the amount outstanding on this document"]
    assert _pay(xero_http, inv["InvoiceID"], 7).status_code == 200
    zero = _pay(xero_http, inv["InvoiceID"], 0)
    assert _errors(zero)[0] == "Payment amount must be greater than zero."


def test_payments_only_to_accounts_that_take_them(xero_http: XeroHttp) -> None:
    inv = _create(xero_http, invoice_json("PV-ACC"))[0]
    refused = _pay(xero_http, inv["InvoiceID"], 10, code="610")
    assert _errors(refused) == ["Account type is invalid for making a payment to/from"]
    assert _pay(xero_http, inv["InvoiceID"], 10, code="880").status_code == 200  # EnablePaymentsToAccount


def test_payments_only_on_authorised_invoices(xero_http: XeroHttp) -> None:
    draft = _create(xero_http, invoice_json("PV-D", status="DRAFT"))[0]
    refused = _pay(xero_http, draft["InvoiceID"], 1)
    assert _errors(refused) == ["Payments can only be made against AUTHORISED documents; this one is DRAFT."]


def test_full_payment_marks_paid_and_deleting_restores(xero_sandbox: XeroSandbox, xero_http: XeroHttp) -> None:
    inv = _create(xero_http, invoice_json("PV-F", amount="10.00"))[0]
    payment = _pay(xero_http, inv["InvoiceID"], 12).json()["Payments"][0]
    record = xero_sandbox.invoice(CLINIC, "PV-F")
    assert (record.status, record.amount_due, record.fully_paid_on) == ("PAID", Decimal("0.00"), date(2024, 6, 3))
    xero_sandbox.delete_payment(CLINIC, payment["PaymentID"])
    record = xero_sandbox.invoice(CLINIC, "PV-F")
    assert (record.status, record.amount_due, record.fully_paid_on) == ("AUTHORISED", Decimal("12.00"), None)
    again = xero_http.post(f"/Payments/{payment['PaymentID']}", {"Status": "DELETED"})
    assert _errors(again) == ["This payment has already been deleted."]


def test_void_only_without_payments(xero_sandbox: XeroSandbox, xero_http: XeroHttp) -> None:
    inv = _create(xero_http, invoice_json("PV-V"))[0]
    payment = xero_sandbox.make_payment(CLINIC, inv["InvoiceID"], "10.00", "090", date(2024, 6, 3))
    assert payment.made_in_xero
    void = xero_http.post(f"/Invoices/{inv['InvoiceID']}", {"Invoices": [{"Status": "VOIDED"}]})
    assert void.status_code == 400
    assert _errors(void) == ["This document cannot be voided as it has payments or credit notes allocated to it."]
    xero_sandbox.delete_payment(CLINIC, payment.payment_id)
    void = xero_http.post(f"/Invoices/{inv['InvoiceID']}", {"Invoices": [{"Status": "VOIDED"}]})
    assert void.status_code == 200 and void.json()["Invoices"][0]["Status"] == "VOIDED"
    edit = xero_http.post(f"/Invoices/{inv['InvoiceID']}", {"Invoices": [{"Reference": "late"}]})
    assert _errors(edit) == ["This document cannot be edited as it has a status of VOIDED."]


def test_paid_amounts_cannot_be_edited_but_reference_can(xero_sandbox: XeroSandbox, xero_http: XeroHttp) -> None:
    inv = _create(xero_http, invoice_json("PV-E"))[0]
    xero_sandbox.make_payment(CLINIC, inv["InvoiceID"], "1.00", "090")
    change = invoice_json("PV-E", amount="90.00")
    refused = xero_http.post(f"/Invoices/{inv['InvoiceID']}", {"Invoices": [change]})
    assert "This document cannot be edited as it has a payment or credit note allocated to it." in _errors(refused)
    ok = xero_http.post(f"/Invoices/{inv['InvoiceID']}", {"Invoices": [{"Reference": "Bank ref"}]})
    assert ok.status_code == 200 and ok.json()["Invoices"][0]["Reference"] == "Bank ref"


def test_lock_date_refuses_documents_and_payments_on_or_before_it(
    xero_sandbox: XeroSandbox, xero_http: XeroHttp
) -> None:
    inv = _create(xero_http, invoice_json("PV-L", day=date(2024, 5, 20)))[0]
    xero_sandbox.set_lock_date(CLINIC, date(2024, 5, 31))
    on_lock = xero_http.put("/Invoices", {"Invoices": [invoice_json("PV-L2", day=date(2024, 5, 31))]})
    assert _errors(on_lock) == ["The document date cannot be before the period lock date of 31 May 2024"]
    assert xero_http.put("/Invoices", {"Invoices": [invoice_json("PV-L3", day=date(2024, 6, 1))]}).status_code == 200
    void = xero_http.post(f"/Invoices/{inv['InvoiceID']}", {"Invoices": [{"Status": "VOIDED"}]})
    assert _errors(void) == ["The document date cannot be before the period lock date of 31 May 2024"]
    early_payment = _pay(xero_http, inv["InvoiceID"], 1, day="2024-05-30")
    assert _errors(early_payment) == ["The payment date cannot be before the period lock date of 31 May 2024"]
    assert _pay(xero_http, inv["InvoiceID"], 1, day="2024-06-01").status_code == 200
    xero_sandbox.set_lock_date(CLINIC, date(2024, 6, 30), end_of_year=True)
    late = xero_http.put("/Invoices", {"Invoices": [invoice_json("PV-L4", day=date(2024, 6, 2))]})
    assert _errors(late) == ["The document date cannot be before the end of year lock date of 30 Jun 2024"]


def test_credit_allocation_limited_by_credit_and_amount_due(xero_http: XeroHttp) -> None:
    inv = _create(xero_http, invoice_json("PV-C", amount="10.00"))[0]  # 12.00 due
    contact = {"ContactID": inv["Contact"]["ContactID"]}
    cn_body = {"Type": "ACCRECCREDIT", "Contact": contact, "Date": "2024-06-02", "Status": "AUTHORISED",
               "LineItems": [{"Description": "r", "Quantity": 1, "UnitAmount": 20, "AccountCode": "200"}]}
    cn = xero_http.put("/CreditNotes", {"CreditNotes": [cn_body]}).json()["CreditNotes"][0]
    assert cn["CreditNoteNumber"] == "CN-0001" and cn["RemainingCredit"] == 24.0
    url = f"/CreditNotes/{cn['CreditNoteID']}/Allocations"

    def allocate(amount: float) -> requests.Response:
        return xero_http.put(url, {"Allocations": [
            {"Invoice": {"InvoiceID": inv["InvoiceID"]}, "Amount": amount, "Date": "2024-06-02"}]})

    too_much = allocate(13)
    assert _errors(too_much) == ["The amount being allocated exceeds the amount due on the invoice."]
    assert allocate(12).status_code == 200
    other = _create(xero_http, invoice_json("PV-C2", contact={"Name": "Someone Else"}))[0]
    wrong = xero_http.put(url, {"Allocations": [
        {"Invoice": {"InvoiceID": other["InvoiceID"]}, "Amount": 1, "Date": "2024-06-02"}]})
    assert _errors(wrong) == ["The credit note and the invoice must be for the same contact."]
    third = _create(xero_http, invoice_json("PV-C3", amount="100.00", contact=contact))[0]
    over_credit = xero_http.put(url, {"Allocations": [
        {"Invoice": {"InvoiceID": third["InvoiceID"]}, "Amount": 12.01, "Date": "2024-06-02"}]})
    assert _errors(over_credit) == ["The amount being allocated exceeds the remaining credit on the credit note."]


def test_idempotency_key_replays_the_first_answer(xero_sandbox: XeroSandbox, xero_http: XeroHttp) -> None:
    headers = {"Idempotency-Key": "provet-invoice-42-create"}
    first = xero_http.put("/Invoices", {"Invoices": [invoice_json("PV-42")]}, headers=headers)
    second = xero_http.put("/Invoices", {"Invoices": [invoice_json("PV-42")]}, headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert len(xero_sandbox.invoices(CLINIC)) == 1
    # A write whose answer was lost on the way back is safe to repeat with the same key.
    xero_sandbox.faults.drop_next_writes = 1
    with pytest.raises(requests.ConnectionError):
        xero_http.put("/Invoices", {"Invoices": [invoice_json("PV-43")]}, headers={"Idempotency-Key": "k43"})
    retry = xero_http.put("/Invoices", {"Invoices": [invoice_json("PV-43")]}, headers={"Idempotency-Key": "k43"})
    assert retry.status_code == 200 and retry.json()["Invoices"][0]["InvoiceNumber"] == "PV-43"
    assert len(xero_sandbox.invoices(CLINIC)) == 2
    # Without a key the repeat is a new request, which Xero refuses as a duplicate.
    assert xero_http.put("/Invoices", {"Invoices": [invoice_json("PV-43")]}).status_code == 400


def test_summarize_errors_false_saves_the_good_ones(xero_sandbox: XeroSandbox, xero_http: XeroHttp) -> None:
    batch = {"Invoices": [invoice_json("PV-G1"), invoice_json("PV-BAD", tax="NOPE"), invoice_json("PV-G2")]}
    strict = xero_http.put("/Invoices", batch)
    assert strict.status_code == 400 and len(strict.json()["Elements"]) == 3
    assert xero_sandbox.invoices(CLINIC) == []
    mixed = xero_http.put("/Invoices", batch, params={"summarizeErrors": "false"})
    assert mixed.status_code == 200
    rows = mixed.json()["Invoices"]
    assert [r["StatusAttributeString"] for r in rows] == ["OK", "ERROR", "OK"]
    assert rows[1]["HasErrors"] is True and rows[1]["ValidationErrors"][0]["Message"].startswith("The TaxType")
    assert rows[0]["HasErrors"] is False and "InvoiceID" in rows[0]
    assert sorted(i.number for i in xero_sandbox.invoices(CLINIC)) == ["PV-G1", "PV-G2"]


def test_failed_element_leaves_no_new_contact_behind(xero_sandbox: XeroSandbox, xero_http: XeroHttp) -> None:
    body = invoice_json("PV-X", contact={"Name": "Brand New Client"}, tax="NOPE")
    xero_http.put("/Invoices", {"Invoices": [body]}, params={"summarizeErrors": "false"})
    assert all(c.name != "Brand New Client" for c in xero_sandbox.contacts(CLINIC))


@pytest.mark.contract_exempt("sends If-Modified-Since in RFC 1123 form; the document types it an ISO date-time")
def test_if_modified_since_returns_what_changed(xero_sandbox: XeroSandbox, xero_http: XeroHttp) -> None:
    first = _create(xero_http, invoice_json("PV-M1"))[0]
    xero_sandbox.clock.advance(60)
    mark = xero_sandbox.clock.now()
    xero_sandbox.clock.advance(60)
    _create(xero_http, invoice_json("PV-M2"))
    for header in (format_datetime(mark, usegmt=True), mark.isoformat(), mark.replace(tzinfo=None).isoformat()):
        # RFC 1123 and naive times are what Xero takes, though the spec's date-time does not allow them.
        rows = xero_http.get("/Invoices", headers={"If-Modified-Since": header}, check=False).json()["Invoices"]
        assert [r["InvoiceNumber"] for r in rows] == ["PV-M2"], header
    xero_sandbox.make_payment(CLINIC, first["InvoiceID"], "1.00", "090")  # a payment moves UpdatedDateUTC
    rows = xero_http.get("/Invoices", headers={"If-Modified-Since": mark.isoformat()}).json()["Invoices"]
    assert sorted(r["InvoiceNumber"] for r in rows) == ["PV-M1", "PV-M2"]
    payments = xero_http.get("/Payments", headers={"If-Modified-Since": mark.isoformat()}).json()["Payments"]
    assert len(payments) == 1
    contact = xero_sandbox.contacts(CLINIC)[0]
    xero_sandbox.clock.advance(60)
    later = xero_sandbox.clock.now().replace(microsecond=0)  # to the second, as Xero documents the header
    assert xero_http.get("/Contacts", headers={"If-Modified-Since": later.isoformat()}).json()["Contacts"] == []
    xero_sandbox.edit_contact(CLINIC, contact.contact_id, email="new@example.com")
    changed = xero_http.get("/Contacts", headers={"If-Modified-Since": later.isoformat()}).json()["Contacts"]
    assert [c["EmailAddress"] for c in changed] == ["new@example.com"]


def test_if_modified_since_finer_than_a_second_is_read_rounded_up(
    xero_sandbox: XeroSandbox, xero_http: XeroHttp
) -> None:
    """Xero documents the header to the second; a fraction is read the strictest way, so a client whose cursor
    is finer than a second misses a change made earlier in that second, as it might at Xero."""
    contact = xero_sandbox.contacts(CLINIC)[0]
    xero_sandbox.clock.advance(60)
    xero_sandbox.edit_contact(CLINIC, contact.contact_id, email="same.second@example.com")
    (edited,) = [c for c in xero_sandbox.contacts(CLINIC) if c.contact_id == contact.contact_id]
    second = edited.updated.replace(microsecond=0)
    fraction = second + timedelta(microseconds=1)
    for header, seen in ((second.isoformat(), True), (fraction.isoformat(), False)):
        rows = xero_http.get("/Contacts", headers={"If-Modified-Since": header}).json()["Contacts"]
        assert (contact.contact_id in {r["ContactID"] for r in rows}) is seen, header


def test_paging_100_by_default_and_page_size(xero_http: XeroHttp) -> None:
    made = xero_http.put("/Contacts", {"Contacts": [{"Name": f"Client {i:03d}"} for i in range(149)]})
    assert made.status_code == 200
    page1 = xero_http.get("/Contacts").json()
    assert len(page1["Contacts"]) == 100
    assert page1["pagination"] == {"page": 1, "pageSize": 100, "pageCount": 2, "itemCount": 150}
    page2 = xero_http.get("/Contacts", params={"page": 2}).json()
    assert len(page2["Contacts"]) == 50
    names = {c["Name"] for c in page1["Contacts"]} | {c["Name"] for c in page2["Contacts"]}
    assert len(names) == 150
    small = xero_http.get("/Contacts", params={"page": 3, "pageSize": 60}).json()
    assert len(small["Contacts"]) == 30 and small["pagination"]["pageCount"] == 3
    huge = xero_http.get("/Contacts", params={"pageSize": 5000}).json()
    assert huge["pagination"]["pageSize"] == 1000 and len(huge["Contacts"]) == 150
    assert xero_http.get("/Contacts", params={"page": 4, "pageSize": 60}).json()["Contacts"] == []


def test_hooks_follow_the_same_rules(xero_sandbox: XeroSandbox, xero_http: XeroHttp) -> None:
    inv = _create(xero_http, invoice_json("PV-H"))[0]
    with pytest.raises(XeroRuleError) as err:
        xero_sandbox.make_payment(CLINIC, inv["InvoiceID"], "500", "090")
    assert err.value.messages == ["Payment amount exceeds the amount outstanding on this document"]
    assert xero_sandbox.payments(CLINIC) == []
    jane = xero_sandbox.contact(CLINIC, inv["Contact"]["ContactID"])
    with pytest.raises(XeroRuleError):
        xero_sandbox.edit_contact(CLINIC, jane.contact_id, name="Existing Customer Ltd")
    edited = xero_sandbox.edit_contact(CLINIC, jane.contact_id, name="Jane Doe-Smith", phones=[
        {"PhoneType": "MOBILE", "PhoneNumber": "07700 900999"}])
    assert edited.updated > jane.updated
    assert xero_sandbox.edit_invoice(CLINIC, inv["InvoiceID"], Status="VOIDED").status == "VOIDED"
    with pytest.raises(KeyError):
        xero_sandbox.invoice(CLINIC, "PV-NOPE")


def test_auth_errors_look_like_xero(xero_sandbox: XeroSandbox, xero_http: XeroHttp) -> None:
    url = f"{xero_sandbox.base_url}/api.xro/2.0/Invoices"
    no_token = requests.get(url, headers={"xero-tenant-id": CLINIC}, timeout=10)
    assert no_token.status_code == 401
    assert no_token.json()["Detail"] == "AuthenticationUnsuccessful" and no_token.json()["Type"] is None
    no_tenant = xero_http.get("/Invoices", headers={"xero-tenant-id": "7d4c6b7e-0000-4000-8000-000000000000"},
                              check=False)
    assert no_tenant.status_code == 403 and no_tenant.json()["Title"] == "Forbidden"
    narrow = xero_sandbox.connect(scopes=("offline_access", "accounting.contacts.read"))
    read_ok = requests.get(f"{xero_sandbox.base_url}/api.xro/2.0/Contacts", timeout=10, headers={
        "Authorization": f"Bearer {narrow['access_token']}", "xero-tenant-id": CLINIC})
    assert read_ok.status_code == 200
    write = requests.put(f"{xero_sandbox.base_url}/api.xro/2.0/Contacts", json={"Contacts": [{"Name": "N"}]},
                         timeout=10, headers={"Authorization": f"Bearer {narrow['access_token']}",
                                              "xero-tenant-id": CLINIC})
    assert write.status_code == 403


def test_due_date_needed_to_approve(xero_http: XeroHttp) -> None:
    body = invoice_json("PV-DUE")
    del body["DueDate"]
    resp = xero_http.put("/Invoices", {"Invoices": [body]})
    assert _errors(resp) == ["Due Date is required."]
    body["Status"] = "DRAFT"
    draft = xero_http.put("/Invoices", {"Invoices": [body]}).json()["Invoices"][0]
    approve = xero_http.post(f"/Invoices/{draft['InvoiceID']}", {"Invoices": [{"Status": "AUTHORISED"}]})
    assert _errors(approve) == ["Due Date is required."]
    due = (date(2024, 6, 1) + timedelta(days=14)).isoformat()
    approved = xero_http.post(f"/Invoices/{draft['InvoiceID']}",
                              {"Invoices": [{"Status": "AUTHORISED", "DueDate": due}]})
    assert approved.status_code == 200 and approved.json()["Invoices"][0]["Status"] == "AUTHORISED"


def test_deleting_an_allocation_gives_the_credit_back(xero_sandbox: XeroSandbox, xero_http: XeroHttp) -> None:
    inv = _create(xero_http, invoice_json("PV-DA", amount="10.00"))[0]
    cn_body = {"Type": "ACCRECCREDIT", "Contact": {"ContactID": inv["Contact"]["ContactID"]}, "Date": "2024-06-02",
               "Status": "AUTHORISED", "LineItems": [{"Description": "r", "Quantity": 1.0, "UnitAmount": 10.0,
                                                      "AccountCode": "200"}]}
    cn = xero_http.put("/CreditNotes", {"CreditNotes": [cn_body]}).json()["CreditNotes"][0]
    alloc = xero_http.put(f"/CreditNotes/{cn['CreditNoteID']}/Allocations", {"Allocations": [
        {"Invoice": {"InvoiceID": inv["InvoiceID"]}, "Amount": 12.0, "Date": "2024-06-02"}]}).json()
    assert xero_sandbox.invoice(CLINIC, "PV-DA").status == "PAID"
    allocation_id = alloc["Allocations"][0]["AllocationID"]
    gone = xero_http.call("DELETE", f"/CreditNotes/{cn['CreditNoteID']}/Allocations/{allocation_id}")
    assert gone.status_code == 200 and gone.json()["IsDeleted"] is True
    assert xero_sandbox.invoice(CLINIC, "PV-DA").amount_due == Decimal("12.00")
    assert xero_sandbox.credit_note(CLINIC, cn["CreditNoteID"]).status == "AUTHORISED"
    void = xero_http.post(f"/CreditNotes/{cn['CreditNoteID']}", {"CreditNotes": [{"Status": "VOIDED"}]})
    assert void.status_code == 200 and void.json()["CreditNotes"][0]["Status"] == "VOIDED"


def test_consent_hook_refuses_what_xero_would_refuse(xero_sandbox: XeroSandbox) -> None:
    _verifier, challenge = pkce_pair()
    with pytest.raises(ValueError, match="redirect_uri"):
        xero_sandbox.approve_consent(authorize_url(xero_sandbox, challenge, redirect="http://evil.example/cb"))
    denied = xero_sandbox.approve_consent(authorize_url(xero_sandbox, challenge), allow=False)
    assert "error=access_denied" in denied


def _credit_note(number: str, **line: Any) -> dict[str, Any]:
    return {"Type": "ACCRECCREDIT", "Contact": {"Name": "Jane Doe"}, "CreditNoteNumber": number,
            "Date": "2024-06-02", "Status": "AUTHORISED", "LineAmountTypes": "Exclusive",
            "LineItems": [{"Description": "Refund", "Quantity": 1, "UnitAmount": 40.0, "AccountCode": "200",
                           "TaxType": "OUTPUT2", **line}]}


@pytest.mark.parametrize("field", ["DiscountRate", "DiscountAmount"])
def test_credit_notes_refuse_discounts(xero_sandbox: XeroSandbox, xero_http: XeroHttp, field: str) -> None:
    """Xero's schema: "credit notes in Xero do not support discounts". A validation error in Xero's shape,
    nothing saved; the same line without the discount goes."""
    resp = xero_http.put("/CreditNotes", {"CreditNotes": [_credit_note("PV-CN-D", **{field: 10})]})
    assert resp.status_code == 400
    body = resp.json()
    assert (body["ErrorNumber"], body["Type"]) == (10, "ValidationException")
    assert _errors(resp) == [f"{field} is not supported on credit notes. Credit notes in Xero do not support "
                             "discounts."]
    assert xero_sandbox.credit_notes(CLINIC) == []
    ok = xero_http.put("/CreditNotes", {"CreditNotes": [_credit_note("PV-CN-D")]})
    assert ok.status_code == 200 and ok.json()["CreditNotes"][0]["Total"] == 48.0
    # Invoices keep their discounts.
    body = invoice_json("PV-D")
    body["LineItems"][0]["DiscountRate"] = 10
    assert _create(xero_http, body)[0]["Total"] == 108.0


def test_a_line_tax_amount_is_taken_within_a_cent_of_xeros_own(xero_sandbox: XeroSandbox, xero_http: XeroHttp) -> None:
    """Xero works out 20 % of 12.88 as 2.58; a TaxAmount of 2.57 is taken (the VAT the source system
    worked out), 2.55 is refused with Xero's message, and nothing of that batch is saved."""
    def body(number: str, tax: float) -> dict[str, Any]:
        b = invoice_json(number)
        b["LineItems"][0].update({"UnitAmount": 12.88, "TaxAmount": tax})
        return b

    taken = _create(xero_http, body("PV-T1", 2.57))[0]
    assert (taken["LineItems"][0]["TaxAmount"], taken["TotalTax"], taken["Total"]) == (2.57, 2.57, 15.45)
    far = xero_http.put("/Invoices", {"Invoices": [body("PV-T2", 2.55)]})
    assert far.status_code == 400
    assert _errors(far) == ["Tax amount 2.55 is incorrect for OUTPUT2 tax type, should be 2.58"]
    assert [i.number for i in xero_sandbox.invoices(CLINIC)] == ["PV-T1"]
    zero = body("PV-T3", 0.01)
    zero["LineItems"][0]["TaxType"] = "ZERORATEDOUTPUT"
    refused = xero_http.put("/Invoices", {"Invoices": [zero]})
    assert refused.status_code == 400
    assert _errors(refused) == ["Tax amount 0.01 is incorrect for ZERORATEDOUTPUT tax type, should be 0.00"]


def test_a_request_url_longer_than_the_limit_is_answered_414(xero_sandbox: XeroSandbox, xero_http: XeroHttp) -> None:
    from provet_xero_gui.sandbox.xero_server import MAX_URL_CHARS

    where = " OR ".join(f'Name=="Client number {n}"' for n in range(200))
    long = xero_http.get("/Contacts", params={"where": where}, check=False)
    assert long.status_code == 414 and len(long.request.path_url) > MAX_URL_CHARS
    assert long.json()["Title"] == "Request-URI Too Long"
    short = xero_http.get("/Contacts", params={"where": " OR ".join(where.split(" OR ")[:20])})
    assert short.status_code == 200
