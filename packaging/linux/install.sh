#!/bin/sh
# Installs provet-xero for the current user from the unpacked tarball: the bundle to ~/.local/opt/provet-xero,
# a link ~/.local/bin/provet-xero, the menu entry, icons and AppStream metadata under ~/.local/share.
#   ./install.sh                         install (or upgrade)
#   ./install.sh --uninstall [--purge]   remove it; --purge also signs out of Xero and deletes settings and history
set -eu
here=$(cd "$(dirname "$0")" && pwd)
name=provet-xero
appstream_id=com.provet_xero.ProvetXero
data=${XDG_DATA_HOME:-$HOME/.local/share}
config=${XDG_CONFIG_HOME:-$HOME/.config}
state=${XDG_STATE_HOME:-$HOME/.local/state}
dest=$HOME/.local/opt/$name
bin=$HOME/.local/bin

refresh_menus() {
  command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$data/applications" || true
  command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$data/icons/hicolor" || true
}

uninstall() {
  if [ "${1:-}" = --purge ] && [ -x "$dest/$name" ]; then
    "$dest/$name" disconnect xero || true
    "$dest/$name" disconnect provet || true
  fi
  rm -rf "$dest"
  rm -f "$bin/$name" "$data/applications/$name.desktop" "$data/metainfo/$appstream_id.metainfo.xml" \
    "$config/autostart/$name.desktop"
  rm -f "$data"/icons/hicolor/*/apps/$name.png "$data/icons/hicolor/scalable/apps/$name.svg"
  if [ "${1:-}" = --purge ]; then
    rm -rf "$config/$name" "$data/$name" "$state/$name"
    echo "Removed $name with its settings, sync history and logs."
  else
    echo "Removed $name. Your settings and sync history are kept (./install.sh --uninstall --purge removes them)."
  fi
  refresh_menus
}

if [ "${1:-}" = --uninstall ]; then
  shift
  uninstall "$@"
  exit 0
fi

if [ "$here" != "$dest" ]; then
  mkdir -p "$(dirname "$dest")"
  rm -rf "$dest.new"
  cp -a "$here" "$dest.new"
  rm -rf "$dest"
  mv "$dest.new" "$dest"
fi
mkdir -p "$bin" "$data/applications" "$data/metainfo"
ln -sfn "$dest/$name" "$bin/$name"
# The menu entry starts this copy (quoted per the Desktop Entry Specification).
exec_path=$(printf '%s' "$dest/$name" | sed -e 's/[\\"`$]/\\&/g' -e 's/%/%%/g')
while IFS= read -r line; do
  case $line in
    Exec=*) printf 'Exec="%s"\n' "$exec_path" ;;
    *) printf '%s\n' "$line" ;;
  esac
done <"$here/share/applications/$name.desktop" >"$data/applications/$name.desktop"
cp "$here/share/metainfo/$appstream_id.metainfo.xml" "$data/metainfo/"
(cd "$here/share/icons" && find hicolor -type f) | while read -r icon; do
  mkdir -p "$data/icons/$(dirname "$icon")"
  cp "$here/share/icons/$icon" "$data/icons/$icon"
done
refresh_menus
echo "Installed $name $("$dest/$name" --version | cut -d' ' -f2) in $dest."
echo "Start it from the applications menu, or run: $bin/$name"
case ":$PATH:" in *":$bin:"*) ;; *) echo "($bin is not on your PATH; the menu entry works regardless.)" ;; esac
