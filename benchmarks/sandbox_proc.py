"""The sandbox (simulated Provet Cloud and Xero) in a process of its own, on a clock shared with the app.

The benchmark's own process is then the app alone, so its peak memory and CPU seconds are the app's, not
the simulated services'. Both processes read one clock: sandbox seconds = (monotonic now - real0) × scale
+ offset, the offset in shared memory. The app's waits (pacing, Retry-After, backoff) either jump the clock
forward by the wait (`jump`: waits take no real time, work counts at `scale`) or sleep for the wait
divided by the scale (`sleep`: a plain sped-up clock, for the window).
"""

from __future__ import annotations

import multiprocessing as mp
import random
import threading
import time
import traceback
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from provet_xero_gui.sandbox.clock import SandboxClock


class SharedClock(SandboxClock):
    """A SandboxClock whose offset lives in shared memory, so two processes read the same sandbox time."""

    def __init__(self, start: datetime, scale: float, real0: float, offset: Any) -> None:
        super().__init__(start, scale)
        self._real0 = real0
        self._shared = offset

    def seconds(self) -> float:
        return (time.monotonic() - self._real0) * self._scale + self._shared.value

    def advance(self, seconds: float) -> None:
        with self._shared.get_lock():
            self._shared.value += seconds

    def advance_to(self, target: float) -> None:
        """Move on to `target` sandbox seconds, unless the clock is there already."""
        with self._shared.get_lock():
            ahead = target - self.seconds()
            if ahead > 0:
                self._shared.value += ahead

    def set_scale(self, scale: float) -> None:
        raise NotImplementedError("a shared clock keeps its scale; start a new sandbox instead")


# --- the child ---------------------------------------------------------------------------------------------


def _serve(conn: Any, offset: Any) -> None:
    from provet_xero_gui.sandbox import runner
    from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID as TENANT
    from provet_xero_gui.sandbox.clinic import INVOICE_FINALISED, RowSpec, generate_clinic

    sb: runner.Sandbox | None = None

    def start(size: int, seed: int, scale: float, real0: float) -> dict[str, Any]:
        nonlocal sb
        if sb is not None:
            sb.stop()
        clinic = generate_clinic(seed=seed, size=size)
        clock = SharedClock(clinic.now, scale, real0, offset)
        original = runner.SandboxClock
        runner.SandboxClock = lambda *_a, **_k: clock  # type: ignore[assignment,misc]
        try:
            sb = runner.Sandbox(seed=seed, size=size, clinic=clinic).start()
        finally:
            runner.SandboxClock = original  # type: ignore[misc]
        data = clinic.provet
        finalised = [i for i in data.invoices if i.status == INVOICE_FINALISED]
        return {
            "credentials": asdict(sb.credentials),
            "xero_url": sb.xero.base_url,
            "env": sb.env(),
            "start": clinic.now.isoformat(),
            "tenant": TENANT,
            "clinic": {
                "finalised_invoices": sum(1 for i in finalised if not i.credit_note),
                "finalised_credit_notes": sum(1 for i in finalised if i.credit_note),
                "clients": len(data.clients),
                "rows": len(data.rows),
                "payments": len(data.payments),
            },
        }

    def activity(payments: int, xero_edits: int, provet_edits: int, seed: int) -> dict[str, int]:
        """Work people do while the backfill runs: payments taken in Xero (on invoices nobody paid in Provet),
        contacts edited in Xero, clients edited in Provet."""
        assert sb is not None
        rng = random.Random(seed)
        unpaid = []
        for doc in sorted(sb.xero.invoices(TENANT), key=lambda d: d.number):
            if doc.status != "AUTHORISED" or doc.amount_due <= 0 or doc.amount_due != doc.total:
                continue
            pid = doc.reference.removeprefix("Provet #")
            if pid.isdigit() and not sb.provet.payments_for(int(pid)):
                unpaid.append(doc)
        paid = 0
        for doc in rng.sample(unpaid, min(payments, len(unpaid))):
            sb.xero.make_payment(TENANT, doc.doc_id, doc.amount_due, "090", reference="Bank transfer")
            paid += 1
        linked = sorted((c for c in sb.xero.contacts(TENANT) if (c.contact_number or "").startswith("Provet-")),
                        key=lambda c: c.contact_number or "")
        chosen = rng.sample(linked, min(xero_edits + provet_edits, len(linked)))
        for i, contact in enumerate(chosen[:xero_edits]):
            sb.xero.edit_contact(TENANT, contact.contact_id, email=f"accounts{i}@xero-edit.example.com")
        edited = 0
        for i, contact in enumerate(chosen[xero_edits:]):
            cid = int((contact.contact_number or "").removeprefix("Provet-"))
            sb.provet.edit_client(cid, email=f"client{i}@provet-edit.example.com")
            edited += 1
        return {"xero_payments": paid, "xero_contact_edits": len(chosen[:xero_edits]),
                "provet_client_edits": edited}

    def new_invoice() -> int:
        assert sb is not None
        client = sb.provet.clients()[0]
        row = RowSpec("Consultation", Decimal(1), Decimal("45.00"), Decimal(20), "200")
        new = sb.provet.add_invoice(client.id, [row], finalise=True)
        sb.provet.add_payment(new.id, str(new.total_with_vat))
        return new.id

    def stats() -> dict[str, Any]:
        from provet_xero_gui.sandbox.provet_server import DEFAULT_LIMIT, GET_LIMITS, MAX_PAGE_SIZE

        assert sb is not None
        return {
            "provet_limits": {"get": dict(GET_LIMITS), "default": DEFAULT_LIMIT, "max_page_size": MAX_PAGE_SIZE},
            "xero_statuses": sb.xero.counter.statuses(),
            "xero_counts": sb.xero.counter.counts(),
            "provet_statuses": sb.provet.counter.statuses(),
            "provet_counts": sb.provet.counter.counts(),
            "allocations": sum(1 for _ in sb.xero.allocations(TENANT)),
            "xero_invoices": len(sb.xero.invoices(TENANT)),
            "xero_credit_notes": len(sb.xero.credit_notes(TENANT)),
            "xero_payments": len(sb.xero.payments(TENANT)),
            "xero_contacts": len(sb.xero.contacts(TENANT)),
        }

    def reset() -> None:
        """The same clinic again, as it was generated, and an empty Xero with fresh limit windows."""
        assert sb is not None
        sb.provet.reset()
        sb.xero.reset()

    commands = {
        "start": start,
        "activity": activity,
        "new_invoice": new_invoice,
        "stats": stats,
        "reset": reset,
        "token": lambda: sb.xero.connect(tenant_ids=[TENANT])["access_token"],  # type: ignore[union-attr]
        "approve_consent": lambda url: sb.xero.approve_consent(url),  # type: ignore[union-attr]
        "clinic_data": lambda: sb.clinic.provet,  # type: ignore[union-attr]
    }
    while True:
        try:
            name, args = conn.recv()
        except EOFError:
            break
        if name == "stop":
            break
        try:
            conn.send(("ok", commands[name](*args)))
        except Exception:
            conn.send(("err", traceback.format_exc()))
    if sb is not None:
        sb.stop()
    conn.close()


