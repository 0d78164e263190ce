"""The optional department → Xero tracking option mapping: the file, `mapping check`, `mapping suggest`,
and the same through the command line against the sandbox clinic (its Xero has a "Department" category)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provet_xero_gui.mapping import (
    Mapping,
    MappingError,
    MappingFile,
    TrackingChoice,
    check_mapping,
    parse_mapping_text,
    suggest_mapping,
)
from provet_xero_gui.profile import Profile
from provet_xero_gui.provet.records import Department
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID
from provet_xero_gui.sandbox.runner import Sandbox, demo_mapping
from provet_xero_gui.xero.reference import (
    Organisation,
    TrackingCategory,
    TrackingOption,
    XeroReference,
)

from .conftest import cli, run_main

DEPARTMENTS = [Department(1, "Main Street"), Department(2, "Riverside"), Department(3, "Mobile & Equine"),
               Department(4, "Farm visits")]


def _category(name: str, active: tuple[str, ...], archived: tuple[str, ...] = (), status: str = "ACTIVE"):
    return TrackingCategory(name, status, tuple(TrackingOption(o, "ACTIVE") for o in active)
                            + tuple(TrackingOption(o, "ARCHIVED") for o in archived))


XERO = XeroReference(
    Organisation("Clinic Ltd", "GBP", None, None), (), (),
    (
        _category("Clinic site", ("Main  street", "RIVERSIDE", "Head office"), archived=("Farm visits",)),
        _category("Region", ("North", "Mobile & Equine")),
        _category("Service line", ("Mobile & Equine",)),
        _category("Old sites", ("Main Street",), status="ARCHIVED"),
    ),
)


def _problems(mapping: Mapping) -> dict[str, str]:
    """The department problems (the rest of this bare mapping, e.g. no rounding account, is another test's)."""
    found = check_mapping(mapping, XERO, [], [], departments=DEPARTMENTS)
    return {p.where: f"{p.message} — {p.fix}" for p in found if p.where.startswith("departments:")}


# --- the file ---------------------------------------------------------------------------------------------


def test_departments_round_trip_and_a_file_without_them_is_unchanged(tmp_path: Path) -> None:
    mapping = Mapping(rounding_account="860", departments={
        "2": TrackingChoice("Clinic site", "Riverside"), "10": TrackingChoice("Clinic site", "Head office")})
    data = mapping.to_json()
    assert data["version"] == 1
    assert list(data["departments"]) == ["2", "10"]  # by id, as people count
    assert data["departments"]["2"] == {"category": "Clinic site", "option": "Riverside"}
    f = MappingFile(tmp_path / "mapping.json")
    f.save(mapping)
    assert f.load() == mapping
    assert parse_mapping_text(json.dumps(data), "x.json").departments["10"].option == "Head office"

    plain = Mapping.from_json(demo_mapping())
    assert plain.departments == {} and "departments" not in plain.to_json()
    assert plain.to_json() == demo_mapping()


@pytest.mark.parametrize(("departments", "message"), [
    (["2"], "departments should be an object"),
    ({"main": {"category": "Clinic site", "option": "Main Street"}}, "departments: key 'main' should be a Provet "
                                                                     "department id"),
    ({"2": "Riverside"}, "departments: the value for '2' should be {\"category\""),
    ({"2": {"category": "Clinic site"}}, "departments: the value for '2' should be"),
    ({"2": {"category": "", "option": "Riverside"}}, "departments: the value for '2' should be"),
])
def test_a_bad_departments_entry_names_the_key(departments: object, message: str) -> None:
    with pytest.raises(MappingError) as exc:
        Mapping.from_json({"version": 1, "departments": departments})
    assert message in str(exc.value)


# --- the check --------------------------------------------------------------------------------------------


def test_usable_options_are_no_problem_and_unmapped_departments_neither() -> None:
    mapping = Mapping(departments={"1": TrackingChoice("clinic SITE", "main street"),
                                   "2": TrackingChoice("Clinic site", "Riverside")})
    assert _problems(mapping) == {}


def test_each_unusable_option_is_reported_where_it_is_mapped() -> None:
    fix = ("Map it to an active option of a Xero tracking category, or remove its mapping (its invoices then go to "
           "Xero without tracking).")
    mapping = Mapping(departments={
        "1": TrackingChoice("Old sites", "Main Street"),
        "2": TrackingChoice("Clinic site", "Riverbank"),
        "3": TrackingChoice("Service", "Mobile & Equine"),
        "4": TrackingChoice("Clinic site", "Farm visits"),
        "9": TrackingChoice("Clinic site", "Head office"),
    })
    assert _problems(mapping) == {
        "departments:1": f"Department 'Main Street' is mapped to tracking category 'Old sites', which is archived in "
                         f"Xero. — {fix}",
        "departments:2": f"Department 'Riverside' is mapped to option 'Riverbank' of tracking category 'Clinic site', "
                         f"which Xero does not have. — {fix}",
        "departments:3": f"Department 'Mobile & Equine' is mapped to tracking category 'Service', which Xero does not "
                         f"have. — {fix}",
        "departments:4": f"Department 'Farm visits' is mapped to option 'Farm visits' of tracking category 'Clinic "
                         f"site', which is archived in Xero. — {fix}",
    }


# --- the suggestion ---------------------------------------------------------------------------------------


def test_suggest_maps_departments_to_options_of_the_same_name() -> None:
    base = Mapping(departments={"2": TrackingChoice("Clinic site", "Head office")})
    suggestion = suggest_mapping(XERO, [], [], base=base, departments=DEPARTMENTS)
    assert suggestion.mapping.departments == {
        "1": TrackingChoice("Clinic site", "Main  street"),  # case and spaces aside; Xero's own spelling
        "2": TrackingChoice("Clinic site", "Head office"),  # already mapped: kept
    }
    assert "Department 'Mobile & Equine' is an option in several Xero tracking categories ('Region', 'Service " \
           "line'): choose one, or leave it unmapped." in suggestion.notes
    # only an archived option of that name: not suggested, and said so
    assert "Department 'Farm visits' has no tracking option of the same name in Xero: its invoices go without " \
           "tracking unless you map it." in suggestion.notes
    assert _problems(suggestion.mapping) == {}


def test_no_tracking_categories_no_suggestion_and_no_note() -> None:
    bare = XeroReference(XERO.organisation, (), ())
    suggestion = suggest_mapping(bare, [], [], departments=DEPARTMENTS)
    assert suggestion.mapping.departments == {}
    assert not [n for n in suggestion.notes if "Department" in n]


# --- the command line against the sandbox -----------------------------------------------------------------


def test_suggest_check_export_import_through_the_command_line(
    connected: Profile, sandbox: Sandbox, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run_main(capsys, "mapping", "suggest", "--save")
    assert code == 0, err
    assert "3 departments" in out
    saved = MappingFile(connected.paths.mapping_file).load()
    assert saved.departments == {
        "1": TrackingChoice("Department", "Happy Paws Main Street"),
        "2": TrackingChoice("Department", "Happy Paws Riverside"),
        "3": TrackingChoice("Department", "Mobile & Equine"),
    }
    code, out, _ = run_main(capsys, "mapping", "check", "--json")
    assert json.loads(out)["problems"] == [], out

    sandbox.xero.archive_tracking_option(CLINIC_TENANT_ID, "Department", "Happy Paws Riverside")
    code, out, _ = run_main(capsys, "mapping", "check", "--json")
    report = json.loads(out)
    assert code == 1
    assert report["problems"] == [{
        "where": "departments:2",
        "message": "Department 'Happy Paws Riverside' is mapped to option 'Happy Paws Riverside' of tracking "
                   "category 'Department', which is archived in Xero.",
        "fix": "Map it to an active option of a Xero tracking category, or remove its mapping (its invoices then go "
               "to Xero without tracking).",
    }]

    dest = tmp_path / "second-pc.json"
    assert cli("mapping", "export", str(dest)).returncode == 0
    exported = json.loads(dest.read_text())
    assert exported["departments"]["3"] == {"category": "Department", "option": "Mobile & Equine"}
    MappingFile(connected.paths.mapping_file).save(Mapping())
    out = cli("mapping", "import", str(dest))
    assert out.returncode == 0, out.stderr
    assert MappingFile(connected.paths.mapping_file).load() == saved
