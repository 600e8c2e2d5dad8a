#!/usr/bin/env bash
# Runs every libFuzzer target of a build for a bounded time, one after the other (the CI stage):
#   tests/fuzz/run_all.sh BUILD_DIR SECONDS [more libFuzzer flags]
# Builds nothing: it runs each BUILD_DIR/tests/fuzz/*_fuzz from its seeds (tests/fuzz/corpus/<short
# name>, dictionary tests/fuzz/<short name>.dict) through run_fuzz.sh, keeping what it learns in
# BUILD_DIR/fuzz/<short name>/ (as the ctest entries do), and prints one line per target:
#   target, executions, exec/s, coverage at start -> end (+ new), new corpus units, PASS/FAIL
# A FAIL names the saved input (crash-, leak-, timeout- or oom-<sha1> under
# BUILD_DIR/fuzz/<short name>/artifacts/) and the log. Exits 1 when any target failed, 2 on usage.
set -uo pipefail
if [ $# -lt 2 ] || ! [[ "$2" =~ ^[0-9]+$ ]]; then
  echo "usage: $0 BUILD_DIR SECONDS [libFuzzer flags]" >&2
  exit 2
fi
build=$1 seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
shopt -s nullglob
bins=("$build"/tests/fuzz/*_fuzz)
if [ ${#bins[@]} -eq 0 ]; then
  echo "$0: no *_fuzz binary in $build/tests/fuzz (build them first: ninja -C $build fuzz)" >&2
  exit 2
fi

final_stat() {  # final_stat NAME LOG: libFuzzer's final stat::NAME, or "?"
  local v
  v=$(sed -n "s/^stat::$1: *//p" "$2" | tail -n1)
  echo "${v:-?}"
}

failed=()
printf '%-26s %12s %9s %20s %7s  %s\n' target executions exec/s coverage units result
for bin in "${bins[@]}"; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  short=${name%_fuzz}
  work="$build/fuzz/$short"
  seeds="$here/corpus/$short"
  dict=""
  [ -f "$here/$short.dict" ] && dict="$here/$short.dict"
  mkdir -p "$work"
  if [ ! -d "$seeds" ]; then
    seeds="$work/no-seeds"
    mkdir -p "$seeds"
  fi
  log="$work/run.log"
  before=("$work"/artifacts/*)
  "$here/run_fuzz.sh" "$bin" "$seeds" "$work" "$seconds" "$dict" "$@" >"$log" 2>&1
  rc=$?
  after=("$work"/artifacts/*)
  cov0=$(sed -n 's/.*INITED cov: \([0-9]*\).*/\1/p' "$log" | head -n1)
  cov1=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' "$log" | tail -n1)
  cov="${cov0:-?} -> ${cov1:-?}"
  if [[ "${cov0:-}" =~ ^[0-9]+$ && "${cov1:-}" =~ ^[0-9]+$ ]]; then cov="$cov (+$((cov1 - cov0)))"; fi
  result=PASS
  if [ $rc -ne 0 ]; then
    result=FAIL
    failed+=("$name")
  fi
  printf '%-26s %12s %9s %20s %7s  %s\n' "$name" "$(final_stat number_of_executed_units "$log")" \
    "$(final_stat average_exec_per_sec "$log")" "$cov" "$(final_stat new_units_added "$log")" "$result"
  if [ $rc -ne 0 ]; then
    for a in "${after[@]}"; do
      [[ " ${before[*]} " == *" $a "* ]] || echo "    saved: $a"
    done
    grep -m3 -E 'PROPERTY FAILED|MISMATCH|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error' "$log" |
      sed 's/^/    /'
    echo "    log: $log"
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "all ${#bins[@]} targets passed"
