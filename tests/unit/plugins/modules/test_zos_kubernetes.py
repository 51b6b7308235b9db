# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import time

import nacl.public
import pytest
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.threefold.grid.plugins.module_utils import _reservation_wait
from ansible_collections.threefold.grid.plugins.modules import zos_kubernetes
from ansible_collections.threefold.grid.tests.unit.plugins.modules.sample_grid import (
    IDENTITY,
    KEY_2,
    PUBLIC_1,
    PUBLIC_2,
    sample_runner,
)

SECRET = "k3s-cluster-token"
NODE_1, NODE_2 = PUBLIC_1["node_id"], PUBLIC_2["node_id"]


def network_data():
    return {"networks": [{"name": "net", "workload_id": 1, "iprange": "10.1.0.0/16", "network_resources": [
        {"node_id": NODE_1, "iprange": "10.1.3.0/24"}, {"node_id": NODE_2, "iprange": "10.1.4.0/24"}]}],
        "expiration_reservation": int(time.time()) + 86400}


@pytest.fixture
def k8s(monkeypatch, capsys, explorer):
    monkeypatch.setattr(_reservation_wait.time, "sleep", lambda seconds: None)
    explorer.add(network_data(), "net", kind="network")
    run = sample_runner(monkeypatch, capsys, zos_kubernetes.main, explorer, wait_sleep=0)

    def runner(args, check_mode=False, diff=False):
        result = run(args, check_mode, diff)
        assert SECRET not in json.dumps(result)
        return result
    return runner


def cluster(workers=None, **extra):
    args = {"name": "k8s", "network_name": "net", "cluster_secret": SECRET, "ssh_keys": ["ssh-ed25519 AAAA me"],
            "master": {"node_id": NODE_1}, "duration": "2h",
            "workers": [{"name": "w1", "node_id": NODE_2}] if workers is None else workers}
    args.update(extra)
    return args


def vms(explorer):
    """{reservation name: (kind, live?, vm workload)} of every kubernetes reservation."""
    found = {}
    for rid, reservation in explorer.reservations.items():
        tag = json.loads(reservation["metadata"] or "{}").get("ansible") or {}
        if tag.get("kind", "").startswith("kubernetes"):
            found[rid] = (tag["name"], reservation["next_action"] == explorer.DEPLOY,
                          reservation["data_reservation"]["kubernetes"][0])
    return found


def test_creates_master_and_workers_each_in_its_reservation(k8s, explorer):
    result = k8s(cluster(workers=[{"name": "w1", "node_id": NODE_2}, {"name": "w2", "node_id": NODE_2, "size": 2}]))
    assert result["changed"] and result["action"] == "create"
    got = result["kubernetes"]
    assert (got["master_ip"], got["worker_ips"]) == ("10.1.3.2", ["10.1.4.2", "10.1.4.3"])
    assert [w["workload_state"] for w in [got["master"]] + got["workers"]] == ["ok", "ok", "ok"]
    made = vms(explorer)
    assert sorted(entry[0] for entry in made.values()) == ["k8s", "k8s/w1", "k8s/w2"]
    worker = next(entry[2] for entry in made.values() if entry[0] == "k8s/w2")
    assert (worker["size"], worker["master_ips"], worker["network_id"]) == (2, ["10.1.3.2"], "net")
    box = nacl.public.SealedBox(KEY_2.to_curve25519_private_key())
    assert box.decrypt(bytes.fromhex(worker["cluster_secret"])).decode() == SECRET
    assert result["estimate"]["total_amount"] > 0


def test_rerun_changes_nothing(k8s, explorer):
    k8s(cluster())
    posted = len(explorer.posted())
    again = k8s(cluster())
    assert again["changed"] is False and again["action"] == "none"
    assert len(explorer.posted()) == posted and explorer.cancelled() == []
    assert again["kubernetes"]["worker_ips"] == ["10.1.4.2"]


def test_adding_and_removing_a_worker_touches_only_that_worker(k8s, explorer):
    first = k8s(cluster())
    master_id = first["kubernetes"]["master"]["reservation_id"]
    added = k8s(cluster(workers=[{"name": "w1", "node_id": NODE_2}, {"name": "w2", "node_id": NODE_1}]), diff=True)
    assert added["action"] == "update"
    assert [w["action"] for w in added["kubernetes"]["workers"]] == ["none", "create"]
    assert added["kubernetes"]["master"]["reservation_id"] == master_id and explorer.cancelled() == []
    assert added["diff"]["after"]["workers"]["w2"]["cluster_secret"] == "********"
    w1 = added["kubernetes"]["workers"][0]["reservation_id"]
    removed = k8s(cluster(workers=[{"name": "w2", "node_id": NODE_1}]))
    assert removed["changed"] and explorer.cancelled() == [w1]
    assert removed["kubernetes"]["removed"] == [{"name": "w1", "reservation_id": w1, "state": "deleted"}]


def test_new_master_address_replaces_every_vm(k8s, explorer):
    first = k8s(cluster())
    moved = k8s(cluster(master={"node_id": NODE_1, "ip_address": "10.1.3.50"}))
    assert moved["kubernetes"]["master"]["action"] == "replace"
    assert moved["kubernetes"]["workers"][0]["action"] == "replace"
    assert sorted(explorer.cancelled()) == sorted([first["kubernetes"]["master"]["reservation_id"],
                                                   first["kubernetes"]["workers"][0]["reservation_id"]])


def test_check_mode_shows_addresses_and_cost_without_writing(k8s, explorer):
    result = k8s(cluster(), check_mode=True, diff=True)
    assert result["changed"] and explorer.writes() == []
    assert result["kubernetes"]["master"]["reservation_id"] is None
    assert result["kubernetes"]["worker_ips"] == ["10.1.4.2"]
    assert result["diff"]["after"]["master"]["cluster_secret"] == "********"
    assert result["estimate"]["total_amount"] > 0


