"""Keeps the engine's events as the log in the store, and the last pass's summary for `status`."""

from __future__ import annotations

import json
from dataclasses import asdict

from provet_xero_gui.store import Cursors, Log, Store, utcnow
from provet_xero_gui.sync.events import (
    DocumentHeld,
    DocumentSent,
    DocumentSkipped,
    Event,
    Notice,
    PassFinished,
    PassStarted,
    SyncResult,
)

LAST_PASS = "last_pass"
_VERB = {"invoice": "Sent", "credit_note": "Sent", "contact": "Made contact", "allocation": "Allocated",
         "void": "Voided", "payment": "Sent payment"}  # fmt: skip


def describe(event: Event) -> tuple[str, str] | None:
    """(level, message) as a person reads it in the log; None for events not worth a line."""
    match event:
        case PassStarted():
            return "info", "Sync started."
        case DocumentSent(kind=kind, label=label):
            return "info", f"{_VERB.get(kind, 'Sent')}: {label}" + (" → Xero" if kind != "contact" else "")
        case DocumentHeld(label=label, reason=reason, fix=fix, by_rule=by_rule):
            return ("info" if by_rule else "warning"), f"Held: {label} — {reason}. {fix}"
        case DocumentSkipped(label=label, reason=reason):
            return "debug", f"Skipped: {label} — {reason}"
        case Notice(level=level, message=message):
            return level, message
        case PassFinished(result=result):
            return ("warning" if result.stopped or result.needs_attention else "info"), summary_line(result)
    return None


def summary_line(r: SyncResult) -> str:
    sent = ", ".join(f"{n} {k.replace('_', ' ')}{'s' if n != 1 else ''}" for k, n in sorted(r.sent.items()))
    parts = [f"Sync finished: sent {sent or 'nothing new'}"]
    if r.held:
        parts.append(f"{sum(r.held.values())} need attention")
    if r.held_by_rule:
        parts.append(f"{sum(r.held_by_rule.values())} held by rule")
    parts.append(f"{r.xero_calls} Xero calls")
    line = "; ".join(parts) + "."
    return line + (f" Stopped early: {r.stopped}" if r.stopped else "")


class StoreLog:
    """An event sink that writes the log table; chain it with other sinks."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __call__(self, event: Event) -> None:
        line = describe(event)
        if line is not None:
            kind = getattr(event, "kind", None)
            doc_id = getattr(event, "provet_id", None)
            Log(self.store).append(line[0], type(event).__name__, line[1], kind, doc_id)
        if isinstance(event, PassFinished):
            Cursors(self.store).set(LAST_PASS, json.dumps({"at": utcnow(), **asdict(event.result)}))


def last_pass(store: Store) -> dict | None:
    value = Cursors(store).get(LAST_PASS)
    return json.loads(value) if value else None
