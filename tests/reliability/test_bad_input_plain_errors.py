"""Bad input that used to say nothing, or the wrong thing (issue 17, point 6), beside the bad-input corpus
(test_bad_input.py): each now gets a plain message and exit 2 from the command line, with no traceback, and
loses nothing — the next run after the cause is gone goes through, once."""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers.exactly_once import assert_exactly_once

from provet_xero_gui import cli, settings
from provet_xero_gui.mapping import Mapping, MappingFile
from provet_xero_gui.profile import Profile
from provet_xero_gui.sandbox.httpbase import UNAVAILABLE_PAGE, Response
from provet_xero_gui.sandbox.runner import Sandbox, demo_mapping

TOKEN = "POST /connect/token"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _plain(err: str) -> None:
    assert "provet-xero: " in err and "Traceback" not in err and "Errno" not in err, err
    assert "unexpected error" not in err and "Error(" not in err, err


# --- the profile's files -----------------------------------------------------------------------------------


def test_sync_lock_being_a_folder_is_a_plain_message_and_exit_2(
    clinic: tuple[Sandbox, Profile], capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox, profile = clinic
    lock = profile.paths.data_dir / "sync.lock"
    lock.mkdir()
    code, _out, err = _run(capsys, "sync")
    assert code == 2
    _plain(err)
    assert "There is a folder where provet-xero keeps a file" in err and "sync.lock" in err
    lock.rmdir()
    assert _run(capsys, "sync")[0] == 0
    assert_exactly_once(sandbox)


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (errno.ENOSPC, "The disk is full"),
        (errno.EROFS, "read-only or belongs to another user"),
        (errno.EACCES, "read-only or belongs to another user"),
    ],
    ids=["disk_full", "read_only", "not_allowed"],
)
def test_a_profile_that_cannot_be_written_is_a_plain_message_and_exit_2(
    profile_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    code: int, words: str,
) -> None:
    # The suite runs as root, where a read-only folder is still writable: the file system's answer is played.
    good = tmp_path / "mapping.json"
    good.write_text(json.dumps(demo_mapping()))
    saved = Profile.open().paths.mapping_file

    def refuse(*_a: Any, **_k: Any) -> Any:
        raise OSError(code, os.strerror(code), str(saved.parent))

    monkeypatch.setattr(settings.tempfile, "mkstemp", refuse)
    status, _out, err = _run(capsys, "mapping", "import", str(good))
    assert status == 2
    _plain(err)
    assert words in err and str(saved.parent) in err
    assert not saved.exists()
    monkeypatch.undo()  # the cause is gone: it goes through
    monkeypatch.setenv("PROVET_XERO_HOME", str(profile_home))
    assert _run(capsys, "mapping", "import", str(good))[0] == 0
    assert MappingFile(saved).load() == Mapping.from_json(demo_mapping())


# --- mapping import ----------------------------------------------------------------------------------------


@pytest.fixture
def saved_mapping(profile_home: Path) -> Path:
    path = Profile.open().paths.mapping_file
    MappingFile(path).save(Mapping.from_json(demo_mapping()))
    return path


def _unchanged(path: Path) -> None:
    assert MappingFile(path).load() == Mapping.from_json(demo_mapping())  # nothing lost


def test_mapping_import_of_deeply_nested_json_is_refused_plainly(
    saved_mapping: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    code, _out, err = _run(capsys, "mapping", "import", str(deep))
    assert code == 2
    _plain(err)
    assert "nested too deeply" in err and "Nothing was changed" in err
    _unchanged(saved_mapping)


def _import_in_a_child(source: str) -> subprocess.CompletedProcess[str]:
    """`mapping import SOURCE` in a child process with a memory cap and a deadline: an import that reads for
    ever fails this test (MemoryError or a timeout) instead of filling the machine's memory."""

    def cap() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (1536 * 2**20, 1536 * 2**20))

    try:
        return subprocess.run([sys.executable, "-m", "provet_xero_gui", "mapping", "import", source],
                              capture_output=True, text=True, timeout=60, env=dict(os.environ), preexec_fn=cap)
    except subprocess.TimeoutExpired:
        pytest.fail(f"mapping import {source} did not return")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_mapping_import_of_dev_zero_is_refused_plainly(saved_mapping: Path) -> None:
    out = _import_in_a_child("/dev/zero")
    assert out.returncode == 2, out.stderr[-500:]
    _plain(out.stderr)
    assert "not a regular file" in out.stderr and "Nothing was changed" in out.stderr
    _unchanged(saved_mapping)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_mapping_import_of_a_named_pipe_is_refused_without_waiting_for_a_writer(
    saved_mapping: Path, tmp_path: Path
) -> None:
    pipe = tmp_path / "pipe.json"
    os.mkfifo(pipe)
    out = _import_in_a_child(str(pipe))
    assert out.returncode == 2 and "not a regular file" in out.stderr, out.stderr[-500:]
    _unchanged(saved_mapping)


def test_mapping_import_of_a_huge_file_is_refused_plainly(
    saved_mapping: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    huge = tmp_path / "huge.json"
    huge.write_text(json.dumps({**demo_mapping(), "padding": "x" * 5_000_000}))
    code, _out, err = _run(capsys, "mapping", "import", str(huge))
    assert code == 2
    _plain(err)
    assert "too large to be a mapping file" in err
    _unchanged(saved_mapping)


# --- Xero's sign-in service busy or down during a token refresh ---------------------------------------------


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda: Response.json({"error": "too_many_requests"}, 429, {"Retry-After": "30"}), "Xero is busy"),
        (lambda: Response.html(UNAVAILABLE_PAGE, 503), "Xero is unavailable"),
    ],
    ids=["429", "503"],
)
def test_xero_sign_in_busy_or_down_while_renewing_tokens_says_so_and_retries(
    clinic: tuple[Sandbox, Profile], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    answer: Any, words: str,
) -> None:
    sandbox, profile = clinic
    credentials = profile.credentials()
    tokens = credentials.load_xero_tokens()
    assert tokens is not None
    credentials.save_xero_tokens(dataclasses.replace(tokens, expires_at=0.0))  # the next call must renew them
    server = sandbox.xero.server
    real_dispatch = server.dispatch

    def dispatch(req: Any) -> Any:
        if req.method == "POST" and req.path == "/connect/token":
            return answer(), TOKEN
        return real_dispatch(req)

    monkeypatch.setattr(server, "dispatch", dispatch)
    code, _out, err = _run(capsys, "sync")
    assert code == 2
    _plain(err)
    assert words in err and "tries again" in err and "nothing is lost" in err
    assert "XeroAuthError" not in err and "XeroAnswerLost" not in err
    monkeypatch.setattr(server, "dispatch", real_dispatch)
    assert _run(capsys, "sync")[0] == 0
    assert_exactly_once(sandbox)


# --- Provet's maintenance page --------------------------------------------------------------------------------


def test_provet_503_page_during_sync_says_provet_is_unavailable(
    clinic: tuple[Sandbox, Profile], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox, _profile = clinic
    monkeypatch.setattr("provet_xero_gui.provet.client.random.random", lambda: 0.0)  # shortest backoff
    monkeypatch.setattr("provet_xero_gui.provet.client.MAX_ATTEMPTS", 2)
    sandbox.provet.faults.error_html = True
    sandbox.provet.faults.fail_next = 1000
    code, _out, err = _run(capsys, "sync")
    assert code == 2
    _plain(err)
    assert "Provet is unavailable (HTTP 503)" in err and "instance address" not in err
    sandbox.provet.faults.reset()
    assert _run(capsys, "sync")[0] == 0
    assert_exactly_once(sandbox)