@pytest.mark.parametrize("overrides, message", [
    ({"workers": [{"name": "w1", "node_id": NODE_2, "ip_address": "10.1.3.9"}]},
     "workers[0].ip_address: '10.1.3.9' is not inside the node's subnet 10.1.4.0/24"),
    ({"master": {"node_id": NODE_2, "ip_address": "10.1.4.9"},
      "workers": [{"name": "w1", "node_id": NODE_2, "ip_address": "10.1.4.9"}]},
     "workers[0].ip_address: '10.1.4.9' is already the address of master"),
    ({"master": {"node_id": NODE_1, "size": 3}}, "value of size must be one of: 1, 2, got: 3 found in master"),
    ({"master": None}, "master: None must describe the master VM"),
    ({"network_name": "other"}, "network_name: no live network named 'other'"),
])
def test_bad_input_is_refused_before_signing(k8s, explorer, overrides, message):
    result = k8s(cluster(**overrides))
    assert result["failed"] and message in result["msg"]
    assert explorer.writes() == []


def test_node_error_comes_back_as_failure_with_the_cluster_so_far(k8s, explorer):
    explorer.deploy = "failed to reserve filesystem for vm: no space left on device"
    result = k8s(cluster())
    assert result["failed"] and result["msg"].startswith("master: Reservation")
    assert result["msg"].endswith("no space left on device")
    assert result["failure"]["message"] == explorer.deploy and result["failure"]["member"] == "master"
    assert result["kubernetes"]["master"]["action"] == "failed"


def test_absent_cancels_workers_then_master(k8s, explorer):
    first = k8s(cluster())
    gone = k8s({"name": "k8s", "state": "absent"})
    assert gone["changed"] and gone["action"] == "cancel"
    assert explorer.cancelled() == [first["kubernetes"]["workers"][0]["reservation_id"],
                                    first["kubernetes"]["master"]["reservation_id"]]
    again = k8s({"name": "k8s", "state": "absent"})
    assert again["changed"] is False and again["kubernetes"] is None


def tags(explorer):
    """{reservation name: metadata tag} of the live kubernetes reservations."""
    found = {}
    for reservation in explorer.reservations.values():
        tag = json.loads(reservation["metadata"] or "{}").get("ansible") or {}
        if tag.get("kind", "").startswith("kubernetes") and reservation["next_action"] == explorer.DEPLOY:
            found[tag["name"]] = tag
    return found


def test_labels_go_on_every_vm_and_come_back_per_vm(k8s, explorer):
    result = k8s(cluster(labels={"app": "k3s", "tier": 2}))
    assert [tag.get("labels") for tag in tags(explorer).values()] == [{"app": "k3s", "tier": "2"}] * 2
    for vm in [result["kubernetes"]["master"]] + result["kubernetes"]["workers"]:
        assert (vm["labels"], vm["labels_sealed"]) == ({"app": "k3s", "tier": "2"}, False)


def test_sealed_labels_are_ciphertext_on_every_vm(k8s, explorer):
    result = k8s(cluster(labels={"app": "k3s"}, seal_labels=True))
    found = tags(explorer)
    assert sorted(found) == ["k8s", "k8s/w1"]
    for tag in found.values():
        assert "labels" not in tag and json.loads(IDENTITY.open_sealed(tag["sealed_labels"])) == {"app": "k3s"}
    assert result["kubernetes"]["workers"][0]["labels"] == {"app": "k3s"}
    assert result["kubernetes"]["workers"][0]["labels_sealed"] is True


def test_a_label_change_alone_keeps_every_vm_and_warns_per_vm(k8s, explorer, monkeypatch):
    warned = []
    monkeypatch.setattr(AnsibleModule, "warn", lambda self, text: warned.append(text))
    first = k8s(cluster(labels={"app": "k3s"}))
    posted = len(explorer.posted())
    again = k8s(cluster(labels={"app": "other"}))
    assert again["changed"] is False and len(explorer.posted()) == posted and explorer.cancelled() == []
    assert again["kubernetes"]["master"]["reservation_id"] == first["kubernetes"]["master"]["reservation_id"]
    assert again["kubernetes"]["master"]["labels"] == {"app": "k3s"}
    assert len(warned) == 2 and all("keeps the labels it was registered with ({'app': 'k3s'})" in w for w in warned)
    # A worker added now is registered with the new labels; the kept VMs keep theirs.
    added = k8s(cluster(workers=[{"name": "w1", "node_id": NODE_2}, {"name": "w2", "node_id": NODE_1}],
                        labels={"app": "other"}))
    assert [w["labels"] for w in added["kubernetes"]["workers"]] == [{"app": "k3s"}, {"app": "other"}]


def test_labels_over_the_metadata_limit_of_a_worker_fail_before_signing(k8s, explorer):
    # The worker's tag names it <cluster>/<worker>: the longest tag is checked before the master is signed.
    labels = dict(("k%d" % index, "v" * 60) for index in range(12))
    result = k8s(cluster(workers=[{"name": "w" * 100, "node_id": NODE_2}], labels=labels))
    assert result["failed"] and explorer.writes() == []
    assert result["msg"].startswith("labels: the reservation metadata would be ")
    assert "over the explorer's limit of 1024 bytes" in result["msg"]


def test_bad_label_values_are_refused_before_signing(k8s, explorer):
    result = k8s(cluster(labels={"app": ["web"]}))
    assert result["failed"] and result["msg"].startswith("labels: the value of app is a list")
    assert explorer.writes() == []
