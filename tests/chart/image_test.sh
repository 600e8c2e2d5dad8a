#!/usr/bin/env bash
# The image the chart runs, tested as the chart runs it (issue 13's dogfood):
#   1. the OCI layout from scripts/build-image is checked: user 65532, entrypoint scangate-webhook,
#      HOME=/tmp on a volume, no shell, no package manager, both binaries on PATH;
#   2. it is pushed to a docker-registry on loopback and scanned there with `scangate image`
#      under the chart's default policy (rendered by helm): it must pass;
#   3. the chart is rendered with that image's digest (image.digest): every container of the
#      render names REPO@DIGEST, and the Deployment's command and args run from the unpacked
#      image (chroot, as user 65532) with --help appended: scangate-webhook checks every flag before
#      --help, so this proves each flag the chart passes exists.
#
#   tests/chart/image_test.sh --layout DIR --scangate BIN [--db FILE] [--report-dir DIR]
#
#   --db FILE  the vulnerability DB for the scan; default: one built from the feeds in tests/data
#              (offline; it holds few Debian records, so CI with network should pass one built by
#              `scangate db update`)
#
# Needs: docker-registry, skopeo, umoci, python3-yaml, helm (scripts/get-helm), chroot (root) or
# unshare (user namespaces).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
LAYOUT="" SCANGATE="" DB="" REPORT_DIR=""
while (($#)); do
  case "$1" in
    --layout) LAYOUT="$2"; shift 2 ;;
    --scangate) SCANGATE="$2"; shift 2 ;;
    --db) DB="$2"; shift 2 ;;
    --report-dir) REPORT_DIR="$2"; shift 2 ;;
    *) echo "image_test: unknown argument $1" >&2; exit 2 ;;
  esac
done
fail() { echo "image_test: FAIL: $*" >&2; exit 1; }
say() { echo "image_test: $*"; }
[[ -d "$LAYOUT" && -x "$SCANGATE" ]] || fail "usage: image_test.sh --layout DIR --scangate BIN [--db FILE]"
for tool in docker-registry skopeo umoci python3 curl; do
  command -v "$tool" >/dev/null || fail "'$tool' is missing (scripts/setup installs it)"
