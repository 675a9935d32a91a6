#!/usr/bin/env bash
# Second device call of a session: the stylized facts at full scale on the GPU
# (`hollow reproduce --scale full --backend gpu`: base runs at 10^6 creators, the F5/F6
# scans as GPU sweeps of 10^5-creator markets), then the 256 × 256 sweep's throughput with
# one and two ensembles in flight. Budget TOTAL seconds (default 420); output to $OUT.
# Usage on the device machine (carry .gl and .device):
#   source .gl/unpack.sh; bash scripts/device-facts.sh
set -uo pipefail
H=${HOLLOW:-.device/hollow}
out=${OUT:-device-out}
total=${TOTAL:-420}
mkdir -p "$out"
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
source "$(dirname "$0")/device-lib.sh"
{
  el "reproduce --scale full --backend gpu"
  run_for 240 "$H" reproduce --scale full --backend gpu --only F1,F2,F3,F4,F5,F6,F7 --fact-replicas 4 --out /tmp/full
  cp /tmp/full/facts.md /tmp/full/facts.csv /tmp/full/F5.png /tmp/full/F6.png "$out"/ 2>/dev/null
  for st in 1 2; do
    el "sweep_256, --streams $st"
    run_for $(( st == 1 ? 100 : 60 )) "$H" sweep configs/sweep_256.toml --backend gpu --streams $st -o /tmp/s256-$st.h5 --fresh -q
  done
  el done
} > "$out/facts-session.txt" 2>&1
tail -c 11500 "$out/facts-session.txt"
