"""What the engine reports while it works: typed events for the log, the window and the command line.

The engine calls one sink (`Callable[[Event], None]`); the window's worker turns events into Qt signals,
the command line prints them, the store keeps them as the log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class PassStarted:
    at: str  # ISO 8601 UTC


@dataclass(frozen=True)
class Progress:
    phase: str  # "reading Provet", "sending invoices", ...
    done: int
    total: int


@dataclass(frozen=True)
class DocumentSent:
    kind: str  # invoice | credit_note | contact | allocation | void | payment
    provet_id: str
    label: str
    xero_id: str


@dataclass(frozen=True)
class DocumentHeld:
    kind: str
    provet_id: str
    label: str
    cause: str
    reason: str
    fix: str
    by_rule: bool = False  # held on purpose (anonymous, unused prepayment), not a problem


@dataclass(frozen=True)
class DocumentSkipped:
    kind: str
    provet_id: str
    label: str
    reason: str


@dataclass(frozen=True)
class Notice:
    level: str  # info | warning | error
    message: str


@dataclass(frozen=True)
class ConflictFound:
    """A client field changed differently in Provet and in Xero: neither side is written until someone
    chooses (`provet-xero resolve`, the conflict view) or a standing rule does."""

    conflict_id: int
    provet_id: str  # the Provet client
    label: str  # "Client Anna Smith"
    field: str  # name | email | phone | street | postcode | city | country | tax_number
    provet_value: str
    xero_value: str


@dataclass(frozen=True)
class SyncResult:
    sent: dict[str, int] = field(default_factory=dict)  # by kind
    held: dict[str, int] = field(default_factory=dict)  # by cause, problems that need attention
    held_by_rule: dict[str, int] = field(default_factory=dict)  # anonymous, unused prepayments
    skipped: dict[str, int] = field(default_factory=dict)  # by reason
    attention_open: int = 0
    xero_calls: int = 0
    provet_calls: int = 0
    xero_calls_left_today: int | None = None
    stopped: str | None = None  # why the pass ended early (day limit, connection ended, Xero unreachable)
    stop_kind: str | None = None  # day_limit | connection_ended | unreachable | error

    @property
    def needs_attention(self) -> bool:
        return self.attention_open > 0


@dataclass(frozen=True)
class PassFinished:
    result: SyncResult


Event = (
    PassStarted | Progress | DocumentSent | DocumentHeld | DocumentSkipped | Notice | ConflictFound | PassFinished
)
EventSink = Callable[[Event], None]


def ignore(_event: Event) -> None:
    """The sink for callers that do not listen."""
