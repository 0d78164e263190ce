"""No secret leaves the keyring: after a full `provet-xero -v demo --headless` (debug logging on), none of the
tokens, the Provet client secret or the PKCE verifier it handled (read from the sandbox and the keyring
during the run) is in any file of the profile, the debug log, a crash report, stdout or stderr, plain or
encoded. TLS is never switched off for real endpoints, and the sandbox only ever listens on loopback.

The sign-in callback listener (127.0.0.1 only, one valid answer, wrong state refused, closed afterwards) is
tests/connect/test_callback_listener.py; this file adds the bound socket's own address.
"""

from __future__ import annotations

import json
import re
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from helpers.cli import run_cli

from provet_xero_gui.redact import encodings

ROOT = Path(__file__).resolve().parents[2]

_DEMO = r"""
import json, logging, os, shutil, sys
from pathlib import Path
out = Path(sys.argv[1])
found = {"xero": [], "verifier": [], "provet_token": [], "keyring": []}

from provet_xero_gui.app import demo
from provet_xero_gui.provet.client import ProvetClient
from provet_xero_gui.sandbox.provet_server import DEMO_CLIENT_SECRET
from provet_xero_gui.sandbox.xero_identity import XeroIdentity
from provet_xero_gui.xero import oauth

found["keyring"].append(DEMO_CLIENT_SECRET)
real_issue = XeroIdentity._issue
def issue(self, grant, **kw):
    answer = real_issue(self, grant, **kw)
    found["xero"] += [str(answer[k]) for k in ("access_token", "refresh_token", "id_token") if answer.get(k)]
    return answer
XeroIdentity._issue = issue

real_new = oauth.Pkce.new.__func__
def new(cls):
    pkce = real_new(cls)
    found["verifier"].append(pkce.verifier)
    return pkce
oauth.Pkce.new = classmethod(new)

real_fetch = ProvetClient._fetch_token
def fetch(self):
    real_fetch(self)
    found["provet_token"].append(self._token)
ProvetClient._fetch_token = fetch

real_run_sync = demo.run_sync
def run_sync(profile, **kw):
    result = real_run_sync(profile, **kw)
    creds = profile.credentials()
    tokens = creds.load_xero_tokens()
    found["keyring"] += [tokens.access_token, tokens.refresh_token, creds.load_provet_secret()]
    shutil.copytree(os.environ["PROVET_XERO_HOME"], out / "profile")  # before the demo deletes it
    # A crash report made with the secrets in the exception and in the frame's locals.
    from provet_xero_gui.crash import crash_report
    try:
        secret_blob = tokens.to_json()
        raise RuntimeError(f"something broke near {secret_blob} Authorization: Bearer {tokens.access_token}")
    except RuntimeError as exc:
        (out / "crash.txt").write_text(crash_report(type(exc), exc, exc.__traceback__), encoding="utf-8")
    return result
demo.run_sync = run_sync

# The window's log file at debug level: everything logged during the run.
handler = logging.FileHandler(out / "debug.log", encoding="utf-8")
handler.setLevel(logging.DEBUG)
handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
real_basic_config = logging.basicConfig
def basic_config(**kw):  # the command line's own -v set-up first, then this file beside it
    real_basic_config(**kw)
    logging.getLogger().addHandler(handler)
logging.basicConfig = basic_config

from provet_xero_gui.cli import main
try:
    code = main(["-v", "demo", "--headless", "--size", "20"])
finally:
    (out / "secrets.json").write_text(json.dumps(found))
sys.exit(code)
"""


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("demo-secrets")
    run = subprocess.run([sys.executable, "-c", _DEMO, str(out)], capture_output=True, text=True, timeout=240,
                         cwd=ROOT)
    return out, run


def _forms(values: list[str]) -> dict[str, str]:
    """Every searched-for string -> a safe description (never the secret itself in an assertion message)."""
    out: dict[str, str] = {}
    for i, value in enumerate(v for v in values if v):
        for form in encodings(value):
            out[form] = f"secret #{i} (length {len(value)})"
    return out


