"""Differences planted behind the sync's back, for the tie-out tests."""

from __future__ import annotations

from decimal import Decimal

from provet_xero_gui.sandbox.runner import Sandbox


def raise_provet_total(sandbox: Sandbox, invoice_id: int, by: Decimal | int = 5) -> None:
    """An invoice's total (and its first row) changes in Provet's data after it was sent: nothing the app
    knows explains it, so a tie-out must show it as unexplained."""
    with sandbox.provet.state.lock:
        rec = sandbox.provet.state.tables["invoice"][invoice_id]
        rec["total_with_vat"] += by
        sandbox.provet.state.tables["invoicerow"][rec["invoice_row"][0]]["sum_total"] += by
