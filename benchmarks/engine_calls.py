"""What a first sync, an incremental pass and an idle pass cost in Xero calls, against the sandbox with its
real limits (60 calls a minute, 5,000 a day) on a sped-up clock.

    .venv/bin/python benchmarks/engine_calls.py [--size 1000] [--scale 120] [--name NAME]

Prints a table with PASS/FAIL beside each target and writes benchmarks/results/<name>.json. The number
of calls is the real cost: Xero allows an organisation 60 a minute and 5,000 a day.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from provet_xero_gui.provet.client import ProvetClient
from provet_xero_gui.provet.limits import ProvetLimiter
from provet_xero_gui.provet.source import ProvetSource
from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID, RowSpec
from provet_xero_gui.sandbox.runner import Sandbox, demo_mapping
from provet_xero_gui.store import Store
from provet_xero_gui.sync.engine import SyncEngine
from provet_xero_gui.sync.mapping import Mapping
from provet_xero_gui.sync.state import SyncState
from provet_xero_gui.xero.client import XeroClient
from provet_xero_gui.xero.limits import XeroLimiter

RESULTS = Path(__file__).parent / "results"


class _Tokens:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.token = sandbox.xero.connect(tenant_ids=[CLINIC_TENANT_ID])["access_token"]

    def access_token(self) -> str:
        return self.token

    def invalidate(self, _token: str) -> None:
        self.token = self.sandbox.xero.connect(tenant_ids=[CLINIC_TENANT_ID])["access_token"]


def run(size: int, scale: float) -> dict:
    with Sandbox(size=size, time_scale=scale) as sb, tempfile.TemporaryDirectory() as tmp:
        clock = sb.clock
        c = sb.credentials
        provet = ProvetClient(
            c.provet_url, c.provet_client_id, c.provet_client_secret,
            limiter=ProvetLimiter(clock=clock.seconds, sleep=sb.sandbox_sleep),
            sleep=sb.sandbox_sleep, monotonic=clock.seconds,
        )
        limiter = XeroLimiter(clock=clock.seconds, sleep=sb.sandbox_sleep)
        xero = XeroClient(sb.xero.base_url, CLINIC_TENANT_ID, _Tokens(sb), limiter=limiter, sleep=sb.sandbox_sleep)
        store = Store(Path(tmp) / "bench.sqlite3")

        def engine() -> SyncEngine:
            return SyncEngine(ProvetSource(provet), xero, SyncState(store), Mapping.from_json(demo_mapping()),
                              provet_calls=lambda: sum(provet.calls.values()))

        t0, s0, cpu0 = time.perf_counter(), clock.seconds(), time.process_time()
        first = engine().run_pass()
        backfill = {
            "real_seconds": round(time.perf_counter() - t0, 2),
            "sandbox_minutes": round((clock.seconds() - s0) / 60, 2),
            "cpu_seconds": round(time.process_time() - cpu0, 2),
            "xero_calls": first.xero_calls,
            "xero_by_endpoint": dict(xero.calls),
            "provet_calls": first.provet_calls,
            "provet_by_endpoint": dict(provet.calls),
            "sent": first.sent,
            "stopped": first.stopped,
        }
        invoices = first.sent.get("invoice", 0)
        notes = first.sent.get("credit_note", 0)
        contacts = first.sent.get("contact", 0)
        allocations = sum(1 for _ in sb.xero.allocations(CLINIC_TENANT_ID))
        # Fewest calls possible: reference data (3), batches of 50 (contacts, invoices, credit notes,
        # payments), one call per allocation (Xero allocates a credit note only through its own endpoint, one
        # credit note a call), and the polls for changes made in Xero.
        payments = first.sent.get("payment", 0)
        # + the polls for payments and contact edits made in Xero (one call each when nothing changed there).
        minimum = (3 + math.ceil(contacts / 50) + math.ceil(invoices / 50) + math.ceil(notes / 50) + allocations
                   + math.ceil(payments / 50) + 2)
        statuses = sb.xero.counter.statuses()

        idle = engine().run_pass()
        client = sb.provet.clients()[0]
        row = RowSpec("Consultation", Decimal(1), Decimal("45.00"), Decimal(20), "200")
        new = sb.provet.add_invoice(client.id, [row], finalise=True)
        sb.provet.add_payment(new.id, str(new.total_with_vat))
        incremental = engine().run_pass()
        store.close()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "size": size,
        "time_scale": scale,
        "backfill": backfill,
        "minimum_calls": minimum,
        "ratio_to_minimum": round(first.xero_calls / minimum, 3),
        "xero_429s": statuses.get(429, 0),
        "idle_pass_xero_calls": idle.xero_calls,
        "incremental_pass_xero_calls": incremental.xero_calls,
        "incremental_sent": incremental.sent,
        "peak_rss_mb": round(rss_mb, 1),
    }


def report(r: dict) -> tuple[str, bool]:
    b = r["backfill"]
    targets = [
        ("Backfill Xero calls ≤ 1.2 × minimum", f"{b['xero_calls']} vs minimum {r['minimum_calls']}",
         b["xero_calls"] <= 1.2 * r["minimum_calls"]),
        ("No 429 from Xero", str(r["xero_429s"]), r["xero_429s"] == 0),
        ("Within one day's 5,000 calls", str(b["xero_calls"]), b["xero_calls"] <= 5000),
        ("Idle pass ≤ 3 Xero calls", str(r["idle_pass_xero_calls"]), r["idle_pass_xero_calls"] <= 3),
        ("Incremental pass (1 invoice + 1 payment) ≤ 6 Xero calls", str(r["incremental_pass_xero_calls"]),
         r["incremental_pass_xero_calls"] <= 6),
    ]
    lines = [
        f"provet-xero engine benchmark: {r['size']} invoices asked for, sandbox clock at {r['time_scale']}×",
        f"sent: {b['sent']}; backfill took {b['sandbox_minutes']} sandbox minutes ({b['real_seconds']} s real, "
        f"{b['cpu_seconds']} s CPU); peak RSS {r['peak_rss_mb']} MB",
        f"Xero calls by endpoint: {b['xero_by_endpoint']}",
        f"Provet calls by endpoint: {b['provet_by_endpoint']}",
        "",
        "| target | measured | result |",
        "|---|---|---|",
    ]
    ok = True
    for name, measured, passed in targets:
        ok &= passed
        lines.append(f"| {name} | {measured} | {'PASS' if passed else 'FAIL'} |")
    return "\n".join(lines), ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--scale", type=float, default=120.0, help="sandbox seconds per real second")
    parser.add_argument("--name", default=None)
    args = parser.parse_args()
    r = run(args.size, args.scale)
    text, ok = report(r)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    name = args.name or f"engine-{args.size}"
    (RESULTS / f"{name}.json").write_text(json.dumps(r, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(text + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
