"""A person at a browser, for tests: opens Xero's authorize URL, reads the consent page, presses Allow or
Deny, and follows the redirect to provet-xero's loopback callback — all over real HTTP."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.hidden: list[tuple[str, str]] = []
        self.tenants: list[tuple[str, str, bool]] = []  # value, label text later, checked
        self.buttons: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = a.get("action", "")
        elif tag == "input" and a.get("type") == "hidden":
            self.hidden.append((a["name"], a.get("value", "")))
        elif tag == "input" and a.get("type") == "checkbox":
            self.tenants.append((a.get("value", ""), a.get("name", ""), "checked" in a))
        elif tag == "button" and a.get("name"):
            self.buttons.append((a["name"], a.get("value", "")))


def consent(
    authorize_url: str, *, allow: bool = True, tenants: list[str] | None = None, follow: bool = True
) -> requests.Response:
    """Returns the callback page's answer (or the consent POST's redirect when follow=False)."""
    s = requests.Session()
    page = s.get(authorize_url, timeout=10)
    page.raise_for_status()
    assert "<form" in page.text, page.text[:500]
    form = _Form()
    form.feed(page.text)
    data = list(form.hidden)
    name = form.tenants[0][1] if form.tenants else "tenant"
    chosen = tenants if tenants is not None else [value for value, _, checked in form.tenants if checked]
    data += [(name, t) for t in chosen]
    action = next(((n, v) for n, v in form.buttons if re.search("allow" if allow else "deny", v, re.I)), None)
    assert action is not None, form.buttons
    data.append(action)
    return s.post(urljoin(authorize_url, form.action or authorize_url), data=data, timeout=10,
                  allow_redirects=follow)
