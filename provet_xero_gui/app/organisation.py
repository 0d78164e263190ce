"""Which Xero organisation (and Provet instance) the kept history belongs to, and the explicit choice to change it.

Everything the store keeps (links, cursors, cached reference data, the journal, attention, client bases,
conflicts) belongs to one binding: a Xero organisation and a Provet instance. Choosing another organisation in
the settings (`connect xero --tenant`, the setup wizard) changes nothing kept: a pass whose binding differs
from the organisation chosen refuses to write until the admin chooses, here, either to start that organisation
fresh from a start date or to go back. An organisation kept before keeps its history and picks up where it was
left. Qt-free: the command line and the window call the same functions.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from provet_xero_gui.app.errors import AppError
from provet_xero_gui.app.lock import LockHeld, ProfileLock
from provet_xero_gui.profile import Profile
from provet_xero_gui.store import Binding, Bindings, Store


class OrganisationError(AppError):
    """The choice cannot be made; the message says why and what to do."""


@dataclass(frozen=True)
class Chosen:
    """The organisation the settings name now (what `connect xero --tenant` or the setup wizard chose)."""

    tenant_id: str
    tenant_name: str
    provet_url: str | None

    @property
    def label(self) -> str:
        return self.tenant_name or self.tenant_id


def chosen(profile: Profile) -> Chosen | None:
    x = profile.settings.xero
    if not x.tenant_id:
        return None
    return Chosen(x.tenant_id, x.tenant_name or "", _provet_url(profile))


def _provet_url(profile: Profile) -> str | None:
    url = profile.settings.provet.url or profile.endpoints.provet_url
    return url.rstrip("/") + "/" if url else None


def _same_provet(a: str | None, b: str | None) -> bool:
    return a is None or b is None or a.rstrip("/") == b.rstrip("/")


def binding_for(store: Store, tenant_id: str, provet_url: str | None) -> Binding | None:
    return next((b for b in Bindings(store).all()
                 if b.xero_tenant_id == tenant_id and _same_provet(b.provet_url, provet_url)), None)


def _quoted(name: str) -> str:
    return f'"{name}"' if any(c.isspace() for c in name) else name


def binding_problem(store: Store, profile: Profile) -> str | None:
    """Why a pass must not write now (the organisation chosen is not the one the history belongs to), or None.
    A binding not claimed yet (a new store, or one older than bindings) becomes the chosen organisation's."""
    now = chosen(profile)
    if now is None:
        return None  # not connected: the pass refuses for that reason already
    Bindings(store).claim(now.tenant_id, now.tenant_name or None, now.provet_url)
    kept = Bindings(store).active()
    if kept.xero_tenant_id == now.tenant_id and _same_provet(kept.provet_url, now.provet_url):
        if now.tenant_name and kept.xero_tenant_name != now.tenant_name:
            Bindings(store).rename(kept.id, now.tenant_name)  # renamed in Xero: the same organisation
        return None
    if kept.xero_tenant_id != now.tenant_id:
        what = (f"the Xero organisation '{kept.label}', but the organisation chosen now is '{now.label}'")
    else:
        what = (f"the Provet instance {kept.provet_url}, but the instance set now is {now.provet_url}")
    known = binding_for(store, now.tenant_id, now.provet_url)
    go_on = (f"To go on with '{now.label}' where it was left ({known.linked} links kept): "
             f"provet-xero organisation use {_quoted(now.label)}" if known is not None else
             f"To start '{now.label}' fresh, sending documents dated from a start date on: "
             f"provet-xero organisation use {_quoted(now.label)} --fresh-from YYYY-MM-DD")
    back = (f"To go back to '{kept.label}': provet-xero organisation use {_quoted(kept.label)}"
            if kept.xero_tenant_id != now.tenant_id else
            "To go back: connect Provet to the instance it was before")
    return (f"Nothing was sent: the history kept here belongs to {what}, and the two are never mixed. "
            f"{go_on}. {back}.")


def use_organisation(profile: Profile, name_or_id: str, fresh_from: date | None = None) -> str:
    """Make `name_or_id` the organisation kept in step (the settings' choice and the store's binding, together).

    An organisation kept before picks up its own history where it was left (`fresh_from` must not be given).
    One never kept needs `fresh_from`: it starts with no links, rebuilt from what it already holds on the
    next pass, and documents dated before that day are not sent to it. The other organisations' history stays.
    Returns what happened, in plain words; raises OrganisationError."""
    profile = profile.reload()  # the settings as they are now (the window's copy may be older)
    wanted = name_or_id.strip().casefold()
    if not wanted:
        raise OrganisationError("Name the organisation (its name or its Xero id).")
    lock = ProfileLock.for_profile(profile.paths.data_dir)
    try:
        lock.acquire()
    except LockHeld as exc:
        raise OrganisationError(f"{exc} Choose the organisation once that sync has finished.") from None
    try:
        with profile.store() as store:
            return _use(profile, store, wanted, name_or_id.strip(), fresh_from)
    finally:
        lock.release()


