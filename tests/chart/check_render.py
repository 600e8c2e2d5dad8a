#!/usr/bin/env python3
"""Assertions over the chart renders that tests/chart/render_test.sh writes into one directory.

  check_render.py extract-secret RENDER.yaml OUT.json [--strip-labels]   the TLS Secret of a render
  check_render.py check DIR --values VALUES.yaml [--webhook BIN --scangate BIN --testdata DIR]

Expected values come from the chart's contract (the webhook's flags and paths, the Kubernetes
API, the issue's list of resources), from values.yaml read independently, and from openssl;
never from a previous render.
"""
import argparse
import base64
import copy
import hashlib
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

import yaml

REL = "sg"
NS = "gate"
FULL = "sg-scangate"

# Kinds the chart may render, with the only apiVersion each may have.
API_VERSIONS = {
    "Namespace": "v1", "ServiceAccount": "v1", "ConfigMap": "v1", "Secret": "v1", "Service": "v1",
    "PersistentVolumeClaim": "v1", "Deployment": "apps/v1", "PodDisruptionBudget": "policy/v1",
    "CronJob": "batch/v1", "NetworkPolicy": "networking.k8s.io/v1",
    "ValidatingWebhookConfiguration": "admissionregistration.k8s.io/v1",
    "MutatingWebhookConfiguration": "admissionregistration.k8s.io/v1",
    "Certificate": "cert-manager.io/v1", "Issuer": "cert-manager.io/v1",
    "ServiceMonitor": "monitoring.coreos.com/v1",
    "ClusterRole": "rbac.authorization.k8s.io/v1", "ClusterRoleBinding": "rbac.authorization.k8s.io/v1",
    "Role": "rbac.authorization.k8s.io/v1", "RoleBinding": "rbac.authorization.k8s.io/v1", "Pod": "v1",
}
CLUSTER_SCOPED = {"Namespace", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "ClusterRole",
                  "ClusterRoleBinding"}
# The test hook's default image: a registry that cannot exist (RFC 2606 .invalid), pinned by digest.
PROBE_IMAGE_HOST_SUFFIX = ".invalid"
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")

