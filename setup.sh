#!/usr/bin/env bash
# Installs the system packages hollow needs on Debian/Ubuntu (HDF5 for output, pkg-config to
# find it, Mesa's software Vulkan so the GPU backend and its tests run without a GPU), then
# checks that Rust is there. Safe to run again.
set -euo pipefail
pkgs="libhdf5-dev pkg-config mesa-vulkan-drivers libvulkan1"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if ! command -v apt-get >/dev/null; then
    echo "setup.sh: not a Debian/Ubuntu machine; install these (or your distribution's equivalents):$missing" >&2
    exit 1
  fi
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "setup.sh: installing$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
if ! pkg-config --exists hdf5 2>/dev/null && [ ! -d /usr/include/hdf5 ]; then
  echo "setup.sh: HDF5 headers not found: install libhdf5-dev (or build with --features hdf5-static, which needs cmake)" >&2
  exit 1
fi
if ! command -v cargo >/dev/null; then
  echo "setup.sh: cargo not found: install Rust from https://rustup.rs" >&2
  exit 1
fi
echo "setup.sh: ready"
