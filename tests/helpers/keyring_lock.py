"""Locking and unlocking the test session's real Secret Service collection (gnome-keyring of /tmp/t.sh and
scripts/run-tests.sh), the way a screen lock or `seahorse` would: org.freedesktop.Secret.Service.Lock, and
gnome-keyring's unlock-with-password call (no prompt can be shown without a display).

    from helpers.keyring_lock import keyring_locked

    with keyring_locked():
        ...   # every keyring read or write raises keyring.errors.KeyringLocked
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import keyring
import pytest

SESSION_PASSWORD = b"pass"  # what the test session's gnome-keyring-daemon was unlocked with
_SERVICE = "org.freedesktop.secrets"
_PATH = "/org/freedesktop/secrets"


def _connection() -> Any:
    from jeepney.io.blocking import open_dbus_connection

    return open_dbus_connection(bus="SESSION")


def _collection() -> str:
    import secretstorage

    conn = secretstorage.dbus_init()
    try:
        return secretstorage.get_default_collection(conn).collection_path
    finally:
        conn.close()


def require_secret_service() -> None:
    if type(keyring.get_keyring()).__module__ != "keyring.backends.SecretService":
        pytest.skip("needs the Secret Service of the test session (run under /tmp/t.sh or run-tests.sh)")


def lock() -> None:
    from jeepney import DBusAddress, new_method_call

    service = DBusAddress(_PATH, bus_name=_SERVICE, interface="org.freedesktop.Secret.Service")
    with _connection() as conn:
        conn.send_and_get_reply(new_method_call(service, "Lock", "ao", ([_collection()],)))


def unlock() -> None:
    from jeepney import DBusAddress, new_method_call

    service = DBusAddress(_PATH, bus_name=_SERVICE, interface="org.freedesktop.Secret.Service")
    internal = DBusAddress(_PATH, bus_name=_SERVICE,
                           interface="org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface")
    with _connection() as conn:
        session = conn.send_and_get_reply(new_method_call(service, "OpenSession", "sv", ("plain", ("s", "")))).body[1]
        secret = (session, b"", SESSION_PASSWORD, "text/plain")
        reply = conn.send_and_get_reply(
            new_method_call(internal, "UnlockWithMasterPassword", "o(oayays)", (_collection(), secret))
        )
        assert reply.header.message_type.name == "method_return", reply.body


@contextmanager
def keyring_locked() -> Iterator[None]:
    require_secret_service()
    lock()
    try:
        yield
    finally:
        unlock()
