#!/usr/bin/env bash
# eau2's small-value latency against Open MPI over TCP and a raw TCP ping-pong, in one
# run: Open MPI runs bench/mpi/pingpong.c on 2 ranks, then eau2-bench-cluster latency
# measures the raw TCP ping-pong, kv get and eau2's message ping-pong, and prints a table
# with the ratios against both baselines. Charts and HdrHistogram percentile files go to
# bench/charts (CHARTS=DIR to change).
#
#   bench/latency.sh [SIZE]        (default: 64 bytes)
#
# Installs openmpi-bin and libopenmpi-dev from Debian when mpicc is missing. Needs a
# release build: cargo build --release.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v mpicc >/dev/null || ! command -v mpirun >/dev/null; then
  echo "installing Open MPI from Debian..." >&2
  apt-get update -qq && apt-get install -y -qq openmpi-bin libopenmpi-dev >/dev/null
fi
size=${1:-64}
charts=${CHARTS:-bench/charts}
out=target/bench-mpi
mkdir -p "$out"
mpicc -O2 -o "$out/pingpong" bench/mpi/pingpong.c
# Open MPI refuses to run as root without being told.
mpirun --allow-run-as-root --oversubscribe --bind-to none --mca btl tcp,self -n 2 \
  "$out/pingpong" "$size" > "$out/pingpong-$size.txt"
target/release/eau2-launch -n 2 --no-prefix target/release/eau2-bench-cluster \
  latency --size "$size" --baseline "$out/pingpong-$size.txt" --charts "$charts"