done
TESTDATA="${SCANGATE_TESTDATA:-$ROOT/tests/data}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/scangate-image-test.XXXXXX")"
REG_PID=""
cleanup() {
  if [[ -n "$REG_PID" ]]; then kill "$REG_PID" 2>/dev/null || true; wait "$REG_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# ---------------------------------------------------------------- 1. the image's configuration
say "1. image configuration"
skopeo inspect --config "oci:$LAYOUT:latest" >"$WORK/config.json" || fail "no image tagged latest in $LAYOUT"
umoci unpack --image "$LAYOUT:latest" "$WORK/bundle" >/dev/null 2>&1 ||
  umoci unpack --rootless --image "$LAYOUT:latest" "$WORK/bundle" >/dev/null || fail "umoci unpack"
RFS="$WORK/bundle/rootfs"
python3 - "$WORK/config.json" "$RFS" <<'PY' || fail "the image's configuration"
import json, os, stat, sys
cfg = json.load(open(sys.argv[1]))["config"]
rfs = sys.argv[2]
bad = []
def want(cond, msg):
    if not cond:
        bad.append(msg)
want(cfg.get("User") in ("65532", "65532:65532"), f"User is {cfg.get('User')!r}, not 65532")
want(cfg.get("Entrypoint") == ["scangate-webhook"], f"Entrypoint is {cfg.get('Entrypoint')!r}")
env = dict(e.split("=", 1) for e in cfg.get("Env", []))
want(env.get("HOME") == "/tmp", f"HOME is {env.get('HOME')!r}, not /tmp")
want("/tmp" in (cfg.get("Volumes") or {}), "/tmp is not a volume (HOME must stay writable under a read-only root)")
st = os.lstat(os.path.join(rfs, "tmp"))
want(stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o1777, "/tmp is not a 1777 directory")
path = env.get("PATH", "").split(":")
for b in ("scangate", "scangate-webhook"):
    want(any(os.access(os.path.join(rfs, d.lstrip("/"), b), os.X_OK) for d in path), f"{b} is not on PATH {path}")
# no shell, no package manager, nothing else to execute
for name in ("sh", "bash", "dash", "busybox", "apt", "apt-get", "dpkg", "apk", "ldconfig", "ldd"):
    for d in ("bin", "usr/bin", "sbin", "usr/sbin", "usr/local/bin"):
        p = os.path.join(rfs, d, name)
        want(not os.path.lexists(p), f"/{d}/{name} is in the image")
execs = []
for dirpath, dirs, files in os.walk(rfs):
    for f in files:
        p = os.path.join(dirpath, f)
        if os.path.isfile(p) and not os.path.islink(p) and os.stat(p).st_mode & 0o111 and ".so" not in f:
            execs.append("/" + os.path.relpath(p, rfs))
want(sorted(execs) == ["/usr/bin/scangate", "/usr/bin/scangate-webhook"] or
     all(e.startswith(("/usr/bin/scangate", "/lib", "/usr/lib")) for e in execs),
     f"executables other than the two binaries: {sorted(execs)}")
want(os.path.getsize(os.path.join(rfs, "etc/ssl/certs/ca-certificates.crt")) > 100000, "no CA bundle")
for d in ("home/nonroot", "var/lib/scangate/db", "var/lib/scangate/spool"):
    s = os.stat(os.path.join(rfs, d))
    want(s.st_uid == 65532 or os.getuid() != 0, f"/{d} is not owned by 65532")
if bad:
    print("\n".join("  " + b for b in bad), file=sys.stderr)
    sys.exit(1)
print(f"  user 65532, entrypoint scangate-webhook, HOME=/tmp (volume), executables: {sorted(execs)}")
PY

# The Dockerfile's final stage says the same (the two recipes stay in step).
python3 - "$ROOT/Dockerfile" "$WORK/config.json" <<'PY' || fail "Dockerfile and scripts/build-image disagree"
import json, re, shlex, sys
text = open(sys.argv[1]).read().replace("\\\n", " ")
final = text[text.rindex("\nFROM "):]
cfg = json.load(open(sys.argv[2]))["config"]
df = {"env": {}}
for line in final.splitlines():
    m = re.match(r"^(USER|ENV|VOLUME|ENTRYPOINT|WORKDIR)\s+(.*)$", line.strip())
    if not m:
        continue
    key, val = m.groups()
    if key == "ENV":
        for kv in shlex.split(val):
            k, v = kv.split("=", 1)
            df["env"][k] = v
    elif key in ("VOLUME", "ENTRYPOINT"):
        df[key] = json.loads(val)
    else:
        df[key] = val
env = dict(e.split("=", 1) for e in cfg.get("Env", []))
bad = []
if df.get("USER") != cfg.get("User"):
    bad.append(f"USER {df.get('USER')} vs {cfg.get('User')}")
if df.get("ENTRYPOINT") != cfg.get("Entrypoint"):
    bad.append(f"ENTRYPOINT {df.get('ENTRYPOINT')} vs {cfg.get('Entrypoint')}")
if df["env"] != env:
    bad.append(f"ENV {df['env']} vs {env}")
if set(df.get("VOLUME", [])) != set((cfg.get("Volumes") or {}).keys()):
    bad.append(f"VOLUME {df.get('VOLUME')} vs {list((cfg.get('Volumes') or {}).keys())}")
if df.get("WORKDIR", "/") != (cfg.get("WorkingDir") or "/"):
    bad.append(f"WORKDIR {df.get('WORKDIR')} vs {cfg.get('WorkingDir')}")
if "scripts/image/assemble-rootfs" not in text:
    bad.append("the Dockerfile does not assemble the runtime with scripts/image/assemble-rootfs")
if bad:
    sys.exit("  " + "\n  ".join(bad))
print("  the Dockerfile's USER, ENV, VOLUME, WORKDIR and ENTRYPOINT match the layout's config")
PY

# run CMD... inside the unpacked image as user 65532
in_image() {
  if [[ "$(id -u)" == 0 ]]; then
    chroot --userspec=65532:65532 "$RFS" "$@"
  else
    unshare --map-root-user chroot "$RFS" "$@"
  fi
}
in_image /usr/bin/scangate version >/dev/null || fail "scangate does not run in the image"

# ---------------------------------------------------------------- 2. push and scan (dogfood)
say "2. push to a loopback registry and scan under the chart's default policy"
PORT="$(python3 "$ROOT/tests/fixtures/fixture_tool.py" freeport)"
mkdir -p "$WORK/registry"
cat >"$WORK/registry/config.yml" <<YAML
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $WORK/registry/storage}}
http: {addr: 127.0.0.1:$PORT}
YAML
env -i PATH="$PATH" HOME="$WORK" docker-registry serve "$WORK/registry/config.yml" >"$WORK/registry.log" 2>&1 &
REG_PID=$!
for _ in $(seq 200); do
  curl -sf -o /dev/null "http://127.0.0.1:$PORT/v2/" && break
  kill -0 "$REG_PID" 2>/dev/null || { cat "$WORK/registry.log" >&2; fail "docker-registry did not start"; }
  sleep 0.05
