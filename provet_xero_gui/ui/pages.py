"""Pages made by other parts of the app, embedded defensively: a missing or broken page becomes a
placeholder, so the window always opens."""

from __future__ import annotations

import importlib
import inspect
import logging
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

log = logging.getLogger(__name__)


def placeholder(text: str) -> QLabel:
    label = QLabel(text)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    label.setAccessibleName(text)
    return label


def load_class(module: str, name: str) -> type | None:
    """The class, or None when its module is not there (yet) or fails to import."""
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError:
        log.info("%s.%s is not available", module, name)
    except Exception:
        log.exception("%s could not be loaded", module)
    return None


def build_page(module: str, name: str, missing: str, **context: Any) -> QWidget:
    """Construct `module.name` with those of `context` its constructor accepts, or a placeholder."""
    cls = load_class(module, name)
    if cls is None:
        return placeholder(missing)
    try:
        params = inspect.signature(cls).parameters
        takes_all = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        kwargs = {k: v for k, v in context.items() if takes_all or k in params}
        return cls(**kwargs)
    except Exception:
        log.exception("%s.%s could not be built", module, name)
        return placeholder(f"{missing} (it failed to start; see the log file)")
