"""What every write operation is: a frozen value that builds its payload, sends itself, says what links its
answer records and how a refusal is worded. The journal keeps its type name and typed references, so a write
started before a crash is rebuilt and sent again from the journal alone.

A subclass registers itself under its class name (and under the endpoint string older versions journaled, if
any): adding a kind of write is writing one class.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from provet_xero_gui.store.sync_state import AllocationDue, AllocationMade, NewLink
from provet_xero_gui.sync.events import DocumentHeld, DocumentSent
from provet_xero_gui.xero.port import XeroPort


@dataclass(frozen=True)
class Services:
    """Where writes go."""

    xero: XeroPort
    provet: Any  # provet.source.ProvetSource: find_xero_payment, post_payment, cancel_payment


@dataclass(frozen=True)
class Ref:
    """What one element of a write stands for, as people know it; kept in the journal's documents."""

    kind: str
    provet_id: str
    label: str

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        """Also reads what older versions journaled: a missing key takes its field's default."""
        known = {f.name: f for f in dataclasses.fields(cls)}
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known}
        return cls(**values)


@dataclass(frozen=True)
class Recorded:
    """What an answer records: links and allocations (with the entry, in one transaction), and what is told."""

    links: list[NewLink] = dataclasses.field(default_factory=list)
    allocations: list[AllocationDue | AllocationMade] = dataclasses.field(default_factory=list)
    held: list[DocumentHeld] = dataclasses.field(default_factory=list)
    done: list[DocumentSent] = dataclasses.field(default_factory=list)  # what is done and is no link


@dataclass(frozen=True)
class Refusal:
    """How a write refused as a whole is told: the document it waits on, the cause, what happened, the fix."""

    kind: str
    cause: str
    what: str
    fix: str


def refused_cause(kind: str) -> str:
    return {"payment": "payment_rejected", "xero_payment": "provet_refused"}.get(kind, "xero_rejected")


def refused_element(doc: Ref, errors: Sequence[str]) -> DocumentHeld:
    """One element of a batch that Xero did not take, with its reasons."""
    return DocumentHeld(doc.kind, doc.provet_id, doc.label, refused_cause(doc.kind),
                        "Xero refused it: " + "; ".join(errors or ("no reason",)),
                        "Correct it in Provet (or Xero), then Retry.")


class Write:
    """One kind of write. Subclasses are frozen dataclasses; the journal keeps `type_name()`, `payload()` and
    `references()`, and `from_journal` makes the same write again from them."""

    _types: ClassVar[dict[str, type[Write]]] = {}
    legacy_endpoint: ClassVar[str | None] = None  # what versions before write types journaled for it
    service: ClassVar[str] = "Xero"

    def __init_subclass__(cls, register: bool = True, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not register:
            return
        for name in filter(None, (cls.__name__, cls.legacy_endpoint)):
            if name in Write._types:
                raise TypeError(f"two write types are journaled as {name!r}")
            Write._types[name] = cls

    @classmethod
    def type_name(cls) -> str:
        return cls.__name__

    @staticmethod
    def named(name: str) -> type[Write]:
        """The write type journaled under `name` (its type name, or an older version's endpoint string)."""
        try:
            return Write._types[name]
        except KeyError:
            raise ValueError(f"unknown journal endpoint {name}") from None

    @classmethod
    def from_journal(cls, payload: Any, documents: Sequence[Mapping[str, Any]]) -> Self:
        raise NotImplementedError

    @property
    def documents(self) -> tuple[Ref, ...]:
        raise NotImplementedError

    def payload(self) -> Any:
        raise NotImplementedError

    def references(self) -> list[dict[str, Any]]:
        return [d.to_json() for d in self.documents]

    def send(self, to: Services, key: str) -> list[Any]:
        """The call, with the entry's Idempotency-Key; the answer per element, in order."""
        raise NotImplementedError

    def record(self, answers: Sequence[tuple[Any, Any]], to: Services) -> Recorded:
        """(reference, answer) per element; an answer is None where Xero gave none."""
        raise NotImplementedError

    def refusal(self, doc: Ref) -> Refusal:
        return Refusal(doc.kind, refused_cause(doc.kind), f"{self.service} refused it",
                       "Correct it in Provet or Xero, then Retry.")

    def split(self) -> list[Write]:
        """One write per element, so one bad element stops no others."""
        return [self]

    def halves(self) -> tuple[Write, Write] | None:
        return None

    def renamable(self, index: int, answer: Any) -> bool:
        """Refused only because its name belongs to another contact, and a distinguishable name would differ."""
        return False

    def renamed(self, indices: Sequence[int]) -> Write:
        raise NotImplementedError


@dataclass(frozen=True)
class Batch(Write, register=False):
    """A write of up to 50 elements in one call, one Xero body per element."""

    bodies: tuple[dict[str, Any], ...]
    refs: tuple[Ref, ...]
    reference: ClassVar[type[Ref]] = Ref

    @classmethod
    def from_journal(cls, payload: Any, documents: Sequence[Mapping[str, Any]]) -> Self:
        return cls(tuple(payload), tuple(cls.reference.from_json(d) for d in documents))

    @property
    def documents(self) -> tuple[Ref, ...]:
        return self.refs

    def payload(self) -> Any:
        return list(self.bodies)

    def split(self) -> list[Write]:
        return [type(self)((b,), (d,)) for b, d in zip(self.bodies, self.refs, strict=True)]

    def halves(self) -> tuple[Write, Write] | None:
        if len(self.bodies) < 2:
            return None
        half = len(self.bodies) // 2
        return (type(self)(self.bodies[:half], self.refs[:half]), type(self)(self.bodies[half:], self.refs[half:]))


@dataclass(frozen=True)
class Single(Write, register=False):
    """A write about one document."""

    ref: Ref

    @property
    def documents(self) -> tuple[Ref, ...]:
        return (self.ref,)


@dataclass(frozen=True)
class ById(Single, register=False):
    """A write that names one Xero object by its id, kept in the payload under `id_key`."""

    xero_id: str
    id_key: ClassVar[str]

    @classmethod
    def from_journal(cls, payload: Any, documents: Sequence[Mapping[str, Any]]) -> Self:
        return cls(Ref.from_json(documents[0]), payload[cls.id_key])

    def payload(self) -> Any:
        return {self.id_key: self.xero_id}
