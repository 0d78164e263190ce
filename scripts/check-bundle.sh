#!/usr/bin/env bash
# CI (Linux): builds the PyInstaller bundle with packaging/build.py and runs what a clinic admin would get.
#   - validates resources/provet-xero.desktop (desktop-file-validate) and the AppStream metainfo (appstreamcli)
#   - builds dist/provet-xero-<version>-linux-<arch>.tar.gz and unpacks it into a temporary folder
#   - runs the unpacked bundle with a bare environment (PATH=/usr/bin:/bin, no virtualenv, throwaway HOME):
#     `--version`, `demo --headless` (gnome-keyring in a private D-Bus session, as in run-tests.sh) and the
#     window (on Xvfb) for a few seconds; then install.sh --uninstall into the throwaway HOME
# Run as root it installs the Debian packages it needs; otherwise it prints the apt-get line to run first.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(uname -s)" != Linux ]; then
  echo "check-bundle: Linux only (build on Windows/macOS with packaging/build.py)" >&2
  exit 1
fi

PROVET_XERO_SETUP_EXTRAS=packaging bash scripts/setup.sh
EXTRA_PACKAGES=(binutils desktop-file-utils appstream dbus gnome-keyring xvfb xauth)
missing=()
for p in "${EXTRA_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "check-bundle: installing ${missing[*]}" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "check-bundle: missing system packages; install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

step() { printf '\ncheck-bundle: %s\n' "$*" >&2; }
fail() { echo "check-bundle: FAILED: $*" >&2; exit 1; }

step "validating the .desktop file and the AppStream metainfo"
desktop-file-validate resources/provet-xero.desktop || fail "desktop-file-validate resources/provet-xero.desktop"
appstreamcli validate --no-net resources/*.metainfo.xml || fail "appstreamcli validate"

step "building (packaging/build.py)"
version=$(.venv/bin/python -c 'import provet_xero_gui; print(provet_xero_gui.__version__)')
started=$(date +%s)
tarball=$(.venv/bin/python packaging/build.py | tail -n 1)
build_seconds=$(( $(date +%s) - started ))
[ -f "$tarball" ] || fail "build.py did not produce a tarball (got: $tarball)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xzf "$tarball" -C "$work"
app="$work/provet-xero/provet-xero"
[ -x "$app" ] || fail "no executable provet-xero/provet-xero in $tarball"
mkdir -p "$work/home"
# A bare environment: nothing of the virtualenv or of this checkout is on any path.
bare=(env -i "PATH=/usr/bin:/bin" "HOME=$work/home" "LANG=C.UTF-8" "QT_QPA_PLATFORM=offscreen"
  "XDG_CONFIG_HOME=$work/home/.config" "XDG_DATA_HOME=$work/home/.local/share")
with_keyring='eval "$(printf pass | gnome-keyring-daemon --unlock --components=secrets)"; export GNOME_KEYRING_CONTROL; '
cd "$work"

step "provet-xero --version (from the unpacked tarball)"
started_ms=$(date +%s%N)
out=$("${bare[@]}" "$app" --version) || fail "--version exited $?"
version_ms=$(( ($(date +%s%N) - started_ms) / 1000000 ))
echo "$out"
[ "$out" = "provet-xero $version" ] || fail "--version printed '$out', expected 'provet-xero $version'"

step "provet-xero demo --headless (from the unpacked tarball, private D-Bus session and keyring)"
started=$(date +%s)
rc=0
"${bare[@]}" dbus-run-session -- sh -c "$with_keyring"'exec timeout 300 "$0" demo --headless' "$app" || rc=$?
demo_seconds=$(( $(date +%s) - started ))
[ "$rc" -eq 0 ] || fail "demo --headless exited $rc"

step "the window (on Xvfb, Qt's xcb platform plugin) stays up for 8 s without errors"
rc=0
"${bare[@]}" "QT_QPA_PLATFORM=xcb" "PROVET_XERO_HOME=$work/profile" xvfb-run -a dbus-run-session -- \
  sh -c "$with_keyring"'exec timeout 8 "$0"' "$app" >"$work/window.log" 2>&1 || rc=$?
if [ "$rc" -ne 124 ] || grep -E "Traceback|is missing|Could not load the Qt platform plugin|WARNING|ERROR" \
  "$work/window.log" "$work"/profile/logs/*; then
  cat "$work/window.log" >&2
  fail "the window exited $rc within 8 s (124 = still running, as expected)"
fi

step "install.sh into the throwaway HOME, then --uninstall"
"${bare[@]}" sh "$work/provet-xero/install.sh" || fail "install.sh"
desktop-file-validate "$work/home/.local/share/applications/provet-xero.desktop" || fail "installed .desktop file"
[ -f "$work/home/.local/share/icons/hicolor/256x256/apps/provet-xero.png" ] || fail "icons were not installed"
out=$("${bare[@]}" "$work/home/.local/bin/provet-xero" --version) || fail "installed provet-xero --version"
[ "$out" = "provet-xero $version" ] || fail "installed --version printed '$out'"
"${bare[@]}" sh "$work/home/.local/opt/provet-xero/install.sh" --uninstall || fail "install.sh --uninstall"
[ ! -e "$work/home/.local/opt/provet-xero" ] && [ ! -e "$work/home/.local/bin/provet-xero" ] \
  || fail "--uninstall left files behind"

size=$(du -sh "$work/provet-xero" | cut -f1)
step "OK: $(basename "$tarball") $(du -h "$tarball" | cut -f1) (unpacked $size); build ${build_seconds} s;" \
  "--version ${version_ms} ms; demo --headless ${demo_seconds} s"
