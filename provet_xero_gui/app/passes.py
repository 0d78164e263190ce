"""Running one sync pass for a profile: the lock, the connections, the mapping, the engine.

The command line and the window's worker both call `run_sync`; it raises `CannotSync` (exit code 2)
when the pass cannot start at all, and returns the pass's result otherwise.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date

from provet_xero_gui.app.connections import NotConnected, open_connections
from provet_xero_gui.app.errors import AppError
from provet_xero_gui.app.lock import LockHeld, ProfileLock
from provet_xero_gui.app.organisation import binding_problem
from provet_xero_gui.credentials import CredentialsError
from provet_xero_gui.mapping import MappingError, MappingFile
from provet_xero_gui.private import plain_os_error
from provet_xero_gui.profile import Profile
from provet_xero_gui.provet.source import ProvetSource
from provet_xero_gui.store import Bindings, StoreError
from provet_xero_gui.store.sync_state import SyncState
from provet_xero_gui.sync.engine import PassStopped, SyncEngine
from provet_xero_gui.sync.events import Event, EventSink, SyncResult
from provet_xero_gui.sync.history import StoreLog
from provet_xero_gui.xero.limits import XeroLimiter


class CannotSync(AppError):
    """The pass could not start; the message says why and what to do."""


def stoppable_sleep(should_stop: Callable[[], bool], tick: float = 0.2) -> Callable[[float], None]:
    """A `sleep` for the clients' waits (429s, backoff, pacing) that Pause and Quit cut short: it raises
    PassStopped as soon as `should_stop()` says so. When `should_stop` is an Event's `is_set` (the window's
    worker), the wait wakes the moment the Event is set; otherwise it looks every `tick` seconds."""
    owner = getattr(should_stop, "__self__", None)
    event = owner if isinstance(owner, threading.Event) else threading.Event()
    step = None if event is owner else tick

    def sleep(seconds: float) -> None:
        end = time.monotonic() + max(0.0, seconds)
        while True:
            if should_stop():
                raise PassStopped("The sync was paused; it goes on from here next time.", "paused")
            left = end - time.monotonic()
            if left <= 0:
                return
            event.wait(left if step is None else min(step, left))

    return sleep


def run_sync(
    profile: Profile,
    *,
    events: EventSink | None = None,
    retry: Iterable[str] = (),
    poll_xero: bool = True,
    should_stop: Callable[[], bool] = lambda: False,
    limiter: XeroLimiter | None = None,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> SyncResult:
    """`sleep` defaults to one that Pause/Quit (`should_stop`) interrupt: no wait outlasts a stop."""
    sleep = sleep or stoppable_sleep(should_stop)
    try:
        mapping = MappingFile(profile.paths.mapping_file).load()
    except MappingError as exc:
        raise CannotSync(f"No usable mapping: {exc}") from None
    try:
        connections = open_connections(profile, limiter=limiter, sleep=sleep, clock=clock)
    except (NotConnected, CredentialsError) as exc:
        raise CannotSync(str(exc)) from None
    lock = ProfileLock.for_profile(profile.paths.data_dir)
    try:
        lock.acquire()
    except LockHeld as exc:
        raise CannotSync(str(exc)) from None
    except OSError as exc:  # the profile read-only or full, `sync.lock` a folder
        raise CannotSync(plain_os_error(exc)) from None
    try:
        with profile.store() as store:
            problem = binding_problem(store, profile)
            if problem:
                raise CannotSync(problem)
            start = Bindings(store).active().start_date
            if start:  # an organisation started fresh: nothing older than its own start date goes to it
                mapping = replace(mapping, start_date=date.fromisoformat(start))
            log_sink = StoreLog(store)

            def sink(event: Event) -> None:
                log_sink(event)
                if events is not None:
                    events(event)

            provet = connections.provet
            engine = SyncEngine(
                ProvetSource(provet),
                connections.xero,
                SyncState(store),
                mapping,
                events=sink,
                should_stop=should_stop,
                provet_calls=lambda: sum(provet.calls.values()),
                conflict_rule=profile.settings.sync.conflict_rule,
            )
            return engine.run_pass(retry=retry, poll_xero=poll_xero)
    except StoreError as exc:
        raise CannotSync(str(exc)) from None
    finally:
        lock.release()