done
REG="127.0.0.1:$PORT"
REPO="$REG/scangate/scangate"
skopeo --insecure-policy copy -q --dest-tls-verify=false --digestfile "$WORK/digest" \
  "oci:$LAYOUT:latest" "docker://$REPO:ci" || fail "skopeo could not push the image"
DIGEST="$(cat "$WORK/digest")"
[[ "$DIGEST" =~ ^sha256:[0-9a-f]{64}$ ]] || fail "bad digest '$DIGEST'"
say "   pushed $REPO@$DIGEST"

HELM="$("$ROOT/scripts/get-helm")" || fail "scripts/get-helm could not provide helm"
export HELM_CONFIG_HOME="$WORK/helm/config" HELM_CACHE_HOME="$WORK/helm/cache" HELM_DATA_HOME="$WORK/helm/data"
export KUBECONFIG="$WORK/no-kubeconfig"
"$HELM" template sg "$ROOT/charts/scangate" --namespace gate >"$WORK/default.yaml" || fail "helm template (defaults)"
python3 - "$WORK/default.yaml" "$WORK/policy.yaml" <<'PY' || fail "no policy ConfigMap in the default render"
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d.get("kind") == "ConfigMap" and "policy.yaml" in (d.get("data") or {}):
        open(sys.argv[2], "w").write(d["data"]["policy.yaml"])
        sys.exit(0)
sys.exit(1)
PY
"$SCANGATE" policy check "$WORK/policy.yaml" >/dev/null || fail "the chart's default policy does not pass policy check"

