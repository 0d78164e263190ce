"""Where provet-xero keeps its files, the settings file, and the service endpoints.

Everything of one profile lives under one folder when `PROVET_XERO_HOME` is set (the demo and the tests
use that for a throwaway profile); otherwise the platform's usual folders (platformdirs). The settings
file is versioned JSON written atomically; a damaged one is put aside as `.bad` with a plain message and
the app starts on defaults. Secrets never go here: they live in the OS keyring (credentials.py).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import platformdirs

from provet_xero_gui.oslock import exclusive
from provet_xero_gui.private import private_dir, tighten

log = logging.getLogger(__name__)

APP_NAME = "provet-xero"
SETTINGS_VERSION = 1

# The Xero app registration of provet-xero: the one place its client id is set. A desktop (PKCE) client
# has no secret. Empty until the production app is registered; PROVET_XERO_XERO_CLIENT_ID overrides it.
PRODUCTION_XERO_CLIENT_ID = ""

DEFAULT_XERO_API_URL = "https://api.xero.com"
DEFAULT_XERO_IDENTITY_URL = "https://identity.xero.com"
DEFAULT_XERO_LOGIN_URL = "https://login.xero.com"

CONFLICT_RULES = ("ask", "provet", "xero")

# The OAuth scopes the Xero sign-in asks for (settings: "xero_scopes"). Apps registered at Xero since 2 March
# 2026 must use the granular set; apps registered before it use accounting.transactions in place of
# accounting.invoices + accounting.payments, and Xero refuses the other set at sign-in (invalid_scope).
GRANULAR_XERO_SCOPES = (
    "openid profile email offline_access accounting.invoices accounting.payments accounting.contacts "
    "accounting.settings"
)
OLDER_XERO_SCOPES = (
    "openid profile email offline_access accounting.transactions accounting.contacts accounting.settings"
)
DEFAULT_XERO_SCOPES = GRANULAR_XERO_SCOPES


class SettingsError(Exception):
    """A settings file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class AppPaths:
    config_dir: Path
    data_dir: Path
    log_dir: Path

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.json"

    @property
    def mapping_file(self) -> Path:
        return self.config_dir / "mapping.json"

    @property
    def store_file(self) -> Path:
        return self.data_dir / "provet-xero.sqlite3"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "provet-xero.log"

    def ensure(self) -> AppPaths:
        """The folders, private to this user (0700, files 0600; see private.py), also when they already were
        there: a profile an older version made readable to others is tightened here, at every start."""
        for d in (self.config_dir, self.data_dir, self.log_dir):
            private_dir(d)
            tighten(d)
        return self

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AppPaths:
        env = os.environ if env is None else env
        home = env.get("PROVET_XERO_HOME")
        if home:
            root = Path(home).expanduser().resolve()
            return cls(root / "config", root / "data", root / "logs")
        return cls(
            Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
            Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
            Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
        )


@dataclass(frozen=True)
class Endpoints:
    """Service addresses; each can be overridden from the environment (the sandbox uses that)."""

    provet_url: str | None = None
    xero_api_url: str = DEFAULT_XERO_API_URL
    xero_identity_url: str = DEFAULT_XERO_IDENTITY_URL
    xero_login_url: str = DEFAULT_XERO_LOGIN_URL
    xero_client_id: str = PRODUCTION_XERO_CLIENT_ID

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Endpoints:
        env = os.environ if env is None else env

        def pick(name: str, default: str) -> str:
            return (env.get(name) or default).rstrip("/")

        provet = env.get("PROVET_XERO_PROVET_URL")
        return cls(
            provet_url=_with_slash(provet) if provet else None,
            xero_api_url=pick("PROVET_XERO_XERO_API_URL", DEFAULT_XERO_API_URL),
            xero_identity_url=pick("PROVET_XERO_XERO_IDENTITY_URL", DEFAULT_XERO_IDENTITY_URL),
            xero_login_url=pick("PROVET_XERO_XERO_LOGIN_URL", DEFAULT_XERO_LOGIN_URL),
            xero_client_id=env.get("PROVET_XERO_XERO_CLIENT_ID") or PRODUCTION_XERO_CLIENT_ID,
        )


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


@dataclass(frozen=True)
class ProvetSettings:
    url: str | None = None  # instance base, e.g. https://provetcloud.com/4321/
    client_id: str | None = None


@dataclass(frozen=True)
class XeroSettings:
    tenant_id: str | None = None
    tenant_name: str | None = None
    connected_at: str | None = None  # ISO 8601 UTC
    refresh_token_used_at: str | None = None  # ISO 8601 UTC; the token dies after 60 days unused


