"""The event log: what each pass did and said, kept for the window's log view and `provet-xero log`."""

from __future__ import annotations

from dataclasses import dataclass

from provet_xero_gui.store.database import Store, utcnow


@dataclass(frozen=True)
class LogEntry:
    id: int
    ts: str
    level: str
    event: str
    message: str
    document_kind: str | None
    document_id: str | None


@dataclass(frozen=True)
class DocumentLine:
    """One line of a document's history, as its detail shows it."""

    ts: str
    level: str
    message: str


class Log:
    def __init__(self, store: Store) -> None:
        self.store = store

    def append(
        self,
        level: str,
        event: str,
        message: str,
        document_kind: str | None = None,
        document_id: str | None = None,
    ) -> int:
        with self.store.transaction() as db:
            cur = db.execute(
                "INSERT INTO log (ts, level, event, message, document_kind, document_id) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (utcnow(), level, event, message, document_kind, document_id),
            )
            return int(cur.lastrowid)

    def read(self, after_id: int = 0, limit: int = 1000) -> list[LogEntry]:
        rows = self.store.query("SELECT * FROM log WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit))
        return [LogEntry(**dict(r)) for r in rows]

    def newest_id(self) -> int:
        """The id of the newest line (0 when the log is empty): a reader can start after it."""
        return int(self.store.query("SELECT MAX(id) FROM log")[0][0] or 0)

    def sent_since(self, ts: str) -> int:
        """Documents sent to Xero since `ts` (UTC, ISO); the contacts made for them are not counted."""
        return int(self.store.query(
            "SELECT COUNT(*) FROM log WHERE event = 'DocumentSent' AND ts >= ? "
            "AND COALESCE(document_kind, '') != 'contact'",
            (ts,),
        )[0][0])

    def document_history(self, kind: str, provet_id: str, limit: int = 20) -> list[DocumentLine]:
        """The newest `limit` lines about one document, oldest first."""
        rows = self.store.query(
            "SELECT ts, level, message FROM (SELECT id, ts, level, message FROM log WHERE document_kind = ? "
            "AND document_id = ? ORDER BY id DESC LIMIT ?) ORDER BY id",
            (kind, provet_id, limit),
        )
        return [DocumentLine(*r) for r in rows]
