"""provet-xero's benchmark (issue #9): one command, against the sandbox with Xero's and Provet's real limits.

    .venv/bin/python benchmarks/run.py [--size 10000] [--gui-size SIZE] [--name NAME]
                                       [--scale 1] [--gui-scale 60] [--skip-baseline] [--skip-gui]

1. First sync (backfill) of about `--size` finalised invoices (with their clients, payments, credit notes;
   half-way through, payments are taken in Xero, contacts edited in Xero and clients edited in Provet),
   then an idle pass, then an incremental pass after 1 new invoice with 1 payment. The sandbox runs in a
   process of its own, so memory and CPU are the app's. The clock: the app's waits (pacing, Retry-After)
   jump the sandbox clock, the work itself counts at `--scale` (1: as long as it takes on this machine), so
   "simulated minutes" is the time the sync would take at Xero's 60 calls a minute (network latency aside).
2. The same documents sent one per call (a naive connector) on a fresh sandbox of the same seed.
3. The translation of every document read (translate() and its JSON), CPU seconds.
4. The window's longest event-loop stalls while a backfill of `--gui-size` invoices (by default the same
   `--size`: a clinic-size first sync through the window's signals) runs on its worker (sped-up clock,
   `--gui-scale`), and the time from process start to the first window (offscreen).

Prints a table with PASS/FAIL beside each target, writes benchmarks/results/<name>.json and .md; exit
status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine import run_baseline, run_engine
from sandbox_proc import SandboxProcess

RESULTS = Path(__file__).resolve().parent / "results"


def measure(args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.perf_counter()
    sp = SandboxProcess()
    try:
        info = sp.start(args.size, args.seed, args.scale)
        r: dict[str, Any] = {"size": args.size, "seed": args.seed, "time_scale": args.scale,
                             "clinic": info["clinic"]}
        r.update(run_engine(sp, args.size))
        recorded = r.pop("_recorded")
        if not args.skip_baseline:
            r["baseline"] = run_baseline(sp, recorded)
        del recorded
        if not args.skip_gui:
            import gui

            r["gui"] = gui.measure_stall(sp, args.gui_size, args.seed, args.gui_scale)
            r["first_window"] = gui.first_window(args.first_window_runs)
    finally:
        sp.close()
    r["real_seconds_total"] = round(time.perf_counter() - t0, 1)
    return r


def _provet_pages_ok(r: dict[str, Any]) -> tuple[str, bool]:
    limits = r["provet_limits"]
    worst = []
    ok = True
    for endpoint, size in r["backfill"]["provet_page_sizes"].items():
        limit = limits["get"].get(endpoint, limits["default"])
        cost = math.ceil(size / 50) if size > 50 else 1
        ok &= size <= limits["max_page_size"] and cost <= limit
        worst.append(f"{endpoint} {size}")
    return "largest page: " + ", ".join(worst), ok


def targets(r: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    b = r["backfill"]
    calls, minimum = b["xero_calls"], r["minimum_calls"]
    pages, pages_ok = _provet_pages_ok(r)
    n = r["size"]
    rows: list[tuple[str, str, bool | None]] = [
        (f"Backfill ({n:,}): Xero calls ≤ 1.2 × the batch-of-50 minimum",
         f"{calls} vs minimum {minimum} ({calls / minimum:.2f}×)", calls <= 1.2 * minimum),
        ("Backfill: no 429 from Xero", str(r["xero_429s"]), r["xero_429s"] == 0),
        ("Backfill: under 15 simulated minutes at 60 calls/minute", f"{b['sandbox_minutes']} min",
         b["sandbox_minutes"] < 15),
        ("Backfill: inside one day's 5,000 Xero calls", str(calls), calls <= 5000),
        ("Provet: no 429", str(r["provet_429s"]), r["provet_429s"] == 0),
        ("Provet: pages within each endpoint's limits", pages, pages_ok),
        ("Incremental pass (1 invoice + 1 payment) ≤ 6 Xero calls", str(r["incremental_pass_xero_calls"]),
         r["incremental_pass_xero_calls"] <= 6),
        ("Idle pass ≤ 3 Xero calls", str(r["idle_pass_xero_calls"]), r["idle_pass_xero_calls"] <= 3),
        (f"Translation and planning of {r['translate']['documents']:,} documents < 2 s CPU",
         f"{r['translate']['cpu_seconds']} s", r["translate"]["cpu_seconds"] < 2),
        ("App peak memory (RSS) < 300 MB", f"{r['app_peak_rss_mb']} MB", r["app_peak_rss_mb"] < 300),
    ]
    if "gui" in r:
        g = r["gui"]
        done = g["finished"]
        rows += [
            (f"GUI stall during a {g['size']:,}-invoice backfill, 99th percentile < 50 ms",
             f"{g['p99_gap_ms']} ms" + ("" if done else " (sync did not finish)"), done and g["p99_gap_ms"] < 50),
            ("GUI stall, worst < 100 ms", f"{g['max_gap_ms']} ms", done and g["max_gap_ms"] < 100),
            ("First window < 1.5 s (offscreen, median)",
             f"{r['first_window']['median_seconds']} s (runs {r['first_window']['runs']})",
             r["first_window"]["median_seconds"] < 1.5),
        ]
    return rows


def report(r: dict[str, Any]) -> tuple[str, bool]:
    b = r["backfill"]
    c = r["clinic"]
    lines = [
        f"provet-xero benchmark: clinic of {r['size']:,} invoices asked for (seed {r['seed']}): "
        f"{c['finalised_invoices']:,} finalised invoices, {c['finalised_credit_notes']:,} credit notes, "
        f"{c['clients']:,} clients, {c['payments']:,} payments in Provet",
        "",
        "| target | measured | result |",
        "|---|---|---|",
    ]
    ok = True
    for name, measured, passed in targets(r):
        ok &= bool(passed)
        lines.append(f"| {name} | {measured} | {'PASS' if passed else 'FAIL'} |")
    lines += ["", "| figure | value |", "|---|---|"]
    act = b["activity_during_backfill"]
    figures = [
        ("Backfill sent", ", ".join(f"{v:,} {k}" for k, v in b["sent"].items())),
        ("Backfill held / held by rule / skipped",
         f"{sum(b['held'].values())} / {sum(b['held_by_rule'].values())} / {sum(b['skipped'].values())}"),
        ("During the backfill", f"{act.get('xero_payments', 0)} payments taken in Xero, "
                                f"{act.get('xero_contact_edits', 0)} contacts edited in Xero, "
                                f"{act.get('provet_client_edits', 0)} clients edited in Provet"),
        ("Backfill Xero calls by endpoint", _endpoints(b["xero_by_endpoint"])),
        ("Backfill Provet calls by endpoint", _endpoints(b["provet_by_endpoint"])),
        ("Share of the minimum used", f"{r['ratio_to_minimum']:.2f}× ({b['xero_calls']} calls, minimum "
                                      f"{r['minimum_calls']})"),
        ("Backfill simulated time / real time", f"{b['sandbox_minutes']} min / {b['real_seconds']} s"),
        ("Backfill CPU of the app process", f"{b['cpu_seconds']} s"),
        ("App peak RSS", f"{r['app_peak_rss_mb']} MB"),
        ("Idle pass calls", f"Xero {r['idle_pass_xero_calls']}, Provet {r['idle_pass_provet_calls']}"),
        ("Incremental pass calls",
         f"Xero {r['incremental_pass_xero_calls']}, Provet {r['incremental_pass_provet_calls']} "
         f"(sent {r['incremental_sent']})"),
    ]
    if "baseline" in r:
        bl = r["baseline"]
        figures += [
            ("Naive baseline (one document a call, each client looked up once)",
             f"{bl['xero_calls']:,} Xero calls, {bl['sandbox_minutes']:,} simulated min ({bl['sandbox_days']} "
             f"days at 5,000 calls a day), {bl['xero_429s']} 429s"),
            ("Baseline ÷ provet-xero", f"{bl['xero_calls'] / b['xero_calls']:.1f}× the calls, "
                                       f"{bl['sandbox_minutes'] / max(b['sandbox_minutes'], 0.01):.0f}× the time"),
            ("Old baseline (a contact GET before every document)",
             f"{bl['xero_calls_with_lookups']:,} Xero calls, "
             f"{bl['xero_calls_with_lookups'] / b['xero_calls']:.1f}× provet-xero's: it flattered the app"),
        ]
    if "gui" in r:
        g = r["gui"]
        figures.append(("GUI heartbeat", f"{g['beats']} beats of {g['heartbeat_ms']} ms over {g['sync_seconds']} s "
                                         f"(clock {g['time_scale']:g}×), {g['documents_sent']} documents sent; gap "
                                         f"median {g['p50_gap_ms']} ms, p99 {g['p99_gap_ms']} ms, "
                                         f"worst {g['max_gap_ms']} ms"))
    figures.append(("Benchmark real time", f"{r['real_seconds_total']} s"))
    lines += [f"| {k} | {v} |" for k, v in figures]
    return "\n".join(lines), ok


def _endpoints(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000, help="finalised invoices in the clinic")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="sandbox seconds per real second of work (waits jump the clock)")
    parser.add_argument("--gui-size", type=int, default=None,
                        help="invoices for the window's backfill (default: --size)")
    parser.add_argument("--gui-scale", type=float, default=60.0, help="sped-up clock for the window's backfill")
    parser.add_argument("--first-window-runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--name", default=None, help="results file name (default bench-<size>)")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--skip-gui", action="store_true")
    args = parser.parse_args()
    if args.gui_size is None:
        args.gui_size = args.size
    r = measure(args)
    text, ok = report(r)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    name = args.name or f"bench-{args.size}"
    (RESULTS / f"{name}.json").write_text(json.dumps(r, indent=2, default=str) + "\n")
    (RESULTS / f"{name}.md").write_text(text + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
