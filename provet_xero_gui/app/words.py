"""How the window and the command line put things into words and files: the same sentences and exports for both.
Re-exported from the layers below, so that `ui/` and `cli.py` need import nothing but `provet_xero_gui.app`."""

from __future__ import annotations

from provet_xero_gui.app.conflicts import field_words
from provet_xero_gui.store.sync_state import cause_title
from provet_xero_gui.sync.clients import describe_resolution
from provet_xero_gui.sync.history import describe, summary_line
from provet_xero_gui.tieout import cause_words
from provet_xero_gui.tieout.export import calls_words, report_csv, report_html, report_text, summary_words

__all__ = [
    "calls_words", "cause_title", "cause_words", "describe", "describe_resolution", "field_words", "report_csv",
    "report_html", "report_text", "summary_line", "summary_words",
]  # fmt: skip
