# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.threefold.grid.plugins.module_utils import _spec, _workloads
from ansible_collections.threefold.grid.plugins.module_utils._errors import LifecycleError
from ansible_collections.threefold.grid.plugins.module_utils._placement import choose, deploy_placed
from ansible_collections.threefold.grid.plugins.module_utils._resource import ResourceRunner
from ansible_collections.threefold.grid.tests.unit.plugins.grid_fake import FakeExplorer, fake_session
from ansible_collections.threefold.grid.tests.unit.plugins.module_utils.test_lifecycle import (
    NOW,
    PUBKEY,
    SEED,
    TID,
    FakeTime,
    add,
    container,
    data_with,
    deployed,
)
from ansible_collections.threefold.grid.plugins.module_utils._lifecycle import ReservationLifecycle

NODES = {"A": "2fi9ZZiBGW4G9pnrN656bMfW6x55RSoHDeMrd9pgSA8T", "B": "3NAkUYqm5iPRmNAnmLfjwdreqDssvsebj4uPUt9BxFPm",
         "C": "9Vr5cBWiqh6Hxm4J4W5uYqkMPxAA6hX2FFfBgeQhq7hX", "D": "FK4d5KZt3LiiBLS6txFGsjwcxrwomCTcLTNnEn4t6KFm"}
SUBNETS = {"A": "10.1.1.0/24", "B": "10.1.2.0/24", "C": "10.1.3.0/24", "D": "10.1.4.0/24"}


def node(label, farm=1, country="Belgium", free_cru=4, free_mru=8.0, updated_ago=30):
    return {"node_id": NODES[label], "farm_id": farm, "updated": NOW - updated_ago, "free_to_use": False,
            "location": {"country": country, "city": "Ghent"}, "public_key_hex": PUBKEY,
            "total_resources": {"cru": free_cru, "mru": free_mru, "sru": 100, "hru": 100},
            "reserved_resources": {"cru": 0, "mru": 0, "sru": 0, "hru": 0}}


@pytest.fixture
def explorer():
    explorer = FakeExplorer(users=[{"id": TID, "name": "alice.3bot", "pubkey": PUBKEY}],
                            nodes=[node("A", free_cru=2), node("B", free_cru=8, country="Egypt"),
                                   node("C", free_cru=8, farm=2), node("D", free_cru=16, updated_ago=3600)])
    data = data_with()
    data["networks"] = [{"name": "net", "workload_id": 1, "iprange": "10.1.0.0/16",
                         "network_resources": [{"node_id": NODES[k], "iprange": v} for k, v in SUBNETS.items()]}]
    add(explorer, 1, data, _spec.metadata_tag("net", "network", "f"), next_action=3)
    return explorer


def lifecycle(explorer, check_mode=False):
    fake_time = FakeTime()
    session = fake_session(explorer, SEED, name="alice.3bot", check_mode=check_mode)
    return ReservationLifecycle(session, clock=lambda: NOW, monotonic=fake_time.monotonic, sleep=fake_time.sleep)


def wanted(**placement):
    placement.setdefault("up_within", 600)
    return placement


CONTAINER = {"network_connection": {"name": "net"}, "capacity": {"cpu": 1, "memory": 1024, "disk_size": 256}}


def test_most_free_cores_among_up_nodes_and_lowest_free_address(explorer):
    lc = lifecycle(explorer)
    add(explorer, 2, data_with(container(ip="10.1.2.10", node=NODES["B"])), _spec.metadata_tag("x", "container", "f"),
        next_action=3)
    choice = choose(lc, "web", wanted(), CONTAINER, set())
    # D has more cores but has not reported for an hour; B and C tie on cores and memory: B by node id.
    assert (choice.node_id, choice.ip_address) == (NODES["B"], "10.1.2.11")


@pytest.mark.parametrize("placement, says", [
    (dict(country="Narnia"), "before placement.country=Narnia"),
    (dict(farm_id=2, exclude_nodes=[NODES["C"]]), "before placement.exclude_nodes"),
    (dict(min_cru=64), "before placement.min_cru=64"),
])
def test_an_emptied_list_names_the_constraint(explorer, placement, says):
    with pytest.raises(LifecycleError, match="network net spans 4 node.*%s" % says):
        choose(lifecycle(explorer), "web", wanted(**placement), CONTAINER, set())
    assert explorer.posts() == []


