# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""An in-memory explorer (phonebook + directory) behind httpx.MockTransport, and a module runner.

It follows explorer-api.md §3.1–§3.3 closely enough to prove what modules send: user updates are
verified against the stored key exactly as the explorer does (§5.3).
"""

from __future__ import annotations

import functools
import json
import re

import httpx
import nacl.exceptions
import nacl.signing
import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.threefold.grid.plugins.module_utils import _base
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
