#!/usr/bin/env bash
# Submits a hollow sweep to Slurm: a job array with one task per shard (sweep.sbatch) and a
# merge that runs after all of them, whatever state they end in (merge.sbatch). Run it from
# the directory you built hollow in (docs/sweeps.md, "Sweeps on a Slurm cluster").
#
#   scripts/slurm/submit.sh [SPEC]                       the array and its merge
#   scripts/slurm/submit.sh --tasks 3,7 [SPEC]           resubmit shards 3 and 7, and a merge after them
#   scripts/slurm/submit.sh --merge [--after JOB] [SPEC] only the merge (after job JOB ends, if given)
#
# SPEC defaults to configs/phase_cost_pollution.toml (2,048 cells in 32 shards). Its
# `shards = N` key fixes the number of tasks: task I runs `hollow sweep SPEC --shard I`,
# so any task can be resubmitted alone.
set -euo pipefail

# --- settings: the partition is usually all you change (or set them in the environment) --
PARTITION=${PARTITION:-debug}                     # the Slurm partition
HOLLOW=${HOLLOW:-$PWD/target/release/hollow}      # the hollow binary every job runs
CPUS=${CPUS:-}                                    # CPUs per task; empty: all of the partition's smallest node
TIME=${TIME:-}                                    # time limit per task; empty: 2 h, or the partition's if shorter
                                                  # (a task at its limit saves and requeues itself)
MAXPAR=${MAXPAR:-}                                # most tasks at once (--array=...%MAXPAR); empty: no limit
RUN=${RUN:-}                                      # run directory; empty: runs/<spec name>
SWEEP_ARGS=${SWEEP_ARGS:-}                        # more flags for every task's sweep, e.g. "--backend gpu"
# ---------------------------------------------------------------------------------------

die() { echo "submit.sh: $*" >&2; exit 2; }
mode=array tasks="" after=""
while [ $# -gt 0 ]; do
  case "$1" in
    --tasks) [ $# -ge 2 ] || die "--tasks needs a list, e.g. 3,7 or 4-6"; mode=tasks tasks=$2; shift 2 ;;
    --merge) mode=merge; shift ;;
    --after) [ $# -ge 2 ] || die "--after needs a job id"; after=$2; shift 2 ;;
    -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) break ;;
  esac
done
SPEC=${1:-configs/phase_cost_pollution.toml}
HERE=$(cd "$(dirname "$0")" && pwd)

command -v sbatch >/dev/null || die "sbatch not found: run this on a Slurm login node"
[ -x "$HOLLOW" ] || die "$HOLLOW is not an executable: build hollow (cargo build --release) or set HOLLOW"
[ -f "$SPEC" ] || die "$SPEC: no such sweep spec"
HOLLOW=$(realpath "$HOLLOW")
SPEC=$(realpath "$SPEC")
NAME=$(basename "$SPEC" .toml)
RUN=$(realpath -m "${RUN:-runs/$NAME}")
# `shards = N`, a top-level key of the spec (before its first [table]).
SHARDS=$(awk '/^[[:space:]]*\[/ {exit} match($0, /^[[:space:]]*shards[[:space:]]*=[[:space:]]*[0-9]+/) {
  s = substr($0, RSTART, RLENGTH); sub(/.*=[[:space:]]*/, "", s); print s; exit }' "$SPEC")
[ -n "$SHARDS" ] || die "$SPEC has no top-level \`shards = N\`: add one (docs/sweeps.md)"
if [ -z "$CPUS" ]; then
  CPUS=$(sinfo -h -N -p "$PARTITION" -o %c 2>/dev/null | sort -n | head -n 1)
  [ -n "$CPUS" ] || die "partition $PARTITION not found (sinfo lists none of its nodes): set PARTITION"
fi
# Seconds of a Slurm time ([D-]HH:MM:SS, MM:SS, M, D-HH[:MM]); "infinite" and "" are huge.
secs() {
  local t=$1 d=0 h=0 m=0 s=0
  case "$t" in "" | infinite | UNLIMITED) echo 999999999; return ;; esac
  if [[ $t == *-* ]]; then
    d=${t%%-*} t=${t#*-}
    IFS=: read -r h m s <<<"$t"
  else
    local n
    n=$(tr -cd : <<<"$t" | wc -c)
    case $n in 0) m=$t ;; 1) IFS=: read -r m s <<<"$t" ;; *) IFS=: read -r h m s <<<"$t" ;; esac
  fi
  echo $(((10#${d:-0} * 24 + 10#${h:-0}) * 3600 + 10#${m:-0} * 60 + 10#${s:-0}))
}
if [ -z "$TIME" ]; then
  # A limit over the partition's would leave the tasks pending for ever.
  limit=$(sinfo -h -p "$PARTITION" -o %l 2>/dev/null | head -n 1)
  t=$(secs "$limit")
  [ "$t" -le 7200 ] || t=7200
  TIME=$(printf '%d:%02d:%02d' $((t / 3600)) $((t % 3600 / 60)) $((t % 60)))
fi
mkdir -p "$RUN/shards" "$RUN/logs"

common=(--parsable --partition="$PARTITION"
  --export="ALL,HOLLOW=$HOLLOW,SPEC=$SPEC,NAME=$NAME,RUN=$RUN,SWEEP_ARGS=$SWEEP_ARGS")
jobid() { cut -d';' -f1; }

if [ "$mode" != merge ]; then
  range=${tasks:-0-$((SHARDS - 1))}
  after=$(sbatch "${common[@]}" --array="$range${MAXPAR:+%$MAXPAR}" --cpus-per-task="$CPUS" --time="$TIME" \
    --job-name="hollow-$NAME" --output="$RUN/logs/sweep-%A_%a.out" "$HERE/sweep.sbatch" | jobid)
  echo "array job: $after (tasks $range of $SHARDS shards, $CPUS CPUs each, time limit $TIME; logs in $RUN/logs)"
fi
dep=()
[ -n "$after" ] && dep=(--dependency="afterany:$after" --kill-on-invalid-dep=no)
merge=$(sbatch "${common[@]}" "${dep[@]}" --cpus-per-task=1 --time=00:30:00 \
  --job-name="hollow-$NAME-merge" --output="$RUN/logs/merge-%j.out" "$HERE/merge.sbatch" | jobid)
echo "merge job: $merge (${after:+after $after ends, }writes $RUN/$NAME.h5)"
