"""The package's layers point one way (docs/architecture.md): `ui, cli -> app -> sync, mapping, tieout -> provet,
xero -> store, settings, credentials`. Read from the source with `ast`, every import counted (inside functions and
under TYPE_CHECKING too), so a lazy import cannot slip past:

- `ui/` and `cli.py` import only the application layer (`provet_xero_gui.app`, whose `types`, `words` and `errors`
  modules re-export the value types, wording and failures they need) and the package root (its version); `ui/` also
  its own modules, and `cli.py` the window's entry point `ui.app` (only when a window is wanted);
- nothing outside `ui/` imports Qt;
- no layer imports a layer above it (so there is no cycle between layers), and nothing but `app.demo` imports the
  sandbox.

The checker is tried on planted sources first, so it is seen to fail.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import provet_xero_gui

ROOT = "provet_xero_gui"
PACKAGE_DIR = Path(provet_xero_gui.__file__).parent

# Rank of each layer: an import may go to the same rank or lower, never higher.
RANKS = {"ui": 4, "cli": 4, "app": 3, "domain": 2, "sandbox": 2, "services": 1, "base": 0}
DOMAIN = {"sync", "mapping", "tieout"}
SERVICES = {"provet", "xero"}
QT = ("PySide6", "shiboken6")


def layer_of(module: str) -> str:
    """The layer a module of the package belongs to; modules not named below (settings, credentials, store,
    profile, and the small helpers: private, redact, crash, autostart, ...) are the base."""
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else ""
    if top in ("cli", "__main__"):
        return "cli"
    if top in ("ui", "app", "sandbox"):
        return top
    if top in DOMAIN:
        return "domain"
    if top in SERVICES:
        return "services"
    return "base"


def imports_of(module: str, source: str) -> list[tuple[int, str]]:
    """(line, imported module) for every import in the source, relative ones resolved against `module`."""
    package = module.split(".")
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                # A package's __init__ counts as the package itself; `from . import x` is relative to it.
                anchor = package if module.endswith("__init__") else package[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([p for p in anchor if p != "__init__"] + ([base] if base else []))
            if base == ROOT or (node.level and not node.module):  # `from provet_xero_gui import app, ...`
                out.extend((node.lineno, f"{base}.{alias.name}") for alias in node.names)
            else:
                out.append((node.lineno, base))
    return out


def _adapter_may_import(importer: str, target: str) -> bool:
    if target in (ROOT, f"{ROOT}.__version__"):
        return True
    if layer_of(target) in ("app", layer_of(importer)):  # ui's own modules; `__main__` runs `cli`
        return True
    return target == f"{ROOT}.ui.app"  # cli.py opens the window through its entry point


def layer_violations(sources: dict[str, str]) -> list[str]:
    """Every import that breaks the layering, as "module:line imports target (why)"."""
    found: list[str] = []
    for module, source in sorted(sources.items()):
        layer = layer_of(module)
        for line, target in imports_of(module, source):
            where = f"{module}:{line} imports {target}"
            if target.split(".")[0] in QT:
                if layer != "ui":
                    found.append(f"{where} (Qt outside ui/)")
                continue
            if target != ROOT and not target.startswith(f"{ROOT}."):
                continue  # the standard library or a third-party package
            if layer in ("ui", "cli"):
                if not _adapter_may_import(module, target):
                    found.append(f"{where} (ui/ and cli.py import only the application layer)")
                continue
            if target == ROOT:
                continue
            to = layer_of(target)
            if to == "sandbox" and layer != "sandbox" and module != f"{ROOT}.app.demo":
                found.append(f"{where} (the sandbox is reached only through app.demo)")
            elif RANKS[to] > RANKS[layer]:
                found.append(f"{where} ({layer} must not import {to}, a layer above it)")
    return found


def package_cycle(sources: dict[str, str]) -> list[str]:
    """A cycle among the package's top-level parts (sync -> mapping -> sync), or [] when they form none."""
    edges: dict[str, set[str]] = {}
    for module, source in sources.items():
        here = module.split(".")[1] if "." in module else ""
        for _line, target in imports_of(module, source):
            there = target.split(".")[1] if target.startswith(f"{ROOT}.") else None
            if there and there != here:
                edges.setdefault(here, set()).add(there)
    done: set[str] = set()

    def walk(node: str, path: list[str]) -> list[str]:
        if node in path:
            return [*path[path.index(node):], node]
        if node in done:
            return []
        for nxt in sorted(edges.get(node, ())):
            cycle = walk(nxt, [*path, node])
            if cycle:
                return cycle
        done.add(node)
        return []

    return next((c for c in (walk(n, []) for n in sorted(edges)) if c), [])


