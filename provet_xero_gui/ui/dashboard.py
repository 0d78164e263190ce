"""The dashboard page: connections, last and next sync, the counts a person watches, Sync now, Pause.

It only shows what it is told (`show_status`, `show_running`, `show_progress`, ...) and says what was
clicked by signal; the controller decides what happens.
"""

from __future__ import annotations

import logging
from dataclasses import fields
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from provet_xero_gui.app.types import EXPLAINED, UNEXPLAINED, DailyTieOut, Status, SyncResult
from provet_xero_gui.app.words import summary_line
from provet_xero_gui.ui.estimate import FinishEstimate, words_for_seconds
from provet_xero_gui.ui.log_model import MESSAGE, LogFilter, LogModel
from provet_xero_gui.ui.status import ERROR_STOPS

log = logging.getLogger(__name__)

COUNTS = (
    ("sent_today", "Sent today", "Invoices, credit notes and payments sent to Xero since midnight"),
    ("attention", "Need attention", "Documents that wait for a fix; see the Attention page"),
    ("held_by_rule", "Held by rule", "Anonymous invoices and unused prepayments, held on purpose"),
    ("conflicts", "Conflicts", "Client details changed differently in Provet and Xero"),
    ("calls_left", "Xero calls left today", "Xero allows 5,000 calls a day per organisation"),
)
_GREEN, _RED, _GREY, _AMBER = "#1e8e3e", "#d93025", "#5f6368", "#b06f00"


def when_words(moment: datetime, now: datetime | None = None) -> str:
    """'today 14:03', 'yesterday 09:12' or '25 Nov 14:03', in local time."""
    local = moment.astimezone()
    today = (now or datetime.now().astimezone()).date()
    clock = local.strftime("%H:%M")
    if local.date() == today:
        return f"today {clock}"
    if local.date() == today - timedelta(days=1):
        return f"yesterday {clock}"
    return f"{local.day} {local.strftime('%b')} {clock}"


def _parse(stamp: str) -> datetime:
    moment = datetime.fromisoformat(stamp)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _dot(colour: str) -> str:
    return f'<span style="color:{colour}">●</span>'


class CountTile(QFrame):
    """One big number with its caption."""

    def __init__(self, caption: str, tip: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setToolTip(tip)
        self.value = QLabel("–")
        font = QFont(self.value.font())
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        self.value.setFont(font)
        self.value.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption = QLabel(caption)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.value)
        layout.addWidget(self.caption)
        self.setAccessibleName(caption)

    def set_value(self, text: str, colour: str | None = None) -> None:
        self.value.setText(text)
        self.value.setStyleSheet(f"color: {colour}" if colour else "")
        self.setAccessibleDescription(f"{self.caption.text()}: {text}")


