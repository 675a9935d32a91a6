#!/usr/bin/env bash
# Prepares a GPU measurement on a lent device machine (which has no Rust and no HDF5):
# builds hollow here with HDF5 linked statically, puts the binary in .device/ (git-ignored)
# and fetches the Vulkan loader packages into .gl/ with ../shared/tools/device-kit.sh.
# Then run scripts/device-session.sh there, carrying .gl and .device (see that script).
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
# HDF5 2.0's CMake build needs cmake >= 3.26; Debian 12 ships 3.25.
if ! cmake --version 2>/dev/null | awk 'NR==1{split($3,v,"."); exit !(v[1]>3 || (v[1]==3 && v[2]>=26))}'; then
  python3 -m venv /tmp/cmake-venv && /tmp/cmake-venv/bin/pip install -q "cmake>=3.26,<4"
  export CMAKE=/tmp/cmake-venv/bin/cmake
fi
CARGO_TARGET_DIR=target/static cargo build --release --features hdf5-static
mkdir -p .device
cp target/static/release/hollow .device/hollow
# The release profile keeps debug info (90 MB); what a run carries is capped at 64 MiB.
strip .device/hollow
ex="$(git rev-parse --git-common-dir)/info/exclude"
grep -qx '/.device/' "$ex" || echo /.device/ >> "$ex"
[ -d .gl ] || ../shared/tools/device-kit.sh
ldd .device/hollow | grep -q hdf5 && { echo "libhdf5 is linked dynamically; the device has none" >&2; exit 1; }
echo "ready: carry .gl and .device; command: source .gl/unpack.sh; bash scripts/device-session.sh"
