"""The engine's view of the store: the repositories a sync pass uses, grouped so one object is passed around.

Each method is one short transaction of its repository; what must be committed together (a journal entry's
answer with its links, a rebuild's links with its end) is one transaction here too.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from provet_xero_gui.store.allocations import AllocationDue, AllocationMade, Allocations
from provet_xero_gui.store.attention import RULE_CAUSES, Attention, AttentionItem, cause_title
from provet_xero_gui.store.bindings import Binding, Bindings
from provet_xero_gui.store.conflicts import ClientState
from provet_xero_gui.store.cursors import Cursors
from provet_xero_gui.store.database import Store
from provet_xero_gui.store.journal import Journal, JournalEntry
from provet_xero_gui.store.links import Link, Links, NewLink
from provet_xero_gui.store.sent import SentDocument, SentDocuments

__all__ = ["RULE_CAUSES", "AllocationDue", "AllocationMade", "AttentionItem", "JournalEntry", "Link", "NewLink",
           "SyncState", "cause_title"]


class SyncState:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._links = Links(store)
        self._journal = Journal(store)
        self._attention = Attention(store)
        self._cursors = Cursors(store)
        self._allocations = Allocations(store)
        self._sent = SentDocuments(store)
        self._bindings = Bindings(store)

    # --- links ------------------------------------------------------------------------------------
    def link(self, kind: str, provet_id: str | int) -> Link | None:
        return self._links.get(kind, provet_id)

    def links(self, kind: str, provet_ids: Iterable[str | int] | None = None) -> dict[str, Link]:
        return self._links.many(kind, provet_ids)

    def by_xero_id(self, kind: str, xero_id: str) -> Link | None:
        return self._links.by_xero_id(kind, xero_id)

    def oldest_link(self, kind: str) -> Link | None:
        return self._links.oldest(kind)

    def add_links(self, links: Iterable[NewLink]) -> None:
        self._links.add(links)

    # --- credit note allocations ----------------------------------------------------------------------
    def pending_allocations(self) -> dict[str, AllocationDue]:
        """Credit notes in Xero that are due an allocation and have none yet: provet id → what it needs."""
        return self._allocations.due()

    def allocated(self, credit_note: str) -> bool:
        return self._allocations.made(credit_note)

    def allocated_to(self, xero_invoice_id: str) -> Decimal:
        return self._allocations.allocated_to(xero_invoice_id)

    def skip_allocation(self, credit_note: str) -> None:
        self._allocations.skip(credit_note)

    # --- the journal, and what it sent ----------------------------------------------------------------
    def begin(self, endpoint: str, payload: Any, documents: list[dict[str, Any]]) -> JournalEntry:
        return self._journal.begin(endpoint, payload, documents)

    def finish(
        self,
        entry: JournalEntry,
        links: Iterable[NewLink],
        result: Any = None,
        failed: bool = False,
        allocations: Iterable[AllocationDue | AllocationMade] = (),
    ) -> None:
        self._journal.finish(entry, links, result, failed, allocations)

    def pending(self) -> list[JournalEntry]:
        return self._journal.pending()

    def sent_documents(self, provet_ids: Iterable[str]) -> dict[str, SentDocument]:
        return self._sent.get(provet_ids)

    # --- attention ----------------------------------------------------------------------------------
    def hold(self, kind: str, provet_id: str | int, document: str, cause: str, reason: str, fix: str) -> None:
        self._attention.hold(kind, provet_id, document, cause, reason, fix)

    def resolve(self, kind: str, provet_id: str | int) -> None:
        self._attention.resolve(kind, provet_id)

    def attention(self, *, include_rule_holds: bool = True) -> list[AttentionItem]:
        return self._attention.open(include_rule_holds=include_rule_holds)

    def attention_for(self, kind: str, provet_id: str) -> list[AttentionItem]:
        return self._attention.open_for(kind, provet_id)

    def attention_ids(self, kind: str) -> list[str]:
        return self._attention.ids(kind)

    # --- cursors and cached reference data ------------------------------------------------------------
    def cursor(self, name: str) -> str | None:
        return self._cursors.get(name)

    def set_cursor(self, name: str, value: str) -> None:
        self._cursors.set(name, value)

    def cached(self, name: str) -> tuple[Any, str] | None:
        return self._cursors.cached(name)

    def cache(self, name: str, value: Any) -> None:
        self._cursors.cache(name, value)

    def drop_cache(self, name: str) -> None:
        self._cursors.drop_cache(name)

    # --- the binding: rebuilding links from what Xero holds ----------------------------------------------
    def binding(self) -> Binding:
        return self._bindings.active()

    def record_rebuild(self, links: Iterable[NewLink], counts: dict[str, int], reason: str,
                       allocations: Iterable[AllocationMade] = ()) -> None:
        """The links and allocations found in Xero and the end of the rebuild, in one transaction: a pass stopped
        half-way rebuilds again (the same links) before it writes anything."""
        with self.store.transaction() as db:
            Links.write(db, links)
            Allocations.write(db, allocations)
            Bindings.write_rebuilt(db, counts, reason)

    # --- what `status` shows ----------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Links by kind (allocations made among them), open attention items, open conflicts, pending writes."""
        linked = self._links.counts()
        made = self._allocations.count_made()
        if made:
            linked["allocation"] = made
        out = {f"linked_{kind}": n for kind, n in sorted(linked.items())}
        out["attention"] = self._attention.count_open()
        out["conflicts"] = ClientState(self.store).count_open()
        out["pending_writes"] = self._journal.count_pending()
        return out
