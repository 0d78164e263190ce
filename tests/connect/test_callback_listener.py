"""The loopback listener that receives Xero's redirect: one valid answer, loopback only, then closed."""

from __future__ import annotations

import socket
import threading

import pytest
import requests

from provet_xero_gui.xero.oauth import (
    REDIRECT_PORTS,
    CallbackListener,
    Pkce,
    SignInCancelled,
    SignInError,
    authorize_url,
)


def _free_ports(n: int) -> list[int]:
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def _wait_in_thread(listener: CallbackListener, timeout: float = 10) -> dict:
    out: dict = {}

    def run() -> None:
        try:
            out["code"] = listener.wait(timeout)
        except SignInError as exc:
            out["error"] = exc

    t = threading.Thread(target=run)
    t.start()
    out["thread"] = t
    return out


def test_pkce_verifier_and_challenge_follow_rfc7636() -> None:
    import base64
    import hashlib

    p = Pkce.new()
    assert 43 <= len(p.verifier) <= 128
    assert set(p.verifier) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    expected = base64.urlsafe_b64encode(hashlib.sha256(p.verifier.encode()).digest()).rstrip(b"=").decode()
    assert p.challenge == expected
    url = authorize_url("https://login.xero.com", "cid", "http://localhost:47651/callback", p)
    assert url.startswith("https://login.xero.com/identity/connect/authorize?")
    assert "code_challenge_method=S256" in url and "offline_access" in url and p.verifier not in url


def test_one_valid_callback_gives_the_code_and_closes() -> None:
    ports = _free_ports(2)
    listener = CallbackListener("st4te", ports)
    assert listener.redirect_uri == f"http://localhost:{ports[0]}/callback"
    out = _wait_in_thread(listener)
    r = requests.get(f"http://127.0.0.1:{listener.port}/callback?code=abc&state=st4te", timeout=5)
    assert r.status_code == 200 and "You can close this tab and return to provet-xero" in r.text
    out["thread"].join(5)
    assert out["code"] == "abc"
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{listener.port}/callback?code=again&state=st4te", timeout=2)


def test_wrong_or_missing_state_is_refused_and_the_real_answer_still_counts() -> None:
    listener = CallbackListener("right", _free_ports(1))
    out = _wait_in_thread(listener)
    base = f"http://127.0.0.1:{listener.port}/callback"
    assert requests.get(f"{base}?code=evil&state=wrong", timeout=5).status_code == 400
    assert requests.get(f"{base}?code=evil", timeout=5).status_code == 400
    assert requests.get(f"http://127.0.0.1:{listener.port}/other", timeout=5).status_code == 404
    assert requests.get(f"{base}?code=good&state=right", timeout=5).status_code == 200
    out["thread"].join(5)
    assert out["code"] == "good"


def test_access_denied_is_a_plain_error() -> None:
    listener = CallbackListener("s", _free_ports(1))
    out = _wait_in_thread(listener)
    r = requests.get(f"http://127.0.0.1:{listener.port}/callback?error=access_denied&state=s", timeout=5)
    assert r.status_code == 200 and "Deny" in r.text
    out["thread"].join(5)
    assert "not allowed" in str(out["error"])


def test_timeout_closes_the_listener() -> None:
    listener = CallbackListener("s", _free_ports(1))
    with pytest.raises(SignInError, match="No answer came from the browser"):
        listener.wait(timeout=0.5)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{listener.port}/callback?code=x&state=s", timeout=2)


def test_cancel() -> None:
    listener = CallbackListener("s", _free_ports(1))
    with pytest.raises(SignInCancelled):
        listener.wait(timeout=10, should_cancel=lambda: True)


def test_port_in_use_moves_to_the_next_one_in_the_list() -> None:
    ports = _free_ports(3)
    busy = socket.socket()
    busy.bind(("127.0.0.1", ports[0]))
    busy.listen()
    try:
        listener = CallbackListener("s", ports)
        assert listener.port == ports[1]
        listener.close()
    finally:
        busy.close()


def test_all_ports_busy_is_a_plain_error() -> None:
    ports = _free_ports(2)
    socks = []
    for p in ports:
        s = socket.socket()
        s.bind(("127.0.0.1", p))
        s.listen()
        socks.append(s)
    try:
        with pytest.raises(SignInError, match="None of the ports"):
            CallbackListener("s", ports)
    finally:
        for s in socks:
            s.close()


def test_listens_on_loopback_only() -> None:
    listener = CallbackListener("s", _free_ports(1))
    try:
        assert listener._server.server_address[0] == "127.0.0.1"
    finally:
        listener.close()


def test_registered_ports_are_documented_in_the_readme() -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    for port in REDIRECT_PORTS:
        assert f"http://localhost:{port}/callback" in readme


def test_an_idle_connection_never_stalls_the_real_callback() -> None:
    # A browser opens spare connections to the address it is about to load (a preconnect) and may send
    # nothing on them; the real callback must still be answered at once (issue 17, point 7).
    listener = CallbackListener("st4te", _free_ports(1))
    out = _wait_in_thread(listener)
    idle = [socket.create_connection(("127.0.0.1", listener.port)) for _ in range(3)]
    half = socket.create_connection(("127.0.0.1", listener.port))
    half.sendall(b"GET /callback?code=x")  # half a request line, then nothing
    try:
        r = requests.get(f"http://127.0.0.1:{listener.port}/callback?code=abc&state=st4te", timeout=5)
        assert r.status_code == 200 and "You can close this tab" in r.text
        out["thread"].join(5)
        assert out["code"] == "abc"
    finally:
        for s in (*idle, half):
            s.close()


def test_an_idle_connection_is_dropped_after_its_timeout() -> None:
    listener = CallbackListener("st4te", _free_ports(1), connection_timeout=0.2)
    try:
        idle = socket.create_connection(("127.0.0.1", listener.port))
        idle.settimeout(10)  # a guard: the listener's own timeout ends it
        assert idle.recv(1024) == b""  # closed by the listener, not held open
        idle.close()
    finally:
        listener.close()
