"""Not a test: opens the setup window on a running sandbox in a throwaway profile, at one step, to look at it.

    /work/shared/tools/shot /tmp/setup.png 8 dbus-run-session -- bash -c \
      'eval "$(printf pass | gnome-keyring-daemon --unlock --components=secrets)"; \
       exec .venv/bin/python tests/ui/show_setup.py mapping'

Argument: welcome, provet (a refused secret), waiting (the Xero sign-in waits), org, mapping, done.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers.browser import consent
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from provet_xero_gui.app import onboarding
from provet_xero_gui.app.application import Application
from provet_xero_gui.profile import Profile
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID
from provet_xero_gui.sandbox.runner import Sandbox
from provet_xero_gui.ui.setup_wizard import SetupWizard


def main() -> int:
    where = sys.argv[1] if len(sys.argv) > 1 else "welcome"
    os.environ["PROVET_XERO_HOME"] = tempfile.mkdtemp(prefix="show-setup-")
    sandbox = Sandbox().start()
    os.environ.update(sandbox.env())
    c = sandbox.credentials
    app = QApplication(sys.argv[:1])
    profile = Profile.open()
    if where in ("waiting", "org", "mapping", "done"):
        onboarding.connect_provet(profile, c.provet_url, c.provet_client_id, c.provet_client_secret)
    if where in ("mapping", "done"):
        signed = onboarding.sign_in_to_xero(profile, onboarding.identity_for(profile), show_url=lambda *_: None,
                                       open_browser=lambda url: consent(url) is not None, should_cancel=lambda: False)
        assert signed.chosen is None
        onboarding.choose_organisation(profile, onboarding.identity_for(profile), CLINIC_TENANT_ID)
    if where == "done":
        sources = onboarding.read_mapping_sources(profile)
        from provet_xero_gui.mapping import suggest_mapping
        onboarding.save_mapping(profile, suggest_mapping(sources.reference, sources.vat_groups,
                                                    sources.payment_methods).mapping)

    def browser(url: str) -> bool:
        if where == "org":
            consent(url)
        return True

    wizard = SetupWizard(Application(Profile.open()), open_browser=browser)
    wizard.move(20, 20)
    wizard.show()

    def drive() -> None:
        if wizard.current_step is None:
            QTimer.singleShot(100, drive)
            return
        if where == "provet":
            wizard.next()
            wizard.provet_client_id.setText(c.provet_client_id)
            wizard.provet_secret.setText("wrong-secret")
            wizard.check_provet()
        elif where in ("waiting", "org"):
            wizard.start_sign_in()

    QTimer.singleShot(200, drive)
    code = app.exec()
    sandbox.stop()
    return code


if __name__ == "__main__":
    sys.exit(main())
