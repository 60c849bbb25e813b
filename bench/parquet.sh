#!/usr/bin/env bash
# eau2 against polars on Parquet, same files, same run (issue 22):
#
#   bash bench/parquet.sh [ROUNDS] [ROWS] [COMMITS]   (defaults: 5 rounds, 50000000 rows,
#                                                       10000000 commits)
#
# 1. read: ROWS rows of three Int32 columns (written once by polars, snappy, 1 Mi-row
#    row groups, under /dev/shm), summed per column: eau2 (examples/parquet_sums on
#    `eau2-launch -n RANKS`) vs polars scan_parquet;
# 2. write: the same file read and written again as Parquet (snappy): eau2-convert vs
#    polars scan_parquet(...).sink_parquet(...); the outputs are summed afterwards to
#    check they hold the same values;
# 3. Parquet to Arrow IPC: the same file written as an uncompressed Arrow IPC file,
#    eau2-convert (every rank writes its own record batches) vs polars sink_ipc; each
#    output is summed by polars afterwards (so polars reads eau2's file);
# 4. top-projects on Parquet: eau2-gen's Linus data set (COMMITS commits) converted to
#    Parquet by eau2-convert, apps/top-projects --format parquet vs polars.
# CASES (default read,write,ipc,top) picks the cases to run.
# Each pair alternates which goes first; prints every time and the median ratio
# eau2 / polars (bench/compare.sh). RANKS (default 2) sets eau2's rank count;
# EAU2_BENCH_DIR the data folder (default /dev/shm/eau2-parquet), removed at the end
# unless KEEP=1.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
rounds="${1:-5}"
rows="${2:-50000000}"
commits="${3:-10000000}"
ranks="${RANKS:-2}"
data="${EAU2_BENCH_DIR:-/dev/shm/eau2-parquet}"

cd "$root"
cargo build --quiet --release -p eau2-launch -p top-projects -p eau2-convert -p eau2-bench \
  --bin eau2-launch --bin top-projects --bin eau2-convert --bin eau2-gen --example parquet_sums
python="$(bash bench/polars/setup.sh)"
rel="$root/target/release"
launch() { "$rel/eau2-launch" --no-prefix -n "$ranks" "$@"; }
mkdir -p "$data"

[ -f "$data/ints.parquet" ] || "$python" bench/polars/parquet.py gen "$data/ints.parquet" "$rows"

# shellcheck source=bench/compare.sh
source "$root/bench/compare.sh"
# compare.sh's own trap removes its scratch folder; this one also removes the data.
trap 'rm -rf "$compare_out"; [ "${KEEP:-0}" = 1 ] || rm -rf "$data"' EXIT

cases=",${CASES:-read,write,ipc,top},"
wants() { [[ "$cases" == *",$1,"* ]]; }

if wants read; then
eau2() { launch "$rel/examples/parquet_sums" "$@"; }
polars() { "$python" bench/polars/parquet.py sums "$@"; }
compare "read $rows rows x 3 int columns" "$rounds" "$data/ints.parquet"
echo "read: $rows rows, n = $ranks, median ratio eau2/polars over $rounds rounds: $MEDIAN"
fi

if wants write; then
# The write: both read the file and write it; the output's sums are printed, so that
# compare checks the two wrote the same values.
eau2() { launch "$rel/eau2-convert" --quiet "$1" "$data/eau2-out.parquet"; }
polars() { "$python" bench/polars/parquet.py convert "$1" "$data/polars-out.parquet"; }
compare "read + write $rows rows" "$rounds" "$data/ints.parquet"
echo "read + write: $rows rows, n = $ranks, median ratio eau2/polars over $rounds rounds: $MEDIAN"
launch "$rel/examples/parquet_sums" "$data/eau2-out.parquet" >"$data/e.sums"
"$python" bench/polars/parquet.py sums "$data/polars-out.parquet" >"$data/p.sums"
diff "$data/e.sums" "$data/p.sums" >/dev/null && echo "write: both outputs hold the same sums"
fi

if wants ipc; then
eau2() { launch "$rel/eau2-convert" --quiet "$1" "$data/eau2-out.arrow"; }
polars() { "$python" bench/polars/parquet.py to-ipc "$1" "$data/polars-out.arrow"; }
compare "Parquet -> Arrow IPC $rows rows" "$rounds" "$data/ints.parquet"
echo "Parquet -> Arrow IPC: $rows rows, n = $ranks, median ratio eau2/polars over $rounds rounds: $MEDIAN"
"$python" bench/polars/parquet.py sums "$data/eau2-out.arrow" >"$data/e.sums"
"$python" bench/polars/parquet.py sums "$data/polars-out.arrow" >"$data/p.sums"
diff "$data/e.sums" "$data/p.sums" >/dev/null && echo "ipc: polars reads both outputs to the same sums"
rm -f "$data/eau2-out.arrow" "$data/polars-out.arrow"
fi

wants top || exit 0
if [ ! -f "$data/git/.done" ]; then
  "$rel/eau2-gen" linus --commits "$commits" --users "$((commits / 10))" \
    --projects "$((commits / 100))" --out "$data/git-sor" >&2
  mkdir -p "$data/git"
  launch "$rel/eau2-convert" --quiet "$data/git-sor/commits.ltgt" "$data/git/commits.parquet" \
    --names pid,author,committer
  launch "$rel/eau2-convert" --quiet "$data/git-sor/projects.ltgt" "$data/git/projects.parquet" \
    --names pid,name
  rm -rf "$data/git-sor"
  touch "$data/git/.done"
fi
eau2() { launch "$rel/top-projects" --quiet --format parquet --data "$@"; }
polars() { "$python" bench/polars/parquet.py top "$@"; }
compare "top-projects parquet" "$rounds" "$data/git"
echo "top-projects on Parquet: $commits commits, n = $ranks, median ratio eau2/polars over $rounds rounds: $MEDIAN"
