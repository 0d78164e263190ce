"""The mapping's use cases for the command line: import, export, check against Provet and Xero, suggest.

Every expected failure comes out as `AppError` with the sentence the person reads; the reads are made in the same
order, with the same number of calls, as the command line always made them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from provet_xero_gui.app.connections import NotConnected, open_provet, open_xero
from provet_xero_gui.app.errors import AppError
from provet_xero_gui.credentials import CredentialsError
from provet_xero_gui.mapping import (
    MAX_MAPPING_BYTES,
    Mapping,
    MappingError,
    MappingFile,
    MappingProblem,
    check_mapping,
    parse_mapping_text,
    read_departments,
    read_mapping_file,
    read_payment_methods,
    read_usage,
    read_vat_groups,
    suggest_mapping,
)
from provet_xero_gui.profile import Profile
from provet_xero_gui.provet.client import ProvetClient, ProvetError
from provet_xero_gui.provet.records import Department, PaymentMethod, RecordError, VatGroup
from provet_xero_gui.settings import write_json_atomically
from provet_xero_gui.xero.client import XeroApiError, XeroClient
from provet_xero_gui.xero.identity import XeroAuthError
from provet_xero_gui.xero.limits import DayLimitLow
from provet_xero_gui.xero.reference import XeroReference

_READ_FAILURES = (ProvetError, RecordError, XeroApiError, XeroAuthError, DayLimitLow, CredentialsError)


@dataclass(frozen=True)
class MappingCheck:
    """`mapping check`'s answer: the problems (none: ready), against which organisation and how many invoices."""

    problems: tuple[MappingProblem, ...]
    organisation: str
    invoices_read: int
    invoices_total: int


@dataclass(frozen=True)
class Suggested:
    mapping: Mapping
    notes: tuple[str, ...]  # what the suggestion could not decide, in plain words
    kept: bool  # built on the saved mapping (what was already mapped is kept)


def summary(mapping: Mapping) -> str:
    departments = f", {len(mapping.departments)} departments" if mapping.departments else ""
    return (
        f"{len(mapping.vat_groups)} VAT groups, {len(mapping.payment_methods)} payment methods, "
        f"{len(mapping.sales_accounts)} sales accounts{departments}"
    )


def read_text(name: str, stdin_text: str | None = None) -> str:
    """A mapping file's text; `stdin_text` is what standard input gave (read up to MAX_MAPPING_BYTES + 1)."""
    if stdin_text is not None:
        if len(stdin_text) > MAX_MAPPING_BYTES:
            raise AppError("standard input is too large to be a mapping file (a mapping is a few kB). Nothing was "
                           "changed.")
        return stdin_text
    try:
        return read_mapping_file(name)
    except MappingError as exc:
        raise AppError(f"{exc}. Nothing was changed.") from None
    except FileNotFoundError:
        raise AppError(f"there is no file {name}") from None
    except OSError as exc:
        raise AppError(f"{name} cannot be read: {exc.strerror or exc}") from None


def import_text(profile: Profile, text: str, source: str) -> Mapping:
    """Check a mapping file's text and save it for the profile; nothing is changed when it is not usable."""
    try:
        mapping = parse_mapping_text(text, source)
    except MappingError as exc:
        raise AppError(f"{exc}. Nothing was changed.") from None
    MappingFile(profile.paths.mapping_file).save(mapping)
    return mapping


def saved(profile: Profile) -> Mapping:
    try:
        return MappingFile(profile.paths.mapping_file).load()
    except MappingError as exc:
        raise AppError(str(exc)) from None


def export(profile: Profile, name: str) -> None:
    """Write the saved mapping to the file `name`, whose folder must be there already."""
    mapping = saved(profile)
    target = Path(name)
    check_folder(target)
    try:
        write_json_atomically(target, mapping.to_json())
    except OSError as exc:
        raise AppError(f"{name} cannot be written: {exc.strerror or exc}") from None


def check_folder(target: Path) -> None:
    """The folder a file is to be written in must be there already: a mistyped path creates nothing."""
    if target.is_dir():
        raise AppError(f"{target} is a folder; give a file name, e.g. {target / 'mapping.json'}")
    folder = target.parent
    if folder.is_dir():
        return
    for part in reversed([folder, *folder.parents]):  # from the top down: a file where a folder should be
        if part.exists() and not part.is_dir():
            raise AppError(f"{target} cannot be written: {part} is a file, not a folder. Nothing was written.")
    raise AppError(f"{target} cannot be written: there is no folder {folder}. Create it first, or choose a "
                   "folder that is there. Nothing was written.")


def _open(profile: Profile) -> tuple[ProvetClient, XeroClient]:
    try:
        credentials = profile.credentials()
        provet = open_provet(profile, credentials)
        xero, _tokens = open_xero(profile, credentials)
    except NotConnected as exc:
        raise AppError(str(exc)) from None
    return provet, xero


def _reference(
    provet: ProvetClient, xero: XeroClient
) -> tuple[list[VatGroup], list[PaymentMethod], list[Department], XeroReference]:
    try:
        groups, methods = read_vat_groups(provet), read_payment_methods(provet)
        return groups, methods, read_departments(provet), xero.reference()
    except _READ_FAILURES as exc:
        raise AppError(str(exc)) from None


def check(profile: Profile, invoices: int) -> MappingCheck:
    """The saved mapping against Provet and Xero as they are now, and the newest `invoices` finalised invoices."""
    mapping = saved(profile)
    provet, xero = _open(profile)
    groups, methods, departments, reference = _reference(provet, xero)
    try:
        usage = read_usage(provet, groups, start_date=mapping.start_date, limit=invoices)
    except (ProvetError, RecordError) as exc:
        raise AppError(str(exc)) from None
    problems = (*usage.row_problems, *check_mapping(
        mapping, reference, groups, methods, usage.vat_groups, usage.payment_keys, usage.account_numbers,
        departments=departments))
    return MappingCheck(problems, reference.organisation.name, usage.invoices_read, usage.invoices_total)


def suggest(profile: Profile, *, fresh: bool) -> Suggested:
    """A mapping proposed from Xero's tax rates and accounts, on the saved one unless `fresh`."""
    base = saved(profile) if MappingFile(profile.paths.mapping_file).exists() and not fresh else None
    provet, xero = _open(profile)
    groups, methods, departments, reference = _reference(provet, xero)
    suggestion = suggest_mapping(reference, groups, methods, base=base, departments=departments)
    return Suggested(suggestion.mapping, tuple(suggestion.notes), base is not None)

