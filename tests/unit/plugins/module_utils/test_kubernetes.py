# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.threefold.grid.plugins.module_utils._errors import SpecError
from ansible_collections.threefold.grid.plugins.module_utils._kubernetes import (
    assign_addresses,
    kubernetes_result,
    kubernetes_workload,
    member_spec,
    node_subnets,
    normalise_cluster,
    split_worker_tag_name,
    worker_tag_name,
)
from ansible_collections.threefold.grid.plugins.module_utils._spec import Secret, fingerprint, masked
from ansible_collections.threefold.grid.plugins.module_utils._workloads import describe_kubernetes

NODE_A, NODE_B = "nodeA", "nodeB"
SUBNETS = {NODE_A: "10.1.3.0/24", NODE_B: "10.1.4.0/24"}


def options(**overrides):
    base = {"network_name": "net", "cluster_secret": "tok3n", "ssh_keys": ["ssh-ed25519 AAAA me"], "size": 1,
            "master": {"node_id": NODE_A, "ip_address": None, "size": None},
            "workers": [{"name": "w1", "node_id": NODE_B, "ip_address": None, "size": 2}]}
    base.update(overrides)
    return base


def test_cluster_spec_defaults_and_keeps_the_secret_secret():
    cluster = normalise_cluster(options(workers=[{"node_id": NODE_B}, {"node_id": NODE_A, "size": 2}]))
    members = cluster["members"]
    assert [(m["member"], m["role"], m["size"]) for m in members] == [
        ("master", "master", 1), ("worker-1", "worker", 1), ("worker-2", "worker", 2)]
    assert cluster["cluster_secret"] == Secret("tok3n")
    assert masked(cluster)["cluster_secret"] == "********"


@pytest.mark.parametrize("overrides, message", [
    ({"size": 3}, "size: 3 is not a VM size; 0-OS knows 1 (1 vCPU, 2 GiB, 50 GB SSD), 2 (2 vCPU, 4 GiB, 100 GB SSD)"),
    ({"master": {"node_id": NODE_A, "size": 4}}, "master.size: 4 is not a VM size"),
    ({"workers": [{"node_id": NODE_B, "size": 0}]}, "workers[0].size: 0 is not a VM size"),
    ({"master": None}, "master: None must describe the master VM"),
    ({"master": {"node_id": " "}}, "master.node_id: ' ' must be a node id"),
    ({"network_name": ""}, "network_name: '' must name the network"),
    ({"cluster_secret": "two words"}, "cluster_secret: must be a non-empty value without whitespace"),
    ({"workers": [{"name": "a", "node_id": NODE_B}, {"name": "a", "node_id": NODE_A}]},
     "workers[1].name: 'a' is used twice"),
    ({"workers": [{"name": "x/y", "node_id": NODE_B}]}, "workers[0].name: 'x/y' must be a name without '/'"),
    ({"workers": [{"node_id": NODE_B, "ip_address": "10.1.4"}]}, "workers[0].ip_address: '10.1.4' is not an IPv4"),
    ({"ssh_keys": ['ssh-rsa "x"']}, "ssh_keys[0]: 'ssh-rsa \"x\"' must be one public key"),
])
def test_bad_options_name_the_option_and_value(overrides, message):
    with pytest.raises(SpecError) as error:
        normalise_cluster(options(**overrides))
    assert str(error.value).startswith(message)
    assert "two words" not in str(error.value)


def test_addresses_are_chosen_in_each_node_subnet_skipping_taken_ones():
    cluster = normalise_cluster(options(workers=[{"name": "w1", "node_id": NODE_B}, {"name": "w2", "node_id": NODE_A}]))
    assign_addresses(cluster["members"], SUBNETS, taken={"10.1.3.2"}, previous={})
    assert [m["ip_address"] for m in cluster["members"]] == ["10.1.3.3", "10.1.4.2", "10.1.3.4"]


def test_a_live_vm_keeps_its_address_and_a_given_one_wins():
    cluster = normalise_cluster(options(master={"node_id": NODE_A, "ip_address": "10.1.3.9"},
                                        workers=[{"name": "w1", "node_id": NODE_B}, {"name": "w2", "node_id": NODE_B}]))
    # w2's old address is outside its node's subnet now (it moved nodes): it gets a new one.
    assign_addresses(cluster["members"], SUBNETS, taken=set(), previous={"w1": "10.1.4.50", "w2": "10.1.3.7"})
    assert [m["ip_address"] for m in cluster["members"]] == ["10.1.3.9", "10.1.4.50", "10.1.4.2"]


@pytest.mark.parametrize("master_ip, worker_ip, message", [
    ("10.1.3.9", "10.1.3.20", "workers[0].ip_address: '10.1.3.20' is not inside the node's subnet 10.1.4.0/24"),
    ("10.1.3.1", None, "master.ip_address: '10.1.3.1' is reserved in 10.1.3.0/24"),
])
def test_addresses_outside_the_node_subnet_are_refused(master_ip, worker_ip, message):
    cluster = normalise_cluster(options(master={"node_id": NODE_A, "ip_address": master_ip},
                                        workers=[{"name": "w1", "node_id": NODE_B, "ip_address": worker_ip}]))
    with pytest.raises(SpecError) as error:
        assign_addresses(cluster["members"], SUBNETS, set(), {})
    assert str(error.value).startswith(message)


