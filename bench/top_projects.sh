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
eau2() { "$rel/eau2-launch" --no-prefix -n "$ranks" "$rel/top-projects" --quiet --data "$@"; }
polars() { "$python" bench/polars/top_projects.py "$@"; }

for run in "random sor" "by-pid sor" "random csv" "by-pid csv"; do
  read -r order format <<<"$run"
  dir="$data/$order"
  flags=()
  [ "$format" = sor ] || flags=(--csv)
  ratios=()
  for round in $(seq 1 "$rounds"); do
    # Alternate which goes first, so neither always gets the warmer cache.
    if [ $((round % 2)) -eq 1 ]; then
      te="$(timed "$out/eau2" eau2 "$dir" "${flags[@]}")"
      tp="$(timed "$out/polars" polars "$dir" "${flags[@]}")"
    else
      tp="$(timed "$out/polars" polars "$dir" "${flags[@]}")"
      te="$(timed "$out/eau2" eau2 "$dir" "${flags[@]}")"
    fi
    if ! diff -q "$out/eau2" "$out/polars" >/dev/null; then
      echo "top_projects: $order $format: eau2 and polars print different rows:" >&2
      diff "$out/eau2" "$out/polars" >&2 || true
      exit 1
    fi
    ratio="$(echo "scale=3; $te / $tp" | bc)"
    ratios+=("$ratio")
    printf '%s %s round %d: eau2 %.3f s, polars %.3f s, ratio %s\n' "$order" "$format" "$round" "$te" "$tp" "$ratio"
  done
  median="$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}')"
  echo "$order $format: $commits commits, n = $ranks, median ratio eau2/polars over $rounds rounds: $median"
done
