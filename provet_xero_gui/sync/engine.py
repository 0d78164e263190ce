"""One sync pass: finalised Provet invoices and credit notes (and their clients) into Xero.

The pass, in order: finish any write the journal says was started and not recorded; read what changed in
Provet since the cursor (and what waits in the attention list), a page at a time; per page, decide per
document (send, hold with a reason, skip by rule), make the contacts and send invoices in batches of up to
50 with `summarizeErrors=false` while the next pages' rows and clients are read ahead (sync/prefetch.py);
then credit notes; allocate credit notes; void what Provet voided; move the cursor.

Never a duplicate: every write is committed to the journal with its Idempotency-Key before it is sent and
its links after the answer; a pending entry is replayed with the same key, and a "number already used"
answer is resolved by looking the document up. Never a loss: whatever is not sent waits in the attention
list with the reason and the fix. No Qt here; collaborators are passed in.
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from provet_xero_gui.credentials import CredentialsError
from provet_xero_gui.mapping import Mapping
from provet_xero_gui.provet.client import ProvetError
from provet_xero_gui.provet.records import (
    INVOICE_FINALISED,
    INVOICE_VOIDED,
    PAYMENT_REGISTERED,
    PT_CREDIT_INVOICE,
    Client,
    Invoice,
    InvoiceRow,
    PhoneNumber,
    VatGroup,
)
from provet_xero_gui.provet.source import GroupedBatch, ReadBatch
from provet_xero_gui.store import StoreError
from provet_xero_gui.store.sync_state import NewLink, SyncState
from provet_xero_gui.sync.clients import ClientSync
from provet_xero_gui.sync.contacts import (
    client_name,
    contact_number,
    contact_payload,
    distinguished_name,
    plan_contacts,
)
from provet_xero_gui.sync.events import (
    EventSink,
    PassFinished,
    PassStarted,
    SyncResult,
    ignore,
)
from provet_xero_gui.sync.outcomes import Outcomes
from provet_xero_gui.sync.payments import CURSOR_XERO as CURSOR_XERO_PAYMENTS
from provet_xero_gui.sync.payments import PaymentSync
from provet_xero_gui.sync.prefetch import Lane
from provet_xero_gui.sync.rebuild import rebuild_links, rebuilt_words
from provet_xero_gui.sync.translate import Hold, XeroDocument, translate
from provet_xero_gui.sync.writer import JournalWriter
from provet_xero_gui.xero.client import (
    XeroApiError,
    XeroContactState,
)
from provet_xero_gui.xero.identity import XeroConnectionEnded
from provet_xero_gui.xero.limits import DayLimitLow
from provet_xero_gui.xero.port import XeroPort
from provet_xero_gui.xero.reference import (
    Account,
    Organisation,
    TaxRate,
    TrackingCategory,
    TrackingOption,
    XeroReference,
)

log = logging.getLogger(__name__)

BATCH = 50
READ_AHEAD = 2  # chunks (pages of invoices) whose rows and clients are read while the current one is sent
REFERENCE_TTL = timedelta(hours=6)
CURSOR_INVOICES = "provet:invoices"
CURSOR_OVERLAP = timedelta(minutes=5)
# Causes that only Xero can tell: they are retried when asked (Retry), not on every pass, so an idle
# pass costs no Xero calls for them.
XERO_CAUSES = frozenset(
    {"xero_rejected", "number_taken", "void_refused", "contact_rejected", "payment_rejected", "provet_refused",
     "allocation_refused"}
)


class ProvetReader(Protocol):
    """What the engine reads from Provet (provet.source.ProvetSource)."""

    def vat_groups(self) -> Any: ...
    def changed_invoice_pages(
        self, since: datetime | None, statuses: Sequence[int] = ..., dated_from: date | None = ...
    ) -> Iterator[Any]: ...
    def invoices(self, ids: Sequence[int]) -> Any: ...
    def rows_for(self, invoice_ids: Sequence[int]) -> Any: ...
    def clients(self, ids: Sequence[int]) -> Any: ...
    def phone_numbers(self, ids: Sequence[int]) -> Any: ...
    def changed_payments(self, since: datetime | None) -> Any: ...


class PassStopped(Exception):
    """Ends a pass early but cleanly; the message is for people."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class _Doc:
    """A Provet document on its way: the invoice and what it becomes in Xero."""

    invoice: Invoice
    xero: XeroDocument

    @property
    def kind(self) -> str:
        return _kind(self.invoice)


