"""Tracking on line items as Xero checks it: the category must be ACTIVE, the option one of its ACTIVE
options, at most two categories a line. What the app's department mapping relies on."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from xero_helpers import CLINIC, XeroHttp, invoice_json

from provet_xero_gui.sandbox.xero_server import XeroSandbox

pytest_plugins = ["xero_fixtures"]
pytestmark = pytest.mark.filterwarnings("ignore:Unsupported scheme type:UserWarning")


def _tracked(number: str, *tracking: dict[str, Any]) -> dict[str, Any]:
    body = invoice_json(number)
    body["LineItems"][0]["Tracking"] = list(tracking)
    return body


def _messages(resp: requests.Response) -> list[str]:
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert (body["ErrorNumber"], body["Type"]) == (10, "ValidationException")
    return [e["Message"] for e in body["Elements"][0]["ValidationErrors"]]


@pytest.mark.parametrize(("tracking", "message"), [
    ([{"Name": "Department", "Option": "North"}], "There is no ACTIVE tracking category with the name 'Department'."),
    ([{"Name": "Old projects", "Option": "Legacy"}],
     "There is no ACTIVE tracking category with the name 'Old projects'."),
    ([{"Name": "Region", "Option": "East"}],
     "The tracking option 'East' does not exist in the tracking category 'Region'."),
    ([{"Name": "Region", "Option": "West"}],
     "The tracking option 'West' in the tracking category 'Region' has been archived and cannot be used."),
    ([{"Name": "Region"}], "A tracking option must be specified for the tracking category 'Region'."),
    ([{"Name": "Region", "Option": "North"}, {"Name": "region", "Option": "South"}],
     "The tracking category 'Region' can be used only once on a line item."),
    ([{"Name": "Region", "Option": "North"}, {"Name": "Project", "Option": "Alpha"},
      {"Name": "Region", "Option": "South"}], "A line item can have at most two tracking categories."),
])
def test_unusable_tracking_is_refused_and_nothing_is_saved(
    xero_sandbox: XeroSandbox, xero_http: XeroHttp, tracking: list[dict[str, Any]], message: str
) -> None:
    resp = xero_http.put("/Invoices", {"Invoices": [_tracked("PV-T9", *tracking)]})
    assert _messages(resp) == [message]
    assert xero_sandbox.invoices(CLINIC) == []


def test_two_categories_by_name_or_by_id(xero_sandbox: XeroSandbox, xero_http: XeroHttp) -> None:
    project = next(c for c in xero_sandbox.tracking_categories(CLINIC) if c.name == "Project")
    resp = xero_http.put("/Invoices", {"Invoices": [_tracked(
        "PV-T2", {"Name": "Region", "Option": "South"},
        {"TrackingCategoryID": project.category_id, "TrackingOptionID": project.options[0].option_id})]})
    assert resp.status_code == 200, resp.text
    line = xero_sandbox.invoice(CLINIC, "PV-T2").line_items[0]
    assert [(t["Name"], t["Option"]) for t in line.tracking] == [("Region", "South"), ("Project", "Alpha")]


def test_each_element_of_a_batch_is_judged_on_its_own(xero_sandbox: XeroSandbox, xero_http: XeroHttp) -> None:
    resp = xero_http.put("/Invoices", {"Invoices": [_tracked("PV-T3", {"Name": "Region", "Option": "North"}),
                                                    _tracked("PV-T4", {"Name": "Region", "Option": "West"})]},
                         params={"summarizeErrors": "false"})
    assert resp.status_code == 200
    good, bad = resp.json()["Invoices"]
    assert not good.get("HasErrors") and bad["HasErrors"] is True
    assert [i.number for i in xero_sandbox.invoices(CLINIC)] == ["PV-T3"]


def test_an_option_archived_in_xero_stays_on_old_invoices_but_refuses_new_lines(
    xero_sandbox: XeroSandbox, xero_http: XeroHttp
) -> None:
    assert xero_http.put("/Invoices", {"Invoices": [_tracked("PV-T5", {"Name": "Region", "Option": "North"})]}) \
        .status_code == 200
    xero_sandbox.archive_tracking_option(CLINIC, "Region", "north")
    assert xero_sandbox.invoice(CLINIC, "PV-T5").line_items[0].tracking[0]["Option"] == "North"
    assert _messages(xero_http.put("/Invoices", {"Invoices": [_tracked("PV-T6", {"Name": "Region",
                                                                                 "Option": "North"})]})) == [
        "The tracking option 'North' in the tracking category 'Region' has been archived and cannot be used."]
    listed = xero_http.get("/TrackingCategories").json()["TrackingCategories"]
    assert [o["Name"] for c in listed if c["Name"] == "Region" for o in c["Options"]] == ["South"]
    xero_sandbox.archive_tracking_category(CLINIC, "Region")
    assert "Region" not in {c["Name"] for c in xero_http.get("/TrackingCategories").json()["TrackingCategories"]}
    with pytest.raises(KeyError):
        xero_sandbox.archive_tracking_option(CLINIC, "Region", "Nowhere")
