# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import time

import nacl.public
import nacl.signing
import pytest
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.threefold.grid.plugins.module_utils import _reservation_wait
from ansible_collections.threefold.grid.plugins.module_utils._crypto import b58encode
from ansible_collections.threefold.grid.plugins.modules import zos_container
from ansible_collections.threefold.grid.tests.unit.plugins.grid_fake import (
    FakeExplorer,
    run_module,
)

SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
PUBKEY = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
NODE_KEY = nacl.signing.SigningKey(bytes(range(32)))
NODE = b58encode(bytes(NODE_KEY.verify_key))
OTHER_NODE = b58encode(bytes(nacl.signing.SigningKey(bytes(range(1, 33))).verify_key))
SECRET = "correct horse battery staple"


def grid_explorer():
    """The reservation fake with alice.3bot (tid 1) and two paid nodes of farm 3."""
    now = int(time.time())
    return FakeExplorer(
        users=[{"id": 1, "name": "alice.3bot", "email": "a@x", "pubkey": PUBKEY, "host": "", "description": ""}],
        nodes=[{"node_id": NODE, "farm_id": 3, "updated": now, "free_to_use": False},
               {"node_id": OTHER_NODE, "farm_id": 3, "updated": now, "free_to_use": False}])


def network_data(node=NODE, subnet="10.1.3.0/24"):
    return {"networks": [{"name": "net", "workload_id": 1, "iprange": "10.1.0.0/16",
                          "network_resources": [{"node_id": node, "iprange": subnet}]}],
            "containers": [], "volumes": [], "expiration_reservation": int(time.time()) + 86400}


def volume_data(node=NODE):
    return {"volumes": [{"workload_id": 1, "node_id": node, "size": 5, "type": 1}], "containers": [],
            "networks": [], "expiration_reservation": int(time.time()) + 86400}


@pytest.fixture
def explorer():
    fake = grid_explorer()
    fake.add(network_data(), "net", kind="network")
    fake.add(volume_data(), "data", kind="volume")
    return fake


@pytest.fixture(autouse=True)
def fast_wait(monkeypatch):
    monkeypatch.setattr(_reservation_wait.time, "sleep", lambda seconds: None)
    for name in ("TFGRID_NETWORK", "TFGRID_EXPLORER_URL", "TFGRID_IDENTITY_NAME", "TFGRID_IDENTITY_SEED",
                 "TFGRID_STELLAR_SECRET"):
        monkeypatch.delenv(name, raising=False)


def container_args(check_mode=False, diff=False):
    """zos_container's options for the container "web" on NODE in network "net", mounting volume "data"."""
    return {"name": "web", "identity_name": "alice.3bot", "identity_seed": SEED, "node_id": NODE,
            "flist": "https://hub.grid.tf/zaibon/zaibon-ubuntu-ssh-0.0.2.flist", "entrypoint": "/sbin/my_init",
            "env": {"A": "1"}, "secret_env": {"PASSWORD": SECRET},
            "network_connection": {"name": "net", "ip_address": "10.1.3.10"},
            "volumes": [{"volume": "data", "mountpoint": "/data"}], "duration": "2h", "wait_sleep": 0,
            "_ansible_check_mode": check_mode, "_ansible_diff": diff}


@pytest.fixture
def run(monkeypatch, capsys):
    def runner(explorer, check_mode=False, diff=False, drop=(), **overrides):
        args = container_args(check_mode, diff)
        args.update(overrides)
        for option in drop:
            del args[option]
        result = run_module(monkeypatch, capsys, zos_container.main, args, explorer)
        assert SECRET not in json.dumps(result)
        return result
    return runner


