# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""An in-memory explorer (phonebook, directory, reservations) behind httpx.MockTransport, and a module runner.

It follows docs/contract/explorer.md §3.1–§3.3 closely enough to prove what modules send: user updates are
verified against the stored key exactly as the explorer does (explorer.md §5.3).
"""

from __future__ import annotations

import functools
import json
import re
import time

import httpx
import nacl.exceptions
import nacl.signing
import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.threefold.grid.plugins.module_utils import _base, _spec
from ansible_collections.threefold.grid.plugins.module_utils._explorer import ExplorerClient

EXPLORER_URL = "http://explorer.test/explorer"


def _error(status, message):
    return httpx.Response(status, json={"error": message})


class FakeExplorer:
    def __init__(self, users=None, farms=None, nodes=None):
        self.users = list(users or [])
        self.farms = list(farms or [])
        self.nodes = list(nodes or [])
        self.requests = []

    def writes(self):
        return [(request.method, request.url.path) for request in self.requests if request.method != "GET"]

    def handler(self, request):
        self.requests.append(request)
        path = request.url.path[len("/explorer"):]
        params = request.url.params
        body = json.loads(request.content) if request.content else None
        routes = [
            ("GET", r"/users", self.list_users), ("POST", r"/users", self.create_user),
            ("GET", r"/users/(\d+)", self.get_user), ("PUT", r"/users/(\d+)", self.update_user),
            ("GET", r"/farms", self.list_farms), ("GET", r"/farms/(\d+)", self.get_farm),
            ("GET", r"/nodes", self.list_nodes), ("GET", r"/nodes/(\w+)", self.get_node),
        ]
        for method, pattern, action in routes:
            match = re.fullmatch(pattern, path)
            if match and method == request.method:
                return action(params, body, *match.groups())
        return httpx.Response(404, text="404 page not found\n")

    @staticmethod
    def _page(items):
        return httpx.Response(200, json=items, headers={"Pages": "1"})

    def list_users(self, params, body):
        return self._page([u for u in self.users if params.get("name") in (None, u["name"])])

    def get_user(self, params, body, tid):
        for user in self.users:
            if user["id"] == int(tid):
                return httpx.Response(200, json=user)
        return _error(404, "mongo: no documents in result")

    def create_user(self, params, body):
        if body["name"] != body["name"].lower():
            return _error(400, "name should be all lower case")
        if any(u["name"] == body["name"] or u["email"] == body["email"] for u in self.users):
            return _error(409, "user with same name or email exists")
        # v0.3.0 stores only name, email and pubkey at creation.
        user = {"id": len(self.users) + 1, "name": body["name"], "email": body["email"],
                "pubkey": body["pubkey"], "host": "", "description": "", "signature": ""}
        self.users.append(user)
        return httpx.Response(201, json=user)

    def update_user(self, params, body, tid):
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

    def list_farms(self, params, body):
        farms = [f for f in self.farms if params.get("name") in (None, f["name"])
                 and params.get("owner") in (None, str(f["threebot_id"]))]
        return self._page(farms)

    def get_farm(self, params, body, farm_id):
        for farm in self.farms:
            if farm["id"] == int(farm_id):
                return httpx.Response(200, json=farm)
        return _error(404, "mongo: no documents in result")

    def list_nodes(self, params, body):
        nodes = self.nodes
        if "farm" in params:
            nodes = [n for n in nodes if n["farm_id"] == int(params["farm"])]
        for key in ("country", "city"):
            if key in params:
                nodes = [n for n in nodes if n["location"][key] == params[key]]
        for key in ("cru", "mru", "sru", "hru"):
            if key in params:
                nodes = [n for n in nodes if n["total_resources"][key] >= int(params[key])]
        return self._page(nodes)

    def get_node(self, params, body, node_id):
        for node in self.nodes:
            if node["node_id"] == node_id:
                return httpx.Response(200, json=node)
        return _error(404, "node not found")


class ReservationExplorer(FakeExplorer):
    """FakeExplorer plus the customer side of reservations (explorer.md §3.5), without escrow to pay.

    Signatures (the customer signature, sign/delete) are verified against the customer's phonebook key, as the
    explorer does. Each read of one reservation moves it a step, like nodes reporting between two polls: a
    registered reservation gets one result per node workload, a cancelled one becomes deleted.
    """

    DEPLOY, DELETE, DELETED = 3, 4, 6

    def __init__(self, **kwargs):
        super(ReservationExplorer, self).__init__(**kwargs)
        self.reservations = {}
        self.deploy = "ok"  # what the nodes report for containers: "ok", an error message, or None (never answer)
        self.escrow = {"address": "", "asset": "", "details": []}  # escrow_information of new reservations

    def add(self, data, name, kind="container", fp="f", next_action=DEPLOY, results=None):
        """A reservation of the first user made outside the module under test; returns its id."""
        rid = len(self.reservations) + 1
        self.reservations[rid] = {"id": rid, "json": json.dumps(data), "data_reservation": data,
                                  "customer_tid": self.users[0]["id"], "next_action": next_action,
                                  "metadata": _spec.metadata_tag(name, kind, fp), "results": results or [],
                                  "epoch": int(time.time())}
        return rid

    def handler(self, request):
        path = request.url.path[len("/explorer"):]
        body = json.loads(request.content) if request.content else None
        routes = [
            ("POST", r"/reservations", self.create), ("GET", r"/reservations", self.list_reservations),
            ("GET", r"/reservations/(\d+)", self.get), ("POST", r"/reservations/(\d+)/sign/delete", self.sign_delete),
        ]
        for method, pattern, action in routes:
            match = re.fullmatch(pattern, path)
            if match and method == request.method:
                self.requests.append(request)
                return action(request.url.params, body, *match.groups())
        return super(ReservationExplorer, self).handler(request)

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

    def create(self, params, body):
        self._verify(body["customer_tid"], body["json"], body["customer_signature"])
        assert json.loads(body["json"]) == body["data_reservation"]
        rid = len(self.reservations) + 1
        self.reservations[rid] = dict(body, id=rid, next_action=self.DEPLOY, results=[], epoch=int(time.time()))
        return httpx.Response(201, json={"reservation_id": rid, "escrow_information": dict(self.escrow)})

    def list_reservations(self, params, body):
        found = [r for r in self.reservations.values()
                 if int(params.get("customer_tid", r["customer_tid"])) == r["customer_tid"]
                 and int(params.get("next_action", r["next_action"])) == r["next_action"]]
        return self._page(found)

    def get(self, params, body, rid):
        if int(rid) not in self.reservations:
            return _error(404, "mongo: no documents in result")
        reservation = self.reservations[int(rid)]
        self.progress(reservation)
        return httpx.Response(200, json=reservation)

    def sign_delete(self, params, body, rid):
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
        for network in data.get("networks") or []:
            for resource in network["network_resources"]:
                reservation["results"].append({"workload_id": "%d-%d" % (rid, network["workload_id"]),
                                               "node_id": resource["node_id"], "category": 3, "state": 1,
                                               "message": "", "data_json": None})
        if not ok:
            reservation["next_action"] = self.DELETE  # the grid cancels a reservation whose workload failed


class UnreachableExplorer(FakeExplorer):
    """Every request fails to connect, as with an explorer URL where nothing listens."""

    def handler(self, request):
        self.requests.append(request)
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


def run_module(monkeypatch, capsys, main, args, explorer=None):
    """Run a module's main() against `explorer`; return its JSON result (exit_json or fail_json)."""
    if explorer is not None:
        monkeypatch.setattr(_base, "ExplorerClient",
                            functools.partial(ExplorerClient, transport=httpx.MockTransport(explorer.handler)))
    args = dict(args)
    args.setdefault("explorer_url", EXPLORER_URL)
    with patch_module_args(args), pytest.raises(SystemExit):
        main()
    return json.loads(capsys.readouterr().out)
