"""The node agent's poll loop against a stub explorer (httpx.MockTransport): ordering, results,
cache and cursor persistence, decommission, expiry, node HTTP signatures, surviving errors."""

import base64
import hashlib
import json
import threading
import time

import httpx
import nacl.exceptions
import nacl.public
import nacl.signing
import pytest

from localgrid.clock import Clock
from localgrid.config import PROFILES
from localgrid.keys import b58decode
from localgrid.node import httpsig
from localgrid.node.agent import NodeAgent
from localgrid.node.client import ExplorerUnavailable
from localgrid.node.provision.network import network_id
from localgrid.store import Store

EXPLORER = "http://explorer.test/explorer"
HUB = "http://explorer.test/hub/"
FLIST = "https://hub.grid.tf/zaibon/zaibon-ubuntu-ssh-0.0.2.flist"
NODE = {
    "hostname": "test-node-1",
    "seed": "6743306737a6732afeda0cd4e04bfa2e4e5a4cc79b9d4be9b13d93bc876c0f9a",
    "farm_id": 1,
    "total_resources": {"cru": 4, "mru": 8, "hru": 1000, "sru": 100},
    "public_config": None,
    "wg_ports": [7000],
}
NODE_ID = "82mzXa5Xe1iuUHwiDUvFgQL4EQTPM5m1orKMi7YMQvDd"


class StubExplorer:
    """Just enough of the explorer's node-facing API to watch what a node does."""

    def __init__(self):
        self.workloads = []  # served on every poll until the node answers for them
        self.last_id = 0
        self.results = {}  # gwid -> result body
        self.raw_results = []
        self.deleted = []
        self.telemetry = []  # (endpoint, body)
        self.polls = []
        self.down = False

    def __call__(self, request):
        if self.down:
            return httpx.Response(502, text="bad gateway")
        path = request.url.path
        if path.startswith("/explorer/reservations/workloads/") and request.method == "GET":
            self.polls.append(int(request.url.params["from"]))
            return httpx.Response(200, json=list(self.workloads), headers={"X-Last-Id": str(self.last_id)})
        if path.startswith("/explorer/reservations/workloads/"):
            gwid, node_id = path.split("/")[-2:]
            assert node_id == NODE_ID
            if request.method == "PUT":
                self.raw_results.append(request.content.decode())
                self.results[gwid] = json.loads(request.content)
                self._dequeue(gwid)
                return httpx.Response(201, text="null\n")
            self.deleted.append(gwid)
            self._dequeue(gwid)
            return httpx.Response(200, text="null\n")
        if path.startswith("/explorer/nodes/%s/" % NODE_ID) and request.method == "POST":
            if not self._signed_by_node(request):
                return httpx.Response(401, text='{"error":"unauthorized access: signature verification failed"}')
            self.telemetry.append((path.rsplit("/", 1)[1], json.loads(request.content)))
            return httpx.Response(200, text="null\n")
        return httpx.Response(404, text="404 page not found")

    def _dequeue(self, gwid):
        self.workloads = [w for w in self.workloads if w["workload_id"] != gwid]

    @staticmethod
    def _signed_by_node(request):
        params = dict(part.split("=", 1) for part in request.headers["Authorization"][len("Signature "):].split(","))
        params = {key: value.strip('"') for key, value in params.items()}
        message = httpsig.signing_string(int(params["created"]), request.headers["Date"], request.headers["Threebot-Id"])
        try:
            nacl.signing.VerifyKey(b58decode(params["keyId"])).verify(message.encode(), base64.b64decode(params["signature"]))
        except nacl.exceptions.BadSignatureError:
            return False
        return params["keyId"] == NODE_ID and params["headers"] == "(created) date threebot-id"

    def last(self, endpoint):
        bodies = [body for name, body in self.telemetry if name == endpoint]
        return bodies[-1] if bodies else None


@pytest.fixture
def store(tmp_path):
    store = Store(str(tmp_path / "state.db"))
    yield store
    store.close()


@pytest.fixture
def explorer():
    return StubExplorer()


def make_agent(store, explorer, node=NODE):
    return NodeAgent(node, EXPLORER, HUB, store, Clock(store), PROFILES["fast"], [FLIST],
                     transport=httpx.MockTransport(explorer))


def seal(plaintext):
    verify_key = nacl.signing.VerifyKey(b58decode(NODE_ID))
    return nacl.public.SealedBox(verify_key.to_curve25519_public_key()).encrypt(plaintext).hex()


