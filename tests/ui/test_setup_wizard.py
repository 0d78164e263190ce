"""The setup window end to end against the sandbox: Provet, the Xero sign-in in a (played) browser, the
organisation, the mapping; plus a refused secret, a cancelled sign-in, and resuming where it was left."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers.browser import consent
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from provet_xero_gui.app import onboarding
from provet_xero_gui.app.application import Application
from provet_xero_gui.app.onboarding import Step
from provet_xero_gui.credentials import Credentials
from provet_xero_gui.mapping import MappingFile
from provet_xero_gui.profile import Profile
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID
from provet_xero_gui.sandbox.runner import Sandbox
from provet_xero_gui.ui.setup_wizard import SetupWizard

CLINIC = "Happy Paws Veterinary Ltd"
WAIT = 30_000


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    with Sandbox() as sb:
        for key, value in sb.env().items():
            monkeypatch.setenv(key, value)
        yield sb


def person_at_browser(url: str) -> bool:
    """Plays the person at Xero's consent page (both organisations ticked, Allow) over real HTTP."""
    answer = consent(url)
    assert answer.status_code == 200, answer.text[:300]
    return True


def open_wizard(qtbot, open_browser=person_at_browser, **kwargs) -> SetupWizard:
    wizard = SetupWizard(Application(Profile.open()), open_browser=open_browser, sign_in_timeout=30, **kwargs)
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.waitUntil(lambda: wizard.current_step is not None, timeout=WAIT)
    return wizard


def click(qtbot, button) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def fill_provet(qtbot, wizard: SetupWizard, sandbox: Sandbox, secret: str | None = None) -> None:
    c = sandbox.credentials
    wizard.provet_url.setText(c.provet_url)
    wizard.provet_client_id.clear()
    qtbot.keyClicks(wizard.provet_client_id, c.provet_client_id)
    wizard.provet_secret.clear()
    qtbot.keyClicks(wizard.provet_secret, secret if secret is not None else c.provet_client_secret)
    click(qtbot, wizard.provet_check_button)


