"""The sync engine against the sandbox: a first sync (backfill), an idle pass, an incremental pass, the cost of
translating every document, and a naive one-document-per-call baseline on the same data.

Everything here runs in the benchmark's own process (the app); the sandbox runs in its own (sandbox_proc).
The app's waits jump the shared clock (`SandboxProcess.jump`), so a day of Xero's limits passes in no real
time while the work itself counts at the clock's scale.
"""

from __future__ import annotations

import math
import resource
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox_proc import SandboxProcess

from provet_xero_gui.mapping import Mapping
from provet_xero_gui.provet.client import ProvetClient
from provet_xero_gui.provet.limits import ProvetLimiter
from provet_xero_gui.provet.records import INVOICE_FINALISED
from provet_xero_gui.provet.source import ProvetSource
from provet_xero_gui.sandbox.runner import demo_mapping
from provet_xero_gui.store import Store
from provet_xero_gui.store.sync_state import SyncState
from provet_xero_gui.sync.engine import SyncEngine
from provet_xero_gui.sync.events import Event, Progress
from provet_xero_gui.sync.translate import XeroDocument, translate
from provet_xero_gui.xero.client import XeroClient
from provet_xero_gui.xero.limits import DayLimitLow, XeroLimiter

BATCH = 50
DAY = 86_400.0


class _Tokens:
    def __init__(self, sandbox: SandboxProcess) -> None:
        self.sandbox = sandbox
        self.token = sandbox.call("token")

    def access_token(self) -> str:
        return self.token

    def invalidate(self, _token: str) -> None:
        self.token = self.sandbox.call("token")


class CountingProvet(ProvetClient):
    """The app's Provet client, noting the largest page asked for per endpoint."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.page_sizes: dict[str, int] = {}

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        params = kwargs.get("params") or {}
        size = params.get("page_size") or (parse_qs(urlsplit(path).query).get("page_size") or [None])[-1]
        if size is not None:
            resource_name = urlsplit(path).path.rstrip("/").split("/")[-1]
            self.page_sizes[resource_name] = max(self.page_sizes.get(resource_name, 0), int(size))
        return super().request(method, path, **kwargs)


class RecordingXero(XeroClient):
    """The app's Xero client, keeping what it wrote so the baseline can send exactly the same data."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.contacts: dict[str, dict[str, Any]] = {}  # ContactNumber -> element
        self.contact_ids: dict[str, str] = {}  # ContactID -> ContactNumber
        self.documents: dict[str, tuple[str, dict[str, Any]]] = {}  # Xero id -> (kind, element)
        self.payments: list[dict[str, Any]] = []
        self.allocations: list[tuple[str, str, Decimal, date]] = []

    def put_contacts(self, contacts: list[dict[str, Any]], key: str) -> Any:
        out = super().put_contacts(contacts, key)
        for element, got in zip(contacts, out, strict=False):
            if got.xero_id and not got.has_errors:
                self.contacts[str(element.get("ContactNumber"))] = element
                self.contact_ids[got.xero_id] = str(element.get("ContactNumber"))
        return out

    def _docs(self, kind: str, elements: list[dict[str, Any]], out: Any) -> Any:
        for element, got in zip(elements, out, strict=False):
            if got.xero_id and not got.has_errors:
                self.documents[got.xero_id] = (kind, element)
        return out

    def put_invoices(self, invoices: list[dict[str, Any]], key: str) -> Any:
        return self._docs("invoice", invoices, super().put_invoices(invoices, key))

    def put_credit_notes(self, notes: list[dict[str, Any]], key: str) -> Any:
        return self._docs("credit_note", notes, super().put_credit_notes(notes, key))

    def put_payments(self, payments: list[dict[str, Any]], key: str) -> Any:
        out = super().put_payments(payments, key)
        self.payments += [p for p, got in zip(payments, out, strict=False) if got.xero_id and not got.has_errors]
        return out

    def allocate_credit_note(self, credit_note_id: str, invoice_id: str, amount: Decimal, on: date, key: str) -> None:
        super().allocate_credit_note(credit_note_id, invoice_id, amount, on, key)
        self.allocations.append((credit_note_id, invoice_id, amount, on))


