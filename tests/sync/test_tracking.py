"""Departments → Xero tracking options: the reference read, translation (the rounding line too), and a pass
against the sandbox, checked by what Xero holds and what the attention list says."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from provet_xero_gui.mapping import Mapping, TrackingChoice
from provet_xero_gui.provet.records import InvoiceRow
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID, RowSpec
from provet_xero_gui.sandbox.runner import demo_mapping
from provet_xero_gui.store.sync_state import SyncState, cause_title
from provet_xero_gui.sync.engine import reference_from_json, reference_to_json
from provet_xero_gui.sync.translate import Hold, XeroDocument, translate
from provet_xero_gui.xero.reference import TrackingCategory, TrackingOption

from .conftest import World
from .test_translate import GROUPS, MAPPING, XERO, invoice, provet_row

TRACKED = replace(XERO, tracking_categories=(
    TrackingCategory("Department", "ACTIVE", (TrackingOption("Riverside", "ACTIVE"),
                                              TrackingOption("Old Town", "ARCHIVED"))),
    TrackingCategory("Old sites", "ARCHIVED", (TrackingOption("Harbour", "ACTIVE"),)),
))
BY_DEPARTMENT = replace(MAPPING, departments={"2": TrackingChoice("department", " riverside "),
                                              "5": TrackingChoice("Department", "Old Town"),
                                              "6": TrackingChoice("Old sites", "Harbour"),
                                              "7": TrackingChoice("Region", "North")})
RIVERSIDE = [{"Name": "Department", "Option": "Riverside"}]  # as Xero spells it, whatever the file's spelling


def _rounding_rows() -> list[InvoiceRow]:
    """Provet's total is a cent above what Xero computes for these rows (its first row's net amount is): a
    rounding line is needed."""
    row = provet_row(1, Decimal(1), Decimal("10.00"), Decimal(0), Decimal(20), False)
    return [replace(row, sum=Decimal("10.01"), sum_total=Decimal("12.01")),
            provet_row(2, Decimal(2), Decimal("3.50"), Decimal(-10), Decimal(20), False)]


# --- translation -----------------------------------------------------------------------------------------


def test_every_line_of_a_mapped_department_carries_its_option_the_rounding_line_too() -> None:
    rows = _rounding_rows()
    doc = translate(invoice(rows, department_id=2), rows, "c-1", BY_DEPARTMENT, GROUPS, TRACKED)
    assert isinstance(doc, XeroDocument), doc
    lines = doc.to_json()["LineItems"]
    assert [line["Description"] for line in lines] == ["Item 1", "Item 2", "Rounding"]
    assert [line["Tracking"] for line in lines] == [RIVERSIDE] * 3
    credit_rows = [provet_row(1, Decimal(-1), Decimal("40"), Decimal(0), Decimal(20), False)]
    note = translate(invoice(credit_rows, credit=True, department_id=2), credit_rows, "c-1", BY_DEPARTMENT, GROUPS,
                     TRACKED)
    assert isinstance(note, XeroDocument) and note.to_json()["LineItems"][0]["Tracking"] == RIVERSIDE


def test_an_unmapped_department_or_none_goes_without_tracking() -> None:
    rows = _rounding_rows()
    for department in (3, None):
        doc = translate(invoice(rows, department_id=department), rows, "c-1", BY_DEPARTMENT, GROUPS, TRACKED)
        assert isinstance(doc, XeroDocument), doc
        assert len(doc.lines) == 3 and all("Tracking" not in line for line in doc.to_json()["LineItems"])


def test_an_option_xero_cannot_use_holds_the_document_with_a_plain_reason() -> None:
    rows = [provet_row(1, Decimal(1), Decimal("10"), Decimal(0), Decimal(20), False)]
    held = {dept: translate(invoice(rows, department_id=dept), rows, "c-1", BY_DEPARTMENT, GROUPS, TRACKED)
            for dept in (5, 6, 7)}
    assert all(isinstance(h, Hold) and h.cause == "tracking_option_unusable" for h in held.values()), held
    assert held[5].reason == ("its department (Provet id 5) is mapped to option 'Old Town' of tracking category "
                              "'Department', which is archived in Xero, so Xero would refuse its lines")
    assert "tracking category 'Old sites', which is archived in Xero" in held[6].reason
    assert "tracking category 'Region', which Xero does not have" in held[7].reason
    assert held[5].fix.startswith("Map the department to an active tracking option") and "Retry" in held[5].fix
    assert cause_title("tracking_option_unusable") == "Department's tracking option cannot be used in Xero"


# --- the reference data ------------------------------------------------------------------------------------


def test_reference_reads_tracking_categories_in_one_more_call_and_caches_them(world: World) -> None:
    ref = world.xero.reference()
    assert dict(world.xero.calls) == {"GET Organisation": 1, "GET TaxRates": 1, "GET Accounts": 1,
                                      "GET TrackingCategories": 1}
    (department,) = ref.tracking_categories
    assert department.name == "Department" and department.category_id
    assert {o.name: o.status for o in department.options} == {
        "Happy Paws Main Street": "ACTIVE", "Happy Paws Riverside": "ACTIVE", "Mobile & Equine": "ACTIVE",
        "Head office": "ACTIVE", "Old Town (closed)": "ARCHIVED"}
    assert reference_from_json(reference_to_json(ref)) == ref


def test_a_cache_written_before_tracking_is_still_read_and_refreshed_once(world: World) -> None:
    old = reference_to_json(world.xero.reference())
    del old["tracking_categories"]
    assert reference_from_json(old).tracking_categories == ()  # old JSON stays readable
    state = SyncState(world.store)
    state.cache("xero_reference", old)
    before = world.xero.calls["GET TrackingCategories"]
    engine = world.engine()
    assert engine._reference().tracking_category("department") is not None
    assert world.xero.calls["GET TrackingCategories"] == before + 1
    engine._reference()  # now cached with tracking: no more calls
    assert world.xero.calls["GET TrackingCategories"] == before + 1


# --- a pass against the sandbox ----------------------------------------------------------------------------


def _mapping(**departments: str) -> Mapping:
    return replace(Mapping.from_json(demo_mapping()),
                   departments={k.removeprefix("d"): TrackingChoice("Department", v) for k, v in departments.items()})


def _tracking_by_number(world: World) -> dict[str, set[tuple[tuple[str, str], ...]]]:
    """Xero document number → the distinct Tracking its lines carry (as (Name, Option) pairs)."""
    docs = [*world.xero_invoices(), *world.xero_credit_notes()]
    return {d.number: {tuple((t["Name"], t["Option"]) for t in li.tracking) for li in d.line_items} for d in docs}


def test_a_pass_tags_the_lines_of_mapped_departments_and_no_others(world: World) -> None:
    # A Riverside invoice whose surcharge makes Xero's total differ by cents: it gets a rounding line.
    client = world.sandbox.provet.clients()[0]
    surcharged = world.sandbox.provet.add_invoice(client.id, [RowSpec(
        "Hydrotherapy", Decimal(7), Decimal("0.3333"), Decimal(20), "200", Decimal("12.5"))], department_id=2)
    result = world.engine(_mapping(d1="Happy Paws Main Street", d2="happy paws RIVERSIDE")).run_pass()
    assert result.stopped is None and "tracking_option_unusable" not in result.held
    in_xero = _tracking_by_number(world)
    by_number = {i.document_number: i for i in world.sandbox.provet.invoices() if i.document_number}
    expected = {1: {(("Department", "Happy Paws Main Street"),)}, 2: {(("Department", "Happy Paws Riverside"),)},
                3: {()}}
    seen = set()
    for number, tracking in in_xero.items():
        department = by_number[number].department_id
        assert tracking == expected[department], (number, department, tracking)
        seen.add(department)
    assert seen == {1, 2, 3}
    lines = world.sandbox.xero.invoice(CLINIC_TENANT_ID, surcharged.document_number).line_items
    assert [li.description for li in lines] == ["Hydrotherapy", "Rounding"]
    assert in_xero[surcharged.document_number] == {(("Department", "Happy Paws Riverside"),)}


def test_an_archived_option_holds_its_documents_until_the_mapping_is_fixed(world: World) -> None:
    world.sandbox.xero.archive_tracking_option(CLINIC_TENANT_ID, "Department", "Happy Paws Riverside")
    result = world.engine(_mapping(d1="Happy Paws Main Street", d2="Happy Paws Riverside")).run_pass()
    riverside = {str(i.id): i for i in world.sandbox.provet.invoices()
                 if i.department_id == 2 and i.status == 3 and i.client_id is not None and not i.consolidated_invoice}
    assert riverside and result.held.get("tracking_option_unusable") == len(riverside)
    items = [a for a in world.state.attention() if a.cause == "tracking_option_unusable"]
    assert {a.provet_id for a in items} == set(riverside)
    assert items[0].reason == ("its department (Provet id 2) is mapped to option 'Happy Paws Riverside' of tracking "
                               "category 'Department', which is archived in Xero, so Xero would refuse its lines")
    assert not items[0].by_rule and result.attention_open >= len(riverside)
    in_xero = _tracking_by_number(world)
    assert not {i.document_number for i in riverside.values()} & set(in_xero)  # nothing half-sent
    assert {(("Department", "Happy Paws Main Street"),)} in in_xero.values()  # the rest went

    fixed = world.engine(_mapping(d1="Happy Paws Main Street", d2="Head office")).run_pass()
    assert "tracking_option_unusable" not in fixed.held
    in_xero = _tracking_by_number(world)
    assert all(in_xero[i.document_number] == {(("Department", "Head office"),)} for i in riverside.values())
    assert not [a for a in world.state.attention() if a.cause == "tracking_option_unusable"]