def _kind(invoice: Invoice) -> str:
    return "credit_note" if invoice.credit_note else "invoice"


@dataclass(frozen=True)
class _Details:
    """What a chunk of documents needs from Provet besides the invoices: read ahead, off the pass's thread."""

    rows: GroupedBatch[InvoiceRow]
    clients: ReadBatch[Client]  # the clients not linked to a contact when the chunk was read
    phones: ReadBatch[PhoneNumber]
    first_phones: dict[int, str]  # client id → first phone number, so a new contact is made complete


@dataclass
class _DocumentRun:
    """The document part of one pass: what was seen, what is read ahead, queued, sent."""

    seen: set[int] = field(default_factory=set)
    to_void: list[Invoice] = field(default_factory=list)
    newest: datetime | None = None  # the largest `modified` read: the next cursor
    expected: int = 0  # documents Provet listed (for progress)
    ahead: deque[tuple[list[Invoice], Future[_Details]]] = field(default_factory=deque)
    queued: dict[str, list[_Doc]] = field(default_factory=lambda: {"invoice": [], "credit_note": []})
    sent: list[_Doc] = field(default_factory=list)
    sent_by_kind: Counter[str] = field(default_factory=Counter)
    reference: XeroReference | None = None
    vat_groups: list[VatGroup] = field(default_factory=list)
    contacts: list[XeroContactState] | None = None  # all of Xero's contacts, once read in this pass


class _Lanes:
    """The pass's read-ahead threads: the invoice list, each chunk's details, and the payments."""

    def __init__(self) -> None:
        self.invoices = Lane("invoice list")
        self.details = Lane("invoice details")
        self.payments = Lane("payments")

    def close(self) -> None:
        for lane in (self.invoices, self.details, self.payments):
            lane.close()


def _made_contact(xero_id: str, name: str, payload: dict[str, Any]) -> XeroContactState:
    return XeroContactState(xero_id, name, str(payload.get("ContactNumber", "")), str(payload.get("EmailAddress", "")),
                            "ACTIVE", False, (), None)


