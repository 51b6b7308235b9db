# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one fake explorer of the unit tests, one fake session, and a module runner.

FakeExplorer is an in-memory explorer (phonebook, directory of nodes and gateways, reservations) behind
httpx.MockTransport.
It follows docs/contract/explorer.md §3.1–§3.5 closely enough to prove what the collection sends: user
updates, reservations and deletes are verified against the stored key exactly as the explorer does
(explorer.md §5.3), lists are paged by `page`/`size` with a `Pages` header, and a new reservation goes to
pay when its escrow asks for money and straight to deploy when it is free (as localgrid does).
"""

from __future__ import annotations

import functools
import json
import re
import threading
import time

import httpx
import nacl.exceptions
import nacl.signing
import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.threefold.grid.plugins.module_utils import _session, _spec
from ansible_collections.threefold.grid.plugins.module_utils._explorer import ExplorerClient
from ansible_collections.threefold.grid.plugins.module_utils._session import GridSession
from ansible_collections.threefold.grid.plugins.module_utils._workloads import GATEWAY_LISTS, WORKLOAD_TYPES, gateway_ids

EXPLORER_URL = "http://explorer.test/explorer"
GATEWAY_WG_KEY = "GqRA5IFNqKTwfYnsNgGnOs7VLpZ+zfCDJbV0ygaBmXY="
GATEWAY_CATEGORIES = {"proxies": "proxy", "reverse_proxies": "reverse_proxy", "subdomains": "subdomain",
                      "domain_delegates": "domain_delegate", "gateway4to6": "gateway4to6"}


def _error(status, message):
    return httpx.Response(status, json={"error": message})


class FakeExplorer:
    """Phonebook, directory and the customer side of reservations.

    Each read of one reservation is a step of the nodes (``progress``): a registered reservation gets one
    result per node or gateway workload, a cancelled one becomes deleted. ``script[rid]`` (a list of dict updates)
    replaces that step for the next reads of ``rid``; ``nodes_report = False`` stops the nodes entirely.
    """

    PAY, DEPLOY, DELETE, DELETED = 2, 3, 4, 6

    def __init__(self, users=None, farms=None, nodes=None, gateways=None):
        self.users = list(users or [])
        self.farms = list(farms or [])
        self.nodes = list(nodes or [])
        self.gateways = list(gateways or [])
        self.requests = []
        self.down = False  # every request fails to connect, as with an explorer URL where nothing listens
        self.reservations = {}
        self.script = {}
        self.nodes_report = True
        # The nodes step on single reads only, unless listings_report: then on every reservation a listing shows
        # too (zos_containers waits for many through listings, _batch_wait.py).
        self.listings_report = False
        self.deploy = "ok"  # what the nodes report for containers: "ok", an error message, or None (never answer)
        self.gateway_answer = "ok"  # what gateways report for their workloads: "ok" or an error message
        self.escrow = {"address": "", "asset": "", "details": []}  # escrow_information of new reservations
        self._serving = threading.Lock()  # zos_containers calls from threads; the explorer answers one at a time

    def client(self, **kwargs):
        """An ExplorerClient talking to this fake (no retry pauses)."""
        kwargs.setdefault("sleep", lambda seconds: None)
        return ExplorerClient(EXPLORER_URL, transport=httpx.MockTransport(self.handler), **kwargs)

    def install(self, monkeypatch):
        """Make every session (modules, inventory) talk to this fake."""
        monkeypatch.setattr(_session, "ExplorerClient", functools.partial(
            ExplorerClient, transport=httpx.MockTransport(self.handler), sleep=lambda seconds: None))

    def writes(self):
        return [(request.method, request.url.path) for request in self.requests if request.method != "GET"]

    def calls(self):
        return [(request.method, request.url.path[len("/explorer"):]) for request in self.requests]

    def posts(self):
        return [call for call in self.calls() if call[0] == "POST"]

    def paths(self, prefix):
        return [request.url.path for request in self.requests if request.url.path.startswith(prefix)]

    def handler(self, request):
        with self._serving:
            return self._handle(request)

    def _handle(self, request):
        self.requests.append(request)
        if self.down:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        path = request.url.path[len("/explorer"):]
        body = json.loads(request.content) if request.content else None
        routes = [
            ("GET", r"/users", self.list_users), ("POST", r"/users", self.create_user),
            ("GET", r"/users/(\d+)", self.get_user), ("PUT", r"/users/(\d+)", self.update_user),
            ("GET", r"/farms", self.list_farms), ("GET", r"/farms/(\d+)", self.get_farm),
            ("GET", r"/nodes", self.list_nodes), ("GET", r"/nodes/([^/]+)", self.get_node),
            ("GET", r"/gateways", self.list_gateways), ("GET", r"/gateways/([^/]+)", self.get_gateway),
            ("POST", r"/reservations", self.create), ("GET", r"/reservations", self.list_reservations),
            ("GET", r"/reservations/(\d+)", self.get), ("POST", r"/reservations/(\d+)/sign/delete", self.sign_delete),
        ]
        for method, pattern, action in routes:
            match = re.fullmatch(pattern, path)
            if match and method == request.method:
                return action(request, body, *match.groups())
        return httpx.Response(404, text="404 page not found\n")

    @staticmethod
    def _page(request, items):
        size = int(request.url.params.get("size", 100))
        page = int(request.url.params.get("page", 1))
        pages = max(1, -(-len(items) // size))
        return httpx.Response(200, json=items[(page - 1) * size:page * size], headers={"Pages": str(pages)})

    def list_users(self, request, body):
        params = request.url.params
        return self._page(request, [u for u in self.users if params.get("name") in (None, u["name"])])

    @staticmethod
    def _one(items, key, value, missing="mongo: no documents in result"):
        """The item whose ``key`` is ``value``, or the explorer's 404."""
        for item in items:
            if item[key] == value:
                return httpx.Response(200, json=item)
        return _error(404, missing)

    def get_user(self, request, body, tid):
        return self._one(self.users, "id", int(tid))

    def create_user(self, request, body):
        if body["name"] != body["name"].lower():
            return _error(400, "name should be all lower case")
        if any(u["name"] == body["name"] or u["email"] == body["email"] for u in self.users):
            return _error(409, "user with same name or email exists")
        # v0.3.0 stores only name, email and pubkey at creation.
        user = {"id": len(self.users) + 1, "name": body["name"], "email": body["email"],
                "pubkey": body["pubkey"], "host": "", "description": "", "signature": ""}
        self.users.append(user)
        return httpx.Response(201, json=user)

    def update_user(self, request, body, tid):
        user = next((u for u in self.users if u["id"] == int(tid)), None)
        if user is None:
            return _error(500, "user not found")
        message = "%s%s%s%s%s%s" % (tid, body.get("name", ""), body.get("email", ""), body.get("host", ""),
                                    body.get("description", ""), body.get("pubkey", ""))
        try:
            nacl.signing.VerifyKey(bytes.fromhex(user["pubkey"])).verify(
                message.encode(), bytes.fromhex(body["sender_signature_hex"]))
        except nacl.exceptions.BadSignatureError:
            return _error(400, "payload verification failed: bad data during user update")
        if body.get("name") and body["name"] != user["name"]:
            return _error(400, "can not update name: bad data during user update")
        for key in ("pubkey", "email", "description", "host"):
            if body.get(key):
                user[key] = body[key]
        return httpx.Response(200, text="null\n")

    def list_farms(self, request, body):
        params = request.url.params
        farms = [f for f in self.farms if params.get("name") in (None, f["name"])
                 and params.get("owner") in (None, str(f["threebot_id"]))]
        return self._page(request, farms)

    def get_farm(self, request, body, farm_id):
        return self._one(self.farms, "id", int(farm_id))

    def list_nodes(self, request, body):
        params = request.url.params
        nodes = self.nodes
        if "farm" in params:
            nodes = [n for n in nodes if n["farm_id"] == int(params["farm"])]
        for key in ("country", "city"):
            if key in params:
                nodes = [n for n in nodes if n["location"][key] == params[key]]
        for key in ("cru", "mru", "sru", "hru"):
            if key in params:
                nodes = [n for n in nodes if n["total_resources"][key] >= int(params[key])]
        return self._page(request, nodes)

    def get_node(self, request, body, node_id):
        return self._one(self.nodes, "node_id", node_id, "node not found")

    def list_gateways(self, request, body):
        params = request.url.params
        gateways = [g for g in self.gateways
                    if all(params.get(key) in (None, g["location"][key]) for key in ("country", "city"))]
        return self._page(request, gateways)

    def get_gateway(self, request, body, node_id):
        return self._one(self.gateways, "node_id", node_id, "gateway not found")

    # ---- reservations (docs/contract/explorer.md §3.5) ------------------------------------------

    def add(self, data, name=None, kind="container", fp="f", next_action=DEPLOY, results=None, rid=None,
            metadata=None, epoch=None):
        """A reservation of the first user made outside the code under test; returns its id.

        The metadata tag is {name, kind, fp} unless ``metadata`` gives the raw text.
        """
        rid = rid if rid is not None else max(self.reservations or [0]) + 1
        if metadata is None:
            metadata = _spec.metadata_tag(name, kind, fp) if name else ""
        self.reservations[rid] = {"id": rid, "json": json.dumps(data), "data_reservation": data,
                                  "customer_tid": self.users[0]["id"], "next_action": next_action,
                                  "metadata": metadata, "results": list(results or []),
                                  "epoch": int(time.time()) if epoch is None else epoch}
        return rid

    def posted(self):
        """The bodies of POST /reservations, in order."""
        return [json.loads(r.content) for r in self.requests if r.method == "POST" and r.url.path.endswith("/reservations")]

    def cancelled(self):
        return [int(r.url.path.split("/")[-3]) for r in self.requests if r.url.path.endswith("/sign/delete")]

    def network_of(self, rid):
        return self.reservations[rid]["data_reservation"]["networks"][0]

    def _verify(self, tid, message, signature_hex):
        user = next(u for u in self.users if u["id"] == tid)
        nacl.signing.VerifyKey(bytes.fromhex(user["pubkey"])).verify(message.encode(), bytes.fromhex(signature_hex))

    def create(self, request, body):
        self._verify(body["customer_tid"], body["json"], body["customer_signature"])
        assert json.loads(body["json"]) == body["data_reservation"]
        known = set(g["node_id"] for g in self.gateways)
        if any(gateway_id not in known for gateway_id in gateway_ids(body["data_reservation"])):
            return _error(500, "mongo: no documents in result")
        rid = max(self.reservations or [0]) + 1
        # A free escrow goes straight to deploy; one that asks for money waits in pay.
        owed = sum(int(d.get("total_amount") or 0) for d in self.escrow.get("details") or [])
        self.reservations[rid] = dict(body, id=rid, next_action=self.PAY if owed else self.DEPLOY, results=[],
                                      epoch=int(time.time()))
        return httpx.Response(201, json={"reservation_id": rid, "escrow_information": dict(self.escrow)})

    def list_reservations(self, request, body):
        params = request.url.params
        found = [self.reservations[rid] for rid in sorted(self.reservations)
                 if int(params.get("customer_tid", self.reservations[rid]["customer_tid"]))
                 == self.reservations[rid]["customer_tid"]
                 and int(params.get("next_action", self.reservations[rid]["next_action"]))
                 == self.reservations[rid]["next_action"]]
        if self.listings_report and self.nodes_report:
            for reservation in found:
                self.progress(reservation)
        return self._page(request, found)

    def get(self, request, body, rid):
        if int(rid) not in self.reservations:
            return _error(404, "mongo: no documents in result")
        reservation = self.reservations[int(rid)]
        if self.script.get(int(rid)):
            reservation.update(self.script[int(rid)].pop(0))
        elif self.nodes_report:
            self.progress(reservation)
        return httpx.Response(200, json=reservation)

    def sign_delete(self, request, body, rid):
        reservation = self.reservations[int(rid)]
        self._verify(reservation["customer_tid"], "%d%s" % (reservation["id"], reservation["json"]), body["signature"])
        reservation["next_action"] = self.DELETE
        for result in reservation["results"]:
            result["state"] = 2  # deleted
        return httpx.Response(201, text="null\n")

    def progress(self, reservation):
        """One step of the nodes: report the workloads of a registered reservation, delete a cancelled one."""
        if reservation["next_action"] == self.DELETE:
            reservation["next_action"] = self.DELETED
            return
        if reservation["next_action"] != self.DEPLOY or reservation["results"] or self.deploy is None:
            return
        data, rid = reservation["data_reservation"], reservation["id"]
        ok = self.deploy == "ok"
        for container in data.get("containers") or []:
            gwid = "%d-%d" % (rid, container["workload_id"])
            ip = container["network_connection"][0]["ipaddress"]
            reservation["results"].append({"workload_id": gwid, "node_id": container["node_id"], "category": 1,
                                           "state": 1 if ok else 0, "message": "" if ok else self.deploy,
                                           "data_json": {"id": gwid, "ipv4": ip if ok else "", "ipv6": ""}})
        for volume in data.get("volumes") or []:
            gwid = "%d-%d" % (rid, volume["workload_id"])
            reservation["results"].append({"workload_id": gwid, "node_id": volume["node_id"], "category": 2,
                                           "state": 1, "message": "", "data_json": {"volume_id": gwid}})
        for vm in data.get("kubernetes") or []:
            gwid = "%d-%d" % (rid, vm["workload_id"])
            reservation["results"].append({"workload_id": gwid, "node_id": vm["node_id"], "category": 4,
                                           "state": 1 if ok else 0, "message": "" if ok else self.deploy,
                                           "data_json": {"id": gwid, "ip": vm["ipaddress"]}})
        for network in data.get("networks") or []:
            for resource in network["network_resources"]:
                reservation["results"].append({"workload_id": "%d-%d" % (rid, network["workload_id"]),
                                               "node_id": resource["node_id"], "category": 3, "state": 1,
                                               "message": "", "data_json": None})
        ok = self.report_gateways(reservation) and ok
        if not ok:
            reservation["next_action"] = self.DELETE  # the grid cancels a reservation whose workload failed

    def report_gateways(self, reservation):
        """The gateways' results (docs/contract/gateway.md §3): no data, but an address and a peer for a 4to6."""
        data, rid = reservation["data_reservation"], reservation["id"]
        ok = self.gateway_answer == "ok"
        for key in GATEWAY_LISTS:
            for workload in data.get(key) or []:
                answer = None
                if key == "gateway4to6" and ok:
                    answer = {"ips": ["2001:db8:4a7e:1::%x" % reservation["customer_tid"]],
                              "peers": [{"public_key": GATEWAY_WG_KEY, "endpoint": "203.0.113.7:3443",
                                         "allowed_ips": ["::/0"]}]}
                reservation["results"].append({
                    "workload_id": "%d-%d" % (rid, workload["workload_id"]), "node_id": workload["node_id"],
                    "category": WORKLOAD_TYPES[GATEWAY_CATEGORIES[key]], "state": 1 if ok else 0,
                    "message": "" if ok else self.gateway_answer, "data_json": answer})
        return ok


