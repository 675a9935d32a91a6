# Sourced by the device scripts: a time budget shared by the steps of one device call.
# TOTAL (seconds) is the budget; `el` stamps a log line with the seconds elapsed;
# `run_for MAX CMD...` runs CMD under SIGINT at min(MAX, what is left), or skips it when
# under 10 s are left (sweeps checkpoint on SIGINT, so a cut step keeps its work).
t0=$(date +%s)
el() { echo "[$(( $(date +%s) - t0 )) s] $*"; }
lim() { local left=$(( total - ($(date +%s) - t0) - 5 )); (( left < 10 )) && { echo 0; return; }; echo $(( $1 < left ? $1 : left )); }
run_for() { local s; s=$(lim "$1"); shift; if (( s == 0 )); then echo "skipped (budget): $*"; return; fi; timeout -s INT "$s" "$@"; }