class SyncEngine:
    def __init__(
        self,
        provet: ProvetReader,
        xero: XeroPort,
        state: SyncState,
        mapping: Mapping,
        *,
        events: EventSink = ignore,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        should_stop: Callable[[], bool] = lambda: False,
        provet_calls: Callable[[], int] = lambda: 0,
        conflict_rule: str = "ask",
    ) -> None:
        self.provet = provet
        self.xero = xero
        self.state = state
        self.mapping = mapping
        self._emit = events
        self._now = now
        self._should_stop = should_stop
        self._provet_calls = provet_calls
        self._conflict_rule = conflict_rule
        self.out = Outcomes(state, events)
        self.writer = JournalWriter(xero, provet, state, self.out)

    # --- the pass ---------------------------------------------------------------------------------------
    def run_pass(self, retry: Iterable[str] = (), *, poll_xero: bool = True) -> SyncResult:
        """One whole pass. `retry`: attention items ("kind:provet_id", see AttentionItem.key) whose Xero-side
        problems should be tried again now.
        `poll_xero`: also look for changes made in Xero (the window does that less often than Provet)."""
        self.out = Outcomes(self.state, self._emit)
        self.writer = JournalWriter(self.xero, self.provet, self.state, self.out)
        self._newly_linked: set[int] = set()
        self._retry: set[str] = set()
        xero_before = self.xero.total_calls
        provet_before = self._provet_calls()
        self._emit(PassStarted(self._now().isoformat(timespec="seconds")))
        stopped: PassStopped | None = None
        self._lanes = _Lanes()
        try:
            self._rebuild_links()
            self._recover()
            self._retry = retry = set(retry)
            payments = PaymentSync(self.provet, self.xero, self.state, self.mapping, self.writer, self.out,
                                   self._reference, self._check_stop)
            changed_payments = self._lanes.payments.submit(self.provet.changed_payments, payments.read_from())
            self._sync_documents(retry)
            payments.push(self._newly_linked, retry, changed=changed_payments.result())
            if poll_xero:
                payments.pull()
            ClientSync(self.provet, self.xero, self.state, self.out, conflict_rule=self._conflict_rule,
                       now=self._now, check_stop=self._check_stop).run(poll_xero=poll_xero)
        except PassStopped as exc:
            stopped = exc
        except DayLimitLow as exc:
            stopped = PassStopped(str(exc), "day_limit")
        except XeroConnectionEnded as exc:
            stopped = PassStopped(str(exc), "connection_ended")
        except XeroApiError as exc:
            stopped = PassStopped(str(exc), "unreachable" if exc.lost else "error")
        except ProvetError as exc:
            text = str(exc)
            stopped = PassStopped(text if text.startswith("Provet") else f"Provet: {text}", "error")
        except (StoreError, CredentialsError) as exc:  # disk full, store locked, keyring locked: their own words
            stopped = PassStopped(str(exc), "error")
        except Exception as exc:  # a bug must end the pass cleanly: the journal keeps what was under way
            log.exception("the sync pass failed unexpectedly")
            stopped = PassStopped(
                f"An unexpected error stopped the sync ({type(exc).__name__}); nothing is lost, unfinished "
                "writes are finished on the next pass. Details are in the log.", "error")
        finally:
            self._lanes.close()
        if stopped:
            self.out.notice("error" if stopped.kind not in ("day_limit", "paused") else "warning", str(stopped))
        result = SyncResult(
            sent=dict(self.out.sent),
            held=dict(self.out.held),
            held_by_rule=dict(self.out.held_by_rule),
            skipped=dict(self.out.skipped),
            attention_open=len(self.state.attention(include_rule_holds=False)),
            xero_calls=self.xero.total_calls - xero_before,
            provet_calls=self._provet_calls() - provet_before,
            xero_calls_left_today=self.xero.limiter.day_remaining,
            stopped=str(stopped) if stopped else None,
            stop_kind=stopped.kind if stopped else None,
        )
        self._emit(PassFinished(result))
        return result

    def _check_stop(self) -> None:
        if self._should_stop():
            raise PassStopped("The sync was paused; it goes on from here next time.", "paused")

    # --- recovery -----------------------------------------------------------------------------------------
    def _rebuild_links(self) -> None:
        """A fresh or damaged store, or an organisation started fresh: link what the app already wrote to Xero
        before anything is written (sync/rebuild.py)."""
        reason = self.state.binding().rebuild_reason
        if reason is None:
            return
        self._check_stop()
        self.out.progress("reading what Xero already holds", 0, 0)
        found = rebuild_links(self.xero)
        self.state.record_rebuild(found.links, found.counts, reason, found.allocations)
        if found.oldest_change is not None and self.state.cursor(CURSOR_XERO_PAYMENTS) is None:
            # Payments made in Xero on any of the app's invoices are looked at again (posted to Provet at most
            # once: the journal finds one posted before); none is older than its invoice's last change.
            self.state.set_cursor(CURSOR_XERO_PAYMENTS, (found.oldest_change - timedelta(days=1)).isoformat())
        level = "warning" if reason.startswith("damaged:") or found.total else "info"
        self.out.notice(level, rebuilt_words(found.counts, reason))

    def _recover(self) -> None:
        pending = self.state.pending()
        if pending:
            self.out.notice("info", f"Finishing {len(pending)} write(s) an earlier sync started.")
        for entry in pending:
            self._check_stop()
            self.writer.execute(entry)

    # --- reading and deciding -------------------------------------------------------------------------------
    def _sync_documents(self, retry: set[str]) -> None:
        """Read the changed documents a page at a time and send each page while the next ones are read.

        Provet's rows and clients for the next chunks are read on a background lane (sync/prefetch.py) while
        this thread makes the current chunk's contacts and sends its documents: Provet's limits and Xero's
        are separate budgets, so reading and writing overlap instead of adding up."""
        since_text = self.state.cursor(CURSOR_INVOICES)
        since = datetime.fromisoformat(since_text) if since_text else None
        self.out.progress("reading Provet", 0, 0)
        # Read a little before the cursor: a record changed on an early page while later pages were read
        # has an older stamp than the newest seen. Reading it twice is harmless (linked ones are skipped).
        read_from = since - CURSOR_OVERLAP if since else None
        run = _DocumentRun()
        # Nothing dated before the start date is sent, so Provet is not asked for it (the first pass would
        # otherwise read the clinic's whole history).
        dated = {"dated_from": self.mapping.start_date} if self.mapping.start_date else {}
        pages = self._lanes.invoices.stream(
            lambda: self.provet.changed_invoice_pages(read_from, statuses=(INVOICE_FINALISED, INVOICE_VOIDED),
                                                      **dated)
        )
        waiting = sorted(self._waiting_ids(retry))
        if waiting:
            again = self.provet.invoices(waiting)
            self._take_page(run, again)
        impossible = False  # the kept cursor is later than Provet's own clock (left so by an older version)
        for page in pages:
            impossible = impossible or page.cursor_is_impossible(since)
            run.newest = max(filter(None, (run.newest, page.cursor)), default=None)
            run.expected = max(run.expected, (page.total or 0) + len(waiting))
            self._take_page(run, page)
            while run.ahead and (len(run.ahead) > READ_AHEAD or run.ahead[0][1].done()):
                self._send_chunk(run, *run.ahead.popleft())
        while run.ahead:
            self._send_chunk(run, *run.ahead.popleft())
        self._send_queued(run, final=True)
        linked = {k.provet_id for k in self.writer.linked if k.kind in ("invoice", "credit_note")}
        # Their payments go now; a gathered invoice also brings the payments made on its consolidated one.
        self._newly_linked = {d.invoice.id for d in run.sent if str(d.invoice.id) in linked} | {
            d.invoice.related_consolidated_invoice_id for d in run.sent
            if str(d.invoice.id) in linked and d.invoice.related_consolidated_invoice_id
        }
        # Voids first: a credit note voided in Provet is not allocated, and an original voided before its
        # credit note was allocated is not refused for the allocation.
        if run.to_void:
            self._void(run.to_void)
        self._allocate()
        if impossible:
            self.out.notice("warning", "The sync's place in Provet's invoices "
                            f"({since.astimezone():%Y-%m-%d %H:%M}) was later than Provet's own clock, after an "
                            "invoice dated in the future; every invoice is read again on the next pass, and none is "
                            "sent twice.")
            self.state.set_cursor(CURSOR_INVOICES, "")  # no cursor: the next pass reads them all
            return
        self._advance_cursor(run.newest, since)

    def _waiting_ids(self, retry: set[str]) -> set[int]:
        """Documents in the attention list that a pass should look at again."""
        ids: set[int] = set()
        for item in self.state.attention():
            if item.kind not in ("invoice", "credit_note") or not item.provet_id.isdigit():
                continue
            if item.cause not in XERO_CAUSES or item.key in retry:
                ids.add(int(item.provet_id))
        return ids

    def _advance_cursor(self, newest: datetime | None, since: datetime | None) -> None:
        """Only after the whole pass went through: what was read is sent, held or skipped by now."""
        if newest is not None and (since is None or newest > since):
            self.state.set_cursor(CURSOR_INVOICES, newest.isoformat())

    def _decide(self, inv: Invoice, linked: bool) -> str:
        kind = _kind(inv)
        if inv.status == INVOICE_VOIDED:
            return "void" if linked else "ignore"
        if inv.status != INVOICE_FINALISED:
            return "ignore"
        if linked:
            return "ignore"  # a finalised document does not change; payments are their own work
        start = self.mapping.start_date
        if start and inv.invoice_date and inv.invoice_date < start:
            self._skip(inv, "before the sync start date")
            return "ignore"
        if inv.client_id is None:
            self.out.hold(kind, inv.id, inv.label, "anonymous", "it has no client (an anonymous sale); Xero needs a "
                       "named contact", "Nothing to do: anonymous sales stay in Provet.")
            return "ignore"
        if inv.consolidated_invoice and self.mapping.consolidated == "gathered":
            self._skip(inv, "consolidated invoice (its gathered invoices are sent instead)")
            return "ignore"
        return "send"

    def _take_page(self, run: _DocumentRun, page: ReadBatch[Invoice]) -> None:
        """Decide a page's documents; what is to be sent has its rows and clients read ahead."""
        self._check_stop()
        self.out.unreadable(page.bad)
        invoices = [inv for inv in sorted(page.records, key=lambda i: i.id) if inv.id not in run.seen]
        run.seen.update(inv.id for inv in invoices)
        ids = [inv.id for inv in invoices]
        linked = set(self.state.links("invoice", ids)) | set(self.state.links("credit_note", ids))
        for stamp in page.future:  # told when first met; the cursor never follows it (provet/source.py)
            if stamp.id in ids and str(stamp.id) not in linked:
                self.out.notice("warning", stamp.message)
        to_send: list[Invoice] = []
        for inv in invoices:
            decision = self._decide(inv, str(inv.id) in linked)
            if decision == "send":
                to_send.append(inv)
            elif decision == "void":
                run.to_void.append(inv)
        if to_send:
            client_ids = sorted({inv.client_id for inv in to_send if inv.client_id is not None})
            known = self.state.links("contact", client_ids)
            missing = [c for c in client_ids if str(c) not in known]
            run.ahead.append((to_send, self._lanes.details.submit(self._read_details, to_send, missing)))

    def _read_details(self, invoices: list[Invoice], client_ids: list[int]) -> _Details:
        """On the read-ahead lane: only Provet reads here (no store, no events)."""
        rows = self.provet.rows_for([inv.id for inv in invoices])
        clients = self.provet.clients(client_ids) if client_ids else ReadBatch()
        first = {c.phone_ids[0]: c.id for c in clients.records if c.phone_ids}
        phones = self.provet.phone_numbers(sorted(first)) if first else ReadBatch()
        return _Details(rows, clients, phones, {first[p.id]: p.phone_number for p in phones.records if p.id in first})

    def _send_chunk(self, run: _DocumentRun, invoices: list[Invoice], details: Future[_Details]) -> None:
        self._check_stop()
        if run.reference is None:
            run.reference = self._reference()
            run.vat_groups = list(self.provet.vat_groups().records)
        read = details.result()
        self.out.unreadable(read.rows.unplaced)
        in_doubt = bool(read.rows.unplaced)
        contacts = self._ensure_contacts(invoices, read, run)
        for inv in invoices:
            kind = _kind(inv)
            bad = read.rows.bad_for(inv.id)
            if bad or in_doubt:
                why = bad[0].message if bad else "some invoice rows could not be read from Provet"
                self.out.hold(kind, inv.id, inv.label, "unreadable", f"a row could not be read: {why}",
                              "Check the invoice's rows in Provet, then Retry.")
                continue
            contact = contacts.get(inv.client_id or -1)
            if contact is None:
                continue  # held while making the contact
            rows = sorted(read.rows.get(inv.id, ()), key=lambda r: r.id)
            # No Url: Provet documents no web address for a document's page, and its `url` is the JSON API's.
            out = translate(inv, rows, contact, self.mapping, run.vat_groups, run.reference)
            if isinstance(out, Hold):
                self.out.hold(kind, inv.id, inv.label, out.cause, out.reason, out.fix)
            else:
                run.queued[kind].append(_Doc(inv, out))
        self._send_queued(run, final=False)
        waiting = sum(len(chunk) for chunk, _details in run.ahead)
        self.out.progress("sending invoices", len(run.seen) - waiting, max(run.expected, len(run.seen)))

    # --- contacts -------------------------------------------------------------------------------------------
    def _ensure_contacts(self, invoices: list[Invoice], read: _Details, run: _DocumentRun) -> dict[int, str]:
        """client id → ContactID for every client of these invoices; their invoices wait if one fails."""
        client_ids = sorted({inv.client_id for inv in invoices if inv.client_id is not None})
        known = {int(k): v.xero_id for k, v in self.state.links("contact", client_ids).items()}
        missing = [c for c in client_ids if c not in known]
        if not missing:
            return known
        self.out.unreadable(read.clients.bad)
        self.out.unreadable(read.phones.bad)
        clients = {c.id: c for c in read.clients.records if c.id in missing}
        failed: dict[int, str] = {}
        for cid in missing:
            if cid not in clients:
                failed[cid] = "its client could not be read from Provet"
        existing = self._existing_contacts(list(clients.values()), run)
        plan = plan_contacts(list(clients.values()), existing)
        if plan.reuse:
            self.state.add_links(NewLink("contact", str(cid), xid) for cid, xid in plan.reuse.items())
            known.update(plan.reuse)
        to_create = [(clients[cid], name) for cid, name in plan.create.items()]
        for attempt in range(2):
            retry_with_other_name: list[tuple[Client, str]] = []
            for start in range(0, len(to_create), BATCH):
                self._check_stop()
                chunk = to_create[start : start + BATCH]
                payloads = [contact_payload(c, name, read.first_phones.get(c.id, "")) for c, name in chunk]
                entry = self.state.begin(
                    "PUT Contacts",
                    payloads,
                    [{"kind": "contact", "provet_id": str(c.id), "label": f"Client {name}"} for c, name in chunk],
                )
                results = self.writer.execute(entry)
                for (client, name), payload, res in zip(chunk, payloads, results or [], strict=False):
                    if res.xero_id and not res.has_errors:
                        known[client.id] = res.xero_id
                        if run.contacts is not None:  # what this pass made is in Xero's list from now on
                            run.contacts.append(_made_contact(res.xero_id, name, payload))
                    elif attempt == 0 and any("already assigned" in m or "unique" in m for m in res.errors):
                        retry_with_other_name.append((client, distinguished_name(client)))
                    else:
                        failed[client.id] = "Xero refused its client: " + "; ".join(res.errors or ("no reason given",))
                retrying = {c.id for c, _name in retry_with_other_name}
                for client, _name in chunk:  # a whole-request refusal answers no client by client
                    if client.id not in known and client.id not in failed and client.id not in retrying:
                        failed[client.id] = "Xero did not take its client (see the log)"
            if not retry_with_other_name:
                break
            to_create = retry_with_other_name
        for inv in invoices:
            if inv.client_id in failed:
                self.out.hold(_kind(inv), inv.id, inv.label, "contact_rejected", failed[inv.client_id],
                              "Correct the client's details in Provet, then Retry.")
        return known

    def _existing_contacts(self, clients: list[Client], run: _DocumentRun) -> list[XeroContactState]:
        """Xero's contacts that could be these clients: by ContactNumber and by name — or all of them, read
        once a pass, when there are many."""
        if not clients:
            return []
        if run.contacts is None and len(clients) > BATCH:
            run.contacts = self.xero.all_contacts()
        if run.contacts is not None:
            return run.contacts
        return self.xero.contacts_matching(
            numbers=[contact_number(c.id) for c in clients], names=sorted({client_name(c) for c in clients})
        )

    # --- sending --------------------------------------------------------------------------------------------
    def _send_queued(self, run: _DocumentRun, *, final: bool) -> None:
        """Send the queued documents in full batches of 50; at the end, the rest too. Invoices go before
        credit notes, so a credit note's original is in Xero before the credit note is allocated."""
        for kind, endpoint in (("invoice", "PUT Invoices"), ("credit_note", "PUT CreditNotes")):
            queued = run.queued[kind]
            if not final and kind == "credit_note":
                continue
            while len(queued) >= BATCH or (final and queued):
                self._check_stop()
                chunk, queued[:] = queued[:BATCH], queued[BATCH:]
                if kind == "credit_note":
                    done = run.sent_by_kind[kind]
                    self.out.progress("sending credit notes", done, done + len(chunk) + len(queued))
                entry = self.state.begin(
                    endpoint,
                    [d.xero.to_json() for d in chunk],
                    [
                        {
                            "kind": kind,
                            "provet_id": str(d.invoice.id),
                            "label": d.invoice.label,
                            "number": d.xero.number,
                            "total": str(d.xero.total),
                            "date": d.xero.date.isoformat(),
                            "original": d.invoice.credit_note_original_invoice_id,
                        }
                        for d in chunk
                    ],
                )
                self.writer.execute(entry)
                run.sent.extend(chunk)
                run.sent_by_kind[kind] += len(chunk)

    # --- credit note allocations ----------------------------------------------------------------------------------
    def _allocate(self) -> None:
        """Allocate every credit note that is in Xero with its original and not allocated yet — also those a
        crashed pass sent and did not get to (they are recorded as due together with the credit note)."""
        pending = self.state.pending_allocations()
        if not pending:
            return
        note_links = self.state.links("credit_note", pending)
        originals = self.state.links("invoice", {info.original for info in pending.values()})
        voided = self.state.links("void", {*pending, *(info.original for info in pending.values())})
        for cn, info in sorted(pending.items()):
            if cn in voided or info.original in voided:
                self.state.skip_allocation(cn)
                what = "it was" if cn in voided else "its original invoice was"
                self.out.notice("info", f"{info.label}: not allocated, because {what} voided.")
        pending = {cn: info for cn, info in pending.items() if cn not in voided and info.original not in voided}
        refused = self._refused_until_retry("allocation_refused")
        todo = [(cn, info) for cn, info in sorted(pending.items())
                if cn in note_links and info.original in originals and cn not in refused]  # fmt: skip
        if not todo:
            return
        ids = [originals[info.original].xero_id for _cn, info in todo]
        # Originals sent in this pass came back with their amount due; only older ones are looked up.
        states = {i: self.writer.answered[i] for i in ids if i in self.writer.answered}
        unknown = [i for i in ids if i not in states]
        states.update({s.xero_id: s for s in self.xero.invoices_by_id(unknown)} if unknown else {})
        credited = self._credited_in_provet({int(info.original) for _cn, info in todo})
        for cn, info in todo:
            self._check_stop()
            invoice_xid = originals[info.original].xero_id
            original = states.get(invoice_xid)
            due = original.amount_due if original else Decimal(0)
            # As much as Provet settled on the original with this credit (its "credit invoice" payments), never
            # more than the credit note or what the invoice still owes in Xero.
            available = credited.get(int(info.original), Decimal(0)) - self.state.allocated_to(invoice_xid)
            amount = min(available, info.total, due)
            label = info.label
            if amount <= 0 or original is None:
                self.state.skip_allocation(cn)
                self.out.notice("info", f"{label}: Provet settled nothing on the original invoice with it, so it "
                                        "is not allocated (the credit stays on the client's account in Xero).")
                continue
            note_date = date.fromisoformat(info.date)
            on = max(note_date, original.date) if original.date else note_date
            self.writer.write(
                "PUT Allocation",
                {"CreditNoteID": note_links[cn].xero_id, "InvoiceID": invoice_xid, "Amount": str(amount),
                 "Date": on.isoformat()},
                [{"kind": "allocation", "provet_id": cn, "label": f"Allocation of {label}"}],
            )
            if self.state.allocated(cn):
                self.state.resolve("credit_note", cn)
                states[invoice_xid] = replace(original, amount_due=original.amount_due - amount)
                self.writer.answered[invoice_xid] = states[invoice_xid]

    def _credited_in_provet(self, original_ids: set[int]) -> dict[int, Decimal]:
        """Per original invoice, what Provet settled on it with credit notes (type-12 payments)."""
        grouped = self.provet.payments_for(sorted(original_ids))
        return {
            inv_id: sum((p.paid for p in pays if p.payment_type == PT_CREDIT_INVOICE and p.status == PAYMENT_REGISTERED
                         and p.paid > 0), Decimal(0))
            for inv_id, pays in grouped.items()
        }

    # --- voids --------------------------------------------------------------------------------------------------
    def _void(self, invoices: list[Invoice]) -> None:
        done = self.state.links("void", [i.id for i in invoices])
        refused = self._refused_until_retry("void_refused")
        for inv in invoices:
            if str(inv.id) in done or str(inv.id) in refused:
                continue
            kind = _kind(inv)
            link = self.state.link(kind, inv.id)
            if link is None:
                continue
            self._check_stop()
            endpoint, body = (("POST VoidCreditNote", {"CreditNoteID": link.xero_id}) if kind == "credit_note"
                              else ("POST Void", {"InvoiceID": link.xero_id}))
            self.writer.write(endpoint, body, [{"kind": "void", "provet_id": str(inv.id), "label": inv.label}])
            if self.state.link("void", inv.id) is not None:
                self.state.resolve(kind, inv.id)  # a refusal waiting from an earlier pass is settled

    def _refused_until_retry(self, cause: str) -> set[str]:
        """Provet ids Xero refused for this cause: asked again only when Retry names them."""
        return {i.provet_id for i in self.state.attention() if i.cause == cause and i.key not in self._retry}

    # --- reference data -----------------------------------------------------------------------------------------------
    def _reference(self) -> XeroReference:
        cached = self.state.cached("xero_reference")
        if cached:
            value, updated = cached
            # A cache written before tracking categories were read is read again once.
            if datetime.fromisoformat(updated) > datetime.now(UTC) - REFERENCE_TTL and "tracking_categories" in value:
                return reference_from_json(value)
        ref = self.xero.reference()
        self.state.cache("xero_reference", reference_to_json(ref))
        return ref

    # --- bookkeeping of outcomes ----------------------------------------------------------------------------------
    def _skip(self, inv: Invoice, reason: str) -> None:
        self.out.skip(_kind(inv), inv.id, inv.label, reason)


