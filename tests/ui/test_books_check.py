"""The daily tie-out in the window: made after the day's first pass, shown on the dashboard, and a difference
nobody can explain is told in a notification."""

from __future__ import annotations

from datetime import date, timedelta

from helpers.planted import raise_provet_total
from pytestqt.qtbot import QtBot

from provet_xero_gui.app.application import Application
from provet_xero_gui.store.sync_state import SyncState
from provet_xero_gui.ui.controller import SyncController
from provet_xero_gui.ui.main_window import MainWindow
from provet_xero_gui.ui.status import Notification

CLINIC_DAY = date(2026, 10, 1)  # the seeded clinic's "today": its documents are from September


def test_the_dashboard_shows_the_last_weeks_books_and_a_difference_is_notified(qtbot: QtBot, make_connected) -> None:
    sandbox, profile = make_connected(60)
    today = [CLINIC_DAY]
    app = Application(profile)
    controller = SyncController(app, schedule=False, today=lambda: today[0])
    window = MainWindow(controller, app)
    qtbot.addWidget(window)
    notes: list[Notification] = []
    controller.notify.connect(notes.append)
    books = window.dashboard.books_label
    controller.start()
    try:
        qtbot.waitUntil(lambda: controller.status is not None, timeout=20_000)
        assert "Not compared yet" in books.text()

        controller.sync_now()
        qtbot.waitUntil(lambda: "agree" in books.text(), timeout=60_000)
        assert "Provet and Xero agree (24 Sep – 30 Sep)" in books.text()
        assert not [n for n in notes if n.title == "Provet and Xero differ"]

        # Behind the sync's back, an invoice of the week changes in Provet's data: nothing explains it.
        with profile.store() as store:
            linked = SyncState(store).links("invoice")
        invoice = next(i for i in sorted((sandbox.provet.invoice(int(p)) for p in linked), key=lambda i: i.id)
                       if i.invoice_date >= date(2026, 9, 25))
        raise_provet_total(sandbox, invoice.id)
        today[0] = CLINIC_DAY + timedelta(days=1)

        controller.sync_now()
        qtbot.waitUntil(lambda: "differs without a reason" in books.text(), timeout=60_000)
        assert "1 day differs without a reason (25 Sep – 01 Oct)" in books.text()
        qtbot.waitUntil(lambda: any(n.title == "Provet and Xero differ" for n in notes), timeout=10_000)
        note = next(n for n in notes if n.title == "Provet and Xero differ")
        assert note.level == "warning" and "Tie-out page" in note.text

        # "show the days" opens the Tie-out page on that week, tied out, with the red day in it.
        books.linkActivated.emit("tieout")
        assert window.tabs.currentWidget() is window.tieout_page
        assert window.tieout_page.chosen_range() == (date(2026, 9, 25), date(2026, 10, 1))
        qtbot.waitUntil(lambda: window.tieout_page.report is not None, timeout=30_000)
        red = [d.day for d in window.tieout_page.report.days if d.status == "unexplained"]
        assert red == [invoice.invoice_date]

        controller.sync_now()  # the same day again: no second tie-out, no second notification
        qtbot.waitUntil(lambda: not controller.running, timeout=60_000)
        qtbot.wait(300)
        assert sum(n.title == "Provet and Xero differ" for n in notes) == 1
    finally:
        controller.shutdown()
