#!/usr/bin/env bash
# Runs every cargo-fuzz target for a short fixed time (CI), or longer by hand.
#
#   bash fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]    (default: 20 s, every target)
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`); without them
# it prints SKIPPED and succeeds. Each target starts from its seeds (fuzz/seeds/TARGET,
# from the test files) and the corpus it grew before (fuzz/corpus/TARGET, not in git).
# A crash fails the script; its input is left in fuzz/artifacts/TARGET/ and becomes a
# regression test (tests/fuzz_regressions.rs).
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:-20}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(sor_reader csv_reader wire_frames chunk_decode descriptor_decode rendezvous_hello)
fi

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "SKIPPED: fuzzing needs the nightly toolchain (rustup toolchain install nightly)"
  exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "SKIPPED: fuzzing needs cargo-fuzz (cargo install cargo-fuzz)"
  exit 0
fi

# No sanitizer: the code under test is safe Rust, where AddressSanitizer finds nothing
# the compiler's checks do not, at a quarter of the speed. Debug assertions (overflow
# checks) stay on.
flags=(--sanitizer none --debug-assertions)
for t in "${targets[@]}"; do
  cargo +nightly fuzz build "${flags[@]}" "$t"
done

# One rayon thread and two malloc arenas: the SoR target reads each input about 15 times,
# and every parsed piece preallocates a chunk's rows for each column, so a small input
# with many columns allocates a lot; with more threads and arenas the freed memory
# fragments until libFuzzer's RSS limit stops the run (bench/RESULTS.md, Fuzzing).
export RAYON_NUM_THREADS=1 MALLOC_ARENA_MAX=2

failed=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  echo "== fuzz $t for ${seconds} s"
  if cargo +nightly fuzz run "${flags[@]}" "$t" "corpus/$t" "seeds/$t" -- \
      -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=2048 \
      -print_final_stats=1 2>"artifacts/$t/last-run.log"; then
    grep -E 'stat::number_of_executed_units|stat::average_exec_per_sec' "artifacts/$t/last-run.log" |
      sed "s/^/  $t /"
  else
    echo "FAILED: fuzz target $t crashed; see fuzz/artifacts/$t/ (log: last-run.log)"
    tail -40 "artifacts/$t/last-run.log"
    failed=1
  fi
done
exit "$failed"
