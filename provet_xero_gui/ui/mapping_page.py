"""The Mapping page of the main window: the mapping editor, fed from Provet and Xero off the GUI thread.

The editor itself only shows and edits; this page reads what it needs (`Application.mapping_sources`) on a
background thread when the page is first shown or asked to refresh, saves what the person saves and
runs the check they ask for. Without a connection it says so instead.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from provet_xero_gui.app.application import Application
from provet_xero_gui.app.onboarding import plain_message
from provet_xero_gui.app.types import Mapping, MappingSources
from provet_xero_gui.ui.background import Background

log = logging.getLogger(__name__)


class MappingPage(QWidget):
    saved = Signal()  # the mapping file changed
    setup_wanted = Signal()

    def __init__(self, app: Application, editor: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._app = app
        self.editor = editor
        self._background = Background(self, threads=1)
        self._loaded = False
        self._busy = False
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Mapping page message")
        self.retry_button = QPushButton("&Read again")
        self.retry_button.setAccessibleName("Read Provet and Xero again")
        self.retry_button.clicked.connect(self.refresh)
        self.setup_button = QPushButton("Open &setup")
        self.setup_button.setAccessibleName("Open setup")
        self.setup_button.clicked.connect(self.setup_wanted)
        bar = QHBoxLayout()
        bar.addWidget(self.message, 1)
        bar.addWidget(self.retry_button)
        bar.addWidget(self.setup_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(editor, 1)
        self.setup_button.hide()
        editor.setEnabled(False)
        editor.save_requested.connect(self._save)
        editor.check_requested.connect(self._check)

    def focus_where(self, where: str) -> None:
        """Select the mapping row a problem or an attention item concerns."""
        focus = getattr(self.editor, "focus_where", None)
        if focus is not None:
            focus(where)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._loaded:
            self.refresh()

    def refresh(self) -> None:
        """Read VAT groups, payment methods, departments, Xero's reference data and the saved mapping again."""
        if self._busy:
            return
        self._busy = True
        self._loaded = True
        self.message.setText("Reading VAT groups, payment methods and departments from Provet, and tax rates, "
                             "accounts and tracking categories from Xero…")
        self.retry_button.setEnabled(False)
        self._background.run(self._app.mapping_sources, on_done=self._arrived,
                             on_failed=self._failed)

    def _arrived(self, sources: MappingSources) -> None:
        self._busy = False
        self.retry_button.setEnabled(True)
        self.setup_button.hide()
        self.editor.set_sources(sources.vat_groups, sources.payment_methods, sources.account_numbers,
                                sources.reference, sources.usage, departments=sources.departments)
        self.editor.set_mapping(sources.saved or Mapping())
        problems = self._app.check_against(sources, sources.saved or Mapping())
        self.editor.show_problems(problems)
        self.editor.setEnabled(True)
        self.message.setText("Not saved yet: map what is highlighted, then Save." if sources.saved is None else
                             f"{len(problems)} problem{'s' if len(problems) != 1 else ''} to fix; each is shown "
                             "where it is mapped." if problems else "The saved mapping matches Xero as it is now.")

    def _failed(self, exc: BaseException) -> None:
        self._busy = False
        self.retry_button.setEnabled(True)
        self.editor.setEnabled(False)
        self.message.setText(f"The mapping cannot be edited now: {plain_message(exc)}")
        self.setup_button.show()

    def _save(self, mapping: Mapping) -> None:
        app = self._app

        def done(_value: object) -> None:
            self.message.setText("Mapping saved; the next sync uses it.")
            self.saved.emit()

        self._background.run(lambda: app.save_mapping(mapping), on_done=done, on_failed=self._failed)

    def _check(self) -> None:
        app, mapping = self._app, self.editor.mapping()
        self.message.setText("Checking the mapping against Xero as it is now…")

        def work() -> list:
            return app.check_against(app.mapping_sources(), mapping)

        def done(problems: list) -> None:
            self.editor.show_problems(problems)
            self.message.setText(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} to fix; each is "
                                 "shown where it is mapped." if problems else "No problems: Xero accepts this "
                                 "mapping.")

        self._background.run(work, on_done=done, on_failed=self._failed)
