"""The conflict view: client details changed differently in Provet and Xero, one client per row with its fields
below, Provet's, Xero's and the last synced value side by side. Keep Provet's or Xero's for one field, for the
whole client, or for every conflict of that field; or type the value by hand.

Choosing is checked against both sides as they are *now*: a value changed again after the list was read is
refused, and the refusal is shown here (`show_refusal`). With an `app` the view carries its choices out itself
on a worker thread (`Application.resolve`); without one its owner does, on `resolve_requested`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from provet_xero_gui.app.application import Application
from provet_xero_gui.app.onboarding import plain_message
from provet_xero_gui.app.types import Conflict, ConflictChoice, ConflictSnapshot, Resolution
from provet_xero_gui.app.words import field_words
from provet_xero_gui.ui.background import Background
from provet_xero_gui.ui.conflict_model import ClientConflicts, ConflictTreeModel

EMPTY_TEXT = "No conflicts: client details agree in Provet and Xero."
REFUSAL_STYLE = "background: #fdecea; color: #8a1c13; border: 1px solid #f5c2bd; border-radius: 4px; padding: 6px;"


class ConflictView(QWidget):
    """`set_conflicts` shows conflicts; with an `app`, `refresh()` reads them and choices are carried out here."""

    resolve_requested = Signal(list)  # list[ConflictChoice]: (conflict_id, keep, value)
    resolved = Signal(list)  # the refusals (list[str]) after the view carried choices out itself

    def __init__(self, app: Application | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._app = app
        self._background = Background(self, threads=1)
        self.model = ConflictTreeModel(self)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("Conflicts summary")
        self.refusal = QLabel()
        self.refusal.setWordWrap(True)
        self.refusal.setStyleSheet(REFUSAL_STYLE)
        self.refusal.setAccessibleName("Why a choice was refused")
        self.refusal.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.refusal.hide()

        self.tree = QTreeView()
        self.tree.setModel(self.model)
        self.tree.setAccessibleName("Conflicts by client")
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.tree.selectionModel().currentRowChanged.connect(lambda *_: self._selection_changed())

        self.keep_provet_button = QPushButton("Keep &Provet's")
        self.keep_provet_button.clicked.connect(lambda: self.keep("provet"))
        self.keep_xero_button = QPushButton("Keep &Xero's")
        self.keep_xero_button.clicked.connect(lambda: self.keep("xero"))
        self.apply_all = QCheckBox("Apply to every conflict of this &field")
        self.apply_all.setAccessibleName("Apply the choice to every conflict of this field")
        self.apply_all.toggled.connect(lambda _on: self._selection_changed())
        self.value_edit = QLineEdit()
        self.value_edit.setPlaceholderText("or type the value to use on both sides")
        self.value_edit.setAccessibleName("A value typed by hand, for both sides")
        self.value_edit.returnPressed.connect(self.use_value)
        self.value_button = QPushButton("&Use this value")
        self.value_button.setAccessibleName("Use the typed value on both sides")
        self.value_button.clicked.connect(self.use_value)
        choose = QHBoxLayout()
        choose.addWidget(self.keep_provet_button)
        choose.addWidget(self.keep_xero_button)
        choose.addWidget(self.apply_all)
        choose.addStretch(1)
        choose.addWidget(self.value_edit, 2)
        choose.addWidget(self.value_button)
        self.scope = QLabel()
        self.scope.setWordWrap(True)
        self.scope.setAccessibleName("What the buttons apply to")
        self.scope.setStyleSheet("color: #444;")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Conflict view news")

        listing = QWidget()
        ll = QVBoxLayout(listing)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.tree, 1)
        ll.addWidget(self.scope)
        ll.addLayout(choose)
        ll.addWidget(self.message)
        self.empty = QLabel(EMPTY_TEXT)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setAccessibleName(EMPTY_TEXT)
        self.empty.setStyleSheet("color: #1d6b3a; font-size: 13pt;")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(listing)

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.refusal)
        layout.addWidget(self.stack, 1)
        self.set_conflicts([])
        if app is not None:
            self.refresh()

    # --- content ----------------------------------------------------------------------------------------------
    def set_conflicts(self, conflicts: Sequence[Conflict], client_names: Mapping[str, str] | None = None) -> None:
        selected = self._selected_id()
        self.model.set_conflicts(conflicts, client_names)
        self.tree.expandAll()
        for row in range(self.model.rowCount()):
            self.tree.setFirstColumnSpanned(row, QModelIndex(), True)
        for col, width in ((0, 200), (1, 260), (2, 260), (3, 220)):
            self.tree.setColumnWidth(col, width)
        clients = self.model.clients()
        waiting = sum(len(g.waiting) for g in clients)
        self.stack.setCurrentWidget(self.empty if not clients else self.stack.widget(1))
        if not clients:
            self.summary.setText("")
        elif waiting:
            self.summary.setText(
                f"{len(clients)} client{'s' if len(clients) != 1 else ''} with details changed differently in Provet "
                f"and Xero; {waiting} field{'s' if waiting != 1 else ''} wait{'s' if waiting == 1 else ''} for your "
                "choice. Nothing is written for those fields until you choose.")
        else:
            self.summary.setText("Every conflict has a choice; the next sync writes them.")
        self.summary.setVisible(bool(clients))
        self._select(selected)

    def refresh(self) -> None:
        """Read the conflicts again (only with an app)."""
        if self._app is None:
            return

        def show(snapshot: ConflictSnapshot) -> None:
            self.set_conflicts(snapshot.conflicts, snapshot.client_names)

        self._background.run(self._app.conflicts, on_done=show,
                             on_failed=lambda exc: self._say(plain_message(exc), error=True))

    def show_refusal(self, message: str) -> None:
        """A choice was refused (a side changed after the list was read): say why; empty hides it."""
        self.refusal.setText(f"⚠ {message}" if message else "")
        self.refusal.setVisible(bool(message))
        self.refusal.setAccessibleDescription(message)

    # --- choosing ---------------------------------------------------------------------------------------------
    def targets(self) -> list[Conflict]:
        """The conflicts a button applies to: the field, every conflict of that field, or the client's fields."""
        node = self.model.node(self.tree.currentIndex())
        if isinstance(node, ClientConflicts):
            return list(node.conflicts)
        if isinstance(node, Conflict):
            if self.apply_all.isChecked():
                return [c for c in self.model.conflicts() if c.field == node.field and c.waiting] or [node]
            return [node]
        return []

    def keep(self, side: str) -> None:
        self._choose([ConflictChoice(c.id, side, None) for c in self.targets()],
                     "Provet's value" if side == "provet" else "Xero's value")

    def use_value(self) -> None:
        node = self.model.node(self.tree.currentIndex())
        text = self.value_edit.text()
        if not isinstance(node, Conflict) or not text.strip():
            return
        self._choose([ConflictChoice(c.id, None, text) for c in self.targets()], f"typed: {text.strip()}")
        self.value_edit.clear()

    def _choose(self, choices: list[ConflictChoice], words: str) -> None:
        if not choices:
            return
        self.show_refusal("")
        self.model.set_pending({c.conflict_id: f"{words} — saving…" for c in choices})
        self.resolve_requested.emit(choices)
        app = self._app
        if app is None:
            return
        self._say("Checking both sides and saving the choice…", error=False)

        def done(resolutions: tuple[Resolution, ...]) -> None:
            refusals = [r.refusal for r in resolutions if r.refusal is not None]
            self.show_refusal("\n".join(refusals))
            taken = len(choices) - len(refusals)
            self._say(f"{taken} choice{'s' if taken != 1 else ''} saved; the next sync writes "
                      f"{'them' if taken != 1 else 'it'} to the other side." if taken else "", error=False)
            self.resolved.emit(refusals)
            self.refresh()

        def failed(exc: BaseException) -> None:
            self.show_refusal(plain_message(exc))
            self.refresh()

        self._background.run(lambda: app.resolve(choices), on_done=done, on_failed=failed)

    # --- selection --------------------------------------------------------------------------------------------
    def select_conflict(self, conflict_id: int) -> None:
        index = self.model.index_of(conflict_id)
        if index.isValid():
            self.tree.setCurrentIndex(index)

    def select_client(self, provet_client_id: str) -> None:
        index = self.model.index_of_client(provet_client_id)
        if index.isValid():
            self.tree.setCurrentIndex(index)

    def _selected_id(self) -> int | str | None:
        node = self.model.node(self.tree.currentIndex())
        if isinstance(node, Conflict):
            return node.id
        return node.provet_client_id if isinstance(node, ClientConflicts) else None

    def _select(self, key: int | str | None) -> None:
        index = self.model.index_of(key) if isinstance(key, int) else \
            self.model.index_of_client(key) if isinstance(key, str) else QModelIndex()
        if not index.isValid() and self.model.clients():
            group = self.model.index(0, 0)
            index = self.model.index(0, 0, group)
        if index.isValid():
            self.tree.setCurrentIndex(index)
        self._selection_changed()

    def _selection_changed(self) -> None:
        node = self.model.node(self.tree.currentIndex())
        is_field = isinstance(node, Conflict)
        self.apply_all.setEnabled(is_field)
        self.value_edit.setEnabled(is_field)
        self.value_button.setEnabled(is_field)
        for button in (self.keep_provet_button, self.keep_xero_button):
            button.setEnabled(node is not None)
        if isinstance(node, ClientConflicts):
            scope = f"The buttons choose for every field of {node.name} ({len(node.conflicts)})."
            self.keep_provet_button.setText("Keep &Provet's for the whole client")
            self.keep_xero_button.setText("Keep &Xero's for the whole client")
        elif isinstance(node, Conflict):
            others = len(self.targets())
            word = field_words(node.field)
            scope = (f"The buttons choose the {word} of {others} client{'s' if others != 1 else ''} (every conflict "
                     f"of this field)." if self.apply_all.isChecked() else f"The buttons choose this {word} only.")
            self.keep_provet_button.setText(f"Keep &Provet's: {_short(node.provet_value)}")
            self.keep_xero_button.setText(f"Keep &Xero's: {_short(node.xero_value)}")
        else:
            scope = ""
            self.keep_provet_button.setText("Keep &Provet's")
            self.keep_xero_button.setText("Keep &Xero's")
        for button, side in ((self.keep_provet_button, "Provet"), (self.keep_xero_button, "Xero")):
            button.setAccessibleName(f"Keep {side}'s value. {scope}")
        self.scope.setText(scope)

    def _say(self, text: str, *, error: bool) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #a61b1b;" if error else "color: #1d6b3a;")


def _short(value: str, limit: int = 28) -> str:
    value = value or "(empty)"
    text = value if len(value) <= limit else value[: limit - 1] + "…"
    return text.replace("&", "&&")