class KeepingSource(ProvetSource):
    """The engine's Provet reads, kept for the translation measurement (the records as the app sees them)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kept_invoices: dict[int, Any] = {}
        self.kept_rows: dict[int, list[Any]] = {}
        self.kept_vat_groups: list[Any] = []

    def changed_invoice_pages(self, since: Any, statuses: Any = ()) -> Any:
        pages = super().changed_invoice_pages(since, statuses) if statuses else super().changed_invoice_pages(since)
        for page in pages:
            self.kept_invoices.update({i.id: i for i in page.records})
            yield page

    def rows_for(self, invoice_ids: Any) -> Any:
        ids = list(invoice_ids)
        out = super().rows_for(ids)
        for i in ids:
            self.kept_rows[i] = list(out.get(i, ()))
        return out

    def vat_groups(self) -> Any:
        out = super().vat_groups()
        self.kept_vat_groups = list(out.records)
        return out


@dataclass
class App:
    provet: CountingProvet
    xero: RecordingXero
    store: Store
    events: list[Event] = field(default_factory=list)


def _clients(sp: SandboxProcess, cls: type[XeroClient] = RecordingXero) -> tuple[CountingProvet, Any]:
    clock = sp.clock
    assert clock is not None
    c = sp.info["credentials"]
    provet = CountingProvet(
        c["provet_url"], c["provet_client_id"], c["provet_client_secret"],
        limiter=ProvetLimiter(clock=clock.seconds, sleep=sp.jump), sleep=sp.jump, monotonic=clock.seconds,
    )
    limiter = XeroLimiter(clock=clock.seconds, sleep=sp.jump)
    xero = cls(sp.info["xero_url"], sp.tenant, _Tokens(sp), limiter=limiter, sleep=sp.jump)
    return provet, xero


def peak_rss_mb_so_far() -> float:
    """This process's peak resident memory. Linux keeps `ru_maxrss` across exec, so a benchmark started by a
    large parent (pytest after hundreds of tests) would report the parent's peak; the memory map's own
    high-water mark (VmHWM) starts afresh at exec."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux (bytes on macOS)


