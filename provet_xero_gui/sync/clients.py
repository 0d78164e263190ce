"""Client details both ways (DESIGN.md rule 7): a linked client/contact pair is kept in step field by field.

Fields, each one plain string compared after folding whitespace (email case-insensitively, country in
capitals, both cut to what Xero can hold):

    field       Provet client                                 Xero contact
    name        organization_name (companies), else           Name, without the " (Provet 123)" suffix the app
                firstname + lastname                          added when the plain name was taken (kept on write);
                                                              FirstName/LastName written for people
    email       email                                         EmailAddress
    phone       the client's first phone number               Phones DEFAULT (country + area code + number)
    street      street_address                                Addresses POBOX AddressLine1
    postcode    zip_code                                      Addresses POBOX PostalCode
    city        city                                          Addresses POBOX City
    country     country (ISO alpha-2)                         Addresses POBOX Country
    tax_number  vat_number                                    TaxNumber

A name changed in Xero goes back to Provet as `organization_name` for a company. For a person it is split
into first and last name: Xero's own FirstName/LastName when they spell the new name; else the Provet first
name is kept when the new name starts with it (a changed surname); else the last name is kept when the new
name ends with it; else the last word becomes the last name and the rest the first name.

The base is the value both sides had after the last sync (`client_fields`). Per field: both sides equal →
settled (the base moves to it, so an identical change on both sides is no conflict); only Provet differs
from the base → Xero is updated (batched, ≤ 50 a call, `POST Contacts` with ContactID); only Xero differs →
the Provet client is PATCHed; both differ from the base and from each other → a conflict, neither side is
written for that field until someone chooses (`resolve`) or the standing rule ("provet" / "xero") does.
A pair without a base yet (just linked) takes Xero's current values as its base, so Provet's differing
values are written to Xero: the contact was made from Provet's data, or is a hand-made contact the clinic's
Provet record should win over when the two are first linked.

Echo-free: after a value is written to one side, the base becomes that value, so the next pass reads the
write back (Provet's `modified`, Xero's UpdatedDateUTC moved) as "both equal the base", not as a change.

Crash-safe without a journal: both writes set values (doing one twice is harmless) and the decision is made
again from what both sides hold now. Killed after a write and before its base was saved, the next pass
finds both sides equal and settles; killed before the write, it finds the same difference and writes again.
A conflict is saved (and a standing rule's choice with it) before anything is written, so a kill never turns
a conflict into a one-sided copy. The read cursors move only at the end of a step that went through, so a
change read but not yet handled is read again.

Cheap when idle: one Xero call (`GET Contacts` with If-Modified-Since from the Xero cursor, which follows
Xero's own UpdatedDateUTC, never the local clock). Provet's changes are read since its cursor with a few
minutes' overlap (Xero's with one minute); re-reading is harmless because each pair keeps the Provet
`modified` and Xero UpdatedDateUTC it was last looked at with, and a record not newer than that is not looked
at again. So a value one side refused waits in the attention list and is tried again only when either side
changes, not on every pass. A client whose Provet values all still equal its base is not looked up in Xero:
a change made in Xero shows up in the poll.

Resolving: `resolve()` records the choice; with the values read now (`read_current`, what the command line
does) it refuses when either side changed again after the conflict was recorded. The next pass checks again
before writing (the window may resolve without reading): a side that changed again turns the choice back
into an open conflict with the new values, and nothing is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from provet_xero_gui.provet.client import ProvetRefusedError
from provet_xero_gui.provet.records import Client, PhoneNumber
from provet_xero_gui.store.conflicts import VALUE_PREFIX, ClientState, Conflict, NewConflict
from provet_xero_gui.store.sync_state import SyncState
from provet_xero_gui.sync.contacts import MAX_NAME, client_name, contact_email
from provet_xero_gui.sync.events import ConflictFound
from provet_xero_gui.sync.outcomes import Outcomes
from provet_xero_gui.xero.client import XeroContactState, XeroValidationError, fit
from provet_xero_gui.xero.port import XeroPort

FIELDS = ("name", "email", "phone", "street", "postcode", "city", "country", "tax_number")
FIELD_WORDS = {
    "name": "name", "email": "email", "phone": "phone number", "street": "street address",
    "postcode": "postcode", "city": "city", "country": "country", "tax_number": "VAT/tax number",
}  # fmt: skip
XERO_LIMITS = {"name": MAX_NAME, "email": 255, "phone": 50, "street": 500, "postcode": 50, "city": 255,
               "country": 50, "tax_number": 50}  # fmt: skip
RULES = ("ask", "provet", "xero")
CURSOR_PROVET = "provet:clients"
CURSOR_XERO = "xero:contacts"
PROVET_OVERLAP = timedelta(minutes=5)
XERO_OVERLAP = timedelta(minutes=1)
BATCH = 50
# Kept with the bases: the Provet `modified` and Xero UpdatedDateUTC each pair was last looked at with, so a
# record read again (the cursors' overlap, a value one side refused) is not looked at, or written, again.
SEEN_PROVET = "~provet_modified"
SEEN_XERO = "~xero_updated"

SAME, TO_XERO, TO_PROVET, CONFLICT = "same", "to_xero", "to_provet", "conflict"


class ClientSource(Protocol):
    """What this step reads from and writes to Provet (provet.source.ProvetSource)."""

    def changed_clients(self, since: datetime | None) -> Any: ...
    def clients(self, ids: Iterable[int]) -> Any: ...
    def phone_numbers(self, ids: Iterable[int]) -> Any: ...
    def patch_client(self, client_id: int, fields: Mapping[str, str]) -> Client: ...
    def add_phone_number(self, client_id: int, phone_number: str, description: str = ...) -> PhoneNumber: ...
    def patch_phone_number(self, phone_id: int, phone_number: str) -> PhoneNumber: ...


class ResolveRefused(Exception):
    """A conflict cannot be resolved as asked; the message says why and what to do."""


@dataclass(frozen=True)
class ClientReport:
    """What one run of the step did (also told through Outcomes)."""

    contacts_updated: int = 0  # Xero contacts written
    clients_updated: int = 0  # Provet clients written
    conflicts_found: int = 0
    refused: int = 0
    xero_calls: int = 0


# --- values on each side ------------------------------------------------------------------------------------


def fold(text: str | None) -> str:
    return " ".join((text or "").split())


def norm(name: str, value: str | None) -> str:
    """What is compared: whitespace folded, cut to Xero's length, email in lower case, country in capitals."""
    text = fit(fold(value), XERO_LIMITS[name])
    if name == "email":
        return text.casefold()
    if name == "country":
        return text.upper()
    return text