def reservation(clock, rid, duration=3600, to_delete=False, user="12"):
    """Workloads of one reservation (network + volume + container) as the explorer serves them."""
    base = {"user": user, "created": int(clock.now()), "duration": duration, "signature": "",
            "to_delete": to_delete, "node_id": NODE_ID}
    container = {
        "flist": FLIST, "hub_url": "", "environment": {}, "secret_environment": {"PASS": seal(b"pw")},
        "entrypoint": "/sbin/my_init", "interactive": False,
        "volumes": [{"volume_id": "-2", "mountpoint": "/data"}],
        "network_connection": [{"network_id": "net%d" % rid, "ipaddress": "10.1.1.5", "public_ip6": False}],
        "capacity": {"cpu": 1, "memory": 512, "disk_size": 1024, "disk_type": 1}, "logs": [], "stats_aggregator": [],
    }
    net = {"name": "net%d" % rid, "workload_id": 1, "iprange": "10.1.0.0/16", "network_resources": [{
        "node_id": NODE_ID, "iprange": "10.1.1.0/24", "wireguard_listen_port": 3000 + rid,
        "wireguard_public_key": "p" * 43 + "=", "peers": [],
        "wireguard_private_key_encrypted": seal(base64.b64encode(bytes(32)))}]}
    return [  # in the explorer's order: containers, volumes, ..., networks last
        dict(base, workload_id="%d-3" % rid, type=1, content=container),
        dict(base, workload_id="%d-2" % rid, type=2, content={"size": 5, "type": 1}),
        dict(base, workload_id="%d-1" % rid, type=3, content=net),
    ]


def test_poll_provisions_a_reservation_in_dependency_order(store, explorer):
    agent = make_agent(store, explorer)
    explorer.workloads = reservation(agent.clock, 1)
    explorer.last_id = 1
    assert agent.poll_once() == 3
    assert [json.loads(raw)["workload_id"] for raw in explorer.raw_results] == ["1-1", "1-2", "1-3"]
    assert explorer.results["1-1"]["data_json"] is None
    assert explorer.results["1-2"]["data_json"] == {"volume_id": "1-2"}
    container = explorer.results["1-3"]
    assert container["state"] == 1 and container["message"] == "" and container["category"] == 1
    assert container["data_json"]["id"] == "1-3" and container["data_json"]["ipv4"] == "10.1.1.5"
    assert container["data_json"]["ipv6"].startswith("fd")
    signed = bytes([1]) + b"" + json.dumps(container["data_json"], separators=(",", ":")).encode()
    agent.signing_key.verify_key.verify(signed, bytes.fromhex(container["signature"]))
    assert explorer.polls == [0] and store.get_meta("node:%s:cursor" % NODE_ID) == 2
    used = explorer.last("used_resources")
    assert used["cru"] == 1 and used["mru"] == 0.5 and used["sru"] == 6.0
    assert (used["network"], used["volume"], used["container"], used["k8s_vm"]) == (1, 1, 1, 0)
    assert explorer.last("ports") == {"ports": [3001, 7000]}
    assert agent.state.secret_env_digests("1-3") == {"PASS": hashlib.sha256(b"pw").hexdigest()}
    agent.client.close()


def test_capacity_and_ports_are_reported_once_per_batch(store, explorer):
    agent = make_agent(store, explorer)
    explorer.workloads = reservation(agent.clock, 1) + reservation(agent.clock, 2, user="13")
    explorer.last_id = 2
    assert agent.poll_once() == 6
    assert [name for name, _body in explorer.telemetry] == ["ports", "used_resources"]
    assert explorer.last("used_resources")["container"] == 2 and explorer.last("ports") == {"ports": [3001, 3002, 7000]}
    explorer.telemetry.clear()
    assert agent.poll_once() == 0  # nothing new: nothing changed, nothing to report
    assert explorer.telemetry == []
    agent.client.close()


def test_cached_workloads_are_skipped_even_after_a_restart(store, explorer):
    agent = make_agent(store, explorer)
    served = reservation(agent.clock, 1)
    explorer.workloads, explorer.last_id = list(served), 1
    agent.poll_once()
    agent.client.close()
    explorer.raw_results.clear()
    explorer.workloads = list(served)  # served again (e.g. explorer queue replay)
    restarted = make_agent(store, explorer)
    assert restarted.poll_once() == 3
    assert explorer.raw_results == []
    assert explorer.polls == [0, 2]
    restarted.client.close()


