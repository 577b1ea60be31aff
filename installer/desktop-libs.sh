#!/usr/bin/env bash
# Installs (as root) or names (otherwise) the Debian/Ubuntu packages Qt's xcb plugin needs to open
# a window. Nothing is done on systems without dpkg, or when everything is present.
set -u
command -v dpkg >/dev/null 2>&1 || exit 0
pkgs=(libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
      libxcb-xinerama0 libxcb-randr0 libxcb-shape0 libxcb-xkb1 libegl1 libgl1 libfontconfig1 libdbus-1-3)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing the desktop libraries Qt needs: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }
else
  echo "warning: Qt needs these packages to open a window: ${missing[*]}" >&2
  echo "         install them with: sudo apt-get install ${missing[*]}" >&2
fi
exit 0
