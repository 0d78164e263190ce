"""The local store: one SQLite file per profile, and the only place that speaks SQL.

It holds what makes sync safe to stop and start again, each table behind a typed repository of its own module:
links between Provet and Xero ids (links.py), the write journal (journal.py), what was sent of each document
(sent.py), credit note allocations (allocations.py), attention items (attention.py), client bases and conflicts
(conflicts.py), read cursors and cached reference data (cursors.py), the event log (log.py) and the organisation
everything belongs to (bindings.py). `SyncState` (sync_state.py) groups the ones a sync pass uses.
"""

from provet_xero_gui.store.bindings import Binding, Bindings
from provet_xero_gui.store.cursors import Cursors
from provet_xero_gui.store.database import Store, StoreDamaged, StoreError, plain_store_error, utcnow
from provet_xero_gui.store.log import Log, LogEntry
from provet_xero_gui.store.migrations import MIGRATIONS, SCHEMA_VERSION

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Binding", "Bindings", "Cursors", "Log", "LogEntry", "Store", "StoreDamaged",
           "StoreError", "plain_store_error", "utcnow"]