# What the webhook must see: (apiGroup, resource) -> operations (the issue's list).
EXPECTED_RULES = {
    ("", "pods"): {"CREATE", "UPDATE"},
    ("", "pods/ephemeralcontainers"): {"UPDATE"},
    ("", "replicationcontrollers"): {"CREATE", "UPDATE"},
    ("", "podtemplates"): {"CREATE", "UPDATE"},
    ("apps", "deployments"): {"CREATE", "UPDATE"},
    ("apps", "replicasets"): {"CREATE", "UPDATE"},
    ("apps", "statefulsets"): {"CREATE", "UPDATE"},
    ("apps", "daemonsets"): {"CREATE", "UPDATE"},
    ("batch", "jobs"): {"CREATE", "UPDATE"},
    ("batch", "cronjobs"): {"CREATE", "UPDATE"},
}


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = []
        self.scope = ""

    def ok(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed.append(f"[{self.scope}] {what}")
            print(f"FAIL [{self.scope}] {what}", file=sys.stderr)
        return cond

    def eq(self, got, want, what):
        return self.ok(got == want, f"{what}: got {got!r}, want {want!r}")


C = Checks()


def load(path):
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    return docs


def find(docs, kind, name=None):
    return [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


def one(docs, kind, name=None):
    found = find(docs, kind, name)
    C.eq(len(found), 1, f"number of {kind} objects" + (f" named {name}" if name else ""))
    return found[0] if found else {}


def is_test_hook(d):
    return (d["metadata"].get("annotations") or {}).get("helm.sh/hook") == "test"


def installed(docs):
    """What `helm install` creates (the `helm test` hook's objects are made by `helm test`)."""
    return [d for d in docs if not is_test_hook(d)]


def registration_mode(docs):
    return "chart" if find(docs, "ValidatingWebhookConfiguration") else "pod"


# The configuration files of webhook.registration=pod: kind -> (key in the registration ConfigMap,
# the flag that names it, its resource).
PUBLISHED = {
    "ValidatingWebhookConfiguration": ("webhook.json", "publish-webhook-config", "validatingwebhookconfigurations"),
    "MutatingWebhookConfiguration": ("mutating-webhook.json", "publish-mutating-webhook-config",
                                     "mutatingwebhookconfigurations"),
}


def published_vwc(docs, full, kind="ValidatingWebhookConfiguration"):
    """The ValidatingWebhookConfiguration (or `kind`) the cluster gets: the chart's resource
    (webhook.registration=chart), or the JSON the webhook applies once Ready (=pod)."""
    if registration_mode(docs) == "chart":
        return one(docs, kind)
    cm = one(docs, "ConfigMap", f"{full}-registration")
    return json.loads(cm.get("data", {}).get(PUBLISHED[kind][0], "{}"))


def effective_ca_bundle(docs, full):
    """The caBundle the API server ends up trusting: the chart's (registration=chart), or base64 of
    the file the webhook reads with --publish-ca-file (=pod), resolved through the Deployment's
    volumes; None when that file comes from a Secret the chart does not render (cert-manager)."""
    if registration_mode(docs) == "chart":
        return one(docs, "ValidatingWebhookConfiguration")["webhooks"][0]["clientConfig"].get("caBundle")
    dep = one(docs, "Deployment", full)
    spec = dep["spec"]["template"]["spec"]
    c = webhook_container(dep)
    path = parse_args(c["args"]).get("publish-ca-file", [""])[0]
    vol, _, rel = volume_for(path, c, spec)
    if vol is None:
        return None
    if "configMap" in vol:
        return base64.b64encode(one(docs, "ConfigMap", vol["configMap"]["name"])["data"][rel].encode()).decode()
    secrets = find(docs, "Secret", vol["secret"]["secretName"])
    return secrets[0]["data"].get(secret_item_key(vol, rel)) if secrets else None


def parse_args(args):
    """['--a=b', '--c', 'd'] -> {'a': ['b'], 'c': ['d']}"""
    out = {}
    i = 0
    while i < len(args):
        a = args[i]
        assert a.startswith("--"), a
        if "=" in a:
            k, v = a[2:].split("=", 1)
        else:
            k, v = a[2:], args[i + 1]
            i += 1
        out.setdefault(k, []).append(v)
        i += 1
    return out


def pod_spec(workload):
    if workload["kind"] == "CronJob":
        return workload["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return workload["spec"]["template"]["spec"]


def volume_for(path, container, spec):
    """The (volume, mount, path inside the volume) that serves `path` in `container`."""
    best = None
    for m in container.get("volumeMounts", []):
        mp = m["mountPath"].rstrip("/")
        if path.startswith(mp + "/") and (best is None or len(mp) > len(best["mountPath"])):
            best = m
    if best is None:
        return None, None, None
    vols = [v for v in spec["volumes"] if v["name"] == best["name"]]
    rel = path[len(best["mountPath"].rstrip("/")) + 1:]
    return (vols[0] if vols else None), best, rel


def secret_item_key(vol, rel):
    items = vol["secret"].get("items")
    if not items:
        return rel
    keys = [it["key"] for it in items if it["path"] == rel]
    return keys[0] if keys else None


# --- checks common to every render ----------------------------------------------------------

def check_objects(docs, ns):
    for d in docs:
        kind = d.get("kind")
        name = d.get("metadata", {}).get("name", "")
        C.ok(kind in API_VERSIONS, f"{kind} {name} is a kind the chart is meant to render")
        C.eq(d.get("apiVersion"), API_VERSIONS.get(kind), f"apiVersion of {kind} {name}")
        C.ok(DNS1123_SUBDOMAIN.match(name) and len(name) <= 253, f"{kind} name {name!r} is a DNS-1123 subdomain")
        if kind in ("Service", "Namespace"):
            C.ok(DNS1123_LABEL.match(name) and len(name) <= 63, f"{kind} name {name!r} is a DNS-1123 label")
        if kind in CLUSTER_SCOPED:
            C.ok("namespace" not in d["metadata"], f"cluster-scoped {kind} {name} has no namespace")
        elif kind == "ServiceMonitor":
            pass
        elif is_test_hook(d) and kind in ("Role", "RoleBinding"):
            C.ok(bool(d["metadata"].get("namespace")), f"{kind} {name} names the test namespace")
        else:
            C.eq(d["metadata"].get("namespace"), ns, f"namespace of {kind} {name}")
    keys = [(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]) for d in docs]
    C.eq(len(keys), len(set(keys)), "no object is rendered twice")


def check_security(spec, what, token=False):
    psc = spec.get("securityContext", {})
    C.eq(psc.get("runAsNonRoot"), True, f"{what}: pod runAsNonRoot")
    C.eq(psc.get("seccompProfile", {}).get("type"), "RuntimeDefault", f"{what}: pod seccompProfile")
    for c in spec.get("initContainers", []) + spec["containers"]:
        sc = c.get("securityContext", {})
        n = f"{what}: container {c['name']}"
        C.eq(sc.get("runAsNonRoot"), True, f"{n} runAsNonRoot")
        C.eq(sc.get("readOnlyRootFilesystem"), True, f"{n} readOnlyRootFilesystem")
        C.eq(sc.get("allowPrivilegeEscalation"), False, f"{n} allowPrivilegeEscalation")
        C.eq(sc.get("capabilities", {}).get("drop"), ["ALL"], f"{n} drops ALL capabilities")
        C.ok(not sc.get("capabilities", {}).get("add"), f"{n} adds no capability")
        C.eq(sc.get("seccompProfile", {}).get("type"), "RuntimeDefault", f"{n} seccompProfile")
        C.ok(not sc.get("privileged"), f"{n} is not privileged")
    C.eq(spec.get("automountServiceAccountToken"), token, f"{what}: API token mounted: {token}")


def webhook_container(dep):
    cs = [c for c in dep["spec"]["template"]["spec"]["containers"] if c["name"] == "webhook"]
    C.eq(len(cs), 1, "one container named webhook")
    return cs[0]


def check_vwc(docs, ns, full, exclude, failure="Fail", timeout=10):
    vwc = published_vwc(docs, full)
    h = check_webhook(vwc, ns, full, exclude, "/validate", failure, timeout)
    C.eq(h.get("sideEffects"), "NoneOnDryRun", "sideEffects")
    return vwc, h


def check_mwc(docs, ns, full, exclude, failure="Ignore", timeout=10):
    """webhook.pinDigests: the MutatingWebhookConfiguration of digest pinning. Its scope is the
    gate's, to the letter: a Pod is pinned exactly where it is gated."""
    C.ok(bool(find(docs, "MutatingWebhookConfiguration")) == (registration_mode(docs) == "chart"),
         "a MutatingWebhookConfiguration resource exactly in registration=chart")
    mwc = published_vwc(docs, full, "MutatingWebhookConfiguration")
    C.eq((mwc.get("apiVersion"), mwc.get("kind")), ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration"),
         "the pinning configuration's apiVersion and kind")
    C.eq(mwc.get("metadata", {}).get("name"), full, "the pinning configuration's name")
    h = check_webhook(mwc, ns, full, exclude, "/mutate", failure, timeout)
    C.eq(h.get("sideEffects"), "None", "pinning: sideEffects None")
    C.eq(h.get("reinvocationPolicy"), "IfNeeded", "pinning: reinvocationPolicy IfNeeded (sidecar injectors)")
    vh = published_vwc(docs, full)["webhooks"][0]
    C.ok(h["name"] != vh["name"], "the two webhooks have their own names")
    for field in ("namespaceSelector", "objectSelector", "rules", "matchConditions", "admissionReviewVersions"):
        C.eq(h.get(field), vh.get(field), f"pinning: {field} is the gate's")
    C.eq({k: v for k, v in h["clientConfig"].items() if k != "service"},
         {k: v for k, v in vh["clientConfig"].items() if k != "service"}, "pinning: the gate's caBundle")
    return mwc, h


def check_webhook(cfg, ns, full, exclude, path, failure, timeout):
    hooks = cfg.get("webhooks", [])
    C.eq(len(hooks), 1, "webhooks in the configuration")
    h = hooks[0] if hooks else {"clientConfig": {}, "rules": []}
    C.ok(h.get("name", "").count(".") >= 2, f"webhook name {h.get('name')} is fully qualified")
    C.eq(h.get("admissionReviewVersions"), ["v1", "v1beta1"], "admissionReviewVersions")
    C.eq(h.get("matchPolicy"), "Equivalent", "matchPolicy")
    C.eq(h.get("failurePolicy"), failure, "failurePolicy")
    C.eq(h.get("timeoutSeconds"), timeout, "timeoutSeconds")
    svc = h["clientConfig"].get("service", {})
    C.eq(svc.get("name"), full, "clientConfig.service.name")
    C.eq(svc.get("namespace"), ns, "clientConfig.service.namespace")
    C.eq(svc.get("path"), path, "clientConfig.service.path")
    C.ok("url" not in h["clientConfig"], "clientConfig uses the Service, not a URL")
    # Rules: exactly the issue's resources and operations, each namespaced and on v1.
    got = {}
    for r in h["rules"]:
        C.eq(r.get("apiVersions"), ["v1"], f"apiVersions of rule {r['resources']}")
        C.eq(r.get("scope"), "Namespaced", f"scope of rule {r['resources']}")
        for g in r["apiGroups"]:
            for res in r["resources"]:
                got.setdefault((g, res), set()).update(r["operations"])
    C.eq(got, EXPECTED_RULES, "rules (group, resource) -> operations")
    # namespaceSelector keeps the release namespace and the exclusions away.
    exprs = h.get("namespaceSelector", {}).get("matchExpressions", [])
    names = [e for e in exprs if e["key"] == "kubernetes.io/metadata.name" and e["operator"] == "NotIn"]
    C.eq(len(names), 1, "one NotIn expression on kubernetes.io/metadata.name")
    if names:
        C.eq(set(names[0]["values"]), {ns} | set(exclude), "namespaces excluded by the namespaceSelector")
    return h


def check_deployment(docs, ns, full, replicas):
    dep = one(docs, "Deployment", full)
    spec = dep["spec"]["template"]["spec"]
    C.eq(dep["spec"]["replicas"], replicas, "replicas")
    # The API token is mounted only for what calls the API: self-registration, pods' pull secrets.
    pulls = "--pod-pull-secrets=true" in webhook_container(dep).get("args", [])
    check_security(spec, "Deployment", token=registration_mode(docs) == "pod" or pulls)
    c = webhook_container(dep)
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    C.eq(ports.get("https"), 8443, "https containerPort")
    C.ok("metrics" in ports and ports["metrics"] != 8443, "metrics containerPort is separate from 8443")
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        g = c.get(probe, {}).get("httpGet", {})
        C.eq((g.get("path"), g.get("scheme"), g.get("port")), (path, "HTTPS", "https"), probe)
    args = parse_args(c["args"])
    C.eq(args.get("listen"), [":8443"], "--listen")
    C.eq(args.get("metrics-listen"), [f":{ports.get('metrics')}"], "--metrics-listen matches the metrics port")
    for flag in ("tls-cert-file", "tls-private-key-file", "policy", "db", "config"):
        C.ok(flag in args and len(args[flag]) == 1, f"--{flag} given once")
    # Each path flag lands in a mounted volume that holds it.
    tls_vol, _, rel = volume_for(args["tls-cert-file"][0], c, spec)
    C.ok(tls_vol is not None and "secret" in tls_vol, "--tls-cert-file is in a mounted Secret")
    if tls_vol:
        C.eq(secret_item_key(tls_vol, rel), "tls.crt", "--tls-cert-file is the Secret's tls.crt")
    key_vol, _, rel = volume_for(args["tls-private-key-file"][0], c, spec)
    C.ok(key_vol is tls_vol, "cert and key come from one Secret")
    if key_vol:
        C.eq(secret_item_key(key_vol, rel), "tls.key", "--tls-private-key-file is the Secret's tls.key")
    pol_vol, pol_mount, rel = volume_for(args["policy"][0], c, spec)
    C.ok(pol_vol is not None and "configMap" in pol_vol, "--policy is in a mounted ConfigMap")
    if pol_vol:
        C.ok("subPath" not in pol_mount, "the policy ConfigMap is mounted as a directory (no subPath)")
        C.ok(pol_mount.get("readOnly"), "the policy mount is read-only")
        cm = one(docs, "ConfigMap", pol_vol["configMap"]["name"])
        C.ok(rel in cm.get("data", {}), f"the policy ConfigMap has the key {rel}")
    cfg_vol, _, rel = volume_for(args["config"][0], c, spec)
    C.ok(cfg_vol is not None and "configMap" in cfg_vol, "--config is in a mounted ConfigMap")
    if cfg_vol:
        cm = one(docs, "ConfigMap", cfg_vol["configMap"]["name"])
        C.ok(rel in cm.get("data", {}), f"the config ConfigMap has the key {rel}")
    db_vol, db_mount, _ = volume_for(args["db"][0], c, spec)
    C.ok(db_vol is not None, "--db is in a mounted volume")
    C.ok(db_mount is not None and not db_mount.get("readOnly"), "the DB volume is writable")
    mounted = {m["mountPath"] for m in c["volumeMounts"]}
    C.ok("/tmp" in mounted, "a writable /tmp with the read-only root filesystem")
    # Soft anti-affinity by default.
    aff = spec.get("affinity", {}).get("podAntiAffinity", {})
    C.ok(bool(aff.get("preferredDuringSchedulingIgnoredDuringExecution")), "soft pod anti-affinity")
    C.ok(not aff.get("requiredDuringSchedulingIgnoredDuringExecution"), "no hard pod anti-affinity")
    # Annotations: the config checksum (the config is read at start), no policy checksum.
    ann = dep["spec"]["template"]["metadata"].get("annotations", {})
    # (and the attestation keys', also read at start, when there are any)
    C.eq(sorted(k for k in ann if k.startswith("checksum/") and k != "checksum/attestation-keys"), ["checksum/config"],
         "checksum annotations")
    C.ok("checksum/policy" not in ann, "no policy checksum: the policy is reloaded live")
    if cfg_vol:
        cm = one(docs, "ConfigMap", cfg_vol["configMap"]["name"])
        text = cm["data"][rel]
        C.eq(ann.get("checksum/config"), hashlib.sha256(text.rstrip("\n").encode()).hexdigest(),
             "checksum/config is the sha256 of the config file")
    # Selectors: the Services and the PDB select the pods.
    labels = dep["spec"]["template"]["metadata"]["labels"]
    for sel_kind in ("Service", "PodDisruptionBudget"):
        for o in find(docs, sel_kind):
            sel = o["spec"]["selector"]
            sel = sel.get("matchLabels", sel)
            C.ok(all(labels.get(k) == v for k, v in sel.items()), f"{sel_kind} {o['metadata']['name']} selects the pods")
    C.ok(all(labels.get(k) == v for k, v in dep["spec"]["selector"]["matchLabels"].items()),
         "the Deployment's selector matches its pod labels")
    return dep, c, args


def check_services(docs, full, dep_container):
    ports = {p["name"]: p["containerPort"] for p in dep_container["ports"]}
    svc = one(docs, "Service", full)
    sp = svc["spec"]["ports"]
    C.eq([(p["port"], p["targetPort"]) for p in sp], [(443, "https")], "webhook Service port 443 -> https")
    msvc = one(docs, "Service", f"{full}-metrics")
    mp = msvc["spec"]["ports"]
    C.eq([(p["name"], p["port"], p["targetPort"]) for p in mp], [("metrics", ports.get("metrics"), "metrics")],
         "metrics Service port")
    return svc, msvc


def check_db_update(container, db_path):
    C.eq(container["command"], ["scangate"], "db update runs the scangate CLI")
    a = container["args"]
    C.eq(a[:2], ["db", "update"], "db update subcommand")
    C.ok(f"--db={db_path}" in a, "db update writes the DB the webhook reads")


def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, capture_output=True, text=True)


def rule_set(rules):
    return {(tuple(r.get("apiGroups", [])), tuple(r.get("resources", [])), tuple(r.get("resourceNames", [])),
             tuple(sorted(r.get("verbs", [])))) for r in rules}


def check_registration(docs, ns, full, chart_render=None, pin=False):
    """webhook.registration=pod: the webhook applies the configuration itself (and with
    webhook.pinDigests, `pin`, the pinning one too); compare with the same values rendered with
    registration=chart (`chart_render`)."""
    role_name = f"{full}-webhook-registration"
    kinds = ["ValidatingWebhookConfiguration"] + (["MutatingWebhookConfiguration"] if pin else [])
    dep = one(docs, "Deployment", full)
    spec = dep["spec"]["template"]["spec"]
    c = webhook_container(dep)
    args = parse_args(c["args"])
    for flag in ("publish-webhook-config", "publish-ca-file", "webhook-owner-clusterrole"):
        C.eq(len(args.get(flag, [])), 1, f"--{flag} given once")
    C.eq(len(args.get("publish-mutating-webhook-config", [])), 1 if pin else 0,
         f"--publish-mutating-webhook-config given {'once' if pin else 'never'}")
    published = {}
    for kind in kinds:
        key, flag, _ = PUBLISHED[kind]
        C.eq(find(docs, kind), [], f"registration=pod: no {kind} resource (the webhook applies it once Ready)")
        cfg_vol, cfg_mount, rel = volume_for(args.get(flag, [""])[0], c, spec)
        C.ok(cfg_vol is not None and "configMap" in cfg_vol, f"--{flag} is in a mounted ConfigMap")
        cfg = {}
        if cfg_vol:
            C.ok("subPath" not in cfg_mount, "the registration ConfigMap is mounted as a directory (updates arrive)")
            C.eq(rel, key, f"--{flag} is the ConfigMap's {key}")
            cm = one(docs, "ConfigMap", cfg_vol["configMap"]["name"])
            cfg = json.loads(cm.get("data", {}).get(rel, "{}"))
        C.eq((cfg.get("apiVersion"), cfg.get("kind")), ("admissionregistration.k8s.io/v1", kind),
             f"the published JSON is a {kind}")
        C.eq(cfg.get("metadata", {}).get("name"), full, "the published configuration's name")
        C.ok(all("caBundle" not in h["clientConfig"] for h in cfg.get("webhooks", [])),
             "no caBundle in the published JSON (the webhook fills it from --publish-ca-file)")
        C.ok("cert-manager.io/inject-ca-from" not in cfg.get("metadata", {}).get("annotations", {}),
             "no inject-ca-from: the webhook writes the caBundle, cert-manager's injector must not fight it")
        published[kind] = cfg
    if not pin:
        cm = find(docs, "ConfigMap", f"{full}-registration")
        C.ok(bool(cm) and "mutating-webhook.json" not in cm[0].get("data", {}),
             "without webhook.pinDigests no pinning configuration is published")
    ca_vol, ca_mount, ca_rel = volume_for(args.get("publish-ca-file", [""])[0], c, spec)
    C.ok(ca_vol is not None, "--publish-ca-file is in a mounted volume")
    if ca_vol and "secret" in ca_vol:
        tls_vol, _, _ = volume_for(args["tls-cert-file"][0], c, spec)
        C.ok(ca_vol is tls_vol, "--publish-ca-file comes from the serving certificate's Secret")
        C.eq(secret_item_key(ca_vol, ca_rel), "ca.crt", "--publish-ca-file is the Secret's ca.crt")
    C.eq(args.get("webhook-owner-clusterrole"), [role_name], "--webhook-owner-clusterrole names the chart's ClusterRole")
    role = one(docs, "ClusterRole", role_name)
    C.eq(len(role.get("rules", [])), 3, "three ClusterRole rules")
    resources = tuple(PUBLISHED[k][2] for k in kinds)
    C.eq(rule_set(role.get("rules", [])), {
        (("admissionregistration.k8s.io",), resources, (full,), ("get", "patch", "update")),
        # create cannot be restricted by resourceNames in Kubernetes
        (("admissionregistration.k8s.io",), resources, (), ("create",)),
        (("rbac.authorization.k8s.io",), ("clusterroles",), (role_name,), ("get",)),
    }, "ClusterRole rules: these configurations by name, create, and get on itself")
    crb = one(docs, "ClusterRoleBinding", role_name)
    C.eq(crb.get("roleRef"), {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role_name},
         "the ClusterRoleBinding binds the ClusterRole")
    C.eq(crb.get("subjects"), [{"kind": "ServiceAccount", "name": spec.get("serviceAccountName"), "namespace": ns}],
         "the ClusterRoleBinding's subject is the webhook pods' ServiceAccount")
    if chart_render is not None:
        C.eq(find(chart_render, "ClusterRole") + find(chart_render, "ClusterRoleBinding"), [],
             "registration=chart: no RBAC")
        C.eq(find(chart_render, "ConfigMap", f"{full}-registration"), [], "registration=chart: no registration ConfigMap")
        cdep = one(chart_render, "Deployment", full)
        cargs = parse_args(webhook_container(cdep)["args"])
        C.ok(not any(k.startswith("publish-") or k == "webhook-owner-clusterrole" for k in cargs),
             "registration=chart: no --publish-* flags")
        C.eq(cdep["spec"]["template"]["spec"].get("automountServiceAccountToken"), False,
             "registration=chart: no API token")
        for kind in kinds:
            want = copy.deepcopy(one(chart_render, kind))
            for h in want.get("webhooks", []):
                h["clientConfig"].pop("caBundle", None)
            ann = want["metadata"].get("annotations", {})
            ann.pop("cert-manager.io/inject-ca-from", None)
            if not ann:
                want["metadata"].pop("annotations", None)
            C.eq(published[kind], want,
                 f"the published {kind} is what registration=chart renders as a resource, minus the caBundle")
    return published["ValidatingWebhookConfiguration"]


def check_test_hook(docs, ns, full, tests_ns="default", image=None):
    hooks = [d for d in docs if is_test_hook(d)]
    C.eq(sorted(d["kind"] for d in hooks), ["Pod", "Role", "RoleBinding", "ServiceAccount"], "helm test hook objects")
    for d in hooks:
        policy = (d["metadata"].get("annotations") or {}).get("helm.sh/hook-delete-policy", "")
        C.ok("hook-succeeded" in policy and "before-hook-creation" in policy,
             f"test hook {d['kind']} is deleted when the test passes and before the next run")
    pod, sa, role, rb = (one(hooks, k) for k in ("Pod", "ServiceAccount", "Role", "RoleBinding"))
    if not pod:
        return
    C.eq(pod["metadata"].get("namespace"), ns, "the test Pod runs in the release namespace (never gated)")
    spec = pod["spec"]
    check_security(spec, "test Pod", token=True)
    C.eq(spec.get("restartPolicy"), "Never", "the test Pod runs once")
    C.eq(spec.get("serviceAccountName"), sa["metadata"]["name"], "the test Pod runs as the test ServiceAccount")
    c = spec["containers"][0]
    C.eq(c.get("command"), ["scangate-webhook"], "the test runs scangate-webhook")
    C.eq(c["args"][:1], ["admission-test"], "the admission-test subcommand")
    a = parse_args(c["args"][1:])
    C.eq(a.get("namespace"), [tests_ns], "the dry-run Pod's namespace is tests.namespace")
    C.ok(tests_ns != ns and tests_ns != "kube-system", "tests.namespace is gated")
    C.eq(a.get("expect"), ["deny"], "the test expects a denial")
    C.eq(a.get("webhook-name"), [published_vwc(docs, full)["webhooks"][0]["name"]],
         "the denial must name the configuration's webhook")
    got = a.get("image", [""])[0]
    if image:
        C.eq(got, image, "the dry-run Pod's image is tests.deniedImage")
    else:
        host = got.split("/", 1)[0]
        C.ok(host.endswith(PROBE_IMAGE_HOST_SUFFIX) and "@sha256:" in got,
             f"without tests.deniedImage: a digest-pinned image in a registry that cannot exist ({got})")
    C.eq(role["metadata"].get("namespace"), tests_ns, "the test Role is in tests.namespace")
    C.eq(role.get("rules"), [{"apiGroups": [""], "resources": ["pods"], "verbs": ["create"]}],
         "the test may only create Pods (dry runs, by the command)")
    C.eq(rb["metadata"].get("namespace"), tests_ns, "the test RoleBinding is in tests.namespace")
    C.eq(rb.get("roleRef"), {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role["metadata"]["name"]},
         "the RoleBinding binds the test Role")
    C.eq(rb.get("subjects"), [{"kind": "ServiceAccount", "name": sa["metadata"]["name"], "namespace": ns}],
         "the RoleBinding's subject is the test ServiceAccount")


# --- scenarios ------------------------------------------------------------------------------

def check_default(d, values):
    C.scope = "defaults (self-signed TLS, webhook.registration=pod)"
    all_docs = load(f"{d}/default.yaml")
    check_objects(all_docs, NS)
    docs = installed(all_docs)
    kinds = sorted(x["kind"] for x in docs)
    C.eq(kinds, sorted(["ServiceAccount", "ConfigMap", "ConfigMap", "ConfigMap", "Secret", "Service", "Service",
                        "Deployment", "PodDisruptionBudget", "ClusterRole", "ClusterRoleBinding"]),
         "kinds rendered by default")
    check_registration(docs, NS, FULL, load(f"{d}/default-chart.yaml"))
    check_test_hook(all_docs, NS, FULL)
    vwc, h = check_vwc(docs, NS, FULL, ["kube-system"])
    C.ok("objectSelector" not in h, "no objectSelector by default")
    # issue 14: the opt-out label (CNI/CSI namespaces), no matchConditions unless asked, and the
    # pods' priority class.
    C.ok({"key": "scangate.io/ignore", "operator": "DoesNotExist"} in h["namespaceSelector"]["matchExpressions"],
         "namespaces labelled scangate.io/ignore are not gated")
    C.ok("matchConditions" not in h, "no matchConditions by default")
    C.eq(find(docs, "PrometheusRule"), [], "no PrometheusRule by default")
    C.ok("cert-manager.io/inject-ca-from" not in vwc["metadata"].get("annotations", {}), "no inject-ca-from")
    dep, c, args = check_deployment(docs, NS, FULL, 2)
    C.eq(dep["spec"]["template"]["spec"].get("priorityClassName"), "system-cluster-critical",
         "priorityClassName system-cluster-critical by default")
    check_services(docs, FULL, c)
    C.eq(c["resources"]["limits"]["memory"], "256Mi", "memory limit")
    C.ok("memory" in c["resources"].get("requests", {}) and "cpu" in c["resources"].get("requests", {}),
         "cpu and memory requests")
    spec = dep["spec"]["template"]["spec"]
    db_vol, _, _ = volume_for(args["db"][0], c, spec)
    C.ok(db_vol is not None and "emptyDir" in db_vol, "the DB is on an emptyDir by default")
    inits = spec.get("initContainers", [])
    C.eq([i["name"] for i in inits], ["db-update"], "initContainers")
    if inits:
        check_db_update(inits[0], args["db"][0])
    for flag in ("registry-config", "cspm-token-file", "spool-dir"):
        C.ok(flag not in args, f"--{flag} is not given by default")
    pdb = one(docs, "PodDisruptionBudget")
    C.eq(pdb.get("spec", {}).get("minAvailable"), 1, "PDB minAvailable")
    # The policy ConfigMap holds exactly .Values.policy.
    pol_vol, _, rel = volume_for(args["policy"][0], c, spec)
    cm = one(docs, "ConfigMap", pol_vol["configMap"]["name"])
    C.eq(yaml.safe_load(cm["data"][rel]), values["policy"], "policy ConfigMap content equals .Values.policy")
    cfg_vol, _, crel = volume_for(args["config"][0], c, spec)
    cfg = yaml.safe_load(one(docs, "ConfigMap", cfg_vol["configMap"]["name"])["data"][crel])
    w = values["webhook"]
    C.eq(cfg, {"scan-workers": w["scanWorkers"], "threads": w["threads"], "cache-size": w["cacheSize"],
               "cache-ttl": w["cacheTTL"], "shutdown-delay": w["shutdownDelay"]},
         "config file keys (the webhook's flag names)")
    # A stopping pod drains for shutdown-delay (10 s), then gets up to 25 s for in-flight requests:
    # the kubelet must not kill it before.
    C.eq(w["shutdownDelay"], "10s", "default shutdown delay")
    C.ok(spec["terminationGracePeriodSeconds"] >= 10 + 25, "terminationGracePeriodSeconds covers delay + grace")
    # Self-signed TLS: the caBundle is the Secret's CA, and it verifies the serving certificate
    # for the Service's DNS names.
    secret = one(docs, "Secret", f"{FULL}-tls")
    C.eq(secret.get("type"), "kubernetes.io/tls", "TLS Secret type")
    tls_vol, _, _ = volume_for(args["tls-cert-file"][0], c, spec)
    C.eq(tls_vol["secret"]["secretName"], f"{FULL}-tls", "the pods mount the generated Secret")
    bundle = effective_ca_bundle(docs, FULL) or ""
    C.ok(bool(bundle), "caBundle is set")
    C.eq(bundle, secret["data"].get("ca.crt"), "caBundle is the Secret's ca.crt")
    with tempfile.TemporaryDirectory() as t:
        for k in ("ca.crt", "tls.crt", "tls.key"):
            with open(f"{t}/{k}", "wb") as f:
                f.write(base64.b64decode(secret["data"][k]))
        with open(f"{t}/bundle.pem", "wb") as f:
            f.write(base64.b64decode(bundle))
        C.ok(b"BEGIN CERTIFICATE" in open(f"{t}/bundle.pem", "rb").read(), "caBundle decodes to a PEM certificate")
        for host in (f"{FULL}.{NS}.svc", f"{FULL}.{NS}.svc.cluster.local", f"{FULL}.{NS}"):
            r = openssl("verify", "-CAfile", f"{t}/bundle.pem", "-verify_hostname", host, "-purpose", "sslserver",
                        f"{t}/tls.crt")
            C.ok(r.returncode == 0, f"openssl verifies the serving certificate for {host}: {r.stdout}{r.stderr}")
        r = openssl("verify", "-CAfile", f"{t}/bundle.pem", "-verify_hostname", "other.example", f"{t}/tls.crt")
        C.ok(r.returncode != 0, "the serving certificate does not cover other names")
        crt_pub = openssl("x509", "-noout", "-pubkey", "-in", f"{t}/tls.crt").stdout
        key_pub = openssl("pkey", "-pubout", "-in", f"{t}/tls.key").stdout
        C.ok(crt_pub and crt_pub == key_pub, "tls.key is the serving certificate's key")
    return docs


def check_full(d):
    C.scope = "cert-manager, persistence, CronJob, CSPM, registry, ServiceMonitor, NetworkPolicy"
    docs = installed(load(f"{d}/full.yaml"))
    check_objects(docs, NS)
    C.eq(find(docs, "Secret"), [], "no Secret rendered: cert-manager writes it")
    vwc, h = check_vwc(docs, NS, FULL, ["kube-system"])
    C.ok("caBundle" not in h["clientConfig"], "no caBundle in the chart: the webhook publishes the Secret's ca.crt")
    check_registration(docs, NS, FULL, installed(load(f"{d}/full-chart.yaml")))
    chart_vwc = one(load(f"{d}/full-chart.yaml"), "ValidatingWebhookConfiguration")
    C.ok("caBundle" not in chart_vwc["webhooks"][0]["clientConfig"], "registration=chart: cert-manager injects the caBundle")
    certs = {x["metadata"]["name"]: x for x in find(docs, "Certificate")}
    C.eq(sorted(certs), [f"{FULL}-ca", f"{FULL}-tls"], "a CA Certificate and the serving Certificate")
    cert, ca = certs[f"{FULL}-tls"], certs[f"{FULL}-ca"]
    # issue 14: a CA chain, so the injected CA is stable across renewals of the serving certificate,
    # and no commonName (cert-manager refuses one over 64 bytes; long release names made one).
    C.eq(ca["spec"].get("isCA"), True, "the CA Certificate is a CA")
    C.eq(ca["spec"]["privateKey"].get("rotationPolicy"), "Never", "the CA key never rotates")
    C.eq(ca["spec"].get("duration"), "87600h", "the CA lives 10 years by default")
    for x in (cert, ca):
        C.ok("commonName" not in x["spec"], f"{x['metadata']['name']}: no commonName")
    issuers = {x["metadata"]["name"]: x for x in find(docs, "Issuer")}
    C.eq(sorted(issuers), [f"{FULL}-ca", f"{FULL}-selfsigned"], "a self-signed Issuer and a CA Issuer")
    C.ok("selfSigned" in issuers[f"{FULL}-selfsigned"]["spec"], "the root Issuer is self-signed")
    C.eq(ca["spec"]["issuerRef"].get("name"), f"{FULL}-selfsigned", "the CA is signed by the self-signed Issuer")
    C.eq(issuers[f"{FULL}-ca"]["spec"].get("ca", {}).get("secretName"), ca["spec"]["secretName"],
         "the CA Issuer signs with the CA Certificate's Secret")
    ann = chart_vwc["metadata"].get("annotations", {})
    C.eq(ann.get("cert-manager.io/inject-ca-from"), f"{NS}/{cert['metadata']['name']}",
         "registration=chart: inject-ca-from names the Certificate")
    C.ok(set(cert["spec"].get("dnsNames", [])) >= {f"{FULL}.{NS}.svc", f"{FULL}.{NS}.svc.cluster.local"},
         "Certificate dnsNames cover the Service")
    C.ok("server auth" in cert["spec"].get("usages", []), "Certificate usage server auth")
    ref = cert["spec"]["issuerRef"]
    C.eq((ref.get("kind"), ref.get("name")), ("Issuer", f"{FULL}-ca"), "the serving Certificate is signed by the CA Issuer")
    dep, c, args = check_deployment(docs, NS, FULL, 2)
    spec = dep["spec"]["template"]["spec"]
    tls_vol, _, _ = volume_for(args["tls-cert-file"][0], c, spec)
    C.eq(tls_vol["secret"]["secretName"], cert["spec"]["secretName"], "the pods mount the Certificate's Secret")
    ca_vol, _, ca_rel = volume_for(args["publish-ca-file"][0], c, spec)
    C.ok(ca_vol is tls_vol and secret_item_key(ca_vol, ca_rel) == "ca.crt",
         "the webhook publishes the Certificate Secret's ca.crt (the chart's CA, stable across renewals)")
    pvcs = {p["metadata"]["name"]: p for p in find(docs, "PersistentVolumeClaim")}
    C.eq(sorted(pvcs), [f"{FULL}-db", f"{FULL}-spool"], "PVCs")
    C.eq(pvcs.get(f"{FULL}-db", {}).get("spec", {}).get("accessModes"), ["ReadWriteMany"], "DB PVC access modes")
    C.eq(pvcs.get(f"{FULL}-db", {}).get("spec", {}).get("storageClassName"), "shared-rwx", "DB PVC storageClass")
    db_vol, _, _ = volume_for(args["db"][0], c, spec)
    C.eq(db_vol.get("persistentVolumeClaim", {}).get("claimName"), f"{FULL}-db", "--db is on the DB PVC")
    spool = args.get("spool-dir", [""])[0]
    sp_vol, _, _ = volume_for(spool + "/x", c, spec)
    C.ok(sp_vol is not None and sp_vol.get("persistentVolumeClaim", {}).get("claimName") == f"{FULL}-spool",
         "--spool-dir is on the spool PVC")
    tok_vol, _, rel = volume_for(args.get("cspm-token-file", [""])[0], c, spec)
    C.ok(tok_vol is not None and tok_vol.get("secret", {}).get("secretName") == "cspm-token",
         "--cspm-token-file is in the cspm.existingSecret")
    if tok_vol:
        C.eq(secret_item_key(tok_vol, rel), "api-token", "--cspm-token-file is the Secret's cspm.existingSecretKey")
    reg_vol, _, rel = volume_for(args.get("registry-config", [""])[0], c, spec)
    C.ok(reg_vol is not None and reg_vol.get("secret", {}).get("secretName") == "regcred",
         "--registry-config is in the registry.existingSecret")
    if reg_vol:
        C.eq(secret_item_key(reg_vol, rel), ".dockerconfigjson", "--registry-config is the dockerconfigjson")
    cfg_vol, _, crel = volume_for(args["config"][0], c, spec)
    cfg = yaml.safe_load(one(docs, "ConfigMap", cfg_vol["configMap"]["name"])["data"][crel])
    C.eq(cfg.get("cspm-url"), "https://cspm.example.com/api/v1/artifact/", "config cspm-url")
    C.eq(cfg.get("cspm-tenant-id"), "42", "config cspm-tenant-id")
    C.eq(cfg.get("cspm-label"), {"cluster": "prod-eu"}, "config cspm-label")
    C.eq(cfg.get("insecure-registry"), ["registry.internal:5000"], "config insecure-registry")
    inits = spec.get("initContainers", [])
    C.eq(len(inits), 1, "the initContainer still runs with a PVC")
    if inits:
        C.ok(inits[0]["args"][-2:] == ["--osv", "https://mirror.example/osv/all.zip"], "db.update.extraArgs")
    cron = one(docs, "CronJob")
    C.eq(cron["spec"].get("schedule"), "17 */6 * * *", "CronJob schedule")
    C.eq(cron["spec"].get("concurrencyPolicy"), "Forbid", "CronJob concurrencyPolicy")
    cspec = pod_spec(cron)
    check_security(cspec, "CronJob")
    cc = cspec["containers"][0]
    check_db_update(cc, args["db"][0])
    cvol, _, _ = volume_for(args["db"][0], cc, cspec)
    C.eq((cvol or {}).get("persistentVolumeClaim", {}).get("claimName"), f"{FULL}-db", "the CronJob updates the DB PVC")
    sm = one(docs, "ServiceMonitor")
    msvc = one(docs, "Service", f"{FULL}-metrics")
    wsvc = one(docs, "Service", FULL)
    sel = sm["spec"]["selector"]["matchLabels"]
    C.ok(all(msvc["metadata"]["labels"].get(k) == v for k, v in sel.items()), "ServiceMonitor selects the metrics Service")
    C.ok(not all(wsvc["metadata"]["labels"].get(k) == v for k, v in sel.items()), "ServiceMonitor skips the webhook Service")
    C.eq([(e["port"], e["path"]) for e in sm["spec"]["endpoints"]], [("metrics", "/metrics")], "ServiceMonitor endpoint")
    C.eq(sm["metadata"]["labels"].get("release"), "prometheus", "ServiceMonitor extra labels")
    C.eq(sm["spec"]["namespaceSelector"], {"matchNames": [NS]}, "ServiceMonitor namespaceSelector")
    np = one(docs, "NetworkPolicy")
    labels = dep["spec"]["template"]["metadata"]["labels"]
    C.ok(all(labels.get(k) == v for k, v in np["spec"]["podSelector"]["matchLabels"].items()), "NetworkPolicy selects the pods")
    ports = sorted(p["port"] for rule in np["spec"]["ingress"] for p in rule["ports"])
    C.eq(ports, ["https", "metrics"], "NetworkPolicy ports")


def check_own_issuer(d):
    C.scope = "cert-manager with the user's issuerRef; a long release name"
    docs = load(f"{d}/own-issuer.yaml")
    C.eq(find(docs, "Issuer"), [], "no Issuer of the chart's own with an issuerRef")
    cert = one(docs, "Certificate")
    C.eq(cert["spec"]["issuerRef"], {"name": "corp-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"},
         "the serving Certificate is issued by the given ClusterIssuer")
    C.ok("commonName" not in cert["spec"], "no commonName")
    # issue 14: the full service DNS name of a long release passed cert-manager's 64-byte commonName
    # limit; the names are DNS SANs only, and each is a valid DNS name.
    docs = load(f"{d}/long-name.yaml")
    # issue 14: names were truncated to 63 and then suffixed, so the CronJob (whose Jobs add 11
    # characters) passed its 52-character limit. The suffix is added after shortening.
    names = {}
    for x in docs:
        kind, name = x["kind"], x["metadata"]["name"]
        C.ok(len(name) <= (52 if kind == "CronJob" else 63), f"{kind} {name}: {len(name)} characters")
        C.ok(not name.endswith("-"), f"{kind} {name} does not end in '-'")
        C.ok((kind, name) not in names, f"{kind} {name} is unique")
        names[(kind, name)] = x
    C.ok(any(k == "CronJob" for k, _ in names), "the long-name render has a CronJob")
    for x in docs:
        if x["kind"] != "Deployment":
            continue
        spec = x["spec"]["template"]["spec"]
        for v in spec.get("volumes", []):
            ref = (v.get("configMap") or {}).get("name") or (v.get("secret") or {}).get("secretName") or \
                (v.get("persistentVolumeClaim") or {}).get("claimName")
            kinds = {"configMap": "ConfigMap", "secret": None, "persistentVolumeClaim": "PersistentVolumeClaim"}
            for key, kind in kinds.items():
                if key in v and kind:
                    C.ok((kind, ref) in names, f"volume {v['name']} refers to the rendered {kind} {ref}")
    for cert in find(docs, "Certificate"):
        C.ok("commonName" not in cert["spec"], f"{cert['metadata']['name']}: no commonName")
        for n in cert["spec"].get("dnsNames", []):
            C.ok(all(0 < len(label) <= 63 for label in n.split(".")) and len(n) <= 253, f"DNS name {n} is valid")


def check_extras(d, readme):
    C.scope = "matchConditions, opt-out label, extra volumes, NVD key, PrometheusRule (values-extras.yaml)"
    docs = load(f"{d}/extras.yaml")
    _, h = check_vwc(docs, NS, FULL, ["kube-system"])
    C.eq(h.get("matchConditions"),
         [{"name": "not-nodes", "expression": "!request.userInfo.username.startsWith('system:node:')"}],
         "matchConditions as given")
    exprs = h["namespaceSelector"]["matchExpressions"]
    C.ok({"key": "example.com/no-gate", "operator": "DoesNotExist"} in exprs, "a custom opt-out label")
    C.ok(all(e["key"] != "scangate.io/ignore" for e in exprs), "the default opt-out label is replaced, not added")
    dep = one(docs, "Deployment")
    spec = dep["spec"]["template"]["spec"]
    C.eq(spec.get("priorityClassName"), "gate-critical", "priorityClassName as given")
    vols = {v["name"]: v for v in spec["volumes"]}
    C.eq(vols.get("corp-ca"), {"name": "corp-ca", "configMap": {"name": "corp-ca"}}, "extraVolumes")
    web = next(c for c in spec["containers"] if c["name"] == "webhook")
    C.ok({"name": "corp-ca", "mountPath": "/etc/corp-ca", "readOnly": True} in web["volumeMounts"],
         "extraVolumeMounts")
    # The NVD API key: a file from the Secret, named by --nvd-api-key-file, in the initContainer and
    # the CronJob alike, and never in the webhook container.
    cron = one(docs, "CronJob")
    for what, pod in (("initContainer", spec), ("CronJob", pod_spec(cron))):
        cont = (pod.get("initContainers") or pod.get("containers"))[0]
        C.ok("--nvd-api-key-file=/etc/scangate/nvd/api-key" in cont["args"], f"{what}: --nvd-api-key-file")
        mount = next((m for m in cont["volumeMounts"] if m["name"] == "nvd-api-key"), None)
        C.eq(mount and mount["mountPath"], "/etc/scangate/nvd", f"{what}: the key's mount")
        vol = next((v for v in pod["volumes"] if v["name"] == "nvd-api-key"), {})
        C.eq(vol.get("secret"), {"secretName": "nvd", "items": [{"key": "token", "path": "api-key"}]},
             f"{what}: the key's Secret")
    C.ok("nvd-api-key" not in [m["name"] for m in web["volumeMounts"]], "the webhook container never sees the key")
    # The PrometheusRule: the issue's four alerts (and one for no scraped pod), each on a metric the
    # README's metrics table documents, each selecting this release's metrics Service.
    rule = one(docs, "PrometheusRule")
    rules = {r["alert"]: r for g in rule["spec"]["groups"] for r in g["rules"]}
    C.eq(sorted(rules), sorted(["ScangateWebhookErrors", "ScangateWebhookDown", "ScangateDatabaseOld",
                                "ScangateCertificateExpiry", "ScangateSpoolBacklog"]), "alerts")
    for name, metric in (("ScangateWebhookErrors", "scangate_http_requests_total"),
                         ("ScangateDatabaseOld", "scangate_db_age_seconds"),
                         ("ScangateCertificateExpiry", "scangate_tls_certificate_expiry_timestamp_seconds"),
                         ("ScangateSpoolBacklog", "scangate_cspm_spool_pending")):
        C.ok(metric in rules[name]["expr"], f"{name} reads {metric}")
        C.ok(f"| `{metric}` |" in readme, f"{metric} is a documented metric")
        C.ok(f'service="{FULL}-metrics"' in rules[name]["expr"], f"{name} selects this release's metrics Service")
    C.ok("> 259200" in rules["ScangateDatabaseOld"]["expr"], "DB age threshold from prometheusRule.dbMaxAgeHours (72 h)")


def check_existing_claim(d):
    C.scope = "db.persistence.existingClaim without the initContainer"
    docs = load(f"{d}/existing-claim.yaml")
    dep = one(docs, "Deployment")
    spec = dep["spec"]["template"]["spec"]
    C.eq(spec.get("initContainers", []), [], "no DB update initContainer")
    claims = [v["persistentVolumeClaim"]["claimName"] for v in spec.get("volumes", []) if "persistentVolumeClaim" in v]
    C.eq(claims, ["scangate-db"], "the DB volume is the user's claim")
    C.eq(find(docs, "PersistentVolumeClaim"), [], "no PVC created")


def check_db_repository(d):
    C.scope = "db.repository (the DB pulled as an OCI artifact; the CronJob builds and pushes)"
    docs = load(f"{d}/db-repository.yaml")
    dep = one(docs, "Deployment")
    spec = dep["spec"]["template"]["spec"]
    C.eq(spec.get("initContainers", []), [], "no DB build on the admission path: the webhook pulls the artifact")
    c = webhook_container(dep)
    C.ok("--db-repository=registry.example/sec/scangate-db:1" in c["args"], "the webhook pulls db.repository")
    C.ok("--db-poll=15m" in c["args"], "db.poll is the webhook's --db-poll")
    db_arg = [a for a in c["args"] if a.startswith("--db=")][0][len("--db="):]
    vol, mount, _ = volume_for(db_arg, c, spec)
    C.ok("emptyDir" in vol, "each pod pulls into its own emptyDir (no RWX claim needed for 3 replicas)")
    C.ok(not mount.get("readOnly", False), "the DB volume is writable: the pull renames the new DB into it")
    C.eq(find(docs, "PersistentVolumeClaim"), [], "no PVC")
    cron = one(docs, "CronJob")
    job = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    init = job.get("initContainers", [])
    C.eq(len(init), 1, "the CronJob builds first (initContainer)")
    check_db_update(init[0], db_arg)
    push = job["containers"][0]
    C.eq(push["args"][:2], ["db", "push"], "then pushes")
    C.eq(push["args"][-1], "registry.example/sec/scangate-db:1", "to db.repository")
    C.ok(f"--db={db_arg}" in push["args"], "the DB the initContainer built")
    cfg = [a for a in push["args"] if a.startswith("--registry-config=")]
    C.eq(len(cfg), 1, "push credentials from db.update.pushSecret")
    pvol, _, rel = volume_for(cfg[0].split("=", 1)[1], push, job)
    C.eq(pvol["secret"]["secretName"], "db-push", "the push Secret is mounted")
    C.eq(secret_item_key(pvol, rel), ".dockerconfigjson", "as config.json from .dockerconfigjson")
    dvol = [v for v in job["volumes"] if v["name"] == "db"][0]
    C.ok("emptyDir" in dvol, "the CronJob builds in its own emptyDir")

    docs = load(f"{d}/db-repository-pull-only.yaml")
    C.eq(find(docs, "CronJob"), [], "no schedule: no CronJob (the DB is built and pushed elsewhere, e.g. CI)")
    dep = one(docs, "Deployment")
    C.eq(dep["spec"]["template"]["spec"].get("initContainers", []), [], "no initContainer")
    C.ok("--db-poll=1h" in webhook_container(dep)["args"], "default poll 1h")


def check_pull_secrets(d):
    C.scope = "registry.podPullSecrets"
    role = f"{FULL}-pull-secrets"
    want_rules = [{"apiGroups": [""], "resources": ["secrets", "serviceaccounts"], "verbs": ["get"]}]
    docs = installed(load(f"{d}/pull-secrets.yaml"))
    C.eq(one(docs, "ClusterRole", role).get("rules"), want_rules, "get on secrets and serviceaccounts, nothing more")
    crb = one(docs, "ClusterRoleBinding", role)
    C.eq(crb.get("roleRef", {}).get("name"), role, "the ClusterRoleBinding binds the pull-secrets ClusterRole")
    C.eq(crb.get("subjects"), [{"kind": "ServiceAccount", "name": FULL, "namespace": NS}],
         "bound to the webhook's ServiceAccount")
    C.eq(find(docs, "RoleBinding"), [], "no RoleBinding when granted cluster-wide")
    dep, c, args = check_deployment(docs, NS, FULL, 2)
    spec = dep["spec"]["template"]["spec"]
    C.eq(spec.get("automountServiceAccountToken"), True, "the token is mounted (registration=chart needs none)")
    C.eq(args.get("pod-pull-secrets"), ["true"], "--pod-pull-secrets=true")
    C.eq(args.get("pull-secret-cache-ttl"), ["30s"], "--pull-secret-cache-ttl from the values")

    docs = installed(load(f"{d}/pull-secrets-ns.yaml"))
    C.eq(one(docs, "ClusterRole", role).get("rules"), want_rules, "per namespace: the same ClusterRole")
    C.eq([x for x in find(docs, "ClusterRoleBinding") if x["metadata"]["name"] == role], [],
         "per namespace: no ClusterRoleBinding")
    rbs = find(docs, "RoleBinding")
    C.eq(sorted(x["metadata"]["namespace"] for x in rbs), ["team-a", "team-b"], "a RoleBinding in each namespace")
    for rb in rbs:
        C.eq(rb.get("roleRef"), {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
             "the RoleBinding grants the ClusterRole in its namespace")
        C.eq(rb.get("subjects"), [{"kind": "ServiceAccount", "name": FULL, "namespace": NS}],
             "the RoleBinding's subject is the webhook's ServiceAccount")
    _, _, args = check_deployment(docs, NS, FULL, 2)
    C.eq(args.get("pull-secret-cache-ttl"), ["2m"], "cacheTTL passed on")

    docs = installed(load(f"{d}/default.yaml"))
    C.eq([x for x in find(docs, "ClusterRole") if x["metadata"]["name"] == role], [], "off by default")
    _, _, args = check_deployment(docs, NS, FULL, 2)
    C.ok("pod-pull-secrets" not in args, "no --pod-pull-secrets by default")


def check_attestation(d):
    C.scope = "attestation.publicKeys"
    docs = installed(load(f"{d}/attestation.yaml"))
    dep, c, args = check_deployment(docs, NS, FULL, 2)
    spec = dep["spec"]["template"]["spec"]
    keys = args.get("attestation-key", [])
    C.eq(sorted(keys), ["/etc/scangate/attestation/ci.pem", "/etc/scangate/attestation/cosign.pem"],
         "one --attestation-key per named key")
    cm = one(docs, "ConfigMap", f"{FULL}-attestation-keys")
    for k in keys:
        vol, _, rel = volume_for(k, c, spec)
        C.ok(vol is not None and vol.get("configMap", {}).get("name") == f"{FULL}-attestation-keys",
             f"{k} is in the mounted attestation-keys ConfigMap")
        C.ok(cm.get("data", {}).get(rel, "").startswith("-----BEGIN PUBLIC KEY-----"), f"{rel} holds the PEM key")
    C.ok("checksum/attestation-keys" in dep["spec"]["template"]["metadata"].get("annotations", {}),
         "a key change rolls the pods (keys are read at start)")
    docs = installed(load(f"{d}/default.yaml"))
    _, _, args = check_deployment(docs, NS, FULL, 2)
    C.ok("attestation-key" not in args, "no --attestation-key by default")
    C.eq(find(docs, "ConfigMap", f"{FULL}-attestation-keys"), [], "no attestation-keys ConfigMap by default")


def check_existing(d):
    C.scope = "tls.existingSecret"
    docs = installed(load(f"{d}/existing.yaml"))
    check_objects(docs, NS)
    C.eq(find(docs, "Secret"), [], "no Secret rendered")
    C.eq(find(docs, "Certificate"), [], "no Certificate rendered")
    _, h = check_vwc(docs, NS, FULL, ["kube-system"])
    check_registration(docs, NS, FULL, installed(load(f"{d}/existing-chart.yaml")))
    with open(f"{d}/own-ca.pem", "rb") as f:
        own = base64.b64encode(f.read()).decode()
    C.eq(effective_ca_bundle(docs, FULL), own, "the published caBundle is tls.caBundle, base64")
    C.eq(effective_ca_bundle(installed(load(f"{d}/existing-chart.yaml")), FULL), own,
         "registration=chart: caBundle is tls.caBundle, base64")
    dep, c, args = check_deployment(docs, NS, FULL, 2)
    tls_vol, _, _ = volume_for(args["tls-cert-file"][0], c, dep["spec"]["template"]["spec"])
    C.eq(tls_vol["secret"]["secretName"], "own-tls", "the pods mount tls.existingSecret")


def check_overrides(d):
    C.scope = "changed scope (values-overrides.yaml, namespace security)"
    docs = load(f"{d}/overrides.yaml")
    check_objects(docs, "security")
    vwc, h = check_vwc(docs, "security", "gatekeeper", ["kube-system", "monitoring"], failure="Ignore", timeout=5)
    sel = h["namespaceSelector"]
    C.eq(sel.get("matchLabels"), {"scangate.io/gate": "on"}, "extra namespaceSelector matchLabels")
    C.ok({"key": "tier", "operator": "NotIn", "values": ["sandbox"]} in sel.get("matchExpressions", []),
         "extra namespaceSelector matchExpressions")
    C.eq(h.get("objectSelector"), {"matchLabels": {"scangate.io/scan": "true"}}, "objectSelector")
    dep, c, args = check_deployment(docs, "security", "gatekeeper", 1)
    C.eq(find(docs, "PodDisruptionBudget"), [], "no PDB with a single replica")
    C.ok(c["image"].endswith("@sha256:" + "0123456789abcdef" * 4), "image pinned by digest")
    spec = dep["spec"]["template"]["spec"]
    cfg_vol, _, crel = volume_for(args["config"][0], c, spec)
    cfg = yaml.safe_load(one(docs, "ConfigMap", cfg_vol["configMap"]["name"])["data"][crel])
    C.eq(cfg, {"scan-workers": 4, "threads": 2, "cache-size": 50000, "cache-ttl": "30m", "shutdown-delay": "10s"},
         "config file with webhook.* and extraConfig")
    secret = one(docs, "Secret")
    with tempfile.TemporaryDirectory() as t:
        for k in ("ca.crt", "tls.crt"):
            with open(f"{t}/{k}", "wb") as f:
                f.write(base64.b64decode(secret["data"][k]))
        r = openssl("verify", "-CAfile", f"{t}/ca.crt", "-verify_hostname", "gatekeeper.security.svc", f"{t}/tls.crt")
        C.ok(r.returncode == 0, f"certificate covers gatekeeper.security.svc: {r.stderr}")


def check_pin_digests(d):
    C.scope = "webhook.pinDigests (digest pinning: a MutatingWebhookConfiguration, path /mutate)"
    # Off by default: nothing of it, in either registration mode (check_registration checks the
    # ConfigMap and the flags of the default render).
    for f in ("default.yaml", "default-chart.yaml", "full-chart.yaml", "overrides.yaml"):
        C.eq(find(load(f"{d}/{f}"), "MutatingWebhookConfiguration"), [], f"{f}: no MutatingWebhookConfiguration")
    # registration=pod (self-signed TLS): published by the webhook beside the gate.
    all_docs = load(f"{d}/pin.yaml")
    check_objects(all_docs, NS)
    docs = installed(all_docs)
    chart = installed(load(f"{d}/pin-chart.yaml"))
    check_registration(docs, NS, FULL, chart, pin=True)
    check_vwc(docs, NS, FULL, ["kube-system"])
    check_mwc(docs, NS, FULL, ["kube-system"])
    check_deployment(docs, NS, FULL, 2)
    check_test_hook(all_docs, NS, FULL)
    # registration=chart: a resource, whose caBundle is the generated Secret's CA (the gate's).
    check_objects(chart, NS)
    _, h = check_mwc(chart, NS, FULL, ["kube-system"])
    secret = one(chart, "Secret", f"{FULL}-tls")
    C.eq(h["clientConfig"].get("caBundle"), secret.get("data", {}).get("ca.crt"),
         "registration=chart: the pinning caBundle is the generated Secret's ca.crt")
    # cert-manager, registration=chart, its own failurePolicy and timeout.
    cm = installed(load(f"{d}/pin-cert-manager.yaml"))
    check_objects(cm, NS)
    mwc, h = check_mwc(cm, NS, FULL, ["kube-system"], failure="Fail", timeout=5)
    C.eq(mwc["metadata"].get("annotations", {}).get("cert-manager.io/inject-ca-from"), f"{NS}/{FULL}-tls",
         "cert-manager: inject-ca-from names the serving Certificate")
    C.ok("caBundle" not in h["clientConfig"], "cert-manager: the injector fills the caBundle")
    _, vh = check_vwc(cm, NS, FULL, ["kube-system"])  # the gate keeps its own policy and timeout
    # A changed scope (objectSelector, namespaceSelector, exclusions) and matchConditions: the same
    # for both webhooks (check_mwc compares them).
    ov = load(f"{d}/pin-overrides.yaml")
    check_objects(ov, "security")
    check_vwc(ov, "security", "gatekeeper", ["kube-system", "monitoring"], failure="Ignore", timeout=5)
    _, h = check_mwc(ov, "security", "gatekeeper", ["kube-system", "monitoring"])
    C.eq(h.get("objectSelector"), {"matchLabels": {"scangate.io/scan": "true"}}, "pinning: objectSelector")
    ex = installed(load(f"{d}/pin-extras.yaml"))
    _, h = check_mwc(ex, NS, FULL, ["kube-system"])
    C.ok(bool(h.get("matchConditions")), "pinning: the gate's matchConditions")


def check_tests_values(d):
    C.scope = "helm test values (tests.deniedImage, tests.namespace, tests.enabled)"
    image = "registry.example/app@sha256:" + "0123456789abcdef" * 4
    check_test_hook(load(f"{d}/denied-image.yaml"), NS, FULL, tests_ns="apps", image=image)
    C.eq([x for x in load(f"{d}/no-tests.yaml") if is_test_hook(x)], [], "tests.enabled=false: no test hook")
    for f, why in (("ungated-tests.yaml", "the release namespace"), ("excluded-tests.yaml", "an excluded namespace")):
        C.eq([x for x in load(f"{d}/{f}") if is_test_hook(x)], [],
             f"tests.namespace is {why}: no test hook (it could never see a denial)")


def pod_template_annotations(path):
    return one(load(path), "Deployment", FULL)["spec"]["template"]["metadata"].get("annotations", {})


def policy_data(path):
    return one(load(path), "ConfigMap", f"{FULL}-policy")["data"]["policy.yaml"]


def check_rollout(d, values):
    C.scope = "what rolls the pods"
    base = pod_template_annotations(f"{d}/default.yaml")
    pol = pod_template_annotations(f"{d}/policy-changed.yaml")
    C.eq(pol, base, "a policy change leaves the pod template alone (the webhook reloads it)")
    changed = yaml.safe_load(policy_data(f"{d}/policy-changed.yaml"))
    want = dict(values["policy"], mode="warn", limits=dict(values["policy"]["limits"], HIGH=5))
    C.eq(changed, want, "the changed policy reaches the ConfigMap")
    cfg = pod_template_annotations(f"{d}/config-changed.yaml")
    C.ok(cfg.get("checksum/config") != base.get("checksum/config"), "a config change changes checksum/config")


def check_lookup(d):
    C.scope = "self-signed TLS across upgrades (lookup)"
    first = load(f"{d}/default.yaml")
    again = load(f"{d}/lookup-reuse.yaml")
    fresh = load(f"{d}/lookup-missing.yaml")
    s1 = one(first, "Secret")
    s2 = one(again, "Secret")
    C.eq(s2.get("data"), s1.get("data"), "an upgrade keeps the existing Secret's certificate and key")
    b1 = effective_ca_bundle(first, FULL)
    b2 = effective_ca_bundle(again, FULL)
    C.eq(b2, b1, "an upgrade keeps the caBundle")
    s3 = one(fresh, "Secret")
    C.ok(s3["data"]["ca.crt"] != s1["data"]["ca.crt"], "without an existing Secret a new CA is generated")
    b3 = effective_ca_bundle(fresh, FULL)
    C.eq(b3, s3["data"]["ca.crt"], "a new CA and the caBundle agree")
    foreign = load(f"{d}/lookup-foreign.yaml")
    C.ok(one(foreign, "Secret")["data"]["ca.crt"] != s1["data"]["ca.crt"],
         "a Secret of the same name that this release did not make is not reused")


def check_manifests(d):
    C.scope = "manifests/scangate.yaml"
    docs = load(f"{d}/manifests.yaml")
    C.eq(docs[0]["kind"] if docs else None, "Namespace", "the Namespace comes first")
    C.eq(docs[0]["metadata"]["name"] if docs else None, "scangate", "namespace name")
    check_objects(docs, "scangate")
    C.eq(find(docs, "Secret"), [], "no private key in the committed manifests")
    check_vwc(docs, "scangate", "scangate", ["kube-system"])
    C.eq([x for x in docs if is_test_hook(x)], [], "no helm test hook in the plain manifests")
    C.eq(len(find(docs, "Certificate")), 2, "manifests use cert-manager (a CA and the serving Certificate)")
    check_registration(docs, "scangate", "scangate")
    check_deployment(docs, "scangate", "scangate", 2)


# --- the real binaries on the rendered files --------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def https_get(port, path, cafile, host):
    ctx = ssl.create_default_context(cafile=cafile)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=host) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
    return int(data.split(b" ", 2)[1])


def start_stand_in(root, clusterrole, uid):
    """tests/chart/fake_kube_apiserver.py over TLS (a CA made here) with a bearer token."""
    api = f"{root}/api"
    os.makedirs(api)
    r = openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
                "/CN=stand-in-apiserver", "-addext", "subjectAltName=IP:127.0.0.1", "-days", "1",
                "-keyout", f"{api}/tls.key", "-out", f"{api}/ca.crt")
    C.ok(r.returncode == 0, f"openssl makes the stand-in API server's certificate: {r.stderr}")
    with open(f"{api}/token", "w") as f:
        f.write("chart-smoke-token-5e4d3c2b1a\n")
    proc = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                          "fake_kube_apiserver.py"),
                             "--cert", f"{api}/ca.crt", "--key", f"{api}/tls.key", "--token-file", f"{api}/token",
                             "--log", f"{api}/requests.jsonl", "--clusterrole", f"{clusterrole}={uid}"],
                            stdout=subprocess.PIPE, stderr=open(f"{api}/stderr.log", "w"), text=True)
    port = int(proc.stdout.readline().strip() or 0)
    return proc, port, api