def test_distinct_from_avoids_the_nodes_of_other_containers(explorer):
    add(explorer, 2, data_with(container(ip="10.1.2.10", node=NODES["B"])), _spec.metadata_tag("web-1", "container", "f"),
        next_action=3)
    choice = choose(lifecycle(explorer), "web-2", wanted(distinct_from=["web-1"]), CONTAINER, set())
    assert choice.node_id == NODES["C"]


def test_a_deployed_container_keeps_its_node_and_address(explorer):
    add(explorer, 2, data_with(container(ip="10.1.1.20", node=NODES["A"])), _spec.metadata_tag("web", "container", "f"),
        **deployed())
    choice = choose(lifecycle(explorer), "web", wanted(), CONTAINER, set())
    assert (choice.node_id, choice.ip_address) == (NODES["A"], "10.1.1.20")
    assert choice.reason.startswith("kept")
    moved = choose(lifecycle(explorer), "web", wanted(country="Egypt"), CONTAINER, set())
    assert moved.node_id == NODES["B"]


class PlacedRunner(ResourceRunner):
    """The part of zos_container's runner deploy_placed uses: deploy_on the chosen node."""
    kind = "container"

    def describe(self, reservation, replaced=None, payment=None):
        return self.resource_view(reservation, replaced, payment)

    def deploy_on(self, options):
        spec = {"node_id": options["node_id"], "ip": options["network_connection"]["ip_address"]}
        workload = _workloads.container_workload(1, options["node_id"], "https://hub/x.flist", "net",
                                                 options["network_connection"]["ip_address"])
        return self.deploy({"containers": [workload]}, spec, ({"duration": 3600}, None), ["TFT"], None)


def placed_runner(explorer, **params):
    base = dict(name="web", network_connection={"name": "net"}, capacity=CONTAINER["capacity"], wait=True,
                wait_timeout=60, wait_sleep=1, currencies=["TFT"], payment=None)
    base.update(params)
    runner = PlacedRunner(base, fake_session(explorer, SEED, name="alice.3bot"))
    runner.lifecycle = lifecycle(explorer)
    return runner


def test_replace_on_failure_tries_the_next_node_and_reports_each_attempt(explorer):
    first = max(explorer.reservations) + 1
    failure = {"workload_id": "%d-1" % first, "node_id": NODES["B"], "state": 0, "category": 1,
               "message": "image not found", "data_json": None}
    explorer.script[first] = [{"results": [failure], "next_action": 4}]
    runner = placed_runner(explorer)
    result = deploy_placed(runner, wanted(attempts=3), replace_on_failure=True)
    attempts = result["placement"]["attempts"]
    assert [a["node_id"] for a in attempts] == [NODES["B"], NODES["C"]]
    assert "image not found" in attempts[0]["error"] and attempts[1]["error"] is None
    assert result["container"]["state"] == "deploy"


def test_without_replace_on_failure_the_node_error_fails_with_the_attempt(explorer):
    first = max(explorer.reservations) + 1
    explorer.script[first] = [{"results": [{"workload_id": "%d-1" % first, "node_id": NODES["B"], "state": 0,
                                            "category": 1, "message": "boom", "data_json": None}], "next_action": 4}]
    with pytest.raises(LifecycleError) as caught:
        deploy_placed(placed_runner(explorer), wanted(attempts=3), replace_on_failure=False)
    assert caught.value.failure["placement_attempts"][0]["node_id"] == NODES["B"]
    assert len(explorer.posted()) == 1


def test_attempts_are_bounded(explorer):
    for offset in range(2):
        rid = max(explorer.reservations) + 1 + offset
        explorer.script[rid] = [{"results": [{"workload_id": "%d-1" % rid, "node_id": "x", "state": 0, "category": 1,
                                              "message": "boom %d" % offset, "data_json": None}], "next_action": 4}]
    with pytest.raises(LifecycleError) as caught:
        deploy_placed(placed_runner(explorer), wanted(attempts=2), replace_on_failure=True)
    assert len(caught.value.failure["placement_attempts"]) == 2
    assert len(explorer.posted()) == 2
