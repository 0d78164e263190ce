"""The `provet-xero` command line: the automation contract (README.md, docs/architecture.md).

Qt is imported only when a window is wanted, so every subcommand here runs on a machine without a
display. Exit codes: 0 done, 1 done but something waits on a person (a document in the attention list, a
conflict to choose), 2 could not run (reason on stderr), 141 the reader of the output went away (`| head`).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import date
from typing import TYPE_CHECKING, Any

from provet_xero_gui import __version__

# What the commands use is imported inside them, so `--version`, `--help` and an argument error answer at
# once, without the HTTP clients, xero-python, the sandbox or Qt.
if TYPE_CHECKING:
    from provet_xero_gui.app.application import Application
    from provet_xero_gui.app.types import AttentionItem, Conflict, RetryOutcome, Status, SyncResult, Tenant

log = logging.getLogger(__name__)

EXIT_OK, EXIT_ATTENTION, EXIT_CANNOT_RUN = 0, 1, 2
EXIT_BROKEN_PIPE = 128 + 13  # as a program ended by SIGPIPE: `provet-xero status --json | head -1`


class CliError(Exception):
    """Stops a command with exit code 2 and a plain message on stderr."""


def _first_missing_step(app: Application) -> str | None:
    """What a person has to do first before a pass or a tie-out can run, in setup order, as the commands that do
    it; None when the settings have it all."""
    from provet_xero_gui.app.types import Step

    return {
        Step.PROVET: "Provet Cloud is not connected yet. First step: `provet-xero connect provet --url URL "
                     "--client-id ID` (the client secret on standard input); then `provet-xero connect xero`, "
                     "then `provet-xero mapping suggest --save` (or `mapping import FILE`).",
        Step.XERO: "Xero is not connected yet. Next step: `provet-xero connect xero`; then `provet-xero mapping "
                   "suggest --save` (or `mapping import FILE`).",
        Step.MAPPING: "No mapping has been saved yet. Next step: `provet-xero mapping suggest --save` (or "
                      "`provet-xero mapping import FILE`), then `provet-xero mapping check`.",
        None: None,
    }[app.setup_gap()]


def _status_json(app: Application, st: Status) -> dict[str, Any]:
    """`status --json`: the reading in the shape scripts rely on."""
    paths = app.profile.paths
    out: dict[str, Any] = {
        "version": __version__,
        "home": {"settings": str(paths.settings_file), "data": str(paths.data_dir), "logs": str(paths.log_dir)},
        "settings_problem": st.settings_problem,
        "provet": {"url": st.provet_url, "client_id": st.provet_client_id},
        "xero": {"tenant_id": st.xero_tenant_id, "organisation": st.organisation},
        "keyring": {"backend": st.keyring_backend, "problem": st.keyring_problem},
    }
    out["provet"]["secret_stored"] = st.provet_secret_stored
    out["xero"]["signed_in"] = st.xero_signed_in
    out["provet"]["connected"] = st.provet_connected
    out["xero"]["connected"] = st.xero_connected
    if st.store_problem is None and st.binding is not None:
        binding = st.binding
        out["store"] = {"schema": st.store_schema, "problem": None, **st.counts}
        out["store"]["organisation"] = {
            "name": binding.xero_tenant_name, "tenant_id": binding.xero_tenant_id,
            "provet_url": binding.provet_url, "start_date": binding.start_date,
        }
        out["store"]["rebuilt"] = {**binding.rebuilt, "at": binding.rebuilt_at} if binding.rebuilt else None
        out["store"]["history_note"] = st.history_note
        out["store"]["attention"] = st.attention
        out["store"]["held_by_rule"] = st.held_by_rule
        out["last_sync"] = st.last_sync
        out["books"] = st.books.to_json() if st.books else None
    else:
        out["store"] = {"schema": None, "problem": st.store_problem}
        out["last_sync"] = None
        out["books"] = None
    out["mapping_saved"] = st.mapping_saved
    return out


def _yes_no(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "unknown"}[value]


def _print_status(st: dict[str, Any]) -> None:
    from provet_xero_gui.app.types import DailyTieOut

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
            f"Store:   schema {store['schema']}; linked: {linked}; needing attention: {store['attention']}"
            f" (held by rule: {store['held_by_rule']});"
            f" conflicts: {store['conflicts']}; unfinished writes: {store['pending_writes']}"
        )
        kept = store.get("organisation") or {}
        if kept.get("tenant_id") and kept["tenant_id"] != x["tenant_id"]:
            lines.append(f"! The history kept here belongs to '{kept['name'] or kept['tenant_id']}', not to the "
                         "organisation chosen now; `provet-xero sync` says how to choose.")
        if store.get("history_note"):
            lines.append(f"History: {store['history_note']}")
    last = st.get("last_sync")
    if last:
        sent = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(last["sent"].items())) or "nothing new"
        lines.append(f"Last sync: {last['at'][:19].replace('T', ' ')} UTC — sent {sent}"
                     + (f"; stopped: {last['stopped']}" if last.get("stopped") else ""))
    else:
        lines.append("Last sync: never")
    books = DailyTieOut.from_json(st["books"]) if st.get("books") else None
    lines.append(f"Books:   {books.words() if books else 'not compared yet (the window ties out the last week daily)'}")
    lines.append(f"Mapping: {'saved' if st['mapping_saved'] else 'not set up yet'}")
    lines.append(f"Settings: {st['home']['settings']}")
    print("\n".join(lines))


def cmd_status(args: argparse.Namespace) -> int:
    from provet_xero_gui.app.application import Application

    app = Application.open()
    st = _status_json(app, app.status())
    if args.json:
        print(json.dumps(st, indent=2))
    else:
        _print_status(st)
    return EXIT_OK


def _read_secret(prompt: str) -> str:
    """The secret from stdin: typed without echo at a terminal, else the first line of the pipe."""
    import getpass

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
    from provet_xero_gui.app.application import Application

    app = Application.open()
    secret = _read_secret("Provet client secret: ")
    check = app.connect_provet(args.url, args.client_id, secret)
    backend = app.keyring_name()
    print(f"Connected to Provet Cloud at {check.instance_url} ({check.vat_groups} VAT groups readable).")
    print(f"The client secret is kept in the keyring ({backend}).")
    return EXIT_OK


def _ask_tenant(tenants: tuple[Tenant, ...], wanted: str | None = None) -> str | None:
    """At a terminal, let the person pick an organisation by number; elsewhere, None."""
    if not (sys.stdin and sys.stdin.isatty()):
        return None
    if wanted:
        print(f"No connected Xero organisation is called '{wanted}'. Connected:")
    else:
        print("Several Xero organisations are connected:")
    for i, t in enumerate(tenants, start=1):
        print(f"  {i}. {t.name}")
    answer = input("Which one keeps the clinic's books? Number: ").strip()
    if not answer.isdigit() or not 1 <= int(answer) <= len(tenants):
        raise CliError("no organisation was chosen; run the command again with --tenant NAME_OR_ID")
    return tenants[int(answer) - 1].tenant_id


def cmd_connect_xero(args: argparse.Namespace) -> int:
    import webbrowser

    from provet_xero_gui.app.application import Application
    from provet_xero_gui.app.errors import AppError

    app = Application.open()

    def show(url: str, opened: bool) -> None:
        if opened:
            print("Your browser was opened to sign in to Xero. If it did not open, visit:", file=sys.stderr)
        else:
            print("Open this address in a browser to sign in to Xero:", file=sys.stderr)
        print(url, flush=True)
        print("Waiting for Xero (up to 5 minutes; Ctrl+C to cancel)...", file=sys.stderr, flush=True)

    tenant = app.sign_in_to_xero(tenant=args.tenant, show_url=show,
                                 open_browser=None if args.no_browser else webbrowser.open, ask=_ask_tenant)
    print(f"Connected to the Xero organisation '{tenant.name}'. The sign-in is kept in the keyring.")
    try:
        ask = app.organisation_question()
    except AppError:
        ask = None  # `status` and `sync` say what is wrong with the store
    if ask is not None:
        print(f"{ask.text} Choose with `provet-xero organisation use NAME` (add --fresh-from YYYY-MM-DD to start "
              "an organisation fresh).")
    return EXIT_OK


def cmd_disconnect(args: argparse.Namespace) -> int:
    from provet_xero_gui.app.application import Application

    warning = Application.open().disconnect(args.service)
    name = "Xero" if args.service == "xero" else "Provet Cloud"
    print(f"Disconnected from {name}; its secrets were deleted from the keyring.")
    if warning:
        print(f"provet-xero: {warning}", file=sys.stderr)
        return EXIT_ATTENTION
    return EXIT_OK


def cmd_sandbox(args: argparse.Namespace) -> int:
    import signal
    import threading

    from provet_xero_gui.app.demo import start_sandbox

    sandbox = start_sandbox(seed=args.seed, size=args.size, provet_port=args.port_provet, xero_port=args.port_xero,
                            time_scale=args.time_scale)
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


# --- mapping -------------------------------------------------------------------------------------------


def _read_text(name: str) -> str:
    from provet_xero_gui.app import mapping

    if name == "-":
        return mapping.read_text(name, sys.stdin.read(mapping.MAX_MAPPING_BYTES + 1) if sys.stdin else "")
    return mapping.read_text(name)


def cmd_mapping_import(args: argparse.Namespace) -> int:
    from provet_xero_gui.app.application import Application
    from provet_xero_gui.app.mapping import summary

    app = Application.open()
    text = _read_text(args.file)
    mapping = app.import_mapping(text, "standard input" if args.file == "-" else args.file)
    print(f"Mapping imported ({summary(mapping)}). Run `provet-xero mapping check` to check it against Xero.")
    return EXIT_OK


def cmd_mapping_export(args: argparse.Namespace) -> int:
    from provet_xero_gui.app.application import Application

    app = Application.open()
    if args.file == "-":
        print(json.dumps(app.saved_mapping().to_json(), indent=2, ensure_ascii=False))
        return EXIT_OK
    app.export_mapping(args.file)
    print(f"Mapping exported to {args.file}.", file=sys.stderr)
    return EXIT_OK


def cmd_mapping_check(args: argparse.Namespace) -> int:
    from provet_xero_gui.app.application import Application

    checked = Application.open().check_mapping(args.invoices)
    problems = checked.problems
    if args.json:
        print(json.dumps({
            "ready": not problems,
            "organisation": checked.organisation,
            "invoices_read": checked.invoices_read,
            "invoices_total": checked.invoices_total,
            "problems": [{"where": p.where, "message": p.message, "fix": p.fix} for p in problems],
        }, indent=2, ensure_ascii=False))
    else:
        print(f"Checked against the Xero organisation '{checked.organisation}' and the newest "
              f"{checked.invoices_read} of {checked.invoices_total} finalised Provet invoices.")
        for problem in problems:
            print(problem.line())
        if problems:
            n = len(problems)
            print(f"{n} problem{'s' if n > 1 else ''} to fix before syncing; then run `provet-xero mapping check` "
                  "again.")
        else:
            print("The mapping is ready.")
    return EXIT_ATTENTION if problems else EXIT_OK


def cmd_mapping_suggest(args: argparse.Namespace) -> int:
    from provet_xero_gui.app.application import Application
    from provet_xero_gui.app.mapping import summary

    app = Application.open()
    suggested = app.suggest_mapping(fresh=args.fresh)
    for note in suggested.notes:
        print(f"provet-xero: {note}", file=sys.stderr)
    if args.save:
        app.save_mapping(suggested.mapping)
        kept = " (what was already mapped is kept)" if suggested.kept else ""
        print(f"Suggested mapping saved{kept}: {summary(suggested.mapping)}. Run `provet-xero mapping "
              "check` to check it.")
    else:
        print(json.dumps(suggested.mapping.to_json(), indent=2, ensure_ascii=False))
    return EXIT_OK


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _print_result(result: SyncResult) -> None:
    from provet_xero_gui.app.words import cause_title

    sent = ", ".join(_plural(n, k.replace("_", " ")) for k, n in sorted(result.sent.items())) or "nothing new"
    lines = ["Sync stopped early." if result.stopped else "Sync finished.", f"  Sent to Xero:    {sent}"]
    if result.held_by_rule:
        held = ", ".join(f"{n} {cause_title(c).split(': ')[-1]}" for c, n in result.held_by_rule.items())
        lines.append(f"  Held by rule:    {held}")
    if result.held:
        held = ", ".join(f"{n} {cause_title(c)}" for c, n in sorted(result.held.items()))
        lines.append(f"  Held this pass:  {held}")
    for reason, n in sorted(result.skipped.items()):
        lines.append(f"  Skipped:         {n} {reason}")
    left = f", {result.xero_calls_left_today:,} left today" if result.xero_calls_left_today is not None else ""
    lines.append(f"  Xero calls:      {result.xero_calls} this pass{left}")
    lines.append(f"  Provet calls:    {result.provet_calls}")
    if result.attention_open:
        lines.append(f"  Need attention:  {result.attention_open} — see `provet-xero attention`")
    if result.stopped:
        lines.append(f"  Stopped: {result.stopped}")
    print("\n".join(lines))


def _exit_code(result: SyncResult, conflicts_waiting: int = 0) -> int:
    """2 when the pass could not go on; 1 when something waits on a person (a document in the attention list,
    a conflict to choose) or the pass stopped early; else 0. `conflicts` exits 1 on the same conflicts."""
    if result.stop_kind in ("connection_ended", "unreachable", "error"):
        return EXIT_CANNOT_RUN
    if result.stopped or result.attention_open or conflicts_waiting:
        return EXIT_ATTENTION
    return EXIT_OK


def _print_outcomes(outcomes: Sequence[RetryOutcome]) -> None:
    for o in outcomes:
        if o.outcome == "sent":
            print(f"Item {o.id}, {o.document}: sent to Xero.")
        elif o.outcome == "no_longer_waiting":
            print(f"Item {o.id}, {o.document}: no longer waits.")
        else:
            print(f"Item {o.id}, {o.document}: still waits — {o.reason}")
            print(f"  Fix: {o.fix}")


def _unstoppable(printer: Callable[[Any], None]) -> Callable[[Any], None]:
    """Progress that nobody reads any more (`provet-xero sync 2>&1 | head -3`) must not stop the pass: once
    the output is gone, the pass goes on without it."""
    gone = False

    def show(event: Any) -> None:
        nonlocal gone
        if gone:
            return
        try:
            printer(event)
        except BrokenPipeError:
            gone = True

    return show


def _run_pass(args: argparse.Namespace, app: Application, retry: Sequence[AttentionItem] | None = None) -> int:
    """One pass (with `retry`: those items tried again, and what became of each said), its summary and exit code."""
    from provet_xero_gui.app.demo import ProgressPrinter

    missing = _first_missing_step(app)
    if missing:
        raise CliError(missing)
    printer = _unstoppable(ProgressPrinter(sys.stderr)) if not args.json else None
    outcomes: Sequence[RetryOutcome] | None = None
    if retry is None:
        result = app.sync(events=printer)
    else:
        retried = app.retry(retry, events=printer)
        result, outcomes = retried.result, retried.outcomes if retry else None
    conflicts = app.conflicts_waiting()
    code = _exit_code(result, conflicts)
    if args.json:
        extra: dict[str, Any] = {"conflicts_waiting": conflicts}
        if outcomes is not None:
            extra["retried"] = [asdict(o) for o in outcomes]
        print(json.dumps({**asdict(result), **extra, "exit_code": code}, indent=2, ensure_ascii=False))
    else:
        _print_result(result)
        if conflicts:
            print(f"  Conflicts:       {conflicts} wait for a choice — see `provet-xero conflicts`")
        if outcomes is not None:
            _print_outcomes(outcomes)
    if result.stop_kind in ("connection_ended", "unreachable", "error"):
        print(f"provet-xero: {result.stopped}", file=sys.stderr)
    return code


def cmd_sync(args: argparse.Namespace) -> int:
    from provet_xero_gui.app.application import Application

    return _run_pass(args, Application.open())


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date written YYYY-MM-DD") from None


def cmd_organisation_list(args: argparse.Namespace) -> int:
    from provet_xero_gui.app.application import Application

    app = Application.open()
    kept = app.organisations()
    chosen_id = app.profile.settings.xero.tenant_id
    for b in kept:
        marks = (" (kept in step now)" if b.active else "") + \
            (" (chosen in the settings)" if chosen_id and b.xero_tenant_id == chosen_id and not b.active else "")
        start = f", fresh from {b.start_date}" if b.start_date else ""
        print(f"{b.label}{marks}: {b.linked} links{start}; Provet {b.provet_url or 'not set'}")
    if chosen_id and not any(b.xero_tenant_id == chosen_id for b in kept):
        print(f"{app.profile.settings.xero.tenant_name or chosen_id} (chosen in the settings): no history here yet")
    return EXIT_OK


def cmd_organisation_use(args: argparse.Namespace) -> int:
    from provet_xero_gui.app.application import Application

    print(Application.open().use_organisation(args.organisation, args.fresh_from))
    return EXIT_OK


def cmd_attention(args: argparse.Namespace) -> int:
    """Items that wait on a person are numbered: `retry ID` takes those numbers. Items held by rule
    (anonymous sales, unused prepayments) are listed without a number: they are not sent by design."""
    from provet_xero_gui.app.application import Application
    from provet_xero_gui.app.words import cause_title

    app = Application.open()
    items = app.attention()
    problems = [i for i in items if not i.by_rule]
    if args.json:
        print(json.dumps([{**asdict(i), "by_rule": i.by_rule} for i in items], indent=2, ensure_ascii=False))
        return EXIT_ATTENTION if problems else EXIT_OK
    if not items:
        if app.never_synced():
            print("Nothing has been synced yet, so nothing waits. Run `provet-xero sync` (after connecting "
                  "Provet and Xero and saving a mapping; `provet-xero status` shows what is set up).")
        else:
            print("Nothing needs attention: everything that can go to Xero has gone.")
        return EXIT_OK
    groups: dict[str, list[AttentionItem]] = {}
    for item in sorted(problems, key=lambda i: (i.cause, i.id)):
        groups.setdefault(item.cause, []).append(item)
    for cause, group in groups.items():
        print(f"{cause_title(cause)} ({len(group)})")
        for item in group:
            print(f"  [{item.id}] {item.document}: {item.reason}")
            print(f"       Fix: {item.fix}")
        print()
    held: dict[str, list[AttentionItem]] = {}
    for item in sorted((i for i in items if i.by_rule), key=lambda i: (i.cause, i.id)):
        held.setdefault(item.cause, []).append(item)
    for cause, group in held.items():
        print(f"{cause_title(cause)} ({len(group)}; not sent to Xero by design, nothing to fix)")
        for item in group:
            print(f"  - {item.document}: {item.reason}")
        print()
    if problems:
        print(f"{len(problems)} need attention. Fix the cause, then retry one with `provet-xero retry ID` (ID: a "
              "number in [brackets] above), or all with `provet-xero retry --all`.")
        return EXIT_ATTENTION
    print("Nothing needs attention: everything that can go to Xero has gone; the items above are held by rule.")
    return EXIT_OK


def cmd_retry(args: argparse.Namespace) -> int:
    from provet_xero_gui.app.application import Application

    app = Application.open()
    missing = _first_missing_step(app)
    if missing:
        raise CliError(missing)
    items = app.attention()
    if args.all:
        chosen = [i for i in items if not i.by_rule]
        if not chosen:
            print("Nothing waits on a person; a pass is run anyway.", file=sys.stderr)
    else:
        chosen = [i for i in items if i.id == args.id]
        if not chosen:
            raise CliError(f"there is no open attention item {args.id}; see `provet-xero attention`")
        if chosen[0].by_rule:
            raise CliError(f"{chosen[0].document} is held by rule ({chosen[0].reason}); it is not sent to Xero "
                           "by design, so a retry would not send it. Nothing was run.")
    return _run_pass(args, app, retry=chosen)


def _when(stamp: str | None) -> str:
    return stamp[:16].replace("T", " ") + " UTC" if stamp else "unknown"


def cmd_conflicts(args: argparse.Namespace) -> int:
    from provet_xero_gui.app.application import Application
    from provet_xero_gui.app.words import describe_resolution, field_words

    snapshot = Application.open().conflicts()
    conflicts = snapshot.conflicts
    waiting = snapshot.waiting
    if args.json:
        rows = [{**asdict(c), "client": snapshot.client_label(c), "waiting": c.waiting, "chosen_value": c.chosen}
                for c in conflicts]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return EXIT_ATTENTION if waiting else EXIT_OK
    if not conflicts:
        print("No conflicts: client details agree in Provet and Xero.")
        return EXIT_OK
    groups: dict[str, list[Conflict]] = {}
    for c in conflicts:
        groups.setdefault(c.provet_client_id, []).append(c)
    for group in groups.values():
        print(snapshot.client_label(group[0]))
        for c in group:
            print(f"  [{c.id}] {field_words(c.field)} — last synced: {c.base_value or 'empty'}")
            print(f"        Provet: {c.provet_value or 'empty'}   (changed {_when(c.provet_changed_at)})")
            print(f"        Xero:   {c.xero_value or 'empty'}   (changed {_when(c.xero_changed_at)})")
            if c.waiting:
                print(f"        Choose: provet-xero resolve {c.id} --keep provet   (or --keep xero)")
            else:
                print(f"        Chosen: {describe_resolution(c)}; written on the next sync.")
        print()
    print(f"{waiting} wait for a choice; nothing is written for those fields until then." if waiting
          else "Every conflict has a choice; the next sync writes them.")
    return EXIT_ATTENTION if waiting else EXIT_OK


def cmd_resolve(args: argparse.Namespace) -> int:
    from provet_xero_gui.app.application import Application
    from provet_xero_gui.app.types import ConflictChoice
    from provet_xero_gui.app.words import describe_resolution, field_words

    (done,) = Application.open().resolve([ConflictChoice(args.conflict_id, args.keep)])
    if done.unread is not None:
        print(f"provet-xero: Provet and Xero could not be read now ({done.unread}); the next sync checks both sides "
              "before it writes.", file=sys.stderr)
    if done.conflict is None:
        raise CliError(done.refusal or "")
    chosen = done.conflict
    other = "Xero" if args.keep == "provet" else "Provet"
    print(f"Conflict {chosen.id}, {field_words(chosen.field)} of {done.client_label}: "
          f"{describe_resolution(chosen)} ({chosen.chosen or 'empty'}); it is written to {other} on the next sync.")
    return EXIT_OK


def cmd_tieout(args: argparse.Namespace) -> int:
    """Exit 0 when every day ties out or each difference has its reason, 1 when some difference has none,
    2 when it cannot run (bad dates, not connected, no mapping)."""
    from provet_xero_gui.app.application import Application
    from provet_xero_gui.app.tieout import parse_range
    from provet_xero_gui.app.types import UNEXPLAINED
    from provet_xero_gui.app.words import report_csv, report_text

    start, end = parse_range(args.date_from, args.date_to)
    app = Application.open()
    missing = _first_missing_step(app)
    if missing:
        raise CliError(missing)
    report = app.tieout(start, end)
    code = EXIT_ATTENTION if report.status == UNEXPLAINED else EXIT_OK
    if args.json:
        print(json.dumps({**report.to_json(), "exit_code": code}, indent=2, ensure_ascii=False))
    elif args.csv:
        sys.stdout.write(report_csv(report))
    else:
        print(report_text(report))
    return code


def cmd_demo(args: argparse.Namespace) -> int:
    from provet_xero_gui.app.errors import CredentialsError

    if not args.headless:
        from provet_xero_gui.ui.app import run_demo  # Qt only when a window is wanted

        try:
            return run_demo(size=args.size)
        except CredentialsError as exc:
            raise CliError(str(exc)) from None
    from provet_xero_gui.app.demo import run_headless_demo

    try:
        result = run_headless_demo(size=args.size, summary=_print_result)
    except CredentialsError as exc:
        raise CliError(str(exc)) from None
    return _exit_code(result)


def _positive(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a number") from None
    if not number > 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return number


def _size(value: str) -> int:
    """How many finalised invoices the sandbox clinic has: a whole number, at least 1."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


