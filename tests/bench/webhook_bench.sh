#!/usr/bin/env bash
# Benchmark for issue 6: cached admission verdicts, scangate-webhook against the baseline Go
# webhook (../shared/bench/gowebhook: net/http + encoding/json doing the same map look-up).
# Prints figures; asserts nothing about them; never run by ctest. Separate from run.sh.
#   tests/bench/webhook_bench.sh [BUILD_DIR]      (default BUILD_DIR: build)
# Environment: BENCH_DURATION (wrk -d per run, default 10s), BENCH_ROUNDS (runs per server and
# case, default 3), BENCH_CONNECTIONS (default "1 32"), BENCH_BODIES (default "deployment pod"),
# BENCH_CACHE_ENTRIES (cached scans for the cache memory figure, default 10000), BENCH_THREADS
# (scangate-webhook --threads; default: its own), SCANGATE_TESTDATA, SCANGATE_GOWEBHOOK (the Go sources; default
# ../shared/bench/gowebhook, copied and built offline in the temporary folder).
# Takes about 2 minutes plus 2 x ROUNDS x 4 x BENCH_DURATION.
#
# What it does: starts the loopback registry fixture and builds the scenario DB; makes a CA and
# a certificate for 127.0.0.1; starts both servers with that certificate, scangate on the DB
# and the registry, Go with -deny/-allow for the same two images; warms scangate's verdict
# cache (the first post of each body scans its images); then, for two bodies (a ~1.1 KB
# Deployment review of the clean image, allowed, and the 5.4 KB real Pod review of
# ../shared/testdata/admission with its two images rewritten to the clean and the vulnerable
# one, denied), runs `wrk -t1` at 1 and 32 keep-alive TLS connections against each server,
# alternating the servers for BENCH_ROUNDS rounds (tests/bench/webhook/post_review.lua checks
# every answer: status 200 and the expected "allowed"). Prints the median req/s, p50 and p99,
# each server's CPU time per request, the ratios scangate/Go, the verdict-cache hits, misses and
# scans during the runs, the machine's idle and CPU steal time, and each server's peak RSS; last,
# the verdict cache's memory with BENCH_CACHE_ENTRIES cached scans (tests/bench/cache_bench.cpp).
# Installs golang-go and wrk with apt-get when
# missing. wrk shares the machine's cores with the server under test, and on a shared VM the
# absolute figures drift: compare the ratios of one run, not figures between runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${1:-build}
TESTDATA=${SCANGATE_TESTDATA:-$ROOT/../shared/testdata}
GOSRC=${SCANGATE_GOWEBHOOK:-$ROOT/../shared/bench/gowebhook}
DURATION=${BENCH_DURATION:-10s}
CONNECTIONS=${BENCH_CONNECTIONS:-1 32}
LUA=$ROOT/tests/bench/webhook/post_review.lua

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v go >/dev/null 2>&1 || missing+=(golang-go)
if ((${#missing[@]})); then
  echo "installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
scripts/setup

cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j 2 --target scangate scangate-webhook cache_bench >/dev/null
SG=$ROOT/$BUILD/scangate
WEBHOOK=$ROOT/$BUILD/scangate-webhook

WORK=$(mktemp -d /tmp/scangate-webhook-bench.XXXXXX)
SG_PID= GO_PID=
cleanup() {
  for pid in $SG_PID $GO_PID; do kill "$pid" 2>/dev/null || true; done
  for pid in $SG_PID $GO_PID; do wait "$pid" 2>/dev/null || true; done
  tests/fixtures/registry.sh stop "$WORK/fixture" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
tests/fixtures/registry.sh start "$WORK/fixture" >/dev/null
. "$WORK/fixture/env"
CLEAN=$REGISTRY/alpine:3.15.11          # allowed (see scripts/demo)
VULNERABLE=$REGISTRY/$IMAGE_PYTHON_3_6  # denied: CRITICAL findings

echo "== setup"
DB_ARGS=()
for v in 3.10 3.14 3.15 3.18 3.20; do DB_ARGS+=(--alpine-secdb "$TESTDATA/scenario/secdb/v$v-main.json"); done
"$SG" db build --quiet --output "$WORK/db.sqlite" "${DB_ARGS[@]}" --nvd "$TESTDATA/scenario/nvd/nvdcve-2.0-scenario.json" >/dev/null

# A CA and a server certificate for 127.0.0.1, as cert-manager would issue them.
(
  cd "$WORK"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=bench-ca
  openssl req -newkey rsa:2048 -nodes -keyout tls.key -out tls.csr -subj /CN=scangate-webhook
  echo "subjectAltName=IP:127.0.0.1,DNS:localhost" >ext.cnf
  openssl x509 -req -in tls.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out tls.crt -days 2 -extfile ext.cnf
) >/dev/null 2>&1

python3 tests/bench/webhook/make_bodies.py "$WORK" "$TESTDATA" "$CLEAN" "$VULNERABLE" | sed 's/^/bodies: /'

# The Go baseline, built offline from a copy of its sources (standard library only).
mkdir -p "$WORK/gosrc"
cp "$GOSRC/go.mod" "$GOSRC"/*.go "$WORK/gosrc/"
(cd "$WORK/gosrc" && GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local GOPATH="$WORK/gopath" \
  GOCACHE=${GOCACHE:-$HOME/.cache/scangate-bench/go-build} go build -o "$WORK/gowebhook" .)
echo "go: $(go version | cut -d' ' -f3-)   wrk: $(wrk -v 2>&1 | head -1 | cut -d' ' -f2)   cores: $(nproc)"

# scangate-webhook on free ports, with the DB and the loopback registry.
SG_ARGS=(--listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 --tls-cert-file "$WORK/tls.crt"
  --tls-private-key-file "$WORK/tls.key" --db "$WORK/db.sqlite" --insecure-registry "$REGISTRY")
[ -n "${BENCH_THREADS:-}" ] && SG_ARGS+=(--threads "$BENCH_THREADS")
"$WEBHOOK" "${SG_ARGS[@]}" >"$WORK/scangate.log" 2>&1 &
SG_PID=$!
SG_PORT= METRICS_PORT=
for _ in $(seq 200); do
  if grep -q 'https_port=' "$WORK/scangate.log"; then
    SG_PORT=$(sed -n 's/.*https_port=\([0-9]*\).*/\1/p' "$WORK/scangate.log" | head -1)
    METRICS_PORT=$(sed -n 's/.*metrics_port=\([0-9]*\).*/\1/p' "$WORK/scangate.log" | head -1)
    break
  fi
  sleep 0.05
done
[ -n "$SG_PORT" ] || { echo "scangate-webhook did not start:"; cat "$WORK/scangate.log"; exit 1; }
for _ in $(seq 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$WORK/ca.pem" "https://127.0.0.1:$SG_PORT/readyz")" = 200 ] && break
  sleep 0.1
done

GO_PORT=$(python3 tests/fixtures/fixture_tool.py freeport)
"$WORK/gowebhook" -listen "127.0.0.1:$GO_PORT" -cert "$WORK/tls.crt" -key "$WORK/tls.key" \
  -deny "$VULNERABLE" -allow "$CLEAN" >"$WORK/go.log" 2>&1 &
GO_PID=$!
for _ in $(seq 100); do
  curl -s -o /dev/null --cacert "$WORK/ca.pem" "https://127.0.0.1:$GO_PORT/" && break
  sleep 0.1
done

metric() { # NAME: the sum of NAME's samples (all labels) on scangate's /metrics, 0 when absent
  curl -s "http://127.0.0.1:$METRICS_PORT/metrics" |
    awk -v n="$1" '{ k = $1; sub(/\{.*/, "", k) } k == n { v += $NF } END { printf "%d\n", v }'
}
post() { # PORT BODY_FILE: the response body
  curl -s --cacert "$WORK/ca.pem" -H 'Content-Type: application/json' --data-binary @"$2" \
    "https://127.0.0.1:$1/validate?timeout=30s"
}

# Warm the verdict cache: the first post of each body scans its images; repeat until a post
# is answered with no cache miss. Then check what both servers answer.
for body in deployment pod; do
  for _ in $(seq 10); do
    before=$(metric scangate_verdict_cache_misses_total)
    post "$SG_PORT" "$WORK/$body.json" >/dev/null
    [ "$(metric scangate_verdict_cache_misses_total)" = "$before" ] && break
  done
done
declare -A EXPECT=([deployment]=true [pod]=false)
for body in deployment pod; do
  for port in "$SG_PORT" "$GO_PORT"; do
    answer=$(post "$port" "$WORK/$body.json")
    if [[ "$answer" != *"\"allowed\":${EXPECT[$body]}"* ]]; then
      echo "unexpected answer for $body.json on port $port (expected allowed=${EXPECT[$body]}): $answer"
      exit 1
    fi
  done
done
echo "scangate's denial of pod.json: $(post "$SG_PORT" "$WORK/pod.json" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["response"]["status"]["message"][:160])')…"
echo "scans during warm-up: $(metric scangate_scans_total)"
rss() { awk -v k="$2:" '$1 == k { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
echo "after warm-up: scangate VmRSS $(rss "$SG_PID" VmRSS) MB (VmHWM $(rss "$SG_PID" VmHWM) MB, includes the two scans);" \
  "go VmRSS $(rss "$GO_PID" VmRSS) MB"

# run_wrk BODY CONNECTIONS PORT DURATION PID: the BENCH line of post_review.lua, followed by
# the CPU time the server PID used during the run (ticks, all threads) and the CPU steal and
# idle percentages of the whole machine (from /proc/stat).
cpu_sample() { awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6, $9 }' /proc/stat; }
proc_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
run_wrk() {
  local before after t0 t1
  before=$(cpu_sample)
  t0=$(proc_ticks "$5")
  BENCH_BODY=$WORK/$1.json BENCH_EXPECT=${EXPECT[$1]} \
    wrk -t1 -c"$2" -d"$4" --latency -s "$LUA" "https://127.0.0.1:$3" >"$WORK/wrk.out" 2>&1 || true
  t1=$(proc_ticks "$5")
  after=$(cpu_sample)
  if ! grep -q '^BENCH ' "$WORK/wrk.out"; then
    echo "wrk failed:" >&2; cat "$WORK/wrk.out" >&2; exit 1
  fi
  grep '^BENCH_FIRST_BAD' "$WORK/wrk.out" >&2 || true
  echo "$(grep '^BENCH ' "$WORK/wrk.out") ticks=$((t1 - t0)) $(awk -v b="$before" -v a="$after" 'BEGIN {
    split(b, x, " "); split(a, y, " "); t = y[1] - x[1]; if (t <= 0) t = 1
    printf "idle=%.0f steal=%.0f", 100 * (y[2] - x[2]) / t, 100 * (y[3] - x[3]) / t }')"
}

# A short unmeasured run per server first (connection set-up paths, Go's heap growth).
run_wrk deployment 32 "$SG_PORT" 2s "$SG_PID" >/dev/null
run_wrk deployment 32 "$GO_PORT" 2s "$GO_PID" >/dev/null

ROUNDS=${BENCH_ROUNDS:-3}
hits0=$(metric scangate_verdict_cache_hits_total)
misses0=$(metric scangate_verdict_cache_misses_total)
scans0=$(metric scangate_scans_total)
load0=$(cut -d' ' -f1 /proc/loadavg)
: >"$WORK/results"
for body in ${BENCH_BODIES:-deployment pod}; do
  for c in $CONNECTIONS; do
    # The two servers alternate, so drift in the machine's load hits both alike.
    for round in $(seq "$ROUNDS"); do
      echo "$body $c sg $round $(run_wrk "$body" "$c" "$SG_PORT" "$DURATION" "$SG_PID")" >>"$WORK/results"
      echo "$body $c go $round $(run_wrk "$body" "$c" "$GO_PORT" "$DURATION" "$GO_PID")" >>"$WORK/results"
    done
  done
done
load1=$(cut -d' ' -f1 /proc/loadavg)

echo
echo "== cached verdicts over TLS keep-alive: wrk -t1 -d$DURATION, $ROUNDS alternating rounds per case, medians"
python3 - "$WORK/results" "$WORK" <<'PY'
import os, re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    body, conns, server, rnd, rest = line.split(" ", 4)
    f = dict(re.findall(r"(\w+)=(\S+)", rest))
    runs.setdefault((body, int(conns)), {}).setdefault(server, []).append(f)
med = lambda rs, k: statistics.median(float(r[k]) for r in rs)
hz = os.sysconf("SC_CLK_TCK")
# Server CPU time per answered request, in µs, over all rounds.
cpu = lambda rs: 1e6 * sum(int(r["ticks"]) for r in rs) / hz / max(1, sum(int(r["requests"]) for r in rs))
print(f"{'body':24} {'conns':>5} | {'scangate req/s':>14} {'p50 µs':>7} {'p99 µs':>7} {'CPU µs':>6} | {'go req/s':>9}"
      f" {'p50 µs':>7} {'p99 µs':>7} {'CPU µs':>6} | {'req/s sg/go':>16} {'p50':>5} {'p99':>5} {'CPU':>5} |"
      f" {'bad answers':>11}")
bad_total, steal, idle = 0, [], []
for (body, conns), by in runs.items():
    sg, go = by["sg"], by["go"]
    size = os.path.getsize(os.path.join(sys.argv[2], body + ".json"))
    ratios = [float(a["rps"]) / max(1.0, float(b["rps"])) for a, b in zip(sg, go)]
    def errors(rs):
        n = 0
        for r in rs:
            n += int(r["bad"]) + sum(int(x) for x in r["errors"].split("/"))
        return n
    e_sg, e_go = errors(sg), errors(go)
    bad_total += e_sg + e_go
    steal += [float(r["steal"]) for r in sg + go]
    idle += [float(r["idle"]) for r in sg + go]
    print(f"{body + '.json (' + str(size) + ' B)':24} {conns:5} | {med(sg, 'rps'):14.0f} {med(sg, 'p50_us'):7.0f}"
          f" {med(sg, 'p99_us'):7.0f} {cpu(sg):6.0f} | {med(go, 'rps'):9.0f} {med(go, 'p50_us'):7.0f}"
          f" {med(go, 'p99_us'):7.0f} {cpu(go):6.0f} |"
          f" {statistics.median(ratios):5.2f} ({min(ratios):.2f}-{max(ratios):.2f})"
          f" {med(sg, 'p50_us') / max(1, med(go, 'p50_us')):5.2f} {med(sg, 'p99_us') / max(1, med(go, 'p99_us')):5.2f}"
          f" {cpu(sg) / max(1, cpu(go)):5.2f} | {e_sg:>5}/{e_go:<5}")
print("req/s sg/go: the median of the per-round ratios (min-max over the rounds); above 1, scangate serves more.")
print("p50, p99: scangate's median latency over Go's; below 1, scangate answers faster.")
print("CPU µs: the server's CPU time (user + system, all threads) per answered request over all rounds;"
      " CPU sg/go below 1: scangate spends less.")
print("bad answers: scangate/go responses that were not 200 with the expected \"allowed\", plus socket errors"
      f" (total {bad_total}).")
print(f"machine during the runs: {statistics.mean(idle):.0f}% idle, {statistics.mean(steal):.0f}% CPU steal"
      f" (max {max(steal):.0f}% in one run)")
PY
hits=$(( $(metric scangate_verdict_cache_hits_total) - hits0 ))
misses=$(( $(metric scangate_verdict_cache_misses_total) - misses0 ))
scans=$(( $(metric scangate_scans_total) - scans0 ))
# wrk counts the answers it read; requests still in flight when a run ends are answered (and
# counted as hits) too, so hits run slightly above this.
lookups=$(awk '$3 == "sg" { for (i = 5; i <= NF; i++) if ($i ~ /^requests=/) { n = substr($i, 10); l += ($1 == "pod" ? 2 : 1) * n } }
  END { print l + 0 }' "$WORK/results")
echo "load average (1 min) before/after the runs: $load0 / $load1 (wrk and one server make about 1.5)"
echo "scangate verdict cache during the runs: $hits hits, $misses misses, $scans scans;" \
  "wrk's answered requests need $lookups look-ups (one per distinct image: 1 per deployment.json, 2 per pod.json)"
echo "peak RSS (VmHWM) after the runs: scangate $(rss "$SG_PID" VmHWM) MB (VmRSS $(rss "$SG_PID" VmRSS) MB);" \
  "go $(rss "$GO_PID" VmHWM) MB (VmRSS $(rss "$GO_PID" VmRSS) MB)"

# The verdict cache at the default --cache-size: 10,000 cached scans, each with its own copy of
# the vulnerable image's findings (the report scangate writes for it, 47 findings).
echo
echo "== verdict cache memory: $(( ${BENCH_CACHE_ENTRIES:-10000} )) cached scans of $IMAGE_PYTHON_3_6's findings"
"$SG" image --quiet --format json --db "$WORK/db.sqlite" --insecure-registry "$REGISTRY" \
  --output "$WORK/vulnerable.json" "$VULNERABLE" || [ -s "$WORK/vulnerable.json" ]
"$ROOT/$BUILD/tests/bench/cache_bench" "$WORK/vulnerable.json" "${BENCH_CACHE_ENTRIES:-10000}"
