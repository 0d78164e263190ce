"""Carrying out journal entries: one write to Xero or Provet (a `sync.writes` operation), sent (or resent after
a crash) with its entry's Idempotency-Key, and its answer recorded — links for what was taken, attention for
what was not — in the same transaction that closes the entry.

What every write shares lives here once: a batch refused as a whole goes again element by element, one too
large for Xero goes again in halves, and a contact whose name belongs to another goes again under a
distinguishable name. What differs per write lives in its class.
"""

from __future__ import annotations

from typing import Any

from provet_xero_gui.provet.client import ProvetRefusedError
from provet_xero_gui.store.sync_state import AllocationMade, JournalEntry, NewLink, SyncState
from provet_xero_gui.sync.outcomes import Outcomes
from provet_xero_gui.sync.writes import Services, Write
from provet_xero_gui.sync.writes.base import refused_cause
from provet_xero_gui.xero.client import XeroDocumentState, XeroTooLargeError, XeroValidationError
from provet_xero_gui.xero.port import XeroPort

# Links that stand for something done, counted in the pass's summary under their kind.
_COUNTED = frozenset({"invoice", "credit_note", "contact", "payment", "void", "payment_deleted", "xero_payment",
                      "xero_payment_cancelled"})


class JournalWriter:
    def __init__(self, xero: XeroPort, provet: Any, state: SyncState, out: Outcomes) -> None:
        self.to = Services(xero, provet)
        self.state = state
        self.out = out
        self.answered: dict[str, XeroDocumentState] = {}  # documents as Xero answered them in this pass
        self.linked: list[NewLink] = []  # everything linked in this pass

    def write(self, op: Write) -> list[Any]:
        """Journal the write, then carry it out. The answer per element, in order; None where an element was
        refused as a whole (its refusal is told and waits in the attention list)."""
        return self.execute(self.state.begin(op.type_name(), op.payload(), op.references()))

    def execute(self, entry: JournalEntry) -> list[Any]:
        """Send (or resend) one journal entry with its key, and record the answer."""
        op = Write.named(entry.endpoint).from_journal(entry.payload, entry.documents)
        try:
            results = op.send(self.to, entry.key)
        except XeroTooLargeError as exc:
            return self._too_large(entry, op, exc)
        except (XeroValidationError, ProvetRefusedError) as exc:
            messages = list(getattr(exc, "messages", None) or [str(exc)])
            parts = op.split()
            if len(parts) == 1:
                doc = op.documents[0]
                self.state.finish(entry, [], {"error": messages}, failed=True)
                r = op.refusal(doc)
                self.out.hold(r.kind, doc.provet_id, doc.label, r.cause, f"{r.what}: " + "; ".join(messages), r.fix)
                return [None] * len(op.documents)
            # The whole batch was refused: send the documents one by one so one bad one stops no others.
            self.state.finish(entry, [], {"error": messages, "split": True}, failed=True)
            return [answer for part in parts for answer in self.write(part)]
        answers = [*results[: len(op.documents)], *[None] * (len(op.documents) - len(results))]
        renamable = [i for i, answer in enumerate(answers) if op.renamable(i, answer)]
        self._record(entry, op, results, [(d, a) for i, (d, a) in enumerate(zip(op.documents, answers, strict=True))
                                          if i not in renamable])
        if renamable:  # their names belong to other contacts: once more, under distinguishable names
            for i, answer in zip(renamable, self.write(op.renamed(renamable)), strict=True):
                answers[i] = answer
        return answers

    def _too_large(self, entry: JournalEntry, op: Write, exc: XeroTooLargeError) -> list[Any]:
        """Over Xero's 3.5 MB (say, a batch of invoices of a thousand rows each): nothing was done, so the batch
        goes again in halves; a single document that is too large on its own waits, named."""
        self.state.finish(entry, [], {"error": [str(exc)], "split": True}, failed=True)
        halves = op.halves()
        if halves is not None:
            return [*self.write(halves[0]), *self.write(halves[1])]
        for doc in op.documents:
            self.out.hold(doc.kind, doc.provet_id, doc.label, refused_cause(doc.kind),
                          "it is too large for Xero to take in one request (over 3.5 MB)",
                          "Split it into smaller documents in Provet (or enter it in Xero by hand), then Retry.")
        return [None] * len(op.documents)

    def _record(self, entry: JournalEntry, op: Write, results: list[Any], answers: list[tuple[Any, Any]]) -> None:
        for res in results:
            if isinstance(res, XeroDocumentState) and res.xero_id:
                self.answered[res.xero_id] = res
        recorded = op.record(answers, self.to)
        links = recorded.links
        self.state.finish(entry, links, [getattr(r, "xero_id", None) or getattr(r, "id", None) for r in results],
                          allocations=recorded.allocations)
        self.linked += links
        labels = {d.provet_id: d.label for d in op.documents}
        for made in (a for a in recorded.allocations if isinstance(a, AllocationMade)):
            self.out.done("allocation", made.credit_note, labels.get(made.credit_note) or op.documents[0].label,
                          f"{made.xero_credit_note_id}:{made.xero_invoice_id}", count=False)
        for link in links:
            label = labels.get(link.provet_id) or op.documents[0].label
            self.out.done(link.kind, link.provet_id, label, link.xero_id, count=link.kind in _COUNTED)
        for done in recorded.done:
            self.out.done(done.kind, done.provet_id, done.label, done.xero_id)
        for held in recorded.held:
            self.out.hold(held.kind, held.provet_id, held.label, held.cause, held.reason, held.fix)
