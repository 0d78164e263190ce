"""`provet-xero demo --headless`: the whole first run on the sandbox, in a throwaway profile.

It starts the simulated Provet Cloud and Xero, connects to both exactly as a person would (the Xero
consent is given by the demo user at the sandbox's own consent page), saves the mapping for the seeded
clinic, and runs one full sync with a progress bar. The throwaway profile's secrets are deleted from the
keyring at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import requests

from provet_xero_gui.app import onboarding
from provet_xero_gui.app.errors import AppError
from provet_xero_gui.app.passes import run_sync
from provet_xero_gui.app.tieout import CannotTieOut, run_tieout
from provet_xero_gui.mapping import Mapping, MappingFile
from provet_xero_gui.profile import Profile
from provet_xero_gui.store.sync_state import SyncState
from provet_xero_gui.sync.events import Event, PassFinished, Progress, SyncResult
from provet_xero_gui.sync.history import describe
from provet_xero_gui.tieout.export import calls_words, summary_words
from provet_xero_gui.xero.identity import IdentityClient
from provet_xero_gui.xero.signin import sign_in

if TYPE_CHECKING:  # the sandbox is imported where it runs: `sync` prints progress with this module too
    from provet_xero_gui.sandbox.runner import Sandbox

CLINIC_ORGANISATION = "Happy Paws Veterinary Ltd"


DEMO_PREFIX = "provet-xero-demo-"
OWNER_FILE = "demo-owner.json"
JUST_MADE_SECONDS = 120  # a folder this young with no owner file may be another demo starting up
DEMO_PROVET_POLL_SECONDS = 20
DEMO_XERO_POLL_SECONDS = 60
BANK_ACCOUNT = "090"  # where the demo's payments made in Xero are reconciled


def process_alive(pid: int) -> bool:
    """Whether process `pid` is running (without signalling it: on Windows os.kill would end it)."""
    if sys.platform == "win32":
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        try:
            return bool(kernel32.GetExitCodeProcess(handle, ctypes.byref(code))) and code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _forget(home: Path) -> None:
    """Remove a demo profile: its keyring entries first (found through its settings), then its folder."""
    old = os.environ.get("PROVET_XERO_HOME")
    os.environ["PROVET_XERO_HOME"] = str(home)
    try:
        creds = Profile.open().credentials()
        creds.delete_xero_tokens()
        creds.delete_provet_secret()
    except Exception:  # cleaning up must never stop a demo; the folder still goes
        pass
    finally:
        if old is None:
            os.environ.pop("PROVET_XERO_HOME", None)
        else:
            os.environ["PROVET_XERO_HOME"] = old
    shutil.rmtree(home, ignore_errors=True)


def sweep_abandoned_demos(tmp: Path | None = None) -> list[Path]:
    """Demo profiles whose demo ended without cleaning up (a crash, a kill, a power cut): their keyring
    entries and folders are removed. A demo still running, or one just starting, is left alone."""
    removed = []
    for home in sorted(Path(tmp or tempfile.gettempdir()).glob(DEMO_PREFIX + "*")):
        if not home.is_dir():
            continue
        try:
            owner = json.loads((home / OWNER_FILE).read_text(encoding="utf-8"))
            if process_alive(int(owner["pid"])):
                continue
        except (OSError, ValueError, KeyError, TypeError):
            with contextlib.suppress(OSError):
                if time.time() - home.stat().st_mtime < JUST_MADE_SECONDS:
                    continue
        _forget(home)
        removed.append(home)
    return removed


@contextmanager
def throwaway_profile() -> Iterator[Profile]:
    """A profile in a temporary folder; its keyring entries and files are removed afterwards, or, if this
    demo dies first, when the next demo starts (`sweep_abandoned_demos`)."""
    sweep_abandoned_demos()
    home = Path(tempfile.mkdtemp(prefix=DEMO_PREFIX))
    (home / OWNER_FILE).write_text(json.dumps({"pid": os.getpid()}), encoding="utf-8")
    old = os.environ.get("PROVET_XERO_HOME")
    os.environ["PROVET_XERO_HOME"] = str(home)
    try:
        yield Profile.open()
    finally:
        if old is None:
            os.environ.pop("PROVET_XERO_HOME", None)
        else:
            os.environ["PROVET_XERO_HOME"] = old
        _forget(home)


def point_at(sandbox: Sandbox) -> None:
    os.environ.update(sandbox.env())


def connect_provet(profile: Profile, sandbox: Sandbox) -> None:
    c = sandbox.credentials
    onboarding.connect_provet(profile, c.provet_url, c.provet_client_id, c.provet_client_secret)


def connect_xero(profile: Profile, sandbox: Sandbox) -> str:
    """The real PKCE flow; the demo user presses Allow on the sandbox's consent page."""
    e = profile.endpoints

    def press_allow(url: str, _opened: bool) -> None:
        def browser() -> None:
            location = sandbox.xero.approve_consent(url)
            requests.get(location, timeout=10)

        threading.Thread(target=browser, name="demo-browser", daemon=True).start()

    result = sign_in(
        IdentityClient.for_endpoints(e),
        e.xero_login_url,
        profile.credentials(),
        profile.settings_file,
        tenant=CLINIC_ORGANISATION,
        show_url=press_allow,
        open_browser=None,
        timeout=60,
    )
    return result.tenant.name