if [[ -z "$DB" ]]; then
  DB="$WORK/db.sqlite"
  DB_ARGS=()
  for f in "$TESTDATA"/scenario/secdb/*-main.json; do DB_ARGS+=(--alpine-secdb "$f"); done
  for f in "$TESTDATA"/vulndb/debian-tracker/*.json; do [[ -e "$f" ]] && DB_ARGS+=(--debian-tracker "$f"); done
  [[ -d "$TESTDATA/vulndb/osv-pypi" ]] && DB_ARGS+=(--osv "$TESTDATA/vulndb/osv-pypi")
  [[ -d "$TESTDATA/vulndb/osv-npm" ]] && DB_ARGS+=(--osv "$TESTDATA/vulndb/osv-npm")
  DB_ARGS+=(--nvd "$TESTDATA/scenario/nvd/nvdcve-2.0-scenario.json")
  "$SCANGATE" db build --quiet --output "$DB" "${DB_ARGS[@]}" >/dev/null || fail "scangate db build"
fi
"$SCANGATE" db info --db "$DB" | sed 's/^/   db: /'

rc=0
"$SCANGATE" image --quiet --db "$DB" --policy "$WORK/policy.yaml" --insecure-registry "$REG" \
  --format json --output "$WORK/report.json" "$REPO@$DIGEST" >"$WORK/scan.out" 2>&1 || rc=$?
"$SCANGATE" image --quiet --scanners pkg --insecure-registry "$REG" --format cyclonedx \
  --output "$WORK/sbom.json" "$REPO@$DIGEST" || fail "inventory of the image"
python3 - "$WORK/report.json" "$WORK/sbom.json" <<'PY'
import json, sys, collections
rep = json.load(open(sys.argv[1]))
bom = json.load(open(sys.argv[2]))
pk = [c for c in bom.get("components", []) if c.get("purl", "").startswith("pkg:deb/")]
sev = collections.Counter()
secrets = 0
for r in rep.get("Results", []):
    for v in r.get("Vulnerabilities") or []:
        sev[v.get("Severity", "UNKNOWN")] += 1
    secrets += len(r.get("Secrets") or [])
os_ = rep.get("Metadata", {}).get("OS", {})
print(f"   findings: OS {os_.get('Family')} {os_.get('Name')}; {len(pk)} Debian packages; "
      f"vulnerabilities {dict(sev) or 'none'}; secrets {secrets}")
for c in pk:
    print(f"     {c['purl'].split('?')[0]}")
PY
if [[ -n "$REPORT_DIR" ]]; then mkdir -p "$REPORT_DIR" && cp "$WORK/report.json" "$WORK/sbom.json" "$WORK/policy.yaml" "$REPORT_DIR/"; fi
((rc == 0)) || { cat "$WORK/scan.out" >&2; fail "scangate image denied its own image (exit $rc)"; }
say "   the scan passes the chart's default policy (exit 0)"

# ---------------------------------------------------------------- 3. the chart with the digest
say "3. the chart rendered with image.digest; the Deployment's args run in the image"
# values-full.yaml turns every optional part on (CSPM, registry credentials, the DB CronJob, ...);
# the image's repository and digest are set after it.
"$HELM" template sg "$ROOT/charts/scangate" --namespace gate -f "$HERE/values-full.yaml" --set "image.repository=$REPO" \
  --set "image.digest=$DIGEST" \
  >"$WORK/digest.yaml" 2>"$WORK/digest.err" || { cat "$WORK/digest.err" >&2; fail "helm template with image.digest"; }
python3 - "$WORK/digest.yaml" "$REPO@$DIGEST" "$WORK/webhook-argv" <<'PY' || fail "the render with image.digest"
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
want = sys.argv[2]
images, argv = [], None
def pod_specs(d):
    spec = d.get("spec", {})
    if d["kind"] == "Deployment":
        yield spec["template"]["spec"]
    elif d["kind"] == "CronJob":
        yield spec["jobTemplate"]["spec"]["template"]["spec"]
for d in docs:
    for ps in pod_specs(d):
        for c in ps.get("initContainers", []) + ps.get("containers", []):
            images.append((d["kind"], c["name"], c["image"]))
            if d["kind"] == "Deployment" and c["name"] == "webhook":
                argv = c["command"] + c.get("args", [])
wrong = [i for i in images if i[2] != want]
if not images or wrong:
    sys.exit(f"containers not running {want}: {wrong or 'none rendered'}")
if not argv or argv[0] != "scangate-webhook":
    sys.exit(f"the webhook container's command is {argv}")
open(sys.argv[3], "w").write("\0".join(argv))
print(f"   {len(images)} containers run {want}")
print("   webhook: " + " ".join(argv))
PY
mapfile -d '' -t ARGV <"$WORK/webhook-argv"
out="$(in_image "${ARGV[@]}" --help 2>&1)" || { echo "$out" >&2; fail "scangate-webhook rejects the chart's args"; }
grep -q '^Usage: scangate-webhook' <<<"$out" || fail "scangate-webhook --help printed no usage: $out"
# the control: a flag the webhook does not have fails before --help, so the pass above means something
if in_image "${ARGV[@]}" --no-such-flag --help >/dev/null 2>&1; then
  fail "scangate-webhook accepted --no-such-flag before --help: the args check proves nothing"
fi
say "   every flag of the chart's Deployment exists in the image's scangate-webhook"
say "ok"
