#!/usr/bin/env bash
# Counts the lines of the five everyday programs (examples/programs/NAME.rs) and their
# polars twins (bench/polars/programs/NAME.py), as issue 19 counts them: non-blank lines
# that are not only a comment and not an import (`use ...;` in Rust, however many lines
# it spans; `import ...` / `from ... import ...` in Python), Rust after `cargo fmt` (CI
# keeps the files formatted), Python as written.
#
#   bash bench/program_lines.sh [NAME...]      (default: all five)
#
# Prints `NAME EAU2 POLARS RATIO` per program; tests/programs.rs asserts RATIO <= 1.5.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(top_projects projects_per_user column_stats filter_join_sort_save linus)

rust_lines() {
  awk '
    in_use { if ($0 ~ /;[[:space:]]*$/) in_use = 0; next }
    /^[[:space:]]*$/ || /^[[:space:]]*\/\// { next }
    /^[[:space:]]*(pub[[:space:]]+)?use[[:space:]]/ { if ($0 !~ /;[[:space:]]*$/) in_use = 1; next }
    { n++ }
    END { print n + 0 }' "$1"
}
python_lines() {
  awk '
    /^[[:space:]]*$/ || /^[[:space:]]*#/ { next }
    /^(import|from)[[:space:]]/ { next }
    { n++ }
    END { print n + 0 }' "$1"
}

for name in "${names[@]}"; do
  rs="$root/examples/programs/$name.rs"
  py="$root/bench/polars/programs/$name.py"
  [ -f "$rs" ] && [ -f "$py" ] || { echo "program_lines: no $rs or $py" >&2; exit 1; }
  e="$(rust_lines "$rs")"
  p="$(python_lines "$py")"
  echo "$name $e $p $(awk -v e="$e" -v p="$p" 'BEGIN { printf "%.2f", e / p }')"
done