def stand_in_requests(api):
    try:
        with open(f"{api}/requests.jsonl") as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def smoke(d, webhook, scangate, testdata, render="default.yaml", pin=False):
    C.scope = (f"rendered files ({render}) with the real binaries (webhook.registration=pod, against the stand-in "
               f"API server)")
    docs = installed(load(f"{d}/{render}"))
    dep = one(docs, "Deployment", FULL)
    spec = dep["spec"]["template"]["spec"]
    c = webhook_container(dep)
    root = tempfile.mkdtemp(prefix="chart-smoke.", dir=d)

    def host_path(p):
        return root + p

    # Lay the rendered volumes out under `root`, as the kubelet would in the pod.
    for m in c["volumeMounts"]:
        vol = [v for v in spec["volumes"] if v["name"] == m["name"]][0]
        target = host_path(m["mountPath"])
        os.makedirs(target, exist_ok=True)
        if "configMap" in vol:
            for k, v in one(docs, "ConfigMap", vol["configMap"]["name"])["data"].items():
                with open(f"{target}/{k}", "w") as f:
                    f.write(v)
        elif "secret" in vol:
            sec = one(docs, "Secret", vol["secret"]["secretName"])
            for it in vol["secret"]["items"]:
                with open(f"{target}/{it['path']}", "wb") as f:
                    f.write(base64.b64decode(sec["data"][it["key"]]))
    args = parse_args(c["args"])
    # The initContainer's job, done here from test data: a small real DB at the rendered path.
    db = host_path(args["db"][0])
    feed = os.path.join(testdata, "vulndb/alpine-secdb/v3.20-main.subset.json")
    r = subprocess.run([scangate, "db", "build", "--output", db, "--alpine-secdb", feed, "--quiet"],
                       capture_output=True, text=True)
    C.ok(r.returncode == 0, f"scangate db build for the smoke DB: {r.stderr}")
    r = subprocess.run([scangate, "policy", "check", host_path(args["policy"][0])], capture_output=True, text=True)
    C.ok(r.returncode == 0, f"scangate policy check accepts the rendered policy: {r.stdout}{r.stderr}")

    port, mport = free_port(), free_port()
    owner_uid = "0b7e1f52-93aa-4c1e-8d6f-5a4b3c2d1e0f"
    owner = parse_args(c["args"])["webhook-owner-clusterrole"][0]
    api_proc, api_port, api = start_stand_in(root, owner, owner_uid)
    argv = []
    for a in c["args"]:
        k, v = a[2:].split("=", 1)
        if k == "listen":
            v = f"127.0.0.1:{port}"
        elif k == "metrics-listen":
            v = f"127.0.0.1:{mport}"
        elif v.startswith("/"):
            v = host_path(v)
        argv.append(f"--{k}={v}")
    # The pod's service-account token and CA are elsewhere here; the API server is found as in a pod,
    # through KUBERNETES_SERVICE_HOST / _PORT.
    argv += [f"--kube-token-file={api}/token", f"--kube-ca-file={api}/ca.crt"]
    log = open(f"{root}/webhook.log", "w+")
    proc = subprocess.Popen([webhook, *argv], stdout=log, stderr=subprocess.STDOUT,
                            env=dict(os.environ, HOME=host_path("/tmp"), KUBERNETES_SERVICE_HOST="127.0.0.1",
                                     KUBERNETES_SERVICE_PORT=str(api_port)))
    cafile = f"{root}/ca.pem"
    secret = one(docs, "Secret", f"{FULL}-tls")
    bundle = effective_ca_bundle(docs, FULL)
    with open(cafile, "wb") as f:
        f.write(base64.b64decode(bundle))
    host = f"{FULL}.{NS}.svc"
    try:
        healthy = ready = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                healthy = healthy or https_get(port, "/healthz", cafile, host)
                ready = https_get(port, "/readyz", cafile, host)
                if healthy == 200 and ready == 200:
                    break
            except (OSError, ssl.SSLError, IndexError, ValueError):
                pass
            time.sleep(0.2)
        log.seek(0)
        out = log.read()
        C.ok(proc.poll() is None, f"scangate-webhook runs with the rendered args and files: {out}")
        C.eq(healthy, 200, "GET /healthz over TLS verified by the rendered caBundle for " + host)
        C.eq(ready, 200, "GET /readyz turns ready")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=5) as resp:
                C.eq(resp.status, 200, "GET /metrics on the rendered metrics port (plain HTTP)")
        except OSError as e:
            C.ok(False, f"GET /metrics: {e}")
        C.ok(bool(secret), "the smoke used the rendered Secret")
        # Once ready, the webhook applies each rendered configuration with the Secret's CA as the
        # caBundle, owned by the rendered ClusterRole.
        kinds = ["ValidatingWebhookConfiguration"] + (["MutatingWebhookConfiguration"] if pin else [])
        for kind in kinds:
            key, _, resource = PUBLISHED[kind]
            path = f"/apis/admissionregistration.k8s.io/v1/{resource}/{FULL}"
            applied = None
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and applied is None:
                applied = next((r for r in stand_in_requests(api)
                                if r["method"] == "PATCH" and r["status"] == 201 and r["path"] == path), None)
                time.sleep(0.2)
            C.ok(applied is not None, f"the webhook applied its {kind}: {stand_in_requests(api)}")
            if applied:
                body = json.loads(applied["body"])
                want = json.loads(one(docs, "ConfigMap", f"{FULL}-registration")["data"][key])
                want["webhooks"][0]["clientConfig"]["caBundle"] = secret["data"]["ca.crt"]
                want["metadata"]["ownerReferences"] = [{"apiVersion": "rbac.authorization.k8s.io/v1",
                                                       "kind": "ClusterRole", "name": owner, "uid": owner_uid}]
                C.eq(body, want, f"the applied {kind}: the rendered JSON, the Secret's ca.crt, the ClusterRole owner")
                C.eq(applied["headers"].get("Content-Type"), "application/apply-patch+yaml", "server-side apply")
                C.eq(applied["query"].get("fieldManager"), ["scangate"], "field manager scangate")
        C.eq(sorted({r["path"].split("/")[-2] for r in stand_in_requests(api) if r["method"] == "PATCH"}),
             sorted(PUBLISHED[k][2] for k in kinds), "the configurations applied, and no other")
        # The rendered config's shutdown-delay: after SIGTERM the pod drains (/readyz fails while
        # it still answers); a second SIGTERM stops it at once, with exit 0.
        proc.send_signal(signal.SIGTERM)
        draining = None
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and draining != 503:
            try:
                draining = https_get(port, "/readyz", cafile, host)
            except (OSError, ssl.SSLError, IndexError, ValueError):
                pass
            time.sleep(0.1)
        C.eq(draining, 503, "after SIGTERM /readyz fails while the pod drains (shutdown-delay)")
        C.eq(https_get(port, "/healthz", cafile, host), 200, "and it still answers while draining")
        proc.send_signal(signal.SIGTERM)
        try:
            C.eq(proc.wait(timeout=10), 0, "a second SIGTERM stops it at once, exit 0")
        except subprocess.TimeoutExpired:
            C.ok(False, "a second SIGTERM stops it at once")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
        api_proc.kill()
        api_proc.wait()


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    ex = sub.add_parser("extract-secret")
    ex.add_argument("render")
    ex.add_argument("out")
    ex.add_argument("--strip-labels", action="store_true", help="as if another tool had made it")
    ck = sub.add_parser("check")
    ck.add_argument("dir")
    ck.add_argument("--values", required=True)
    ck.add_argument("--webhook")
    ck.add_argument("--scangate")
    ck.add_argument("--testdata")
    a = ap.parse_args()
    if a.cmd == "extract-secret":
        sec = [x for x in load(a.render) if x["kind"] == "Secret"]
        if len(sec) != 1:
            sys.exit(f"check_render: {a.render} has {len(sec)} Secrets, expected the TLS Secret")
        if a.strip_labels:
            sec[0]["metadata"].pop("labels", None)
        with open(a.out, "w") as f:
            json.dump(sec[0], f)
        return 0
    with open(a.values) as f:
        values = yaml.safe_load(f)
    check_default(a.dir, values)
    check_full(a.dir)
    check_existing(a.dir)
    check_own_issuer(a.dir)
    check_existing_claim(a.dir)
    check_db_repository(a.dir)
    check_pull_secrets(a.dir)
    check_attestation(a.dir)
    check_pin_digests(a.dir)
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "README.md")) as f:
        check_extras(a.dir, f.read())
    check_overrides(a.dir)
    check_tests_values(a.dir)
    check_rollout(a.dir, values)
    check_lookup(a.dir)
    check_manifests(a.dir)
    if a.webhook:
        smoke(a.dir, a.webhook, a.scangate, a.testdata)
        smoke(a.dir, a.webhook, a.scangate, a.testdata, render="pin.yaml", pin=True)
    print(f"chart: {C.passed} passed, {len(C.failed)} failed")
    return 1 if C.failed else 0


if __name__ == "__main__":
    sys.exit(main())