def test_creates_with_secret_sealed_for_the_node(run, explorer):
    result = run(explorer)
    assert result["changed"] is True and result["action"] == "create"
    container = result["container"]
    assert container["reservation_id"] == 3 and container["workload_id"] == "3-1"
    assert container["ipv4"] == "10.1.3.10" and container["state"] == "deploy" and container["workload_state"] == "ok"
    body = explorer.posted()[0]
    wire = body["data_reservation"]["containers"][0]
    assert wire["volumes"] == [{"volume_id": "2-1", "mountpoint": "/data"}]
    assert SECRET not in body["json"] and SECRET not in body["metadata"]
    box = nacl.public.SealedBox(NODE_KEY.to_curve25519_private_key())
    assert box.decrypt(bytes.fromhex(wire["secret_environment"]["PASSWORD"])).decode() == SECRET


def test_rerun_is_unchanged_and_writes_nothing(run, explorer):
    run(explorer)
    writes = len(explorer.writes())
    again = run(explorer)
    assert again["changed"] is False and again["action"] == "none"
    assert again["container"]["reservation_id"] == 3
    assert len(explorer.writes()) == writes


def test_changed_secret_replaces_cancelling_first_on_same_ip(run, explorer):
    run(explorer)
    result = run(explorer, secret_env={"PASSWORD": "another"})
    assert result["changed"] and result["action"] == "replace"
    assert result["container"]["replaced"] == [3] and result["container"]["reservation_id"] == 4
    paths = [r.url.path for r in explorer.requests if r.method == "POST"]
    assert paths[-2:] == ["/explorer/reservations/3/sign/delete", "/explorer/reservations"]
    assert explorer.reservations[3]["next_action"] == 6


def test_check_mode_estimates_and_diffs_without_writing(run, explorer):
    result = run(explorer, check_mode=True, diff=True)
    assert result["changed"] is True and result["container"]["reservation_id"] is None
    assert result["container"]["escrow"]["amount"] == result["estimate"]["amount"]
    assert explorer.writes() == []
    assert result["estimate"]["currency"] == "TFT" and result["estimate"]["details"][0]["farmer_id"] == 3
    after = result["diff"]["after"]
    assert after["secret_env"] == {"PASSWORD": "********"} and after["env"] == {"A": "1"}
    assert result["diff"]["before"] == {}


def test_diff_of_a_change_shows_before_and_after(run, explorer):
    run(explorer)
    result = run(explorer, check_mode=True, diff=True, capacity={"cpu": 2})
    assert result["diff"]["before"]["capacity"]["cpu"] == 1 and result["diff"]["after"]["capacity"]["cpu"] == 2
    assert result["diff"]["before"]["secret_env"] == {"PASSWORD": "********"}


def test_absent_cancels_and_waits_deleted(run, explorer):
    run(explorer)
    result = run(explorer, state="absent")
    assert result["changed"] and result["action"] == "cancel"
    assert result["container"]["state"] == "deleted"
    assert run(explorer, state="absent")["changed"] is False


def test_node_error_fails_with_its_message(run, explorer):
    explorer.deploy = "fail to download flist: 404 Not Found"
    result = run(explorer)
    assert result["failed"] is True
    assert result["msg"].endswith("fail to download flist: 404 Not Found")
    assert result["container"]["error"]["message"] == "fail to download flist: 404 Not Found"


def test_timeout_fails_with_last_state_and_returns_container(run, explorer):
    explorer.deploy = None
    result = run(explorer, wait_timeout=0)
    assert result["failed"] and "Timeout after 0s" in result["msg"] and "last state: deploy, workloads pending" in result["msg"]
    assert result["container"]["reservation_id"] == 3


def test_two_reservations_of_one_name_converge_to_one(run, explorer):
    explorer.add(network_data(), "web")
    explorer.add(network_data(), "web")
    result = run(explorer)
    assert not result.get("failed") and result["action"] == "replace"
    assert sorted(result["container"]["replaced"]) == [3, 4] and result["container"]["reservation_id"] == 5
    live_webs = [rid for rid, r in explorer.reservations.items()
                 if '"web"' in r["metadata"] and r["next_action"] in (1, 2, 3)]
    assert live_webs == [5]


