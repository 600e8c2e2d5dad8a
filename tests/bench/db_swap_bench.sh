#!/usr/bin/env bash
# DB swaps under load (issue 14): while wrk posts a Deployment review over TLS, the webhook's --db
# file is replaced (renamed over, as `db build --output` does) every 3 s by the other of two DBs
# (the webhook polls every 2 s);
# every reload makes the image's verdict be decided again (a scan), and no request may fail.
# Prints the requests answered, bad and failed, the reloads seen, and the p99 latency.
#   tests/bench/db_swap_bench.sh [BUILD]     (BUILD: a CMake build folder, default build)
# Environment: SWAPS (default 5), SWAP_CONNECTIONS (default 16). Needs wrk.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${1:-build}
TESTDATA=${SCANGATE_TESTDATA:-$ROOT/tests/data}
SWAPS=${SWAPS:-5}
CONNS=${SWAP_CONNECTIONS:-16}
. tests/bench/webhook/lib.sh
bench_setup swap-bench
"$SG" db build --quiet --output "$WORK/db-b.sqlite" --alpine-secdb "$TESTDATA/scenario/secdb/v3.10-main.json" >/dev/null
cp "$WORK/db.sqlite" "$WORK/db-a.sqlite"
bench_start_webhook --db "$WORK/db.sqlite"
bench_warm
(
  for i in $(seq "$SWAPS"); do
    sleep 3
    src=$WORK/db-a.sqlite
    ((i % 2)) && src=$WORK/db-b.sqlite
    cp "$src" "$WORK/db.next" && mv "$WORK/db.next" "$WORK/db.sqlite"
  done
) &
SWAPPER=$!
BENCH_BODY=$WORK/deployment.json BENCH_EXPECT=true \
  wrk -t1 -c"$CONNS" -d"$((3 * SWAPS + 3))s" --latency -s "$LUA" "https://127.0.0.1:$PORT" >"$WORK/wrk.out" 2>&1 || true
wait "$SWAPPER"
line=$(grep '^BENCH ' "$WORK/wrk.out" || { cat "$WORK/wrk.out" >&2; exit 1; })
reloads=$(curl -s "http://127.0.0.1:$MPORT/metrics" | awk '$1 ~ /^scangate_db_reloads_total/ { print $1, $2 }' | tr '\n' ' ')
scans=$(curl -s "http://127.0.0.1:$MPORT/metrics" | awk '$1 ~ /^scangate_scans_total/ { s += $2 } END { print s }')
echo "db swap: $SWAPS swaps, one every 3 s, wrk -c$CONNS for $((3 * SWAPS + 3)) s (Deployment review, allowed under both DBs)"
echo "db swap: $line"
echo "db swap: reloads: $reloads; scans: $scans"
