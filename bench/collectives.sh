#!/usr/bin/env bash
# eau2's collectives against Open MPI over TCP, in one run: for each job size, Open MPI
# runs bench/mpi/collectives.c, then eau2 runs the same operations and prints a table
# with the ratios eau2 / Open MPI (all-reduce of u64 words with bitwise OR, broadcast,
# all-to-all, all-gather, gather; 64 KiB, 1 MiB and 16 MiB; median of 21 calls). eau2
# runs each operation through its byte path and through the typed call on a Vec<u64>
# (`OP_typed`: broadcast(0, Some(vec)), all_reduce(vec, |a, b| ..), ...), and the
# all-reduce also as all_reduce_elementwise(vec, |a, b| a | b); a second table gives
# typed / byte path per round (same run), median over rounds.
#
#   bench/collectives.sh [RANKS...]        (default: 2 4 8)
#
# Charts go to bench/charts (CHARTS=DIR to change): each job size's bars and ratios to
# Open MPI, and per operation the time against data size and against ranks, eau2 and
# Open MPI together (eau2-bench-charts). SIZES=65536,1048576 measures only those sizes
# (bytes) on both sides.
#
# The VM's speed drifts by 2x and more from minute to minute (other tenants), so one
# run's ratio says little. The script runs ROUNDS rounds (default 5), each running Open
# MPI then eau2 for every job size, and prints a table of the median over rounds of the
# same-round ratios, with each round's ratio (eau2-bench-charts table).
#
# Installs openmpi-bin and libopenmpi-dev from Debian when mpicc is missing. Needs a
# release build: cargo build --release.
set -euo pipefail
cd "$(dirname "$0")/.."

# mpicc can be there without the headers (openmpi-bin without libopenmpi-dev).
if ! command -v mpicc >/dev/null || ! command -v mpirun >/dev/null ||
  ! echo '#include <mpi.h>' | mpicc -E -x c - >/dev/null 2>&1; then
  echo "installing Open MPI from Debian..." >&2
  apt-get update -qq && apt-get install -y -qq openmpi-bin libopenmpi-dev >/dev/null
fi
out=target/bench-mpi
mkdir -p "$out"
mpicc -O2 -o "$out/collectives" bench/mpi/collectives.c

charts=${CHARTS:-bench/charts}
sizes=${SIZES:-65536,1048576,16777216}
IFS=, read -r -a size_list <<< "$sizes"
ranks=("$@")
[ ${#ranks[@]} -gt 0 ] || ranks=(2 4 8)
results=()
eau2_files=()
rounds=${ROUNDS:-5}
for round in $(seq "$rounds"); do
  dir="$out/round-$round"
  mkdir -p "$dir"
  # The last round's eau2 run also draws each job size's bars against Open MPI.
  last=()
  [ "$round" -lt "$rounds" ] || last=(--charts "$charts")
  for n in "${ranks[@]}"; do
    # Open MPI refuses to run as root, or more ranks than cores, without being told.
    mpirun --allow-run-as-root --oversubscribe --bind-to none --mca btl tcp,self -n "$n" \
      "$out/collectives" 21 3 "${size_list[@]}" > "$dir/mpi-$n.txt"
    target/release/eau2-launch -n "$n" --no-prefix target/release/eau2-bench-cluster \
      collectives --baseline "$dir/mpi-$n.txt" --sizes "$sizes" "${last[@]}" > "$dir/eau2-$n.txt"
    results+=("$dir/mpi-$n.txt" "$dir/eau2-$n.txt")
    eau2_files+=("$dir/eau2-$n.txt")
  done
  echo "round $round of $rounds done" >&2
done
# Per cell: the median over rounds of each side's median call, and of the same-round
# ratios, which is the number to compare with a target; then the charts, through the
# medians over rounds.
target/release/eau2-bench-charts table "${results[@]}"
target/release/eau2-bench-charts collectives --out "$charts" "${results[@]}"
# Typed calls against the byte path of the same operation and size, same run.
echo
echo "| typed call on Vec<u64> | size | n | typed / byte path, median of rounds (each round) |"
echo "|---|---|---:|---:|"
awk '
  NF == 4 && $2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ { t[FILENAME, $1, $2, $3] = $4; if ($1 ~ /_(typed|elementwise)$/) cell[$1 SUBSEP $2 SUBSEP $3] = 1; }
  END {
    for (c in cell) {
      split(c, k, SUBSEP); base = k[1]; sub(/_(typed|elementwise)$/, "", base); m = 0; each = ""
      for (a = 1; a < ARGC; a++) {
        f = ARGV[a]
        if (!((f, k[1], k[2], k[3]) in t) || !((f, base, k[2], k[3]) in t)) continue
        r = t[f, k[1], k[2], k[3]] / t[f, base, k[2], k[3]]; v[++m] = r
        each = each (each == "" ? "" : ", ") sprintf("%.2f", r)
      }
      if (m == 0) continue
      for (i = 2; i <= m; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { x = v[j]; v[j] = v[j - 1]; v[j - 1] = x }
      med = m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
      size = k[2] >= 1048576 ? k[2] / 1048576 " MiB" : k[2] / 1024 " KiB"
      printf "| %s | %s | %s | %.2fx (%s) |\n", k[1], size, k[3], med, each
    }
  }' "${eau2_files[@]}" | sort -t'|' -k2,2 -k4,4n -k3,3