def package_sources() -> dict[str, str]:
    out = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        rel = path.relative_to(PACKAGE_DIR.parent).with_suffix("")
        out[".".join(rel.parts)] = path.read_text(encoding="utf-8")
    return out


PLANTED = {
    "provet_xero_gui.ui.bad": "from provet_xero_gui.sync.engine import SyncEngine\n",
    "provet_xero_gui.ui.lazy": "def f():\n    from provet_xero_gui.store import Store\n",
    "provet_xero_gui.ui.fine": "from provet_xero_gui.app.types import Status\nfrom provet_xero_gui.ui import icons\n",
    "provet_xero_gui.cli": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                           "    from provet_xero_gui.provet.client import ProvetClient\n",
    "provet_xero_gui.store.qt": "from PySide6.QtCore import QObject\n",
    "provet_xero_gui.tieout.upward": "from provet_xero_gui.app.connections import open_connections\n",
    "provet_xero_gui.xero.cycle": "from . import client\nfrom ..sync import engine\n",
    "provet_xero_gui.sync.demo": "import provet_xero_gui.sandbox.runner\n",
    "provet_xero_gui.app.window": "from provet_xero_gui import ui\n",
}


def test_the_checker_finds_each_kind_of_break_in_planted_sources() -> None:
    found = layer_violations(PLANTED)
    assert found == [
        "provet_xero_gui.app.window:1 imports provet_xero_gui.ui (app must not import ui, a layer above it)",
        "provet_xero_gui.cli:3 imports provet_xero_gui.provet.client (ui/ and cli.py import only the application "
        "layer)",
        "provet_xero_gui.store.qt:1 imports PySide6.QtCore (Qt outside ui/)",
        "provet_xero_gui.sync.demo:1 imports provet_xero_gui.sandbox.runner (the sandbox is reached only through "
        "app.demo)",
        "provet_xero_gui.tieout.upward:1 imports provet_xero_gui.app.connections (domain must not import app, a "
        "layer above it)",
        "provet_xero_gui.ui.bad:1 imports provet_xero_gui.sync.engine (ui/ and cli.py import only the application "
        "layer)",
        "provet_xero_gui.ui.lazy:2 imports provet_xero_gui.store (ui/ and cli.py import only the application layer)",
        "provet_xero_gui.xero.cycle:2 imports provet_xero_gui.sync (services must not import domain, a layer above "
        "it)",
    ]


def test_a_cycle_between_packages_is_found() -> None:
    planted = {"provet_xero_gui.sync.a": "from provet_xero_gui.mapping import b\n",
               "provet_xero_gui.mapping.b": "from provet_xero_gui.tieout import c\n",
               "provet_xero_gui.tieout.c": "import provet_xero_gui.sync.a\n"}
    assert package_cycle(planted) == ["mapping", "tieout", "sync", "mapping"]
    assert package_cycle({k: v for k, v in planted.items() if "tieout" not in k}) == []


@pytest.mark.parametrize(("module", "expected"), [
    ("provet_xero_gui.ui.dashboard", "ui"), ("provet_xero_gui.cli", "cli"), ("provet_xero_gui.__main__", "cli"),
    ("provet_xero_gui.app.application", "app"), ("provet_xero_gui.tieout.daily", "domain"),
    ("provet_xero_gui.mapping", "domain"), ("provet_xero_gui.xero.client", "services"),
    ("provet_xero_gui.store.sync_state", "base"), ("provet_xero_gui.profile", "base"),
])
def test_modules_fall_in_their_layers(module: str, expected: str) -> None:
    assert layer_of(module) == expected


def test_the_package_keeps_its_layers() -> None:
    sources = package_sources()
    assert f"{ROOT}.ui.main_window" in sources and f"{ROOT}.app.application" in sources  # the files were read
    assert layer_violations(sources) == []
    assert package_cycle(sources) == []