def test_the_headless_demo_leaves_no_secret_anywhere(demo_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, run = demo_run
    assert run.returncode in (0, 1), run.stderr[-2000:]
    assert "Sync finished." in run.stdout
    assert "DEBUG" in run.stderr, "debug logging was on"
    found = json.loads((out / "secrets.json").read_text())
    assert found["xero"] and found["verifier"] and found["provet_token"] and len(found["keyring"]) == 4
    forms = _forms(found["xero"] + found["verifier"] + found["provet_token"] + found["keyring"])
    # The Provet client id and secret go together in a Basic header: that form too.
    forms.update(dict.fromkeys(encodings(f"provet-xero-demo:{found['keyring'][0]}"), "Provet Basic credentials"))

    places: dict[str, bytes] = {"stdout": run.stdout.encode(), "stderr": run.stderr.encode(),
                                "debug log": (out / "debug.log").read_bytes(),
                                "crash report": (out / "crash.txt").read_bytes()}
    files = [p for p in (out / "profile").rglob("*") if p.is_file()]
    assert any(p.suffix == ".sqlite3" for p in files) and any(p.name == "settings.json" for p in files)
    places.update({str(p.relative_to(out)): p.read_bytes() for p in files})
    leaks = [f"{what} in {where}" for where, data in places.items() for form, what in forms.items()
             if form.encode() in data]
    assert not leaks, leaks
    report = (out / "crash.txt").read_text()
    assert "Traceback" in report and "RuntimeError: something broke near" in report and "[redacted]" in report


def test_the_callback_listener_socket_is_bound_to_loopback_only() -> None:
    from provet_xero_gui.xero.oauth import CallbackListener

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    listener = CallbackListener("s", [port])
    try:
        assert listener._server.socket.getsockname()[0] == "127.0.0.1"
        other = _non_loopback_address()
        if other:
            with pytest.raises(OSError), socket.create_connection((other, listener.port), timeout=2):
                pass
    finally:
        listener.close()


def _non_loopback_address() -> str | None:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("192.0.2.1", 9))  # no packet is sent: only picks the outgoing interface
        address = s.getsockname()[0]
    except OSError:
        return None
    finally:
        s.close()
    return None if address.startswith("127.") else address


# --- TLS ------------------------------------------------------------------------------------------------

_SWITCHES = re.compile(r"verify\s*=\s*False|_create_unverified_context|CERT_NONE|check_hostname\s*=\s*False|"
                       r"verify_ssl\s*=\s*False|disable_warnings|PYTHONHTTPSVERIFY|REQUESTS_CA_BUNDLE")


def test_no_code_switches_tls_verification_off() -> None:
    offenders = [f"{p.relative_to(ROOT)}:{n}" for p in (ROOT / "provet_xero_gui").rglob("*.py")
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if _SWITCHES.search(line)]
    assert not offenders, offenders


@pytest.fixture(scope="module")
def untrusted_https(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    """An https server on loopback with a self-signed certificate; lists the paths it was asked for."""
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _any(self) -> None:
            seen.append(self.path)
            body = b'{"access_token": "x", "expires_in": 1800, "refresh_token": "y"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = _any

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}", seen
    httpd.shutdown()
    httpd.server_close()


def test_xeros_sign_in_service_with_an_untrusted_certificate_is_refused(untrusted_https: tuple[str, list[str]]) -> None:
    from provet_xero_gui.xero.identity import IdentityClient, XeroAnswerLost

    url, seen = untrusted_https
    before = len(seen)
    with pytest.raises(XeroAnswerLost) as caught:
        IdentityClient(url, url, "client").refresh("a-refresh-token-that-must-not-travel")
    assert "Traceback" not in str(caught.value) and len(seen) == before  # refused before anything was sent


def test_xeros_api_through_xero_python_with_an_untrusted_certificate_is_refused(
    untrusted_https: tuple[str, list[str]],
) -> None:
    from provet_xero_gui.xero.client import XeroApiError, XeroClient

    class Tokens:
        def access_token(self) -> str:
            return "an-access-token-that-must-not-travel"

        def invalidate(self, access_token: str) -> None:
            pass

    url, seen = untrusted_https
    before = len(seen)
    client = XeroClient(url, "tenant", Tokens(), sleep=lambda _s: None)
    assert client._api_client.configuration.verify_ssl is True
    with pytest.raises(XeroApiError, match="could not be reached"):
        client.reference()
    assert len(seen) == before


def test_provet_with_an_untrusted_certificate_is_refused_plainly(untrusted_https: tuple[str, list[str]]) -> None:
    from provet_xero_gui.provet.client import ProvetClient, ProvetError

    url, seen = untrusted_https
    before = len(seen)
    with pytest.raises(ProvetError, match="certificate could not be verified"):
        ProvetClient(f"{url}/1234/", "client", "a-secret-that-must-not-travel", sleep=lambda _s: None).check()
    assert len(seen) == before


# --- the sandbox: loopback only ----------------------------------------------------------------------------


def test_the_sandbox_listens_on_loopback_only_and_refuses_other_hosts() -> None:
    from provet_xero_gui.sandbox.httpbase import Router, SandboxServer
    from provet_xero_gui.sandbox.runner import Sandbox

    with Sandbox(size=4) as sandbox:
        for server in (sandbox.xero.server, sandbox.provet._server):
            assert server._httpd.socket.getsockname()[0] == "127.0.0.1"
            assert server.base_url.startswith("http://127.0.0.1:")
        other = _non_loopback_address()
        if other:
            with pytest.raises(OSError), socket.create_connection((other, sandbox.xero.server.port), timeout=2):
                pass
    for host in ("0.0.0.0", "::", "192.168.1.20", "example.com", ""):
        with pytest.raises(ValueError, match="loopback only"):
            SandboxServer(Router(), name="x", host=host)
    help_text = run_cli("sandbox", "--help").stdout
    assert "--host" not in help_text and "--bind" not in help_text  # no way to ask for another address
