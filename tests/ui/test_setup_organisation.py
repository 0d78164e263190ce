"""Choosing another organisation in the setup window asks the same question as the command line: start it
fresh, go on with it, or go back — nothing is sent to it until then, and no history is mixed (issue 16)."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from provet_xero_gui.app.application import Application
from provet_xero_gui.app.onboarding import Step
from provet_xero_gui.app.organisation import organisations
from provet_xero_gui.app.passes import run_sync
from provet_xero_gui.profile import Profile
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID, GROUP_TENANT_ID
from provet_xero_gui.ui.setup_wizard import SetupWizard

WAIT = 30_000


class AnswerTheQuestion:
    """Clicks the button starting with `answer` on the organisation question when it shows; records its text."""

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.text = ""
        self.timer = QTimer()
        self.timer.timeout.connect(self._look)
        self.timer.start(20)

    def _look(self) -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox) and box.objectName() == "organisation_question":
            self.text = box.text()
            button = next(b for b in box.buttons() if b.text().startswith(self.answer))
            self.timer.stop()
            button.click()


def _pick(qtbot, wizard: SetupWizard, tenant_id: str) -> None:
    wizard.go_to(Step.ORGANISATION)
    qtbot.waitUntil(lambda: len(wizard.tenant_model.tenants()) == 2, timeout=WAIT)
    wizard.choose_tenant(tenant_id)  # the person's click on the organisation
    qtbot.waitUntil(wizard.next_button.isEnabled, timeout=WAIT)
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)


def _active() -> tuple[str | None, str | None, int]:
    b = next(b for b in organisations(Profile.open()) if b.active)
    return b.xero_tenant_id, b.start_date, b.linked


def test_choosing_another_organisation_in_setup_asks_and_keeps_each_history(qtbot, make_connected) -> None:
    _sandbox, profile = make_connected(12)
    assert run_sync(profile).stopped is None
    clinic_links = _active()[2]
    assert _active()[0] == CLINIC_TENANT_ID and clinic_links > 0

    wizard = SetupWizard(Application(Profile.open()), open_browser=lambda _url: True, sign_in_timeout=30)
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.waitUntil(lambda: wizard.current_step is not None, timeout=WAIT)

    start_fresh = AnswerTheQuestion("Start Happy Paws Group (test) fresh from")
    _pick(qtbot, wizard, GROUP_TENANT_ID)
    qtbot.waitUntil(lambda: _active()[0] == GROUP_TENANT_ID and wizard.current_step is Step.MAPPING, timeout=WAIT)
    assert "belongs to 'Happy Paws Veterinary Ltd'" in start_fresh.text
    assert _active() == (GROUP_TENANT_ID, date.today().isoformat(), 0)
    assert Profile.open().settings.xero.tenant_id == GROUP_TENANT_ID
    kept = {b.xero_tenant_id: b.linked for b in organisations(Profile.open())}
    assert kept == {CLINIC_TENANT_ID: clinic_links, GROUP_TENANT_ID: 0}
    qtbot.waitUntil(lambda: wizard.mapping_busy_text.text() == "", timeout=WAIT)  # the group's lists are read

    # Back to the clinic's organisation: it has its own history, so the window offers to go on with it.
    go_on = AnswerTheQuestion("Go on with Happy Paws Veterinary Ltd")
    _pick(qtbot, wizard, CLINIC_TENANT_ID)
    qtbot.waitUntil(lambda: _active()[0] == CLINIC_TENANT_ID and wizard.current_step is Step.MAPPING, timeout=WAIT)
    assert "has its own history here" in go_on.text
    assert _active() == (CLINIC_TENANT_ID, None, clinic_links)
    assert Profile.open().settings.xero.tenant_id == CLINIC_TENANT_ID
    qtbot.waitUntil(lambda: wizard.mapping_busy_text.text() == "", timeout=WAIT)
