"""What happened to each document in a pass: counted for the summary, told to the event sink, and kept
in the attention list when it has to wait. Shared by every step of a pass (documents, payments, clients).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from provet_xero_gui.store.sync_state import RULE_CAUSES, SyncState
from provet_xero_gui.sync.events import DocumentHeld, DocumentSent, DocumentSkipped, EventSink, Notice, Progress

# What a Provet record that could not be read is called in the attention list.
_KINDS = {"invoice": "invoice", "client": "client", "invoicepayment": "payment", "invoicerow": "invoice"}


class Outcomes:
    def __init__(self, state: SyncState, emit: EventSink) -> None:
        self.state = state
        self.emit = emit
        self.sent: Counter[str] = Counter()
        self.held: Counter[str] = Counter()
        self.held_by_rule: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()

    def progress(self, phase: str, done: int = 0, total: int = 0) -> None:
        self.emit(Progress(phase, done, total))

    def notice(self, level: str, message: str) -> None:
        self.emit(Notice(level, message))

    def done(self, kind: str, provet_id: str | int, label: str, xero_id: str, *, count: bool = True) -> None:
        if count:
            self.sent[kind] += 1
        self.emit(DocumentSent(kind, str(provet_id), label, xero_id))

    def hold(self, kind: str, provet_id: str | int, label: str, cause: str, reason: str, fix: str) -> None:
        self.state.hold(kind, provet_id, label, cause, reason, fix)
        by_rule = cause in RULE_CAUSES
        (self.held_by_rule if by_rule else self.held)[cause] += 1
        self.emit(DocumentHeld(kind, str(provet_id), label, cause, reason, fix, by_rule))

    def skip(self, kind: str, provet_id: str | int, label: str, reason: str) -> None:
        self.skipped[reason] += 1
        self.emit(DocumentSkipped(kind, str(provet_id), label, reason))

    def unreadable(self, bad: Iterable[Any]) -> None:
        """Provet records that could not be read: each waits in the attention list (or is told, without an id)."""
        for b in bad:
            kind = _KINDS.get(b.resource, "record")
            rid = b.invoice_id if b.resource == "invoicerow" and b.invoice_id else b.id
            if rid is None:
                self.notice("warning", f"Provet sent a {kind} that could not be read: {b.message}")
                continue
            self.hold(kind, rid, f"Provet {kind} {rid}", "unreadable", f"Provet's data could not be read: {b.message}",
                      "Check it in Provet; if it looks right, report it to provet-xero's makers.")
