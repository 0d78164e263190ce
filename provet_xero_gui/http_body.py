"""A whole HTTP answer by a deadline.

requests' read timeout counts each wait for a byte, so an answer that drips a byte every few seconds never
times out. The Provet client and Xero's sign-in service read the body in pieces instead, and give up at a
deadline for the whole answer. (xero/client.py does the same for the raw answers of the xero-python SDK.)
"""

from __future__ import annotations

import time

import requests
import urllib3

READ_CHUNK = 64 * 1024


class AnswerTooSlow(Exception):
    """The whole answer did not arrive by its deadline."""


def read_body_by(resp: requests.Response, deadline: float) -> None:
    """Read `resp`'s body (sent with `stream=True`) by `deadline` (time.monotonic) and keep it as requests
    would; raises AnswerTooSlow, or requests' own errors for a read that broke or timed out."""
    chunks: list[bytes] = []
    try:
        while True:
            if time.monotonic() > deadline:
                raise AnswerTooSlow()
            try:
                chunk = resp.raw.read1(READ_CHUNK, decode_content=True)
            except urllib3.exceptions.ReadTimeoutError as exc:
                raise requests.exceptions.ReadTimeout(str(exc)) from None
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                raise requests.exceptions.ChunkedEncodingError(str(exc)) from None
            if not chunk:
                break
            chunks.append(chunk)
    except BaseException:
        resp.close()
        raise
    resp._content = b"".join(chunks)  # what requests' own reading would have kept
    resp._content_consumed = True
