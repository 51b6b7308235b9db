# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import threading

import pytest

from ansible_collections.threefold.grid.plugins.module_utils import _payment, _reservation_wait
from ansible_collections.threefold.grid.plugins.modules import zos_containers
from ansible_collections.threefold.grid.tests.unit.plugins.grid_fake import run_module
from ansible_collections.threefold.grid.tests.unit.plugins.module_utils.test_ledger import FakeHorizon
from ansible_collections.threefold.grid.tests.unit.plugins.modules.test_ledger_option import PAYER
from ansible_collections.threefold.grid.tests.unit.plugins.modules.test_zos_container import (
    NODE,
    OTHER_NODE,
    SECRET,
    SEED,
    grid_explorer,
    network_data,
    volume_data,
)


@pytest.fixture
def explorer():
    fake = grid_explorer()
    fake.add(network_data(), "net", kind="network")  # reservation 1
    fake.add(volume_data(), "data", kind="volume")  # reservation 2
    return fake


@pytest.fixture(autouse=True)
def fast_wait(monkeypatch, tmp_path):
    monkeypatch.setattr(_reservation_wait.time, "sleep", lambda seconds: None)
    monkeypatch.setenv("TFGRID_CACHE_DIR", str(tmp_path))
    for name in ("TFGRID_NETWORK", "TFGRID_EXPLORER_URL", "TFGRID_IDENTITY_NAME", "TFGRID_IDENTITY_SEED",
                 "TFGRID_STELLAR_SECRET"):
        monkeypatch.delenv(name, raising=False)


def fleet(count=3, **overrides):
    """zos_containers' options for ``count`` containers web-<i> at 10.1.3.<10 + i> on NODE in network "net"."""
    args = {"identity_name": "alice.3bot", "identity_seed": SEED, "wait_sleep": 0,
            "defaults": {"node_id": NODE, "flist": "https://hub.grid.tf/zaibon/zaibon-ubuntu-ssh-0.0.2.flist",
                         "network_connection": {"name": "net"}, "capacity": {"cpu": 2}, "duration": "2h",
                         "secret_env": {"PASSWORD": SECRET}},
            "containers": [{"name": "web-%d" % index, "network_connection": {"ip_address": "10.1.3.%d" % (10 + index)}}
                           for index in range(count)]}
    args.update(overrides)
    return args


@pytest.fixture
def run(monkeypatch, capsys):
    def runner(explorer, args, check_mode=False, diff=False):
        result = run_module(monkeypatch, capsys, zos_containers.main, args, explorer, check_mode, diff)
        assert SECRET not in json.dumps(result)
        return result
    return runner


def live_names(explorer):
    return sorted(json.loads(r["metadata"])["ansible"]["name"] for r in explorer.reservations.values()
                  if r["metadata"] and r["next_action"] in (1, 2, 3) and '"container"' in r["metadata"])


def test_creates_every_container_with_the_defaults_merged(run, explorer):
    result = run(explorer, fleet())
    assert result["changed"] is True
    assert [item["name"] for item in result["containers"]] == ["web-0", "web-1", "web-2"]
    for index, item in enumerate(result["containers"]):
        assert item["changed"] is True and item["action"] == "create"
        container = item["container"]
        assert container["name"] == "web-%d" % index and container["ipv4"] == "10.1.3.%d" % (10 + index)
        assert container["state"] == "deploy" and container["workload_state"] == "ok"
    wires = sorted((body["data_reservation"]["containers"][0] for body in explorer.posted()),
                   key=lambda wire: wire["network_connection"][0]["ipaddress"])
    # cpu from defaults.capacity, memory from zos_container's default, the secret sealed for the node
    assert [w["capacity"]["cpu"] for w in wires] == [2, 2, 2] and wires[0]["capacity"]["memory"] == 1024
    assert set(wires[0]["secret_environment"]) == {"PASSWORD"}
    assert live_names(explorer) == ["web-0", "web-1", "web-2"]


def test_rerun_changes_nothing_and_writes_nothing(run, explorer):
    run(explorer, fleet())
    writes = len(explorer.writes())
    again = run(explorer, fleet())
    assert again["changed"] is False
    assert [item["action"] for item in again["containers"]] == ["none"] * 3
    assert len(explorer.writes()) == writes


def test_one_changed_item_replaces_only_that_container(run, explorer):
    first = run(explorer, fleet())
    args = fleet()
    args["containers"][1]["capacity"] = {"memory": 2048}
    result = run(explorer, args)
    assert [item["changed"] for item in result["containers"]] == [False, True, False]
    changed = result["containers"][1]
    assert changed["action"] == "replace" and changed["container"]["replaced"] == [first["containers"][1]["container"]["reservation_id"]]
    assert live_names(explorer) == ["web-0", "web-1", "web-2"]


