# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import os
import re
import stat
import time

import httpx
import nacl.public
import nacl.signing
import pytest

from ansible_collections.threefold.grid.plugins.module_utils._crypto import b58encode, wireguard_public_key
from ansible_collections.threefold.grid.plugins.module_utils._identity import Identity
from ansible_collections.threefold.grid.plugins.modules import zos_network
from ansible_collections.threefold.grid.tests.unit.plugins.modules.fake_explorer import (
    FakeExplorer,
    _error,
    run_module,
)

SEED = "5e" * 32
IDENTITY = Identity.from_seed_hex(SEED)
USER = {"id": 7, "name": "alice.3bot", "email": "alice@example.com", "pubkey": IDENTITY.public_key_hex,
        "host": "", "description": "", "signature": ""}
CREDENTIALS = {"identity_name": "alice.3bot", "identity_seed": SEED}
DEPLOY, DELETED = 3, 6


def make_node(label, public=False, free=False, age=30):
    signing_key = nacl.signing.SigningKey(bytes([label]) * 32)
    node = {
        "id": label, "node_id": b58encode(bytes(signing_key.verify_key)), "farm_id": 2, "updated": int(time.time()) - age,
        "public_key_hex": bytes(signing_key.verify_key).hex(), "wg_ports": [], "free_to_use": free,
        "ifaces": [{"name": "zos", "addrs": ["10.20.1.%d/24" % label], "gateway": ["10.20.1.1"]}],
        "public_config": None,
    }
    if public:
        node["public_config"] = {"master": "eth1", "type": 0, "ipv4": "185.69.167.%d/24" % label,
                                 "ipv6": "2a02:1802:5e:1::%d/64" % label, "gw4": "185.69.167.1", "gw6": "2a02:1802:5e:1::1"}
    return node, signing_key


PUBLIC_1, KEY_1 = make_node(21, public=True)
PUBLIC_2, KEY_2 = make_node(22, public=True)
HIDDEN_3, KEY_3 = make_node(23)
FREE_4, _ = make_node(24, public=True, free=True)
DOWN_5, _ = make_node(25, public=True, age=3600)
NODES = [PUBLIC_1, PUBLIC_2, HIDDEN_3, FREE_4, DOWN_5]
NODE_KEYS = {PUBLIC_1["node_id"]: KEY_1, PUBLIC_2["node_id"]: KEY_2, HIDDEN_3["node_id"]: KEY_3}