@dataclass(frozen=True)
class SyncSettings:
    provet_poll_seconds: int = 60
    xero_poll_seconds: int = 300
    conflict_rule: str = "ask"  # ask | provet | xero
    paused: bool = False


# Bounds a window value must be within to be believed (pixels); anything else is a damaged file.
_MAX_COORD = 100_000
_MAX_SIZE = 20_000
_MAX_TEXT = 20_000  # a base64 header state is a few hundred characters


@dataclass(frozen=True)
class WindowSettings:
    """How the main window was left: plain values only (ui/main_window.py turns them into Qt's).

    Read leniently (`from_json`): a damaged value is dropped and its default used, with a log line; a bad
    window section never sets the whole settings file aside. x/y/width/height are the window's inside
    (without the frame) in its normal, not maximised, state; all four or none.
    """

    x: int | None = None
    y: int | None = None
    width: int | None = None
    height: int | None = None
    maximized: bool = False
    tab: str | None = None  # "dashboard", "mapping", "attention", "conflicts", "tieout" or "log"
    splitters: dict[str, list[int]] = field(default_factory=dict)  # splitter name -> its parts' sizes
    log_header: str | None = None  # base64 of the log table's header state (column widths and order)
    log_newest_first: bool = True
    tray_hint_shown: bool = False  # "it keeps running in the tray" was said once; not again

    @property
    def geometry(self) -> tuple[int, int, int, int] | None:
        if self.x is None or self.y is None or self.width is None or self.height is None:
            return None
        return (self.x, self.y, self.width, self.height)

    @classmethod
    def from_json(cls, data: Any) -> WindowSettings:
        if not isinstance(data, dict):
            if data is not None:
                log.warning("settings: window should be an object; the window starts as new")
            return cls()
        kept: dict[str, Any] = {}
        dropped: list[str] = []

        def take(name: str, ok: bool) -> None:
            if name not in data:
                return
            if ok:
                kept[name] = data[name]
            else:
                dropped.append(name)

        coords = [data.get(k) for k in ("x", "y", "width", "height")]
        if any(v is not None for v in coords):
            x, y, w, h = coords
            if (all(_is_int(v) for v in coords) and abs(x) <= _MAX_COORD and abs(y) <= _MAX_COORD
                    and 0 < w <= _MAX_SIZE and 0 < h <= _MAX_SIZE):
                kept.update(x=x, y=y, width=w, height=h)
            else:
                dropped.append("x/y/width/height")
        for name in ("maximized", "log_newest_first", "tray_hint_shown"):
            take(name, isinstance(data.get(name), bool))
        for name in ("tab", "log_header"):
            value = data.get(name)
            take(name, value is None or (isinstance(value, str) and len(value) <= _MAX_TEXT))
        if "splitters" in data:
            splitters = data["splitters"]
            if isinstance(splitters, dict):
                good = {k: list(v) for k, v in splitters.items() if _splitter_sizes_ok(k, v)}
                if len(good) != len(splitters):
                    dropped.append("splitters (some)")
                kept["splitters"] = good
            else:
                dropped.append("splitters")
        if dropped:
            log.warning("settings: damaged window values ignored: %s", ", ".join(dropped))
        return cls(**kept)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _splitter_sizes_ok(name: Any, sizes: Any) -> bool:
    return (isinstance(name, str) and 0 < len(name) <= 100 and isinstance(sizes, list) and 2 <= len(sizes) <= 20
            and all(_is_int(v) and 0 <= v <= _MAX_SIZE for v in sizes))


