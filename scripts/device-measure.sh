#!/usr/bin/env bash
# The GPU measurement, in one call (device time is short): adapters, then `hollow bench`
# CPU vs GPU from 10^4 to 10^7 creators (buyers 2x) past the shock, then one 10^8-agent GPU
# run. Writes everything to $OUT (or ./device-out). Usage on the device machine:
#   source .gl/unpack.sh; bash scripts/device-measure.sh [PEAK_GBPS]
# PEAK_GBPS defaults to 3350 (H100 SXM; use 2000 for H100 PCIe, 4800 for H200).
set -uo pipefail
H=${HOLLOW:-.device/hollow}
out=${OUT:-device-out}
peak=${1:-3350}
mkdir -p "$out"
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null; "$H" info; } | tee "$out/info.txt"
bench() { # creators warmup measure backends
  "$H" bench configs/baseline.toml --backend "$4" --warmup "$2" --measure "$3" --peak-gbps "$peak" \
    --set creators="$1" --set buyers=$((2 * $1)) --set technology.shock_step=5 2>&1 | grep '^|' | tail -n +3
}
{
  echo "| backend | device | creators | buyers | agent-steps/s | ms/step | offers | scan | search | resolve | buyers | accounts | reduce | decide | MB/step | GB/s | roofline |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  bench 10000 20 10 cpu,gpu
  bench 100000 20 10 cpu,gpu
  bench 1000000 15 5 cpu,gpu
  bench 10000000 12 3 gpu
  timeout 240 "$H" bench configs/baseline.toml --backend cpu --warmup 10 --measure 2 --set creators=10000000 \
    --set buyers=20000000 --set technology.shock_step=5 2>&1 | grep '^| cpu'
} | tee "$out/bench.md"
# Big N: 10^8 agents on the GPU, 20 steps through the shock.
timeout 240 "$H" run configs/baseline.toml --backend gpu --quiet --set creators=33000000 --set buyers=67000000 \
  --set steps=20 --set technology.shock_step=5 -o "$out/big.h5" 2>&1 | tee "$out/big.txt"
