"""First-run setup: connect Provet Cloud, sign in to Xero, choose the organisation, map, done.

A dialog with the steps listed on the left and one page per step on the right. It can be closed at any
point and opened again: on open it reads what the profile already has (on a worker thread: the keyring may
be slow) and starts at the first step not done; a step that is done says so and offers "Change". Every
network step runs through `provet_xero_gui.app.onboarding` on a worker thread and reports back by signal; a failure is
shown on its page in plain words and the page stays, so the person can correct and try again.
"""

from __future__ import annotations

import html
import logging
import threading
import webbrowser
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from provet_xero_gui.app.application import Application
from provet_xero_gui.app.errors import SignInCancelled
from provet_xero_gui.app.mapping import MappingError, parse_mapping_text, read_mapping_file, suggest_mapping
from provet_xero_gui.app.onboarding import SIGN_IN_TIMEOUT_SECONDS, plain_message
from provet_xero_gui.app.types import (
    Mapping,
    MappingProblem,
    MappingSources,
    OrganisationQuestion,
    ProvetCheck,
    SetupState,
    Step,
    Tenant,
    XeroSignIn,
)
from provet_xero_gui.ui.background import Background

log = logging.getLogger(__name__)

STEP_TITLES = {
    Step.WELCOME: "Welcome",
    Step.PROVET: "Connect Provet Cloud",
    Step.XERO: "Sign in to Xero",
    Step.ORGANISATION: "Choose the organisation",
    Step.MAPPING: "Map onto Xero",
    Step.DONE: "Done",
}
DEFAULT_SIZE = (1180, 700)  # fits a 1366×768 practice screen with the taskbar
ERROR_STYLE = "color: #a61b1b;"
OK_STYLE = "color: #1d6b3a;"
NOTE_STYLE = "color: #444;"
DONE_BOX_STYLE = "QFrame#doneBox { background: #eef7f0; border: 1px solid #b5d9bf; border-radius: 4px; }"


# --- models ---------------------------------------------------------------------------------------------------


class SetupStepsModel(QAbstractListModel):
    """The steps with their state (done, current, to do), for the list on the left."""

    StepRole = Qt.ItemDataRole.UserRole + 1
    DoneRole = Qt.ItemDataRole.UserRole + 2

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = SetupState()
        self._current = Step.WELCOME
        self._reachable: set[Step] = {Step.WELCOME}

    def set_state(self, state: SetupState, current: Step, reachable: set[Step]) -> None:
        self._state, self._current, self._reachable = state, current, set(reachable)
        self.dataChanged.emit(self.index(0), self.index(len(Step) - 1))

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Step)

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        step = Step(index.row())
        base = Qt.ItemFlag.ItemIsSelectable
        return base | Qt.ItemFlag.ItemIsEnabled if step in self._reachable else base

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        step = Step(index.row())
        done = self._state.done(step) and step is not Step.WELCOME
        if role == Qt.ItemDataRole.DisplayRole:
            mark = "✓" if done else "→" if step is self._current else "  "
            return f"{mark}  {STEP_TITLES[step]}"
        if role == Qt.ItemDataRole.AccessibleTextRole:
            words = "done" if done else "current step" if step is self._current else "to do"
            return f"{STEP_TITLES[step]}, {words}"
        if role == Qt.ItemDataRole.FontRole and step is self._current:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and done and step is not self._current:
            return Qt.GlobalColor.darkGreen
        if role == self.StepRole:
            return step
        if role == self.DoneRole:
            return done
        return None


class TenantListModel(QAbstractListModel):
    """The Xero organisations the sign-in connected."""

    TenantIdRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tenants: list[Tenant] = []

    def set_tenants(self, tenants: Sequence[Tenant]) -> None:
        self.beginResetModel()
        self._tenants = sorted(tenants, key=lambda t: t.name.casefold())
        self.endResetModel()

    def tenants(self) -> list[Tenant]:
        return list(self._tenants)

    def row_of(self, tenant_id: str | None) -> int:
        return next((i for i, t in enumerate(self._tenants) if t.tenant_id == tenant_id), -1)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._tenants)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        t = self._tenants[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return t.name
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{t.name} (Xero organisation {t.tenant_id})"
        if role == self.TenantIdRole:
            return t.tenant_id
        return None


# --- small widgets ----------------------------------------------------------------------------------------------


def _label(text: str = "", *, style: str = "", name: str = "", rich: bool = False) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
    if style:
        label.setStyleSheet(style)
    if name:
        label.setAccessibleName(name)
    return label


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 1.35)
    font.setBold(True)
    label.setFont(font)
    label.setAccessibleName(text)
    return label


def _busy(name: str) -> QProgressBar:
    bar = QProgressBar()
    bar.setRange(0, 0)
    bar.setTextVisible(False)
    bar.setMaximumHeight(12)
    bar.setMaximumWidth(260)
    bar.setAccessibleName(name)
    bar.hide()
    return bar


