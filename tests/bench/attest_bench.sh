#!/usr/bin/env bash
# Issue 16 benchmark: admission latency for a digest the webhook has never seen, decided by
# re-matching the pipeline's attested SBOM, against a full scan of the same image (pull, walk,
# analyze, match). Both against the fixture's loopback docker-registry, each first request to a
# freshly started webhook (empty cache), ROUNDS rounds per image. Prints medians; asserts nothing;
# never run by ctest.
#
#   tests/bench/attest_bench.sh [BUILD_DIR] [ROUNDS]      defaults: build 5
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${1:-build}
ROUNDS=${2:-5}
SG="$ROOT/$BUILD/scangate"
WH="$ROOT/$BUILD/scangate-webhook"
[[ -x "$SG" && -x "$WH" ]] || { echo "attest_bench: build scangate and scangate-webhook first" >&2; exit 2; }
WORK=$(mktemp -d /tmp/scangate-attest-bench.XXXXXX)
WH_PID=""
cleanup() {
  [[ -n "$WH_PID" ]] && kill "$WH_PID" 2>/dev/null && wait "$WH_PID" 2>/dev/null
  tests/fixtures/registry.sh stop "$WORK/fixture" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

tests/fixtures/registry.sh start "$WORK/fixture" >/dev/null
# shellcheck disable=SC1091
source "$WORK/fixture/env"
ARGS=()
for v in 3.10 3.14 3.15 3.18 3.20; do ARGS+=(--alpine-secdb "tests/data/scenario/secdb/v$v-main.json"); done
"$SG" db build --quiet --output "$WORK/db.sqlite" "${ARGS[@]}" --nvd tests/data/scenario/nvd/nvdcve-2.0-scenario.json >/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out "$WORK/attest.key" 2>/dev/null
openssl ec -in "$WORK/attest.key" -pubout -out "$WORK/attest.pub" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$WORK/tls.key" \
  -out "$WORK/tls.crt" -days 1 -subj "/CN=127.0.0.1" -addext subjectAltName=IP:127.0.0.1 2>/dev/null

IMAGES=(alpine-3.10.9 alpine-3.20.3 python-3.6.15-alpine3.14 python-3.12.4-alpine3.20 layered-1)
for img in "${IMAGES[@]}"; do
  python3 tests/fixtures/fixture_tool.py push-layout "$IMAGES_LAYOUT" "$REGISTRY" "$img=bench-scan/$img:1" \
    "$img=bench-att/$img:1"
  "$SG" image --quiet --db "$WORK/db.sqlite" --attest --key "$WORK/attest.key" --format json \
    --output "$WORK/$img.json" "$REGISTRY/bench-att/$img:1"
done

start_webhook() { # extra args...
  "$WH" --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 --tls-cert-file "$WORK/tls.crt" \
    --tls-private-key-file "$WORK/tls.key" --db "$WORK/db.sqlite" --insecure-registry "$REGISTRY" \
    "$@" >"$WORK/webhook.log" 2>&1 &
  WH_PID=$!
  PORT=""
  for _ in $(seq 300); do
    PORT=$(sed -n 's/.*https_port=\([0-9]*\).*/\1/p' "$WORK/webhook.log" | head -1)
    [[ -n "$PORT" ]] && break
    sleep 0.05
  done
  for _ in $(seq 300); do
    [[ "$(curl -s --cacert "$WORK/tls.crt" -o /dev/null -w '%{http_code}' "https://127.0.0.1:$PORT/readyz")" == 200 ]] && break
    sleep 0.05
  done
}
stop_webhook() { kill -KILL "$WH_PID"; wait "$WH_PID" 2>/dev/null || true; WH_PID=""; }  # no drain: a benchmark

review() { # IMAGE
  python3 - "$1" <<'PY'
import json, sys, uuid
print(json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
    "uid": str(uuid.uuid4()), "kind": {"group": "", "version": "v1", "kind": "Pod"},
    "resource": {"group": "", "version": "v1", "resource": "pods"}, "operation": "CREATE",
    "namespace": "default", "name": "p",
    "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
               "spec": {"containers": [{"name": "c", "image": sys.argv[1]}]}}}}))
PY
}

# ms of the first admission of IMAGE by a fresh webhook started with ARGS.
measure() { # IMAGE [args...]
  local image=$1; shift
  start_webhook "$@"
  review "$image" >"$WORK/review.json"
  curl -s --cacert "$WORK/tls.crt" -H 'Content-Type: application/json' --data-binary "@$WORK/review.json" \
    -o "$WORK/reply.json" -w '%{time_total}' "https://127.0.0.1:$PORT/validate?timeout=30s" |
    awk '{ printf "%.1f", $1 * 1000 }'
  grep -q '"uid"' "$WORK/reply.json" || { echo "no AdmissionReview reply" >&2; exit 1; }
  stop_webhook
}

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

echo "attest_bench: first admission of a new digest, median of $ROUNDS fresh webhooks (ms)"
printf '%-28s %12s %14s %8s %12s\n' image "full scan" "attested SBOM" ratio "layer bytes"
for img in "${IMAGES[@]}"; do
  scan=() sbom=()
  for _ in $(seq "$ROUNDS"); do
    scan+=("$(measure "$REGISTRY/bench-scan/$img:1")")
    sbom+=("$(measure "$REGISTRY/bench-att/$img:1" --attestation-key "$WORK/attest.pub")")
  done
  s=$(printf '%s\n' "${scan[@]}" | median)
  a=$(printf '%s\n' "${sbom[@]}" | median)
  bytes=$(python3 - "$IMAGES_LAYOUT" "$img" <<'PY'
import json, os, sys
layout, ref = sys.argv[1], sys.argv[2]
idx = json.load(open(os.path.join(layout, "index.json")))
d = next(m for m in idx["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref)
man = json.load(open(os.path.join(layout, "blobs", *d["digest"].split(":"))))
print(sum(l["size"] for l in man["layers"]))
PY
)
  printf '%-28s %12s %14s %7.1fx %12s\n' "$img" "$s" "$a" "$(awk -v s="$s" -v a="$a" 'BEGIN { print s / a }')" "$bytes"
done
