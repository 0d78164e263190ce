"""HTTP client for a Provet Cloud instance: client-credentials tokens, paging, limits, plain errors.

Provet's limits are per endpoint over a rolling minute. The client paces itself with a `ProvetLimiter`
(limits.py) so it waits *before* a budget would run over; a 429 that comes anyway (another program spending
the same budget) is waited out as its Retry-After says (bounded). A 401 gets a new token once, then fails
clearly. Reads are retried on 5xx and network errors; a write that is not safe to repeat is not: when its
answer is lost, `ProvetUncertainWriteError` says so and the caller looks before writing again.
Every error that leaves this module is a `ProvetError` whose message is for people and holds no secret.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from provet_xero_gui.http_body import AnswerTooSlow, read_body_by
from provet_xero_gui.provet.limits import ProvetLimiter, call_cost

log = logging.getLogger(__name__)

API_PATH = "api/0.1/"
TIMEOUT = (10, 60)  # connect, read: each wait for a byte
REQUEST_DEADLINE_SECONDS = 120.0  # the whole answer, however slowly it comes (an answer dripping a byte a second)
MAX_PAGES = 10_000  # a list with no usable count is still not read for ever
MAX_ATTEMPTS = 6
TOKEN_ATTEMPTS = 3
MAX_WAIT_SECONDS = 120.0
TOKEN_MARGIN_SECONDS = 60  # renew this long before expiry


class ProvetError(Exception):
    """A Provet call failed; the message says what happened and what to do, in plain words."""


class ProvetAuthError(ProvetError):
    """The client id or secret was refused."""


class ProvetNotFoundError(ProvetError):
    """Nothing answers as a Provet instance at that address, or the resource does not exist."""


class ProvetPermissionError(ProvetError):
    """The integration user lacks a permission."""


class ProvetUnreachableError(ProvetError):
    """The host could not be reached (network, DNS, TLS, timeout)."""


class ProvetRefusedError(ProvetError):
    """Provet refused the request (a 4xx other than 401/403/404/429), e.g. a validation error on a write.

    `status` is the HTTP status and `errors` Provet's answer (Django REST: `{"field": ["message"]}`)."""

    def __init__(self, message: str, status: int, errors: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.errors = errors


class ProvetUncertainWriteError(ProvetError):
    """A write was sent but its answer was lost (dropped connection, timeout, 5xx): it may have been saved."""


class ProvetForeignLinkError(ProvetError):
    """An answer pointed somewhere other than the configured instance; nothing was sent there."""


def normalise_instance_url(url: str) -> str:
    """`https://provetcloud.com/4321` → `https://provetcloud.com/4321/`; refuses what cannot be one."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ProvetError(
            f"'{url}' is not a Provet Cloud address. It looks like https://provetcloud.com/1234/ "
            "(your instance number after the host)."
        )
    if parts.query or parts.fragment:
        raise ProvetError(f"'{url}' has extra parts (? or #); give the instance address only.")
    return url if url.endswith("/") else url + "/"


def format_datetime(value: datetime) -> str:
    """Provet's filter format for an aware datetime: `2024-03-20 00:00:00+00:00` (`+` is encoded later).

    Microseconds are kept when there are any, so a cursor taken from a record's `modified` is exact."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a Provet filter date and time needs a timezone")
    return value.isoformat(sep=" ")


def format_id_list(ids: list[int] | tuple[int, ...]) -> str:
    return "[" + ",".join(str(int(i)) for i in ids) + "]"


RESOURCE_NAMES = {
    "invoice": "invoices",
    "invoicerow": "invoice rows",
    "invoicepayment": "invoice payments",
    "unallocatedpayment": "prepayments",
    "client": "clients",
    "phonenumber": "client phone numbers",
    "vatgroup": "VAT groups",
    "paymentmethod": "payment methods",
    "department": "departments",
}
PERMISSION_FAMILIES = {  # the Provet permission family each resource needs
    "invoice": "Financial: Invoices",
    "invoicerow": "Financial: Invoices",
    "invoicepayment": "Financial: Invoices",
    "unallocatedpayment": "Financial: Invoices",
    "client": "General: Patients and clients",
    "phonenumber": "General: Patients and clients",
    "vatgroup": "Settings: Settings page",
    "paymentmethod": "Settings: Settings page",
    "department": "Settings: Settings page",
}


class ProvetOrderError(ProvetError):
    """A list did not come back in the order asked for, or did not add up to its `count`: what was read
    cannot be trusted to be everything, so nothing may be taken as done."""


def _list_word(resource: str) -> str:
    return RESOURCE_NAMES.get(resource, resource)


class ListCheck:
    """The project rule for every paged read (provet-api.md): the ids rise from page to page, and the
    records read add up to the list's `count` (the first page's). A record listed twice in a row is one
    record (Provet sent it twice), not a break in the order."""

    def __init__(self, resource: str) -> None:
        self.resource = resource
        self.count: int | None = None
        self.last_id: int | None = None
        self.read = 0  # distinct records read (ids counted once; a record without an id counts as one)

    def page(self, count: Any, results: list[Any]) -> None:
        """Check one page as it comes, before anything in it is used."""
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ProvetError(
                f"Provet's list of {_list_word(self.resource)} did not say how many there are; its answer was "
                "not understood. Try again later."
            )
        if self.count is None:
            self.count = count
        floor = self.last_id
        for raw in results:
            rid = raw.get("id") if isinstance(raw, dict) else None
            if isinstance(rid, bool) or not isinstance(rid, int):
                self.read += 1
                continue
            if self.last_id is not None and rid == self.last_id:
                continue  # the same record again
            if floor is not None and rid <= floor:
                raise ProvetOrderError(
                    f"Provet sent its list of {_list_word(self.resource)} out of order (record {rid} came after "
                    f"record {floor}), although they were asked for by id. Nothing past that point was taken as "
                    "read, so nothing is lost: the list is read again next time. If this keeps happening, tell "
                    "Provet support that the list ignores 'ordering=id'."
                )
            self.last_id = floor = rid
            self.read += 1

    def finished(self) -> None:
        """The last page was read: everything `count` announced must have come."""
        if self.count is not None and self.read < self.count:
            raise ProvetOrderError(
                f"Provet's list of {_list_word(self.resource)} announced {self.count} but only {self.read} came "
                "before it ended. Nothing was taken as read, so nothing is lost: the list is read again next "
                "time. If this keeps happening, tell Provet support."
            )


@dataclass(frozen=True)
class ProvetCheck:
    """What `connect provet` proved."""

    instance_url: str
    vat_groups: int


class ProvetClient:
    def __init__(
        self,
        instance_url: str,
        client_id: str,
        client_secret: str,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        limiter: ProvetLimiter | None = None,
        request_deadline: float = REQUEST_DEADLINE_SECONDS,
    ) -> None:
        self.instance_url = normalise_instance_url(instance_url)
        self._origin = _origin(self.instance_url)
        self.request_deadline = request_deadline  # seconds for a whole answer, on the real clock
        self.api_url = self.instance_url + API_PATH
        self._client_id = client_id
        self._secret = client_secret
        self._session = session or requests.Session()
        self._sleep = sleep
        self._monotonic = monotonic
        self._token: str | None = None
        self._token_expires = 0.0
        self.limiter = limiter or ProvetLimiter(clock=monotonic, sleep=sleep)
        self._lock = threading.Lock()  # the pass reads from more than one thread (sync/prefetch.py)
        self.calls: dict[str, int] = {}  # "GET /invoice/" -> requests that reached Provet (429s included)
        self.cost: dict[str, int] = {}  # "GET /invoice/" -> budget Provet charged (429s are free)
        self.rate_limited: dict[str, int] = {}  # "GET /invoice/" -> 429 answers
        self._server_now: datetime | None = None  # the latest `Date` Provet answered with: its own clock

    @property
    def server_now(self) -> datetime | None:
        """Provet's own "now", from the latest answer's `Date` header (None before any answer had one)."""
        with self._lock:
            return self._server_now

    def __repr__(self) -> str:
        return f"ProvetClient({self.instance_url!r}, client_id={self._client_id!r})"

    # --- tokens ---------------------------------------------------------------------------------------
    def _fetch_token(self) -> None:
        """A new token; a lost answer or a 5xx is tried again (a failed connection is not: wrong address)."""
        url = self.instance_url + "oauth2/token/"
        for attempt in range(1, TOKEN_ATTEMPTS + 1):
            try:
                resp = self._send(
                    "POST",
                    url,
                    data={"grant_type": "client_credentials", "scope": "restapi"},
                    auth=(self._client_id, self._secret),
                    allow_redirects=False,
                )
            except AnswerTooSlow:
                raise self._too_slow(url) from None
            except requests.RequestException as exc:
                if attempt == TOKEN_ATTEMPTS or _never_sent(exc):
                    raise self._unreachable(exc) from None
                self._backoff(attempt)
                continue
            if resp.status_code >= 500 and attempt < TOKEN_ATTEMPTS:
                self._backoff(attempt)
                continue
            break
        if resp.status_code >= 500:
            raise ProvetError(_unavailable(resp.status_code))
        if resp.status_code in (400, 401):
            raise ProvetAuthError(
                "Provet refused the client id or secret. Check both in Provet (Settings → Integrations) "
                "and enter them again."
            )
        if resp.status_code == 404 or not _is_json(resp):
            raise ProvetNotFoundError(
                f"No Provet Cloud instance answers at {self.instance_url}. Check the address: it looks like "
                "https://provetcloud.com/1234/ with your instance number."
            )
        if resp.status_code != 200:
            raise ProvetError(f"Provet's sign-in answered with an error (HTTP {resp.status_code}). Try again later.")
        try:
            data = resp.json()
        except ValueError:
            raise ProvetError("Provet's sign-in answer was cut off or damaged. Try again later.") from None
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise ProvetError("Provet's sign-in answer had no access token. Try again later.")
        self._token = token
        expires_in = data.get("expires_in")
        self._token_expires = self._monotonic() + (float(expires_in) if isinstance(expires_in, int | float) else 3600)

    def _bearer(self) -> str:
        with self._lock:  # one sign-in for all threads
            if self._token is None or self._monotonic() > self._token_expires - TOKEN_MARGIN_SECONDS:
                self._fetch_token()
            assert self._token is not None
            return self._token

    # --- requests -------------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> Any:
        """One API call, paced, with token renewal, 429 waits and 5xx backoff; returns the decoded JSON.

        `idempotent` (default: true for GET/HEAD/PUT/DELETE) says whether the call may be sent again when
        its answer is lost; when it may not, a lost answer raises `ProvetUncertainWriteError`."""
        method = method.upper()
        url = self._url(path)
        safe = method in ("GET", "HEAD", "PUT", "DELETE", "OPTIONS") if idempotent is None else idempotent
        resource = _endpoint(url, self.api_url).strip("/")
        cost = call_cost(method, url, params)
        renewed = False
        for attempt in range(1, MAX_ATTEMPTS + 1):
            with self.limiter.slot(method, resource, cost) as slot:
                headers = {"Authorization": f"Bearer {self._bearer()}", "Accept": "application/json"}
                try:
                    resp = self._send(method, url, params=_encode_params(params), json=json, headers=headers)
                except AnswerTooSlow:
                    self._count(method, url, 0, cost)
                    if not safe:
                        raise self._uncertain(method, url) from None
                    raise self._too_slow(url) from None  # not tried again: it would hang as long once more
                except requests.RequestException as exc:
                    sent = not _never_sent(exc)
                    if not sent:
                        slot.refund()
                    else:
                        self._count(method, url, 0, cost)  # it reached Provet, which may have counted it
                    if sent and not safe:
                        raise self._uncertain(method, url) from None
                    if attempt == MAX_ATTEMPTS:
                        raise self._unreachable(exc) from None
                    resp = None
                if resp is not None and resp.status_code in (401, 429):
                    slot.refund()  # Provet checks the token before the limit, and a 429 is not counted
            if resp is None:
                self._backoff(attempt)
                continue
            self._count(method, url, resp.status_code, cost)
            if resp.status_code == 401 and not renewed:
                renewed = True
                self._token = None
                continue
            if resp.status_code == 429 and attempt < MAX_ATTEMPTS:
                wait = min(_retry_after(resp), MAX_WAIT_SECONDS)
                log.info("Provet said too many calls to %s; waiting %.0f s", _short(url), wait)
                self._sleep(wait)
                continue
            if resp.status_code >= 500 and not safe:
                raise self._uncertain(method, url)
            if resp.status_code >= 500 and attempt < MAX_ATTEMPTS:
                self._backoff(attempt)
                continue
            return self._decode(method, url, resp)
        raise ProvetError(f"Provet kept refusing {method} {_short(url)}; try again later.")

    def _decode(self, method: str, url: str, resp: requests.Response) -> Any:
        status = resp.status_code
        self._note_date(resp)
        if status == 401:
            raise ProvetAuthError("Provet no longer accepts this integration's sign-in. Connect Provet again.")
        if status == 403:
            family = PERMISSION_FAMILIES.get(_resource(url), "")
            needed = f"the permission '{family}'" if family else "its permissions"
            raise ProvetPermissionError(
                f"The Provet integration user is not allowed to {_what(method, url)}. In Provet, give it "
                f"{needed}; the sync needs 'Financial: Invoices', 'General: Patients and clients' and "
                "'Settings: Settings page'."
            )
        if status == 404:
            raise ProvetNotFoundError(f"Provet has no {_short(url)} (HTTP 404).")
        if status == 429:
            raise ProvetError("Provet's rate limit was still in force after several waits; try again later.")
        if status >= 500:
            raise ProvetError(_unavailable(status))
        if not _is_json(resp):
            raise ProvetError(
                f"Provet answered {_short(url)} with something that is not JSON (HTTP {status}); "
                "check the instance address."
            )
        try:
            data = resp.json()
        except ValueError:
            raise ProvetError(f"Provet's answer to {_short(url)} was cut off or damaged; try again.") from None
        if status >= 400:
            raise ProvetRefusedError(
                f"Provet refused to {_what(method, url)} (HTTP {status}): {_error_text(data)}", status, data
            )
        return data

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def iter_pages(self, path: str, params: dict[str, Any] | None = None, page_size: int = 50) -> Iterator[dict]:
        """Every result of a list endpoint in id order, following `next` (page sizes within the endpoint's
        default cost). Asks for `ordering=id` and checks that the ids rise and that what was read adds up to
        the list's `count` (provet-api.md); when either fails, `ProvetOrderError` stops the read.

        `next` is followed only on the instance's own scheme, host and port (see `_url`). A list that points
        back to a page already read, or to more pages than its `count` can fill, is a loop: a plain
        ProvetError instead of reading for ever."""
        params = {**(params or {}), "page_size": page_size, "ordering": "id"}
        data = self.get(path, params)
        check = ListCheck(_resource(self.api_url + path.lstrip("/")) or _short(path))
        seen: set[str] = set()
        pages, allowed = 1, MAX_PAGES
        while True:
            results = data.get("results") if isinstance(data, dict) else None
            if not isinstance(results, list):
                raise ProvetError(f"Provet's list {_short(path)} had no 'results'; its answer was not understood.")
            count = data.get("count")
            check.page(count, results)
            if pages == 1 and isinstance(count, int) and not isinstance(count, bool) and count >= 0:
                per_page = max(1, min(page_size, len(results) or page_size))
                allowed = min(MAX_PAGES, -(-count // per_page) + 1)  # one spare: a record added while reading
            yield from results
            nxt = data.get("next")
            if not nxt:
                check.finished()
                return
            if not isinstance(nxt, str) or nxt in seen or pages >= allowed:
                raise ProvetError(
                    f"Provet's list {_short(path)} kept pointing to more pages ({pages} read"
                    + (f" for {count} results" if isinstance(count, int) else "")
                    + "), as if it went round in a loop; provet-xero stopped reading it. Try again later; if it "
                    "keeps happening, report it to Provet's support."
                )
            seen.add(nxt)
            pages += 1
            data = self.get(nxt)

    def newest_pages(self, path: str, params: dict[str, Any] | None = None, page_size: int = 50
                     ) -> Iterator[tuple[list[dict], int]]:
        """A list's pages from the last (the newest ids) back to the first, each with the list's `count`; the
        caller stops reading when it has what it needs. Asks for `ordering=id`; a page out of id order, or not
        wholly below the page read before it, raises `ProvetOrderError` (the newest cannot be told)."""
        resource = _resource(self.api_url + path.lstrip("/")) or _short(path)
        page: int | str = "last"
        lowest: int | None = None
        while True:
            data = self.get(path, {**(params or {}), "ordering": "id", "page_size": page_size, "page": page})
            if not isinstance(data, dict) or not isinstance(data.get("results"), list):
                raise ProvetError(f"Provet's {resource} list was not understood.")
            total = int(data.get("count") or 0)
            batch = [r for r in data["results"] if isinstance(r, dict)]
            page_ids = [r["id"] for r in batch if isinstance(r.get("id"), int)]
            if page_ids != sorted(page_ids) or (lowest is not None and page_ids and page_ids[-1] >= lowest):
                words = _list_word(resource)
                raise ProvetOrderError(
                    f"Provet sent its list of {words} out of order, although it was asked for them by id, so the "
                    f"newest {words} cannot be told. Try again later; if this keeps happening, tell Provet support "
                    "that the list ignores 'ordering=id'."
                )
            lowest = page_ids[0] if page_ids else lowest
            yield batch, total
            number = int(data.get("num_pages") or 1) if page == "last" else int(page)
            if number <= 1 or total == 0:
                return
            page = number - 1

    def check(self) -> ProvetCheck:
        """Token plus one read that needs the settings permission: proves the connection works."""
        data = self.get("vatgroup/", {"page_size": 1})
        count = data.get("count") if isinstance(data, dict) else None
        if not isinstance(count, int):
            raise ProvetError("Provet's VAT group list was not understood; is this a Provet Cloud instance?")
        return ProvetCheck(self.instance_url, count)

    # --- helpers --------------------------------------------------------------------------------------
    def _url(self, path: str) -> str:
        """The full URL of `path`: relative to the API, or a full link Provet gave (a list's `next`).

        A full link must be on the instance's own scheme, host and port: the bearer token never goes to
        another host, and never over plain http when the instance is https (a proxy rewriting links)."""
        parts = urlsplit(path)
        if not (parts.scheme or parts.netloc or path.startswith("//")):
            return self.api_url + path.lstrip("/")
        if _origin(path) != self._origin:
            where = f"{parts.scheme or '?'}://{parts.hostname or '?'}" + (f":{parts.port}" if _port(parts) else "")
            raise ProvetForeignLinkError(
                f"Provet's answer pointed to another address ({where}) instead of {self.instance_url}; "
                "provet-xero sends Provet's sign-in only to the instance address, so it stopped. Check the "
                "instance address, and any proxy between this computer and Provet."
            )
        return path

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One HTTP exchange whose whole answer must arrive within `request_deadline` (the read timeout
        counts each wait for a byte, so an answer dripping slowly would otherwise never time out)."""
        deadline = time.monotonic() + self.request_deadline
        resp = self._session.request(method, url, timeout=TIMEOUT, stream=True, **kwargs)
        read_body_by(resp, deadline)
        return resp

    def _too_slow(self, url: str) -> ProvetUnreachableError:
        host = urlsplit(self.instance_url).netloc
        return ProvetUnreachableError(
            f"Provet's answer to {_short(url)} came too slowly: it was not complete after "
            f"{self.request_deadline:.0f} seconds, so provet-xero stopped waiting. Nothing is lost; the sync "
            f"tries again next time. If it keeps happening, check this computer's connection to {host}."
        )

    def _unreachable(self, exc: requests.RequestException) -> ProvetUnreachableError:
        host = urlsplit(self.instance_url).netloc
        if isinstance(exc, requests.exceptions.SSLError):
            why = "its security certificate could not be verified"
        elif isinstance(exc, requests.Timeout):
            why = "it did not answer in time"
        else:
            why = "no connection could be made"
        return ProvetUnreachableError(
            f"Cannot reach {host}: {why}. Check the address and this computer's internet connection."
        )

    def _uncertain(self, method: str, url: str) -> ProvetUncertainWriteError:
        return ProvetUncertainWriteError(
            f"Provet did not confirm the request to {_what(method, url)}: the connection failed before the "
            "answer came, so it may or may not have been saved."
        )

    def _note_date(self, resp: requests.Response) -> None:
        try:
            when = email.utils.parsedate_to_datetime(resp.headers.get("Date") or "")
        except (TypeError, ValueError, IndexError):
            return
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        with self._lock:
            if self._server_now is None or when > self._server_now:
                self._server_now = when

    def _backoff(self, attempt: int) -> None:
        self._sleep(min(MAX_WAIT_SECONDS, (2 ** (attempt - 1)) * (0.5 + random.random())))

    def _count(self, method: str, url: str, status: int = 200, cost: int = 1) -> None:
        key = f"{method} {_endpoint(url, self.api_url)}"
        with self._lock:
            self.calls[key] = self.calls.get(key, 0) + 1
            if status == 429:
                self.rate_limited[key] = self.rate_limited.get(key, 0) + 1
            elif status != 401:
                self.cost[key] = self.cost.get(key, 0) + cost


def _encode_params(params: dict[str, Any] | None) -> str | None:
    """Encode the query ourselves so `+` in datetimes goes as %2B and `[1,2]` stays readable."""
    if not params:
        return None
    return "&".join(f"{quote(str(k), safe='_')}={quote(str(v), safe='[],:_-.')}" for k, v in params.items())


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request cannot have reached Provet (no connection was made)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout | requests.exceptions.SSLError):
        return True  # no connection, or the TLS handshake failed: no request bytes went out
    if isinstance(exc, requests.ConnectionError):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        return type(reason).__name__ == "NewConnectionError"
    return False


def _origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) with the scheme's default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = -1
    return scheme, (parts.hostname or "").lower(), port or {"http": 80, "https": 443}.get(scheme, -1)


def _port(parts: Any) -> int | None:
    try:
        return parts.port
    except ValueError:
        return None


def _unavailable(status: int) -> str:
    return (
        f"Provet is unavailable (HTTP {status}): its server answered with an error page instead of data. "
        "This is usually maintenance or a passing fault at Provet; nothing is lost, the sync tries again later."
    )


def _retry_after(resp: requests.Response) -> float:
    try:
        return max(0.0, float(resp.headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0


def _is_json(resp: requests.Response) -> bool:
    return "json" in resp.headers.get("Content-Type", "")


def _endpoint(url: str, api_url: str) -> str:
    path = urlsplit(url).path
    api_path = urlsplit(api_url).path
    rest = path[len(api_path) :] if path.startswith(api_path) else path
    return "/" + rest.split("/")[0] + "/"


def _short(url: str) -> str:
    return urlsplit(url).path


def _resource(url: str) -> str:
    """`.../api/0.1/invoicepayment/7/cancel_payment/` → `invoicepayment` ("" when it is not an API URL)."""
    path = urlsplit(url).path
    _, found, rest = path.partition("/" + API_PATH)
    return rest.split("/")[0] if found else ""


def _what(method: str, url: str) -> str:
    verb = {"GET": "read", "POST": "create", "PATCH": "change", "PUT": "change", "DELETE": "delete"}.get(method, method)
    resource = _resource(url)
    if resource == "invoicepayment" and urlsplit(url).path.rstrip("/").endswith("cancel_payment"):
        return "cancel invoice payments"
    return f"{verb} {RESOURCE_NAMES[resource]}" if resource in RESOURCE_NAMES else f"{verb} {_short(url)}"


def _error_text(data: Any) -> str:
    if isinstance(data, dict):
        parts = []
        for key, value in data.items():
            text = "; ".join(map(str, value)) if isinstance(value, list) else str(value)
            parts.append(text if key in ("detail", "non_field_errors") else f"{key}: {text}")
        return "; ".join(parts)[:500]
    return str(data)[:500]
