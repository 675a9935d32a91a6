#!/usr/bin/env bash
# End-to-end test of the shipped Slurm recipe (scripts/slurm/, docs/sweeps.md "Sweeps on a
# Slurm cluster") on a real one-node Slurm started here by hand (no systemd): munged,
# slurmctld and slurmd with a config written below (this host's short name and CPUs, a
# `debug` partition, proctrack/linuxproc, task/none, no accounting), all under a fresh
# temporary directory, on their own ports and munge socket.
#
# It runs a 4-shard sweep with scripts/slurm/submit.sh, stops one task as at its time
# limit (SIGUSR1 to the batch shell, what `--signal=B:USR1@...` does: the task saves its
# checkpoint and requeues itself) and kills another with SIGTERM mid-way (as `scancel`
# does: it saves and ends), checks that the merge ran after all tasks anyway and named the
# missing shard (exit 75), requeues the killed task as the docs say, merges again and
# asserts that the merged file equals the unsharded sweep, dataset for dataset. The daemons
# it started are stopped on every exit path. A Slurm that cannot start is a failure with
# its reason, never a skip.
#
# Usage (as root, after `cargo build --release`): .ci/slurm-test.sh
# HOLLOW=path overrides the binary (default target/release/hollow); KEEP=1 keeps the
# temporary directory; SLURM_TEST_CPUS=n declares a node of n CPUs (at most this host's).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HOLLOW=${HOLLOW:-$ROOT/target/release/hollow}
T0=$(date +%s)
say() { echo "slurm-test [$(($(date +%s) - T0)) s]: $*"; }
fail() {
  echo "slurm-test [$(($(date +%s) - T0)) s]: FAIL: $*" >&2
  exit 1
}

[ "$(id -u)" = 0 ] || fail "must run as root: it starts munged, slurmctld and slurmd"
[ -x "$HOLLOW" ] || fail "$HOLLOW not found: build it first (cargo build --release)"
HOLLOW=$(realpath "$HOLLOW")

# --- packages -----------------------------------------------------------------------------
missing=""
for p in slurm-wlm munge hdf5-tools; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  say "installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq $missing >/dev/null; } ||
    fail "cannot install$missing with apt-get"
fi
for b in munged slurmctld slurmd sbatch squeue scontrol scancel h5diff h5dump; do
  command -v "$b" >/dev/null || fail "$b not found after installing slurm-wlm, munge and hdf5-tools"
done

