"""Running one sync pass for a profile: the lock, the connections, the mapping, the engine.

The command line and the window's worker both call `run_sync`; it raises `CannotSync` (exit code 2)
when the pass cannot start at all, and returns the pass's result otherwise.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date

from provet_xero_gui.credentials import CredentialsError
from provet_xero_gui.profile import Profile
from provet_xero_gui.provet.source import ProvetSource
from provet_xero_gui.store import StoreError
from provet_xero_gui.sync.context import NotConnected, open_connections
from provet_xero_gui.sync.engine import SyncEngine
from provet_xero_gui.sync.events import Event, EventSink, SyncResult
from provet_xero_gui.sync.history import StoreLog
from provet_xero_gui.sync.lock import LockHeld, ProfileLock
from provet_xero_gui.sync.mapping import MappingError, MappingFile
from provet_xero_gui.sync.organisation import binding_problem
from provet_xero_gui.sync.state import SyncState
from provet_xero_gui.xero.limits import XeroLimiter


class CannotSync(Exception):
    """The pass could not start; the message says why and what to do."""


def run_sync(
    profile: Profile,
    *,
    events: EventSink | None = None,
    retry: Iterable[str] = (),
    poll_xero: bool = True,
    should_stop: Callable[[], bool] = lambda: False,
    limiter: XeroLimiter | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> SyncResult:
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
    try:
        with profile.store() as store:
            problem = binding_problem(store, profile)
            if problem:
                raise CannotSync(problem)
            start = store.active_binding().start_date
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
