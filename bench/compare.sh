# Sourced by bench/top_projects.sh and bench/programs.sh: rounds of eau2 against polars.
# The sourcing script defines `eau2` and `polars`, each running its side with the
# arguments it is given, then calls `compare LABEL ROUNDS [ARGS...]`.

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
compare_out="$(mktemp -d)"
trap 'rm -rf "$compare_out"' EXIT

# `compare LABEL ROUNDS [ARGS...]` runs `eau2 ARGS` and `polars ARGS` ROUNDS times,
# alternating which goes first, checks that both print the same, prints each round's
# times and ratio, and sets MEDIAN to the median of the per-round ratios eau2 / polars.
compare() {
  local label="$1" rounds="$2" round te tp ratio
  local ratios=()
  shift 2
  for round in $(seq 1 "$rounds"); do
    # Alternate which goes first, so neither always gets the warmer cache.
    if [ $((round % 2)) -eq 1 ]; then
      te="$(timed "$compare_out/eau2" eau2 "$@")"
      tp="$(timed "$compare_out/polars" polars "$@")"
    else
      tp="$(timed "$compare_out/polars" polars "$@")"
      te="$(timed "$compare_out/eau2" eau2 "$@")"
    fi
    if ! diff -q "$compare_out/eau2" "$compare_out/polars" >/dev/null; then
      echo "$label: eau2 and polars print different lines:" >&2
      diff "$compare_out/eau2" "$compare_out/polars" >&2 || true
      exit 1
    fi
    ratio="$(echo "scale=3; $te / $tp" | bc)"
    ratios+=("$ratio")
    printf '%s round %d: eau2 %.3f s, polars %.3f s, ratio %s\n' "$label" "$round" "$te" "$tp" "$ratio"
  done
  MEDIAN="$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}')"
}
