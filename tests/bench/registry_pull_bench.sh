#!/usr/bin/env bash
# Issue 11 benchmark: `scangate image --scanners pkg` pulling a 20-layer image over TLS from a
# loopback docker-registry (CNCF Distribution). Prints, per pull, the TCP connections to the
# registry (each one a full TLS handshake; counted from the client's connect(2) calls with strace)
# and the wall time (median of RUNS pulls). Asserts nothing; never run by ctest.
#
#   tests/bench/registry_pull_bench.sh [SCANGATE...]     default: build/scangate
#
# Several binaries (e.g. a build of the baseline and the current one) are measured on the same
# registry and image, one after the other. Needs docker-registry, openssl, python3, strace and
# unshare (util-linux; root, for a private /etc/hosts).
#
# The registry is reached as registry.scangate-bench.test: a loopback *name* (127.0.0.1 would make
# scangate use plain HTTP, as Docker does for loopback registries). The name is resolved through a
# hosts file bind-mounted over /etc/hosts in a private mount namespace, for the scangate process
# only; the machine's /etc/hosts is not touched.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
TESTDATA=${SCANGATE_TESTDATA:-$ROOT/../shared/testdata}
RUNS=${RUNS:-7}
LAYERS=20
NAME=registry.scangate-bench.test
BINS=("$@")
[[ ${#BINS[@]} -gt 0 ]] || BINS=("$ROOT/build/scangate")
for t in docker-registry openssl python3 strace unshare; do
  command -v "$t" >/dev/null || { echo "registry_pull_bench: needs $t" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/scangate-pull-bench.XXXXXX)
REG_PID=""
cleanup() {
  [[ -n "$REG_PID" ]] && kill "$REG_PID" 2>/dev/null && wait "$REG_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- a CA and the registry's certificate
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$WORK/ca.key" \
  -out "$WORK/ca.pem" -days 2 -subj "/CN=scangate bench CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$WORK/server.key" \
  -out "$WORK/server.csr" -subj "/CN=$NAME" 2>/dev/null
printf 'subjectAltName=DNS:%s,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$NAME" \
  >"$WORK/ext.cnf"
openssl x509 -req -in "$WORK/server.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" -CAcreateserial \
  -out "$WORK/server.pem" -days 2 -extfile "$WORK/ext.cnf" 2>/dev/null

# --- the registry, TLS only
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$WORK/config.yml" <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $WORK/storage
http:
  addr: 127.0.0.1:$PORT
  secret: $(openssl rand -hex 16)
  tls:
    certificate: $WORK/server.pem
    key: $WORK/server.key
YAML
env -i PATH="$PATH" HOME="${HOME:-/tmp}" docker-registry serve "$WORK/config.yml" >"$WORK/registry.log" 2>&1 &
REG_PID=$!
for _ in $(seq 1 200); do
  curl -s -o /dev/null --cacert "$WORK/ca.pem" "https://127.0.0.1:$PORT/v2/" && break
  sleep 0.05
done

# --- a 20-layer image: the Alpine 3.20.3 minirootfs, then 19 layers of one file each
python3 - "$WORK" "$PORT" "$TESTDATA/rootfs/alpine-minirootfs-3.20.3-x86_64.tar.gz" "$LAYERS" <<'PY'
import gzip, hashlib, http.client, io, json, os, ssl, sys, tarfile, urllib.parse
work, port, base, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
ctx = ssl.create_default_context(cafile=os.path.join(work, "ca.pem"))
def conn():
    return http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=60)
def sha(b): return "sha256:" + hashlib.sha256(b).hexdigest()
def push_blob(data):
    c = conn(); c.request("POST", "/v2/bench/twenty/blobs/uploads/"); r = c.getresponse(); r.read()
    assert r.status == 202, r.status
    loc = urllib.parse.urlsplit(r.getheader("Location"))
    target = loc.path + "?" + (loc.query + "&" if loc.query else "") + "digest=" + urllib.parse.quote(sha(data))
    c = conn(); c.request("PUT", target, body=data, headers={"Content-Type": "application/octet-stream"})
    r = c.getresponse(); r.read(); assert r.status == 201, (r.status, target)
layers, diff_ids = [], []
first = open(base, "rb").read()
layers.append(first); diff_ids.append(sha(gzip.decompress(first)))
for i in range(2, n + 1):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as t:
        payload = (f"layer {i}\n".encode() + os.urandom(48 * 1024))
        info = tarfile.TarInfo(f"opt/bench/layer-{i:02d}.bin"); info.size = len(payload); info.mtime = 1700000000
        t.addfile(info, io.BytesIO(payload))
    tar = raw.getvalue()
    layers.append(gzip.compress(tar, mtime=0)); diff_ids.append(sha(tar))
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/sh"]},
                     "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
for b in layers + [config]: push_blob(b)
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(config), "size": len(config)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha(l), "size": len(l)}
               for l in layers]}).encode()
c = conn()
c.request("PUT", "/v2/bench/twenty/manifests/1", body=manifest,
          headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
r = c.getresponse(); r.read(); assert r.status == 201, r.status
print(f"pushed bench/twenty:1: {len(layers)} layers, {sum(map(len, layers)) / 1e6:.1f} MB compressed", file=sys.stderr)
PY

echo "127.0.0.1 $NAME" >"$WORK/hosts"
IMAGE="$NAME:$PORT/bench/twenty:1"
# in_ns CMD...: runs CMD with $NAME resolving to 127.0.0.1 (private mount namespace)
in_ns() { unshare --mount sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$WORK/hosts" "$@"; }
scan() { in_ns "$1" image --scanners pkg --quiet --format json --output /dev/null --cacert "$WORK/ca.pem" "$IMAGE"; }

echo "== issue 11: scangate image --scanners pkg, $LAYERS-layer image over TLS from a loopback docker-registry"
for bin in "${BINS[@]}"; do
  # One pull under strace: the client's connect(2) calls to the registry's port.
  strace -f -qq -e trace=connect -o "$WORK/strace.log" \
    unshare --mount sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$WORK/hosts" \
    "$bin" image --scanners pkg --quiet --format json --output /dev/null --cacert "$WORK/ca.pem" "$IMAGE"
  conns=$(grep -c "sin_port=htons($PORT)" "$WORK/strace.log" || true)
  # The client's own count, when it has one (SCANGATE_HTTP_STATS; the baseline prints nothing).
  stats=$(SCANGATE_HTTP_STATS=1 scan "$bin" 2>&1 >/dev/null | grep '^scangate http:' || true)
  walls=()
  for _ in $(seq 1 "$RUNS"); do
    t0=$(date +%s%N)
    scan "$bin" >/dev/null 2>&1
    t1=$(date +%s%N)
    walls+=($(((t1 - t0) / 1000000)))
  done
  median=$(printf '%s\n' "${walls[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")
  printf '%-48s TLS connections (handshakes) per pull: %3s   wall: median %5s ms (min %s, max %s; %s runs)\n' \
    "$bin" "$conns" "$median" "$(printf '%s\n' "${walls[@]}" | sort -n | head -1)" \
    "$(printf '%s\n' "${walls[@]}" | sort -n | tail -1)" "$RUNS"
  [[ -n "$stats" ]] && echo "    $stats"
done