class ReservationExplorer(FakeExplorer):
    """FakeExplorer plus the customer side of reservations (explorer-api.md §3.5) in free mode.

    A reservation is deployed at once with an ok result per node workload; sign/delete deletes it.
    The customer signature is verified against the phonebook key, as the explorer does.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("users", [dict(USER)])
        kwargs.setdefault("nodes", [dict(n) for n in NODES])
        super(ReservationExplorer, self).__init__(**kwargs)
        self.reservations = []

    def handler(self, request):
        path = request.url.path[len("/explorer"):]
        body = json.loads(request.content) if request.content else None
        routes = [
            ("POST", r"/reservations", self.create), ("GET", r"/reservations", self.list),
            ("GET", r"/reservations/(\d+)", self.get), ("POST", r"/reservations/(\d+)/sign/delete", self.sign_delete),
        ]
        for method, pattern, action in routes:
            match = re.fullmatch(pattern, path)
            if match and method == request.method:
                self.requests.append(request)
                return action(request.url.params, body, *match.groups())
        return super(ReservationExplorer, self).handler(request)

    def created(self):
        return [r for r in self.requests if r.method == "POST" and r.url.path.endswith("/reservations")]

    def cancelled(self):
        return [int(r.url.path.split("/")[-3]) for r in self.requests if r.url.path.endswith("/sign/delete")]

    def create(self, params, body):
        user = next(u for u in self.users if u["id"] == body["customer_tid"])
        nacl.signing.VerifyKey(bytes.fromhex(user["pubkey"])).verify(
            body["json"].encode(), bytes.fromhex(body["customer_signature"]))
        assert json.loads(body["json"]) == body["data_reservation"]
        rid = len(self.reservations) + 1
        data = body["data_reservation"]
        results = []
        for volume in data["volumes"]:
            gwid = "%d-%d" % (rid, volume["workload_id"])
            results.append({"workload_id": gwid, "node_id": volume["node_id"], "state": 1, "category": 2,
                            "message": "", "data_json": {"volume_id": gwid}, "epoch": 0, "signature": ""})
        for network in data["networks"]:
            for resource in network["network_resources"]:
                results.append({"workload_id": "%d-%d" % (rid, network["workload_id"]), "node_id": resource["node_id"],
                                "state": 1, "category": 3, "message": "", "data_json": None, "epoch": 0,
                                "signature": ""})
        self.reservations.append(dict(body, id=rid, next_action=DEPLOY, results=results, epoch=int(time.time())))
        return httpx.Response(201, json={"reservation_id": rid, "escrow_information": {
            "address": "", "asset": "", "details": []}})

    def list(self, params, body):
        found = [r for r in self.reservations if int(params.get("customer_tid", r["customer_tid"])) == r["customer_tid"]
                 and int(params.get("next_action", r["next_action"])) == r["next_action"]]
        return httpx.Response(200, json=found, headers={"Pages": "1"})

    def get(self, params, body, rid):
        if int(rid) > len(self.reservations):
            return _error(404, "reservation not found")
        return httpx.Response(200, json=self.reservations[int(rid) - 1])

    def sign_delete(self, params, body, rid):
        reservation = self.reservations[int(rid) - 1]
        reservation["next_action"] = DELETED
        for result in reservation["results"]:
            result["state"] = 2
        return httpx.Response(201, text="null\n")

    def network_of(self, rid):
        return self.reservations[rid - 1]["data_reservation"]["networks"][0]


@pytest.fixture
def explorer():
    return ReservationExplorer()


@pytest.fixture
def network(monkeypatch, capsys, explorer):
    def runner(args, check_mode=False, diff=False):
        args = dict(CREDENTIALS, **args)
        if check_mode:
            args["_ansible_check_mode"] = True
        if diff:
            args["_ansible_diff"] = True
        return run_module(monkeypatch, capsys, zos_network.main, args, explorer)
    return runner


def net_args(*nodes, **extra):
    args = {"name": "net1", "ip_range": "10.30.0.0/16", "nodes": [{"node_id": n["node_id"]} for n in nodes],
            "wait_sleep": 0}
    args.update(extra)
    return args


def resources_by_node(network_workload):
    return dict((r["node_id"], r) for r in network_workload["network_resources"])


def test_creates_network_with_sealed_keys_and_tag(network, explorer):
    result = network(net_args(PUBLIC_1, HIDDEN_3))
    assert result["changed"] is True and result["action"] == "create"
    assert [n["subnet"] for n in result["network"]["nodes"]] == ["10.30.1.0/24", "10.30.2.0/24"]
    assert [n["gateway"] for n in result["network"]["nodes"]] == ["10.30.1.1", "10.30.2.1"]
    assert result["network"]["reservation_id"] == 1 and result["network"]["workload_state"] == "ok"

    reservation = explorer.reservations[0]
    assert json.loads(reservation["metadata"])["ansible"]["kind"] == "network"
    assert reservation["data_reservation"]["currencies"] == ["TFT"]
    workload = explorer.network_of(1)
    assert workload["name"] == "net1" and workload["iprange"] == "10.30.0.0/16"
    for node_id, resource in resources_by_node(workload).items():
        box = nacl.public.SealedBox(NODE_KEYS[node_id].to_curve25519_private_key())
        private = box.decrypt(bytes.fromhex(resource["wireguard_private_key_encrypted"])).decode()
        assert wireguard_public_key(private) == resource["wireguard_public_key"]
        assert private not in json.dumps(result)
        assert 1000 <= resource["wireguard_listen_port"] <= 8999
    hidden_peers = resources_by_node(workload)[HIDDEN_3["node_id"]]["peers"]
    assert hidden_peers[0]["endpoint"].startswith("185.69.167.21:")


def test_rerun_changes_nothing(network, explorer):
    first = network(net_args(PUBLIC_1, HIDDEN_3))
    second = network(net_args(PUBLIC_1, HIDDEN_3))
    assert second["changed"] is False and second["action"] == "none"
    assert len(explorer.created()) == 1 and explorer.cancelled() == []
    assert second["network"]["nodes"] == first["network"]["nodes"]


def test_adding_a_node_replaces_the_reservation_and_keeps_subnets_keys_ports(network, explorer):
    network(net_args(PUBLIC_1, HIDDEN_3))
    result = network(net_args(PUBLIC_2, PUBLIC_1, HIDDEN_3))
    assert result["changed"] is True and result["action"] == "replace"
    assert result["network"]["replaced"] == [1] and explorer.cancelled() == [1]
    old, new = resources_by_node(explorer.network_of(1)), resources_by_node(explorer.network_of(2))
    for node_id in (PUBLIC_1["node_id"], HIDDEN_3["node_id"]):
        for key in ("iprange", "wireguard_public_key", "wireguard_listen_port"):
            assert new[node_id][key] == old[node_id][key]
    assert new[PUBLIC_2["node_id"]]["iprange"] == "10.30.3.0/24"
    again = network(net_args(PUBLIC_2, PUBLIC_1, HIDDEN_3))
    assert again["changed"] is False


def test_check_mode_registers_nothing_and_diff_has_no_keys(network, explorer):
    result = network(net_args(PUBLIC_1, HIDDEN_3, access={"node_id": PUBLIC_1["node_id"]}), check_mode=True,
                     diff=True)
    assert result["changed"] is True and result["network"]["reservation_id"] is None
    assert explorer.writes() == []
    diff_text = json.dumps(result["diff"])
    assert "10.30.1.0/24" in diff_text
    for node in result["network"]["nodes"]:
        assert node["wireguard_public_key"] not in diff_text
    assert "PrivateKey" not in diff_text and "private" not in diff_text


@pytest.mark.parametrize("args, message", [
    ({"ip_range": "8.8.0.0/16"}, "ip_range: '8.8.0.0/16' is not a private range"),
    ({"ip_range": "10.30.0.0/20"}, "ip_range: '10.30.0.0/20' must be a /16, not a /20"),
    ({"nodes": [{"node_id": PUBLIC_1["node_id"], "subnet": "10.31.1.0/24"}]}, "nodes[0].subnet: '10.31.1.0/24' is not inside"),
    ({"nodes": [{"node_id": "unknownnode"}]}, "nodes[0].node_id: 'unknownnode' is not a node known to the explorer"),
    ({"nodes": [{"node_id": DOWN_5["node_id"]}]}, "nodes[0].node_id: node %r is down" % DOWN_5["node_id"]),
    ({"nodes": [{"node_id": PUBLIC_1["node_id"]}, {"node_id": FREE_4["node_id"]}]}, "free-to-use nodes"),
    ({"access": {"node_id": HIDDEN_3["node_id"]}}, "access.node_id: node %s has no public address" % HIDDEN_3["node_id"]),
    ({"access_config_path": "/nonexistent/dir/net.conf", "access": {"node_id": PUBLIC_1["node_id"]}},
     "access_config_path: the directory /nonexistent/dir does not exist"),
])
def test_validation_fails_before_anything_is_signed(network, explorer, args, message):
    result = network(dict(net_args(PUBLIC_1, HIDDEN_3), **args))
    assert result["failed"] is True
    assert message in result["msg"]
    assert explorer.writes() == []


def test_access_config_is_returned_and_stable(network, explorer):
    args = net_args(PUBLIC_1, HIDDEN_3, access={"node_id": PUBLIC_1["node_id"], "ipv4": True})
    first = network(args)
    config = first["access_config"]
    assert config.startswith("[Interface]\nAddress = 100.64.30.3/32\nPrivateKey = ")
    assert "AllowedIPs = 10.30.0.0/16, 100.64.0.0/16\n" in config
    port = first["network"]["nodes"][0]["wireguard_listen_port"]
    assert "Endpoint = 185.69.167.21:%d\n" % port in config
    assert first["network"]["access"]["subnet"] == "10.30.3.0/24"
    access_peers = [p for p in resources_by_node(explorer.network_of(1))[PUBLIC_1["node_id"]]["peers"]
                    if p["public_key"] == first["network"]["access"]["wireguard_public_key"]]
    assert access_peers and access_peers[0]["endpoint"] == ""
    second = network(args)
    assert second["changed"] is False and second["access_config"] == config


def test_access_config_path_is_written_0600_and_not_returned(network, explorer, tmp_path):
    path = str(tmp_path / "net1.conf")
    args = net_args(PUBLIC_1, access={"node_id": PUBLIC_1["node_id"]}, access_config_path=path)
    first = network(args)
    assert "access_config" not in first and "config_written" not in first and first["access_config_path"] == path
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as handle:
        text = handle.read()
    assert "PrivateKey = " in text and "Endpoint = [2a02:1802:5e:1::21]:" in text
    assert network(args)["changed"] is False
    os.chmod(path, 0o644)
    assert network(args, check_mode=True)["changed"] is True
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert network(args)["changed"] is True
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_absent_cancels_and_is_idempotent(network, explorer):
    network(net_args(PUBLIC_1))
    result = network({"name": "net1", "state": "absent", "wait_sleep": 0})
    assert result["changed"] is True and result["cancelled"] == [1] and result["network"] is None
    assert network({"name": "net1", "state": "absent"})["changed"] is False


@pytest.mark.parametrize("args", [
    {"ip_range": "192.169.0.0/16"},
    {"nodes": [{"node_id": PUBLIC_1["node_id"], "subnet": "10.30.4.0/24"},
               {"node_id": HIDDEN_3["node_id"], "subnet": "10.30.4.0/24"}]},
    {"access": {"node_id": PUBLIC_2["node_id"]}},
    {"access": {"node_id": PUBLIC_1["node_id"], "wg_public_key": "bm90IGEga2V5"}},
])
def test_option_errors_need_no_explorer(network, explorer, args):
    result = network(dict(net_args(PUBLIC_1, HIDDEN_3), **args))
    assert result["failed"] is True
    assert explorer.requests == []
