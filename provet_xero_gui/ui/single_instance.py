"""One window per user and profile: a second launch asks the first to show itself, then leaves.

A QLocalServer named for the user and the profile's folder listens for "show"; a second launch finds
it with a QLocalSocket, says "show" and exits 0. A second launch at login (`--minimized`) only says "ping":
the running one stays as it is, in the tray or on screen.
"""

from __future__ import annotations

import ctypes
import getpass
import hashlib
import logging
import sys
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

CONNECT_MS = 1_000
SHOW = b"show\n"
PING = b"ping\n"  # "are you there?", nothing to show


def instance_name(profile_dir: Path, user: str | None = None) -> str:
    """A name no other user or profile shares (short: it becomes a socket path or a pipe name)."""
    who = user or getpass.getuser()
    digest = hashlib.sha256(f"{who}\0{profile_dir.resolve()}".encode()).hexdigest()[:16]
    return f"provet-xero-{digest}"


def tell_running_instance(name: str, message: bytes = SHOW) -> bool:
    """True when another instance listens under `name` and got the message."""
    if message == SHOW:
        _let_others_come_forward()
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(CONNECT_MS):
        return False
    socket.write(message)
    sent = socket.waitForBytesWritten(CONNECT_MS)
    socket.disconnectFromServer()
    return sent


def _let_others_come_forward() -> None:
    """Windows lets only the process the person just started take the foreground; this one hands that
    right on, so the running window's activateWindow() really brings it in front (elsewhere: nothing)."""
    if sys.platform == "win32":
        try:
            ctypes.windll.user32.AllowSetForegroundWindow(-1)  # ASFW_ANY
        except (AttributeError, OSError):
            log.debug("AllowSetForegroundWindow is not available")


class SingleInstance(QObject):
    """Listens for later launches; `show_requested` when one asks."""

    show_requested = Signal()

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._accept)

    def claim(self, *, show_existing: bool = True) -> bool:
        """Start listening; False when another instance already does (told to show itself unless
        `show_existing` is False)."""
        if tell_running_instance(self.name, SHOW if show_existing else PING):
            return False
        if not self._server.listen(self.name):
            # A socket file left by a crashed instance: nobody answered, so it is stale.
            QLocalServer.removeServer(self.name)
            if not self._server.listen(self.name):
                log.warning("single-instance server could not listen: %s", self._server.errorString())
        return True

    def close(self) -> None:
        self._server.close()

    def _accept(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            # The caller writes at once and waits for us: a short read here never holds the window up.
            arrived = socket.bytesAvailable() > 0 or socket.waitForReadyRead(CONNECT_MS)
            if arrived and b"show" in bytes(socket.readAll().data()):
                self.show_requested.emit()
            socket.disconnectFromServer()
            socket.deleteLater()
