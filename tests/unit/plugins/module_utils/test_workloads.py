# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

from ansible_collections.threefold.grid.plugins.module_utils import _workloads


def container(**overrides):
    kwargs = dict(workload_id=2, node_id="N1", flist="https://hub/x.flist", network_name="net",
                  ip_address="10.1.3.10", environment={"A": "1"}, secret_environment={"PW": "abcd"},
                  entrypoint="/start", volumes=[("-1", "/data")], logs=[("redis://h/c-stdout", "redis://h/c-stderr")],
                  cpu=2, memory=2048, disk_size=512, disk_type="HDD")
    kwargs.update(overrides)
    return _workloads.container_workload(**kwargs)


def test_container_wire_encoding_uses_ints_and_sdk_keys():
    wire = container()
    assert list(wire) == ["workload_id", "node_id", "flist", "hub_url", "environment", "secret_environment",
                          "entrypoint", "interactive", "volumes", "network_connection", "stats_aggregator",
                          "farmer_tid", "logs", "capacity"]
    assert wire["capacity"] == {"cpu": 2, "memory": 2048, "disk_size": 512, "disk_type": 0}
    assert wire["network_connection"] == [{"network_id": "net", "ipaddress": "10.1.3.10", "public_ip6": False}]
    assert wire["volumes"] == [{"volume_id": "-1", "mountpoint": "/data"}]
    assert wire["logs"] == [{"type": "redis", "data": {"stdout": "redis://h/c-stdout", "stderr": "redis://h/c-stderr"}}]
    assert isinstance(wire["workload_id"], int) and wire["stats_aggregator"] == []
    assert container(disk_type="SSD")["capacity"]["disk_type"] == 1
    # the wire form is JSON as-is (no sets, no custom objects)
    assert json.loads(json.dumps(wire)) == wire


def test_volume_wire_encoding():
    assert _workloads.volume_workload(1, "N1", 5) == {"workload_id": 1, "node_id": "N1", "size": 5, "type": 1,
                                                      "stats_aggregator": [], "farmer_tid": 0}
    assert _workloads.volume_workload(1, "N1", 5, "HDD")["type"] == 0


def test_enum_tables():
    assert _workloads.WORKLOAD_TYPES["container"] == 1 and _workloads.WORKLOAD_TYPE_NAMES[3] == "network"
    assert _workloads.RESULT_STATE_NAMES == {0: "error", 1: "ok", 2: "deleted"}


def test_global_workload_id():
    assert _workloads.global_workload_id(42, 3) == "42-3"


def test_node_workload_count_fans_out_networks():
    reservation = _workloads.empty_workload_lists()
    reservation["containers"] = [container()]
    reservation["volumes"] = [_workloads.volume_workload(1, "N1", 5)]
    reservation["networks"] = [{"name": "net", "network_resources": [{"node_id": "N1"}, {"node_id": "N2"}]}]
    assert _workloads.node_workload_count(reservation) == 4
    assert _workloads.workload_nodes(reservation) == ["N1", "N2"]


def test_describe_container_masks_secrets_and_round_trips_options():
    shown = _workloads.describe_container(container())
    assert shown["secret_env"] == {"PW": "********"}
    assert "abcd" not in json.dumps(shown)
    assert shown["capacity"]["disk_type"] == "HDD"
    assert shown["network_connection"] == {"name": "net", "ip_address": "10.1.3.10", "public_ipv6": False}
    assert shown["volumes"] == [{"volume": "-1", "mountpoint": "/data"}]
    assert shown["logs"] == [{"stdout": "redis://h/c-stdout", "stderr": "redis://h/c-stderr"}]


def test_describe_network_has_no_key_material():
    network = {"name": "net", "workload_id": 1, "iprange": "10.1.0.0/16", "network_resources": [
        {"node_id": "N1", "iprange": "10.1.1.0/24", "wireguard_private_key_encrypted": "secret",
         "wireguard_public_key": "pub", "wireguard_listen_port": 1234, "peers": []}]}
    shown = _workloads.describe_workloads({"networks": [network], "containers": []})
    assert list(shown) == ["networks"]
    assert "secret" not in json.dumps(shown)
    assert shown["networks"][0]["nodes"] == [{"node_id": "N1", "ip_range": "10.1.1.0/24",
                                              "wireguard_listen_port": 1234}]


def test_container_from_spec_seals_each_secret_for_the_node():
    from ansible_collections.threefold.grid.plugins.module_utils._spec import normalise_container

    spec = normalise_container({
        "node_id": "N1", "flist": "https://hub/x.flist", "network_connection": {"name": "net", "ip_address": "10.1.3.10"},
        "secret_env": {"PW": "hunter2"}, "env": {"A": "1"}, "volumes": [{"volume": "5-1", "mountpoint": "/data"}],
    })[0]
    sealed = []

    def seal(node_id, plaintext):
        sealed.append((node_id, plaintext))
        return "cipher-%d" % len(sealed)

    wire = _workloads.container_from_spec(spec, 1, seal)
    assert sealed == [("N1", "hunter2")]
    assert wire["secret_environment"] == {"PW": "cipher-1"}
    assert wire["environment"] == {"A": "1"}
    assert wire["volumes"] == [{"volume_id": "5-1", "mountpoint": "/data"}]
    assert wire["capacity"] == {"cpu": 1, "memory": 1024, "disk_size": 256, "disk_type": 1}
    assert "hunter2" not in json.dumps(wire)


def test_container_result_reads_data_json():
    wire = container()
    results = [{"workload_id": "7-2", "node_id": "N1", "state": 1, "message": "",
                "data_json": {"id": "7-2", "ipv4": "10.1.3.10", "ipv6": "fd00::1"}},
               {"workload_id": "7-3", "state": 0, "message": "other"}]
    shown = _workloads.container_result(7, wire, results)
    assert shown["workload_id"] == "7-2" and shown["ipv4"] == "10.1.3.10" and shown["ipv6"] == "fd00::1"
    assert shown["result_state"] == "ok" and len(shown["results"]) == 1
    pending = _workloads.container_result(8, wire, [])
    assert pending["ipv4"] is None and pending["result_state"] is None
