"""The first-run setup's actions, without Qt: what is already set up, connecting Provet, signing in to Xero,
choosing the organisation, reading what the mapping needs and saving it.

The setup window runs each of these on a worker thread; the command line and the demo do the same steps
(cli.py `connect provet|xero`, demo.py), so the order of saving and what is saved are kept the same here:
the secret and the Xero tokens go to the keyring, the rest to the settings file. Every failure is an
exception whose message is a plain sentence (`plain_message` turns any of them into one).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import IntEnum

from provet_xero_gui.app.connections import NotConnected, open_connections
from provet_xero_gui.app.errors import AppError
from provet_xero_gui.credentials import CredentialsError
from provet_xero_gui.mapping import (
    Mapping,
    MappingError,
    MappingFile,
    MappingProblem,
    MappingUsage,
    check_mapping,
    read_departments,
    read_payment_methods,
    read_usage,
    read_vat_groups,
)
from provet_xero_gui.profile import Profile
from provet_xero_gui.provet.client import ProvetCheck, ProvetClient, ProvetError
from provet_xero_gui.provet.records import Department, PaymentMethod, RecordError, VatGroup
from provet_xero_gui.settings import ProvetSettings, XeroSettings
from provet_xero_gui.store import StoreError
from provet_xero_gui.xero.client import XeroApiError
from provet_xero_gui.xero.identity import IdentityClient, Tenant, XeroAuthError
from provet_xero_gui.xero.limits import DayLimitLow
from provet_xero_gui.xero.oauth import SIGN_IN_TIMEOUT_SECONDS, SignInError
from provet_xero_gui.xero.reference import XeroReference
from provet_xero_gui.xero.signin import ChooseOrganisation, record_refresh, select_tenant, sign_in
from provet_xero_gui.xero.tokens import TokenManager

log = logging.getLogger(__name__)

# The failures a setup step expects; their messages are written for people.
EXPECTED_ERRORS: tuple[type[Exception], ...] = (
    AppError, ProvetError, XeroAuthError, SignInError, CredentialsError, NotConnected, MappingError, RecordError,
    XeroApiError, DayLimitLow, StoreError,
)


class Step(IntEnum):
    """The setup's pages, in order."""

    WELCOME = 0
    PROVET = 1
    XERO = 2
    ORGANISATION = 3
    MAPPING = 4
    DONE = 5


@dataclass(frozen=True)
class SetupState:
    """What the profile already has; read when the setup opens so it can resume where it was left."""

    provet_url: str | None = None
    provet_client_id: str | None = None
    provet_secret_stored: bool = False
    xero_signed_in: bool = False
    tenant_id: str | None = None
    tenant_name: str | None = None
    mapping_saved: bool = False
    problem: str | None = None  # the keyring could not be read, in plain words

    @property
    def provet_connected(self) -> bool:
        return bool(self.provet_url and self.provet_client_id and self.provet_secret_stored)

    @property
    def organisation_chosen(self) -> bool:
        return bool(self.xero_signed_in and self.tenant_id)

    def done(self, step: Step) -> bool:
        return {
            Step.WELCOME: self.provet_connected or self.xero_signed_in or self.mapping_saved,
            Step.PROVET: self.provet_connected,
            Step.XERO: self.xero_signed_in,
            Step.ORGANISATION: self.organisation_chosen,
            Step.MAPPING: self.mapping_saved,
            Step.DONE: False,
        }[step]

    def first_missing(self) -> Step:
        """Where the setup opens: the welcome page on a first run, else the first step not done."""
        if not self.done(Step.WELCOME):
            return Step.WELCOME
        for step in (Step.PROVET, Step.XERO, Step.ORGANISATION, Step.MAPPING):
            if not self.done(step):
                return step
        return Step.DONE