def unreachable_explorer():
    """An explorer URL where nothing listens: every request fails to connect."""
    fake = FakeExplorer()
    fake.down = True
    return fake


def fake_session(explorer, seed, name=None, check_mode=False, **options):
    """The one fake session: a real GridSession on ``explorer`` with the identity ``seed`` (None: no identity)."""
    options = dict(options, identity_seed=seed, explorer_url=EXPLORER_URL)
    if name is not None:
        options["identity_name"] = name
    return GridSession(options, check_mode=check_mode, client=explorer.client())


def run_module(monkeypatch, capsys, main, args, explorer=None, check_mode=False, diff=False):
    """Run a module's main() against `explorer`; return its JSON result (exit_json or fail_json)."""
    if explorer is not None:
        explorer.install(monkeypatch)
    args = dict(args)
    args.setdefault("explorer_url", EXPLORER_URL)
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with patch_module_args(args), pytest.raises(SystemExit):
        main()
    return json.loads(capsys.readouterr().out)


def module_runner(monkeypatch, capsys, main, new_explorer):
    """``runner(args, explorer=None)``: run_module with a fresh ``new_explorer()`` unless one is given."""
    def runner(args, explorer=None):
        return run_module(monkeypatch, capsys, main, args, explorer or new_explorer())
    return runner
