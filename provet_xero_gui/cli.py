"""The `provet-xero` command line: the automation contract of DESIGN.md.

Qt is imported only when a window is wanted, so every subcommand here runs on a machine without a
display. Exit codes: 0 done, 1 done but something needs attention, 2 could not run (reason on stderr).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from provet_xero_gui import __version__
from provet_xero_gui.credentials import Credentials, CredentialsError
from provet_xero_gui.settings import AppPaths, Endpoints, Settings, SettingsFile
from provet_xero_gui.store import Store, StoreError

log = logging.getLogger(__name__)

EXIT_OK, EXIT_ATTENTION, EXIT_CANNOT_RUN = 0, 1, 2


class CliError(Exception):
    """Stops a command with exit code 2 and a plain message on stderr."""


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
        return Store(self.paths.store_file)


def _status(profile: Profile) -> dict[str, Any]:
    s = profile.settings
    out: dict[str, Any] = {
        "version": __version__,
        "home": {
            "settings": str(profile.paths.settings_file),
            "data": str(profile.paths.data_dir),
            "logs": str(profile.paths.log_dir),
        },
        "settings_problem": profile.settings_problem,
        "provet": {"url": s.provet.url or profile.endpoints.provet_url, "client_id": s.provet.client_id},
        "xero": {"tenant_id": s.xero.tenant_id, "organisation": s.xero.tenant_name},
    }
    try:
        creds = profile.credentials()
        out["keyring"] = {"backend": creds.backend_name, "problem": None}
        out["provet"]["secret_stored"] = creds.load_provet_secret() is not None
        out["xero"]["signed_in"] = creds.load_xero_tokens() is not None
    except CredentialsError as exc:
        out["keyring"] = {"backend": None, "problem": str(exc)}
        out["provet"]["secret_stored"] = None
        out["xero"]["signed_in"] = None
    out["provet"]["connected"] = bool(out["provet"]["url"] and s.provet.client_id and out["provet"]["secret_stored"])
    out["xero"]["connected"] = bool(s.xero.tenant_id and out["xero"]["signed_in"])
    try:
        with profile.store() as store:
            out["store"] = {"schema": store.schema_version, "problem": None, **store.counts()}
    except StoreError as exc:
        out["store"] = {"schema": None, "problem": str(exc)}
    return out


def _yes_no(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "unknown"}[value]


def _print_status(st: dict[str, Any]) -> None:
    lines = [f"provet-xero {st['version']}"]
    if st["settings_problem"]:
        lines.append(f"! {st['settings_problem']}")
    p, x, k = st["provet"], st["xero"], st["keyring"]
    lines.append(
        f"Provet:  {'connected' if p['connected'] else 'not connected'}"
        f"  (instance: {p['url'] or 'not set'}, client id: {p['client_id'] or 'not set'},"
        f" secret stored: {_yes_no(p['secret_stored'])})"
    )
    org = x["organisation"] or "no organisation chosen"
    lines.append(
        f"Xero:    {'connected to ' + org if x['connected'] else 'not connected'}"
        f"  (signed in: {_yes_no(x['signed_in'])})"
    )
    lines.append(f"Keyring: {k['backend'] or 'unavailable'}")
    if k["problem"]:
        lines.append(f"! {k['problem']}")
    store = st["store"]
    if store["problem"]:
        lines.append(f"! {store['problem']}")
    else:
        linked = ", ".join(f"{k[7:]} {v}" for k, v in store.items() if k.startswith("linked_")) or "nothing yet"
        lines.append(
            f"Store:   schema {store['schema']}; linked: {linked}; needing attention: {store['attention']};"
            f" conflicts: {store['conflicts']}; unfinished writes: {store['pending_writes']}"
        )
    lines.append(f"Settings: {st['home']['settings']}")
    print("\n".join(lines))


def cmd_status(args: argparse.Namespace) -> int:
    profile = Profile.open()
    st = _status(profile)
    if args.json:
        print(json.dumps(st, indent=2))
    else:
        _print_status(st)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="provet-xero",
        description="Keeps a veterinary clinic's Xero books in step with Provet Cloud.",
    )
    parser.add_argument("--version", action="version", version=f"provet-xero {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("status", help="what is configured and connected")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_status)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_OK
    try:
        return int(args.func(args))
    except CliError as exc:
        print(f"provet-xero: {exc}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except KeyboardInterrupt:
        print("provet-xero: stopped.", file=sys.stderr)
        return 130
