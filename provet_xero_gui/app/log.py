"""The window's log: the newest rows at start, then what was written since; one document's details; the CSV export.

`LogReader` keeps its own store connection open (the window reads new rows every few seconds) and is used from
one thread at a time.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path

from provet_xero_gui.app.errors import AppError
from provet_xero_gui.app.status import DocumentDetails, read_document
from provet_xero_gui.profile import Profile
from provet_xero_gui.store import Log, LogEntry, Store, StoreError, utcnow

# How many of the newest log rows the window loads at start (older ones stay in the store).
LOG_ROWS_AT_START = 100_000
LOG_CHUNK = 20_000


class LogReader:
    """Reads a profile's log rows and documents over one store connection, opened when first needed."""

    def __init__(self, profile: Profile) -> None:
        self._profile = profile
        self._store: Store | None = None
        self._last_log_id: int | None = None

    def _open_store(self) -> Store:
        if self._store is None:
            self._store = self._profile.store()
        return self._store

    def new_rows(self) -> Iterator[list[LogEntry]]:
        """The rows written since the last read (the newest LOG_ROWS_AT_START the first time), in chunks, oldest
        first. Raises AppError when the store cannot be read."""
        try:
            yield from self._new_rows()
        except StoreError as exc:
            raise AppError(str(exc)) from None

    def _new_rows(self) -> Iterator[list[LogEntry]]:
        store = self._open_store()
        if self._last_log_id is None:
            newest = Log(store).newest_id()
            self._last_log_id = max(0, newest - LOG_ROWS_AT_START)
        while True:
            rows = Log(store).read(self._last_log_id, LOG_CHUNK)
            if not rows:
                return
            self._last_log_id = rows[-1].id
            yield rows
            if len(rows) < LOG_CHUNK:
                return

    def document(self, kind: str, provet_id: str) -> DocumentDetails:
        try:
            return read_document(self._open_store(), kind, provet_id)
        except StoreError as exc:
            raise AppError(str(exc)) from None

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


def window_entry(entry_id: int, level: str, message: str) -> LogEntry:
    """A log line of the window itself (a pass that could not start, an export), not from the store."""
    return LogEntry(entry_id, utcnow(), level, "App", message, None, None)


def write_log_csv(path: Path, entries: Sequence[LogEntry]) -> None:
    """The log as a spreadsheet opens it: UTF-8 with a byte-order mark, one row per entry."""
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["time (UTC)", "level", "event", "message", "document kind", "document id"])
        for e in entries:
            out.writerow([e.ts, e.level, e.event, e.message, e.document_kind or "", e.document_id or ""])
