#!/usr/bin/env bash
# One of the five everyday programs against its polars twin on the same SoR files:
#
#   bash bench/programs.sh NAME DATA_DIR [ROUNDS] [RANKS]     (defaults: 5 rounds, 2 ranks)
#
# e.g. `bash bench/programs.sh linus /dev/shm/eau2-top-projects-10000000/random` after
# bench/top_projects.sh made that data set (10M commits). Builds the release example
# examples/programs/NAME.rs, then runs it under eau2-launch -n RANKS and
# bench/polars/programs/NAME.py alternately, ROUNDS times, checking that both print the
# same lines. Prints every time (wall clock, process start included, in seconds) and the
# median of the per-round ratios eau2 / polars.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
name="$1"
data="$2"
rounds="${3:-5}"
ranks="${4:-2}"

cd "$root"
cargo build --quiet --release -p eau2-launch --bin eau2-launch -p eau2 --example "$name"
python="$(bash bench/polars/setup.sh)"
rel="$root/target/release"

now() { date +%s.%N; }
# `timed FILE CMD...` runs CMD with its output in FILE; prints the seconds it took.
timed() {
  local file="$1" start end
  shift
  start="$(now)"
  "$@" >"$file" 2>"$file.err" || { cat "$file.err" >&2; exit 1; }
  end="$(now)"
  echo "$end - $start" | bc
}
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
eau2() { "$rel/eau2-launch" --no-prefix -n "$ranks" "$rel/examples/$name" "$data"; }
polars() { "$python" "bench/polars/programs/$name.py" "$data"; }

ratios=()
for round in $(seq 1 "$rounds"); do
  # Alternate which goes first, so neither always gets the warmer cache.
  if [ $((round % 2)) -eq 1 ]; then
    te="$(timed "$out/eau2" eau2)"
    tp="$(timed "$out/polars" polars)"
  else
    tp="$(timed "$out/polars" polars)"
    te="$(timed "$out/eau2" eau2)"
  fi
  if ! diff -q "$out/eau2" "$out/polars" >/dev/null; then
    echo "programs: $name: eau2 and polars print different lines:" >&2
    diff "$out/eau2" "$out/polars" >&2 || true
    exit 1
  fi
  ratio="$(echo "scale=3; $te / $tp" | bc)"
  ratios+=("$ratio")
  printf '%s round %d: eau2 %.3f s, polars %.3f s, ratio %s\n' "$name" "$round" "$te" "$tp" "$ratio"
done
median="$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}')"
echo "$name: $(basename "$data"), n = $ranks, median ratio eau2/polars over $rounds rounds: $median"
