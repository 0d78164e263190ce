"""The sandbox's accounting answers against Xero's OpenAPI document and the real xero-python SDK.

Every call made through `xero_http` is checked (request and answer) against xero_accounting.yaml.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from xero_helpers import CLINIC, XeroHttp, invoice_json

from provet_xero_gui.sandbox.xero_server import DEMO_CLIENT_ID, XeroSandbox

pytest_plugins = ["xero_fixtures"]
pytestmark = pytest.mark.filterwarnings("ignore:Unsupported scheme type:UserWarning")


def _one(resp: Any, key: str) -> dict[str, Any]:
    assert resp.status_code == 200, resp.text
    rows = resp.json()[key]
    assert len(rows) == 1
    return rows[0]


def test_reference_data_matches_spec(xero_http: XeroHttp) -> None:
    org = _one(xero_http.get("/Organisation"), "Organisations")
    assert org["BaseCurrency"] == "GBP" and org["Name"] == "Happy Paws Veterinary Ltd"
    rates = xero_http.get("/TaxRates").json()["TaxRates"]
    assert {r["TaxType"]: r["Status"] for r in rates}["OLDOUTPUT"] == "ARCHIVED"
    accounts = xero_http.get("/Accounts", params={"where": 'Type=="BANK"'}).json()["Accounts"]
    assert [a["Code"] for a in accounts] == ["090"]
    everything = xero_http.get("/Accounts").json()["Accounts"]
    assert next(a for a in everything if a["Code"] == "880")["EnablePaymentsToAccount"] is True


def test_lock_dates_show_on_organisation(xero_sandbox: XeroSandbox, xero_http: XeroHttp) -> None:
    xero_sandbox.set_lock_date(CLINIC, date(2024, 3, 31))
    xero_sandbox.set_lock_date(CLINIC, date(2023, 12, 31), end_of_year=True)
    org = _one(xero_http.get("/Organisation"), "Organisations")
    assert org["PeriodLockDate"] == "/Date(1711843200000+0000)/"
    assert org["EndOfYearLockDate"] == "/Date(1703980800000+0000)/"


def test_contacts_create_read_update(xero_http: XeroHttp) -> None:
    created = xero_http.put("/Contacts", {"Contacts": [{
        "Name": "Ana Müller", "FirstName": "Ana", "LastName": "Müller", "ContactNumber": "PV-1001",
        "EmailAddress": "ana@example.com", "TaxNumber": "GB123456789",
        "Addresses": [{"AddressType": "STREET", "AddressLine1": "1 High St", "City": "Bath", "PostalCode": "BA1"}],
        "Phones": [{"PhoneType": "MOBILE", "PhoneNumber": "07700 900123"}],
    }]})
    contact = _one(created, "Contacts")
    cid = contact["ContactID"]
    assert contact["ContactNumber"] == "PV-1001" and contact["UpdatedDateUTC"].startswith("/Date(")
    by_number = _one(xero_http.get("/Contacts/PV-1001"), "Contacts")
    assert by_number["ContactID"] == cid
    by_id = _one(xero_http.get(f"/Contacts/{cid}"), "Contacts")
    street = next(a for a in by_id["Addresses"] if a["AddressType"] == "STREET")
    assert street["City"] == "Bath"
    updated = _one(xero_http.post(f"/Contacts/{cid}", {"Contacts": [{"EmailAddress": "ana@new.example"}]}),
                   "Contacts")
    assert updated["EmailAddress"] == "ana@new.example" and updated["Name"] == "Ana Müller"
    found = xero_http.get("/Contacts", params={"where": 'ContactNumber=="PV-1001"'}).json()
    assert [c["ContactID"] for c in found["Contacts"]] == [cid]
    assert found["pagination"]["itemCount"] == 1
    listed = xero_http.get("/Contacts", params={"IDs": cid}).json()["Contacts"]
    assert [c["Name"] for c in listed] == ["Ana Müller"]
    assert xero_http.get("/Contacts/NOPE-404", check=False).status_code == 404


@pytest.mark.contract_exempt("reads an invoice by its number, which Xero allows but its OpenAPI document does not")
def test_invoice_credit_note_allocation_payment_round_trip(xero_http: XeroHttp) -> None:
    inv = _one(xero_http.put("/Invoices", {"Invoices": [invoice_json("PV-2001", amount="50.00")]}), "Invoices")
    assert (inv["Total"], inv["AmountDue"], inv["Status"]) == (60.0, 60.0, "AUTHORISED")
    assert inv["DateString"] == "2024-06-01T00:00:00" and inv["Date"] == "/Date(1717200000000+0000)/"
    contact = {"ContactID": inv["Contact"]["ContactID"]}
    cn = _one(xero_http.put("/CreditNotes", {"CreditNotes": [{
        "Type": "ACCRECCREDIT", "Contact": contact, "CreditNoteNumber": "PV-CN-1", "Date": "2024-06-02",
        "Status": "AUTHORISED", "LineItems": [{"Description": "Refund", "Quantity": 1, "UnitAmount": 10,
                                                "AccountCode": "200", "TaxType": "OUTPUT2"}]}]}), "CreditNotes")
    assert cn["RemainingCredit"] == 12.0
    alloc = xero_http.put(f"/CreditNotes/{cn['CreditNoteID']}/Allocations", {"Allocations": [
        {"Invoice": {"InvoiceID": inv["InvoiceID"]}, "Amount": 12.0, "Date": "2024-06-02"}]})
    assert alloc.status_code == 200, alloc.text
    after = _one(xero_http.get(f"/Invoices/{inv['InvoiceID']}"), "Invoices")
    assert (after["AmountCredited"], after["AmountDue"]) == (12.0, 48.0)
    assert _one(xero_http.get(f"/CreditNotes/{cn['CreditNoteID']}"), "CreditNotes")["Status"] == "PAID"
    pay = _one(xero_http.put("/Payments", {"Payments": [{
        "Invoice": {"InvoiceID": inv["InvoiceID"]}, "Account": {"Code": "090"}, "Date": "2024-06-03",
        "Amount": 48.0, "Reference": "PV-PAY-1"}]}), "Payments")
    assert pay["Status"] == "AUTHORISED" and pay["Invoice"]["InvoiceNumber"] == "PV-2001"
    paid = _one(xero_http.get("/Invoices/PV-2001", check=False), "Invoices")  # by number: not in the spec
    assert (paid["Status"], paid["AmountDue"], paid["AmountPaid"]) == ("PAID", 0.0, 48.0)
    assert paid["FullyPaidOnDate"] == "/Date(1717372800000+0000)/"
    listed = xero_http.get("/Payments").json()
    assert [p["PaymentID"] for p in listed["Payments"]] == [pay["PaymentID"]]
    deleted = _one(xero_http.post(f"/Payments/{pay['PaymentID']}", {"Status": "DELETED"}), "Payments")
    assert deleted["Status"] == "DELETED"
    back = _one(xero_http.get(f"/Invoices/{inv['InvoiceID']}"), "Invoices")
    assert (back["Status"], back["AmountDue"]) == ("AUTHORISED", 48.0)
    assert _one(xero_http.get(f"/Payments/{pay['PaymentID']}"), "Payments")["Status"] == "DELETED"


def test_invoice_filters_and_void(xero_http: XeroHttp) -> None:
    put = xero_http.put("/Invoices", {"Invoices": [
        invoice_json("PV-1"), invoice_json("PV-2", status="DRAFT"), invoice_json("PV-3")]})
    ids = [i["InvoiceID"] for i in put.json()["Invoices"]]
    by_number = xero_http.get("/Invoices", params={"InvoiceNumbers": "PV-1,PV-3"}).json()["Invoices"]
    assert sorted(i["InvoiceNumber"] for i in by_number) == ["PV-1", "PV-3"]
    drafts = xero_http.get("/Invoices", params={"Statuses": "DRAFT"}).json()["Invoices"]
    assert [i["InvoiceNumber"] for i in drafts] == ["PV-2"]
    by_id = xero_http.get("/Invoices", params={"IDs": ",".join(ids[:2])}).json()["Invoices"]
    assert len(by_id) == 2
    voided = _one(xero_http.post(f"/Invoices/{ids[0]}", {"Invoices": [{"Status": "VOIDED"}]}), "Invoices")
    assert voided["Status"] == "VOIDED"
    where = xero_http.get("/Invoices", params={"where": 'Status=="VOIDED" AND Type=="ACCREC"'}).json()
    assert [i["InvoiceID"] for i in where["Invoices"]] == [ids[0]]


@pytest.mark.contract_exempt("reads an invoice by its number, which Xero allows but its OpenAPI document does not")
def test_unitdp4_keeps_four_decimal_unit_amounts(xero_http: XeroHttp) -> None:
    body = invoice_json("PV-U4")
    body["LineItems"][0].update({"UnitAmount": 10.1234, "Quantity": 3})
    four = _one(xero_http.put("/Invoices", {"Invoices": [body]}, params={"unitdp": 4}), "Invoices")
    line = four["LineItems"][0]
    assert (line["UnitAmount"], line["LineAmount"], line["TaxAmount"]) == (10.1234, 30.37, 6.07)
    two = _one(xero_http.get("/Invoices/PV-U4", check=False), "Invoices")
    assert two["LineItems"][0]["UnitAmount"] == 10.12
    again = _one(xero_http.get("/Invoices/PV-U4", params={"unitdp": 4}, check=False), "Invoices")
    assert again["LineItems"][0]["UnitAmount"] == 10.1234


def test_validation_error_shape_matches_spec(xero_http: XeroHttp) -> None:
    bad = xero_http.put("/Invoices", {"Invoices": [invoice_json("PV-9", tax="NOPE")]})
    assert bad.status_code == 400
    body = bad.json()
    assert (body["ErrorNumber"], body["Type"], body["Message"]) == (
        10, "ValidationException", "A validation exception occurred")
    messages = [e["Message"] for e in body["Elements"][0]["ValidationErrors"]]
    assert messages == ["The TaxType code 'NOPE' does not exist or cannot be used with this type of transaction."]


# -- the real SDK -------------------------------------------------------------------------------


@pytest.fixture
def sdk(xero_sandbox: XeroSandbox) -> Any:
    from xero_python.accounting import AccountingApi
    from xero_python.api_client import ApiClient, Configuration
    from xero_python.api_client.oauth2 import OAuth2Token

    store: dict[str, Any] = dict(xero_sandbox.connect())
    client = ApiClient(Configuration(oauth2_token=OAuth2Token(client_id=DEMO_CLIENT_ID)), pool_threads=1,
                       oauth2_token_getter=lambda: store, oauth2_token_saver=store.update)
    client.configuration.oauth2_token = OAuth2Token(client_id=DEMO_CLIENT_ID)
    return AccountingApi(client, base_url=xero_sandbox.base_url + "/api.xro/2.0")


@pytest.mark.contract_exempt("xero-python itself sends read-only defaults (HasAttachments) and naive If-Modified-Since")
def test_sdk_reads_and_writes_everything(sdk: Any, xero_sandbox: XeroSandbox) -> None:
    from xero_python.accounting import (
        Account,
        Allocation,
        Allocations,
        Contact,
        Contacts,
        CreditNote,
        CreditNotes,
        Invoice,
        Invoices,
        LineAmountTypes,
        LineItem,
        Payment,
        PaymentDelete,
        Payments,
    )

    assert sdk.get_organisations(CLINIC).organisations[0].base_currency.value == "GBP"
    assert {t.tax_type for t in sdk.get_tax_rates(CLINIC).tax_rates} >= {"OUTPUT2", "RROUTPUT"}
    assert any(a.code == "090" for a in sdk.get_accounts(CLINIC).accounts)

    made = sdk.create_contacts(CLINIC, Contacts(contacts=[
        Contact(name="Bob Smith", contact_number="PV-7", email_address="bob@example.com")]),
        summarize_errors=False)
    contact = made.contacts[0]
    assert contact.has_validation_errors is False
    assert sdk.get_contact_by_contact_number(CLINIC, "PV-7").contacts[0].contact_id == contact.contact_id
    assert sdk.get_contacts(CLINIC, where='Name=="Bob Smith"').contacts[0].contact_number == "PV-7"

    line = LineItem(description="Vaccination", quantity=2, unit_amount=12.345, account_code="210",
                    tax_type="RROUTPUT")
    invoice = Invoice(type="ACCREC", contact=Contact(contact_id=contact.contact_id), date=date(2024, 6, 1),
                      due_date=date(2024, 6, 30), invoice_number="PV-S-1", status="AUTHORISED",
                      line_amount_types=LineAmountTypes.EXCLUSIVE, line_items=[line], reference="Consult")
    created = sdk.create_invoices(CLINIC, Invoices(invoices=[invoice]), summarize_errors=False, unitdp=4,
                                  idempotency_key="sdk-inv-1").invoices[0]
    assert created.status == "AUTHORISED" and created.date == date(2024, 6, 1)
    assert float(created.total) == pytest.approx(25.92)  # 24.69 + 5% tax 1.23
    assert float(created.line_items[0].unit_amount) == pytest.approx(12.345)

    since = datetime(2024, 6, 3, 8, 0)
    changed = sdk.get_invoices(CLINIC, if_modified_since=since, invoice_numbers=["PV-S-1"], page=1)
    assert [i.invoice_number for i in changed.invoices] == ["PV-S-1"]
    assert changed.pagination.item_count == 1
    assert sdk.get_invoices(CLINIC, if_modified_since=xero_sandbox.clock.now() + timedelta(hours=1)).invoices == []

    credit = sdk.create_credit_notes(CLINIC, CreditNotes(credit_notes=[CreditNote(
        type="ACCRECCREDIT", contact=Contact(contact_id=contact.contact_id), date=date(2024, 6, 2),
        status="AUTHORISED", credit_note_number="PV-S-CN",
        line_items=[LineItem(description="Refund", quantity=1, unit_amount=5, account_code="200",
                             tax_type="OUTPUT2")])])).credit_notes[0]
    assert float(credit.remaining_credit) == 6.0
    sdk.create_credit_note_allocation(CLINIC, credit.credit_note_id, Allocations(allocations=[
        Allocation(invoice=Invoice(invoice_id=created.invoice_id), amount=6, date=date(2024, 6, 2))]))

    payment = sdk.create_payments(CLINIC, Payments(payments=[Payment(
        invoice=Invoice(invoice_id=created.invoice_id), account=Account(code="090"), amount=10,
        date=date(2024, 6, 3), reference="card")])).payments[0]
    now = sdk.get_invoice(CLINIC, created.invoice_id).invoices[0]
    assert float(now.amount_due) == pytest.approx(9.92) and float(now.amount_credited) == 6.0
    assert [p.payment_id for p in sdk.get_payments(CLINIC).payments] == [payment.payment_id]
    sdk.delete_payment(CLINIC, payment.payment_id, PaymentDelete(status="DELETED"))
    assert float(sdk.get_invoice(CLINIC, created.invoice_id).invoices[0].amount_due) == pytest.approx(19.92)


@pytest.mark.contract_exempt("xero-python itself sends read-only defaults (HasAttachments)")
def test_sdk_sees_errors_as_its_exceptions(sdk: Any) -> None:
    from xero_python.accounting import Contact, Invoice, Invoices, LineItem
    from xero_python.exceptions import AccountingBadRequestException, NotFoundException

    def invoice() -> Invoice:
        return Invoice(type="ACCREC", contact=Contact(name="Carol"), invoice_number="PV-DUP",
                       date=date(2024, 6, 1), due_date=date(2024, 6, 8), status="AUTHORISED",
                       line_items=[LineItem(description="x", quantity=1, unit_amount=1, account_code="200")])

    sdk.create_invoices(CLINIC, Invoices(invoices=[invoice()]))
    with pytest.raises(AccountingBadRequestException) as err:
        sdk.create_invoices(CLINIC, Invoices(invoices=[invoice()]))
    assert err.value.reason == "Invoice # must be unique."
    assert err.value.error_data["Type"] == "ValidationException"
    mixed = sdk.create_invoices(CLINIC, Invoices(invoices=[invoice()]), summarize_errors=False).invoices[0]
    assert mixed.has_errors is True and mixed.status_attribute_string == "ERROR"
    with pytest.raises(NotFoundException):
        sdk.get_invoice(CLINIC, "00000000-0000-4000-8000-000000000000")


# -- tracking categories --------------------------------------------------------------------------------


def test_tracking_categories_match_spec_and_parse_with_the_sdk(xero_http: XeroHttp, sdk: Any) -> None:
    """Like Xero: active categories and options by default, archived ones only with includeArchived=true."""
    active = xero_http.get("/TrackingCategories").json()["TrackingCategories"]  # checked against the spec
    assert {c["Name"]: [o["Name"] for o in c["Options"]] for c in active} == {
        "Project": ["Alpha"], "Region": ["North", "South"]}
    every = xero_http.get("/TrackingCategories", params={"includeArchived": "true"}).json()["TrackingCategories"]
    by_name = {c["Name"]: c for c in every}
    assert by_name["Old projects"]["Status"] == "ARCHIVED"
    assert {o["Name"]: o["Status"] for o in by_name["Region"]["Options"]} == {
        "North": "ACTIVE", "South": "ACTIVE", "West": "ARCHIVED"}
    parsed = sdk.get_tracking_categories(CLINIC, include_archived=True).tracking_categories
    region = next(c for c in parsed if c.name == "Region")
    assert region.tracking_category_id == by_name["Region"]["TrackingCategoryID"]
    assert {o.name: getattr(o.status, "value", o.status) for o in region.options}["West"] == "ARCHIVED"


def test_line_tracking_reads_back_in_xeros_spelling_with_ids(xero_http: XeroHttp) -> None:
    body = invoice_json("PV-T1")
    body["LineItems"][0]["Tracking"] = [{"Name": "region", "Option": "NORTH"}]
    made = _one(xero_http.put("/Invoices", {"Invoices": [body]}), "Invoices")  # request and answer checked
    region = next(c for c in xero_http.get("/TrackingCategories").json()["TrackingCategories"] if c["Name"] == "Region")
    north = next(o for o in region["Options"] if o["Name"] == "North")
    got = _one(xero_http.get(f"/Invoices/{made['InvoiceID']}"), "Invoices")["LineItems"][0]["Tracking"]
    assert got == [{"Name": "Region", "Option": "North", "TrackingCategoryID": region["TrackingCategoryID"],
                    "TrackingOptionID": north["TrackingOptionID"]}]
