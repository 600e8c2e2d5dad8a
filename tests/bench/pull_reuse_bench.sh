#!/usr/bin/env bash
# Issue 15 benchmark: scan time per image with and without connection reuse, against a loopback
# docker-registry over TLS with htpasswd auth (build/tests/bench/pull_reuse_bench does the scans).
# Asserts nothing; never run by ctest.
#
#   tests/bench/pull_reuse_bench.sh [BUILD_DIR]      default: build
#
# Needs docker-registry, htpasswd (apache2-utils), openssl, python3 and unshare (root: the
# registry's name resolves to 127.0.0.1 through a hosts file bind-mounted in a private mount
# namespace for the benchmark only, as in registry_pull_bench.sh; 127.0.0.1 itself would be
# reached over plain HTTP, as Docker does).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${1:-build}
BENCH="$ROOT/$BUILD/tests/bench/pull_reuse_bench"
[[ -x "$BENCH" ]] || { echo "pull_reuse_bench: build it first (cmake --build $BUILD --target pull_reuse_bench)" >&2; exit 2; }
for t in docker-registry htpasswd openssl python3 unshare; do
  command -v "$t" >/dev/null || { echo "pull_reuse_bench: needs $t" >&2; exit 2; }
done
NAME=registry.scangate-bench.test
WORK=$(mktemp -d /tmp/scangate-reuse-bench.XXXXXX)
REG_PID=""
cleanup() {
  [[ -n "$REG_PID" ]] && kill "$REG_PID" 2>/dev/null && wait "$REG_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$WORK/ca.key" \
  -out "$WORK/ca.pem" -days 2 -subj "/CN=scangate bench CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$WORK/server.key" \
  -out "$WORK/server.csr" -subj "/CN=$NAME" 2>/dev/null
printf 'subjectAltName=DNS:%s,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$NAME" \
  >"$WORK/ext.cnf"
openssl x509 -req -in "$WORK/server.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" -CAcreateserial \
  -out "$WORK/server.pem" -days 2 -extfile "$WORK/ext.cnf" 2>/dev/null
USER_NAME=bench PASSWORD=$(openssl rand -hex 12)
htpasswd -Bbn "$USER_NAME" "$PASSWORD" >"$WORK/htpasswd"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$WORK/config.yml" <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $WORK/storage
auth:
  htpasswd:
    realm: bench
    path: $WORK/htpasswd
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
  code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$WORK/ca.pem" "https://127.0.0.1:$PORT/v2/" || true)
  [[ "$code" == 401 ]] && break
  sleep 0.05
done

# One image: the Alpine 3.20.3 minirootfs as its only layer (tests/data/rootfs).
python3 - "$WORK" "$PORT" "$ROOT/tests/data/rootfs/alpine-minirootfs-3.20.3-x86_64.tar.gz" "$USER_NAME:$PASSWORD" <<'PY'
import base64, gzip, hashlib, http.client, json, os, ssl, sys, urllib.parse
work, port, layer_path, creds = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=os.path.join(work, "ca.pem"))
auth = {"Authorization": "Basic " + base64.b64encode(creds.encode()).decode()}
def conn(): return http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=60)
def sha(b): return "sha256:" + hashlib.sha256(b).hexdigest()
def push_blob(data):
    c = conn(); c.request("POST", "/v2/bench/alpine/blobs/uploads/", headers=auth); r = c.getresponse(); r.read()
    assert r.status == 202, r.status
    loc = urllib.parse.urlsplit(r.getheader("Location"))
    target = loc.path + "?" + (loc.query + "&" if loc.query else "") + "digest=" + urllib.parse.quote(sha(data))
    c = conn(); c.request("PUT", target, body=data, headers={**auth, "Content-Type": "application/octet-stream"})
    r = c.getresponse(); r.read(); assert r.status == 201, (r.status, target)
layer = open(layer_path, "rb").read()
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                     "rootfs": {"type": "layers", "diff_ids": [sha(gzip.decompress(layer))]}}).encode()
push_blob(layer); push_blob(config)
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(config), "size": len(config)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha(layer), "size": len(layer)}]}).encode()
c = conn()
c.request("PUT", "/v2/bench/alpine/manifests/3.20.3", body=manifest,
          headers={**auth, "Content-Type": "application/vnd.oci.image.manifest.v1+json"})
r = c.getresponse(); r.read(); assert r.status == 201, r.status
PY

# The scenario DB (tests/data/scenario), as the integration tests build it.
args=()
for v in 3.10 3.14 3.15 3.18 3.20; do args+=(--alpine-secdb "$ROOT/tests/data/scenario/secdb/v$v-main.json"); done
"$ROOT/$BUILD/scangate" db build --quiet --output "$WORK/db.sqlite" "${args[@]}" \
  --nvd "$ROOT/tests/data/scenario/nvd/nvdcve-2.0-scenario.json"

echo "127.0.0.1 $NAME" >"$WORK/hosts"
unshare --mount sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$WORK/hosts" \
  "$BENCH" "$NAME:$PORT/bench/alpine:3.20.3" --cacert "$WORK/ca.pem" --db "$WORK/db.sqlite" --user "$USER_NAME" --password "$PASSWORD" \
  --runs "${RUNS:-15}"