def read_setup_state(profile: Profile) -> SetupState:
    """Settings, keyring and mapping file as they are now (the keyring may be slow: call off the GUI thread)."""
    profile = profile.reload()
    s = profile.settings
    state = SetupState(
        provet_url=s.provet.url,
        provet_client_id=s.provet.client_id,
        tenant_id=s.xero.tenant_id,
        tenant_name=s.xero.tenant_name,
        mapping_saved=profile.paths.mapping_file.exists(),
    )
    try:
        creds = profile.credentials()
        return replace(state, provet_secret_stored=creds.load_provet_secret() is not None,
                       xero_signed_in=creds.load_xero_tokens() is not None)
    except CredentialsError as exc:
        return replace(state, problem=str(exc))


def suggested_provet_url(profile: Profile) -> str:
    """The address to offer in the form: the saved one, else the environment's override, else empty."""
    return profile.settings.provet.url or profile.endpoints.provet_url or ""


def connect_provet(profile: Profile, url: str, client_id: str, secret: str) -> ProvetCheck:
    """Check the credentials with one read, then keep the secret in the keyring and the rest in settings.

    Nothing is saved when the check fails, so a wrong secret never replaces a working one."""
    url, client_id = url.strip(), client_id.strip()
    if not url:
        raise ProvetError("Enter the Provet Cloud address, e.g. https://provetcloud.com/1234/.")
    if not client_id:
        raise ProvetError("Enter the client id of the Provet integration.")
    if not secret:
        raise ProvetError("Enter the client secret of the Provet integration.")
    check = ProvetClient(url, client_id, secret).check()
    profile = profile.reload()
    creds = profile.credentials()
    creds.save_provet_secret(secret)
    profile.settings_file.update(keyring_backend=creds.backend_name,
                                 provet=ProvetSettings(url=check.instance_url, client_id=client_id))
    return check


def identity_for(profile: Profile) -> IdentityClient:
    return IdentityClient.for_endpoints(profile.endpoints)


@dataclass(frozen=True)
class XeroSignIn:
    """The organisations the sign-in connected; `chosen` is None when the person must pick one."""

    tenants: tuple[Tenant, ...]
    chosen: Tenant | None


def sign_in_to_xero(
    profile: Profile,
    identity: IdentityClient,
    *,
    show_url: Callable[[str, bool], None],
    open_browser: Callable[[str], bool] | None,
    should_cancel: Callable[[], bool],
    timeout: float = SIGN_IN_TIMEOUT_SECONDS,
) -> XeroSignIn:
    """The browser sign-in (xero.signin.sign_in); several organisations are an answer here, not an error."""
    profile = profile.reload()
    try:
        result = sign_in(identity, profile.endpoints.xero_login_url, profile.credentials(), profile.settings_file,
                         show_url=show_url, open_browser=open_browser, should_cancel=should_cancel, timeout=timeout)
    except ChooseOrganisation as exc:
        return XeroSignIn(exc.tenants, None)
    return XeroSignIn(result.tenants, result.tenant)


def _access_token(profile: Profile, identity: IdentityClient) -> str:
    tokens = TokenManager(profile.credentials(), identity, on_refreshed=record_refresh(profile.settings_file))
    return tokens.access_token()


def organisations(profile: Profile, identity: IdentityClient) -> tuple[Tenant, ...]:
    """The organisations the stored sign-in reaches (refreshing the token first when it is old)."""
    profile = profile.reload()
    return tuple(identity.connections(_access_token(profile, identity)))


def choose_organisation(profile: Profile, identity: IdentityClient, tenant_id: str) -> Tenant:
    profile = profile.reload()
    return select_tenant(identity, _access_token(profile, identity), profile.settings_file, tenant_id)


@dataclass(frozen=True)
class MappingSources:
    """What the mapping editor needs: Provet's VAT groups, payment methods and departments, what recent
    invoices use, Xero's tax rates, accounts and tracking categories, and the saved mapping (None when there
    is none yet)."""

    vat_groups: tuple[VatGroup, ...]
    payment_methods: tuple[PaymentMethod, ...]
    account_numbers: tuple[str, ...]
    reference: XeroReference
    usage: MappingUsage
    saved: Mapping | None
    departments: tuple[Department, ...] = ()


