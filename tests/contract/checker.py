"""The contract checks: each exchange the sandbox answered, against what the real services document.

- Xero: requests and answers against Xero's own OpenAPI documents (specs/xero/, a copy with its licence),
  with openapi_core, and more strictly than openapi_core alone: a query parameter the operation does not
  declare, or a body field its schema does not have (Xero's schemas do not forbid extra properties, so
  openapi_core lets them through), is a violation too.
- Provet: requests against a small allowlist written from `provet-api.md` (PROVET below): the resources and
  methods, each resource's fields (in filters, `ordering`, `expose_`, bodies), the filter operators and the
  forms of their values; answers: the list envelope and record fields.

The sandbox records exchanges (provet_xero_gui/sandbox/httpbase.py, PROVET_XERO_SANDBOX_RECORD); tests/conftest.py
turns the recording on for the whole run and fails it on any violation. No Qt, no network.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

SPECS = Path(__file__).resolve().parent / "specs" / "xero"
# Fields Xero's answers carry (its own examples in xero_accounting.yaml show them) that its schemas leave out.
ANSWER_FIELDS_FROM_EXAMPLES = frozenset({"Id", "Status", "ProviderName", "DateTimeUTC", "DateString", "DueDateString",
                                         "ID"})
XERO_HOST = "https://api.xero.com"
ACCOUNTING_PREFIX = "/api.xro/2.0"


@dataclass(frozen=True)
class Exchange:
    """One request and its answer as the sandbox recorded them."""

    server: str  # "xero" or "provet"
    test: str  # the pytest node id that was running ("" outside a test)
    method: str
    target: str  # path and query string as sent
    headers: dict[str, str]
    body: str
    status: int  # 0: the connection was dropped (a fault)
    rctype: str
    rbody: str

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.target).query, keep_blank_values=True)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Exchange:
        test = str(data.get("test") or "")
        return cls(str(data["server"]), re.sub(r" \((setup|call|teardown)\)$", "", test), str(data["method"]),
                   str(data["target"]), dict(data.get("headers") or {}), str(data.get("body") or ""),
                   int(data.get("status") or 0), str(data.get("rctype") or ""), str(data.get("rbody") or ""))


def read_exchanges(folder: Path) -> Iterator[Exchange]:
    for file in sorted(folder.glob("exchanges-*.jsonl")):
        with file.open(encoding="utf-8") as fh:
            for line in fh:
                try:
                    data = json.loads(line)
                except ValueError:
                    continue  # the last line of a process killed while writing it (the kill tests)
                yield Exchange.from_json(data)


def _json(text: str) -> Any:
    try:
        return json.loads(text) if text.strip() else None
    except ValueError:
        return None


# --- Xero -------------------------------------------------------------------------------------------------------


class XeroContract:
    """Xero's OpenAPI documents, parsed once (about a second for the accounting one)."""

    def __init__(self, specs: Path = SPECS) -> None:
        self._specs = specs
        self._lock = threading.Lock()
        self._docs: dict[str, tuple[dict[str, Any], Any, list[tuple[re.Pattern[str], str]]]] = {}

    def _doc(self, name: str) -> tuple[dict[str, Any], Any, list[tuple[re.Pattern[str], str]]]:
        with self._lock:
            if name not in self._docs:
                import yaml
                from openapi_core import OpenAPI
                from openapi_core.configurations import Config

                loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
                with (self._specs / name).open(encoding="utf-8") as fh:
                    raw = yaml.load(fh, Loader=loader)
                _inline_parameters(raw)
                api = OpenAPI.from_dict(raw, config=Config(spec_validator_cls=None))
                templates = [
                    (re.compile("(?i)" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(p))), p) for p in raw["paths"]
                ]
                # Literal paths before templated ones (/Contacts/{ContactID}/History is not /Contacts/{x}).
                templates.sort(key=lambda t: (t[1].count("{"), -len(t[1])))
                self._docs[name] = (raw, api, templates)
            return self._docs[name]

    def check(self, ex: Exchange, answers: bool = True) -> list[str]:
        """What in this exchange Xero's documents do not allow, in words; empty when it is all allowed.
        `answers=False` checks the request only."""
        path = ex.path
        if path.startswith(ACCOUNTING_PREFIX + "/"):
            name, rel, prefix = "xero_accounting.yaml", path[len(ACCOUNTING_PREFIX):], ACCOUNTING_PREFIX
        elif path.lower().startswith("/connections"):
            name, rel, prefix = "xero-identity.yaml", path, ""
        else:
            return []  # the sign-in pages and the token endpoint: not in the OpenAPI documents
        raw, api, templates = self._doc(name)
        method = ex.method.lower()
        template = next((t for rx, t in templates if rx.fullmatch(rel) and method in raw["paths"][t]), None)
        op = raw["paths"][template][method] if template else None
        if template is None or op is None:
            return [f"{ex.method} {rel} is not an operation of {name}"]
        problems: list[str] = []
        spec_path = _respell(rel, template)
        declared = {p["name"] for p in _parameters(raw, template, op) if p.get("in") == "query"}
        for key in ex.query:
            if key not in declared:
                problems.append(f"query parameter {key!r} is not declared for {ex.method} {template}")
        # The checks see thinned copies (each list cut to its items of new shapes): the same findings, in a
        # fraction of the time for a batch of 50 documents or a page of 1,000. Item numbers in the words are
        # of the thinned copy, so they are left out ([]).
        _whole, body, _shape = analysed(ex.body)
        request = _mock_request(ex, prefix + spec_path, json.dumps(body) if body is not None else ex.body)
        try:
            api.validate_request(request)
        except Exception as exc:
            problems.append(f"request: {_words(exc)}")
        schema = _request_schema(op)
        if schema is not None and body is not None:
            problems += [f"request body field {p} is not in the schema" for p in unknown_fields(raw, schema, body)]
        if answers and ex.status and str(ex.status) in (op.get("responses") or {}) and ex.rbody:
            from openapi_core.testing import MockResponse

            _whole, rbody, _shape = analysed(ex.rbody)
            text = json.dumps(rbody) if rbody is not None else ex.rbody
            answer = MockResponse(text.encode("utf-8"), status_code=ex.status,
                                  content_type=ex.rctype.split(";")[0] or "application/json")
            try:
                api.validate_response(request, answer)
            except Exception as exc:
                problems.append(f"answer {ex.status}: {_words(exc)}")
            schema = _response_schema(op, ex.status)
            if schema is not None and rbody is not None:
                problems += [f"answer field {p} is not in the schema" for p in unknown_fields(raw, schema, rbody)
                             if p.rsplit(".", 1)[-1].split("[")[0] not in ANSWER_FIELDS_FROM_EXAMPLES
                             and not p.startswith("Elements[")]  # a refused element is echoed back whole
        return [re.sub(r"\[\d+\]", "[]", p) for p in problems]