class Dashboard(QWidget):
    sync_now_clicked = Signal()
    pause_clicked = Signal()
    books_wanted = Signal(object, object)  # first and last day of the daily tie-out: show them on the Tie-out page

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._estimate = FinishEstimate()
        self._running = False
        self._paused = False

        def value_label(name: str) -> QLabel:
            label = QLabel("–")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)
            label.setAccessibleName(name)
            label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
            return label

        self.provet_label = value_label("Provet Cloud connection")
        self.xero_label = value_label("Xero connection")
        self.last_sync_label = value_label("Last sync")
        self.result_label = value_label("Result of the last sync")
        self.next_sync_label = value_label("Next sync")
        self.books_label = value_label("Provet and Xero compared")
        self.books_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.books_label.linkActivated.connect(lambda _link: self._want_books())
        self._books: DailyTieOut | None = None
        self.books_label.setToolTip("Once a day the app ties out the last week: Provet's totals per day against "
                                    "what Xero holds. The Tie-out page shows any day's documents.")
        self.history_label = value_label("Sync history")  # links rebuilt from Xero, or a damaged store set aside
        self.history_label.setWordWrap(True)
        self.problem_label = QLabel()
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet(f"color: {_RED}")
        self.problem_label.setAccessibleName("Problem")
        self.problem_label.hide()

        connections = QGroupBox("Connections")
        form = QFormLayout(connections)
        form.addRow("Provet Cloud:", self.provet_label)
        form.addRow("Xero:", self.xero_label)
        sync_box = QGroupBox("Sync")
        form2 = self._sync_form = QFormLayout(sync_box)
        form2.addRow("Last sync:", self.last_sync_label)
        form2.addRow("Result:", self.result_label)
        form2.addRow("Next sync:", self.next_sync_label)
        form2.addRow("Books:", self.books_label)
        form2.addRow("History:", self.history_label)
        self._history_row = form2.rowCount() - 1
        form2.setRowVisible(self._history_row, False)

        self.sync_button = QPushButton("&Sync now")
        self.sync_button.setToolTip("Send what is new in Provet to Xero now, and read Xero's changes (Ctrl+R)")
        self.sync_button.setAccessibleName("Sync now")
        self.sync_button.setMinimumSize(200, 56)
        big = QFont(self.sync_button.font())
        big.setPointSizeF(big.pointSizeF() * 1.4)
        big.setBold(True)
        self.sync_button.setFont(big)
        self.sync_button.clicked.connect(self.sync_now_clicked)
        self.pause_button = QPushButton("&Pause syncing")
        self.pause_button.setAccessibleName("Pause syncing")
        self.pause_button.setMinimumHeight(36)
        self.pause_button.clicked.connect(self.pause_clicked)
        buttons = QVBoxLayout()
        buttons.addWidget(self.sync_button)
        buttons.addWidget(self.pause_button)
        buttons.addStretch(1)

        self.tiles = {key: CountTile(caption, tip) for key, caption, tip in COUNTS}
        tiles = QGridLayout()
        for i, (key, _caption, _tip) in enumerate(COUNTS):
            tiles.addWidget(self.tiles[key], 0, i)

        self.progress_bar = QProgressBar()
        self.progress_bar.setAccessibleName("Sync progress")
        self.progress_bar.setTextVisible(True)
        self.progress_label = QLabel()
        self.progress_label.setAccessibleName("Sync progress details")
        self.progress_label.setWordWrap(True)
        progress_box = QWidget()
        pl = QVBoxLayout(progress_box)
        pl.setContentsMargins(0, 0, 0, 0)
        pl.addWidget(self.progress_bar)
        pl.addWidget(self.progress_label)
        self._progress_box = progress_box
        progress_box.setVisible(False)

        top = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(connections)
        left.addWidget(sync_box)
        top.addLayout(left, 1)
        top.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.problem_label)
        layout.addLayout(top)
        layout.addLayout(tiles)
        layout.addWidget(progress_box)
        self.recent = QListView()
        self.recent.setAccessibleName("Recent activity")
        self.recent.setUniformItemSizes(True)
        self.recent.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.recent.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.recent.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        recent_box = QGroupBox("Recent activity (all of it on the Log page)")
        QVBoxLayout(recent_box).addWidget(self.recent)
        layout.addWidget(recent_box, 1)

        self.setTabOrder(self.sync_button, self.pause_button)

    def set_log_model(self, model: LogModel) -> None:
        """Show the log's newest lines (information and above) under the counts."""
        recent = LogFilter(self)
        recent.setSourceModel(model)
        self.recent.setModel(recent)
        self.recent.setModelColumn(MESSAGE)

    # --- what it is told --------------------------------------------------------------------------
    def show_status(self, status: Status) -> None:
        if status.provet_connected:
            self.provet_label.setText(f"{_dot(_GREEN)} Connected to {status.provet_url}")
        else:
            self.provet_label.setText(f"{_dot(_GREY)} Not connected — finish setup to connect Provet Cloud")
        if status.xero_connected:
            org = status.organisation or "your organisation"
            text = f"{_dot(_GREEN)} Connected to {org}"
            if status.xero_days_left is not None and status.xero_days_left < 7:
                text += f" — the sign-in ends in {max(0, int(status.xero_days_left))} days unless it syncs"
            self.xero_label.setText(text)
        else:
            self.xero_label.setText(f"{_dot(_GREY)} Signed out — sign in to Xero in setup")
        self.problem_label.setText(status.problem or "")
        self.problem_label.setVisible(bool(status.problem))
        self._show_last(status)
        self._show_books(status.books)
        self.history_label.setText(status.history_note or "")
        self._sync_form.setRowVisible(self._history_row, bool(status.history_note))
        self.tiles["sent_today"].set_value(f"{status.sent_today:,}")
        self.tiles["attention"].set_value(f"{status.attention:,}", _AMBER if status.attention else None)
        self.tiles["held_by_rule"].set_value(f"{status.held_by_rule:,}")
        self.tiles["conflicts"].set_value(f"{status.conflicts:,}", _AMBER if status.conflicts else None)
        left = status.xero_calls_left_today
        self.tiles["calls_left"].set_value("–" if left is None else f"{left:,}", _RED if left is not None and
                                           left < 500 else None)
        self.set_paused(status.paused)

    def _want_books(self) -> None:
        if self._books is not None:
            self.books_wanted.emit(self._books.start, self._books.end)

    def _show_books(self, books: DailyTieOut | None) -> None:
        self._books = books
        if books is None:
            self.books_label.setText(f"{_dot(_GREY)} Not compared yet — the app ties out the last week once a day, "
                                     "after a sync")
            return
        colour = {UNEXPLAINED: _RED, EXPLAINED: _AMBER}.get(books.status, _GREEN)
        self.books_label.setText(f"{_dot(colour)} {books.words()} — <a href=\"tieout\">show the days</a>")

    def _show_last(self, status: Status) -> None:
        last = status.last_sync
        if not last:
            self.last_sync_label.setText("Never")
            self.result_label.setText("No sync has run yet." if status.ready else
                                      "Finish setup (Provet, Xero and the mapping), then sync.")
            return
        self.last_sync_label.setText(when_words(_parse(last["at"])).capitalize())
        known = {f.name for f in fields(SyncResult)}
        result = SyncResult(**{k: v for k, v in last.items() if k in known})
        colour = _RED if result.stop_kind in ERROR_STOPS else _AMBER if result.stopped or result.attention_open \
            else _GREEN
        self.result_label.setText(f"{_dot(colour)} {summary_line(result)}")

    def show_failure(self, message: str) -> None:
        """A pass that could not start at all."""
        self.result_label.setText(f"{_dot(_RED)} Could not sync: {message}")

    def set_paused(self, paused: bool) -> None:
        self._paused = paused
        self.pause_button.setText("&Resume syncing" if paused else "&Pause syncing")
        self.pause_button.setAccessibleName("Resume syncing" if paused else "Pause syncing")
        if paused and not self._running:
            self.next_sync_label.setText("Paused — press Resume syncing to go on")

    def show_next_sync(self, when: datetime | None) -> None:
        if self._running:
            self.next_sync_label.setText("Syncing now…")
        elif when is None:
            self.next_sync_label.setText("Paused — press Resume syncing to go on" if self._paused
                                         else "Not scheduled")
        else:
            seconds = max(0, (when - datetime.now().astimezone()).total_seconds())
            soon = "in a moment" if seconds < 60 else f"in {round(seconds / 60)} min"
            self.next_sync_label.setText(f"{when_words(when).capitalize()} ({soon})")

    def show_running(self, running: bool) -> None:
        self._running = running
        self.sync_button.setEnabled(not running)
        self.sync_button.setText("Syncing…" if running else "&Sync now")
        self._progress_box.setVisible(running)
        if running:
            self._estimate.reset()
            self.progress_bar.setRange(0, 0)  # busy until the first progress event
            self.progress_label.setText("Starting…")
            self.next_sync_label.setText("Syncing now…")

    def show_progress(self, phase: str, done: int, total: int) -> None:
        if total <= 0:
            self.progress_bar.setRange(0, 0)
            self.progress_label.setText(phase.capitalize())
            return
        self.progress_bar.setRange(0, total)
        self.progress_bar.setValue(min(done, total))
        text = f"{phase.capitalize()}: {done:,} of {total:,}"
        left = self._estimate.update(phase, done, total)
        if left is not None and left >= 5:
            finish = (datetime.now().astimezone() + timedelta(seconds=left)).strftime("%H:%M")
            text += f" — {words_for_seconds(left)} left (done by about {finish})"
        self.progress_label.setText(text)
