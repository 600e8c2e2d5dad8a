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
command -v wrk >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
scripts/setup
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j 2 --target scangate scangate-webhook >/dev/null
SG=$ROOT/$BUILD/scangate
WEBHOOK=$ROOT/$BUILD/scangate-webhook
LUA=$ROOT/tests/bench/webhook/post_review.lua

WORK=$(mktemp -d /tmp/scangate-drain-bench.XXXXXX)
SG_PID=
cleanup() {
  [ -n "$SG_PID" ] && kill -9 "$SG_PID" 2>/dev/null || true
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

"$WEBHOOK" --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 --tls-cert-file "$WORK/tls.crt" \
  --tls-private-key-file "$WORK/tls.key" --db "$WORK/db.sqlite" --insecure-registry "$REGISTRY" \
  --shutdown-delay "$DELAY" >"$WORK/webhook.log" 2>&1 &
SG_PID=$!
PORT=
for _ in $(seq 200); do
  PORT=$(sed -n 's/.*https_port=\([0-9]*\).*/\1/p' "$WORK/webhook.log" | head -1)
  [ -n "$PORT" ] && break
  sleep 0.05
done
[ -n "$PORT" ] || { cat "$WORK/webhook.log"; exit 1; }
readyz() { curl -s -o /dev/null -w '%{http_code}' --cacert "$WORK/ca.pem" "https://127.0.0.1:$PORT/readyz"; }
for _ in $(seq 100); do [ "$(readyz)" = 200 ] && break; sleep 0.1; done
# Warm the verdict cache (the first posts scan the deployment's image).
for _ in 1 2 3; do
  curl -s --cacert "$WORK/ca.pem" -H 'Content-Type: application/json' --data-binary @"$WORK/deployment.json" \
    "https://127.0.0.1:$PORT/validate?timeout=30s" >/dev/null
done

t0=$(date +%s.%N)
kill -TERM "$SG_PID"
sleep 0.2
ready_during=$(readyz)
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