def test_two_vms_with_one_address_are_refused():
    cluster = normalise_cluster(options(master={"node_id": NODE_A, "ip_address": "10.1.3.5"},
                                        workers=[{"name": "w1", "node_id": NODE_A, "ip_address": "10.1.3.5"}]))
    with pytest.raises(SpecError) as error:
        assign_addresses(cluster["members"], SUBNETS, set(), {})
    assert str(error.value) == "workers[0].ip_address: '10.1.3.5' is already the address of master"


def test_a_full_subnet_is_refused():
    cluster = normalise_cluster(options(workers=[]))
    taken = set("10.1.3.%d" % host for host in range(2, 255))
    with pytest.raises(SpecError) as error:
        assign_addresses(cluster["members"], SUBNETS, taken, {})
    assert str(error.value) == "master.ip_address: no free address left in the node's subnet 10.1.3.0/24"


def test_workers_carry_the_master_address_in_their_fingerprint():
    cluster = normalise_cluster(options())
    assign_addresses(cluster["members"], SUBNETS, set(), {})
    master, worker = cluster["members"]
    assert member_spec(cluster, master, "10.1.3.2")["master_ips"] == []
    spec = member_spec(cluster, worker, "10.1.3.2")
    assert spec["master_ips"] == ["10.1.3.2"]
    assert fingerprint(spec, b"k") != fingerprint(member_spec(cluster, worker, "10.1.3.3"), b"k")
    other = normalise_cluster(options(cluster_secret="other"))
    assign_addresses(other["members"], SUBNETS, set(), {})
    assert fingerprint(spec, b"k") != fingerprint(member_spec(other, other["members"][1], "10.1.3.2"), b"k")


def test_workload_seals_the_secret_for_the_node_and_describes_it_masked():
    cluster = normalise_cluster(options())
    assign_addresses(cluster["members"], SUBNETS, set(), {})
    sealed = []
    workload = kubernetes_workload(member_spec(cluster, cluster["members"][1], "10.1.3.2"), 1,
                                   lambda node, text: sealed.append((node, text)) or "beef")
    assert sealed == [(NODE_B, "tok3n")]
    assert workload == {"workload_id": 1, "node_id": NODE_B, "size": 2, "network_id": "net",
                        "ipaddress": "10.1.4.2", "cluster_secret": "beef", "master_ips": ["10.1.3.2"],
                        "ssh_keys": ["ssh-ed25519 AAAA me"], "stats_aggregator": [], "farmer_tid": 0}
    shown = describe_kubernetes(workload)
    assert shown["cluster_secret"] == "********" and shown["ip_address"] == "10.1.4.2"


def test_result_and_worker_names():
    result = kubernetes_result(7, 1, [{"workload_id": "7-1", "state": 0, "message": "boom",
                                       "data_json": {"id": "7-1", "ip": "10.1.3.2"}}])
    assert (result["vm_id"], result["ip"], result["result_state"]) == ("7-1", "10.1.3.2", "error")
    assert split_worker_tag_name(worker_tag_name("a/b", "w1")) == ["a/b", "w1"]
    assert split_worker_tag_name("plain") is None


@pytest.mark.parametrize("master_ip, workers, message", [
    ("10.2.1.5", [], "master.ip_address: '10.2.1.5' is not inside the network's range 10.1.0.0/16"),
    ("10.1.3.5", [{"node_id": NODE_A, "ip_address": "10.1.4.5"}],
     "workers[0].ip_address: '10.1.4.5' is not in 10.1.3.0/24, the /24 that another VM's address gives node nodeA"),
    ("10.1.3.5", [{"node_id": NODE_B, "ip_address": "10.1.3.6"}],
     "workers[0].ip_address: '10.1.3.6' is in 10.1.3.0/24, the /24 of node nodeA; each node has its own /24"),
    ("10.1.3.5", [{"node_id": NODE_A, "ip_address": "10.1.3.5"}],
     "workers[0].ip_address: '10.1.3.5' is already the address of master"),
])
def test_node_subnets_refuse_addresses_the_network_can_not_give(master_ip, workers, message):
    cluster = normalise_cluster(options(master={"node_id": NODE_A, "ip_address": master_ip}, workers=workers))
    with pytest.raises(SpecError) as error:
        node_subnets(cluster["members"], "10.1.0.0/16")
    assert str(error.value) == message


def test_node_subnets_of_given_addresses():
    cluster = normalise_cluster(options(master={"node_id": NODE_A, "ip_address": "10.1.3.5"},
                                        workers=[{"node_id": NODE_B}, {"node_id": NODE_A, "ip_address": "10.1.3.9"}]))
    assert node_subnets(cluster["members"], "10.1.0.0/16") == {NODE_A: "10.1.3.0/24"}