def _date(text: str) -> date:
    return date.fromisoformat(text)


def reference_to_json(ref: XeroReference) -> dict[str, Any]:
    o = ref.organisation
    return {
        "organisation": [o.name, o.base_currency, o.period_lock_date and o.period_lock_date.isoformat(),
                         o.end_of_year_lock_date and o.end_of_year_lock_date.isoformat()],
        "tax_rates": [[t.tax_type, t.name, str(t.rate), t.status, t.can_apply_to_revenue] for t in ref.tax_rates],
        "accounts": [[a.code, a.name, a.type, a.status, a.enable_payments, a.tax_type] for a in ref.accounts],
        "tracking_categories": [[c.name, c.status, c.category_id, [[o.name, o.status, o.option_id] for o in c.options]]
                                for c in ref.tracking_categories],
    }


def reference_from_json(data: dict[str, Any]) -> XeroReference:
    name, currency, period, year_end = data["organisation"]
    return XeroReference(
        Organisation(name, currency, _date(period) if period else None, _date(year_end) if year_end else None),
        tuple(TaxRate(t[0], t[1], Decimal(t[2]), t[3], bool(t[4])) for t in data["tax_rates"]),
        tuple(Account(a[0], a[1], a[2], a[3], bool(a[4]), a[5]) for a in data["accounts"]),
        tuple(TrackingCategory(c[0], c[1], tuple(TrackingOption(*o) for o in c[3]), c[2])
              for c in data.get("tracking_categories", ())),  # absent in caches written before tracking
    )
