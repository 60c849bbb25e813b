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

# shellcheck source=bench/compare.sh
source "$root/bench/compare.sh"
eau2() { "$rel/eau2-launch" --no-prefix -n "$ranks" "$rel/examples/$name" "$data"; }
polars() { "$python" "bench/polars/programs/$name.py" "$data"; }

compare "$name" "$rounds"
echo "$name: $(basename "$data"), n = $ranks, median ratio eau2/polars over $rounds rounds: $MEDIAN"
