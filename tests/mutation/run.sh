#!/usr/bin/env bash
# Mutation check: applies each one-line mutant of tests/mutation/mutants.txt to the source tree,
# rebuilds the test binaries that exercise it, runs their tests, and tells whether a test caught
# it. The source file is always put back (EXIT/INT/TERM/HUP trap, and a leftover from a killed run
# is restored at the next start). See tests/mutation/README.md.
#
#   tests/mutation/run.sh [BUILD_DIR] [options] [MUTANT_ID...]
#     BUILD_DIR            a configured CMake/Ninja build directory (default: ./build)
#     --list               print the mutants and whether each anchor is found, then exit
#     --no-baseline        skip the unmutated run of the selected tests
#     --timeout SECS       per-mutant limit for the build and for the tests (default 900)
#     --jobs N             ninja -j (default 2)
#     --ctest-jobs N       ctest -j (default 2)
#     --mutants FILE       another mutant list
# Exit status: 0 when every mutant was caught, 1 when any survived or could not be tried, 2 on a
# usage or set-up error (baseline failing included).
set -u -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build="$root/build"
mutants_file="$here/mutants.txt"
timeout_s=900
jobs=2
ctest_jobs=2
guard_mark="(mutation guard)"
baseline=1
list_only=0
selected=()

first=1
while (($#)); do
  case "$1" in
    --list) list_only=1 ;;
    --no-baseline) baseline=0 ;;
    --timeout) timeout_s=$2; shift ;;
    --jobs) jobs=$2; shift ;;
    --ctest-jobs) ctest_jobs=$2; shift ;;
    --mutants) mutants_file=$2; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *)
      if ((first)) && [[ -d "$1" ]]; then build=$(cd "$1" && pwd); else selected+=("$1"); fi ;;
  esac
  first=0
  shift
done

command -v python3 >/dev/null || { echo "run.sh: python3 is needed (to edit files exactly)" >&2; exit 2; }
[[ -f "$mutants_file" ]] || { echo "run.sh: no mutant list $mutants_file" >&2; exit 2; }
if ((!list_only)) && [[ ! -f "$build/build.ninja" ]]; then
  echo "run.sh: $build is not a configured Ninja build directory (cmake -S . -B build -G Ninja)" >&2
  exit 2
fi

state="$build/mutation"
mkdir -p "$state/logs"

# --- the source file under mutation: backed up before it changes, put back whatever happens ---

restore() {
  [[ -f "$state/active" ]] || return 0
  local rel
  rel=$(cat "$state/active")
  if [[ -f "$state/active.orig" ]]; then
    # A plain copy: the file gets a new mtime, so ninja rebuilds it from the original (ccache hit).
    cat "$state/active.orig" >"$root/$rel" && touch "$root/$rel"
    if cmp -s "$state/active.orig" "$root/$rel"; then
      rm -f "$state/active" "$state/active.orig"
    else
      echo "run.sh: COULD NOT RESTORE $rel; the original is in $state/active.orig" >&2
      return 1
    fi
  else
    rm -f "$state/active"
  fi
}

# Long steps (ninja, ctest) run under `timeout` in the background and are waited for with `wait`,
# which a signal interrupts at once: the trap then stops the step (timeout passes the signal on to
# its process group) and restores the source, instead of waiting for the build or tests to end.
child=""
run_step() {  # logfile timeout ... command... ; returns its status
  local log=$1
  shift
  "$@" >"$log" 2>&1 &
  child=$!
  local rc=0
  wait "$child" || rc=$?
  child=""
  return "$rc"
}

# shellcheck disable=SC2317  # invoked by the trap
on_signal() {
  trap - INT TERM HUP
  echo >&2
  echo "run.sh: interrupted; restoring the source" >&2
  if [[ -n "$child" ]]; then
    kill -TERM "$child" 2>/dev/null
    wait "$child" 2>/dev/null
  fi
  restore
  exit 130
}
trap restore EXIT
trap on_signal INT TERM HUP

# One run at a time per build directory.
exec 9>"$state/lock"
if ! flock -n 9; then echo "run.sh: another run uses $build" >&2; exit 2; fi

if [[ -f "$state/active" ]]; then
  echo "run.sh: a previous run was killed while $(cat "$state/active") was mutated; restoring it" >&2
  restore || exit 2
fi

# --- the mutant list ---

ids=() files=() finds=() repls=() descs=() builds=() ctests=() issues=()
parse() {
  local line key val cur=-1
  while IFS= read -r line || [[ -n "$line" ]]; do
    [[ "$line" =~ ^[[:space:]]*# ]] && continue
    if [[ -z "${line//[[:space:]]/}" ]]; then cur=-1; continue; fi
    key=${line%%:*}
    val=${line#*: }
    [[ "$line" == *": "* ]] || val=""
    if [[ "$key" == id ]]; then
      cur=${#ids[@]}
      ids+=("$val") files+=("") finds+=("") repls+=("") descs+=("") builds+=("") ctests+=("") issues+=("")
      continue
    fi
    ((cur >= 0)) || { echo "run.sh: $mutants_file: '$line' outside a mutant block" >&2; exit 2; }
    case "$key" in
      file) files[cur]=$val ;;
      find) finds[cur]=$val ;;
      replace) repls[cur]=$val ;;
      desc) descs[cur]=$val ;;
      build) builds[cur]=$val ;;
      ctest) ctests[cur]=$val ;;
      issue) issues[cur]=$val ;;
      *) echo "run.sh: $mutants_file: unknown key '$key'" >&2; exit 2 ;;
    esac
  done <"$mutants_file"
}
parse

