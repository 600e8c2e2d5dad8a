#!/usr/bin/env python3
"""Writes the two AdmissionReview bodies of tests/bench/webhook_bench.sh.

  make_bodies.py OUT_DIR TESTDATA CLEAN_IMAGE VULNERABLE_IMAGE

OUT_DIR/deployment.json  a ~1 KB Deployment CREATE review (compact JSON, as the API server
                         sends it) whose one container runs CLEAN_IMAGE: allowed.
OUT_DIR/pod.json         TESTDATA/admission/01-pod-create-privileged.admissionreview.json as
                         is, except for its two container images: the sidecar ("alpine") runs
                         CLEAN_IMAGE and "nginx" runs VULNERABLE_IMAGE: denied. Only the two
                         spec.containers[].image values change (the copy in the
                         last-applied-configuration annotation is left alone: no webhook reads
                         it), so the body keeps the original's layout and about its size.
Prints the sizes.
"""
import json
import os
import sys

out, testdata, clean, vulnerable = sys.argv[1:5]

deployment = {
    "apiVersion": "admission.k8s.io/v1",
    "kind": "AdmissionReview",
    "request": {
        "uid": "5b1c2f0e-8f4d-4c7e-9a55-2d6f1b3e7c01",
        "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
        "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
        "name": "web",
        "namespace": "default",
        "operation": "CREATE",
        "userInfo": {"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]},
        "object": {
            "kind": "Deployment",
            "apiVersion": "apps/v1",
            "metadata": {
                "name": "web",
                "namespace": "default",
                "creationTimestamp": None,
                "labels": {"app": "web"},
            },
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"creationTimestamp": None, "labels": {"app": "web"}},
                    "spec": {
                        "containers": [
                            {
                                "name": "web",
                                "image": clean,
                                "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                                "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}},
                                "imagePullPolicy": "IfNotPresent",
                            }
                        ],
                        "restartPolicy": "Always",
                        "dnsPolicy": "ClusterFirst",
                    },
                },
                "strategy": {"type": "RollingUpdate"},
            },
            "status": {},
        },
        "oldObject": None,
        "dryRun": False,
        "options": {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1", "fieldManager": "kubectl-create"},
    },
}
with open(os.path.join(out, "deployment.json"), "w") as f:
    f.write(json.dumps(deployment, separators=(",", ":")))

with open(os.path.join(testdata, "admission", "01-pod-create-privileged.admissionreview.json")) as f:
    pod = f.read()
for old, new in (('"image": "alpine"', f'"image": "{clean}"'), ('"image": "nginx"', f'"image": "{vulnerable}"')):
    if pod.count(old) != 1:
        sys.exit(f"make_bodies.py: expected {old} once in the Pod review")
    pod = pod.replace(old, new)
images = [c["image"] for c in json.loads(pod)["request"]["object"]["spec"]["containers"]]
if images != [clean, vulnerable]:
    sys.exit(f"make_bodies.py: unexpected images after the rewrite: {images}")
with open(os.path.join(out, "pod.json"), "w") as f:
    f.write(pod)

for name in ("deployment.json", "pod.json"):
    print(f"{name}: {os.path.getsize(os.path.join(out, name))} bytes")
