"""Run only by test_checker.py, in a pytest of its own: the app sends a line field Xero's schema does not have.
The test itself passes; the contract check at the end of that run must fail it."""

from __future__ import annotations

from typing import Any

import pytest

from provet_xero_gui.sync import translate


def test_the_app_sends_a_field_xero_does_not_know(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = translate.XeroLine.to_json

    def with_extra(self: translate.XeroLine) -> dict[str, Any]:
        return {**plain(self), "Colour": "blue"}

    monkeypatch.setattr(translate.XeroLine, "to_json", with_extra)
    assert world.engine().run_pass().stopped is None  # the sandbox, like Xero, ignores what it does not know
    assert world.xero_invoices()