# Occurrences of the anchor in the file (0 when the file is missing).
anchor_count() {
  python3 - "$root/$1" "$2" <<'PY'
import sys
try:
    text = open(sys.argv[1], encoding="utf-8").read()
except OSError:
    print(0); sys.exit(0)
print(text.count(sys.argv[2]))
PY
}

# Writes the file with its single anchor replaced.
apply_mutant() {
  python3 - "$root/$1" "$2" "$3" <<'PY'
import sys
path, find, repl = sys.argv[1:4]
text = open(path, encoding="utf-8").read()
if text.count(find) != 1:
    sys.exit("anchor not unique")
with open(path, "w", encoding="utf-8") as f:
    f.write(text.replace(find, repl, 1))
PY
}

wanted() {
  ((${#selected[@]} == 0)) && return 0
  local s
  for s in "${selected[@]}"; do [[ "$s" == "$1" ]] && return 0; done
  return 1
}

order=()
for i in "${!ids[@]}"; do
  wanted "${ids[i]}" || continue
  for k in file find replace build ctest; do
    case $k in
      file) v=${files[i]} ;; find) v=${finds[i]} ;; replace) v=${repls[i]} ;;
      build) v=${builds[i]} ;; ctest) v=${ctests[i]} ;;
    esac
    [[ -n "$v" ]] || { echo "run.sh: mutant ${ids[i]} has no '$k'" >&2; exit 2; }
  done
  order+=("$i")
