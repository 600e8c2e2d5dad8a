#!/usr/bin/env python3
"""A minimal Kubernetes API server on loopback, for `helm template --dry-run=server`.

It answers just what Helm's `lookup "v1" "Secret" NS NAME` asks: the core v1 resource list and a
GET of the Secrets given as JSON files; every other path is 404 NotFound (as a real API server
answers for an object that does not exist). It prints its port on the first line of standard
output and serves until it is killed.

  fake_apiserver.py [SECRET.json ...]
"""
import http.server
import json
import sys

objects = {}
for path in sys.argv[1:]:
    with open(path) as f:
        obj = json.load(f)
    meta = obj["metadata"]
    objects[f"/api/v1/namespaces/{meta['namespace']}/secrets/{meta['name']}"] = obj

RESOURCES = {
    "kind": "APIResourceList",
    "apiVersion": "v1",
    "groupVersion": "v1",
    "resources": [{"name": "secrets", "singularName": "secret", "namespaced": True, "kind": "Secret",
                   "verbs": ["get", "list"]}],
}
NOT_FOUND = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": "NotFound",
             "message": "not found", "code": 404}


class Handler(http.server.BaseHTTPRequestHandler):
    def _reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 (http.server's naming)
        path = self.path.split("?", 1)[0]
        sys.stderr.write(f"fake-apiserver: GET {path}\n")
        if path == "/api/v1":
            self._reply(200, RESOURCES)
        elif path in objects:
            self._reply(200, objects[path])
        else:
            self._reply(404, NOT_FOUND)

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