# --- the app side ------------------------------------------------------------------------------------------


class SandboxProcess:
    """Starts the child and talks to it; `clock` is this side's view of the shared clock."""

    def __init__(self) -> None:
        ctx = mp.get_context("spawn")
        self._offset = ctx.Value("d", 0.0)
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, self._offset), name="sandbox", daemon=True)
        self._proc.start()
        child.close()
        self._lock = threading.Lock()
        self.info: dict[str, Any] = {}
        self.clock: SharedClock | None = None

    def call(self, name: str, *args: Any) -> Any:
        with self._lock:
            self._conn.send((name, args))
            status, value = self._conn.recv()
        if status != "ok":
            raise RuntimeError(f"sandbox {name} failed:\n{value}")
        return value

    def start(self, size: int, seed: int, scale: float) -> dict[str, Any]:
        with self._offset.get_lock():
            self._offset.value = 0.0
        real0 = time.monotonic()
        self.info = self.call("start", size, seed, scale, real0)
        self.clock = SharedClock(datetime.fromisoformat(self.info["start"]), scale, real0, self._offset)
        return self.info

    @property
    def tenant(self) -> str:
        return str(self.info["tenant"])

    def jump(self, sandbox_seconds: float) -> None:
        """A wait that takes no real time: the shared clock moves on to the wait's end. Waits that overlap
        (the app reads Provet on one thread while it writes to Xero on another, each paced by its own
        limits) overlap on the clock too: it moves to the latest end, not by the sum of the waits."""
        assert self.clock is not None
        self.clock.advance_to(self.clock.seconds() + max(0.0, sandbox_seconds))
        time.sleep(0)

    def sleep(self, sandbox_seconds: float) -> None:
        """A wait on a sped-up clock: sandbox seconds / scale of real time."""
        assert self.clock is not None
        time.sleep(self.clock.real_seconds(max(0.0, sandbox_seconds)))

    def close(self) -> None:
        try:
            with self._lock:
                self._conn.send(("stop", ()))
        except (OSError, BrokenPipeError):
            pass
        self._proc.join(timeout=30)
        if self._proc.is_alive():
            self._proc.terminate()