@dataclass(frozen=True)
class Settings:
    """The settings file's content. `profile_id` namespaces this profile's keyring entries."""

    profile_id: str = ""
    keyring_backend: str | None = None  # the backend used before, remembered
    provet: ProvetSettings = field(default_factory=ProvetSettings)
    xero: XeroSettings = field(default_factory=XeroSettings)
    sync: SyncSettings = field(default_factory=SyncSettings)
    start_at_login: bool = False
    window: WindowSettings = field(default_factory=WindowSettings)
    xero_scopes: str = DEFAULT_XERO_SCOPES  # what the Xero sign-in asks for; see GRANULAR/OLDER_XERO_SCOPES

    def to_json(self) -> dict[str, Any]:
        return {"version": SETTINGS_VERSION, **asdict(self)}

    @classmethod
    def from_json(cls, data: Any) -> Settings:
        """Strict reading: raises SettingsError naming the first problem found."""
        if not isinstance(data, dict):
            raise SettingsError("the file does not hold a JSON object")
        version = data.get("version")
        if version != SETTINGS_VERSION:
            if isinstance(version, int) and version > SETTINGS_VERSION:
                raise SettingsError(f"it was written by a newer provet-xero (settings version {version})")
            raise SettingsError(f"unknown settings version {version!r}")
        sections = {"provet": ProvetSettings, "xero": XeroSettings, "sync": SyncSettings}
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            value = data[f.name]
            if f.name == "window":
                kwargs[f.name] = WindowSettings.from_json(value)  # lenient: only looks, never blocks
            elif f.name in sections:
                kwargs[f.name] = _section(sections[f.name], f.name, value)
            else:
                kwargs[f.name] = _check_type(f.name, value, f.type)
        settings = cls(**kwargs)
        if settings.sync.conflict_rule not in CONFLICT_RULES:
            raise SettingsError(
                f"sync.conflict_rule is {settings.sync.conflict_rule!r}; use one of {', '.join(CONFLICT_RULES)}"
            )
        for name in ("provet_poll_seconds", "xero_poll_seconds"):
            if getattr(settings.sync, name) < 10:
                raise SettingsError(f"sync.{name} must be at least 10 seconds")
        return settings


_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "str | None": (str, type(None)),
    "int": (int,),
    "bool": (bool,),
}


def _check_type(name: str, value: Any, annotation: Any) -> Any:
    allowed = _TYPES[str(annotation)]
    # bool is an int in Python; a settings file saying `"provet_poll_seconds": true` is still wrong.
    if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
        want = " or ".join("null" if t is type(None) else t.__name__ for t in allowed)
        raise SettingsError(f"{name} should be {want}, not {json.dumps(value)}")
    return value


def _section(cls: type, name: str, value: Any) -> Any:
    if not isinstance(value, dict):
        raise SettingsError(f"{name} should be an object")
    known = {f.name: f for f in fields(cls)}
    kwargs = {k: _check_type(f"{name}.{k}", v, known[k].type) for k, v in value.items() if k in known}
    return cls(**kwargs)


@dataclass(frozen=True)
class LoadResult:
    settings: Settings
    problem: str | None = None  # a plain message when the file was damaged and put aside


class SettingsFile:
    """Reads and writes one profile's settings file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> LoadResult:
        """Never raises for a bad file: it is kept as `.bad` and defaults are used, with a message."""
        if not self.path.exists():
            settings = Settings(profile_id=uuid.uuid4().hex)
            self.save(settings)
            return LoadResult(settings)
        try:
            text = self.path.read_text(encoding="utf-8")
            settings = Settings.from_json(json.loads(text))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, SettingsError) as exc:
            return self._set_aside(_describe(exc))
        if not settings.profile_id:
            settings = replace(settings, profile_id=uuid.uuid4().hex)
            self.save(settings)
        return LoadResult(settings)

    def save(self, settings: Settings) -> None:
        write_json_atomically(self.path, settings.to_json())

    def change(self, edit: Callable[[Settings], Settings]) -> Settings:
        """Load, edit, save, under a lock: the window, the sync thread and the command line all write this
        file, and two reads-then-writes at once would undo one another's change (a pause, the time the Xero
        sign-in was last used). Returns the new settings."""
        with exclusive(self.path.with_name(self.path.name + ".lock")):
            settings = edit(self.load().settings)
            self.save(settings)
            return settings

    def update(self, **changes: Any) -> Settings:
        """Replace top-level fields (see `change`); returns the new settings."""
        return self.change(lambda settings: replace(settings, **changes))

    def _set_aside(self, why: str) -> LoadResult:
        bad = self.path.with_name(self.path.name + ".bad")
        os.replace(self.path, bad)
        problem = (
            f"The settings file {self.path} could not be used ({why}). It was kept as {bad.name} "
            "and provet-xero started with default settings; set it up again or fix the kept file."
        )
        log.warning("%s", problem)
        # Keep the profile id of the damaged file when it can still be read, so keyring entries stay found.
        settings = Settings(profile_id=_salvage_profile_id(bad) or uuid.uuid4().hex)
        self.save(settings)
        return LoadResult(settings, problem)


def _describe(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    return str(exc)


def _salvage_profile_id(path: Path) -> str | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8")).get("profile_id")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and value.isalnum() and len(value) <= 64 else None


def write_json_atomically(path: Path, data: Any) -> None:
    """Write a temporary file beside `path`, fsync, rename over, fsync the folder: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False).encode("utf-8") + b"\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
