#!/usr/bin/env bash
# Runs one libFuzzer target for a while (the ctest entries of label `fuzz`, and by hand):
#   tests/fuzz/run_fuzz.sh FUZZ_BINARY SEED_DIR WORK_DIR SECONDS [DICT] [more libFuzzer flags]
# New inputs the fuzzer finds go to WORK_DIR/corpus (the seeds in SEED_DIR are read, never
# written); a crash or cross-check mismatch is saved as WORK_DIR/artifacts/crash-<sha1> (or
# leak-, timeout-, oom-) and the script fails. Replay one with: FUZZ_BINARY FILE
set -euo pipefail
bin=$1 seeds=$2 work=$3 seconds=$4
shift 4
dict=()
if [ $# -gt 0 ] && [ -n "$1" ]; then dict=(-dict="$1"); fi
[ $# -gt 0 ] && shift
mkdir -p "$work/corpus" "$work/artifacts"
exec "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "${dict[@]}" "$@" "$work/corpus" "$seeds"