def _use(profile: Profile, store: Store, wanted: str, asked: str, fresh_from: date | None) -> str:
    now = chosen(profile)
    provet_url = _provet_url(profile)
    if now is not None:
        Bindings(store).claim(now.tenant_id, now.tenant_name or None, now.provet_url)
    candidates: list[tuple[str, str]] = []  # (tenant id, name)
    if now is not None:
        candidates.append((now.tenant_id, now.tenant_name))
    candidates += [(b.xero_tenant_id, b.xero_tenant_name or "") for b in Bindings(store).all() if b.xero_tenant_id]
    match = next((c for c in candidates if wanted in (c[0].casefold(), c[1].casefold())), None)
    if match is None:
        raise OrganisationError(
            f"No organisation called '{asked}' is connected or kept here. Choose it first with "
            f"`provet-xero connect xero --tenant {_quoted(asked)}`, then run this command again.")
    tenant_id, name = match
    label = name or tenant_id
    before = Bindings(store).active()
    known = binding_for(store, tenant_id, provet_url)
    if known is not None:
        if fresh_from is not None and known.linked:
            raise OrganisationError(
                f"'{label}' already has its own history here ({known.linked} links), so it cannot start fresh: "
                f"everything already sent would be sent again. Go on with it where it was left: "
                f"provet-xero organisation use {_quoted(label)}")
        Bindings(store).activate(known.id)
        if fresh_from is not None:
            Bindings(store).set_start(known.id, fresh_from.isoformat())
        message = f"provet-xero keeps the books of '{label}' again, where it was left ({known.linked} links kept)."
    else:
        if fresh_from is None:
            raise OrganisationError(
                f"'{label}' has no history here yet. Start it fresh with a start date: provet-xero organisation "
                f"use {_quoted(label)} --fresh-from YYYY-MM-DD (documents dated from that day on are sent to it).")
        Bindings(store).new(tenant_id, name or None, provet_url, fresh_from.isoformat())
        message = (f"provet-xero keeps the books of '{label}' now, fresh from {fresh_from.isoformat()}: the next "
                   "sync first links what it already holds, then sends documents dated from that day on.")
    if before.xero_tenant_id and before.xero_tenant_id != tenant_id:
        message += (f" The history of '{before.label}' is kept ({before.linked} links); go back with "
                    f"provet-xero organisation use {_quoted(before.label)}")
    if now is None or now.tenant_id != tenant_id or now.tenant_name != name:
        profile.settings_file.change(
            lambda s: replace(s, xero=replace(s.xero, tenant_id=tenant_id, tenant_name=name or s.xero.tenant_name)))
    return message


def organisations(profile: Profile) -> list[Binding]:
    """Every organisation whose history is kept here, the active one marked, with its links counted."""
    with profile.store() as store:
        now = chosen(profile)
        if now is not None:
            Bindings(store).claim(now.tenant_id, now.tenant_name or None, now.provet_url)
        return Bindings(store).all()


@dataclass(frozen=True)
class OrganisationQuestion:
    """The choice to ask for when the organisation chosen is not the one the kept history belongs to."""

    kept_id: str
    kept: str  # the name of the organisation the history belongs to
    chosen_id: str
    chosen: str  # the name of the organisation chosen now
    known: bool  # the chosen one has its own history here: "go on with it" rather than "start it fresh"

    @property
    def text(self) -> str:
        offer = (f"'{self.chosen}' has its own history here: provet-xero can go on with it where it was left."
                 if self.known else
                 f"'{self.chosen}' can start fresh: documents dated from the start date on are sent to it, after "
                 "what it already holds from provet-xero is linked.")
        return (f"The history kept here (what was sent, and where) belongs to '{self.kept}'. Nothing is sent to "
                f"'{self.chosen}' until you choose. {offer} Or go back to '{self.kept}'. Either way the other "
                "organisation's history is kept.")


def question(profile: Profile) -> OrganisationQuestion | None:
    """What to ask after another organisation was chosen (None: nothing to ask). The window asks it; the
    command line's `sync` says the same when it refuses."""
    profile = profile.reload()
    now = chosen(profile)
    if now is None:
        return None
    with profile.store() as store:
        if binding_problem(store, profile) is None:
            return None
        kept = Bindings(store).active()
        if kept.xero_tenant_id == now.tenant_id or kept.xero_tenant_id is None:
            return None  # the Provet instance changed, not the organisation: `sync` says what to do
        return OrganisationQuestion(kept.xero_tenant_id, kept.label, now.tenant_id, now.label,
                                    binding_for(store, now.tenant_id, now.provet_url) is not None)
