#!/usr/bin/env bash
# Drain under load (issue 14): scangate-webhook with --shutdown-delay gets SIGTERM while wrk posts
# cached reviews over TLS; every request of the delay must be answered (the Service may still
# route to a terminating pod for a few seconds). Prints the requests answered and refused during
# the delay, the /readyz answer meanwhile, and the time from SIGTERM to exit.
#   tests/bench/drain_bench.sh [BUILD]     (BUILD: a CMake build folder, default build)
# Environment: DRAIN_DELAY (default 6s), DRAIN_LOAD (wrk -d after SIGTERM, default 4s; keep it
# below the delay), DRAIN_CONNECTIONS (default 16). Needs wrk (installed when missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${1:-build}
TESTDATA=${SCANGATE_TESTDATA:-$ROOT/tests/data}
DELAY=${DRAIN_DELAY:-6s}
LOAD=${DRAIN_LOAD:-4s}
CONNS=${DRAIN_CONNECTIONS:-16}
. tests/bench/webhook/lib.sh
bench_setup drain-bench
bench_start_webhook --db "$WORK/db.sqlite" --shutdown-delay "$DELAY"
bench_warm

t0=$(date +%s.%N)
kill -TERM "$SG_PID"
sleep 0.2
ready_during=$(bench_readyz)
BENCH_BODY=$WORK/deployment.json BENCH_EXPECT=true \
  wrk -t1 -c"$CONNS" -d"$LOAD" -s "$LUA" "https://127.0.0.1:$PORT" >"$WORK/wrk.out" 2>&1 || true
code=0
wait "$SG_PID" || code=$?
t1=$(date +%s.%N)
SG_PID=
line=$(grep '^BENCH ' "$WORK/wrk.out" || { cat "$WORK/wrk.out" >&2; exit 1; })
echo "drain: --shutdown-delay $DELAY, wrk -c$CONNS for $LOAD starting 0.2 s after SIGTERM (cached Deployment review)"
echo "drain: $line"
echo "drain: /readyz during the delay: $ready_during; exit code $code, $(python3 -c "print(round($t1-$t0,2))") s from SIGTERM to exit"
grep -E 'draining|drain delay over|stopped' "$WORK/webhook.log" | sed 's/^/drain: log: /'
