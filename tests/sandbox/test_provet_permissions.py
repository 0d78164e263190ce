"""The Provet sandbox's permission families: a missing family is a 403 in Django REST's words, for every
resource it covers and for nothing else, checked after the token and not counted against a budget."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from provet_xero_gui.sandbox.clinic import Clinic
from provet_xero_gui.sandbox.clock import SandboxClock
from provet_xero_gui.sandbox.provet_server import (
    PERM_CLIENTS,
    PERM_INVOICES,
    PERM_SETTINGS,
    PERMISSION_FAMILIES,
    ProvetSandbox,
)

if TYPE_CHECKING:
    from provet_fixtures import ProvetApi

pytest_plugins = ["provet_fixtures"]
DENIED = {"detail": "You do not have permission to perform this action."}


def test_all_three_families_by_default(provet: ProvetSandbox, provet_api: ProvetApi) -> None:
    assert provet.permissions == {PERM_INVOICES, PERM_CLIENTS, PERM_SETTINGS}
    for resources in PERMISSION_FAMILIES.values():
        for resource in resources:
            assert provet_api.get(f"{resource}/").status_code == 200, resource


@pytest.mark.parametrize("missing", sorted(PERMISSION_FAMILIES))
def test_missing_family_is_403_for_its_resources_only(
    provet: ProvetSandbox, provet_api: ProvetApi, missing: str
) -> None:
    provet.set_permissions(*(f for f in PERMISSION_FAMILIES if f != missing))
    for family, resources in PERMISSION_FAMILIES.items():
        for resource in resources:
            resp = provet_api.get(f"{resource}/")
            if family == missing:
                assert (resp.status_code, resp.json()) == (403, DENIED), resource
                assert provet_api.get(f"{resource}/1/").status_code == 403
            else:
                assert resp.status_code == 200, resource


def test_writes_are_refused_too(provet: ProvetSandbox, provet_api: ProvetApi) -> None:
    provet.set_permissions(PERM_SETTINGS)
    inv = next(i for i in provet.invoices(3) if i.due_sum > 0 and not i.credit_note)
    body = {"invoice": provet.url("invoice", inv.id), "payment_type": 1, "paid": "1.00"}
    assert provet_api.post("invoicepayment/", body).status_code == 403
    assert provet_api.patch("client/1/", {"city": "Leeds"}).status_code == 403
    assert provet.payments_for(inv.id) == list(inv.payments) and provet.client(1).city != "Leeds"


def test_checked_after_the_token_and_not_counted(provet: ProvetSandbox, provet_api: ProvetApi) -> None:
    provet.set_permissions()
    no_token = provet_api.session.get(provet.api_url + "invoice/", headers={"Authorization": ""}, timeout=10)
    assert no_token.status_code == 401
    for _ in range(61):  # more than the /invoice/ budget: still 403, never 429
        assert provet_api.get("invoice/").status_code == 403
    provet.set_permissions(PERM_INVOICES)
    assert provet_api.get("invoice/").status_code == 200


def test_unknown_family_and_reset(provet: ProvetSandbox) -> None:
    with pytest.raises(ValueError, match="unknown permission families"):
        provet.set_permissions("Financial: Everything")
    provet.set_permissions(PERM_CLIENTS)
    provet.reset()
    assert provet.permissions == set(PERMISSION_FAMILIES)


def test_given_at_start(provet_clinic: Clinic) -> None:
    sandbox = ProvetSandbox(provet_clinic.provet, SandboxClock(start=provet_clinic.now), permissions=[PERM_INVOICES])
    assert sandbox.permissions == {PERM_INVOICES}
