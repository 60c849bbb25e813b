#!/usr/bin/env bash
# eau2's collectives against Open MPI over TCP, in one run: for each job size, Open MPI
# runs bench/mpi/collectives.c, then eau2 runs the same operations and prints a table
# with the ratios eau2 / Open MPI (all-reduce of u64 words with bitwise OR, broadcast,
# all-to-all; 64 KiB, 1 MiB and 16 MiB; median of 21 calls).
#
#   bench/collectives.sh [RANKS...]        (default: 2 4 8)
#
# Charts go to bench/charts (CHARTS=DIR to change): each job size's bars and ratios to
# Open MPI, and per operation the time against data size and against ranks, eau2 and
# Open MPI together (eau2-bench-charts). SIZES=65536,1048576 measures only those sizes
# (bytes) on both sides.
#
# Installs openmpi-bin and libopenmpi-dev from Debian when mpicc is missing. Needs a
# release build: cargo build --release.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v mpicc >/dev/null || ! command -v mpirun >/dev/null; then
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
for n in "${ranks[@]}"; do
  # Open MPI refuses to run as root, or more ranks than cores, without being told.
  mpirun --allow-run-as-root --oversubscribe --bind-to none --mca btl tcp,self -n "$n" \
    "$out/collectives" 21 3 "${size_list[@]}" > "$out/mpi-$n.txt"
  target/release/eau2-launch -n "$n" --no-prefix target/release/eau2-bench-cluster \
    collectives --baseline "$out/mpi-$n.txt" --sizes "$sizes" --charts "$charts" | tee "$out/eau2-$n.txt"
  results+=("$out/mpi-$n.txt" "$out/eau2-$n.txt")
done
target/release/eau2-bench-charts collectives --out "$charts" "${results[@]}"
