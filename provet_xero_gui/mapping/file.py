"""The profile's mapping file: saved atomically, and read (or imported) only when it is a small regular file
of UTF-8 JSON."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from provet_xero_gui.mapping.model import Mapping, MappingError
from provet_xero_gui.settings import write_json_atomically


class MappingFile:
    """The profile's saved mapping (config/mapping.json)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def exists(self) -> bool:
        return self.path.exists()

    def load(self) -> Mapping:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise MappingError(
                "no mapping has been saved yet; set it up in the window or run `mapping import`"
            ) from None
        return parse_mapping_text(text, self.path)

    def save(self, mapping: Mapping) -> None:
        write_json_atomically(self.path, mapping.to_json())


MAX_MAPPING_BYTES = 1_000_000  # a mapping is a few kB; a clinic group's largest is far below this


def read_mapping_file(path: Path | str) -> str:
    """The text of a mapping file to import: a regular file of at most MAX_MAPPING_BYTES, in UTF-8.

    A device (`/dev/zero`), a folder or a pipe is refused before it is read, so an import never reads for
    ever or fills the memory. Raises MappingError (FileNotFoundError/OSError for a missing or unreadable one)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not block the open
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise MappingError(f"{path} is not a regular file (it is a device, a folder or a pipe); give the "
                               "mapping file provet-xero exported")
        data = fh.read(MAX_MAPPING_BYTES + 1)
    if len(data) > MAX_MAPPING_BYTES:
        raise MappingError(f"{path} is too large to be a mapping file (more than {MAX_MAPPING_BYTES // 1000} kB; "
                           "a mapping is a few kB)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise MappingError(f"{path} is not a text file (UTF-8 JSON expected)") from None


def parse_mapping_text(text: str, source: Path | str) -> Mapping:
    if len(text) > MAX_MAPPING_BYTES:
        raise MappingError(f"{source} is too large to be a mapping file (a mapping is a few kB)")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MappingError(f"{source} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise MappingError(f"{source} is nested too deeply to be a mapping file") from None
    try:
        return Mapping.from_json(data)
    except MappingError as exc:
        raise MappingError(f"{source}: {exc}") from None