def same(name: str, a: str | None, b: str | None) -> bool:
    return norm(name, a) == norm(name, b)


def decide(name: str, base: str | None, provet: str, xero: str, *, has_base: bool = True) -> str:
    """One field: SAME, TO_XERO (Provet changed), TO_PROVET (Xero changed) or CONFLICT."""
    if same(name, provet, xero):
        return SAME
    if not has_base or same(name, xero, base):
        return TO_XERO  # without a base, Xero's value is the base: Provet's differing value wins
    if same(name, provet, base):
        return TO_PROVET
    return CONFLICT


def is_company(client: Client) -> bool:
    return client.customer_type != 0 and bool(client.organization_name)


def suffix(client_id: int | str) -> str:
    return f" (Provet {client_id})"


def provet_values(client: Client, phone: str) -> dict[str, str]:
    return {
        "name": client_name(client),
        "email": contact_email(client.email),
        "phone": fold(phone),
        "street": fold(client.street_address),
        "postcode": fold(client.zip_code),
        "city": fold(client.city),
        "country": fold(client.country),
        "tax_number": fold(client.vat_number),
    }


def xero_values(contact: XeroContactState, client_id: int | str) -> dict[str, str]:
    name = fold(contact.name)
    if name.endswith(suffix(client_id)):
        name = name[: -len(suffix(client_id))]
    phone = dict(contact.default_phone)
    parts = (phone.get("PhoneCountryCode", ""), phone.get("PhoneAreaCode", ""), phone.get("PhoneNumber", ""))
    return {
        "name": name,
        "email": fold(contact.email),
        "phone": fold(" ".join(parts)),
        "street": fold(contact.street),
        "postcode": fold(contact.postcode),
        "city": fold(contact.city),
        "country": fold(contact.country),
        "tax_number": fold(contact.tax_number),
    }


def split_name(value: str, client: Client, xero_first: str = "", xero_last: str = "") -> tuple[str, str]:
    """A person's full name as Provet's first and last name (the rule is in the module docstring)."""
    value = fold(value)
    first, last = fold(xero_first), fold(xero_last)
    if (first or last) and fold(f"{first} {last}") == value:
        return first, last
    first, last = fold(client.firstname), fold(client.lastname)
    if fold(f"{first} {last}") == value:
        return first, last
    if first and value.startswith(first + " "):
        return first, value[len(first) + 1 :]
    if last and value.endswith(" " + last):
        return value[: -len(last) - 1], last
    head, _, tail = value.rpartition(" ")
    return head, tail


