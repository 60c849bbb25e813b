#!/usr/bin/env bash
# Makes the Python virtual environment the ops benchmark runs polars in:
#
#   bash bench/polars/setup.sh [VENV_DIR]     (default: target/bench-polars-venv)
#
# and prints the path of its python. Only the benchmark needs it; no test does.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${1:-$root/target/bench-polars-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2
fi
if ! "$venv/bin/python" -c 'import polars' 2>/dev/null; then
  "$venv/bin/pip" install --quiet --upgrade pip >&2
  "$venv/bin/pip" install --quiet 'polars>=1.0' >&2
fi
echo "$venv/bin/python"
