#!/usr/bin/env bash
# The cost of `eau2-launch --tolerate`, on top-projects (release build):
#
#   bash bench/tolerate.sh DATA_DIR [ROUNDS] [RANKS]      (defaults: 5 rounds, 4 ranks)
#
# PROGRAM=linus runs the operators-only Linus (examples/programs/linus.rs, the
# release example) instead of apps/top-projects, on the same DATA_DIR.
#
# DATA_DIR holds eau2-gen's Linus data set (commits.ltgt, projects.ltgt; see
# bench/top_projects.sh). Each round runs, alternately:
#   t0    --tolerate 0, no fault (the baseline);
#   t1    --tolerate 1, no fault (the cost of holding stdout back in a spool);
#   kill  --tolerate 1, rank 2 killed with SIGKILL from outside at half the round's t0
#         time (end to end: detection, restart, recomputation).
# Every run's stdout must equal t0's. Each rank runs under /usr/bin/time, which prints its
# peak RSS; the sum over the ranks is reported (KiB). Prints every time, the medians and
# the medians of the per-round ratios t1/t0 and kill/t0.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
data="${1:?usage: bench/tolerate.sh DATA_DIR [ROUNDS] [RANKS]}"
rounds="${2:-5}"
ranks="${3:-4}"
rel="$root/target/release"
cd "$root"
program="${PROGRAM:-top-projects}"
case "$program" in
  top-projects)
    cargo build --quiet --release -p eau2-launch -p top-projects --bin eau2-launch --bin top-projects
    job=("$rel/top-projects" --quiet --data "$data") ;;
  linus)
    cargo build --quiet --release -p eau2-launch --bin eau2-launch -p eau2 --example linus
    job=("$rel/examples/linus" "$data") ;;
  *) echo "PROGRAM must be top-projects or linus" >&2; exit 2 ;;
esac
tmp="$(mktemp -d)"
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT

# run NAME K [KILL_AFTER_SECS]: one job; prints "secs rss_kib".
run() {
  local name=$1 k=$2 kill_after=${3:-}
  local start end
  start=$(date +%s.%N)
  "$rel/eau2-launch" --no-prefix --tolerate "$k" -n "$ranks" /usr/bin/time -f "rss %M" \
    "${job[@]}" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  local launcher=$!
  if [ -n "$kill_after" ]; then
    sleep "$kill_after"
    # The ranks are the launcher's children (/usr/bin/time), rank order = start order;
    # kill the program under the third one.
    local time_pid victim
    time_pid=$(pgrep -P "$launcher" | sed -n 3p)
    victim=$(pgrep -P "$time_pid" | head -1)
    kill -9 "$victim"
  fi
  wait "$launcher"
  end=$(date +%s.%N)
  local rss
  # Only the last attempt's ranks: their lines follow the last restart message.
  rss=$(awk '/restarting/ {s = 0} /^rss / {s += $2} END {print s}' "$tmp/$name.err")
  echo "$(echo "$end - $start" | bc) $rss"
}

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

: >"$tmp/t0"; : >"$tmp/t1"; : >"$tmp/kill"; : >"$tmp/t1rss"; : >"$tmp/t0rss"
: >"$tmp/r1"; : >"$tmp/rk"
for round in $(seq "$rounds"); do
  read -r t0 rss0 <<<"$(run t0 0)"
  read -r t1 rss1 <<<"$(run t1 1)"
  half=$(printf '%.2f' "$(echo "$t0 / 2" | bc -l)")
  read -r tk _ <<<"$(run kill 1 "$half")"
  cmp -s "$tmp/t0.out" "$tmp/t1.out" || { echo "t1 output differs" >&2; exit 1; }
  cmp -s "$tmp/t0.out" "$tmp/kill.out" || { echo "kill output differs" >&2; exit 1; }
  grep -q "restarting (1 of 1)" "$tmp/kill.err" || { echo "no restart in kill run" >&2; exit 1; }
  echo "round $round: t0 ${t0}s rss ${rss0}KiB | t1 ${t1}s rss ${rss1}KiB | kill at ${half}s: ${tk}s"
  echo "$t0" >>"$tmp/t0"; echo "$t1" >>"$tmp/t1"; echo "$tk" >>"$tmp/kill"
  echo "$rss0" >>"$tmp/t0rss"; echo "$rss1" >>"$tmp/t1rss"
  echo "$t1 / $t0" | bc -l >>"$tmp/r1"; echo "$tk / $t0" | bc -l >>"$tmp/rk"
done
echo "median t0 $(median <"$tmp/t0")s, t1 $(median <"$tmp/t1")s, kill $(median <"$tmp/kill")s;" \
  "summed rank RSS t0 $(median <"$tmp/t0rss") KiB, t1 $(median <"$tmp/t1rss") KiB;" \
  "median per-round ratios t1/t0 $(median <"$tmp/r1"), kill/t0 $(median <"$tmp/rk")"
