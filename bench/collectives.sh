#!/usr/bin/env bash
# eau2's collectives against Open MPI over TCP, in one run: for each job size, Open MPI
# runs bench/mpi/collectives.c, then eau2 runs the same operations and prints a table
# with the ratios eau2 / Open MPI (all-reduce of u64 words with bitwise OR, broadcast,
# all-to-all; 64 KiB, 1 MiB and 16 MiB; median of 21 calls).
#
#   bench/collectives.sh [RANKS...]        (default: 2 4 8)
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

ranks=("$@")
[ ${#ranks[@]} -gt 0 ] || ranks=(2 4 8)
for n in "${ranks[@]}"; do
  # Open MPI refuses to run as root, or more ranks than cores, without being told.
  mpirun --allow-run-as-root --oversubscribe --bind-to none --mca btl tcp,self -n "$n" \
    "$out/collectives" 21 3 > "$out/mpi-$n.txt"
  target/release/eau2-launch -n "$n" --no-prefix target/release/eau2-bench-cluster \
    collectives --baseline "$out/mpi-$n.txt"
done
