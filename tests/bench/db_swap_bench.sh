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
command -v wrk >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
scripts/setup
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j 2 --target scangate scangate-webhook >/dev/null
SG=$ROOT/$BUILD/scangate
WEBHOOK=$ROOT/$BUILD/scangate-webhook
LUA=$ROOT/tests/bench/webhook/post_review.lua

WORK=$(mktemp -d /tmp/scangate-swap-bench.XXXXXX)
SG_PID=
cleanup() {
  [ -n "$SG_PID" ] && { kill -9 "$SG_PID" 2>/dev/null; wait "$SG_PID" 2>/dev/null; } || true
  tests/fixtures/registry.sh stop "$WORK/fixture" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
tests/fixtures/registry.sh start "$WORK/fixture" >/dev/null
. "$WORK/fixture/env"
CLEAN=$REGISTRY/alpine:3.15.11
VULNERABLE=$REGISTRY/$IMAGE_PYTHON_3_6
DB_ARGS=()
for v in 3.10 3.14 3.15 3.18 3.20; do DB_ARGS+=(--alpine-secdb "$TESTDATA/scenario/secdb/v$v-main.json"); done
"$SG" db build --quiet --output "$WORK/db.sqlite" "${DB_ARGS[@]}" --nvd "$TESTDATA/scenario/nvd/nvdcve-2.0-scenario.json" >/dev/null
(
  cd "$WORK"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=bench-ca
  openssl req -newkey rsa:2048 -nodes -keyout tls.key -out tls.csr -subj /CN=scangate-webhook
  echo "subjectAltName=IP:127.0.0.1,DNS:localhost" >ext.cnf
  openssl x509 -req -in tls.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out tls.crt -days 2 -extfile ext.cnf
) >/dev/null 2>&1
python3 tests/bench/webhook/make_bodies.py "$WORK" "$TESTDATA" "$CLEAN" "$VULNERABLE" >/dev/null

"$SG" db build --quiet --output "$WORK/db-b.sqlite" --alpine-secdb "$TESTDATA/scenario/secdb/v3.10-main.json" >/dev/null
cp "$WORK/db.sqlite" "$WORK/db-a.sqlite"
"$WEBHOOK" --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 --tls-cert-file "$WORK/tls.crt" \
  --tls-private-key-file "$WORK/tls.key" --db "$WORK/db.sqlite" --insecure-registry "$REGISTRY" \
  >"$WORK/webhook.log" 2>&1 &
SG_PID=$!
PORT= MPORT=
for _ in $(seq 200); do
  PORT=$(sed -n 's/.*https_port=\([0-9]*\).*/\1/p' "$WORK/webhook.log" | head -1)
  MPORT=$(sed -n 's/.*metrics_port=\([0-9]*\).*/\1/p' "$WORK/webhook.log" | head -1)
  [ -n "$PORT" ] && break
  sleep 0.05
done
[ -n "$PORT" ] || { cat "$WORK/webhook.log"; exit 1; }
readyz() { curl -s -o /dev/null -w '%{http_code}' --cacert "$WORK/ca.pem" "https://127.0.0.1:$PORT/readyz"; }
for _ in $(seq 100); do [ "$(readyz)" = 200 ] && break; sleep 0.1; done
for _ in 1 2 3; do
  curl -s --cacert "$WORK/ca.pem" -H 'Content-Type: application/json' --data-binary @"$WORK/deployment.json" \
    "https://127.0.0.1:$PORT/validate?timeout=30s" >/dev/null
done
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
