"""Keeping secrets out of anything a person may copy or send: crash reports and their log lines.

Two nets. The secrets this process has handled (the keyring remembers what it reads and writes) are cut
out by value, also base64- and URL-encoded; anything else that looks like a credential (a long random
token, `token=...`, `Authorization: Bearer ...`, a `code=` in a URL) is cut out by shape. No imports from
the rest of the app, so every layer can use it. The list of secrets is process-wide on purpose (the one
module-level state in the app, like logging's): a crash can come from any thread and any layer, so its
report must know every secret the process has held, whichever object read it.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from urllib.parse import quote, quote_plus

MASK = "[redacted]"
MIN_SECRET_LENGTH = 8  # shorter values are too likely to be ordinary words

_known: set[str] = set()
_lock = threading.Lock()

_KEYED = re.compile(
    r"(?i)(\b(?:access_token|refresh_token|id_token|client_secret|code_verifier|verifier|password|secret|"
    r"api_key|token)\b[\"']?\s*[:=]\s*[\"']?)([^\s\"'&,;)}\]]+)"
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)(\s+)([A-Za-z0-9._~+/=-]{8,})")
_URL_PARAM = re.compile(r"(?i)([?&](?:code|state|token|access_token|refresh_token)=)([^&\s\"'#]+)")
# Long runs of token characters with both letters and digits: random tokens, keys, JWTs.
_TOKENISH = re.compile(r"(?<![A-Za-z0-9_~+=-])(?=[A-Za-z0-9_~+=-]*\d)(?=[A-Za-z0-9_~+=-]*[A-Za-z])"
                       r"[A-Za-z0-9_~+=-]{24,}(?:\.[A-Za-z0-9_~+=-]{8,}){0,2}")


def encodings(secret: str) -> set[str]:
    """The forms a secret takes on its way through HTTP, JSON and logs."""
    raw = secret.encode("utf-8")
    forms = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}
    for enc in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = enc.decode("ascii")
        forms |= {text, text.rstrip("=")}
    return {f for f in forms if f}


def remember(*secrets: str | None) -> None:
    """Secrets this process holds (tokens, the Provet client secret), to be cut out of every report."""
    with _lock:
        for secret in secrets:
            if secret and len(secret) >= MIN_SECRET_LENGTH:
                _known.update(encodings(secret))


def redact(text: str) -> str:
    """`text` with every remembered secret and anything credential-shaped replaced by a mask."""
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    text = _KEYED.sub(lambda m: m.group(1) + MASK, text)
    text = _BEARER.sub(lambda m: m.group(1) + m.group(2) + MASK, text)
    text = _URL_PARAM.sub(lambda m: m.group(1) + MASK, text)
    return _TOKENISH.sub(MASK, text)
