#!/usr/bin/env bash
# Sets everything up and runs the whole test suite: bash scripts/run-tests.sh [pytest arguments]
# Tests run against a real Secret Service (gnome-keyring inside a private D-Bus session, with a throwaway
# HOME so no real keyring is touched) and Qt's offscreen platform.
set -euo pipefail
cd "$(dirname "$0")/.."
PROVET_XERO_SETUP_EXTRAS=test bash scripts/setup.sh

export QT_QPA_PLATFORM=offscreen
export PROVET_XERO_TEST_REAL_HOME="$HOME"
test_home=$(mktemp -d)
trap 'rm -rf "$test_home"' EXIT
export HOME="$test_home" XDG_DATA_HOME="$test_home/.local/share" XDG_CONFIG_HOME="$test_home/.config"
unset PYTHON_KEYRING_BACKEND

.venv/bin/ruff check . || exit 1
exec dbus-run-session -- bash -c '
  eval "$(printf "pass" | gnome-keyring-daemon --unlock --components=secrets)"
  export GNOME_KEYRING_CONTROL
  exec .venv/bin/python -m pytest "$@"' _ "$@"
