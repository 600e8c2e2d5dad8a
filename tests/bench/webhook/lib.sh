# shellcheck shell=bash
# Shared set-up of the webhook benches that run one scangate-webhook against the loopback registry
# (drain_bench.sh, db_swap_bench.sh). Sourced with ROOT, BUILD and TESTDATA set, from the repository
# root; `bench_setup NAME` builds the binaries and makes WORK (removed on exit) with the fixture
# registry, the scenario DB (WORK/db.sqlite), a CA and certificate for 127.0.0.1, and the review
# bodies; `bench_start_webhook ARGS...` starts the webhook with ARGS and waits for /readyz (sets
# SG_PID, PORT, MPORT); `bench_warm` posts the Deployment review until its image is cached.

bench_setup() {
  command -v wrk >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  scripts/setup
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD" -j 2 --target scangate scangate-webhook >/dev/null
  SG=$ROOT/$BUILD/scangate
  WEBHOOK=$ROOT/$BUILD/scangate-webhook
  LUA=$ROOT/tests/bench/webhook/post_review.lua
  WORK=$(mktemp -d "/tmp/scangate-$1.XXXXXX")
  SG_PID=
  trap bench_cleanup EXIT
  tests/fixtures/registry.sh start "$WORK/fixture" >/dev/null
  . "$WORK/fixture/env"
  CLEAN=$REGISTRY/alpine:3.15.11
  VULNERABLE=$REGISTRY/$IMAGE_PYTHON_3_6
  local db_args=() v
  for v in 3.10 3.14 3.15 3.18 3.20; do db_args+=(--alpine-secdb "$TESTDATA/scenario/secdb/v$v-main.json"); done
  "$SG" db build --quiet --output "$WORK/db.sqlite" "${db_args[@]}" \
    --nvd "$TESTDATA/scenario/nvd/nvdcve-2.0-scenario.json" >/dev/null
  (
    cd "$WORK"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=bench-ca
    openssl req -newkey rsa:2048 -nodes -keyout tls.key -out tls.csr -subj /CN=scangate-webhook
    echo "subjectAltName=IP:127.0.0.1,DNS:localhost" >ext.cnf
    openssl x509 -req -in tls.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out tls.crt -days 2 -extfile ext.cnf
  ) >/dev/null 2>&1
  python3 tests/bench/webhook/make_bodies.py "$WORK" "$TESTDATA" "$CLEAN" "$VULNERABLE" >/dev/null
}

bench_cleanup() {
  if [ -n "${SG_PID:-}" ]; then
    kill -9 "$SG_PID" 2>/dev/null || true
    wait "$SG_PID" 2>/dev/null || true
  fi
  tests/fixtures/registry.sh stop "$WORK/fixture" >/dev/null 2>&1 || true
  [ -n "${BENCH_KEEP:-}" ] && echo "kept $WORK" >&2 && return
  rm -rf "$WORK"
}

bench_readyz() { curl -s -o /dev/null -w '%{http_code}' --cacert "$WORK/ca.pem" "https://127.0.0.1:$PORT/readyz"; }

bench_start_webhook() {
  "$WEBHOOK" --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 --tls-cert-file "$WORK/tls.crt" \
    --tls-private-key-file "$WORK/tls.key" --insecure-registry "$REGISTRY" "$@" >"$WORK/webhook.log" 2>&1 &
  SG_PID=$!
  PORT= MPORT=
  for _ in $(seq 200); do
    PORT=$(sed -n 's/.*https_port=\([0-9]*\).*/\1/p' "$WORK/webhook.log" | head -1)
    MPORT=$(sed -n 's/.*metrics_port=\([0-9]*\).*/\1/p' "$WORK/webhook.log" | head -1)
    [ -n "$PORT" ] && break
    sleep 0.05
  done
  [ -n "$PORT" ] || { cat "$WORK/webhook.log"; exit 1; }
  for _ in $(seq 100); do [ "$(bench_readyz)" = 200 ] && break; sleep 0.1; done
}

bench_warm() {
  for _ in 1 2 3; do
    curl -s --cacert "$WORK/ca.pem" -H 'Content-Type: application/json' --data-binary @"$WORK/deployment.json" \
      "https://127.0.0.1:$PORT/validate?timeout=30s" >/dev/null
  done
}
