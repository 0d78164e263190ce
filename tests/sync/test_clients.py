"""Client details both ways against the sandbox: one-sided changes are copied, two-sided ones become
conflicts, a choice is written on the next pass, and nothing echoes back or is written twice."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from helpers.cli import run_cli
from helpers.connected import connect_profile

from provet_xero_gui.app.connections import open_connections
from provet_xero_gui.mapping import Mapping, MappingFile
from provet_xero_gui.provet.source import ProvetSource
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID
from provet_xero_gui.sandbox.runner import Sandbox, demo_mapping
from provet_xero_gui.store.conflicts import ClientState
from provet_xero_gui.store.sync_state import SyncState
from provet_xero_gui.sync.clients import ClientReport, ClientSync, ResolveRefused, read_current, resolve
from provet_xero_gui.sync.events import ConflictFound
from provet_xero_gui.sync.outcomes import Outcomes

from .conftest import World

T = CLINIC_TENANT_ID


def step(world: World, rule: str = "ask", *, poll_xero: bool = True) -> ClientReport:
    out = Outcomes(world.state, world.events.append)
    return ClientSync(ProvetSource(world.provet), world.xero, world.state, out, conflict_rule=rule).run(poll_xero)


def linked(world: World) -> None:
    """The engine makes the contacts; the first run of the step gives every pair its base."""
    world.engine().run_pass()
    step(world)


def person(world: World) -> tuple[int, str]:
    """A linked private client with a phone number: (Provet id, ContactID)."""
    links = world.state.links("contact")
    for c in world.sandbox.provet.clients():
        if str(c.id) in links and c.customer_type == 0 and c.phone_numbers:
            return c.id, links[str(c.id)].xero_id
    raise AssertionError("the seed has no linked person with a phone")


def contact(world: World, contact_id: str):
    return world.sandbox.xero.contact(T, contact_id)


def provet_writes(world: World) -> int:
    return sum(n for k, n in world.provet.calls.items() if not k.startswith("GET"))


def xero_writes(world: World) -> int:
    return world.xero.calls["POST Contacts"]


def test_first_run_gives_bases_and_provet_wins_on_a_new_link(world: World) -> None:
    world.engine().run_pass()  # makes the contacts (with their phone numbers) and records the bases
    cid, xid = person(world)
    with world.store.transaction() as db:  # as if this pair had just been linked: no base yet
        db.execute("DELETE FROM client_fields WHERE provet_client_id = ?", (str(cid),))
    world.sandbox.xero.edit_contact(T, xid, addresses=[{"AddressType": "POBOX", "City": "Typed in Xero"}])
    report = step(world)
    # On a new link Provet's values win: the city typed in Xero is put back.
    assert report.contacts_updated == 1 and report.clients_updated == 0 and report.conflicts_found == 0
    client = world.sandbox.provet.client(cid)
    pobox = next(a for a in contact(world, xid).addresses if a["AddressType"] == "POBOX")
    assert pobox["City"] == client.city
    phone = next(p for p in contact(world, xid).phones if p["PhoneType"] == "DEFAULT")
    assert phone["PhoneNumber"] == client.phone_numbers[0].phone_number
    assert set(ClientState(world.store).bases([cid])[str(cid)]) >= {
        "name", "email", "phone", "street", "postcode", "city", "country", "tax_number"}


def test_a_field_changed_only_in_provet_reaches_xero(world: World) -> None:
    linked(world)
    cid, xid = person(world)
    world.sandbox.provet.edit_client(cid, email="new.address@example.org", zip_code="ZZ1 1ZZ")
    before = provet_writes(world)
    report = step(world)
    assert report.contacts_updated == 1 and report.clients_updated == 0
    c = contact(world, xid)
    assert c.email == "new.address@example.org"
    pobox = next(a for a in c.addresses if a["AddressType"] == "POBOX")
    assert pobox["PostalCode"] == "ZZ1 1ZZ"
    assert pobox["AddressLine1"] == world.sandbox.provet.client(cid).street_address  # the rest of it is kept
    assert provet_writes(world) == before


def test_a_field_changed_only_in_xero_reaches_provet(world: World) -> None:
    linked(world)
    cid, xid = person(world)
    client = world.sandbox.provet.client(cid)
    world.sandbox.xero.edit_contact(T, xid, email="from.xero@example.org", name=f"{client.firstname} Newname",
                                    phones=[{"PhoneType": "DEFAULT", "PhoneNumber": "01632 960999"}])
    before = dict(world.provet.calls)
    report = step(world)
    assert report.clients_updated == 1 and report.contacts_updated == 0
    assert world.provet.calls.get("PATCH /client/", 0) == before.get("PATCH /client/", 0) + 1
    assert world.provet.calls.get("PATCH /phonenumber/", 0) == before.get("PATCH /phonenumber/", 0) + 1
    after = world.sandbox.provet.client(cid)
    assert after.email == "from.xero@example.org"
    assert (after.firstname, after.lastname) == (client.firstname, "Newname")  # a changed surname
    assert after.phone_numbers[0].phone_number == "01632 960999"


def test_a_field_changed_differently_on_both_sides_is_a_conflict_and_neither_is_written(world: World) -> None:
    linked(world)
    cid, xid = person(world)
    world.sandbox.provet.edit_client(cid, city="Provetville", email="both.changed@example.org")
    world.sandbox.xero.edit_contact(T, xid, addresses=[{"AddressType": "POBOX", "City": "Xerotown"}])
    world.events.clear()
    report = step(world)
    assert report.conflicts_found == 1
    # The email changed only in Provet and went; the city waits.
    assert contact(world, xid).email == "both.changed@example.org"
    assert world.sandbox.provet.client(cid).city == "Provetville"
    assert next(a for a in contact(world, xid).addresses if a["AddressType"] == "POBOX")["City"] == "Xerotown"
    [conflict] = ClientState(world.store).open_conflicts()
    assert (conflict.field, conflict.provet_value, conflict.xero_value) == ("city", "Provetville", "Xerotown")
    assert conflict.provet_changed_at and conflict.xero_changed_at and conflict.base_value
    found = [e for e in world.events if isinstance(e, ConflictFound)]
    assert [(e.conflict_id, e.field) for e in found] == [(conflict.id, "city")]
    # Further passes neither write it nor record it again.
    writes = (xero_writes(world), provet_writes(world))
    assert step(world).conflicts_found == 0
    assert (xero_writes(world), provet_writes(world)) == writes
    assert len(ClientState(world.store).open_conflicts()) == 1


def test_the_same_change_on_both_sides_is_no_conflict_and_moves_the_base(world: World) -> None:
    linked(world)
    cid, xid = person(world)
    world.sandbox.provet.edit_client(cid, vat_number="GB123456789")
    world.sandbox.xero.edit_contact(T, xid, tax_number=" GB123456789 ")
    writes = (xero_writes(world), provet_writes(world))
    report = step(world)
    assert report == ClientReport(xero_calls=report.xero_calls)
    assert (xero_writes(world), provet_writes(world)) == writes
    assert ClientState(world.store).open_conflicts() == []
    assert ClientState(world.store).bases([cid])[str(cid)]["tax_number"] == "GB123456789"


def _conflict(world: World, cid: int, xid: str) -> int:
    world.sandbox.provet.edit_client(cid, email="provet.side@example.org")
    world.sandbox.xero.edit_contact(T, xid, email="xero.side@example.org")
    step(world)
    [conflict] = ClientState(world.store).open_conflicts()
    return conflict.id


def test_resolve_keep_provet_writes_xero_on_the_next_pass(world: World) -> None:
    linked(world)
    cid, xid = person(world)
    conflict_id = _conflict(world, cid, xid)
    resolve(world.state, conflict_id, keep="provet")
    report = step(world)
    assert report.contacts_updated == 1 and report.clients_updated == 0
    assert contact(world, xid).email == "provet.side@example.org"
    assert world.sandbox.provet.client(cid).email == "provet.side@example.org"
    closed = ClientState(world.store).conflict(conflict_id)
    assert closed is not None and closed.resolved_at and closed.resolution == "provet"
    assert ClientState(world.store).open_conflicts() == []
    assert step(world).contacts_updated == 0  # and it stays settled


def test_resolve_keep_xero_writes_provet_on_the_next_pass(world: World) -> None:
    linked(world)
    cid, xid = person(world)
    conflict_id = _conflict(world, cid, xid)
    resolve(world.state, conflict_id, keep="xero", current=read_current(
        ProvetSource(world.provet), world.xero, ClientState(world.store).conflict(conflict_id)))
    report = step(world)
    assert report.clients_updated == 1 and report.contacts_updated == 0
    assert world.sandbox.provet.client(cid).email == "xero.side@example.org"
    assert ClientState(world.store).open_conflicts() == []


def test_a_value_chosen_by_hand_goes_to_both_sides(world: World) -> None:
    linked(world)
    cid, xid = person(world)
    conflict_id = _conflict(world, cid, xid)
    resolve(world.state, conflict_id, value="  third@example.org ")
    report = step(world)
    assert (report.clients_updated, report.contacts_updated) == (1, 1)
    assert world.sandbox.provet.client(cid).email == contact(world, xid).email == "third@example.org"


def test_resolve_is_refused_after_a_newer_change(world: World) -> None:
    linked(world)
    cid, xid = person(world)
    conflict_id = _conflict(world, cid, xid)
    world.sandbox.provet.edit_client(cid, email="changed.again@example.org")
    current = read_current(ProvetSource(world.provet), world.xero, ClientState(world.store).conflict(conflict_id))
    with pytest.raises(ResolveRefused, match="changed again in Provet"):
        resolve(world.state, conflict_id, keep="xero", current=current)
    assert ClientState(world.store).conflict(conflict_id).resolution is None
    with pytest.raises(ResolveRefused, match="no conflict 999"):
        resolve(world.state, 999, keep="xero")


def test_a_choice_made_without_reading_is_checked_by_the_pass(world: World) -> None:
    """The window may record a choice without reading both sides; the pass writes nothing if a side moved."""
    linked(world)
    cid, xid = person(world)
    conflict_id = _conflict(world, cid, xid)
    resolve(world.state, conflict_id, keep="provet")
    world.sandbox.xero.edit_contact(T, xid, email="xero.again@example.org")
    writes = (xero_writes(world), provet_writes(world))
    step(world)
    assert (xero_writes(world), provet_writes(world)) == writes
    again = ClientState(world.store).conflict(conflict_id)
    assert again is not None and again.resolved_at is None and again.resolution is None
    assert (again.provet_value, again.xero_value) == ("provet.side@example.org", "xero.again@example.org")


@pytest.mark.parametrize("rule", ["provet", "xero"])
def test_the_standing_rule_resolves_by_itself(world: World, rule: str) -> None:
    linked(world)
    cid, xid = person(world)
    world.sandbox.provet.edit_client(cid, email="provet.side@example.org")
    world.sandbox.xero.edit_contact(T, xid, email="xero.side@example.org")
    report = step(world, rule)
    winner = f"{rule}.side@example.org"
    assert world.sandbox.provet.client(cid).email == contact(world, xid).email == winner
    assert (report.clients_updated, report.contacts_updated) == ((1, 0) if rule == "xero" else (0, 1))
    assert ClientState(world.store).open_conflicts() == []
    kept = [c for c in [ClientState(world.store).conflict(1)] if c]
    assert kept and kept[0].resolution == rule and kept[0].resolved_at  # kept for the record


def test_no_echo_over_several_passes(world: World) -> None:
    linked(world)
    cid, xid = person(world)
    world.sandbox.provet.edit_client(cid, city="Echo City")
    world.sandbox.xero.edit_contact(T, xid, email="echo@example.org")
    first = step(world)
    assert (first.contacts_updated, first.clients_updated) == (1, 1)
    writes = (xero_writes(world), provet_writes(world))
    for _ in range(3):
        report = step(world)
        assert (report.contacts_updated, report.clients_updated, report.conflicts_found) == (0, 0, 0)
    assert (xero_writes(world), provet_writes(world)) == writes


def test_an_idle_pass_costs_one_xero_call(world: World) -> None:
    linked(world)
    step(world)
    assert step(world).xero_calls == 1  # the contacts poll
    assert step(world, poll_xero=False).xero_calls == 0
    # With the lead's engine: documents and payments idle too — within 3 Xero calls in all.
    engine = world.engine().run_pass()
    assert engine.xero_calls + step(world).xero_calls <= 3


def test_killed_between_the_write_and_its_base_neither_loses_nor_repeats(world: World, monkeypatch) -> None:
    linked(world)
    cid, xid = person(world)
    world.sandbox.provet.edit_client(cid, city="Crashford")

    def killed(*_args, **_kwargs):
        raise KeyboardInterrupt  # as if the process died right after Xero took the change

    monkeypatch.setattr(ClientSync, "_settle", killed)
    with pytest.raises(KeyboardInterrupt):
        step(world)
    monkeypatch.undo()
    assert next(a for a in contact(world, xid).addresses if a["AddressType"] == "POBOX")["City"] == "Crashford"
    writes = xero_writes(world)
    report = step(world)
    assert report.contacts_updated == 0 and xero_writes(world) == writes  # both sides agree: settled
    assert ClientState(world.store).bases([cid])[str(cid)]["city"] == "Crashford"


def test_killed_before_the_write_sends_it_on_the_next_pass(world: World, monkeypatch) -> None:
    linked(world)
    cid, xid = person(world)
    world.sandbox.provet.edit_client(cid, city="Laterton")
    monkeypatch.setattr(world.xero, "update_contacts", lambda *_a, **_k: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        step(world)
    monkeypatch.undo()
    assert step(world).contacts_updated == 1
    assert next(a for a in contact(world, xid).addresses if a["AddressType"] == "POBOX")["City"] == "Laterton"


def test_a_value_provet_refuses_waits_in_attention_without_retrying_every_pass(world: World) -> None:
    linked(world)
    cid, xid = person(world)
    world.sandbox.xero.edit_contact(T, xid, addresses=[{"AddressType": "POBOX", "Country": "United Kingdom"}])
    report = step(world)
    assert report.refused == 1 and report.clients_updated == 0
    [item] = [a for a in world.state.attention() if a.kind == "client"]
    assert item.provet_id == str(cid) and item.cause == "client_refused" and "country" in item.reason
    patches = world.provet.calls.get("PATCH /client/", 0)
    for _ in range(2):
        step(world)
    assert world.provet.calls.get("PATCH /client/", 0) == patches
    # Fixed in Xero: copied, and the attention item goes.
    world.sandbox.xero.edit_contact(T, xid, addresses=[{"AddressType": "POBOX", "Country": "IE"}])
    assert step(world).clients_updated == 1
    assert world.sandbox.provet.client(cid).country == "IE"
    assert not [a for a in world.state.attention() if a.kind == "client"]


def test_a_standing_rule_whose_value_is_refused_is_not_tried_every_pass(world: World) -> None:
    linked(world)
    cid, xid = person(world)
    world.sandbox.provet.edit_client(cid, country="IE")
    world.sandbox.xero.edit_contact(T, xid, addresses=[{"AddressType": "POBOX", "Country": "Ireland"}])
    assert step(world, "xero").refused == 1
    [conflict] = ClientState(world.store).open_conflicts()
    assert conflict.waiting  # back to the admin, with the reason in the attention list
    patches = world.provet.calls.get("PATCH /client/", 0)
    for _ in range(2):
        assert step(world, "xero").refused == 0
    assert world.provet.calls.get("PATCH /client/", 0) == patches


def test_a_company_renamed_in_xero_is_renamed_in_provet(world: World) -> None:
    linked(world)
    links = world.state.links("contact")
    company = next(c for c in world.sandbox.provet.clients() if str(c.id) in links and c.customer_type != 0
                   and c.organization_name)
    world.sandbox.xero.edit_contact(T, links[str(company.id)].xero_id, name="Renamed Holdings Ltd")
    assert step(world).clients_updated == 1
    after = world.sandbox.provet.client(company.id)
    assert after.organization_name == "Renamed Holdings Ltd" and after.firstname == company.firstname


def test_a_name_taken_in_xero_gets_the_provet_suffix(world: World) -> None:
    linked(world)
    cid, xid = person(world)
    world.sandbox.xero.add_contact(T, "Someone Else Entirely")
    world.sandbox.provet.edit_client(cid, firstname="Someone Else", lastname="Entirely")
    assert step(world).contacts_updated == 1
    assert contact(world, xid).name == f"Someone Else Entirely (Provet {cid})"
    assert step(world).contacts_updated == 0  # the suffix is not a change of name


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args)


def test_conflicts_and_resolve_on_the_command_line(monkeypatch: pytest.MonkeyPatch, profile_home: Path) -> None:
    with Sandbox(size=12) as sandbox:
        profile = connect_profile(sandbox, monkeypatch)
        MappingFile(profile.paths.mapping_file).save(Mapping.from_json(demo_mapping()))
        assert _cli("sync", "--once", "--json").returncode in (0, 1)

        def run_step() -> ClientReport:
            conns = open_connections(profile)
            with profile.store() as store:
                state = SyncState(store)
                return ClientSync(ProvetSource(conns.provet), conns.xero, state, Outcomes(state, lambda _e: None)).run()

        run_step()
        assert _cli("conflicts").stdout.startswith("No conflicts")
        with profile.store() as store:
            links = SyncState(store).links("contact")
        people = [c for c in sandbox.provet.clients() if str(c.id) in links and c.customer_type == 0][:2]
        for c in people:
            sandbox.provet.edit_client(c.id, email=f"provet.{c.id}@example.org")
            sandbox.xero.edit_contact(T, links[str(c.id)].xero_id, email=f"xero.{c.id}@example.org")
        assert run_step().conflicts_found == 2

        shown = _cli("conflicts")
        assert shown.returncode == 1, shown.stderr
        first, second = people
        assert f"provet.{first.id}@example.org" in shown.stdout and f"xero.{second.id}@example.org" in shown.stdout
        assert f"(Provet client {first.id})" in shown.stdout and "resolve" in shown.stdout
        rows = json.loads(_cli("conflicts", "--json").stdout)
        by_client = {r["provet_client_id"]: r for r in rows}
        assert set(by_client) == {str(first.id), str(second.id)}
        assert all(r["field"] == "email" and r["waiting"] for r in rows)

        # Keep Xero's value for the first; the next pass writes it to Provet.
        done = _cli("resolve", str(by_client[str(first.id)]["id"]), "--keep", "xero")
        assert done.returncode == 0, done.stderr
        assert "written to Provet on the next sync" in done.stdout
        # The second changed again in Provet after the conflict: refused, with the reason.
        sandbox.provet.edit_client(second.id, email="third.thoughts@example.org")
        refused = _cli("resolve", str(by_client[str(second.id)]["id"]), "--keep", "provet")
        assert refused.returncode == 2 and "changed again in Provet" in refused.stderr, refused.stderr
        assert _cli("resolve", "999", "--keep", "xero").returncode == 2

        run_step()
        assert sandbox.provet.client(first.id).email == f"xero.{first.id}@example.org"
        assert sandbox.xero.contact(T, links[str(second.id)].xero_id).email == f"xero.{second.id}@example.org"
        left = json.loads(_cli("conflicts", "--json").stdout)
        assert [(r["provet_client_id"], r["provet_value"]) for r in left] == [
            (str(second.id), "third.thoughts@example.org")]