def read_mapping_sources(profile: Profile, *, invoices: int | None = None) -> MappingSources:
    profile = profile.reload()
    mapping_file = MappingFile(profile.paths.mapping_file)
    saved = mapping_file.load() if mapping_file.exists() else None
    conns = open_connections(profile)
    groups, methods = read_vat_groups(conns.provet), read_payment_methods(conns.provet)
    reference = conns.xero.reference()
    kwargs = {"limit": invoices} if invoices is not None else {}
    usage = read_usage(conns.provet, groups, start_date=saved.start_date if saved else None, **kwargs)
    numbers = sorted(usage.account_numbers | {g.account_number for g in groups if g.account_number})
    departments = read_departments(conns.provet)
    return MappingSources(tuple(groups), tuple(methods), tuple(numbers), reference, usage, saved, tuple(departments))


def check_against(sources: MappingSources, mapping: Mapping) -> list[MappingProblem]:
    """`mapping check` on data already read (no network): problems beside the rows they concern."""
    u = sources.usage
    return [*u.row_problems, *check_mapping(mapping, sources.reference, list(sources.vat_groups),
                                            list(sources.payment_methods), u.vat_groups, u.payment_keys,
                                            u.account_numbers, departments=sources.departments)]


def save_mapping(profile: Profile, mapping: Mapping) -> None:
    MappingFile(profile.paths.mapping_file).save(mapping)


def plain_message(exc: BaseException) -> str:
    """A sentence for the page: expected failures speak for themselves; anything else is logged in full."""
    if isinstance(exc, EXPECTED_ERRORS):
        return str(exc)
    if isinstance(exc, OSError):
        return f"A file or connection could not be used: {exc.strerror or exc}."
    log.error("setup step failed unexpectedly", exc_info=exc)
    return f"Something unexpected went wrong ({type(exc).__name__}); the log file has the details."



def sign_in_and_choose(
    profile: Profile,
    *,
    tenant: str | None,
    show_url: Callable[[str, bool], None],
    open_browser: Callable[[str], bool] | None,
    ask: Callable[[tuple[Tenant, ...], str | None], str | None],
) -> Tenant:
    """`provet-xero connect xero`: the browser sign-in, then the organisation named (`tenant`), the only one, or
    the one `ask` picks among several (its answer None: ChooseOrganisation, whose message says how to name one)."""
    identity = identity_for(profile)
    creds = profile.credentials()
    try:
        return sign_in(identity, profile.endpoints.xero_login_url, creds, profile.settings_file, tenant=tenant,
                       show_url=show_url, open_browser=open_browser).tenant
    except ChooseOrganisation as exc:
        wanted = ask(exc.tenants, exc.wanted)
        if wanted is None:
            raise
        tokens = creds.load_xero_tokens()
        assert tokens is not None
        return select_tenant(identity, tokens.access_token, profile.settings_file, wanted)


def disconnect(profile: Profile, service: str) -> str | None:
    """End the connection to "xero" or "provet" and delete its secrets; a warning when Xero could not be told."""
    creds = profile.credentials()
    warning = None
    if service == "xero":
        tokens = creds.load_xero_tokens()
        if tokens is not None:
            try:
                identity_for(profile).revoke(tokens.refresh_token)
            except XeroAuthError as exc:
                warning = f"{exc} The sign-in was removed from this computer anyway."
        creds.delete_xero_tokens()
        profile.settings_file.update(xero=XeroSettings())
    else:
        creds.delete_provet_secret()
        profile.settings_file.update(provet=ProvetSettings())
    return warning


def setup_gap(profile: Profile) -> Step | None:
    """The first setup step a pass or a tie-out still needs, from the settings alone (PROVET, XERO or MAPPING);
    None when the settings have it all (whether the secrets and the mapping are usable is checked when used)."""
    s = profile.settings
    if not ((s.provet.url or profile.endpoints.provet_url) and s.provet.client_id):
        return Step.PROVET
    if not s.xero.tenant_id:
        return Step.XERO
    if not profile.paths.mapping_file.exists():
        return Step.MAPPING
    return None
