#!/usr/bin/env bash
# One device call (device time is short): the GPU measurements and the GPU-sized sweeps of
# the README, within a total budget of TOTAL seconds (default 540), everything to $OUT
# (or ./device-out). In order of value, each step under its own limit and what is left:
#   1. adapters; `hollow bench` CPU vs GPU at 10^4-10^6 creators and the GPU at 10^7
#      (buyers 2x, shock at step 5, so the measured steps carry the AI flood);
#   2. configs/phase_cost_pollution.toml and configs/policy_taxes.toml on the GPU;
#   3. configs/sweep_bench.toml on the GPU (one ensemble) and on every CPU core;
#   4. 10^8 agents on the GPU, 20 steps through the shock.
# Sweeps are stopped with SIGINT at their limit: they checkpoint, and resume later.
# Usage on the device machine (carry .gl and .device):
#   source .gl/unpack.sh; bash scripts/device-session.sh [PEAK_GBPS]
set -uo pipefail
H=${HOLLOW:-.device/hollow}
out=${OUT:-device-out}
peak=${1:-4800}
total=${TOTAL:-540}
mkdir -p "$out"
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
source "$(dirname "$0")/device-lib.sh"
{ nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv 2>/dev/null; nproc; "$H" info; } \
  > "$out/info.txt" 2>&1
bench() { # creators warmup measure backends
  run_for 60 "$H" bench configs/baseline.toml --backend "$4" --warmup "$2" --measure "$3" --peak-gbps "$peak" \
    --set creators="$1" --set buyers=$((2 * $1)) --set technology.shock_step=5 2>&1 | grep -E '^\||skipped' | grep -v -- '---|' | grep -v '| backend'
}
{
  el bench
  echo "| backend | device | creators | buyers | agent-steps/s | ms/step | offers | scan | search | resolve | buyers | accounts | reduce | decide | MB/step | GB/s | roofline |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  bench 10000 20 10 cpu,gpu
  bench 100000 20 10 cpu,gpu
  bench 1000000 15 5 cpu,gpu
  bench 10000000 12 3 gpu
  el done
} > "$out/bench.md" 2>&1
{
  el "phase_cost_pollution gpu"
  run_for 200 "$H" sweep configs/phase_cost_pollution.toml --backend gpu -o "$out/phase_cost_pollution.h5" --fresh -q
  el "policy_taxes gpu"
  run_for 70 "$H" sweep configs/policy_taxes.toml --backend gpu -o "$out/policy_taxes.h5" --fresh -q
  el "sweep_bench gpu"
  run_for 60 "$H" sweep configs/sweep_bench.toml --backend gpu -o /tmp/bench-gpu.h5 --fresh -q
  el "sweep_bench cpu ($(nproc) threads)"
  run_for 40 "$H" sweep configs/sweep_bench.toml --backend cpu -o /tmp/bench-cpu.h5 --fresh -q
  el "big: 10^8 agents, gpu"
  run_for 90 "$H" run configs/baseline.toml --backend gpu --quiet --set creators=33000000 --set buyers=67000000 \
    --set steps=20 --set technology.shock_step=5 -o /tmp/big.h5 2>&1 | grep -v '^output'
  el done
} > "$out/sweep.txt" 2>&1
cat "$out/info.txt" "$out/bench.md" "$out/sweep.txt" | tail -c 11500