def test_check_mode_plans_and_diffs_every_container_without_writing(run, explorer):
    result = run(explorer, fleet(), check_mode=True, diff=True)
    assert result["changed"] is True and explorer.writes() == []
    assert all(item["container"]["reservation_id"] is None and item["estimate"]["currency"] == "TFT"
               for item in result["containers"])
    assert sorted(result["diff"]["after"]) == ["web-0", "web-1", "web-2"]
    assert result["diff"]["after"]["web-0"]["secret_env"] == {"PASSWORD": "********"}
    assert result["diff"]["before"]["web-0"] == {}


@pytest.mark.parametrize("change, message", [
    (lambda args: args["containers"][2].update(network_connection={"ip_address": "10.1.4.9"}),
     "containers[2] (web-2): network_connection.ip_address: '10.1.4.9' is not inside"),
    (lambda args: args["containers"][1].update(node_id="unknown"),
     "containers[1] (web-1): node_id: 'unknown' is not a node known to the explorer"),
    (lambda args: args["containers"][0].update(capacity={"memory": 100}),
     "containers[0] (web-0): capacity.memory: 100 is outside 256..262144"),
    (lambda args: args["containers"][1].update(name="web-0"),
     "containers[0] (web-0) and containers[1] (web-0) are both named 'web-0'"),
    (lambda args: args["containers"][1].update(network_connection={"ip_address": "10.1.3.10"}),
     "containers[0] (web-0) and containers[1] (web-1) are both given IP 10.1.3.10 on network net"),
    (lambda args: args["defaults"].pop("flist"), "containers[0] (web-0): state is present but all of the following"),
    (lambda args: args["containers"][2].update(duration="2h", expires_at="2030-01-01"),
     "containers[2] (web-2): parameters are mutually exclusive: duration|expires_at"),
    (lambda args: args.update(parallel=0), "parallel must be 1 or more, got 0"),
])
def test_a_bad_item_fails_the_task_before_anything_is_signed(run, explorer, change, message):
    args = fleet()
    change(args)
    result = run(explorer, args)
    assert result["failed"] is True and message in result["msg"], result["msg"]
    assert "nothing was signed, registered or paid" in result["msg"]
    assert explorer.writes() == []


def test_every_bad_item_is_listed_at_once(run, explorer):
    args = fleet()
    args["containers"][0]["node_id"] = "unknown"
    args["containers"][2]["network_connection"] = {"ip_address": "10.1.3.1"}
    result = run(explorer, args)
    assert "2 problems" in result["msg"] and "containers[0] (web-0)" in result["msg"] and "containers[2] (web-2)" in result["msg"]
    assert [bool(item.get("failed")) for item in result["containers"]] == [True, False, True]
    assert explorer.writes() == []


def test_a_node_error_fails_that_item_and_keeps_the_others(run, explorer):
    explorer.script[4] = [{"results": [{"workload_id": "4-1", "node_id": NODE, "category": 1, "state": 0,
                                        "message": "fail to download flist", "data_json": None}]}] * 20
    result = run(explorer, fleet())
    assert result["failed"] is True and result["msg"].startswith("1 of 3 containers failed")
    failed = [item for item in result["containers"] if item.get("failed")]
    done = [item for item in result["containers"] if not item.get("failed")]
    assert len(failed) == 1 and failed[0]["container"]["reservation_id"] == 4
    assert "fail to download flist" in failed[0]["msg"] and failed[0]["changed"] is True
    assert len(done) == 2 and all(item["container"]["workload_state"] == "ok" for item in done)


def test_absent_items_cancel_their_containers(run, explorer):
    run(explorer, fleet())
    args = fleet()
    for item in args["containers"][:2]:
        item["state"] = "absent"
    result = run(explorer, args)
    assert [item["action"] for item in result["containers"]] == ["cancel", "cancel", "none"]
    assert result["containers"][0]["container"]["state"] == "deleted"
    assert live_names(explorer) == ["web-2"]


def test_wait_false_returns_before_the_nodes_report(run, explorer):
    explorer.nodes_report = False
    result = run(explorer, fleet(wait=False))
    assert all(item["container"]["workload_state"] == "pending" for item in result["containers"])