def provet_changes(
    client: Client, values: Mapping[str, str], contact: XeroContactState | None = None
) -> tuple[dict[str, str], str | None]:
    """The PATCH body for these field values, and the phone number to write (None: leave it)."""
    body: dict[str, str] = {}
    phone: str | None = None
    for name, raw in values.items():
        v = fold(raw)
        if name == "name":
            if is_company(client):
                body["organization_name"] = v
            else:
                body["firstname"], body["lastname"] = split_name(
                    v, client, contact.first_name if contact else "", contact.last_name if contact else ""
                )
        elif name == "phone":
            phone = v
        else:
            key = {"email": "email", "street": "street_address", "postcode": "zip_code", "city": "city",
                   "country": "country", "tax_number": "vat_number"}[name]  # fmt: skip
            body[key] = v.upper() if name == "country" else v
    return body, phone


def xero_element(
    client: Client, contact: XeroContactState, values: Mapping[str, str], *, with_suffix: bool = False
) -> dict[str, Any]:
    """One `POST Contacts` element: ContactID and only what changes (a changed address is sent whole)."""
    element: dict[str, Any] = {"ContactID": contact.xero_id}
    address = dict(contact.pobox)
    address_changed = False
    for name, raw in values.items():
        v = fold(raw)
        if name == "name":
            end = suffix(client.id)
            if with_suffix or contact.name.endswith(end):
                element["Name"] = fit(v, MAX_NAME - len(end)) + end
            else:
                element["Name"] = fit(v, MAX_NAME)
            if not is_company(client):
                first, last = split_name(v, client)
                element["FirstName"], element["LastName"] = fit(first, 255), fit(last, 255)
        elif name == "email":
            element["EmailAddress"] = fit(v, 255)
        elif name == "phone":
            element["Phones"] = [{"PhoneType": "DEFAULT", "PhoneNumber": fit(v, 50), "PhoneAreaCode": "",
                                  "PhoneCountryCode": ""}]
        elif name == "tax_number":
            element["TaxNumber"] = fit(v, 50)
        else:
            key, limit = {"street": ("AddressLine1", 500), "postcode": ("PostalCode", 50), "city": ("City", 255),
                          "country": ("Country", 50)}[name]  # fmt: skip
            address[key] = fit(v, limit)
            address_changed = True
    if address_changed:
        address["AddressType"] = "POBOX"
        element["Addresses"] = [address]
    return element


def _words(names: Iterable[str]) -> str:
    return ", ".join(FIELD_WORDS[n] for n in names)