def test_interactive_with_entrypoint_warns(run, explorer, monkeypatch):
    # Record warn() calls: where a warning ends up depends on what else the test process loaded.
    warned = []
    monkeypatch.setattr(AnsibleModule, "warn", lambda self, text: warned.append(text))
    run(explorer, interactive=True)
    assert any("entrypoint is ignored because interactive is true" in text for text in warned)
    assert explorer.posted()[0]["data_reservation"]["containers"][0]["entrypoint"] == ""


@pytest.mark.parametrize("overrides, message", [
    ({"flist": "https://hub.grid.tf/x.tar.gz"}, "flist: 'https://hub.grid.tf/x.tar.gz' is not an http(s) URL"),
    ({"capacity": {"memory": 100}}, "capacity.memory: 100 is outside 256..262144"),
    ({"env": {"BAD-NAME": "x"}}, "env: key 'BAD-NAME' is not a valid variable name"),
    ({"env": {"PASSWORD": "x"}}, "env and secret_env both set PASSWORD"),
    ({"duration": "30m"}, "duration: '30m' is shorter than the 1 hour minimum"),
    ({"node_id": "unknown"}, "node_id: 'unknown' is not a node known to the explorer"),
    ({"network_connection": {"name": "nope", "ip_address": "10.1.3.10"}}, "network_connection.name: no live network named 'nope'"),
    ({"network_connection": {"name": "net", "ip_address": "10.1.3.1"}}, "network_connection.ip_address: '10.1.3.1' is reserved in 10.1.3.0/24"),
    ({"network_connection": {"name": "net", "ip_address": "10.1.4.9"}}, "network_connection.ip_address: '10.1.4.9' is not inside"),
    ({"volumes": [{"volume": "missing", "mountpoint": "/d"}]}, "volumes[0].volume: no live volume named 'missing'"),
    ({"node_id": OTHER_NODE, "network_connection": {"name": "net", "ip_address": "10.1.3.10"}, "volumes": []},
     "network_connection.name: network 'net' has no resource on node %s" % OTHER_NODE),
    ({"network_connection": {"name": "net"}}, "network_connection.ip_address is required"),
    ({"replace_on_failure": True}, "replace_on_failure: true needs placement"),
    ({"drop": ["node_id"], "volumes": [], "placement": {"farm_id": 4}}, "before placement.farm_id=4"),
])
def test_validation_fails_before_signing(run, explorer, overrides, message):
    result = run(explorer, **overrides)
    assert result["failed"] is True
    assert message in result["msg"]
    assert explorer.writes() == []


def test_node_down_is_refused(run, explorer):
    explorer.nodes[0]["updated"] = int(time.time()) - 3600
    result = run(explorer)
    assert result["failed"] and "node_id: node '%s' is down" % NODE in result["msg"]


def test_wait_false_registers_and_returns_before_the_node_reports(run, explorer):
    explorer.nodes_report = False
    result = run(explorer, wait=False)
    assert result["changed"] is True and result["container"]["reservation_id"] == 3
    assert result["container"]["workload_state"] != "ok"
    assert explorer.calls().count(("GET", "/reservations/3")) == 1


def test_a_wrong_explorer_path_blames_the_url_not_the_node(run, explorer):
    # The router of a wrong path answers "404 page not found" to every request, the node lookup included.
    result = run(explorer, explorer_url="http://explorer.test/explorer/v9")
    assert result["failed"] is True and "is not a node known" not in result["msg"]
    assert "a path every explorer serves: check explorer_url (or TFGRID_EXPLORER_URL)" in result["msg"]
    assert explorer.writes() == []