class ProgressPrinter:
    """Progress and notable events on a terminal; a bar that redraws when the output is a terminal."""

    def __init__(self, out: TextIO = sys.stderr) -> None:
        self.out = out
        self.tty = out.isatty()
        self._phase = ""

    def __call__(self, event: Event) -> None:
        if isinstance(event, Progress):
            if self.tty and event.total:
                width = 30
                filled = int(width * event.done / event.total)
                self.out.write(f"\r{event.phase:<22} [{'#' * filled}{'.' * (width - filled)}] "
                               f"{event.done}/{event.total}")
                self.out.flush()
            elif not self.tty and event.phase != self._phase:
                self.out.write(f"{event.phase}...\n")
            self._phase = event.phase
            return
        if isinstance(event, PassFinished):
            if self.tty:
                self.out.write("\r" + " " * 70 + "\r")
            return
        line = describe(event)
        if line and line[0] in ("warning", "error"):
            self.out.write(("\r" if self.tty else "") + line[1] + "\n")


def start_sandbox(*, seed: int, size: int, provet_port: int, xero_port: int, time_scale: float) -> Sandbox:
    """`provet-xero sandbox`: the simulated Provet Cloud and Xero on loopback, started."""
    from provet_xero_gui.sandbox.runner import Sandbox

    try:
        return Sandbox(seed=seed, size=size, provet_port=provet_port, xero_port=xero_port,
                       time_scale=time_scale).start()
    except OSError as exc:
        raise AppError(f"the sandbox could not start: {exc.strerror or exc}") from None


def run_headless_demo(size: int = 60, out: TextIO = sys.stdout, progress: Callable[[Event], None] | None = None,
                      summary: Callable[[SyncResult], None] | None = None) -> SyncResult:
    """Setup and one full sync on the sandbox, then the tie-out of the clinic's last month. `summary` prints
    the sync's result before the tie-out is made."""
    from provet_xero_gui.sandbox.runner import Sandbox, demo_mapping

    with Sandbox(size=size) as sandbox, throwaway_profile():
        point_at(sandbox)
        profile = Profile.open()
        print(f"Sandbox clinic with about {size} finalised invoices is running on this computer.", file=out)
        connect_provet(profile, sandbox)
        print(f"Connected to Provet Cloud (sandbox) at {sandbox.provet.instance_url}", file=out)
        org = connect_xero(profile, sandbox)
        print(f"Signed in to Xero (sandbox) and chose the organisation '{org}'.", file=out)
        MappingFile(profile.paths.mapping_file).save(Mapping.from_json(demo_mapping()))
        print("Saved the mapping of VAT groups and payment methods for the demo clinic.", file=out)
        print("Syncing...", file=out, flush=True)
        result = run_sync(profile.reload(), events=progress or ProgressPrinter())
        if summary is not None:
            summary(result)
        if result.stopped is None:
            _tie_out_last_month(profile.reload(), sandbox.clock.now().date(), out)
        return result


