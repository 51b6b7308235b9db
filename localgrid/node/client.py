"""The node's HTTP calls to the explorer, with the status codes 0-OS expects (docs/contract/explorer.md §3.6)."""

import httpx

from localgrid.node.httpsig import NodeSignatureAuth

USED_RESOURCE_COUNTERS = (
    "network", "volume", "zdb_namespace", "container", "k8s_vm",
    "proxy", "reverse_proxy", "subdomain", "delegate_domain",
)


class ExplorerUnavailable(Exception):
    """The explorer could not be reached or answered with an unexpected status."""


class ExplorerClient:
    def __init__(self, explorer_url, node_id, signing_key, now, transport=None, timeout=10.0, kind="nodes"):
        self.base = explorer_url.rstrip("/")
        self.node_id = node_id
        # A gateway reports under /gateways/{id} and calls its counters reserved_resources.
        self.telemetry = "/%s/%s/" % (kind, node_id)
        self.used_path = self.telemetry + ("used_resources" if kind == "nodes" else "reserved_resources")
        self.http = httpx.Client(timeout=timeout, transport=transport)
        self._auth = NodeSignatureAuth(signing_key, node_id, now)

    def close(self):
        self.http.close()

    def _call(self, method, path, expected, auth=None, **kwargs):
        url = self.base + path
        try:
            response = self.http.request(method, url, auth=auth, **kwargs)
        except httpx.HTTPError as error:
            raise ExplorerUnavailable("%s %s: %s" % (method, url, error)) from None
        if response.status_code != expected:
            raise ExplorerUnavailable("%s %s: %d %s" % (method, url, response.status_code, response.text[:200]))
        return response

    def poll(self, cursor):
        """Workloads for this node from ``cursor`` on, and the next cursor (X-Last-Id + 1)."""
        response = self._call("GET", "/reservations/workloads/%s" % self.node_id, 200, params={"from": cursor})
        last_id = response.headers.get("X-Last-Id")
        return response.json() or [], int(last_id) + 1 if last_id is not None else cursor

    def put_result(self, gwid, body_text):
        self._call(
            "PUT", "/reservations/workloads/%s/%s" % (gwid, self.node_id), 201,
            content=body_text.encode(), headers={"Content-Type": "application/json"},
        )

    def report_deleted(self, gwid):
        self._call("DELETE", "/reservations/workloads/%s/%s" % (gwid, self.node_id), 200)

    def post_used_resources(self, used, counts):
        body = {kind: used[kind] for kind in ("cru", "mru", "hru", "sru")}
        body["cru"] = int(round(body["cru"]))
        body.update({name: int(counts.get(name, 0)) for name in USED_RESOURCE_COUNTERS})
        self._call("POST", self.used_path, 200, auth=self._auth, json=body)

    def post_uptime(self, seconds):
        self._call("POST", self.telemetry + "uptime", 200, auth=self._auth, json={"uptime": int(seconds)})

    def post_ports(self, ports):
        self._call("POST", "/nodes/%s/ports" % self.node_id, 200, auth=self._auth, json={"ports": sorted(ports)})