@pytest.mark.parametrize("overrides, message", [
    ({"logs": "redis://10.1.3.2:6379/out"}, "logs[0] is a str, but logs is a list of dicts with the keys stderr and stdout"),
    ({"volumes": "data:/data"}, "volumes[0] is a str, but volumes is a list of dicts with the keys mountpoint and volume"),
    ({"volumes": [{"volume": "data", "mountpoint": "/data"}, "more:/more"]}, "volumes[1] is a str"),
    ({"network_connection": "net"}, "network_connection is a str, but network_connection is a dict with the keys "
                                    "ip_address, name and public_ipv6: write it as a YAML mapping"),
    ({"payment": "SDONOTSHOWTHISSECRET"}, "payment is a str, but payment is a dict with the keys channels, horizon_url"),
])
def test_a_string_where_dicts_are_expected_names_the_option(run, explorer, overrides, message):
    # ansible-core alone says "dictionary requested, could not parse JSON or key=value", naming no option, and its
    # no_log scan stops there: the returned invocation (always in 2.19, on request later) showed every secret.
    result = run(explorer, _ansible_inject_invocation=True, **overrides)
    assert result["failed"] is True and message in result["msg"] and "could not parse JSON" not in result["msg"]
    arguments = result["invocation"]["module_args"]
    assert arguments["secret_env"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" and arguments["identity_seed"] == \
        "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert "SDONOTSHOWTHISSECRET" not in json.dumps(result) and explorer.requests == []


def test_a_name_that_would_break_the_inventory_is_refused_before_signing(run, explorer):
    result = run(explorer, name="web server!")
    assert result["failed"] is True and explorer.writes() == []
    assert "name 'web server!' is refused: a name is 1 to 128 letters, digits, dots, dashes and underscores" \
        in result["msg"]


def test_check_mode_replace_returns_what_would_be_registered(run, explorer):
    # A following payment step reads container.escrow: it must not meet a null container.
    run(explorer)
    result = run(explorer, check_mode=True, capacity={"cpu": 2})
    assert result["changed"] and result["action"] == "replace"
    container = result["container"]
    assert container["reservation_id"] is None and container["replaced"] == [3] and container["state"] is None
    assert container["node_id"] == NODE and container["ip_address"] == "10.1.3.10"
    assert container["escrow"]["estimated"] is True and container["escrow"]["amount"] == result["estimate"]["amount"]
    assert container["escrow"]["address"] is None and explorer.reservations[3]["next_action"] == 3


def test_a_changed_secret_is_named_in_the_diff_never_shown(run, explorer):
    run(explorer)
    result = run(explorer, check_mode=True, diff=True, secret_env={"PASSWORD": "another value"})
    assert result["action"] == "replace" and "another value" not in json.dumps(result)
    assert result["diff"]["before"]["secrets"] == {"secret_env.PASSWORD": "********"}
    assert result["diff"]["after"]["secrets"] == {"secret_env.PASSWORD": "(changed)"}
    unchanged = run(explorer, check_mode=True, diff=True)
    assert unchanged["changed"] is False and "secrets" not in unchanged["diff"]["after"]


def test_a_reservation_tagged_without_digests_may_have_a_changed_secret(run, explorer):
    run(explorer)
    tag = json.loads(explorer.reservations[3]["metadata"])
    del tag["ansible"]["secrets"]  # as registered before the tag carried digests
    explorer.reservations[3]["metadata"] = json.dumps(tag)
    result = run(explorer, check_mode=True, diff=True, secret_env={"PASSWORD": "another value"})
    assert result["diff"]["after"]["secrets"] == {"secret_env.PASSWORD": "(may have changed)"}


def test_placement_chooses_a_node_of_the_network_and_keeps_it(run, explorer):
    for node in explorer.nodes:
        node["total_resources"] = {"cru": 4, "mru": 8, "sru": 100, "hru": 0}
    placed = dict(drop=["node_id"], volumes=[], placement={"farm_id": 3}, network_connection={"name": "net"})
    first = run(explorer, **placed)
    assert first["changed"] and first["placement"]["node_id"] == NODE
    assert first["container"]["ip_address"] == "10.1.3.10" and first["placement"]["attempts"][0]["error"] is None
    again = run(explorer, **placed)
    assert again["changed"] is False and again["placement"]["reason"].startswith("kept")
    assert len(explorer.posted()) == 1