def test_to_delete_decommissions_and_reports_deleted(store, explorer):
    agent = make_agent(store, explorer)
    explorer.workloads, explorer.last_id = reservation(agent.clock, 1), 1
    agent.poll_once()
    explorer.workloads = reservation(agent.clock, 1, to_delete=True)
    agent.poll_once()
    assert sorted(explorer.deleted) == ["1-1", "1-2", "1-3"]
    assert agent.state.volume("1-2") is None
    assert agent.state.network(network_id("12", "net1")) is None
    used = explorer.last("used_resources")
    assert (used["cru"], used["sru"], used["container"], used["volume"]) == (0, 0, 0, 0)
    assert explorer.last("ports") == {"ports": [7000]}
    agent.client.close()


def test_failed_workload_reports_error_with_zero_data_and_is_not_cached(store, explorer):
    agent = make_agent(store, explorer)
    broken = reservation(agent.clock, 1)[0]
    broken["content"]["network_connection"][0]["network_id"] = "missing"
    broken["content"]["volumes"] = []
    explorer.workloads, explorer.last_id = [broken], 1
    agent.poll_once()
    result = explorer.results["1-3"]
    net_id = network_id("12", "missing")
    assert result["state"] == 0 and result["data_json"] == {"id": "", "ipv6": "", "ipv4": ""}
    assert result["message"] == ("couldn't load network with id (%s): open /var/cache/modules/networkd/networks/%s: "
                                 "no such file or directory" % (net_id, net_id))
    assert agent.state.workload("1-3") is None
    explorer.workloads = [dict(broken, to_delete=True)]
    agent.poll_once()
    assert explorer.deleted == ["1-3"]  # reported deleted although never deployed
    agent.client.close()


def test_undecodable_workload_gets_no_result_and_does_not_block_the_batch(store, explorer):
    agent = make_agent(store, explorer)
    served = reservation(agent.clock, 1)
    served[1]["content"] = None  # the volume: content a node cannot decode
    explorer.workloads, explorer.last_id = served, 1
    agent.poll_once()
    assert sorted(explorer.results) == ["1-1", "1-3"]
    assert explorer.results["1-3"]["state"] == 0  # its volume never came
    assert agent.state.cursor() == 2
    agent.client.close()


def test_expired_workloads_are_decommissioned_by_the_cache_scan(store, explorer):
    agent = make_agent(store, explorer)
    explorer.workloads, explorer.last_id = reservation(agent.clock, 1, duration=3600), 1
    agent.poll_once()
    assert agent.decommission_expired() == 0
    agent.clock.advance(3601)
    assert agent.decommission_expired() == 3
    assert sorted(explorer.deleted) == ["1-1", "1-2", "1-3"]
    agent.client.close()


def test_expired_workload_in_a_poll_is_decommissioned_not_provisioned(store, explorer):
    agent = make_agent(store, explorer)
    workloads = reservation(agent.clock, 1, duration=10)
    agent.clock.advance(11)
    explorer.workloads, explorer.last_id = workloads, 1
    agent.poll_once()
    assert explorer.results == {} and sorted(explorer.deleted) == ["1-1", "1-2", "1-3"]
    agent.client.close()


def test_explorer_error_keeps_cursor_and_lost_results_are_resent(store, explorer):
    agent = make_agent(store, explorer)
    explorer.workloads, explorer.last_id = reservation(agent.clock, 1)[2:], 1
    explorer.down = True
    with pytest.raises(ExplorerUnavailable):
        agent.poll_once()
    assert agent.state.cursor() == 0
    explorer.down = False
    original_put = agent.client.put_result

    def put_then_fail(gwid, body):
        agent.client.put_result = original_put
        raise ExplorerUnavailable("lost")

    agent.client.put_result = put_then_fail
    with pytest.raises(ExplorerUnavailable):
        agent.poll_once()
    assert agent.state.workload("1-1")["reported"] == 0 and explorer.results == {}
    explorer.workloads = []
    agent.poll_once()
    assert explorer.results["1-1"]["state"] == 1 and agent.state.workload("1-1")["reported"] == 1
    agent.client.close()


def test_started_agent_survives_errors_and_stops_promptly(store, explorer):
    explorer.down = True
    agent = make_agent(store, explorer)
    agent.start()
    time.sleep(0.5)
    explorer.workloads, explorer.last_id = reservation(agent.clock, 1), 1
    explorer.down = False
    deadline = time.monotonic() + 5
    # The uptime post follows the poll within the same tick: wait for both, not only the results.
    while (len(explorer.results) < 3 or explorer.last("uptime") is None) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(explorer.results) == 3
    assert explorer.last("uptime") is not None
    started = time.monotonic()
    agent.stop()
    assert time.monotonic() - started < 1.0
    assert not any(thread.name == "node-test-node-1" for thread in threading.enumerate())
