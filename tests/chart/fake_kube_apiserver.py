#!/usr/bin/env python3
"""A stand-in Kubernetes API server on loopback, over TLS, for the webhook's own API calls.

It is NOT a Kubernetes API server: it serves only what scangate-webhook asks, in the formats the
Kubernetes API reference publishes (objects with apiVersion/kind/metadata, errors as meta/v1
Status objects), for the tests that no real cluster can run here:

  GET   /apis/rbac.authorization.k8s.io/v1/clusterroles/NAME        a ClusterRole given with --clusterrole
  GET   /apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/NAME
  PATCH /apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/NAME
        server-side apply: Content-Type application/apply-patch+yaml (else 415), ?fieldManager=
        required (else 422), the body's apiVersion/kind/metadata.name must match the URL (else
        400); creates the object (201, new uid) or replaces what the manager applied (200); the
        server sets uid, resourceVersion, generation, creationTimestamp and managedFields.
  GET   /apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/NAME
  PATCH /apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/NAME
        the same for a MutatingWebhookConfiguration (digest pinning), stored apart.
  POST  /api/v1/namespaces/NS/pods?dryRun=All                        201 with the Pod echoed (a
        name from generateName), unless a --rule answers otherwise; a POST without dryRun=All is
        refused (the admission test must never create a Pod).
  GET   /api/v1/namespaces/NS/secrets/NAME                           with --objects DIR: the v1
  GET   /api/v1/namespaces/NS/serviceaccounts/NAME                   Secret / ServiceAccount in
        DIR/NS/secrets/NAME.json / DIR/NS/serviceaccounts/NAME.json, served as it is and read again
        on every request (a test changes the files while the server runs: write a new file and
        rename it over the old one, so that no request reads half of it). No such file: 404 with
        the Status the API server writes (reason NotFound, message `secrets "NAME" not found`,
        details {name, kind: "secrets"}; no `group`: these are in the core group). A file that is
        not JSON: 500. Other methods on these paths: 405. A namespace or name that is not a DNS
        name (a `..`, a `/`) is never looked up: 404. The stand-in knows nothing of RBAC: any
        token that passes the check below reads any Secret. tests/data/kube/ holds one recorded
        example of each object (its README names the reference they follow).

Every request must carry `Authorization: Bearer <the token in --token-file>` (re-read on each
request, so a test can rotate it), else 401. Requests are appended to --log as JSON lines
({time, method, path, query, headers, body, status}); `time` is time.time().

--rule FILE.json: a list of scripted answers tried before the above, in order:
  {"method": "PATCH", "path_prefix": "/apis/...", "times": 1, "status": 429,
   "headers": {"Retry-After": "1"}, "body": {... a Status ...}}
`times` counts down (absent: forever). Prints the port on the first line of standard output and
serves until killed.

  fake_kube_apiserver.py --cert CRT --key KEY --token-file FILE --log FILE
                         [--clusterrole NAME=UID ...] [--rule FILE.json] [--objects DIR]
"""
import argparse
import datetime
import http.server
import json
import os
import re
import ssl
import sys
import threading
import time
import urllib.parse
import uuid

parser = argparse.ArgumentParser()
parser.add_argument("--cert", required=True)
parser.add_argument("--key", required=True)
parser.add_argument("--token-file", required=True)
parser.add_argument("--log", required=True)
parser.add_argument("--clusterrole", action="append", default=[])
parser.add_argument("--rule")
parser.add_argument("--objects", help="DIR/NS/secrets/NAME.json, DIR/NS/serviceaccounts/NAME.json")
args = parser.parse_args()

LOCK = threading.Lock()
RULES = []
if args.rule:
    with open(args.rule) as f:
        RULES = json.load(f)
CLUSTERROLES = {}
for spec in args.clusterrole:
    name, uid = spec.split("=", 1)
    CLUSTERROLES[name] = uid