def _stamp(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


def _newer(stamp: datetime | None, seen: str | None) -> bool:
    return stamp is None or seen is None or stamp > datetime.fromisoformat(seen)


# --- one pass -------------------------------------------------------------------------------------------------


@dataclass
class _Plan:
    """What one pair needs this pass; `after` and `close_after` are saved once the writes went through."""

    client: Client
    contact: XeroContactState
    phone_id: int | None
    to_xero: dict[str, str] = field(default_factory=dict)
    to_provet: dict[str, str] = field(default_factory=dict)
    after: dict[str, str] = field(default_factory=dict)  # field → base once written
    close_after: dict[str, tuple[int | None, str]] = field(default_factory=dict)  # field → (conflict, resolution)
    failed: set[str] = field(default_factory=set)
    provet_tried: bool = False
    xero_tried: bool = False
    provet_seen: datetime | None = None  # `modified` / UpdatedDateUTC as last read or written
    xero_seen: datetime | None = None
    provet_read: dict[str, str] = field(default_factory=dict)  # the values decided on
    xero_read: dict[str, str] = field(default_factory=dict)

    def as_expected(self, got: Mapping[str, str], read: Mapping[str, str], written: Mapping[str, str]) -> bool:
        """A write's answer holds what was read plus what was written: nobody changed anything in between,
        so its stamp can stand for "looked at"."""
        return all(same(n, got[n], written.get(n, read[n])) for n in FIELDS if n != "phone" or "phone" in written)

    @property
    def finished(self) -> bool:
        """Every write it needed was tried (refused ones included): it need not be looked at again."""
        return (self.provet_tried or not self.to_provet) and (self.xero_tried or not self.to_xero)

    def written(self, name: str) -> bool:
        """Every write this field needed was made (and none refused)."""
        return name not in self.failed and (self.provet_tried or name not in self.to_provet) and (
            self.xero_tried or name not in self.to_xero
        )

    @property
    def cid(self) -> str:
        return str(self.client.id)

    @property
    def label(self) -> str:
        return f"Client {client_name(self.client)}"


@dataclass
class _Decisions:
    """Everything saved before any write, in one transaction."""

    bases: dict[str, dict[str, str | None]] = field(default_factory=dict)
    new: list[tuple[_Plan, NewConflict]] = field(default_factory=list)
    updated: list[NewConflict] = field(default_factory=list)
    close: dict[int, str] = field(default_factory=dict)
    choose: dict[int, str | None] = field(default_factory=dict)


class ClientSync:
    """The client-details step of a sync pass; run after documents and payments."""

    def __init__(
        self,
        provet: ClientSource,
        xero: XeroPort,
        state: SyncState,
        out: Outcomes,
        *,
        conflict_rule: str = "ask",
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        check_stop: Callable[[], None] = lambda: None,
    ) -> None:
        if conflict_rule not in RULES:
            raise ValueError(f"conflict_rule must be one of {', '.join(RULES)}, not {conflict_rule!r}")
        self.provet = provet
        self.xero = xero
        self.state = state
        self.clients = ClientState(state.store)
        self.out = out
        self.rule = conflict_rule
        self._now = now
        self._check_stop = check_stop
        self._counts = {"xero": 0, "provet": 0, "conflicts": 0, "refused": 0}

    def run(self, poll_xero: bool = True) -> ClientReport:
        """One pass over what changed on either side. `poll_xero=False` skips reading Xero's changes (they
        are polled less often than Provet's); Provet's changes are still copied, and checked against Xero."""
        calls_before = self.xero.total_calls
        links = {pid: link.xero_id for pid, link in self.state.links("contact").items()}
        if links:
            self._run(links, poll_xero)
        c = self._counts
        return ClientReport(c["xero"], c["provet"], c["conflicts"], c["refused"], self.xero.total_calls - calls_before)

    def _run(self, links: dict[str, str], poll_xero: bool) -> None:
        by_contact = {xid.lower(): pid for pid, xid in links.items()}
        blocked = False  # something could not be read: the cursors stay, so it is read again

        # What Xero changed (one call when nothing did).
        xero_now: dict[str, XeroContactState] = {}
        polled: set[str] = set()
        xero_cursor: datetime | None = None
        if poll_xero:
            since = self.state.cursor(CURSOR_XERO)
            since_dt = datetime.fromisoformat(since) if since else None
            for contact in self.xero.contacts_modified_since(since_dt - XERO_OVERLAP if since_dt else None):
                if contact.updated and (xero_cursor is None or contact.updated > xero_cursor):
                    xero_cursor = contact.updated
                pid = by_contact.get(contact.xero_id.lower())
                if pid is not None:
                    xero_now[pid] = contact
                    polled.add(pid)

        # What Provet changed; without a cursor yet, every linked client (only linked ones matter).
        since = self.state.cursor(CURSOR_PROVET)
        if since:
            changed = self.provet.changed_clients(datetime.fromisoformat(since) - PROVET_OVERLAP)
        else:
            changed = self.provet.clients(sorted(int(p) for p in links))
        provet_cursor: datetime | None = changed.cursor
        if since and changed.cursor_is_impossible(datetime.fromisoformat(since)):  # an older version left it so
            self.out.notice("warning", "The sync's place in Provet's clients "
                            f"({datetime.fromisoformat(since).astimezone():%Y-%m-%d %H:%M}) "
                            "was later than Provet's own clock, after a client dated in the future; every linked "
                            "client is looked at again on the next pass.")
            self.state.set_cursor(CURSOR_PROVET, "")  # no cursor: the next pass reads every linked client
            provet_cursor = None
        clients: dict[str, Client] = {str(c.id): c for c in changed.records if str(c.id) in links}
        bad = [b for b in changed.bad if b.id is None or str(b.id) in links]
        self.out.unreadable(bad)
        blocked |= bool(bad)
        # Only what changed since the pair was last looked at.
        marks = self.clients.bases(set(clients) | polled)
        provet_changed = {p for p, c in clients.items() if _newer(c.modified, marks.get(p, {}).get(SEEN_PROVET))}
        polled = {p for p in polled if _newer(xero_now[p].updated, marks.get(p, {}).get(SEEN_XERO))}

        unbased = self.clients.unbased_links()
        open_conflicts = self.clients.open_conflicts()
        # Chosen values are written now; with a standing rule, older conflicts too — except for a client whose
        # write was refused (it waits in the attention list until one side changes again).
        refused = set(self.state.attention_ids("client"))
        acting = {
            c.provet_client_id for c in open_conflicts
            if c.chosen is not None or (self.rule != "ask" and c.provet_client_id not in refused)
        }  # fmt: skip
        candidates = (provet_changed | polled | set(unbased) | acting) & set(links)
        if not candidates:
            if not blocked:
                self._advance(provet_cursor, xero_cursor)
            return
        self.out.progress("checking client details", 0, len(candidates))

        missing = sorted(int(p) for p in candidates - set(clients))
        if missing:
            more = self.provet.clients(missing)
            self.out.unreadable(more.bad)
            blocked |= bool(more.bad)
            bad += list(more.bad)
            clients.update({str(c.id): c for c in more.records})
        unreadable_ids = {str(b.id) for b in bad if b.id is not None}
        candidates -= unreadable_ids
        gone = {p for p in candidates if p not in clients}
        candidates -= gone
        if gone & set(unbased):
            # A link whose Provet client is no more: mark it as seen, so it is not looked up on every pass.
            self.clients.record({p: dict.fromkeys(FIELDS) for p in gone & set(unbased)})

        phones, phone_bad = self._phones([clients[p] for p in candidates])
        if phone_bad:
            blocked = True
            candidates -= phone_bad

        bases = self.clients.bases(candidates)
        conflicts = {(c.provet_client_id, c.field): c for c in open_conflicts}
        # A client re-read in the overlap (or whose own write came back) needs Xero only if Provet differs.
        quiet = {
            p for p in candidates
            if p in provet_changed and p not in polled and p not in unbased and p not in acting
            and self._provet_as_based(clients[p], phones.get(p, ""), bases.get(p, {}), conflicts)
        }  # fmt: skip
        candidates -= quiet

        lookup = sorted(links[p] for p in candidates if p not in xero_now)
        if lookup:
            found = {c.xero_id.lower(): c for c in self.xero.contacts_by_id(lookup)}
            for p in candidates:
                if p not in xero_now and links[p].lower() in found:
                    xero_now[p] = found[links[p].lower()]
        for p in sorted(candidates - set(xero_now), key=int):
            self.out.notice("warning", f"Client {client_name(clients[p])}: its Xero contact was not found, so its "
                                       "details are not kept in step.")
            if p in unbased:
                self.clients.record({p: dict(provet_values(clients[p], phones.get(p, "")))})
            candidates.discard(p)

        decisions = _Decisions()
        plans = [
            self._plan(clients[p], xero_now[p], phones.get(p, ""), bases.get(p), conflicts, decisions)
            for p in sorted(candidates, key=int)
        ]
        new_ids = self.clients.record(
            decisions.bases, new=[c for _, c in decisions.new], updated=decisions.updated,
            close=decisions.close, choose=decisions.choose, now=self._stamp(),
        )
        for (plan, conflict), cid in zip(decisions.new, new_ids, strict=True):
            for name, (known, resolution) in list(plan.close_after.items()):
                if known is None and name == conflict.field:
                    plan.close_after[name] = (cid, resolution)
            if conflict.resolution is None:
                self._tell_conflict(plan, cid, conflict)
        try:
            self._write_provet([p for p in plans if p.to_provet])
            self._write_xero([p for p in plans if p.to_xero])
        finally:
            self._settle(plans, refused)  # also when the pass stops half-way: what was written is saved
        if not blocked:
            self._advance(provet_cursor, xero_cursor)

    # --- reading ------------------------------------------------------------------------------------------------
    def _phones(self, clients: Sequence[Client]) -> tuple[dict[str, str], set[str]]:
        """Client id → its first phone number; and the clients whose phone could not be read."""
        first = {c.phone_ids[0]: str(c.id) for c in clients if c.phone_ids}
        if not first:
            return {}, set()
        read = self.provet.phone_numbers(sorted(first))
        self.out.unreadable(read.bad)
        numbers = {p.id: p.phone_number for p in read.records}
        bad = {first[b.id] for b in read.bad if b.id in first}
        return {cid: numbers.get(pid, "") for pid, cid in first.items()}, bad

    @staticmethod
    def _provet_as_based(
        client: Client, phone: str, based: Mapping[str, str | None], conflicts: Mapping[tuple[str, str], Conflict]
    ) -> bool:
        values = provet_values(client, phone)
        for name in FIELDS:
            c = conflicts.get((str(client.id), name))
            if c is not None and same(name, values[name], c.provet_value):
                continue
            if name not in based or not same(name, values[name], based[name]):
                return False
        return True

    # --- deciding -------------------------------------------------------------------------------------------------
    def _plan(
        self,
        client: Client,
        contact: XeroContactState,
        phone: str,
        based: Mapping[str, str | None] | None,
        conflicts: Mapping[tuple[str, str], Conflict],
        d: _Decisions,
    ) -> _Plan:
        phone_id = client.phone_ids[0] if client.phone_ids else None
        pv, xv = provet_values(client, phone), xero_values(contact, client.id)
        plan = _Plan(client, contact, phone_id, provet_seen=client.modified, xero_seen=contact.updated,
                     provet_read=pv, xero_read=xv)
        based = based or {}
        cid = plan.cid
        bases_now = d.bases.setdefault(cid, {})
        for name in FIELDS:
            p, x = pv[name], xv[name]
            has_base = name in based
            base = based.get(name)
            verdict = decide(name, base, p, x, has_base=has_base)
            c = conflicts.get((cid, name))
            if c is not None and c.chosen is not None:
                chosen = c.chosen
                if (same(name, p, c.provet_value) or same(name, p, chosen)) and (
                    same(name, x, c.xero_value) or same(name, x, chosen)
                ):
                    self._apply(plan, name, chosen, p, x, (c.id, c.resolution or ""), d)
                    continue
                if verdict == CONFLICT:
                    d.updated.append(self._conflict(plan, name, base, p, x))
                    d.choose[c.id] = None
                    if self.rule != "ask":
                        self._by_rule(plan, name, p, x, c.id, d)
                    else:
                        self.out.notice("warning", f"{plan.label}: the {FIELD_WORDS[name]} changed again after a "
                                                   "value was chosen, so nothing was written.")
                        self._tell_conflict(plan, c.id, d.updated[-1])
                    continue
                d.close[c.id] = "settled" if verdict == SAME else "superseded"
            elif c is not None:  # waiting for a choice
                if verdict == CONFLICT:
                    if not (same(name, p, c.provet_value) and same(name, x, c.xero_value)):
                        d.updated.append(self._conflict(plan, name, base, p, x))
                    if self.rule != "ask":
                        self._by_rule(plan, name, p, x, c.id, d)
                    continue
                d.close[c.id] = "settled" if verdict == SAME else "superseded"
            if verdict == SAME:
                if not has_base or not same(name, base, p):
                    bases_now[name] = p
            elif verdict == TO_XERO:
                plan.to_xero[name] = p
                plan.after[name] = p
                if not has_base:
                    bases_now[name] = x  # the base of a new link is what Xero holds
            elif verdict == TO_PROVET:
                plan.to_provet[name] = x
                plan.after[name] = x
            else:
                conflict = self._conflict(plan, name, base, p, x, self.rule if self.rule != "ask" else None)
                d.new.append((plan, conflict))
                if self.rule != "ask":
                    self._by_rule(plan, name, p, x, None, d)
        if not bases_now:
            del d.bases[cid]
        return plan

    def _conflict(
        self, plan: _Plan, name: str, base: str | None, p: str, x: str, resolution: str | None = None
    ) -> NewConflict:
        return NewConflict(plan.cid, plan.contact.xero_id, name, base, p, x, _stamp(plan.client.modified),
                           _stamp(plan.contact.updated), resolution)

    def _by_rule(self, plan: _Plan, name: str, p: str, x: str, conflict_id: int | None, d: _Decisions) -> None:
        keep = p if self.rule == "provet" else x
        side = "Provet's" if self.rule == "provet" else "Xero's"
        self.out.notice("info", f"{plan.label}: the {FIELD_WORDS[name]} was changed in both Provet and Xero; the "
                                f"standing rule keeps {side} value.")
        if conflict_id is not None:
            d.choose[conflict_id] = self.rule
        self._apply(plan, name, keep, p, x, (conflict_id, self.rule), d)

    @staticmethod
    def _apply(
        plan: _Plan, name: str, value: str, p: str, x: str, conflict: tuple[int | None, str], d: _Decisions
    ) -> None:
        """Write a chosen value to whichever side does not have it yet."""
        if not same(name, p, value):
            plan.to_provet[name] = value
        if not same(name, x, value):
            plan.to_xero[name] = value
        plan.after[name] = value
        plan.close_after[name] = conflict

    def _tell_conflict(self, plan: _Plan, conflict_id: int, c: NewConflict) -> None:
        self._counts["conflicts"] += 1
        self.out.emit(ConflictFound(conflict_id, plan.cid, plan.label, c.field, c.provet_value, c.xero_value))
        self.out.notice(
            "warning",
            f"{plan.label}: the {FIELD_WORDS[c.field]} was changed in both Provet ({c.provet_value or 'empty'}) and "
            f"Xero ({c.xero_value or 'empty'}); neither side is written until you choose (conflict {conflict_id}, "
            "see `provet-xero conflicts`).",
        )

    # --- writing ----------------------------------------------------------------------------------------------------
    def _write_provet(self, plans: list[_Plan]) -> None:
        for plan in plans:
            self._check_stop()
            body, phone = provet_changes(plan.client, plan.to_provet, plan.contact)
            fields = [n for n in plan.to_provet if n != "phone"]
            if body:
                try:
                    written = self.provet.patch_client(plan.client.id, body)
                    got = provet_values(written, plan.provet_read["phone"])
                    if phone is None and plan.as_expected(got, plan.provet_read, plan.to_provet):
                        plan.provet_seen = written.modified
                except ProvetRefusedError as exc:
                    self._refused(plan, fields, "client_refused", f"Provet refused the {_words(fields)} from Xero: "
                                  f"{exc}", "Correct it in Xero, or enter the same value in Provet; it is copied on "
                                  "the next sync after that change.")
            if phone is not None:
                self._write_phone(plan, phone)
            plan.provet_tried = True
            done = [n for n in plan.to_provet if n not in plan.failed]
            if done:
                self._counts["provet"] += 1
                self.out.notice("info", f"{plan.label}: {_words(done)} copied from Xero to Provet.")

    def _write_phone(self, plan: _Plan, phone: str) -> None:
        why = ""
        try:
            if plan.phone_id is not None and phone:
                self.provet.patch_phone_number(plan.phone_id, phone)
            elif phone:
                self.provet.add_phone_number(plan.client.id, phone, "Phone")
            elif plan.phone_id is not None:
                why = ("its phone number was removed in Xero, and Provet's API cannot remove a client's phone "
                       "number")
        except ProvetRefusedError as exc:
            why = f"Provet refused the phone number from Xero: {exc}"
        if why:
            self._refused(plan, ["phone"], "client_refused", why,
                          "Correct it in Xero, or change it in Provet by hand; it is copied on the next sync after "
                          "that change.")

    def _write_xero(self, plans: list[_Plan]) -> None:
        for start in range(0, len(plans), BATCH):
            self._check_stop()
            chunk = plans[start : start + BATCH]
            self.out.progress("updating contacts in Xero", start, len(plans))
            results = self._post([xero_element(p.client, p.contact, p.to_xero) for p in chunk])
            taken: list[_Plan] = []
            for plan, res in zip(chunk, results, strict=True):
                if res is not None and not res.errors and not res.has_errors:
                    self._xero_done(plan, res)
                elif "name" in plan.to_xero and res is not None and any("already assigned" in m for m in res.errors):
                    taken.append(plan)  # the plain name belongs to another contact: add the suffix, as when made
                else:
                    self._xero_refused(plan, res)
            if taken:
                again = self._post([xero_element(p.client, p.contact, p.to_xero, with_suffix=True) for p in taken])
                for plan, res in zip(taken, again, strict=True):
                    if res is not None and not res.errors and not res.has_errors:
                        self._xero_done(plan, res)
                    else:
                        self._xero_refused(plan, res)

    def _post(self, elements: list[dict[str, Any]]) -> list[XeroContactState | None]:
        """One batch; refused as a whole, its elements go one by one so one bad one stops no others."""
        key = f"provet-xero-{uuid.uuid4()}"  # setting values twice is harmless: the key need not outlive a crash
        try:
            got = self.xero.update_contacts(elements, key)
        except XeroValidationError as exc:
            if len(elements) == 1:
                return [XeroContactState("", "", "", "", "", True, exc.messages, None)]
            return [r for e in elements for r in self._post([e])]
        return [got[i] if i < len(got) else None for i in range(len(elements))]

    def _xero_done(self, plan: _Plan, res: XeroContactState) -> None:
        plan.xero_tried = True
        if res.updated and plan.as_expected(xero_values(res, plan.client.id), plan.xero_read, plan.to_xero):
            plan.xero_seen = res.updated
        self._counts["xero"] += 1
        self.out.done("contact_update", plan.cid, f"{plan.label}: {_words(plan.to_xero)}", plan.contact.xero_id)

    def _xero_refused(self, plan: _Plan, res: XeroContactState | None) -> None:
        plan.xero_tried = True
        why = "; ".join(res.errors) if res is not None and res.errors else "no reason given"
        self._refused(plan, list(plan.to_xero), "contact_rejected",
                      f"Xero refused the changed {_words(plan.to_xero)}: {why}",
                      "Correct the client's details in Provet; they are sent on the next sync after that change.")

    def _refused(self, plan: _Plan, names: list[str], cause: str, reason: str, fix: str) -> None:
        self._counts["refused"] += 1
        plan.failed.update(names)
        self.out.hold("client", plan.cid, plan.label, cause, reason, fix)

    # --- bookkeeping ----------------------------------------------------------------------------------------------
    def _settle(self, plans: list[_Plan], waiting: set[str]) -> None:
        """Save the bases of what was written, in one transaction; a chosen value that could not be written
        waits for a choice again."""
        bases: dict[str, dict[str, str | None]] = {}
        close: dict[int, str] = {}
        choose: dict[int, str | None] = {}
        settled: list[str] = []
        for plan in plans:
            done: dict[str, str | None] = {n: v for n, v in plan.after.items() if plan.written(n)}
            if plan.finished:
                done[SEEN_PROVET] = _stamp(plan.provet_seen)
                done[SEEN_XERO] = _stamp(plan.xero_seen)
            if done:
                bases[plan.cid] = done
            for name, (conflict_id, resolution) in plan.close_after.items():
                if conflict_id is None:
                    continue
                if name in plan.failed:
                    choose[conflict_id] = None
                    self.out.notice("warning", f"{plan.label}: the chosen {FIELD_WORDS[name]} could not be written "
                                               "(see `provet-xero attention`); the conflict waits for a choice again.")
                elif plan.written(name):
                    close[conflict_id] = resolution
            if plan.cid in waiting and not plan.failed and all(plan.written(n) for n in plan.after):
                settled.append(plan.cid)
        if bases or close or choose:
            self.clients.record(bases, close=close, choose=choose, now=self._stamp())
        for cid in settled:
            self.state.resolve("client", cid)  # what waited for this client is settled now

    def _advance(self, provet_cursor: datetime | None, xero_cursor: datetime | None) -> None:
        for name, value in ((CURSOR_PROVET, provet_cursor), (CURSOR_XERO, xero_cursor)):
            if value is None:
                continue
            old = self.state.cursor(name)
            if not old or value > datetime.fromisoformat(old):  # "" is a cursor dropped to read all again
                self.state.set_cursor(name, value.isoformat())

    def _stamp(self) -> str:
        return self._now().isoformat(timespec="microseconds")


# --- resolving by hand --------------------------------------------------------------------------------------------


def read_current(provet: ClientSource, xero: XeroPort, conflict: Conflict) -> tuple[str, str]:
    """The conflict's field as Provet and Xero hold it now (two reads, one of them a Xero call)."""
    found = list(provet.clients([int(conflict.provet_client_id)]).records)
    contacts = xero.contacts_by_id([conflict.xero_contact_id])
    if not found or not contacts:
        side = "Provet client" if not found else "Xero contact"
        raise ResolveRefused(f"The {side} of conflict {conflict.id} was not found; nothing can be written to it.")
    client = found[0]
    phone = ""
    if client.phone_ids:
        numbers = list(provet.phone_numbers([client.phone_ids[0]]).records)
        phone = numbers[0].phone_number if numbers else ""
    return provet_values(client, phone)[conflict.field], xero_values(contacts[0], client.id)[conflict.field]


def resolve(
    state: SyncState,
    conflict_id: int,
    *,
    keep: str | None = None,
    value: str | None = None,
    current: tuple[str, str] | None = None,
) -> Conflict:
    """Choose Provet's value, Xero's, or a value typed by hand; the next pass writes it to the other side.

    `current`: (Provet's, Xero's) value read just now (`read_current`); when either differs from the values
    the conflict was recorded with, it is refused (someone changed it again: look again before choosing)."""
    if (keep is None) == (value is None) or keep not in (None, "provet", "xero"):
        raise ValueError("resolve needs keep='provet' or keep='xero', or a value")
    clients = ClientState(state.store)
    conflict = clients.conflict(conflict_id)
    if conflict is None:
        raise ResolveRefused(f"There is no conflict {conflict_id}; see `provet-xero conflicts`.")
    if conflict.resolved_at is not None:
        raise ResolveRefused(f"Conflict {conflict_id} was already settled ({describe_resolution(conflict)}).")
    word = FIELD_WORDS[conflict.field]
    if current is not None:
        changed = []
        if not same(conflict.field, current[0], conflict.provet_value):
            changed.append(f"in Provet (now {current[0] or 'empty'})")
        if not same(conflict.field, current[1], conflict.xero_value):
            changed.append(f"in Xero (now {current[1] or 'empty'})")
        if changed:
            raise ResolveRefused(
                f"The {word} was changed again {' and '.join(changed)} after conflict {conflict_id} was recorded, "
                "so nothing was chosen. The next sync shows the conflict with the new values; choose again then."
            )
    if value is not None and not fold(value) and conflict.field == "name":
        raise ResolveRefused("A client's name cannot be empty.")
    clients.choose(conflict_id, keep or VALUE_PREFIX + fold(value))
    chosen = clients.conflict(conflict_id)
    assert chosen is not None
    return chosen


def describe_resolution(conflict: Conflict) -> str:
    r = conflict.resolution or ""
    if r == "provet":
        return "Provet's value kept"
    if r == "xero":
        return "Xero's value kept"
    if r.startswith(VALUE_PREFIX):
        return f"value chosen by hand: {r[len(VALUE_PREFIX):] or 'empty'}"
    if r == "settled":
        return "both sides came to agree"
    if r == "superseded":
        return "one side went back to the last synced value"
    return "waiting for a choice"
