# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import os
import stat

import nacl.public
import pytest
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.threefold.grid.plugins.module_utils._crypto import wireguard_public_key
from ansible_collections.threefold.grid.plugins.modules import zos_network
from ansible_collections.threefold.grid.tests.unit.plugins.modules.sample_grid import (
    DOWN_5,
    FREE_4,
    HIDDEN_3,
    NODE_KEYS,
    PUBLIC_1,
    PUBLIC_2,
    sample_runner,
)


@pytest.fixture
def network(monkeypatch, capsys, explorer):
    return sample_runner(monkeypatch, capsys, zos_network.main, explorer)


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

    reservation = explorer.reservations[1]
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
    assert hidden_peers[0]["endpoint"].startswith("198.51.100.21:")


def test_rerun_changes_nothing(network, explorer):
    first = network(net_args(PUBLIC_1, HIDDEN_3))
    second = network(net_args(PUBLIC_1, HIDDEN_3))
    assert second["changed"] is False and second["action"] == "none"
    assert len(explorer.posted()) == 1 and explorer.cancelled() == []
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
    assert config.startswith("[Interface]\nAddress = 100.64.30.3/32\nPrivateKey = ********\n")
    assert "AllowedIPs = 10.30.0.0/16, 100.64.0.0/16\n" in config
    port = first["network"]["nodes"][0]["wireguard_listen_port"]
    assert "Endpoint = 198.51.100.21:%d\n" % port in config
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
    assert "PrivateKey = " in text and "Endpoint = [2001:db8:5e:1::21]:" in text
    assert network(args)["changed"] is False
    os.chmod(path, 0o644)
    assert network(args, check_mode=True)["changed"] is True
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert network(args)["changed"] is True
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_absent_removes_the_access_file(network, explorer, tmp_path):
    path = str(tmp_path / "net1.conf")
    network(net_args(PUBLIC_1, access={"node_id": PUBLIC_1["node_id"]}, access_config_path=path))
    absent = {"name": "net1", "state": "absent", "wait_sleep": 0, "access_config_path": path}
    preview = network(absent, check_mode=True)
    assert preview["changed"] is True and preview["config_removed"] is True and os.path.exists(path)
    removed = network(absent)
    assert removed["changed"] is True and removed["config_removed"] is True and not os.path.exists(path)
    again = network(absent)
    assert again["changed"] is False and again["config_removed"] is False


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


def test_absent_refuses_a_network_live_containers_use_unless_forced(network, explorer, monkeypatch):
    warned = []
    monkeypatch.setattr(AnsibleModule, "warn", lambda self, text: warned.append(text))
    network(net_args(PUBLIC_1))
    ip = "10.30.%s.10" % network(net_args(PUBLIC_1))["network"]["nodes"][0]["subnet"].split(".")[2]
    web = explorer.add({"containers": [{"workload_id": 1, "node_id": PUBLIC_1["node_id"],
                                        "network_connection": [{"network_id": "net1", "ipaddress": ip}]}]}, "web")
    absent = {"name": "net1", "state": "absent", "wait_sleep": 0}
    refused = network(absent)
    assert refused["failed"] is True and explorer.cancelled() == []
    assert "network 'net1' is used by live workloads of this identity: web (reservation %d); remove them first" % web \
        in refused["msg"] and "force=true" in refused["msg"]
    preview = network(absent, check_mode=True)
    assert preview["changed"] is True and explorer.cancelled() == []
    assert any("web (reservation %d); a real run refuses" % web in text for text in warned)
    forced = network(dict(absent, force=True))
    assert forced["changed"] is True and forced["cancelled"] == [1] and explorer.cancelled() == [1]
    assert any("cancelling it anyway (force=true)" in text for text in warned)