def test_setup_end_to_end_against_the_sandbox(qtbot, sandbox: Sandbox) -> None:
    wizard = open_wizard(qtbot)
    assert wizard.current_step is Step.WELCOME
    assert wizard.provet_url.text() == sandbox.credentials.provet_url  # offered from the environment
    click(qtbot, wizard.next_button)
    assert wizard.current_step is Step.PROVET
    assert not wizard.next_button.isEnabled()

    fill_provet(qtbot, wizard, sandbox)
    qtbot.waitUntil(lambda: wizard.state.provet_connected, timeout=WAIT)
    assert "Connected" in wizard.provet_message.text()
    assert wizard.provet_secret.text() == ""  # not kept in the window
    assert wizard.provet_done.isVisible() and not wizard.provet_form.isVisible()
    click(qtbot, wizard.next_button)
    assert wizard.current_step is Step.XERO

    click(qtbot, wizard.sign_in_button)
    qtbot.waitUntil(lambda: wizard.current_step is Step.ORGANISATION, timeout=WAIT)
    names = [t.name for t in wizard.tenant_model.tenants()]
    assert len(names) == 2 and CLINIC in names  # two organisations: the person chooses
    assert not wizard.next_button.isEnabled()
    row = wizard.tenant_model.row_of(CLINIC_TENANT_ID)
    rect = wizard.tenant_list.visualRect(wizard.tenant_model.index(row))
    qtbot.mouseClick(wizard.tenant_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    click(qtbot, wizard.next_button)
    qtbot.waitUntil(lambda: wizard.current_step is Step.MAPPING, timeout=WAIT)
    assert Profile.open().settings.xero.tenant_name == CLINIC

    qtbot.waitUntil(lambda: wizard.editor.isEnabled(), timeout=WAIT)  # Provet's and Xero's lists are read
    suggested = wizard.editor.mapping()
    assert suggested.vat_groups and suggested.payment_methods  # suggested on arrival
    assert "Save" in wizard.next_button.text()
    click(qtbot, wizard.next_button)
    qtbot.waitUntil(lambda: wizard.current_step is Step.DONE, timeout=WAIT)
    assert CLINIC in wizard.done_text.text()
    click(qtbot, wizard.next_button)
    assert wizard.result() == QDialog.DialogCode.Accepted

    profile = Profile.open()
    s = profile.settings
    assert (s.xero.tenant_id, s.xero.tenant_name) == (CLINIC_TENANT_ID, CLINIC)
    assert s.provet.url == sandbox.credentials.provet_url
    assert s.provet.client_id == sandbox.credentials.provet_client_id
    creds = Credentials(s.profile_id)
    assert creds.load_provet_secret() == sandbox.credentials.provet_client_secret
    assert creds.load_xero_tokens() is not None
    assert MappingFile(profile.paths.mapping_file).load() == suggested
    assert onboarding.read_setup_state(profile).first_missing() is Step.DONE
    assert sandbox.credentials.provet_client_secret not in profile.paths.settings_file.read_text()


def test_a_wrong_secret_is_refused_on_the_page_and_nothing_is_saved(qtbot, sandbox: Sandbox) -> None:
    wizard = open_wizard(qtbot)
    click(qtbot, wizard.next_button)
    fill_provet(qtbot, wizard, sandbox, secret="not-the-secret")
    qtbot.waitUntil(lambda: wizard.provet_message.isVisible() and "refused" in wizard.provet_message.text(),
                    timeout=WAIT)
    assert "refused the client id or secret" in wizard.provet_message.text()
    assert "not-the-secret" not in wizard.provet_message.text()
    assert wizard.current_step is Step.PROVET and wizard.isVisible()
    assert not wizard.next_button.isEnabled()
    assert wizard.provet_form.isVisible()
    s = Profile.open().settings
    assert s.provet.url is None and Credentials(s.profile_id).load_provet_secret() is None


def test_cancel_while_waiting_for_the_browser_returns_to_a_clear_state(qtbot, sandbox: Sandbox) -> None:
    c = sandbox.credentials
    onboarding.connect_provet(Profile.open(), c.provet_url, c.provet_client_id, c.provet_client_secret)
    opened: list[str] = []
    wizard = open_wizard(qtbot, open_browser=lambda url: bool(opened.append(url)) or True)  # nobody answers
    assert wizard.current_step is Step.XERO  # resumes after the Provet step
    click(qtbot, wizard.sign_in_button)
    qtbot.waitUntil(lambda: wizard.copy_button.isEnabled(), timeout=WAIT)
    assert wizard.waiting_box.isVisible()
    assert "Waiting for you to allow access in the browser" in wizard.waiting_text.text()
    assert opened and opened[0] in wizard.sign_in_link.text().replace("&amp;", "&")
    assert not wizard.back_button.isEnabled() and not wizard.next_button.isEnabled()

    click(qtbot, wizard.cancel_sign_in_button)
    qtbot.waitUntil(lambda: not wizard.waiting_box.isVisible(), timeout=WAIT)
    assert "cancelled" in wizard.xero_message.text()
    assert wizard.sign_in_button.isVisible() and wizard.sign_in_button.isEnabled()
    assert wizard.current_step is Step.XERO and not wizard.state.xero_signed_in
    assert Profile.open().settings.xero.tenant_id is None


def test_leaving_after_provet_and_reopening_starts_at_the_xero_step(qtbot, sandbox: Sandbox) -> None:
    first = open_wizard(qtbot)
    click(qtbot, first.next_button)
    fill_provet(qtbot, first, sandbox)
    qtbot.waitUntil(lambda: first.state.provet_connected, timeout=WAIT)
    click(qtbot, first.close_button)
    assert first.result() == QDialog.DialogCode.Rejected

    again = open_wizard(qtbot)
    assert again.current_step is Step.XERO
    assert again.state.provet_connected and not again.state.xero_signed_in
    assert Step.PROVET in again.reachable() and Step.MAPPING not in again.reachable()
    click(qtbot, again.back_button)
    assert again.current_step is Step.PROVET
    assert again.provet_done.isVisible() and not again.provet_form.isVisible()
    assert sandbox.credentials.provet_url in again.provet_done.text.text()
    click(qtbot, again.provet_done.change_button)
    assert again.provet_form.isVisible() and again.provet_secret.text() == ""


def test_one_organisation_is_chosen_for_the_person(qtbot, sandbox: Sandbox) -> None:
    c = sandbox.credentials
    onboarding.connect_provet(Profile.open(), c.provet_url, c.provet_client_id, c.provet_client_secret)

    def only_the_clinic(url: str) -> bool:
        assert consent(url, tenants=[CLINIC_TENANT_ID]).status_code == 200
        return True

    wizard = open_wizard(qtbot, open_browser=only_the_clinic)
    click(qtbot, wizard.sign_in_button)
    qtbot.waitUntil(lambda: wizard.current_step is Step.ORGANISATION, timeout=WAIT)
    assert wizard.state.tenant_name == CLINIC
    assert wizard.tenant_list.currentIndex().row() == 0 and wizard.next_button.isEnabled()
    assert "one organisation" in wizard.org_text.text()
