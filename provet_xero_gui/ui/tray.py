"""The tray icon: the sync's state at a glance, a short menu, and notifications.

`state_name` is what the icon shows even where there is no tray (the window's icon follows it too),
and `last_message` the last notification, so both can be checked without a desktop.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from provet_xero_gui.ui.icons import state_icon
from provet_xero_gui.ui.status import Notification

log = logging.getLogger(__name__)

STATE_WORDS = {
    "synced": "Up to date",
    "syncing": "Syncing…",
    "attention": "Some documents need attention",
    "error": "The last sync failed",
    "paused": "Paused",
    "signed_out": "Not connected — finish setup",
}
_ICONS = {"info": QSystemTrayIcon.MessageIcon.Information, "warning": QSystemTrayIcon.MessageIcon.Warning,
          "error": QSystemTrayIcon.MessageIcon.Critical}  # fmt: skip


class TrayIcon(QObject):
    open_requested = Signal()

    def __init__(self, actions: list[QAction | None], parent: QObject | None = None, *,
                 use_tray: bool | None = None) -> None:
        super().__init__(parent)
        self.state_name = "synced"
        self.last_message: Notification | None = None
        self.available = QSystemTrayIcon.isSystemTrayAvailable() if use_tray is None else use_tray
        self._tray: QSystemTrayIcon | None = None
        if self.available:
            self._menu = QMenu()
            for action in actions:
                if action is None:
                    self._menu.addSeparator()
                else:
                    self._menu.addAction(action)
            self._tray = QSystemTrayIcon(state_icon(self.state_name), self)
            self._tray.setContextMenu(self._menu)
            self._tray.activated.connect(self._activated)
            self._tray.messageClicked.connect(self.open_requested)
            self._tray.setToolTip(self.tooltip)
            self._tray.show()

    @property
    def tooltip(self) -> str:
        return f"provet-xero — {STATE_WORDS[self.state_name]}"

    def set_state(self, state: str) -> None:
        self.state_name = state
        if self._tray is not None:
            self._tray.setIcon(state_icon(state))
            self._tray.setToolTip(self.tooltip)

    def show_message(self, note: Notification) -> None:
        self.last_message = note
        log.info("notification: %s", note.title)
        if self._tray is not None and QSystemTrayIcon.supportsMessages():
            self._tray.showMessage(note.title, note.text, _ICONS.get(note.level, _ICONS["info"]), 10_000)

    def hide(self) -> None:
        if self._tray is not None:
            self._tray.hide()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.open_requested.emit()
