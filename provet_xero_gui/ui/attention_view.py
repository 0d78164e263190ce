"""The attention list: documents that wait, grouped by cause, each with the reason and the fix in plain words;
Retry for one document or a whole group, and a jump to the part of the mapping that fixes it.

Held-by-rule documents (anonymous sales, unused prepayments) are listed too — nothing is hidden — but in
their own calm group at the end, without Retry: they are waiting on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from provet_xero_gui.app.application import Application
from provet_xero_gui.app.onboarding import plain_message
from provet_xero_gui.app.types import AttentionItem
from provet_xero_gui.ui.attention_model import AttentionGroup, AttentionTreeModel
from provet_xero_gui.ui.background import Background

EMPTY_TEXT = "Nothing needs attention: everything that can go to Xero has gone."


class AttentionView(QWidget):
    """`set_items` shows a list; with an `app`, `refresh()` reads it on a worker thread itself."""

    retry_requested = Signal(list)  # item keys ("invoice:123"): the window runs a pass with retry=keys
    open_mapping_requested = Signal(str)  # where in the mapping: "vat_groups:3", "rounding_account", or a section

    def __init__(self, app: Application | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._app = app
        self._background = Background(self, threads=1)
        self.model = AttentionTreeModel(self)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("Attention summary")
        self.retry_all_button = QPushButton("Retry &all")
        self.retry_all_button.setAccessibleName("Retry every document that needs attention")
        self.retry_all_button.clicked.connect(self.retry_all)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.retry_all_button)

        self.tree = QTreeView()
        self.tree.setModel(self.model)
        self.tree.setAccessibleName("Documents that wait, grouped by cause")
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.tree.activated.connect(self._activated)
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        self.tree.selectionModel().currentRowChanged.connect(lambda *_: self._show_details())

        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.details.setAccessibleName("The selected document's reason and fix")
        self.retry_button = QPushButton("&Retry this document")
        self.retry_button.setAccessibleName("Retry the selected document")
        self.retry_button.clicked.connect(self.retry_selected)
        self.retry_group_button = QPushButton("Retry the &group")
        self.retry_group_button.setAccessibleName("Retry every document in the selected group")
        self.retry_group_button.clicked.connect(self.retry_selected_group)
        self.mapping_button = QPushButton("Show in &mapping")
        self.mapping_button.setAccessibleName("Open the mapping where this is fixed")
        self.mapping_button.clicked.connect(self.open_selected_mapping)
        buttons = QHBoxLayout()
        buttons.addWidget(self.retry_button)
        buttons.addWidget(self.retry_group_button)
        buttons.addWidget(self.mapping_button)
        buttons.addStretch(1)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Attention list news")
        buttons.addWidget(self.message, 2)
        lower = QWidget()
        ll = QVBoxLayout(lower)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.details, 1)
        ll.addLayout(buttons)

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.tree)
        split.addWidget(lower)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)

        self.empty = QLabel(EMPTY_TEXT)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setAccessibleName(EMPTY_TEXT)
        self.empty.setStyleSheet("color: #1d6b3a; font-size: 13pt;")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(split)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)
        self.set_items([])
        if app is not None:
            self.refresh()

    # --- content ----------------------------------------------------------------------------------------------
    def set_items(self, items: Sequence[AttentionItem]) -> None:
        selected = self._selected_key()
        self.model.set_items(items)
        self.tree.expandAll()
        for col, width in ((0, 300), (1, 420)):
            self.tree.setColumnWidth(col, width)
        problems, held = self.model.item_count(by_rule=False), self.model.item_count(by_rule=True)
        self.stack.setCurrentWidget(self.empty if not items else self.stack.widget(1))
        if not items:
            self.summary.setText("")
        else:
            parts = [f"{problems} document{'s' if problems != 1 else ''} need{'s' if problems == 1 else ''} "
                     "attention" if problems else "Nothing needs fixing"]
            if held:
                parts.append(f"{held} held by rule (on purpose)")
            self.summary.setText("; ".join(parts) + ".")
        self.summary.setVisible(bool(items))
        self.retry_all_button.setVisible(bool(items))
        self.retry_all_button.setEnabled(problems > 0)
        self._select(selected)
        self._show_details()

    def set_vat_group_ids(self, ids: Mapping[str, int]) -> None:
        """VAT group title → Provet id, so "Show in mapping" lands on the group's own row."""
        self.model.set_vat_group_ids(ids)
        self._show_details()

    def refresh(self) -> None:
        """Read the list again (only with an app; otherwise the owner calls set_items)."""
        if self._app is None:
            return
        self._background.run(self._app.attention, on_done=self.set_items,
                             on_failed=lambda exc: self._say(plain_message(exc), error=True))

    # --- actions ----------------------------------------------------------------------------------------------
    def retry_all(self) -> None:
        self._retry([k for g in self.model.groups() if not g.by_rule for k in g.keys])

    def retry_selected(self) -> None:
        node = self._selected_node()
        if node is not None and not node.by_rule:
            self._retry(node.keys if isinstance(node, AttentionGroup) else [node.key])

    def retry_selected_group(self) -> None:
        group = self._selected_group()
        if group is not None and not group.by_rule:
            self._retry(group.keys)

    def open_selected_mapping(self) -> None:
        where = self.model.where(self.tree.currentIndex())
        if where:
            self.open_mapping_requested.emit(where)

    def _retry(self, keys: list[str]) -> None:
        if not keys:
            return
        n = len(keys)
        self._say(f"Retrying {n} document{'s' if n != 1 else ''} in the next pass…", error=False)
        if self._app is None:
            self.retry_requested.emit(keys)
            return

        def failed(exc: BaseException) -> None:  # the cache could not be dropped: retry anyway
            self.retry_requested.emit(keys)

        self._background.run(self._app.forget_xero_reference, on_done=lambda _v: self.retry_requested.emit(keys),
                             on_failed=failed)

    # --- selection and details --------------------------------------------------------------------------------
    def _selected_node(self) -> AttentionItem | AttentionGroup | None:
        return self.model.node(self.tree.currentIndex())

    def _selected_group(self) -> AttentionGroup | None:
        index = self.tree.currentIndex()
        node = self.model.node(index)
        if isinstance(node, AttentionItem):
            node = self.model.node(index.parent())
        return node if isinstance(node, AttentionGroup) else None

    def _selected_key(self) -> str | None:
        node = self._selected_node()
        if isinstance(node, AttentionGroup):
            return "cause:" + node.cause
        return node.key if isinstance(node, AttentionItem) else None

    def _select(self, key: str | None) -> None:
        target = QModelIndex()
        for g_row, group in enumerate(self.model.groups()):
            g_index = self.model.index(g_row, 0)
            if key == "cause:" + group.cause:
                target = g_index
            for i_row, item in enumerate(group.items):
                if item.key == key:
                    target = self.model.index(i_row, 0, g_index)
        if not target.isValid() and self.model.groups():
            target = self.model.index(0, 0)
        if target.isValid():
            self.tree.setCurrentIndex(target)

    def select_item(self, key: str) -> None:
        self._select(key)

    def select_group(self, cause: str) -> None:
        self._select("cause:" + cause)

    def _show_details(self) -> None:
        node = self._selected_node()
        group = self._selected_group()
        where = self.model.where(self.tree.currentIndex())
        self.retry_button.setEnabled(isinstance(node, AttentionItem) and not node.by_rule)
        self.retry_group_button.setEnabled(group is not None and not group.by_rule)
        self.retry_group_button.setText(f"Retry the &group ({len(group.items)})" if group else "Retry the &group")
        self.mapping_button.setEnabled(where is not None)
        if isinstance(node, AttentionItem):
            text = (f"<b>{_html(node.document)}</b><br>Why it waits: {_html(node.reason)}.<br>"
                    f"What to do: {_html(node.fix)}<br><span style='color:#666'>Last tried "
                    f"{_html(node.updated_at[:16].replace('T', ' '))} UTC</span>")
        elif isinstance(node, AttentionGroup):
            fixes = sorted({i.fix for i in node.items})
            what = ("These wait on purpose, by the sync rules; they need nothing from you." if node.by_rule
                    else "What to do: " + _html(fixes[0]) if len(fixes) == 1
                    else "Select a document to see its fix.")
            text = f"<b>{_html(node.title)}</b> — {len(node.items)} document{'s' if len(node.items) != 1 else ''}." \
                   f"<br>{what}"
        else:
            text = ""
        self.details.setText(text)
        self.details.setAccessibleDescription(self.details.text())

    def _activated(self, index: QModelIndex) -> None:
        """Enter or double-click: open the mapping when that is where the fix is."""
        where = self.model.where(index)
        if where:
            self.open_mapping_requested.emit(where)

    def _context_menu(self, pos: QPoint) -> None:
        index = self.tree.indexAt(pos)
        if not index.isValid():
            return
        self.tree.setCurrentIndex(index)
        menu = QMenu(self)
        for button in (self.retry_button, self.retry_group_button, self.mapping_button):
            action = menu.addAction(button.text().replace("&", ""))
            action.setEnabled(button.isEnabled())
            action.triggered.connect(button.click)
        menu.exec(self.tree.viewport().mapToGlobal(pos))

    def _say(self, text: str, *, error: bool) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #a61b1b;" if error else "color: #444;")


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
