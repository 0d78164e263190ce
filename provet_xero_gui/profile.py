"""One profile's pieces (paths, settings, endpoints), opened from the environment by every entry point."""

from __future__ import annotations

from dataclasses import dataclass

from provet_xero_gui.credentials import Credentials
from provet_xero_gui.settings import AppPaths, Endpoints, Settings, SettingsFile
from provet_xero_gui.store import Store


@dataclass(frozen=True)
class Profile:
    """The pieces one command needs, opened from the environment."""

    paths: AppPaths
    settings_file: SettingsFile
    settings: Settings
    settings_problem: str | None
    endpoints: Endpoints

    @classmethod
    def open(cls) -> Profile:
        paths = AppPaths.from_env().ensure()
        settings_file = SettingsFile(paths.settings_file)
        loaded = settings_file.load()
        return cls(paths, settings_file, loaded.settings, loaded.problem, Endpoints.from_env())

    def credentials(self) -> Credentials:
        return Credentials(self.settings.profile_id, remembered_backend=self.settings.keyring_backend)

    def store(self) -> Store:
        """The local store; a damaged file is kept aside and a new store made (it rebuilds from Xero)."""
        return Store.open_or_set_aside(self.paths.store_file)

    def reload(self) -> Profile:
        """The same profile with the settings file read again (after a command changed it)."""
        return Profile(self.paths, self.settings_file, self.settings_file.load().settings, None, self.endpoints)
