#!/usr/bin/env bash
# top-projects against polars on the same SoR files:
#
#   bash bench/top_projects.sh [ROUNDS] [COMMITS]        (defaults: 7 rounds, 10000000 commits)
#
# Generates the Linus-shaped data set once with eau2-gen (COMMITS commits, COMMITS/10
# users, COMMITS/100 projects) under /dev/shm (the page cache, not the slow disk), plus a
# copy of its commits sorted by pid ("by-pid": project-ordered data, whose first
# thousands of rows share a pid), and CSV copies of both (commits.csv, projects.csv with
# a header; polars reads CSV natively, SoR only through a workaround). Then, for each
# order and format, runs the release apps/top-projects under `eau2-launch -n 2` and
# bench/polars/top_projects.py (its fastest user-level SoR read: a lazy scan_csv split
# at '>'; its scan_csv for CSV) alternately, ROUNDS times, checking that both print the
# same rows. Prints every time (wall clock, process start
# included, in seconds) and the median of the per-round ratios eau2 / polars.
# EAU2_BENCH_DIR overrides the data folder; RANKS the number of ranks (2).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
rounds="${1:-7}"
commits="${2:-10000000}"
ranks="${RANKS:-2}"
data="${EAU2_BENCH_DIR:-/dev/shm/eau2-top-projects-$commits}"

cd "$root"
cargo build --quiet --release -p eau2-launch -p top-projects -p eau2-bench --bin eau2-launch \
  --bin top-projects --bin eau2-gen
python="$(bash bench/polars/setup.sh)"
rel="$root/target/release"

if [ ! -f "$data/random/.done" ]; then
  "$rel/eau2-gen" linus --commits "$commits" --users "$((commits / 10))" \
    --projects "$((commits / 100))" --out "$data/random" >&2
  touch "$data/random/.done"
fi
if [ ! -f "$data/by-pid/.done" ]; then
  mkdir -p "$data/by-pid"
  # Numeric order of the first field: `<12> ...` splits at '<' into "", "12> ...".
  LC_ALL=C sort -t'<' -k2,2n -S 1G "$data/random/commits.ltgt" >"$data/by-pid/commits.ltgt"
  cp "$data/random/projects.ltgt" "$data/by-pid/"
  touch "$data/by-pid/.done"
fi
# `<12> <"a b">` -> `12,"a b"` (no field of these files holds '> <').
to_csv() { { echo "$2"; sed -e 's/^<//' -e 's/> </,/g' -e 's/>$//' "$1"; }; }
for order in random by-pid; do
  if [ ! -f "$data/$order/.csv" ]; then
    to_csv "$data/$order/commits.ltgt" pid,author,committer >"$data/$order/commits.csv"
    to_csv "$data/$order/projects.ltgt" pid,name >"$data/$order/projects.csv"
    touch "$data/$order/.csv"
  fi
done

# shellcheck source=bench/compare.sh
source "$root/bench/compare.sh"
eau2() { "$rel/eau2-launch" --no-prefix -n "$ranks" "$rel/top-projects" --quiet --data "$@"; }
polars() { "$python" bench/polars/top_projects.py "$@"; }

for run in "random sor" "by-pid sor" "random csv" "by-pid csv"; do
  read -r order format <<<"$run"
  flags=()
  [ "$format" = sor ] || flags=(--csv)
  compare "$order $format" "$rounds" "$data/$order" "${flags[@]}"
  echo "$order $format: $commits commits, n = $ranks, median ratio eau2/polars over $rounds rounds: $MEDIAN"
done