RECENT_INVOICES = 200  # `mapping check --invoices`' default; the same as sync.mapping.RECENT_INVOICES (a test checks)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="provet-xero",
        description="Keeps a veterinary clinic's Xero books in step with Provet Cloud.",
    )
    parser.add_argument("--version", action="version", version=f"provet-xero {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail to stderr")
    parser.add_argument("-m", "--minimized", action="store_true",
                        help="open in the tray only, the window hidden (how start at login runs it)")
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

    mapping = sub.add_parser("mapping", help="export, import, check or suggest the mapping onto Xero")
    msub = mapping.add_subparsers(dest="mapping_command", metavar="ACTION", required=True)
    p = msub.add_parser("export", help="write the saved mapping as JSON")
    p.add_argument("file", metavar="FILE", help="where to write it ('-' for standard output)")
    p.set_defaults(func=cmd_mapping_export)
    p = msub.add_parser("import", help="check a mapping JSON file and save it for this profile")
    p.add_argument("file", metavar="FILE", help="the file to read ('-' for standard input)")
    p.set_defaults(func=cmd_mapping_import)
    p = msub.add_parser("check", help="check the saved mapping against Provet and Xero as they are now")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--invoices", type=int, default=RECENT_INVOICES, metavar="N",
                   help=f"how many of the newest finalised invoices to read for what is in use ({RECENT_INVOICES})")
    p.set_defaults(func=cmd_mapping_check)
    p = msub.add_parser("suggest", help="propose a mapping from Xero's tax rates and accounts")
    p.add_argument("--save", action="store_true", help="save it (what is already mapped is kept)")
    p.add_argument("--fresh", action="store_true", help="ignore the saved mapping")
    p.set_defaults(func=cmd_mapping_suggest)

    p = sub.add_parser("sync", help="one sync pass now")
    p.add_argument("--once", action="store_true", help="one pass, then exit (the default from the command line)")
    p.add_argument("--json", action="store_true", help="machine-readable summary")
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("organisation", help="which Xero organisation the kept history belongs to, and changing it")
    osub = p.add_subparsers(dest="organisation_command", metavar="COMMAND")
    p.set_defaults(func=cmd_organisation_list)
    q = osub.add_parser("list", help="the organisations whose history is kept here (the default)")
    q.set_defaults(func=cmd_organisation_list)
    q = osub.add_parser("use", help="keep this organisation in step: its own history, or a fresh start")
    q.add_argument("organisation", metavar="NAME_OR_ID", help="the organisation's name or Xero id")
    q.add_argument("--fresh-from", metavar="YYYY-MM-DD", type=_day,
                   help="start an organisation kept here for the first time: documents dated from this day on")
    q.set_defaults(func=cmd_organisation_use)

    p = sub.add_parser("attention", help="documents that wait, with the reason and the fix")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_attention)

    p = sub.add_parser("retry", help="try documents in the attention list again")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("id", nargs="?", type=int, help="the number shown by `provet-xero attention`")
    which.add_argument("--all", action="store_true", help="every open item")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_retry)

    p = sub.add_parser("conflicts", help="client details changed differently in Provet and Xero")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_conflicts)

    p = sub.add_parser("resolve", help="choose the value of a conflict; the next sync writes it to the other side")
    p.add_argument("conflict_id", type=int, metavar="CONFLICT_ID", help="the number shown by `provet-xero conflicts`")
    p.add_argument("--keep", required=True, choices=("provet", "xero"), help="whose value to keep")
    p.set_defaults(func=cmd_resolve)

    p = sub.add_parser("tieout", help="prove, day by day, that Xero holds what Provet says (and why not)")
    p.add_argument("--from", dest="date_from", required=True, metavar="DATE", help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", required=True, metavar="DATE", help="last day, YYYY-MM-DD")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="machine-readable output")
    fmt.add_argument("--csv", action="store_true", help="CSV for a spreadsheet: each day's lines and documents")
    p.set_defaults(func=cmd_tieout)

    p = sub.add_parser("demo", help="the app on the sandbox in a throwaway profile")
    p.add_argument("--headless", action="store_true", help="setup and one full sync in the terminal")
    p.add_argument("--size", type=_size, default=60, metavar="N",
                   help="about how many finalised invoices and credit notes (60; never fewer than 22)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("sandbox", help="run the simulated Provet Cloud and Xero on this computer until Ctrl+C")
    p.add_argument("--port-provet", type=int, default=0, metavar="N", help="Provet port (default: any free one)")
    p.add_argument("--port-xero", type=int, default=0, metavar="N", help="Xero port (default: any free one)")
    p.add_argument("--size", type=_size, default=12, metavar="N",
                   help="about how many finalised invoices and credit notes (12, which serves 22: never fewer, so "
                        "that every case is there)")
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
        from provet_xero_gui.ui.app import main as open_window  # Qt only when a window is wanted

        return open_window(minimized=args.minimized)
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # here, so that a reader gone away is noticed while it can still be handled
        return code
    except (CliError, _app_error()) as exc:
        print(f"provet-xero: {exc}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except KeyboardInterrupt:
        print("provet-xero: stopped.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _drop_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as exc:  # the profile's disk full or read-only, a folder where a file belongs: plain words
        from provet_xero_gui.app.errors import plain_os_error

        log.debug("file error", exc_info=True)
        print(f"provet-xero: {plain_os_error(exc)}", file=sys.stderr)
        return EXIT_CANNOT_RUN


def _app_error() -> type[Exception]:
    """The application layer's failure, imported once a command runs (not for `--version`)."""
    from provet_xero_gui.app.errors import AppError

    return AppError


def _drop_stdout() -> None:
    """The reader of our output has gone (`| head -1`): what is left to print goes nowhere, quietly, and
    the interpreter's last flush at exit finds nothing to complain about."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):
        return  # not a real file (a test's buffer): nothing is flushed at exit
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)