def _inline_parameters(raw: dict[str, Any]) -> None:
    """Each parameter `$ref` replaced by the parameter itself (with its schema's own `$ref`s resolved): the
    document means the same, and openapi_core no longer resolves a dozen references for every request (it
    spent most of its time there)."""
    for item in raw.get("paths", {}).values():
        for key, op in item.items():
            if key == "parameters":
                item[key] = [_resolved_parameter(raw, p) for p in op]
            elif isinstance(op, dict) and "parameters" in op:
                op["parameters"] = [_resolved_parameter(raw, p) for p in op["parameters"]]


def _resolved_parameter(raw: dict[str, Any], param: Any) -> Any:
    param = dict(_deref(raw, param))
    if isinstance(param.get("schema"), dict):
        param["schema"] = _deref(raw, param["schema"])
    return param


def _respell(rel: str, template: str) -> str:
    """The request path in the document's own spelling (Xero's paths are case-insensitive, the document's not)."""
    out = []
    for have, want in zip(rel.split("/"), template.split("/"), strict=True):
        out.append(have if want.startswith("{") else want)
    return "/".join(out)


def _deref(raw: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        node = raw
        for part in ref.lstrip("#/").split("/"):
            node = node[part]
    return node


def _parameters(raw: dict[str, Any], template: str, op: dict[str, Any]) -> list[dict[str, Any]]:
    common = raw["paths"][template].get("parameters") or []
    return [_deref(raw, p) for p in [*common, *(op.get("parameters") or [])]]


def _request_schema(op: dict[str, Any]) -> Any:
    content = ((op.get("requestBody") or {}).get("content") or {}).get("application/json") or {}
    return content.get("schema")


def _response_schema(op: dict[str, Any], status: int) -> Any:
    content = ((op.get("responses") or {}).get(str(status)) or {}).get("content") or {}
    return (content.get("application/json") or {}).get("schema")


def unknown_fields(raw: dict[str, Any], schema: Any, value: Any, where: str = "") -> list[str]:
    """The paths of object properties in `value` that `schema` (with its $refs and allOf) does not have."""
    schema = _deref(raw, schema)
    if not isinstance(schema, dict):
        return []
    if isinstance(value, list):
        items = schema.get("items")
        out: list[str] = []
        for i, item in enumerate(value):
            out += unknown_fields(raw, items, item, f"{where}[{i}]") if items is not None else []
        return out
    if not isinstance(value, dict):
        return []
    props: dict[str, Any] = {}
    extra_ok = False
    for part in [schema, *(_deref(raw, s) for s in schema.get("allOf") or [])]:
        props.update(part.get("properties") or {})
        extra_ok = extra_ok or part.get("additionalProperties") not in (None, False)
    if not props:
        return []  # a free-form object
    out = []
    for key, item in value.items():
        if key in props:
            out += unknown_fields(raw, props[key], item, f"{where}.{key}" if where else key)
        elif not extra_ok:
            out.append(f"{where}.{key}" if where else key)
    return out


def _mock_request(ex: Exchange, full_path: str, body: str) -> Any:
    from openapi_core.testing import MockRequest

    args = {k: v[-1] for k, v in ex.query.items()}
    headers = {"Authorization": "Bearer recorded", **ex.headers}
    ctype = (ex.headers.get("content-type") or "application/json").split(";")[0]
    data = body.encode("utf-8") if body else None
    return MockRequest(XERO_HOST, ex.method.lower(), full_path, args=args, headers=headers, data=data,
                       content_type=ctype)


def _words(exc: BaseException) -> str:
    parts = [f"{type(exc).__name__}: {exc}"]
    seen = exc.__cause__ or exc.__context__
    depth = 0
    while seen is not None and depth < 3:
        errors = getattr(seen, "schema_errors", None)
        if errors:
            parts += [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in list(errors)[:5]]
            break
        parts.append(str(seen))
        seen = seen.__cause__ or seen.__context__
        depth += 1
    return " | ".join(p[:400] for p in parts)


# --- Provet -----------------------------------------------------------------------------------------------------

# Written from provet-api.md ("Resources and fields used"). A field here is one the document names for the
# resource; the app may filter, order, expose and (where a method allows it) write only these.
def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


PROVET: dict[str, frozenset[str]] = {
    "invoice": _names("""id url invoice_number invoice_prefix status invoice_date invoice_due_date date_paid created
        modified client department payer_name payer_organization_name payer_vat_number payer_street_address
        payer_zip_code payer_city payer_country total total_vat total_with_vat due_sum countersale credit_note
        credit_note_original_invoice consolidated_invoice consolidated_invoices related_consolidated_invoice
        vat_calculation_method invoice_row invoice_payment remarks"""),
    "invoicerow": _names("""id url invoice item name invoice_group quantity price price_with_vat sum sum_vat
        sum_total percentage_change vat_percentage account_number reporting_dimension_1 reporting_dimension_2
        credited_invoicerow"""),
    "invoicepayment": _names("""id url invoice payment_type payment_method paid payment_date status info created
        modified"""),
    "paymentmethod": _names("id url name payment_type archived"),
    "vatgroup": _names("id url title percentage archived account_number"),
    "client": _names("""id url firstname lastname organization_name customer_type vat_number register_number
        street_address street_address_2 zip_code city country email archived modified phone_numbers"""),
    "unallocatedpayment": _names("id url client paid payment_type created modified"),
    "department": _names("id url name"),
    # provet-api.md names `/phonenumber/` (a client's `phone_numbers` are URLs into it) but not its fields; these
    # are the ones the app reads and writes (docs/sandbox-differences.md).
    "phonenumber": _names("id url client phone_number description"),
}
# What each resource allows besides GET (list and one record), with the body fields a write may carry.
PROVET_WRITES: dict[tuple[str, str], frozenset[str]] = {
    ("POST", "invoicepayment"): _names("invoice payment_type payment_method paid payment_date status info"),
    ("POST", "invoicepayment/cancel_payment"): frozenset(),
    ("PATCH", "client"): PROVET["client"] - {"id", "url", "modified", "phone_numbers", "archived"},
    ("POST", "phonenumber"): _names("client phone_number description"),
    ("PATCH", "phonenumber"): _names("phone_number description"),
}
PROVET_OPS = _names("is is_not lt lte gt gte range in not_in is_null contains icontains")
PROVET_PARAMS = frozenset({"page", "page_size", "ordering", "filter_type"})
_API = re.compile(r"^/(?:[^/]+/)*api/0\.1/(?P<resource>[a-z]+)/(?:(?P<id>\d+)/)?(?:(?P<action>[a-z_]+)/)?$")
_LIST = re.compile(r"^\[(?:-?\d+(?:,-?\d+)*)?\]$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:[+-]\d{2}:\d{2}|Z)?)?$")
_DATE_FIELDS = frozenset({"invoice_date", "invoice_due_date", "date_paid", "payment_date", "created", "modified"})
_LIST_ENVELOPE = frozenset({"count", "num_pages", "next", "previous", "results"})


class ProvetContract:
    def check(self, ex: Exchange, answers: bool = True) -> list[str]:
        path = ex.path
        if path.endswith("/oauth2/token/"):
            return [] if ex.method == "POST" else [f"{ex.method} on the token endpoint"]
        m = _API.match(path)
        if m is None:
            return [f"{ex.method} {path}: not an address provet-api.md documents (trailing slash required)"]
        resource, rid, action = m["resource"], m["id"], m["action"]
        if resource not in PROVET:
            return [f"/{resource}/ is not a resource provet-api.md documents"]
        fields = PROVET[resource]
        problems: list[str] = []
        if ex.method == "GET" and action is None:
            problems += self._query(resource, fields, ex.query, listing=rid is None)
        else:
            key = (ex.method, f"{resource}/{action}" if action else resource)
            if key not in PROVET_WRITES or (ex.method == "POST" and rid is not None and not action) or (
                    ex.method == "PATCH" and rid is None):
                return [f"{ex.method} {path}: provet-api.md documents no such write"]
            body = _json(ex.body) if ex.body else {}
            if not isinstance(body, dict):
                problems.append(f"{ex.method} {path}: the body is not a JSON object")
            else:
                problems += [f"{ex.method} /{resource}/ body field {k!r} is not one provet-api.md documents"
                             for k in body if k not in PROVET_WRITES[key]]
            problems += [f"query parameter {k!r} on a write" for k in ex.query]
        if answers:
            problems += self._answer(resource, fields, ex, listing=ex.method == "GET" and rid is None and not action)
        return problems

    def _query(self, resource: str, fields: frozenset[str], query: dict[str, list[str]], listing: bool) -> list[str]:
        out: list[str] = []
        for key, values in query.items():
            value = values[-1]
            if key in PROVET_PARAMS:
                if key == "page_size" and not (value.isdigit() and 1 <= int(value) <= 1000):
                    out.append(f"page_size={value!r}: provet-api.md allows 1 to 1000")
                elif key == "ordering" and value.lstrip("-") not in fields:
                    out.append(f"ordering={value!r}: not a field of /{resource}/")
                elif key == "filter_type" and value not in ("and", "or"):
                    out.append(f"filter_type={value!r}: only 'and' or 'or'")
                continue
            if key.startswith("expose_"):
                if key[len("expose_"):] not in fields:
                    out.append(f"{key}: not a field of /{resource}/")
                continue
            name, _, op = key.rpartition("__")
            if not name or op not in PROVET_OPS:
                out.append(f"query parameter {key!r} on /{resource}/ is not `<field>__<op>` with an op "
                           "provet-api.md lists")
                continue
            if name not in fields:
                out.append(f"filter {key!r}: {name!r} is not a field of /{resource}/ in provet-api.md")
                continue
            if op in ("in", "not_in") and not _LIST.match(value):
                out.append(f"filter {key}={value!r}: a list is written [1,2,3]")
            elif op in ("lt", "lte", "gt", "gte") and name in _DATE_FIELDS and not _DATETIME.match(value):
                out.append(f"filter {key}={value!r}: not a date or datetime as provet-api.md writes them")
            elif op == "is_null" and value not in ("true", "false", "True", "False"):
                out.append(f"filter {key}={value!r}: is_null takes true or false")
        if not listing and any(not k.startswith("expose_") for k in query):
            out.append(f"query parameters on one /{resource}/ record: {sorted(query)}")
        return out

    def _answer(self, resource: str, fields: frozenset[str], ex: Exchange, listing: bool) -> list[str]:
        if ex.status != 200:
            return []
        data = _json(ex.rbody)
        if listing:
            if not isinstance(data, dict) or not set(data) >= _LIST_ENVELOPE:
                return [f"the answer to a /{resource}/ list is not the list envelope {sorted(_LIST_ENVELOPE)}"]
            records = data["results"] if isinstance(data["results"], list) else []
        else:
            records = [data]
        out: list[str] = []
        for record in records:
            if isinstance(record, dict):
                extra = sorted(set(record) - fields)
                if extra:
                    out.append(f"/{resource}/ answer has fields provet-api.md does not list: {extra}")
                    break
        return out


_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_.]{0,23}$")


