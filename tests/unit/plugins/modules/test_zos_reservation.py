# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

import pytest

from ansible_collections.threefold.grid.plugins.module_utils import _reservation_wait
from ansible_collections.threefold.grid.plugins.modules import zos_reservation, zos_reservation_info
from ansible_collections.threefold.grid.tests.unit.plugins.grid_fake import run_module
from ansible_collections.threefold.grid.tests.unit.plugins.modules.test_zos_container import (
    NODE,
    OTHER_NODE,
    SECRET,
    SEED,
    grid_explorer,
    network_data,
)

IDENTITY = {"identity_name": "alice.3bot", "identity_seed": SEED}


@pytest.fixture(autouse=True)
def fast_wait(monkeypatch):
    monkeypatch.setattr(_reservation_wait.time, "sleep", lambda seconds: None)
    for name in ("TFGRID_NETWORK", "TFGRID_EXPLORER_URL", "TFGRID_IDENTITY_NAME", "TFGRID_IDENTITY_SEED"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def explorer():
    fake = grid_explorer()
    fake.nodes[0].update(wg_ports=[], public_config={"ipv4": "192.0.2.11/24", "ipv6": "2001:db8:5e::11/64"},
                         ifaces=[])
    return fake


@pytest.fixture
def run(monkeypatch, capsys):
    def runner(main, explorer, check_mode=False, **args):
        args = dict(IDENTITY, _ansible_check_mode=check_mode, **args)
        if main is zos_reservation.main:
            args["wait_sleep"] = 0
        result = run_module(monkeypatch, capsys, main, args, explorer)
        assert SECRET not in json.dumps(result)
        return result
    return runner


def blog(**overrides):
    args = {
        "name": "blog",
        "networks": [{"name": "blognet", "ip_range": "10.30.0.0/16", "nodes": [{"node_id": NODE, "subnet": "10.30.1.0/24"}]}],
        "volumes": [{"name": "data", "node_id": NODE, "size": 2}],
        "containers": [{"name": "web", "node_id": NODE, "flist": "https://hub.grid.tf/a/b.flist", "entrypoint": "/start",
                        "secret_env": {"PW": SECRET},
                        "network_connection": {"name": "blognet", "ip_address": "10.30.1.10"},
                        "volumes": [{"volume": "data", "mountpoint": "/data"}]}],
        "duration": "3h",
    }
    args.update(overrides)
    return args


def test_one_reservation_with_network_volume_and_container(run, explorer):
    result = run(zos_reservation.main, explorer, **blog())
    assert result["changed"] and result["action"] == "create"
    data = explorer.posted()[0]["data_reservation"]
    assert [n["workload_id"] for n in data["networks"]] == [1]
    assert data["networks"][0]["network_resources"][0]["iprange"] == "10.30.1.0/24"
    assert data["volumes"] == [{"workload_id": 2, "node_id": NODE, "size": 2, "type": 1, "stats_aggregator": [],
                                "farmer_tid": 0}]
    container = data["containers"][0]
    assert container["workload_id"] == 3
    assert container["volumes"] == [{"volume_id": "-2", "mountpoint": "/data"}]
    assert result["containers"] == [{"name": "web", "workload_id": "1-3", "node_id": NODE, "ip_address": "10.30.1.10",
                                     "ipv4": "10.30.1.10", "ipv6": None, "result_state": "ok", "message": ""}]
    assert result["reservation"]["kind"] == "reservation" and result["reservation"]["name"] == "blog"


def test_rerun_is_unchanged(run, explorer):
    first = run(zos_reservation.main, explorer, **blog())
    writes = len(explorer.writes())
    # the node now reports the network's WireGuard port as used: the plan must keep it, not pick another
    explorer.nodes[0]["wg_ports"] = [n["wireguard_listen_port"] for n in first["reservation"]["workloads"]["networks"][0]["nodes"]]
    again = run(zos_reservation.main, explorer, **blog())
    assert again["changed"] is False and len(explorer.writes()) == writes


def test_labels_go_in_the_metadata_not_mixed_with_the_container_names(run, explorer):
    result = run(zos_reservation.main, explorer, **blog(labels={"app": "blog"}))
    assert json.loads(explorer.posted()[0]["metadata"])["ansible"]["labels"] == {"app": "blog"}
    assert result["reservation"]["labels"] == {"app": "blog"}
    assert [c["name"] for c in result["containers"]] == ["web"]


def test_container_on_a_node_outside_the_local_network_is_refused(run, explorer):
    args = blog()
    args["containers"][0]["node_id"] = OTHER_NODE
    args["containers"][0]["volumes"] = []
    result = run(zos_reservation.main, explorer, **args)
    assert result["failed"]
    assert "containers[0].network_connection.name: network 'blognet' of this reservation has no resource on node" \
        in result["msg"]
    assert explorer.writes() == []


def test_local_volume_on_another_node_is_refused(run, explorer):
    args = blog()
    args["volumes"][0]["node_id"] = OTHER_NODE
    result = run(zos_reservation.main, explorer, **args)
    assert result["failed"] and "containers[0].volumes[0].volume: volume 'data' is on node %s" % OTHER_NODE in result["msg"]


def test_a_string_for_a_container_volume_names_the_nested_option(run, explorer):
    args = blog()
    args["containers"][0]["volumes"] = "data:/data"
    result = run(zos_reservation.main, explorer, **args)
    assert result["failed"] and result["msg"].startswith(
        "containers[0].volumes[0] is a str, but containers[0].volumes is a list of dicts with the keys mountpoint and "
        "volume")
    assert explorer.writes() == []


def test_duplicate_workload_names_are_refused(run, explorer):
    args = blog(volumes=[{"name": "blognet", "node_id": NODE, "size": 1}])
    result = run(zos_reservation.main, explorer, **args)
    assert result["failed"] and "volumes[0].name: 'blognet' is used by another network or volume" in result["msg"]


def test_needs_a_workload(run, explorer):
    result = run(zos_reservation.main, explorer, name="empty")
    assert result["failed"] and "a reservation needs at least one workload" in result["msg"]


def test_absent_and_deployed_by_id(run, explorer):
    rid = explorer.add(network_data(), "other", kind="network")
    deployed = run(zos_reservation.main, explorer, id=rid, state="deployed")
    assert deployed["changed"] is False and deployed["reservation"]["id"] == rid
    cancelled = run(zos_reservation.main, explorer, id=rid, state="absent")
    assert cancelled["changed"] and cancelled["cancelled"] == [rid] and cancelled["reservation"]["state"] == "deleted"
    assert run(zos_reservation.main, explorer, id=rid, state="absent")["changed"] is False


def test_check_mode_writes_nothing(run, explorer):
    result = run(zos_reservation.main, explorer, check_mode=True, **blog())
    assert result["changed"] and result["estimate"]["total_amount"] > 0
    assert result["reservation"]["id"] is None and result["reservation"]["name"] == "blog"
    assert [c["name"] for c in result["containers"]] == ["web"] and result["containers"][0]["workload_id"] is None
    assert explorer.writes() == []


def test_info_lists_filters_and_pages(run, explorer):
    run(zos_reservation.main, explorer, **blog())
    explorer.add(network_data(), "net", kind="network", next_action=6)
    listed = run(zos_reservation_info.main, explorer)
    assert [r["id"] for r in listed["reservations"]] == [1, 2]
    assert listed["reservations"][0]["workloads"]["containers"][0]["secret_env"] == {"PW": "********"}
    live = run(zos_reservation_info.main, explorer, state=["live"])
    assert [r["id"] for r in live["reservations"]] == [1]
    by_name = run(zos_reservation_info.main, explorer, name="net", kind="network")
    assert [r["state"] for r in by_name["reservations"]] == ["deleted"]
    assert run(zos_reservation_info.main, explorer, id=2)["reservations"][0]["name"] == "net"
    assert run(zos_reservation_info.main, explorer, id=99)["reservations"] == []


def test_replacement_keeps_the_live_network_layout(run, explorer):
    first = run(zos_reservation.main, explorer, **blog())
    old = explorer.posted()[0]["data_reservation"]["networks"][0]["network_resources"][0]
    # the node now lists the network's WireGuard port as used, as a deployed node does
    explorer.nodes[0]["wg_ports"] = [old["wireguard_listen_port"]]
    args = blog()
    args["containers"][0]["entrypoint"] = "/start --verbose"
    replaced = run(zos_reservation.main, explorer, **args)
    assert replaced["action"] == "replace" and replaced["replaced"] == [first["reservation"]["id"]]
    new = explorer.posted()[1]["data_reservation"]["networks"][0]["network_resources"][0]
    for key in ("iprange", "wireguard_listen_port", "wireguard_public_key"):
        assert new[key] == old[key]


def test_hdd_volume_is_refused_before_any_request(run, explorer):
    args = blog(volumes=[{"name": "data", "node_id": NODE, "size": 2, "type": "HDD"}])
    result = run(zos_reservation.main, explorer, **args)
    assert result["failed"]
    assert "volumes[0].type: 'HDD' volumes are refused by the explorer (since v0.3.2 volumes must be SSD); " \
           "use volumes[0].type=SSD" in result["msg"]
    assert explorer.requests == []


def test_deployed_waits_for_many_ids_at_once(run, explorer):
    first = explorer.add(network_data(), "one", kind="network")
    second = explorer.add(network_data(), "two", kind="network")
    result = run(zos_reservation.main, explorer, ids=[first, second], state="deployed")
    assert result["changed"] is False and result["action"] == "wait"
    assert [(r["id"], r["state"], r["workload_state"]) for r in result["reservations"]] == \
        [(first, "deploy", "ok"), (second, "deploy", "ok")]
    assert explorer.writes() == []


def test_deployed_ids_waits_for_every_one_and_names_the_failures(run, explorer):
    gone = explorer.add(network_data(), "gone", kind="network")
    fine = explorer.add(network_data(), "fine", kind="network")
    explorer.script[gone] = [{"next_action": 6}]
    result = run(zos_reservation.main, explorer, ids=[gone, fine], state="deployed")
    assert result["failed"]
    assert result["msg"].startswith("1 of 2 reservations were not deployed: Reservation %d moved to deleted" % gone)
    assert result["failure"] == {"not_deployed": [gone], "deployed": [fine]}


def test_ids_are_only_for_deployed(run, explorer):
    result = run(zos_reservation.main, explorer, ids=[1], state="absent")
    assert result["failed"] and "state is absent but any of the following are missing: name, id" in result["msg"]
    assert explorer.calls() == []
