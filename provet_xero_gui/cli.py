"""The `provet-xero` command line: the automation contract of DESIGN.md.

Qt is imported only when a window is wanted, so every subcommand here runs on a machine without a
display. Exit codes: 0 done, 1 done but something needs attention, 2 could not run (reason on stderr).
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
import webbrowser
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from provet_xero_gui import __version__
from provet_xero_gui.credentials import CredentialsError
from provet_xero_gui.profile import Profile
from provet_xero_gui.provet.client import ProvetClient, ProvetError
from provet_xero_gui.settings import ProvetSettings, XeroSettings
from provet_xero_gui.store import StoreError
from provet_xero_gui.xero.identity import IdentityClient, Tenant, XeroAuthError
from provet_xero_gui.xero.oauth import SignInError
from provet_xero_gui.xero.signin import ChooseOrganisation, select_tenant, sign_in

log = logging.getLogger(__name__)

EXIT_OK, EXIT_ATTENTION, EXIT_CANNOT_RUN = 0, 1, 2


class CliError(Exception):
    """Stops a command with exit code 2 and a plain message on stderr."""


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


def _read_secret(prompt: str) -> str:
    """The secret from stdin: typed without echo at a terminal, else the first line of the pipe."""
    if sys.stdin is None:
        raise CliError("the client secret is read from standard input, and there is none")
    if sys.stdin.isatty():
        secret = getpass.getpass(prompt)
    else:
        secret = sys.stdin.readline().strip()
    if not secret:
        raise CliError("no client secret was given on standard input")
    return secret


def cmd_connect_provet(args: argparse.Namespace) -> int:
    profile = Profile.open()
    secret = _read_secret("Provet client secret: ")
    try:
        client = ProvetClient(args.url, args.client_id, secret)
        check = client.check()
    except ProvetError as exc:
        raise CliError(str(exc)) from None
    creds = profile.credentials()
    try:
        creds.save_provet_secret(secret)
        backend = creds.backend_name
    except CredentialsError as exc:
        raise CliError(str(exc)) from None
    profile.settings_file.save(
        replace(
            profile.settings,
            keyring_backend=backend,
            provet=ProvetSettings(url=check.instance_url, client_id=args.client_id),
        )
    )
    print(f"Connected to Provet Cloud at {check.instance_url} ({check.vat_groups} VAT groups readable).")
    print(f"The client secret is kept in the keyring ({backend}).")
    return EXIT_OK


def _identity(profile: Profile) -> IdentityClient:
    e = profile.endpoints
    return IdentityClient(e.xero_identity_url, e.xero_api_url, e.xero_client_id)


def _ask_tenant(tenants: tuple[Tenant, ...]) -> str | None:
    """At a terminal, let the person pick an organisation by number; elsewhere, None."""
    if not (sys.stdin and sys.stdin.isatty()):
        return None
    print("Several Xero organisations are connected:")
    for i, t in enumerate(tenants, start=1):
        print(f"  {i}. {t.name}")
    answer = input("Which one keeps the clinic's books? Number: ").strip()
    if not answer.isdigit() or not 1 <= int(answer) <= len(tenants):
        raise CliError("no organisation was chosen; run the command again with --tenant NAME_OR_ID")
    return tenants[int(answer) - 1].tenant_id


def cmd_connect_xero(args: argparse.Namespace) -> int:
    profile = Profile.open()
    creds = profile.credentials()

    def show(url: str, opened: bool) -> None:
        if opened:
            print("Your browser was opened to sign in to Xero. If it did not open, visit:", file=sys.stderr)
        else:
            print("Open this address in a browser to sign in to Xero:", file=sys.stderr)
        print(url, flush=True)
        print("Waiting for Xero (up to 5 minutes; Ctrl+C to cancel)...", file=sys.stderr, flush=True)

    try:
        identity = _identity(profile)
        try:
            result = sign_in(
                identity,
                profile.endpoints.xero_login_url,
                creds,
                profile.settings_file,
                tenant=args.tenant,
                show_url=show,
                open_browser=None if args.no_browser else webbrowser.open,
            )
            tenant = result.tenant
        except ChooseOrganisation as exc:
            wanted = _ask_tenant(exc.tenants)
            if wanted is None:
                raise
            tokens = creds.load_xero_tokens()
            assert tokens is not None
            tenant = select_tenant(identity, tokens.access_token, profile.settings_file, wanted)
    except (XeroAuthError, SignInError, CredentialsError) as exc:
        raise CliError(str(exc)) from None
    print(f"Connected to the Xero organisation '{tenant.name}'. The sign-in is kept in the keyring.")
    return EXIT_OK


def cmd_disconnect(args: argparse.Namespace) -> int:
    profile = Profile.open()
    creds = profile.credentials()
    warning = None
    try:
        if args.service == "xero":
            tokens = creds.load_xero_tokens()
            if tokens is not None:
                try:
                    _identity(profile).revoke(tokens.refresh_token)
                except XeroAuthError as exc:
                    warning = f"{exc} The sign-in was removed from this computer anyway."
            creds.delete_xero_tokens()
            profile.settings_file.save(replace(profile.settings, xero=XeroSettings()))
        else:
            creds.delete_provet_secret()
            profile.settings_file.save(replace(profile.settings, provet=ProvetSettings()))
    except CredentialsError as exc:
        raise CliError(str(exc)) from None
    name = "Xero" if args.service == "xero" else "Provet Cloud"
    print(f"Disconnected from {name}; its secrets were deleted from the keyring.")
    if warning:
        print(f"provet-xero: {warning}", file=sys.stderr)
        return EXIT_ATTENTION
    return EXIT_OK


def cmd_sandbox(args: argparse.Namespace) -> int:
    import signal
    import threading

    from provet_xero_gui.sandbox.runner import Sandbox

    try:
        sandbox = Sandbox(
            seed=args.seed, size=args.size, provet_port=args.port_provet, xero_port=args.port_xero,
            time_scale=args.time_scale,
        ).start()
    except OSError as exc:
        raise CliError(f"the sandbox could not start: {exc.strerror or exc}") from None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(sandbox.describe(), flush=True)
    print("\nRunning until Ctrl+C.", file=sys.stderr, flush=True)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return EXIT_OK


def _positive(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return number


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

    connect = sub.add_parser("connect", help="connect to Provet Cloud or sign in to Xero")
    csub = connect.add_subparsers(dest="service", metavar="SERVICE", required=True)
    p = csub.add_parser("provet", help="store and check Provet API credentials (secret read from stdin)")
    p.add_argument("--url", required=True, help="the instance address, e.g. https://provetcloud.com/1234/")
    p.add_argument("--client-id", required=True)
    p.set_defaults(func=cmd_connect_provet)
    p = csub.add_parser("xero", help="sign in to Xero in the browser (PKCE)")
    p.add_argument("--no-browser", action="store_true", help="print the address instead of opening a browser")
    p.add_argument("--tenant", metavar="NAME_OR_ID", help="the Xero organisation to keep in step")
    p.set_defaults(func=cmd_connect_xero)

    p = sub.add_parser("disconnect", help="end a connection and delete its secrets")
    p.add_argument("service", choices=("xero", "provet"))
    p.set_defaults(func=cmd_disconnect)

    p = sub.add_parser("sandbox", help="run the simulated Provet Cloud and Xero on this computer until Ctrl+C")
    p.add_argument("--port-provet", type=int, default=0, metavar="N", help="Provet port (default: any free one)")
    p.add_argument("--port-xero", type=int, default=0, metavar="N", help="Xero port (default: any free one)")
    p.add_argument("--size", type=int, default=12, metavar="N", help="about how many finalised invoices (12)")
    p.add_argument("--seed", type=int, default=1, help="the clinic generator's seed (1)")
    p.add_argument("--time-scale", type=_positive, default=1.0, metavar="X",
                   help="run the sandbox clock X times faster (limits and token expiry)")
    p.set_defaults(func=cmd_sandbox)
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
