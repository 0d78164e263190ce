#!/usr/bin/env bash
# Sets everything up and runs the main job: bash scripts/run-demo.sh [arguments for provet-xero demo]
# The demo runs on the built-in sandbox (simulated Provet Cloud and Xero) in a throwaway profile: the window
# on a desktop, the same first run in the terminal where there is no screen. Where no desktop keyring is
# running (a server, a container), it starts a private one just for the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

args=("$@")
if [ ${#args[@]} -eq 0 ] && [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No screen here: running the demo in the terminal (provet-xero demo --headless)." >&2
  args=(--headless)
fi
if [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  exec .venv/bin/provet-xero demo "${args[@]}"
fi
keyring_home=$(mktemp -d)
trap 'rm -rf "$keyring_home"' EXIT
XDG_DATA_HOME="$keyring_home" dbus-run-session -- bash -c '
  eval "$(printf "demo" | gnome-keyring-daemon --unlock --components=secrets)" >/dev/null
  exec .venv/bin/provet-xero demo "$@"' _ "${args[@]}" 2> >(grep --line-buffered -v "fd limit" >&2)
