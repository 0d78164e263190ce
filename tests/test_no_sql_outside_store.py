"""Every SQL statement lives in the store package (issue 19): no module of provet_xero_gui outside store/
holds an SQL statement, imports sqlite3, or hands a statement to `.execute`/`.query`."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import provet_xero_gui

PACKAGE = Path(provet_xero_gui.__file__).parent
STORE = PACKAGE / "store"

# Statements as written in this code base: keywords in capitals, with the words that make them a statement.
_SQL = re.compile(
    r"\bSELECT\b.+\bFROM\b|\bINSERT\s+(OR\s+\w+\s+)?INTO\b|\bUPDATE\s+\w+\s+SET\b|\bDELETE\s+FROM\b"
    r"|\b(CREATE|DROP|ALTER)\s+(TEMPORARY\s+|UNIQUE\s+)?(TABLE|INDEX|VIEW|TRIGGER)\b|\bPRAGMA\s+\w+"
    r"|\bBEGIN\s+(IMMEDIATE|EXCLUSIVE|DEFERRED|TRANSACTION)\b|\bWHERE\s+\w+\s*(=|IN\b|IS\b)",
    re.DOTALL,
)
_RUNS_SQL = {"execute", "executemany", "executescript", "query"}


def _is_text(node: ast.expr) -> bool:
    """A string written in the code: a constant, an f-string, or strings joined with +."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    return isinstance(node, ast.BinOp) and (_is_text(node.left) or _is_text(node.right))


def sql_found(source: str) -> list[str]:
    """What in this module's source is SQL, each as `line: what`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _SQL.search(node.value):
            found.append(f"{node.lineno}: SQL text {node.value[:60]!r}")
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "x" for v in node.values)
            if _SQL.search(text):
                found.append(f"{node.lineno}: SQL f-string {text[:60]!r}")
        elif isinstance(node, ast.Import) and any(a.name.split(".")[0] == "sqlite3" for a in node.names):
            found.append(f"{node.lineno}: imports sqlite3")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlite3":
            found.append(f"{node.lineno}: imports from sqlite3")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _RUNS_SQL
              and node.args and _is_text(node.args[0])):
            found.append(f"{node.lineno}: .{node.func.attr}() of a statement")
    return found


def test_no_module_outside_the_store_speaks_sql() -> None:
    modules = [p for p in sorted(PACKAGE.rglob("*.py")) if STORE not in p.parents]
    assert len(modules) > 50  # the whole package was looked at
    found = {str(p.relative_to(PACKAGE)): hits for p in modules if (hits := sql_found(p.read_text(encoding="utf-8")))}
    assert found == {}


def test_the_store_itself_is_where_the_sql_is() -> None:
    """The check finds the statements where they are meant to be: it is not blind."""
    for module in ("links.py", "database.py", "migrations.py", "journal.py"):
        assert sql_found((STORE / module).read_text(encoding="utf-8")), module


def test_each_way_of_speaking_sql_is_caught() -> None:
    planted = {
        "import sqlite3\n": "imports sqlite3",
        "from sqlite3 import connect\n": "imports from sqlite3",
        "rows = store.query('SELECT 1')\n": ".query() of a statement",
        "db.execute('VACUUM')\n": ".execute() of a statement",
        "SQL = 'SELECT xero_id FROM links WHERE kind = ?'\n": "SQL text",
        "q = f'SELECT fingerprint FROM links WHERE scope = {SCOPE} AND kind = ?'\n": "SQL f-string",
        "q = ('UPDATE attention SET state = ? ' + tail)\n": "SQL text",
        "q = 'DELETE FROM cursors'\n": "SQL text",
        "q = 'INSERT OR REPLACE INTO links VALUES (?)'\n": "SQL text",
        "q = 'CREATE TABLE x (y TEXT)'\n": "SQL text",
    }
    for source, what in planted.items():
        hits = sql_found(source)
        assert hits and what in hits[0], (source, hits)


def test_plain_words_and_other_calls_are_not_taken_for_sql() -> None:
    source = (
        "message = 'Select the organisation, then update provet-xero.'\n"
        "self.writer.execute(entry)\n"
        "parsed = urlsplit(url).query\n"
        "note = 'Delete it from Xero, or create it in Provet first.'\n"
    )
    assert sql_found(source) == []