def _shape_of_text(text: str) -> str:
    """A string by its form: enum-like words and codes as they are (digits as 9), ids, dates and free text by
    their pattern, so two answers that differ only in names, amounts and ids have one shape."""
    if _UUID.match(text):
        return "<uuid>"
    if len(text) > 40:
        return f"<long:{len(text)}>"  # its length, for the schemas' maxLength
    if _CODE.match(text):
        return re.sub(r"\d", "9", text)
    return re.sub(r"[^\W\d_]+", "a", re.sub(r"\d+", "9", text))


LIST_SAMPLE = 60


def _sample(items: list[Any]) -> list[Any]:
    """A long list's items as the checks see them: the first 40 and 20 spread over the rest. The sandbox
    renders every item of a list with one function, so these show what the others would (a page of 1,000
    contacts otherwise costs more than the rest of its checks together)."""
    if len(items) <= LIST_SAMPLE:
        return items
    rest = items[40:]
    step = max(1, len(rest) // 20)
    return items[:40] + rest[::step][:20]


def _analyse(value: Any, where: str, out: set[tuple[str, str]]) -> Any:
    """Adds the (field path, kind) pairs of `value` to `out` - what a schema can tell apart - and returns
    `value` with each list cut down to the items that bring a shape its earlier items did not: what a schema
    check finds in the whole list, it finds in these."""
    if isinstance(value, dict):
        out.add((where, "{}"))
        return {k: _analyse(v, f"{where}.{k}", out) for k, v in value.items()}
    if isinstance(value, list):
        out.add((where, "[]" if value else "[empty]"))
        kept: list[Any] = []
        for item in _sample(value):
            mine: set[tuple[str, str]] = set()
            thinned = _analyse(item, where + "[]", mine)
            if not kept or not mine <= out:
                kept.append(thinned)
                out |= mine
        return kept
    if isinstance(value, str):
        out.add((where, _shape_of_text(value)))
    elif isinstance(value, bool) or value is None:
        out.add((where, repr(value)))
    elif isinstance(value, int):
        out.add((where, "int+" if value >= 0 else "int-"))
    else:
        out.add((where, "num+" if value >= 0 else "num-"))
    return value


@functools.lru_cache(maxsize=16)
def analysed(text: str) -> tuple[Any, Any, frozenset[tuple[str, str]] | str]:
    """(the JSON value, its thinned copy, its shape) of a body; for a body that is not JSON, (None, None, the
    start of the text). Cached: the signature and the check of one exchange both need it."""
    value = _json(text)
    if value is None:
        return None, None, text[:200]
    out: set[tuple[str, str]] = set()
    thinned = _analyse(value, "", out)
    return value, thinned, frozenset(out)


def _path_shape(path: str) -> str:
    return "/".join("{id}" if _UUID.match(p) or p.isdigit() else p for p in path.split("/"))


def signature(ex: Exchange) -> tuple[Any, ...]:
    """Exchanges with one signature are alike to every check here: one of them is checked for all."""
    query = tuple(sorted((k, _shape_of_text(v[-1])) for k, v in ex.query.items()))
    return (ex.server, ex.method, _path_shape(ex.path), query, tuple(sorted(ex.headers)), analysed(ex.body)[2],
            ex.status, ex.rctype, analysed(ex.rbody)[2])


def check_all(
    exchanges: Iterable[Exchange], exempt: frozenset[str] = frozenset(), bad_answers: frozenset[str] = frozenset()
) -> tuple[int, int, list[str]]:
    """(exchanges seen, exchanges checked, violations as "test: METHOD target: problem"): of the exchanges
    with one `signature`, one is checked (the first). The exchanges of `exempt` tests are not checked; of
    `bad_answers` tests (the sandbox spoils its answers on purpose), only the requests are."""
    xero, provet = XeroContract(), ProvetContract()
    done: set[tuple[Any, ...]] = set()
    seen = checked = 0
    out: list[str] = []
    for ex in exchanges:
        if ex.test in exempt:
            continue
        seen += 1
        answers = ex.test not in bad_answers
        key = (answers, signature(ex))
        if key in done:
            continue
        done.add(key)
        checked += 1
        contract = xero if ex.server == "xero" else provet if ex.server == "provet" else None
        problems = contract.check(ex, answers) if contract is not None else []
        out += [f"{ex.test or '(outside a test)'}: {ex.method} {ex.target[:200]}: {p}" for p in problems]
    return seen, checked, out
