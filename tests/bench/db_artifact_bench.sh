#!/usr/bin/env bash
# The DB as an OCI artifact under load (issue 14): while wrk posts a Deployment review over TLS, two
# DBs are pushed in turn to the loopback registry (`scangate db push`), and the webhook
# (--db-repository, --db-poll 1s) pulls each one and swaps it in. Prints, per swap, how long the push
# took and how long until the webhook served the new revision (scangate_db_info, read every 50 ms);
# then the requests answered, bad and failed, the pulls counted, and the latencies.
#   tests/bench/db_artifact_bench.sh [BUILD]     (BUILD: a CMake build folder, default build)
# Environment: SWAPS (default 6), SWAP_CONNECTIONS (default 16). Needs wrk.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${1:-build}
TESTDATA=${SCANGATE_TESTDATA:-$ROOT/tests/data}
SWAPS=${SWAPS:-6}
CONNS=${SWAP_CONNECTIONS:-16}
. tests/bench/webhook/lib.sh
bench_setup artifact-bench
ARTIFACT=$REGISTRY/scangate/db:bench
"$SG" db push --quiet --db "$WORK/db.sqlite" "$ARTIFACT" >/dev/null
mkdir -p "$WORK/volume"
bench_start_webhook --db "$WORK/volume/scangate.db" --db-repository "$ARTIFACT" --db-poll 1s
bench_warm
revision() { "$SG" db info --db "$1" | sed -n 's/^Revision: *//p'; }
served() { curl -s "http://127.0.0.1:$MPORT/metrics" | grep -c "^scangate_db_info{revision=\"$1\"} 1" || true; }
now_ms() { date +%s%3N; }
FULL_ARGS=(--nvd "$TESTDATA/scenario/nvd/nvdcve-2.0-scenario.json")
for v in 3.10 3.14 3.15 3.18 3.20; do FULL_ARGS+=(--alpine-secdb "$TESTDATA/scenario/secdb/v$v-main.json"); done
DURATION=$((4 * SWAPS + 3))
BENCH_BODY=$WORK/deployment.json BENCH_EXPECT=true \
  wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -s "$LUA" "https://127.0.0.1:$PORT" >"$WORK/wrk.out" 2>&1 &
WRK=$!
sleep 1
for i in $(seq "$SWAPS"); do
  # Each push is a newer build, as the DB job makes them: the webhook refuses to go back to an
  # older DB. The content alternates, so every swap changes the revision.
  if ((i % 2)); then
    "$SG" db build --quiet --output "$WORK/next.sqlite" --alpine-secdb "$TESTDATA/scenario/secdb/v3.10-main.json" >/dev/null
  else
    "$SG" db build --quiet --output "$WORK/next.sqlite" "${FULL_ARGS[@]}" >/dev/null
  fi
  db=$WORK/next.sqlite rev=$(revision "$db")
  t0=$(now_ms)
  "$SG" db push --quiet --db "$db" "$ARTIFACT" >/dev/null
  t1=$(now_ms)
  until [ "$(served "$rev")" = 1 ]; do
    if (($(now_ms) - t1 > 10000)); then echo "db artifact: swap $i not served after 10 s" >&2; exit 1; fi
    sleep 0.05
  done
  t2=$(now_ms)
  echo "db artifact: swap $i: push $((t1 - t0)) ms, then served after $((t2 - t1)) ms (poll every 1 s)"
  sleep 2
done
wait "$WRK" || true
line=$(grep '^BENCH ' "$WORK/wrk.out" || { cat "$WORK/wrk.out" >&2; exit 1; })
pulls=$(curl -s "http://127.0.0.1:$MPORT/metrics" | awk '$1 ~ /^scangate_db_pulls_total/ { print $1, $2 }' | tr '\n' ' ')
scans=$(curl -s "http://127.0.0.1:$MPORT/metrics" | awk '$1 ~ /^scangate_scans_total/ { s += $2 } END { print s }')
echo "db artifact: $SWAPS pushes, wrk -c$CONNS for $DURATION s (Deployment review, allowed under both DBs)"
echo "db artifact: $line"
echo "db artifact: pulls: $pulls; image scans: $scans"
grep -E '^ +(50|99)%' "$WORK/wrk.out" | sed 's/^ */db artifact: latency p/'