# --- a private cluster --------------------------------------------------------------------
W=$(mktemp -d /tmp/hollow-slurm.XXXXXX)
chmod 755 "$W"
DAEMONS=()
cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  if [ -n "${SLURM_CONF:-}" ] && [ -f "$SLURM_CONF" ]; then
    # Jobs first (their slurmstepd and hollow processes end with them), then the daemons.
    scancel --full --quiet -u root 2>/dev/null
    for _ in $(seq 1 20); do
      [ -z "$(squeue -h -t running,completing 2>/dev/null)" ] && break
      sleep 0.5
    done
  fi
  # Only the processes this script started, by their ids: slurmd, slurmctld, munged.
  for ((i = ${#DAEMONS[@]} - 1; i >= 0; i--)); do
    kill -TERM "${DAEMONS[i]}" 2>/dev/null
  done
  for pid in "${DAEMONS[@]}"; do
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null
  done
  if [ "$rc" != 0 ]; then
    echo "--- slurm-test failed (exit $rc); logs from $W:" >&2
    for f in "$W"/run/logs/* "$W"/*.log "$W"/munge/munged.log; do
      [ -f "$f" ] && { echo "--- $f" >&2; tail -n 40 "$f" >&2; }
    done
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "slurm-test: kept $W" >&2; else rm -rf "$W"; fi
  say "done (exit $rc)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

HOST=$(hostname -s)
CPUS=${SLURM_TEST_CPUS:-$(nproc --all)} # the node's CPUs (SLURM_TEST_CPUS: fewer, to try a smaller node)
# Ports of our own, so a Slurm already on this machine is not disturbed (and not used).
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  fail "no free TCP port found"
}
CTLD_PORT=$(free_port)
SLURMD_PORT=$(free_port)
[ "$CTLD_PORT" != "$SLURMD_PORT" ] || SLURMD_PORT=$((CTLD_PORT + 1))

mkdir -p "$W/munge" "$W/state" "$W/spool"
chmod 700 "$W/munge"
dd if=/dev/urandom of="$W/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$W/munge/munge.key"
MUNGE_SOCKET=$W/munge/munge.socket
munged --foreground --force --socket="$MUNGE_SOCKET" --key-file="$W/munge/munge.key" \
  --pid-file="$W/munge/munged.pid" --log-file="$W/munge/munged.log" --seed-file="$W/munge/munged.seed" \
  >"$W/munge/munged.out" 2>&1 &
DAEMONS+=($!)

export SLURM_CONF=$W/slurm.conf
cat >"$SLURM_CONF" <<EOF
ClusterName=hollowci
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
StateSaveLocation=$W/state
SlurmdSpoolDir=$W/spool
SlurmctldPidFile=$W/slurmctld.pid
SlurmdPidFile=$W/slurmd.pid
SlurmctldLogFile=$W/slurmctld.log
SlurmdLogFile=$W/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
MinJobAge=600
KillWait=10
NodeName=$HOST NodeAddr=127.0.0.1 NodeHostname=$HOST CPUs=$CPUS State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF

for _ in $(seq 1 40); do [ -S "$MUNGE_SOCKET" ] && break; sleep 0.25; done
[ -S "$MUNGE_SOCKET" ] || fail "munged did not start: $(cat "$W/munge/munged.out" "$W/munge/munged.log" 2>/dev/null)"
slurmctld -D -c -f "$SLURM_CONF" >"$W/slurmctld.out" 2>&1 &
DAEMONS+=($!)
slurmd -D -f "$SLURM_CONF" >"$W/slurmd.out" 2>&1 &
DAEMONS+=($!)
ready=""
for _ in $(seq 1 120); do
  for pid in "${DAEMONS[@]}"; do
    kill -0 "$pid" 2>/dev/null || fail "a Slurm daemon exited at start: $(tail -n 5 "$W"/*.out "$W"/*.log 2>/dev/null)"
  done
  state=$(sinfo -h -n "$HOST" -o %T 2>/dev/null || true)
  case "$state" in
    idle*) ready=1; break ;;
    inval* | drain*) fail "Slurm rejected the node ($state): $(scontrol show node "$HOST" 2>/dev/null | grep -o 'Reason=.*')" ;;
  esac
  sleep 0.5
done
[ -n "$ready" ] || fail "Slurm did not come up within 60 s (node state '${state:-none}'): $(tail -n 5 "$W"/*.log 2>/dev/null)"
say "Slurm up: node $HOST, $CPUS CPUs, partition debug (ports $CTLD_PORT/$SLURMD_PORT)"

# --- the sweep ----------------------------------------------------------------------------
# 4 × 8 cells × 3 replicas of small markets, 16 blocks of 2 cells, 4 shards of 4 blocks: a
# task runs about 10 s on one core; it checkpoints after every block.
mkdir -p "$W/cfg"
cp "$ROOT/configs/baseline.toml" "$W/cfg/baseline.toml"
SPEC=$W/cfg/tiny.toml
cat >"$SPEC" <<'EOF'
base = "baseline.toml"
steps = 400
replicas = 3
seeds = "common"
block = 2
shards = 4
metrics = ["welfare_change", "share_ai", "dominant_segment"]
[[axis]]
key = "technology.ai_cost_scale"
scale = "log"
from = 0.1
to = 10.0
n = 4
[[axis]]
key = "market.pollution"
from = 0.0
to = 2.0
n = 8
[set]
creators = 1000
buyers = 2000
EOF

say "reference: the unsharded sweep"
"$HOLLOW" sweep "$SPEC" -q --threads "$CPUS" -o "$W/whole.h5" >"$W/whole.log" 2>&1 ||
  fail "the unsharded sweep failed: $(cat "$W/whole.log")"

# What a user runs (docs/sweeps.md), with the settings a user would change given as
# environment: the binary, the partition, one CPU per task, the run directory.
cd "$W"
export HOLLOW PARTITION=debug CPUS=1 RUN=$W/run SWEEP_ARGS="--checkpoint-secs 0"
submit() { "$ROOT/scripts/slurm/submit.sh" "$@"; }
out=$(submit "$SPEC") || fail "submit.sh failed: $out"
echo "$out"
ARRAY=$(sed -n 's/^array job: \([0-9]*\).*/\1/p' <<<"$out")
MERGE1=$(sed -n 's/^merge job: \([0-9]*\).*/\1/p' <<<"$out")
[ -n "$ARRAY" ] && [ -n "$MERGE1" ] || fail "submit.sh did not print the job ids"

# The job id of an array task (signals go to it, not to the array's name for it).
job_id() { scontrol show job "$1" 2>/dev/null | sed -n 's/^JobId=\([0-9]*\) .*/\1/p' | head -n1; }
job_state() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -n1; }
job_exit() { scontrol show job "$1" 2>/dev/null | sed -n 's/.* ExitCode=\([0-9:]*\).*/\1/p' | head -n1; }
# Waits until `cond` succeeds, at most $1 seconds.
wait_for() {
  local limit=$1 what=$2
  shift 2
  local t=$(($(date +%s) + limit))
  until "$@"; do
    [ "$(date +%s)" -lt "$t" ] || fail "timed out after $limit s waiting for $what"
    sleep 0.5
  done
}
inode() { stat -c %i "$1" 2>/dev/null || echo none; }
# A task has checkpointed at least one block: its shard file was replaced since we first saw it.
FIRST_INODE=()
checkpointed() {
  local f=$RUN/shards/tiny.$1.h5
  [ "$(job_state "${ARRAY}_$1")" = RUNNING ] || return 1
  [ -f "$f" ] || return 1
  [ -n "${FIRST_INODE[$1]:-}" ] || { FIRST_INODE[$1]=$(inode "$f"); return 1; }
  [ "$(inode "$f")" != "${FIRST_INODE[$1]}" ]
}

# Task 0: the time limit's warning (what --signal=B:USR1@120 sends the batch shell): it
# saves and requeues itself; it is then pending for Slurm's requeue delay (cred_expire,
# 120 s), and the test starts it now instead. Task 1: SIGTERM to the task and its sweep, as
# scancel does. Each is signalled once it has checkpointed a block, in one loop, so that
# it works whether the two run together (2 CPUs or more) or one after the other (1 CPU).
# scancel returns once the signal is delivered, but when the task has changed state by then
# (task 0 requeues itself at once) it keeps retrying, and would signal the task again after
# it restarts: each scancel is stopped once its signal has arrived.
LOG0=$RUN/logs/sweep-${ARRAY}_0.out LOG1=$RUN/logs/sweep-${ARRAY}_1.out
requeued() { [ "$(job_state "${ARRAY}_0")" = PENDING ] && grep -q "requeued" "$LOG0"; }
SC0="" SC1="" got0="" bumped0="" saved1=""
deadline=$(($(date +%s) + 180))
until [ -n "$bumped0" ] && [ -n "$saved1" ]; do
  [ "$(date +%s)" -lt "$deadline" ] ||
    fail "timed out: task 0 signalled=${SC0:+yes} got it=${got0:+yes} requeued=${bumped0:+yes}; task 1 signalled=${SC1:+yes} saved=${saved1:+yes}"
  if [ -z "$SC0" ] && checkpointed 0; then
    say "task 0: SIGUSR1 to its batch shell (the time limit's warning)"
    timeout 30 scancel --batch --signal=USR1 "$(job_id "${ARRAY}_0")" >>"$W/scancel.log" 2>&1 &
    SC0=$!
  fi
  if [ -n "$SC0" ] && [ -z "$got0" ] && grep -q "time limit near" "$LOG0" 2>/dev/null; then
    kill "$SC0" 2>/dev/null || true
    got0=1
  fi
  if [ -n "$got0" ] && [ -z "$bumped0" ] && requeued; then
    scontrol update JobId="${ARRAY}_0" StartTime=now
    bumped0=1
  fi
  if [ -z "$SC1" ] && checkpointed 1; then
    say "task 1: SIGTERM to the task (as scancel)"
    timeout 30 scancel --full --signal=TERM "$(job_id "${ARRAY}_1")" >>"$W/scancel.log" 2>&1 &
    SC1=$!
  fi
  if [ -n "$SC1" ] && [ -z "$saved1" ] && grep -q "SIGTERM: stopped with" "$LOG1" 2>/dev/null; then
    kill "$SC1" 2>/dev/null || true
    saved1=1
  fi
  sleep 0.3
done
wait "$SC0" "$SC1" 2>/dev/null || true
say "task 0 requeued itself; task 1 is $(job_state "${ARRAY}_1") (exit $(job_exit "${ARRAY}_1"))"

# The merge runs after every task, whatever its state, and names the missing shard.
ended() { case "$(job_state "$1")" in COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY) return 0 ;; esac; return 1; }
wait_for 150 "the first merge job to run" ended "$MERGE1"
[ "$(job_state "$MERGE1")" = FAILED ] && [ "$(job_exit "$MERGE1")" = 75:0 ] ||
  fail "the first merge should fail with exit 75 (shard 1 incomplete), got $(job_state "$MERGE1") $(job_exit "$MERGE1")"
grep -q "shard 1/4: incomplete" "$RUN"/logs/merge-*"$MERGE1".out || fail "the first merge did not name shard 1/4"
for i in 0 2 3; do
  [ "$(job_state "${ARRAY}_$i")" = COMPLETED ] || fail "task $i: $(job_state "${ARRAY}_$i"), expected COMPLETED"
done
grep -q "resuming" "$LOG0" || fail "requeued task 0 did not resume its shard"
say "first merge: exit 75, shard 1/4 incomplete; tasks 0, 2, 3 completed"

# Task 1 as the docs say: requeue it, then merge after it.
scontrol requeue "${ARRAY}_1"
scontrol update JobId="${ARRAY}_1" StartTime=now
out=$(submit --merge --after "${ARRAY}_1" "$SPEC") || fail "submit.sh --merge failed: $out"
echo "$out"
MERGE2=$(sed -n 's/^merge job: \([0-9]*\).*/\1/p' <<<"$out")
wait_for 150 "the second merge job" ended "$MERGE2"
[ "$(job_state "$MERGE2")" = COMPLETED ] ||
  fail "the second merge: $(job_state "$MERGE2") exit $(job_exit "$MERGE2"): $(cat "$RUN"/logs/merge-*"$MERGE2".out)"
[ "$(job_state "${ARRAY}_1")" = COMPLETED ] || fail "requeued task 1: $(job_state "${ARRAY}_1")"
grep -q "resuming" "$LOG1" || fail "requeued task 1 did not resume its shard"

# The merged file equals the unsharded sweep, dataset for dataset.
M=$RUN/tiny.h5
h5dump -a /complete "$M" | grep -q "(0): 1" || fail "$M is not marked complete"
list() { h5ls -r "$1" | awk '$2 == "Dataset" {print $1}' | sort; }
[ "$(list "$M")" = "$(list "$W/whole.h5")" ] || fail "the merged file's datasets differ from the unsharded sweep's"
n=0
for d in $(list "$M"); do
  h5diff "$M" "$W/whole.h5" "$d" "$d" >/dev/null ||
    fail "dataset $d differs: $(h5diff -r "$M" "$W/whole.h5" "$d" "$d" | head -n 20)"
  n=$((n + 1))
done
say "PASS: merged file equals the unsharded sweep ($n datasets)"
