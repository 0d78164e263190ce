"""The failures the adapters (the window, the command line) catch from the application layer."""

from __future__ import annotations

from provet_xero_gui.credentials import CredentialsError as CredentialsError  # the keyring cannot be used
from provet_xero_gui.private import plain_os_error as plain_os_error  # a file error in plain words
from provet_xero_gui.settings import SettingsError as SettingsError  # the settings file cannot be used
from provet_xero_gui.xero.oauth import SignInCancelled as SignInCancelled  # the person cancelled the sign-in


class AppError(Exception):
    """A use case could not be carried out; the message is a plain sentence for the person (the command line
    prints it and exits 2)."""
