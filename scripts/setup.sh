#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine for provet-xero: system libraries Qt and the tests need, then a
# virtualenv in .venv with the project installed. Sourced by run-demo.sh and run-tests.sh; safe to rerun.
#   PROVET_XERO_SETUP_EXTRAS=test   also install the test tools (pytest, ...) into the virtualenv
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SYSTEM_PACKAGES=(python3-venv xvfb xauth dbus dbus-x11 gnome-keyring libsecret-tools libegl1 libgl1
  libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libglib2.0-0 libxcb-cursor0 libxcb-icccm4
  libxcb-keysyms1 libxcb-shape0 libxcb-randr0 libxcb-image0 libxcb-render-util0 libxcb-xinerama0
  libxcb-xkb1 fonts-dejavu-core openssl)

missing_system_packages() {
  command -v dpkg-query >/dev/null || return 0
  local p
  for p in "${SYSTEM_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

missing=$(missing_system_packages | tr '\n' ' ')
if [ -n "${missing// /}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing system packages: $missing" >&2
    # On a fresh VM unattended upgrades may hold dpkg's lock for a while: wait for it (up to 10 minutes).
    apt_wait=(-o DPkg::Lock::Timeout=600)
    apt-get "${apt_wait[@]}" update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get "${apt_wait[@]}" install -y -qq --no-install-recommends $missing >/dev/null
  elif command -v apt-get >/dev/null; then
    echo "setup: some system packages are missing. Install them once with:" >&2
    echo "  sudo apt-get install -y $missing" >&2
    exit 1
  fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating the virtualenv .venv" >&2
  "$PY" -m venv .venv
fi
extras=${PROVET_XERO_SETUP_EXTRAS:-}
spec="."
[ -n "$extras" ] && spec=".[$extras]"
# Reinstall only when the project's dependencies changed (the stamp remembers what was installed).
stamp=.venv/.provet-xero-installed
want="$(cat pyproject.toml setup.py requirements/lock.txt | sha256sum | cut -d' ' -f1) $spec"
if [ ! -f "$stamp" ] || ! grep -qxF "$want" "$stamp"; then
  echo "setup: installing provet-xero into .venv ($spec)" >&2
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  # requirements/lock.txt: the versions CI tested and the bundle ships, so a new release can't slip in.
  .venv/bin/python -m pip install -q -c requirements/lock.txt -e "$spec"
  echo "$want" >>"$stamp"
fi
