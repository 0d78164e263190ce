"""The engine's view of the store: the repositories a sync pass uses, grouped so one object is passed around.

Each method is one short transaction of its repository (a journal entry's answer is committed with its links,
allocations and what it sent: journal.py); a rebuild's links and its end are one transaction here.
"""

from __future__ import annotations

from collections.abc import Iterable

from provet_xero_gui.store.allocations import AllocationDue, AllocationMade, Allocations
from provet_xero_gui.store.attention import RULE_CAUSES, Attention, AttentionItem, cause_title
from provet_xero_gui.store.bindings import Bindings
from provet_xero_gui.store.conflicts import ClientState
from provet_xero_gui.store.cursors import Cursors
from provet_xero_gui.store.database import Store
from provet_xero_gui.store.journal import Journal, JournalEntry
from provet_xero_gui.store.links import Link, Links, NewLink
from provet_xero_gui.store.sent import SentDocuments

__all__ = ["RULE_CAUSES", "AllocationDue", "AllocationMade", "AttentionItem", "JournalEntry", "Link", "NewLink",
           "SyncState", "cause_title"]


class SyncState:
    """The repositories' methods a pass calls, by the names the sync knows them by; only what spans several
    tables in one transaction is written here."""

    def __init__(self, store: Store) -> None:
        self.store = store
        links, journal, attention = Links(store), Journal(store), Attention(store)
        cursors, allocations = Cursors(store), Allocations(store)
        self._links, self._journal, self._attention, self._allocations = links, journal, attention, allocations
        # links
        self.link, self.links, self.by_xero_id, self.oldest_link = links.get, links.many, links.by_xero_id, links.oldest
        self.add_links = links.add
        # credit note allocations
        self.pending_allocations, self.allocated = allocations.due, allocations.made
        self.allocated_to, self.skip_allocation = allocations.allocated_to, allocations.skip
        # the journal, and what it sent
        self.begin, self.finish, self.pending = journal.begin, journal.finish, journal.pending
        self.sent_documents = SentDocuments(store).get
        # attention
        self.hold, self.resolve, self.attention = attention.hold, attention.resolve, attention.open
        self.attention_for, self.attention_ids = attention.open_for, attention.ids
        # cursors and cached reference data
        self.cursor, self.set_cursor = cursors.get, cursors.set
        self.cached, self.cache, self.drop_cache = cursors.cached, cursors.cache, cursors.drop_cache
        # the binding
        self.binding = Bindings(store).active

    def record_rebuild(self, links: Iterable[NewLink], counts: dict[str, int], reason: str,
                       allocations: Iterable[AllocationMade] = ()) -> None:
        """The links and allocations found in Xero and the end of the rebuild, in one transaction: a pass stopped
        half-way rebuilds again (the same links) before it writes anything."""
        with self.store.transaction() as db:
            Links.write(db, links)
            Allocations.write(db, allocations)
            Bindings.write_rebuilt(db, counts, reason)

    def counts(self) -> dict[str, int]:
        """What `status` shows: links by kind (allocations made among them), open attention items, open conflicts,
        pending writes."""
        linked = self._links.counts()
        made = self._allocations.count_made()
        if made:
            linked["allocation"] = made
        out = {f"linked_{kind}": n for kind, n in sorted(linked.items())}
        out["attention"] = self._attention.count_open()
        out["conflicts"] = ClientState(self.store).count_open()
        out["pending_writes"] = self._journal.count_pending()
        return out