def test_a_waited_batch_reads_each_new_container_only_in_its_wait_pass(run, explorer):
    result = run(explorer, fleet(count=4))
    assert not result.get("failed")
    rids = [item["container"]["reservation_id"] for item in result["containers"]]
    assert all(item["container"]["workload_state"] == "ok" for item in result["containers"])
    calls = explorer.calls()
    # The fake's nodes deploy on a read: each is read once, in the wait pass, after the last registration.
    assert [calls.count(("GET", "/reservations/%d" % rid)) for rid in rids] == [1, 1, 1, 1]
    last_registration = max(i for i, call in enumerate(calls) if call == ("POST", "/reservations"))
    assert min(calls.index(("GET", "/reservations/%d" % rid)) for rid in rids) > last_registration


def test_an_unwaited_batch_returns_each_container_as_read_after_registering(run, explorer):
    explorer.nodes_report = False
    result = run(explorer, fleet(count=2, wait=False))
    rids = [item["container"]["reservation_id"] for item in result["containers"]]
    assert [explorer.calls().count(("GET", "/reservations/%d" % rid)) for rid in rids] == [1, 1]


def test_many_threads_list_the_reservations_far_less_than_once_per_container(run, explorer):
    explorer.listings_report = True  # 12 are waited for through listings (_batch_wait.py)
    args = fleet(count=12, parallel=6)
    args["defaults"]["node_id"] = NODE
    result = run(explorer, args)
    assert not result.get("failed") and len(explorer.posted()) == 12
    listings = [r for r in explorer.requests if r.method == "GET" and r.url.path.endswith("/reservations")]
    # zos_container lists 3 stored states at least 3 times per new container (decide, settle, before paying).
    assert len(listings) < 3 * 3 * 12


def test_a_container_on_another_node_of_the_network(run, explorer):
    explorer.reservations[1]["data_reservation"]["networks"][0]["network_resources"].append(
        {"node_id": OTHER_NODE, "iprange": "10.1.4.0/24"})
    args = fleet(count=2)
    args["containers"][1].update(node_id=OTHER_NODE, network_connection={"ip_address": "10.1.4.10"})
    result = run(explorer, args)
    assert [item["container"]["node_id"] for item in result["containers"]] == [NODE, OTHER_NODE]


def test_the_ledger_is_read_once_for_every_container(run, explorer, monkeypatch):
    fake_horizon = FakeHorizon()
    monkeypatch.setattr(_payment, "horizon_settings", lambda session, url=None: (url or "http://horizon", "local"))
    monkeypatch.setattr(_payment, "horizon_at", lambda session, url: fake_horizon)
    first = run(explorer, fleet())
    ids = [item["container"]["reservation_id"] for item in first["containers"]]
    for rid in ids:
        fake_horizon.pay(PAYER, "GESCROW", "0.0100000", str(rid))
    fake_horizon.pay(PAYER, "GESCROW", "0.5000000", "4711")
    assert fake_horizon.reads == []  # without the option, Horizon is not read
    again = run(explorer, fleet(ledger_account=PAYER))
    assert again["changed"] is False
    assert [item["container"]["ledger"]["paid"] for item in again["containers"]] == ["0.0100000"] * 3
    assert [(u["reason"], u["memo"]) for u in again["unmatched_payments"]] == [("no_reservation", "4711")]
    # One read of the payer's and one of the escrow's payments for the whole batch, not per container.
    assert fake_horizon.reads == [PAYER, "GESCROW"]


def test_a_batch_ledger_without_an_account_fails_before_signing(run, explorer):
    result = run(explorer, fleet(ledger=True))
    assert result["failed"] and "ledger: no account to read the ledger of" in result["msg"]
    assert explorer.writes() == []


def test_one_pool_of_threads_serves_every_pass_of_the_task(run, explorer, monkeypatch):
    from ansible_collections.threefold.grid.plugins.module_utils import _container_batch
    pools, threads = [], set()

    class CountedPool(_container_batch.ThreadPoolExecutor):
        def __init__(self, *args, **kwargs):
            pools.append(self)
            super(CountedPool, self).__init__(*args, **kwargs)

    monkeypatch.setattr(_container_batch, "ThreadPoolExecutor", CountedPool)
    for name in ("plan", "apply"):
        original = getattr(_container_batch.ContainerBatchRunner, name)
        monkeypatch.setattr(_container_batch.ContainerBatchRunner, name,
                            lambda self, index, original=original: threads.add(threading.current_thread()) or original(self, index))
    result = run(explorer, fleet(count=8, parallel=3))
    # The plan, three waves of registrations and payments, and the waits: starting a thread per container and
    # pass cost a busy core about a millisecond each.
    assert not result.get("failed") and len(explorer.posted()) == 8
    assert len(pools) == 1 and len(threads) <= 3
    assert not any(thread.is_alive() for thread in threads)  # the task's threads end with it