class _Message(QLabel):
    """A page's one line of news: an error in red, good news in green, a note in grey."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setAccessibleName(name)
        self.hide()

    def error(self, text: str) -> None:
        self._show(text, ERROR_STYLE)

    def ok(self, text: str) -> None:
        self._show(text, OK_STYLE)

    def note(self, text: str) -> None:
        self._show(text, NOTE_STYLE)

    def clear_message(self) -> None:
        self.setText("")
        self.hide()

    def _show(self, text: str, style: str) -> None:
        self.setText(text)
        self.setStyleSheet(style)
        self.setAccessibleDescription(text)
        self.setVisible(bool(text))


class _DoneBox(QFrame):
    """"✓ This step is done" with a Change button."""

    def __init__(self, button_text: str, button_name: str) -> None:
        super().__init__()
        self.setObjectName("doneBox")
        self.setStyleSheet(DONE_BOX_STYLE)
        self.text = _label(name="What is already set up")
        self.change_button = QPushButton(button_text)
        self.change_button.setAccessibleName(button_name)
        layout = QHBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.change_button, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def say(self, text: str) -> None:
        self.text.setText("✓  " + text)
        self.setAccessibleDescription(text)


class _Page(QWidget):
    def __init__(self, title: str) -> None:
        super().__init__()
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(18, 12, 18, 12)
        self.layout_.addWidget(_heading(title))

    def add(self, widget: QWidget, stretch: int = 0) -> QWidget:
        self.layout_.addWidget(widget, stretch)
        return widget


class _SimpleMappingPanel(QWidget):
    """Stands in for the mapping editor when that is not part of the build: suggest, or import a file."""

    mapping_changed = Signal(object)
    save_requested = Signal(object)
    check_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._mapping = Mapping()
        self._sources: tuple[Any, ...] | None = None
        self.summary = _label(name="The mapping so far")
        self.suggest_button = QPushButton("&Suggest a mapping")
        self.suggest_button.setAccessibleName("Suggest a mapping from Xero's tax rates and accounts")
        self.suggest_button.clicked.connect(self.suggest)
        self.import_button = QPushButton("&Import a mapping file…")
        self.import_button.setAccessibleName("Import a mapping file")
        self.import_button.clicked.connect(self._import_clicked)
        self.message = _Message("Result of the last suggestion or import")
        buttons = QHBoxLayout()
        buttons.addWidget(self.suggest_button)
        buttons.addWidget(self.import_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addStretch(1)
        self._show_summary()

    def set_sources(self, vat_groups: Sequence[Any], payment_methods: Sequence[Any], account_numbers: Sequence[str],
                    xero: Any, in_use: Any, departments: Sequence[Any] = ()) -> None:
        self._sources = (vat_groups, payment_methods, account_numbers, xero, departments)

    def set_mapping(self, mapping: Mapping) -> None:
        self._mapping = mapping
        self._show_summary()

    def mapping(self) -> Mapping:
        return self._mapping

    def show_problems(self, problems: Sequence[MappingProblem]) -> None:
        if problems:
            self.message.error("\n".join(f"⚠ {p.message} Fix: {p.fix}" for p in problems))

    def focus_where(self, where: str) -> None:
        pass

    def suggest(self) -> None:
        if self._sources is None:
            self.message.error("Xero's tax rates and accounts have not been read yet.")
            return
        groups, methods, numbers, xero, departments = self._sources
        suggestion = suggest_mapping(xero, groups, methods, account_numbers=numbers, base=self._mapping,
                                     departments=departments)
        self.set_mapping(suggestion.mapping)
        self.message.note(" ".join(("Suggestions filled in.", *suggestion.notes)))
        self.mapping_changed.emit(self._mapping)

    def import_file(self, path: str) -> bool:
        try:
            mapping = parse_mapping_text(read_mapping_file(path), path)  # a device or a pipe is refused
        except (OSError, UnicodeDecodeError, MappingError) as exc:
            self.message.error(f"Nothing was imported: {exc}.")
            return False
        self.set_mapping(mapping)
        self.message.ok("Imported.")
        self.mapping_changed.emit(mapping)
        return True

    def _import_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a mapping", "", "Mapping files (*.json);;All files (*)")
        if path:
            self.import_file(path)

    def _show_summary(self) -> None:
        m = self._mapping
        self.summary.setText(
            f"Mapped so far: {len(m.vat_groups)} VAT groups, {len(m.payment_methods)} payment methods, "
            f"default sales account {m.default_sales_account or 'not chosen'}, "
            f"rounding account {m.rounding_account or 'not chosen'}.")


def _make_mapping_editor() -> QWidget:
    """The mapping helper's editor when it is part of the build, else the simple panel."""
    try:
        from provet_xero_gui.ui.mapping_editor import MappingEditor
    except ImportError:
        log.info("the mapping editor is not available; the setup offers suggest and import instead")
        return _SimpleMappingPanel()
    return MappingEditor()


# --- the wizard -------------------------------------------------------------------------------------------------