def run_engine(sp: SandboxProcess, size: int) -> dict[str, Any]:
    """Backfill (with people at work in Xero and Provet half-way through), idle pass, incremental pass."""
    clock = sp.clock
    assert clock is not None
    provet, xero = _clients(sp)
    tmp = tempfile.TemporaryDirectory()
    store = Store(Path(tmp.name) / "bench.sqlite3")
    mapping = Mapping.from_json(demo_mapping())
    source = KeepingSource(provet)
    activity: dict[str, int] = {}
    activity_spec = {"payments": max(1, size // 200), "xero_edits": max(1, size // 500),
                     "provet_edits": max(1, size // 500)}

    def on_event(event: Event) -> None:
        # Half-way through sending the invoices, the accountant takes some payments in Xero and edits some
        # contacts there, and the clinic edits some clients in Provet: the first pass must pick them up.
        if (not activity and isinstance(event, Progress) and event.phase == "sending invoices"
                and event.total and event.done >= event.total // 2):
            activity.update(sp.call("activity", activity_spec["payments"], activity_spec["xero_edits"],
                                    activity_spec["provet_edits"], 7))

    def engine(events: Any = lambda _e: None) -> SyncEngine:
        return SyncEngine(source, xero, SyncState(store), mapping, events=events,
                          provet_calls=lambda: sum(provet.calls.values()))

    t0, s0, cpu0 = time.perf_counter(), clock.seconds(), time.process_time()
    first = engine(on_event).run_pass()
    backfill = {
        "real_seconds": round(time.perf_counter() - t0, 2),
        "sandbox_minutes": round((clock.seconds() - s0) / 60, 2),
        "cpu_seconds": round(time.process_time() - cpu0, 2),
        "xero_calls": first.xero_calls,
        "xero_by_endpoint": dict(xero.calls),
        "xero_waited_seconds": round(xero.limiter.waited_seconds, 1),
        "provet_calls": first.provet_calls,
        "provet_by_endpoint": dict(sorted(provet.calls.items())),
        "provet_cost_by_endpoint": dict(sorted(provet.cost.items())),
        "provet_429s_client": sum(provet.rate_limited.values()),
        "provet_page_sizes": dict(sorted(provet.page_sizes.items())),
        "sent": first.sent,
        "held": first.held,
        "held_by_rule": first.held_by_rule,
        "skipped": first.skipped,
        "stopped": first.stopped,
        "activity_during_backfill": activity,
    }
    peak_rss_mb = peak_rss_mb_so_far()
    stats = sp.call("stats")
    invoices = first.sent.get("invoice", 0)
    notes = first.sent.get("credit_note", 0)
    contacts = first.sent.get("contact", 0)
    payments = first.sent.get("payment", 0)
    allocations = stats["allocations"]
    updates = activity.get("provet_client_edits", 0)
    # Fewest calls possible: reference data (4: organisation, tax rates, accounts, tracking categories);
    # batches of 50 for new contacts, invoices, credit notes, payments and the contact updates Provet's edits
    # need; one call per allocation (Xero allocates a credit note only through its own endpoint); one poll
    # each for payments and contacts changed in Xero; and, before a new store writes anything, one read each
    # of the invoices and credit notes Xero already holds (sync/rebuild.py: never a duplicate on a new PC).
    minimum = (4 + math.ceil(contacts / BATCH) + math.ceil(invoices / BATCH) + math.ceil(notes / BATCH)
               + math.ceil(payments / BATCH) + math.ceil(updates / BATCH) + allocations + 2 + 2)

    idle = engine().run_pass()
    sp.call("new_invoice")
    incremental = engine().run_pass()
    after = sp.call("stats")

    # Translation and planning of every document read, as the engine does it (records as the app read them).
    reference = engine()._reference()
    docs = [i for i in source.kept_invoices.values() if i.status == INVOICE_FINALISED and i.client_id is not None]
    cpu_t = time.process_time()
    translated = held = 0
    for inv in docs:
        rows = sorted(source.kept_rows.get(inv.id, ()), key=lambda r: r.id)
        out = translate(inv, rows, "00000000-0000-0000-0000-000000000000", mapping, source.kept_vat_groups,
                        reference, url=inv.url)
        if isinstance(out, XeroDocument):
            out.to_json()
            translated += 1
        else:
            held += 1
    translate_cpu = time.process_time() - cpu_t

    store.close()
    tmp.cleanup()
    return {
        "backfill": backfill,
        "minimum_calls": minimum,
        "ratio_to_minimum": round(first.xero_calls / minimum, 3),
        "xero_429s": stats["xero_statuses"].get(429, 0),
        "provet_429s": stats["provet_statuses"].get(429, 0),
        "provet_limits": stats["provet_limits"],
        "in_xero_after_backfill": {k: stats[k] for k in ("xero_invoices", "xero_credit_notes", "xero_payments",
                                                          "xero_contacts", "allocations")},
        "idle_pass_xero_calls": idle.xero_calls,
        "idle_pass_provet_calls": idle.provet_calls,
        "incremental_pass_xero_calls": incremental.xero_calls,
        "incremental_pass_provet_calls": incremental.provet_calls,
        "incremental_sent": incremental.sent,
        "xero_429s_all_passes": after["xero_statuses"].get(429, 0),
        "translate": {"documents": len(docs), "translated": translated, "held": held,
                      "cpu_seconds": round(translate_cpu, 3)},
        "app_peak_rss_mb": round(peak_rss_mb, 1),
        "_recorded": xero,
    }


# --- the naive baseline -------------------------------------------------------------------------------------


def run_baseline(sp: SandboxProcess, recorded: RecordingXero) -> dict[str, Any]:
    """One document per call, as many connectors do, on a fresh sandbox with the same clinic: for every
    document, its contact PUT the first time its client is met (a client already met is reused, not looked up
    again), one PUT for the document, one PUT per payment on it; allocations one a call (as the engine). The
    documents, contacts and payments are exactly those the engine sent; Provet reads are not counted.

    `xero_calls_with_lookups` is the figure reported before: the same connector plus a GET of the contact
    before every document whose client it already knew (24% of its calls at 10,000 invoices), kept beside the
    fair figure so the two can be compared."""
    sp.call("reset")
    clock = sp.clock
    assert clock is not None
    _provet, xero = _clients(sp, XeroClient)
    stamps: list[float] = []  # when each call was made (Xero's day is a rolling 24 hours)

    def call(fn: Any, *args: Any) -> Any:
        while True:
            before = xero.total_calls
            try:
                out = fn(*args)
            except DayLimitLow:
                # The day's calls are used up: wait until the oldest hundred of the last 24 hours are a day old.
                now = clock.seconds()
                recent = [s for s in stamps if s > now - DAY]
                sp.jump(recent[min(99, len(recent) - 1)] + DAY - now + 1 if recent else 1)
                xero.limiter.day_remaining = None
                continue
            stamps.extend([clock.seconds()] * (xero.total_calls - before))
            return out

    t0, s0 = time.perf_counter(), clock.seconds()
    call(xero.reference)
    by_old_doc: dict[str, str] = {}  # engine's Xero id -> baseline's
    made: dict[str, str] = {}  # ContactNumber -> baseline ContactID
    pays_by_doc: dict[str, list[dict[str, Any]]] = {}
    for p in recorded.payments:
        ref = p.get("Invoice") or p.get("CreditNote") or {}
        pays_by_doc.setdefault(str(ref.get("InvoiceID") or ref.get("CreditNoteID")), []).append(p)
    allocs_by_note: dict[str, list[tuple[str, str, Decimal, date]]] = {}
    for a in recorded.allocations:
        allocs_by_note.setdefault(a[0], []).append(a)
    order = sorted(recorded.documents.items(), key=lambda kv: kv[1][0] != "invoice")  # invoices first, as sent
    lookups_skipped = 0  # GETs of an already-known contact that the old baseline made
    for old_id, (kind, element) in order:
        number = recorded.contact_ids.get(str(element["Contact"]["ContactID"]), "")
        if number in made:
            contact_id = made[number]
            lookups_skipped += 1
        else:
            got = call(xero.put_contacts, [recorded.contacts[number]], f"bl-c-{number}")
            contact_id = made[number] = got[0].xero_id
        body = {**element, "Contact": {"ContactID": contact_id}}
        put = xero.put_invoices if kind == "invoice" else xero.put_credit_notes
        new = call(put, [body], f"bl-d-{old_id}")[0]
        by_old_doc[old_id] = new.xero_id
        for p in pays_by_doc.get(old_id, ()):
            key = "Invoice" if "Invoice" in p else "CreditNote"
            idk = "InvoiceID" if key == "Invoice" else "CreditNoteID"
            call(xero.put_payments, [{**p, key: {idk: new.xero_id}}], f"bl-p-{p.get('Reference')}-{old_id}")
        for cn, inv, amount, on in allocs_by_note.get(old_id, ()):
            if inv in by_old_doc:
                call(xero.allocate_credit_note, by_old_doc[cn], by_old_doc[inv], amount, on, f"bl-a-{cn}")
    stats = sp.call("stats")
    return {
        "xero_calls": xero.total_calls,
        "xero_calls_with_lookups": xero.total_calls + lookups_skipped,
        "xero_by_endpoint": dict(xero.calls),
        "sandbox_minutes": round((clock.seconds() - s0) / 60, 1),
        "sandbox_days": round((clock.seconds() - s0) / DAY, 2),
        "real_seconds": round(time.perf_counter() - t0, 1),
        "xero_429s": stats["xero_statuses"].get(429, 0),
        "in_xero": {k: stats[k] for k in ("xero_invoices", "xero_credit_notes", "xero_payments", "xero_contacts",
                                          "allocations")},
        "documents": len(order),
    }


def count_kinds(recorded: RecordingXero) -> dict[str, int]:
    return dict(Counter(kind for kind, _ in recorded.documents.values()))