def _tie_out_last_month(profile: Profile, today: date, out: TextIO) -> None:
    """What an accountant checks after the first sync: the last month, day by day (see `provet-xero tieout`)."""
    end = today.replace(day=1) - timedelta(days=1)
    start = end.replace(day=1)
    try:
        report = run_tieout(profile, start, end)
    except CannotTieOut as exc:
        print(f"The tie-out could not be made: {exc}", file=out)
        return
    print(f"Tie-out of {start:%B %Y}: {summary_words(report)}. Xero calls: {calls_words(report)}.", file=out)


def sandbox_clinic(*, size: int, seed: int = 1) -> Sandbox:
    """The simulated clinic for the demo window: started on entering `with`, stopped on leaving it."""
    from provet_xero_gui.sandbox.runner import Sandbox

    return Sandbox(size=size, seed=seed)


def prepare_demo_profile(profile: Profile, sandbox: Sandbox, *, connect: bool) -> Profile:
    """Quicker polling for the demo; and with `connect` (there is no setup wizard to walk through), connect both
    services and save the demo mapping so the window still shows a working sync."""
    from provet_xero_gui.sandbox.runner import demo_mapping

    profile.settings_file.change(lambda s: replace(s, sync=replace(
        s.sync, provet_poll_seconds=DEMO_PROVET_POLL_SECONDS, xero_poll_seconds=DEMO_XERO_POLL_SECONDS)))
    if connect:
        connect_provet(profile.reload(), sandbox)
        connect_xero(profile.reload(), sandbox)
        MappingFile(profile.paths.mapping_file).save(Mapping.from_json(demo_mapping()))
    return profile.reload()


class DemoClinic:
    """Life in the demo clinic, one round at a time: new trade in Provet, payments made in Xero, a client edited
    on both sides. Each change is told to `say` in a line; the scheduled passes then carry them across."""

    def __init__(self, sandbox: Sandbox, profile: Profile, *, seed: int = 1) -> None:
        self._sandbox = sandbox
        self._profile = profile
        self._rng = random.Random(seed)

    def round(self, tick: int, say: Callable[[str], None]) -> None:
        for line in self._sandbox.provet.demo_activity(self._rng):
            say(f"in Provet, {line}")
        if tick % 3 == 0:
            self._pay_in_xero(say)
        if tick % 4 == 2:
            self._edit_on_both_sides(say)

    def _links(self, kind: str) -> dict[str, str]:
        with self._profile.store() as store:
            return {p: link.xero_id for p, link in SyncState(store).links(kind).items()}

    def _pay_in_xero(self, say: Callable[[str], None]) -> None:
        from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID

        linked = set(self._links("invoice").values())
        open_invoices = [d for d in self._sandbox.xero.invoices(CLINIC_TENANT_ID)
                         if d.doc_id in linked and d.status == "AUTHORISED" and d.amount_due > 0]
        if not open_invoices:
            return
        doc = self._rng.choice(open_invoices)
        amount = doc.amount_due if self._rng.random() < 0.5 else (doc.amount_due / 2).quantize(Decimal("0.01"))
        self._sandbox.xero.make_payment(CLINIC_TENANT_ID, doc.doc_id, amount, BANK_ACCOUNT,
                                        reference="Bank transfer")
        say(f"in Xero, a payment of {amount} was reconciled on {doc.number}")

    def _edit_on_both_sides(self, say: Callable[[str], None]) -> None:
        from provet_xero_gui.sandbox.clinic import CLINIC_TENANT_ID

        contacts = self._links("contact")
        if not contacts:
            return
        provet_id, xero_id = self._rng.choice(sorted(contacts.items()))
        n = self._rng.randint(100, 999)
        self._sandbox.provet.edit_client(int(provet_id), email=f"front.desk.{n}@example.org")
        self._sandbox.xero.edit_contact(CLINIC_TENANT_ID, xero_id, email=f"accounts.{n}@example.org")
        say(f"client {provet_id}'s email was changed differently in Provet and in Xero")