class SetupWizard(QDialog):
    """The first-run setup; resumable. Collaborators come in, nothing is looked up globally.

    `app` carries out each step (its endpoints point at the sandbox in tests); `open_browser(url)` opens the Xero
    sign-in page and is called on a worker thread.
    """

    setup_changed = Signal()  # something was saved (a connection, the organisation, the mapping)
    state_read = Signal(object)  # the SetupState read at open (and after each step)

    def __init__(
        self,
        app: Application,
        *,
        open_browser: Callable[[str], bool] | None = webbrowser.open,
        sign_in_timeout: float = SIGN_IN_TIMEOUT_SECONDS,
        editor_factory: Callable[[], QWidget] = _make_mapping_editor,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._app = app
        self._open_browser = open_browser
        self._sign_in_timeout = sign_in_timeout
        self._state = SetupState()
        self._loaded = False
        self._current = Step.WELCOME
        self._cancel_sign_in = threading.Event()
        self._signing_in = False
        self._sign_in_url = ""
        self._tenants_loaded = False
        self._sources: MappingSources | None = None
        self._mapping_dirty = False
        self._busy_steps: set[Step] = set()
        self._background = Background(self)

        self.setWindowTitle("Set up provet-xero")
        self.setAccessibleName("Set up provet-xero")
        self.resize(*DEFAULT_SIZE)
        self.setMinimumSize(760, 520)

        self.steps_model = SetupStepsModel(self)
        self.step_list = QListView()
        self.step_list.setModel(self.steps_model)
        self.step_list.setAccessibleName("Setup steps")
        self.step_list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.step_list.setFixedWidth(210)
        self.step_list.setSpacing(3)
        self.step_list.clicked.connect(self._step_clicked)
        self.step_list.activated.connect(self._step_clicked)

        self.pages = QStackedWidget()
        self._build_loading()
        self._build_welcome()
        self._build_provet()
        self._build_xero()
        self._build_organisation()
        self._build_mapping(editor_factory)
        self._build_done()

        self.close_button = QPushButton("&Close")
        self.close_button.setAccessibleName("Close setup; what is done is kept and setup continues here next time")
        self.close_button.setToolTip("What is done is kept; setup continues where you left it next time.")
        self.close_button.clicked.connect(self.reject)
        self.back_button = QPushButton("< &Back")
        self.back_button.setAccessibleName("Back to the previous step")
        self.back_button.clicked.connect(self.back)
        self.next_button = QPushButton("&Next >")
        self.next_button.setAccessibleName("Next step")
        self.next_button.setDefault(True)
        self.next_button.clicked.connect(self.next)
        buttons = QHBoxLayout()
        buttons.addWidget(self.close_button)
        buttons.addStretch(1)
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.next_button)

        right = QVBoxLayout()
        right.addWidget(self.pages, 1)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        right.addWidget(line)
        right.addLayout(buttons)
        layout = QHBoxLayout(self)
        layout.addWidget(self.step_list)
        layout.addLayout(right, 1)

        self.pages.setCurrentWidget(self.loading_page)
        self._update_buttons()
        self.reload_state()

    # --- pages ------------------------------------------------------------------------------------------------
    def _build_loading(self) -> None:
        page = _Page("Set up provet-xero")
        self.loading_text = page.add(_label("Looking at what is already set up…", name="Setup status"))
        page.add(_busy("Reading the settings")).show()
        self.loading_error = page.add(_Message("Why setup could not read the settings"))
        page.layout_.addStretch(1)
        self.loading_page = page
        self.pages.addWidget(page)

    def _build_welcome(self) -> None:
        page = _Page("Set up provet-xero")
        page.add(_label(
            "<p>provet-xero keeps the clinic's Xero books in step with Provet Cloud. Setup takes four steps:</p>"
            "<ol><li><b>Connect Provet Cloud</b> — you need the address of the clinic's Provet instance and the "
            "client id and secret of an API integration (in Provet: Settings → Integrations).</li>"
            "<li><b>Sign in to Xero</b> in your browser and allow provet-xero access.</li>"
            "<li><b>Choose the Xero organisation</b> that keeps this clinic's books.</li>"
            "<li><b>Map</b> Provet's VAT groups and payment methods onto Xero's tax rates and accounts.</li></ol>"
            "<p>You can close this window at any time: what is done is kept, and setup continues where you left "
            "it. Secrets are kept in the system keyring, never in a file.</p>",
            rich=True, name="What setup does"))
        page.layout_.addStretch(1)
        self.welcome_page = page
        self.pages.addWidget(page)

    def _build_provet(self) -> None:
        page = _Page(STEP_TITLES[Step.PROVET])
        self.provet_done = page.add(_DoneBox("C&hange…", "Change the Provet connection"))
        self.provet_done.change_button.clicked.connect(self._change_provet)
        assert isinstance(self.provet_done, _DoneBox)
        self.provet_form = QWidget()
        form = QFormLayout(self.provet_form)
        form.setContentsMargins(0, 6, 0, 0)
        intro = _label("In Provet Cloud, open Settings → Integrations and create (or open) the API integration for "
                       "provet-xero. Copy its client id and client secret here.", style=NOTE_STYLE)
        form.addRow(intro)
        self.provet_url = QLineEdit()
        self.provet_url.setPlaceholderText("https://provetcloud.com/1234/")
        self.provet_url.setAccessibleName("Provet Cloud address")
        self.provet_client_id = QLineEdit()
        self.provet_client_id.setAccessibleName("Provet client id")
        self.provet_secret = QLineEdit()
        self.provet_secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.provet_secret.setAccessibleName("Provet client secret")
        self.provet_secret.setToolTip("Kept in the system keyring; never shown or written to a file.")
        for text, field in (("Provet Cloud &address:", self.provet_url), ("Client &id:", self.provet_client_id),
                            ("Client &secret:", self.provet_secret)):
            label = QLabel(text)
            label.setBuddy(field)
            form.addRow(label, field)
        self.provet_check_button = QPushButton("Chec&k and save")
        self.provet_check_button.setAccessibleName("Check the Provet credentials and save them")
        self.provet_check_button.clicked.connect(self.check_provet)
        for field in (self.provet_url, self.provet_client_id, self.provet_secret):
            field.returnPressed.connect(self.check_provet)
        self.provet_busy = _busy("Checking with Provet")
        row = QHBoxLayout()
        row.addWidget(self.provet_check_button)
        row.addWidget(self.provet_busy)
        row.addStretch(1)
        form.addRow("", row)
        page.add(self.provet_form)
        self.provet_message = page.add(_Message("Result of the Provet check"))
        page.layout_.addStretch(1)
        self.provet_page = page
        self.pages.addWidget(page)

    def _build_xero(self) -> None:
        page = _Page(STEP_TITLES[Step.XERO])
        self.xero_done = page.add(_DoneBox("Sign in &again…", "Sign in to Xero again"))
        assert isinstance(self.xero_done, _DoneBox)
        self.xero_done.change_button.clicked.connect(self._change_xero)
        self.xero_intro = page.add(_label(
            "Your browser opens Xero's sign-in page. Sign in, tick the organisation that keeps the clinic's books, "
            "and choose Allow. provet-xero never sees your Xero password; it keeps only Xero's permission, in the "
            "system keyring.", style=NOTE_STYLE))
        self.sign_in_button = QPushButton("&Sign in to Xero")
        self.sign_in_button.setAccessibleName("Sign in to Xero in the browser")
        self.sign_in_button.clicked.connect(self.start_sign_in)
        row = QHBoxLayout()
        row.addWidget(self.sign_in_button)
        row.addStretch(1)
        page.layout_.addLayout(row)

        self.waiting_box = QFrame()
        self.waiting_box.setFrameShape(QFrame.Shape.StyledPanel)
        wl = QVBoxLayout(self.waiting_box)
        top = QHBoxLayout()
        self.waiting_text = _label("Waiting for you to allow access in the browser…", name="Xero sign-in state")
        top.addWidget(self.waiting_text, 1)
        self.waiting_busy = _busy("Waiting for Xero")
        self.waiting_busy.show()
        top.addWidget(self.waiting_busy)
        wl.addLayout(top)
        self.sign_in_link = _label(rich=True, name="The Xero sign-in address")
        self.sign_in_link.setOpenExternalLinks(True)
        self.sign_in_link.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        wl.addWidget(self.sign_in_link)
        links = QHBoxLayout()
        self.copy_button = QPushButton("Cop&y address")
        self.copy_button.setAccessibleName("Copy the Xero sign-in address")
        self.copy_button.clicked.connect(self._copy_sign_in_url)
        self.cancel_sign_in_button = QPushButton("&Cancel sign-in")
        self.cancel_sign_in_button.setAccessibleName("Cancel the Xero sign-in")
        self.cancel_sign_in_button.clicked.connect(self.cancel_sign_in)
        links.addWidget(self.copy_button)
        links.addStretch(1)
        links.addWidget(self.cancel_sign_in_button)
        wl.addLayout(links)
        self.waiting_box.hide()
        page.add(self.waiting_box)
        self.xero_message = page.add(_Message("Result of the Xero sign-in"))
        page.layout_.addStretch(1)
        self.xero_page = page
        self.pages.addWidget(page)

    def _build_organisation(self) -> None:
        page = _Page(STEP_TITLES[Step.ORGANISATION])
        self.org_text = page.add(_label(name="About the organisations"))
        self.tenant_model = TenantListModel(self)
        self.tenant_list = QListView()
        self.tenant_list.setModel(self.tenant_model)
        self.tenant_list.setAccessibleName("Xero organisations")
        self.tenant_list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tenant_list.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.tenant_list.setMaximumHeight(220)
        self.tenant_list.setSpacing(2)
        self.tenant_list.selectionModel().selectionChanged.connect(self._tenant_selection_changed)
        self.tenant_list.doubleClicked.connect(lambda _i: self.next())
        page.add(self.tenant_list)
        self.org_busy = page.add(_busy("Reading the organisations from Xero"))
        self.org_message = page.add(_Message("Result of choosing the organisation"))
        self.org_reload = QPushButton("&Read the list again")
        self.org_reload.setAccessibleName("Read the list of organisations from Xero again")
        self.org_reload.clicked.connect(self._load_tenants)
        self.org_reload.hide()
        page.add(self.org_reload)
        page.layout_.addStretch(1)
        self.organisation_page = page
        self.pages.addWidget(page)

    def _build_mapping(self, editor_factory: Callable[[], QWidget]) -> None:
        page = _Page(STEP_TITLES[Step.MAPPING])
        self.mapping_done = page.add(_DoneBox("", ""))
        assert isinstance(self.mapping_done, _DoneBox)
        self.mapping_done.change_button.hide()
        page.add(_label("Tell provet-xero which Xero tax rate each Provet VAT group goes to, and which Xero account "
                        "each payment method is paid into. Suggestions are filled in where Xero's names make it "
                        "clear; check each row.", style=NOTE_STYLE))
        top = QHBoxLayout()
        self.mapping_busy = _busy("Reading from Provet and Xero")
        self.mapping_busy_text = _label("", style=NOTE_STYLE)
        self.mapping_busy_text.hide()
        top.addWidget(self.mapping_busy)
        top.addWidget(self.mapping_busy_text, 1)
        page.layout_.addLayout(top)
        self.mapping_message = page.add(_Message("Result of reading or saving the mapping"))
        self.mapping_retry = QPushButton("&Read again")
        self.mapping_retry.setAccessibleName("Read VAT groups, payment methods, tax rates and accounts again")
        self.mapping_retry.clicked.connect(self._load_mapping_sources)
        self.mapping_retry.hide()
        page.add(self.mapping_retry)
        self.editor: Any = editor_factory()
        self.editor.setEnabled(False)
        page.add(self.editor, 1)
        self.editor.mapping_changed.connect(self._mapping_edited)
        self.editor.save_requested.connect(self._save_mapping_clicked)
        self.editor.check_requested.connect(self._check_mapping)
        page.layout_.setContentsMargins(12, 8, 12, 4)
        self.mapping_page = page
        self.pages.addWidget(page)

    def _build_done(self) -> None:
        page = _Page("provet-xero is set up")
        self.done_text = page.add(_label(rich=True, name="What is set up"))
        page.layout_.addStretch(1)
        self.done_page = page
        self.pages.addWidget(page)

    def _page_of(self, step: Step) -> QWidget:
        return {Step.WELCOME: self.welcome_page, Step.PROVET: self.provet_page, Step.XERO: self.xero_page,
                Step.ORGANISATION: self.organisation_page, Step.MAPPING: self.mapping_page,
                Step.DONE: self.done_page}[step]

    # --- state and navigation ---------------------------------------------------------------------------------
    @property
    def state(self) -> SetupState:
        return self._state

    @property
    def current_step(self) -> Step | None:
        """None while the saved state is still being read."""
        return self._current if self._loaded else None

    def reload_state(self) -> None:
        """Read what the profile has (worker thread), then open the first step not done."""
        def failed(exc: BaseException) -> None:
            self.loading_text.setText("Setup could not read what is already set up.")
            self.loading_error.error(plain_message(exc))

        self._background.run(
            self._app.setup_state, on_done=self._state_arrived, on_failed=failed
        )

    def _state_arrived(self, state: SetupState) -> None:
        first_time = not self._loaded
        self._state = state
        self._loaded = True
        self.state_read.emit(state)
        if first_time:
            self.provet_url.setText(state.provet_url or self._app.suggested_provet_url())
            self.provet_client_id.setText(state.provet_client_id or "")
            self.go_to(state.first_missing())
            if state.problem:
                self.provet_message.error(state.problem)
        else:
            self._refresh_page()

    def reachable(self) -> set[Step]:
        """Steps that can be opened: those done, and the first one not done (and the ones before it)."""
        first = max(self._state.first_missing(), Step.PROVET)
        return {s for s in Step if s <= first or self._state.done(s)} | {self._current}

    def go_to(self, step: Step) -> None:
        if self._signing_in and step is not Step.XERO:
            return  # the sign-in waits on the Xero page; Cancel first
        self._current = step
        self.pages.setCurrentWidget(self._page_of(step))
        self._refresh_page()
        if step is Step.ORGANISATION and self._tenants_loaded:
            self._show_tenants()
        elif step is Step.ORGANISATION and self._state.xero_signed_in:
            self._load_tenants()
        if step is Step.MAPPING and self._sources is None and Step.MAPPING not in self._busy_steps:
            self._load_mapping_sources()
        focus = {Step.PROVET: self.provet_url if self.provet_form.isVisible() else self.next_button,
                 Step.XERO: self.sign_in_button, Step.ORGANISATION: self.tenant_list}.get(step, self.next_button)
        if focus.isEnabled() and focus.isVisible():
            focus.setFocus()

    def next(self) -> None:
        step = self._current
        if not self._loaded or not self.next_button.isEnabled():
            return
        if step is Step.ORGANISATION and self._selected_tenant_id() not in (None, self._state.tenant_id):
            self._choose_tenant(self._selected_tenant_id(), then_next=True)
            return
        if step is Step.MAPPING and (self._mapping_dirty or not self._state.mapping_saved):
            self._save_mapping(self.editor.mapping(), then_next=True)
            return
        if step is Step.DONE:
            self.accept()
            return
        self.go_to(max(Step.PROVET, self._state.first_missing()) if step is Step.WELCOME else Step(step + 1))

    def back(self) -> None:
        if self._loaded and self._current > Step.WELCOME:
            self.go_to(Step(self._current - 1))

    def _step_clicked(self, index: QModelIndex) -> None:
        step = Step(index.row())
        if step in self.reachable():
            self.go_to(step)

    def _set_state(self, **changes: Any) -> None:
        self._state = replace(self._state, **changes)
        self.setup_changed.emit()
        self._refresh_page()

    def _refresh_page(self) -> None:
        s = self._state
        self.steps_model.set_state(s, self._current, self.reachable() if self._loaded else set())
        self.step_list.setCurrentIndex(self.steps_model.index(int(self._current)))
        if self._current is Step.PROVET:
            done = s.provet_connected and not self.provet_form.property("changing")
            self.provet_done.say(f"Connected to Provet Cloud at {s.provet_url} with client id {s.provet_client_id}. "
                                 "The client secret is kept in the system keyring.")
            self.provet_done.setVisible(s.provet_connected)
            self.provet_form.setVisible(not done)
        elif self._current is Step.XERO:
            org = f" The organisation is {s.tenant_name}." if s.organisation_chosen else ""
            self.xero_done.say("Signed in to Xero; the permission is kept in the system keyring." + org)
            self.xero_done.setVisible(s.xero_signed_in and not self._signing_in)
            self.xero_done.change_button.setEnabled(not self._signing_in)
            self.sign_in_button.setVisible(not s.xero_signed_in and not self._signing_in)
            self.xero_intro.setVisible(not s.xero_signed_in or self._signing_in)
            self.waiting_box.setVisible(self._signing_in)
        elif self._current is Step.MAPPING:
            self.mapping_done.say("A mapping is saved. Change anything below and choose Save, or go on.")
            self.mapping_done.setVisible(s.mapping_saved and not self._mapping_dirty)
        elif self._current is Step.DONE:
            self._show_done()
        self._update_buttons()

    def _update_buttons(self) -> None:
        step, s = self._current, self._state
        busy = bool(self._busy_steps) or self._signing_in
        self.back_button.setEnabled(self._loaded and step > Step.WELCOME and not self._signing_in)
        ready = {
            Step.WELCOME: True,
            Step.PROVET: s.provet_connected,
            Step.XERO: s.xero_signed_in,
            Step.ORGANISATION: self._selected_tenant_id() is not None or s.organisation_chosen,
            Step.MAPPING: self._sources is not None or s.mapping_saved or self._mapping_dirty,
            Step.DONE: True,
        }[step]
        self.next_button.setEnabled(self._loaded and ready and not busy)
        text = {Step.WELCOME: "&Start >", Step.MAPPING: "&Save mapping and continue >",
                Step.DONE: "&Finish"}.get(step, "&Next >")
        if step is Step.MAPPING and s.mapping_saved and not self._mapping_dirty:
            text = "&Next >"
        self.next_button.setText(text)
        self.next_button.setAccessibleName(text.replace("&", "").rstrip(" >"))

    # --- Provet -----------------------------------------------------------------------------------------------
    def _change_provet(self) -> None:
        self.provet_form.setProperty("changing", True)
        self.provet_url.setText(self._state.provet_url or "")
        self.provet_client_id.setText(self._state.provet_client_id or "")
        self.provet_secret.clear()
        self.provet_message.clear_message()
        self._refresh_page()
        self.provet_secret.setFocus()

    def check_provet(self) -> None:
        if Step.PROVET in self._busy_steps:
            return
        url, client_id, secret = self.provet_url.text(), self.provet_client_id.text(), self.provet_secret.text()
        app = self._app
        self.provet_message.note("Checking with Provet Cloud…")
        self._set_busy(Step.PROVET, True)

        def work() -> ProvetCheck:
            return app.connect_provet(url, client_id, secret)

        self._background.run(work, on_done=self._provet_connected, on_failed=self._provet_failed)

    def _provet_connected(self, check: ProvetCheck) -> None:
        self._set_busy(Step.PROVET, False)
        self.provet_secret.clear()  # kept in the keyring now, not in the window
        self.provet_form.setProperty("changing", False)
        self.provet_message.ok(f"Connected: Provet Cloud answered and {check.vat_groups} VAT groups can be read.")
        self._sources = None  # a different instance has different VAT groups
        self._set_state(provet_url=check.instance_url, provet_client_id=self.provet_client_id.text().strip(),
                        provet_secret_stored=True)
        self.next_button.setFocus()

    def _provet_failed(self, exc: BaseException) -> None:
        self._set_busy(Step.PROVET, False)
        self.provet_message.error(plain_message(exc) + " Nothing was saved.")
        self.provet_secret.setFocus()
        self.provet_secret.selectAll()

    # --- Xero -------------------------------------------------------------------------------------------------
    def _change_xero(self) -> None:
        self.start_sign_in()

    def start_sign_in(self) -> None:
        if self._signing_in:
            return
        self._cancel_sign_in.clear()
        self._signing_in = True
        self._sign_in_url = ""
        self.sign_in_link.setText("Opening Xero's sign-in page in your browser…")
        self.copy_button.setEnabled(False)
        self.xero_message.clear_message()
        self._refresh_page()
        self.cancel_sign_in_button.setFocus()
        app, cancel = self._app, self._cancel_sign_in
        open_browser, timeout = self._open_browser, self._sign_in_timeout

        def work(report: Callable[[Any], None]) -> XeroSignIn:
            return app.xero_sign_in(
                show_url=lambda url, opened: report((url, opened)),
                open_browser=open_browser,
                should_cancel=cancel.is_set,
                timeout=timeout,
            )

        self._background.run(work, on_done=self._signed_in, on_failed=self._sign_in_failed,
                             on_progress=self._show_sign_in_url)

    def cancel_sign_in(self) -> None:
        """Thread-safe: only sets the flag the sign-in looks at every 0.2 s."""
        if self._signing_in:
            self._cancel_sign_in.set()
            self.waiting_text.setText("Cancelling the sign-in…")
            self.cancel_sign_in_button.setEnabled(False)

    def _show_sign_in_url(self, value: tuple[str, bool]) -> None:
        url, opened = value
        self._sign_in_url = url
        self.copy_button.setEnabled(True)
        where = "Your browser was opened at Xero's sign-in page." if opened else "No browser could be opened."
        self.sign_in_link.setText(
            f"{where} If it is not there, <a href=\"{html.escape(url, quote=True)}\">open Xero's sign-in page</a> "
            "or copy its address into a browser on this computer. Waiting up to "
            f"{max(1, int(self._sign_in_timeout // 60))} minutes.")

    def _copy_sign_in_url(self) -> None:
        if self._sign_in_url:
            clipboard = QGuiApplication.clipboard()
            clipboard.setText(self._sign_in_url)
            self.copy_button.setText("Copied")

    def _end_sign_in(self) -> None:
        self._signing_in = False
        self.waiting_text.setText("Waiting for you to allow access in the browser…")
        self.cancel_sign_in_button.setEnabled(True)
        self.copy_button.setText("Cop&y address")

    def _signed_in(self, result: XeroSignIn) -> None:
        self._end_sign_in()
        self.tenant_model.set_tenants(result.tenants)
        self._tenants_loaded = True
        chosen = result.chosen
        self.xero_message.ok("Signed in to Xero.")
        self._set_state(xero_signed_in=True, tenant_id=chosen.tenant_id if chosen else None,
                        tenant_name=chosen.name if chosen else None)
        self._sources = None  # another organisation has other tax rates
        self.go_to(Step.ORGANISATION)

    def _sign_in_failed(self, exc: BaseException) -> None:
        self._end_sign_in()
        if isinstance(exc, SignInCancelled):
            self.xero_message.note("The sign-in was cancelled; nothing was changed. Start it again when you are "
                                   "ready.")
        else:
            self.xero_message.error(plain_message(exc))
        self._refresh_page()
        if self.sign_in_button.isVisible():
            self.sign_in_button.setFocus()

    # --- organisation -----------------------------------------------------------------------------------------
    def _load_tenants(self) -> None:
        if Step.ORGANISATION in self._busy_steps:
            return
        app = self._app
        self._set_busy(Step.ORGANISATION, True)
        self.org_message.clear_message()
        self.org_reload.hide()

        def failed(exc: BaseException) -> None:
            self._set_busy(Step.ORGANISATION, False)
            self.org_message.error(plain_message(exc))
            self.org_reload.show()

        def done(tenants: tuple[Tenant, ...]) -> None:
            self._set_busy(Step.ORGANISATION, False)
            self.tenant_model.set_tenants(tenants)
            self._tenants_loaded = True
            self._show_tenants()

        self._background.run(
            app.xero_organisations, on_done=done, on_failed=failed
        )

    def _show_tenants(self) -> None:
        tenants = self.tenant_model.tenants()
        row = self.tenant_model.row_of(self._state.tenant_id)
        if row < 0 and len(tenants) == 1:
            row = 0
        if row >= 0:
            self.tenant_list.setCurrentIndex(self.tenant_model.index(row))
        if not tenants:
            self.org_text.setText("Xero connected no organisation. Sign in to Xero again and tick the clinic's "
                                  "organisation on Xero's page.")
        elif len(tenants) == 1:
            self.org_text.setText(f"Xero connected one organisation: {tenants[0].name}. provet-xero keeps it in "
                                  "step with Provet.")
        else:
            self.org_text.setText(f"Xero connected {len(tenants)} organisations. Choose the one that keeps this "
                                  "clinic's books; only that one is written to.")
        self._update_buttons()

    def _selected_tenant_id(self) -> str | None:
        index = self.tenant_list.currentIndex()
        if not index.isValid() or not self.tenant_list.selectionModel().isSelected(index):
            return None
        return index.data(TenantListModel.TenantIdRole)

    def _tenant_selection_changed(self, *_args: object) -> None:
        self.org_message.clear_message()
        self._update_buttons()

    def choose_tenant(self, tenant_id: str) -> None:
        """Select an organisation in the list (the person's click, or a test's)."""
        row = self.tenant_model.row_of(tenant_id)
        if row >= 0:
            self.tenant_list.setCurrentIndex(self.tenant_model.index(row))

    def _choose_tenant(self, tenant_id: str | None, *, then_next: bool) -> None:
        if tenant_id is None or Step.ORGANISATION in self._busy_steps:
            return
        app = self._app
        self._set_busy(Step.ORGANISATION, True)

        def done(answer: tuple[Tenant, OrganisationQuestion | None]) -> None:
            tenant, ask = answer
            self._set_busy(Step.ORGANISATION, False)
            self.org_message.ok(f"provet-xero keeps {tenant.name} in step with Provet.")
            if tenant.tenant_id != self._state.tenant_id:
                self._sources = None
            self._set_state(tenant_id=tenant.tenant_id, tenant_name=tenant.name)
            if ask is not None:
                self._ask_organisation(ask, then_next=then_next)
            elif then_next:
                self.go_to(Step.MAPPING)

        def failed(exc: BaseException) -> None:
            self._set_busy(Step.ORGANISATION, False)
            self.org_message.error(plain_message(exc))

        def work() -> tuple[Tenant, OrganisationQuestion | None]:
            tenant = app.choose_xero_organisation(tenant_id)
            return tenant, app.organisation_question()

        self._background.run(work, on_done=done, on_failed=failed)

    def _ask_organisation(self, ask: OrganisationQuestion, *, then_next: bool) -> None:
        """Another organisation than the one the kept history belongs to: start it fresh (from today), go on
        with it, or go back — or leave it, and nothing is sent until the choice is made."""
        start = date.today()
        box = QMessageBox(QMessageBox.Icon.Question, "Another Xero organisation", ask.text,
                          QMessageBox.StandardButton.NoButton, self)
        box.setObjectName("organisation_question")
        go = box.addButton(f"Go on with {ask.chosen}" if ask.known else
                           f"Start {ask.chosen} fresh from {start.isoformat()}", QMessageBox.ButtonRole.AcceptRole)
        back = box.addButton(f"Go back to {ask.kept}", QMessageBox.ButtonRole.RejectRole)
        box.addButton("Decide later", QMessageBox.ButtonRole.DestructiveRole)
        box.exec()
        if box.clickedButton() not in (go, back):
            self.org_message.error(f"Nothing is sent to {ask.chosen} until you choose here (or with "
                                   "`provet-xero organisation use`).")
            return
        going_on = box.clickedButton() is go
        wanted = ask.chosen_id if going_on else ask.kept_id
        fresh = start if going_on and not ask.known else None
        app = self._app
        self._set_busy(Step.ORGANISATION, True)

        def done(message: str) -> None:
            self._set_busy(Step.ORGANISATION, False)
            self.org_message.ok(message)
            if not going_on:
                self._set_state(tenant_id=ask.kept_id, tenant_name=ask.kept)
                self.choose_tenant(ask.kept_id)
            if then_next:
                self.go_to(Step.MAPPING)

        def failed(exc: BaseException) -> None:
            self._set_busy(Step.ORGANISATION, False)
            self.org_message.error(str(exc))

        self._background.run(lambda: app.use_organisation(wanted, fresh), on_done=done,
                             on_failed=failed)

    # --- mapping ----------------------------------------------------------------------------------------------
    def _load_mapping_sources(self) -> None:
        if Step.MAPPING in self._busy_steps:
            return
        app = self._app
        self._set_busy(Step.MAPPING, True)
        self.mapping_busy_text.setText("Reading VAT groups and payment methods from Provet, and tax rates and "
                                       "accounts from Xero…")
        self.mapping_message.clear_message()
        self.mapping_retry.hide()

        def failed(exc: BaseException) -> None:
            self._set_busy(Step.MAPPING, False)
            self.mapping_busy_text.setText("")
            self.mapping_message.error(plain_message(exc))
            self.mapping_retry.show()
            self._update_buttons()

        self._background.run(app.mapping_sources, on_done=self._sources_arrived,
                             on_failed=failed)

    def _sources_arrived(self, sources: MappingSources) -> None:
        self._set_busy(Step.MAPPING, False)
        self.mapping_busy_text.setText("")
        self._sources = sources
        self.editor.set_sources(sources.vat_groups, sources.payment_methods, sources.account_numbers,
                                sources.reference, sources.usage, departments=sources.departments)
        self.editor.setEnabled(True)
        if sources.saved is not None and not self._mapping_dirty:
            self.editor.set_mapping(sources.saved)
            self.editor.show_problems(self._app.check_against(sources, sources.saved))
        elif sources.saved is None and not self._mapping_dirty:
            self.editor.set_mapping(Mapping())
            self.editor.suggest()  # a first mapping to check, not a blank page
        self._refresh_page()

    def _mapping_edited(self, _mapping: Mapping) -> None:
        self._mapping_dirty = True
        self._refresh_page()

    def _check_mapping(self) -> None:
        """The editor's "Check with Xero": read both sides again, then check the mapping being edited."""
        if Step.MAPPING in self._busy_steps:
            return
        app, mapping = self._app, self.editor.mapping()
        self._set_busy(Step.MAPPING, True)
        self.mapping_busy_text.setText("Checking the mapping against Xero as it is now…")

        def work() -> tuple[MappingSources, list[MappingProblem]]:
            sources = app.mapping_sources()
            return sources, app.check_against(sources, mapping)

        def done(value: tuple[MappingSources, list[MappingProblem]]) -> None:
            self._set_busy(Step.MAPPING, False)
            self.mapping_busy_text.setText("")
            self._sources, problems = value
            self.editor.show_problems(problems)
            if problems:
                self.mapping_message.error(f"{len(problems)} problem{'s' if len(problems) > 1 else ''} to fix; "
                                           "each is shown where it is mapped.")
            else:
                self.mapping_message.ok("Xero accepts this mapping.")

        def failed(exc: BaseException) -> None:
            self._set_busy(Step.MAPPING, False)
            self.mapping_busy_text.setText("")
            self.mapping_message.error(plain_message(exc))

        self._background.run(work, on_done=done, on_failed=failed)

    def _save_mapping_clicked(self, mapping: Mapping) -> None:
        self._save_mapping(mapping, then_next=False)

    def _save_mapping(self, mapping: Mapping, *, then_next: bool) -> None:
        if Step.MAPPING in self._busy_steps:
            return
        app = self._app
        self._set_busy(Step.MAPPING, True)

        def done(_none: None) -> None:
            self._set_busy(Step.MAPPING, False)
            self._mapping_dirty = False
            self.mapping_message.ok("The mapping is saved.")
            self._set_state(mapping_saved=True)
            if then_next:
                self.go_to(Step.DONE)

        def failed(exc: BaseException) -> None:
            self._set_busy(Step.MAPPING, False)
            self.mapping_message.error("The mapping was not saved: " + plain_message(exc))

        self._background.run(lambda: app.save_mapping(mapping), on_done=done, on_failed=failed)

    # --- done -------------------------------------------------------------------------------------------------
    def _show_done(self) -> None:
        s = self._state
        missing = [STEP_TITLES[step] for step in (Step.PROVET, Step.XERO, Step.ORGANISATION, Step.MAPPING)
                   if not s.done(step)]
        rows = [
            f"Provet Cloud: {html.escape(s.provet_url or 'not connected')}",
            f"Xero organisation: {html.escape(s.tenant_name or 'not chosen')}",
            f"Mapping: {'saved' if s.mapping_saved else 'not saved'}",
        ]
        tail = ("<p>Syncing starts when you choose Finish: new finalised invoices reach Xero within about a minute. "
                "Change any of this later from <b>Settings → Set up connections</b>.</p>") if not missing else (
            f"<p style='{ERROR_STYLE}'>Still to do: {html.escape(', '.join(missing))}. Choose a step on the "
            "left.</p>")
        self.done_text.setText("<ul>" + "".join(f"<li>{r}</li>" for r in rows) + "</ul>" + tail)

    # --- busy and closing -------------------------------------------------------------------------------------
    def _set_busy(self, step: Step, busy: bool) -> None:
        if busy:
            self._busy_steps.add(step)
        else:
            self._busy_steps.discard(step)
        self.provet_busy.setVisible(Step.PROVET in self._busy_steps)
        self.provet_check_button.setEnabled(Step.PROVET not in self._busy_steps)
        self.org_busy.setVisible(Step.ORGANISATION in self._busy_steps)
        self.mapping_busy.setVisible(Step.MAPPING in self._busy_steps)
        self.mapping_busy_text.setVisible(Step.MAPPING in self._busy_steps)
        self._update_buttons()

    def done(self, result: int) -> None:
        """Closing cancels a sign-in that waits (the listener's port is freed within a second)."""
        self._cancel_sign_in.set()
        super().done(result)