done
((${#order[@]})) || { echo "run.sh: no mutant selected" >&2; exit 2; }

if ((list_only)); then
  for i in "${order[@]}"; do
    printf '%-32s %-34s anchor x%s  %s\n' "${ids[i]}" "${files[i]}" "$(anchor_count "${files[i]}" "${finds[i]}")" \
      "${descs[i]}"
  done
  exit 0
fi

run_ctest() {  # regex logfile
  run_step "$2" timeout "$timeout_s" ctest --test-dir "$build" -R "$1" -j "$ctest_jobs" \
    --no-tests=error --output-on-failure --timeout "$timeout_s"
}

run_ninja() {  # logfile targets...
  local log=$1
  shift
  run_step "$log" timeout "$timeout_s" nice ninja -C "$build" -j "$jobs" "$@"
}

# Failed test names from a ctest log, one a line.
failed_tests() {
  awk '/The following tests FAILED:/ {on=1; next} on && /^[[:space:]]+[0-9]+ - / {
         sub(/^[[:space:]]+[0-9]+ - /, ""); sub(/ \((Failed|Timeout|SEGFAULT|Subprocess aborted|Child aborted|Exception|Not Run)[^)]*\)$/, "");
         print }' "$1"
}

# A list of names as "a; b; c; +N".
short_list() {
  awk '{ n++; if (n <= 3) s = s (n > 1 ? "; " : "") $0 } END { if (n > 3) s = s "; +" (n - 3); print s }'
}

# Checksums of the files to be mutated, compared again at the end.
mapfile -t distinct_files < <(for i in "${order[@]}"; do printf '%s\n' "${files[i]}"; done | sort -u)
(cd "$root" && sha256sum -- "${distinct_files[@]}" 2>/dev/null) >"$state/sums.before"

# --- baseline: the selected tests must pass unmutated, or nothing they say about a mutant counts ---

if ((baseline)); then
  all_targets=() all_regex=()
  for i in "${order[@]}"; do
    # shellcheck disable=SC2206
    all_targets+=(${builds[i]})
    all_regex+=("${ctests[i]}")
  done
  mapfile -t all_targets < <(printf '%s\n' "${all_targets[@]}" | sort -u)
  mapfile -t all_regex < <(printf '%s\n' "${all_regex[@]}" | sort -u)
  echo "== baseline: building ${all_targets[*]}"
  if ! run_ninja "$state/logs/baseline.build.log" "${all_targets[@]}"; then
    echo "run.sh: the unmutated tree does not build; see $state/logs/baseline.build.log" >&2
    exit 2
  fi
  # One ctest run per distinct regex (CMake's regex engine allows few groups, so no big union).
  for k in "${!all_regex[@]}"; do
    log="$state/logs/baseline.ctest.$k.log"
    if ! run_ctest "${all_regex[k]}" "$log"; then
      echo "run.sh: tests fail without any mutant (ctest -R '${all_regex[k]}'):" \
        "$(failed_tests "$log" | short_list)" >&2
      echo "run.sh: see $log (or run with --no-baseline)" >&2
      exit 2
    fi
    echo "== baseline: ctest -R '${all_regex[k]}': $(grep -Eo '[0-9]+% tests passed.*' "$log" | tail -1)"
  done
fi

# --- the mutants ---

TAB=$'\t'
results=()  # "id<TAB>result<TAB>detail"
n_caught=0 n_survived=0 n_nocompile=0 n_missing=0
start_all=$(date +%s)
for i in "${order[@]}"; do
  id=${ids[i]} rel=${files[i]}
  log_b="$state/logs/$id.build.log" log_t="$state/logs/$id.ctest.log"
  t0=$(date +%s)
  old=-
  count=$(anchor_count "$rel" "${finds[i]}")
  if [[ "$count" != 1 ]]; then
    why=$([[ "$count" == 0 ]] && echo "anchor missing" || echo "anchor found $count times")
    echo "== $id: $why in $rel"
    results+=("$id${TAB}ANCHOR-MISSING${TAB}-${TAB}$why")
    ((n_missing++))
    continue
  fi
  cp "$root/$rel" "$state/active.orig"
  printf '%s\n' "$rel" >"$state/active"
  if ! apply_mutant "$rel" "${finds[i]}" "${repls[i]}"; then
    restore
    results+=("$id${TAB}ANCHOR-MISSING${TAB}-${TAB}could not apply")
    ((n_missing++))
    continue
  fi
  echo "== $id: $rel: ${descs[i]}"
  # shellcheck disable=SC2086
  if ! run_ninja "$log_b" ${builds[i]}; then
    result=NOT-COMPILED detail="build failed or timed out: $log_b"
    ((n_nocompile++))
  elif run_ctest "${ctests[i]}" "$log_t"; then
    result=SURVIVED old=no detail="ctest -R '${ctests[i]}' passed"
    ((n_survived++))
  else
    failed=$(failed_tests "$log_t")
    if [[ -z "$failed" ]]; then
      if grep -q "No tests were found" "$log_t"; then
        result=NOT-RUN detail="no test matches '${ctests[i]}'"
        ((n_missing++))
      else
        result=CAUGHT old="?" detail="ctest timed out ($log_t)"
        ((n_caught++))
      fi
    else
      result=CAUGHT detail=$(printf '%s\n' "$failed" | short_list)
      # Would the suite without the tests written for this list (named "... (mutation guard)")
      # have caught it too?
      if printf '%s\n' "$failed" | grep -vqF "$guard_mark"; then old=yes; else old=no; fi
      ((n_caught++))
    fi
  fi
  restore || exit 2
  echo "   $result ($(($(date +%s) - t0))s) $detail"
  results+=("$id${TAB}$result${TAB}$old${TAB}$detail")
done
restore || exit 2

# The tree is as it was, but test binaries linked with a mutant are still on disk until rebuilt:
# rebuild every target a mutant touched, so a plain `ctest` afterwards never runs mutated code.
# shellcheck disable=SC2086  # a space-separated target list
mapfile -t touched < <(for i in "${order[@]}"; do printf '%s\n' ${builds[i]}; done | sort -u)
echo "== rebuilding the unmutated ${touched[*]}"
if ! run_ninja "$state/logs/final.build.log" "${touched[@]}"; then
  echo "run.sh: the final rebuild of the unmutated tree failed; see $state/logs/final.build.log" >&2
  echo "run.sh: rebuild before running ctest, or the binaries may still hold a mutant" >&2
fi

# --- the table ---

{
  printf '%-42s %-14s %-9s %s\n' MUTANT RESULT "OLD-SUITE" "CAUGHT BY / DETAIL"
  for r in "${results[@]}"; do
    IFS=$'\t' read -r id result old detail <<<"$r"
    for i in "${order[@]}"; do [[ "${ids[i]}" == "$id" ]] && break; done
    mark=""
    [[ "${issues[i]}" == yes ]] && mark=" (issue 12)"
    printf '%-42s %-14s %-9s %s\n' "$id$mark" "$result" "$old" "$detail"
  done
} | tee "$state/results.txt"
printf '%s\n' "${results[@]}" >"$state/results.tsv"
total=${#order[@]}
echo
echo "mutation: $total mutants: $n_caught caught, $n_survived survived, $n_nocompile not compiled," \
  "$n_missing not tried (anchor missing / no tests); $(($(date +%s) - start_all))s; logs in $state/logs"
n_old=$(printf '%s\n' "${results[@]}" | awk -F'\t' '$3 == "yes"' | wc -l)
echo "mutation: without the tests named \"... $guard_mark\" the suite catches $n_old of them"
if (cd "$root" && sha256sum --quiet -c "$state/sums.before" >/dev/null 2>&1); then
  echo "mutation: every mutated file is byte-identical to what it was before the run"
else
  echo "run.sh: A SOURCE FILE DIFFERS from before the run; see $state/sums.before" >&2
  exit 2
fi
((n_survived == 0 && n_nocompile == 0 && n_missing == 0)) && exit 0
exit 1
