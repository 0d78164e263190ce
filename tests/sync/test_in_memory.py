"""The sandbox answered in this process (sandbox/memory.py) is the sandbox: a pass in memory leaves Xero as the
same pass over loopback HTTP does, with the same calls, and what the sandbox refuses is refused in memory too.
And XeroClient answers every call of the Protocols the engine is typed against (xero/port.py)."""

from __future__ import annotations

import inspect

import pytest

from provet_xero_gui.xero.client import XeroApiError, XeroClient
from provet_xero_gui.xero.port import XeroPort, XeroTieOutReads

from .conftest import World


def _held(world: World) -> list[tuple]:
    docs = world.xero_invoices() + world.xero_credit_notes()
    return sorted((d.number, d.type, d.status, d.total, d.amount_due) for d in docs)


def test_a_pass_in_memory_leaves_xero_as_a_pass_over_the_wire_does(make_world) -> None:
    memory, wire = make_world(), make_world(wire=True)
    first, second = memory.engine().run_pass(), wire.engine().run_pass()
    assert first.stopped is None and second.stopped is None
    assert _held(memory) and _held(memory) == _held(wire)
    assert first.sent == second.sent
    assert memory.xero.calls == wire.xero.calls
    assert memory.sandbox.xero.counter.counts() == wire.sandbox.xero.counter.counts()
    assert memory.sandbox.provet.counter.counts() == wire.sandbox.provet.counter.counts()


def test_in_memory_a_url_too_long_is_refused_as_the_sandbox_refuses_it(world: World) -> None:
    with pytest.raises(XeroApiError) as refused:
        world.xero.call("GET Contacts", world.xero.api.get_contacts, where=f'Name=="{"x" * 5000}"')
    assert refused.value.status == 414


def test_in_memory_a_write_sent_again_with_its_key_is_done_once(world: World) -> None:
    contact = {"Name": "Once Only", "ContactNumber": "PV-ONCE"}
    first = world.xero.put_contacts([contact], "key-once")
    again = world.xero.put_contacts([contact], "key-once")
    assert [c.xero_id for c in again] == [c.xero_id for c in first]
    assert [c.name for c in world.xero_contacts()].count("Once Only") == 1
    (third,) = world.xero.put_contacts([contact], "key-other")  # under a new key: a new write, refused
    assert third.has_errors and third.errors, third


class _NoTokens:
    def access_token(self) -> str:
        return ""

    def invalidate(self, access_token: str) -> None:
        pass


@pytest.mark.parametrize("port", [XeroPort, XeroTieOutReads])
def test_xero_client_answers_every_call_of_the_protocol(port: type) -> None:
    ours = [c for c in port.__mro__ if c.__module__ == port.__module__]
    members = {n for c in ours for n in [*vars(c), *getattr(c, "__annotations__", {})] if not n.startswith("_")}
    assert {"put_invoices", "total_calls", "limiter", "calls"} <= members
    client = XeroClient("http://127.0.0.1:9", "tenant", _NoTokens())  # made, never called
    for name in sorted(members):
        assert hasattr(client, name), name
        expected = getattr(port, name, None)
        if inspect.isfunction(expected):
            got = inspect.signature(getattr(client, name))
            assert list(got.parameters) == list(inspect.signature(expected).parameters)[1:], name