# The two webhook configuration resources: URL prefix -> (kind, resource, {name: stored object}).
WEBHOOK_CONFIGS = {
    "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/":
        ("ValidatingWebhookConfiguration", "validatingwebhookconfigurations", {}),
    "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/":
        ("MutatingWebhookConfiguration", "mutatingwebhookconfigurations", {}),
}
RESOURCE_VERSION = [1000]

CR_PREFIX = "/apis/rbac.authorization.k8s.io/v1/clusterroles/"
# /api/v1/namespaces/NS/(secrets|serviceaccounts)/NAME, served from --objects.
OBJECT_PATH = re.compile(r"/api/v1/namespaces/([^/]+)/(secrets|serviceaccounts)/([^/]+)")
# A DNS subdomain (RFC 1123), what Kubernetes allows for these names: no '/', no "..", so a path
# built from it stays inside --objects.
DNS_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def next_rv():
    RESOURCE_VERSION[0] += 1
    return str(RESOURCE_VERSION[0])


def status(code, reason, message, details=None):
    # The fields in the order the API server writes them (details before code).
    s = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
         "reason": reason}
    if details is not None:
        s["details"] = details
    s["code"] = code
    return s


def not_found(group, resource, name):
    qualified = f"{resource}.{group}" if group else resource
    details = {"name": name, "group": group, "kind": resource}
    if not group:
        del details["group"]  # StatusDetails.group is omitted when empty (the core group)
    return status(404, "NotFound", f'{qualified} "{name}" not found', details)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _reply(self, code, obj, headers=None):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        return code

    def _record(self, body, code):
        u = urllib.parse.urlsplit(self.path)
        entry = {"time": self.started, "method": self.command, "path": u.path,
                 "query": urllib.parse.parse_qs(u.query), "headers": {k: v for k, v in self.headers.items()},
                 "body": body.decode("utf-8", "replace"), "status": code}
        with LOCK, open(args.log, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def _handle(self):
        self.started = time.time()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        code = self._answer(body)
        self._record(body, code)

    do_GET = do_PATCH = do_POST = do_PUT = do_DELETE = _handle  # noqa: N815 (http.server's naming)

    def _answer(self, body):
        u = urllib.parse.urlsplit(self.path)
        path, query = u.path, urllib.parse.parse_qs(u.query)
        with open(args.token_file) as f:
            token = f.read().strip()
        if self.headers.get("Authorization") != f"Bearer {token}":
            return self._reply(401, status(401, "Unauthorized", "Unauthorized"))
        with LOCK:
            for rule in RULES:
                if rule.get("times", 1) <= 0:
                    continue
                if rule.get("method", self.command) != self.command or not path.startswith(rule.get("path_prefix", "")):
                    continue
                if "times" in rule:
                    rule["times"] -= 1
                return self._reply(rule["status"], rule.get("body", {}), rule.get("headers"))
        if path.startswith(CR_PREFIX) and self.command == "GET":
            name = path[len(CR_PREFIX):]
            if name not in CLUSTERROLES:
                return self._reply(404, not_found("rbac.authorization.k8s.io", "clusterroles", name))
            return self._reply(200, {
                "kind": "ClusterRole", "apiVersion": "rbac.authorization.k8s.io/v1",
                "metadata": {"name": name, "uid": CLUSTERROLES[name], "resourceVersion": "42",
                             "creationTimestamp": "2026-01-01T00:00:00Z"},
                "rules": [{"verbs": ["get", "patch", "update"], "apiGroups": ["admissionregistration.k8s.io"],
                           "resources": ["validatingwebhookconfigurations"], "resourceNames": ["x"]}]})
        for prefix, (kind, resource, store) in WEBHOOK_CONFIGS.items():
            if path.startswith(prefix):
                return self._webhook_config(kind, resource, store, path[len(prefix):], query, body)
        m = OBJECT_PATH.fullmatch(path)
        if m and args.objects:
            return self._object(*m.groups())
        if path.startswith("/api/v1/namespaces/") and path.endswith("/pods") and self.command == "POST":
            if query.get("dryRun") != ["All"]:
                return self._reply(403, status(403, "Forbidden", "the stand-in refuses a Pod that is not a dry run"))
            pod = json.loads(body)
            pod.setdefault("metadata", {})
            pod["metadata"]["name"] = pod["metadata"].get("generateName", "pod-") + "x7k2p"
            pod["metadata"]["uid"] = str(uuid.uuid4())
            pod["metadata"]["creationTimestamp"] = now_rfc3339()
            pod["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
            return self._reply(201, pod)
        return self._reply(404, status(404, "NotFound", "the server could not find the requested resource"))

    def _webhook_config(self, kind, resource, store, name, query, body):
        if self.command == "GET":
            with LOCK:
                obj = store.get(name)
            if obj is None:
                return self._reply(404, not_found("admissionregistration.k8s.io", resource, name))
            return self._reply(200, obj)
        if self.command != "PATCH":
            return self._reply(405, status(405, "MethodNotAllowed", "the stand-in serves GET and PATCH here"))
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if ctype != "application/apply-patch+yaml":
            return self._reply(415, status(415, "UnsupportedMediaType",
                                           f'the body of the request was in an unknown format - accepted media types '
                                           f'include: application/json-patch+json, application/merge-patch+json, '
                                           f'application/apply-patch+yaml (got "{ctype}")'))
        manager = (query.get("fieldManager") or [""])[0]
        if not manager:
            return self._reply(422, status(422, "Invalid",
                                           'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
                                           'is required for apply patch'))
        try:
            obj = json.loads(body)  # JSON is YAML; the webhook sends JSON
        except ValueError as e:
            return self._reply(400, status(400, "BadRequest", f"error decoding YAML: {e}"))
        if obj.get("apiVersion") != "admissionregistration.k8s.io/v1" or obj.get("kind") != kind:
            return self._reply(400, status(400, "BadRequest", "apiVersion/kind do not match the URL"))
        meta = obj.get("metadata") or {}
        if meta.get("name") != name:
            return self._reply(400, status(400, "BadRequest",
                                           f"the name of the object ({meta.get('name')}) does not match the name "
                                           f"on the URL ({name})"))
        for managed in ("managedFields",):
            if managed in meta:
                return self._reply(400, status(400, "BadRequest", "metadata.managedFields must be nil"))
        with LOCK:
            old = store.get(name)
            created = old is None
            meta["uid"] = old["metadata"]["uid"] if old else str(uuid.uuid4())
            meta["creationTimestamp"] = old["metadata"]["creationTimestamp"] if old else now_rfc3339()
            changed = created or {k: v for k, v in old.items() if k != "metadata"} != \
                {k: v for k, v in obj.items() if k != "metadata"} or \
                old["metadata"].get("ownerReferences") != meta.get("ownerReferences")
            meta["generation"] = 1 if created else old["metadata"]["generation"] + (1 if changed else 0)
            meta["resourceVersion"] = next_rv() if changed else old["metadata"]["resourceVersion"]
            meta["managedFields"] = [{"manager": manager, "operation": "Apply",
                                      "apiVersion": "admissionregistration.k8s.io/v1", "time": now_rfc3339(),
                                      "fieldsType": "FieldsV1", "fieldsV1": {}}]
            store[name] = obj
        return self._reply(201 if created else 200, obj)

    def _object(self, namespace, resource, name):
        if self.command != "GET":
            return self._reply(405, status(405, "MethodNotAllowed", f"the stand-in serves only GET of {resource}"))
        if not DNS_NAME.fullmatch(namespace) or not DNS_NAME.fullmatch(name):
            return self._reply(404, not_found("", resource, name))
        try:
            with open(os.path.join(args.objects, namespace, resource, name + ".json"), "rb") as f:
                text = f.read()
        except FileNotFoundError:
            return self._reply(404, not_found("", resource, name))
        try:
            obj = json.loads(text)
        except ValueError as e:
            return self._reply(500, status(500, "InternalError", f"the stand-in's {resource}/{name} file is not "
                                                                  f"JSON: {e}"))
        return self._reply(200, obj)

    def log_message(self, *a):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(args.cert, args.key)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
