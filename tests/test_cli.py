from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.cli import run_cli

from provet_xero_gui import __version__
from provet_xero_gui.cli import main


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args)


def test_version() -> None:
    out = _run("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"provet-xero {__version__}"


def test_console_script_is_installed() -> None:
    exe = Path(sys.executable).with_name("provet-xero")
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == f"provet-xero {__version__}"


def test_status_on_a_fresh_profile(profile_home: Path) -> None:
    out = _run("status")
    assert out.returncode == 0, out.stderr
    assert "Provet:  not connected" in out.stdout
    assert "Xero:    not connected" in out.stdout
    assert str(profile_home) in out.stdout


def test_status_json_is_machine_readable(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert st["version"] == __version__
    assert st["provet"]["connected"] is False and st["xero"]["connected"] is False
    assert st["store"]["schema"] >= 1 and st["store"]["attention"] == 0


def test_status_reports_a_damaged_settings_file(profile_home: Path) -> None:
    settings = profile_home / "config" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text("{ not json")
    out = _run("status")
    assert out.returncode == 0
    assert "could not be used" in out.stdout and "settings.json.bad" in out.stdout
    assert "Traceback" not in out.stderr


def test_no_qt_below_the_ui_layer() -> None:
    code = (
        "import sys, provet_xero_gui.cli, provet_xero_gui.store, provet_xero_gui.credentials, "
        "provet_xero_gui.settings;"
        "print(any(m.startswith('PySide6') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False"


def test_version_imports_no_sandbox_qt_or_http_clients() -> None:
    """`provet-xero --version` (and --help) answer without loading what the commands need: in a fresh
    interpreter, as the console script starts."""
    code = (
        "import sys\n"
        "from provet_xero_gui.cli import main\n"
        "try:\n"
        "    main(['--version'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('provet_xero_gui.sandbox', 'PySide6', 'xero_python', 'requests', 'provet_xero_gui.sync')\n"
        "print(sorted({m.split('.')[0] if not m.startswith('provet_xero_gui') else '.'.join(m.split('.')[:2])\n"
        "              for m in sys.modules if m.startswith(heavy)}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.splitlines() == [f"provet-xero {__version__}", "[]"], out.stdout + out.stderr


def test_the_parsers_default_for_mapping_check_is_the_one_it_reads() -> None:
    from provet_xero_gui import cli, mapping

    assert cli.RECENT_INVOICES == mapping.RECENT_INVOICES


def test_the_readme_names_every_command_and_option() -> None:
    """The README's command list leaves nothing out that `provet-xero --help` and its commands offer."""
    import argparse

    from provet_xero_gui.cli import build_parser

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    listing = readme[readme.index("## The command line"):readme.index("### Daily tie-out")]
    missing = []

    def walk(parser: argparse.ArgumentParser, words: list[str]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    if f" {name}" not in listing:
                        missing.append(" ".join([*words, name]))
                    walk(sub, [*words, name])
            elif action.option_strings and action.dest != "help":
                longest = max(action.option_strings, key=len)
                if longest not in listing:
                    missing.append(" ".join([*words, longest]))

    walk(build_parser(), ["provet-xero"])
    assert missing == []
