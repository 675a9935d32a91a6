#!/usr/bin/env bash
# Sweep throughput on the device, in one call: the 8 × 8 benchmark sweep on the GPU
# (one ensemble; then ensembles of 16 with one and two streams in flight, to see whether
# overlapping host and GPU work pays) and on the CPU (all cores, for the ratio on the same
# machine), then the
# 256 × 256 × 10^4-agent × 500-step sweep on the GPU for at most SECS seconds. Each sweep
# is stopped with SIGINT at its time limit, so it checkpoints what it finished and prints
# its own cells/s line. Writes to $OUT (or ./device-out). Usage on the device machine:
#   source .gl/unpack.sh; bash scripts/device-sweep.sh [SECS]
set -uo pipefail
H=${HOLLOW:-.device/hollow}
out=${OUT:-device-out}
secs=${1:-300}
mkdir -p "$out"
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null; nproc; } | tee "$out/sweep-info.txt"
{
  echo "## configs/sweep_bench.toml, gpu"
  timeout -s INT 150 "$H" sweep configs/sweep_bench.toml --backend gpu -o "$out/bench-gpu.h5" --fresh -q
  for st in 1 2; do
    echo "## configs/sweep_bench.toml, gpu, --batch 16 --streams $st"
    timeout -s INT 150 "$H" sweep configs/sweep_bench.toml --backend gpu --batch 16 --streams $st \
      -o "$out/bench-gpu-s$st.h5" --fresh -q
  done
  echo "## configs/sweep_bench.toml, cpu ($(nproc) threads)"
  timeout -s INT 120 "$H" sweep configs/sweep_bench.toml --backend cpu -o "$out/bench-cpu.h5" --fresh -q
  echo "## configs/sweep_256.toml, gpu, at most ${secs} s"
  timeout -s INT "$secs" "$H" sweep configs/sweep_256.toml --backend gpu -o "$out/s256.h5" --fresh -q
} 2>&1 | tee "$out/sweep.txt"
