# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

import httpx
import pytest

from ansible_collections.threefold.grid.plugins.module_utils import _payment, _payment_checks, _registration, _spec, _workloads
from ansible_collections.threefold.grid.plugins.module_utils._errors import LifecycleError
from ansible_collections.threefold.grid.plugins.module_utils._lifecycle import ReservationLifecycle
from ansible_collections.threefold.grid.tests.unit.plugins.grid_fake import FakeExplorer, fake_session

SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
PUBKEY = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
TID = 12
NOW = 1700000000
NODE_A = "2fi9ZZiBGW4G9pnrN656bMfW6x55RSoHDeMrd9pgSA8T"
NODE_B = "3NAkUYqm5iPRmNAnmLfjwdreqDssvsebj4uPUt9BxFPm"
OK, ERROR, DELETED = 1, 0, 2


def grid_explorer():
    """The fake explorer with alice.3bot (tid 12) and two nodes (B is down); nodes report only what tests script."""
    explorer = FakeExplorer(users=[{"id": TID, "name": "alice.3bot", "pubkey": PUBKEY}],
                            nodes=[{"node_id": NODE_A, "farm_id": 1, "updated": NOW - 30, "free_to_use": False},
                                   {"node_id": NODE_B, "farm_id": 2, "updated": NOW - 3600, "free_to_use": False}])
    explorer.nodes_report = False
    explorer.escrow = {"address": "GESCROW", "asset": "TFT:GISSUER", "details": [{"farmer_id": 1, "total_amount": 1234567}]}
    return explorer


def add(explorer, rid, data, metadata, **kwargs):
    kwargs.setdefault("epoch", NOW - 100)
    return explorer.add(data, rid=rid, metadata=metadata, **kwargs)


def session(explorer, check_mode=False):
    return fake_session(explorer, SEED, name="alice.3bot", check_mode=check_mode)


class FakeTime:
    def __init__(self):
        self.value = 0.0

    def monotonic(self):
        return self.value

    def sleep(self, seconds):
        self.value += seconds


@pytest.fixture
def explorer():
    return grid_explorer()


def lifecycle(explorer, check_mode=False):
    fake_time = FakeTime()
    return ReservationLifecycle(session(explorer, check_mode), clock=lambda: NOW,
                                monotonic=fake_time.monotonic, sleep=fake_time.sleep)


def container(ip="10.1.3.10", wid=1, node=NODE_A, cpu=1):
    return _workloads.container_workload(wid, node, "https://hub/x.flist", "net", ip, cpu=cpu)


def spec(ip="10.1.3.10", cpu=1, secret="s3cret"):
    return {"node_id": NODE_A, "ip": ip, "cpu": cpu, "secret_env": {"PW": _spec.Secret(secret)}}


LIFE = {"duration": 7200}


def tag_for(lc, name, kind, the_spec):
    return _spec.metadata_tag(name, kind, lc.fingerprint(the_spec, LIFE, ["TFT"]))


def deployed(count=1):
    return {"next_action": 3, "results": [{"workload_id": "x-%d" % i, "node_id": NODE_A, "state": OK, "message": "",
                                           "category": 1, "data_json": {"ipv4": "10.1.3.10"}} for i in range(count)]}


def data_with(*containers_):
    data = {"containers": list(containers_), "networks": [], "volumes": [], "expiration_reservation": NOW + 7200,
            "currencies": ["TFT"]}
    return data


# ---- find by name --------------------------------------------------------------------------------

def test_find_matches_name_kind_and_live_state_only(explorer):
    lc = lifecycle(explorer)
    add(explorer, 1, data_with(container()), _spec.metadata_tag("web", "container", "f"), next_action=3)
    add(explorer, 2, data_with(container()), _spec.metadata_tag("web", "volume", "f"), next_action=3)
    add(explorer, 3, data_with(container()), _spec.metadata_tag("web", "container", "f"), next_action=6)
    add(explorer, 4, data_with(container()), "not ours", next_action=3)
    add(explorer, 5, data_with(container()), _spec.metadata_tag("db", "container", "f"), next_action=2)
    assert [r["id"] for r in lc.reservations.find("web", "container")] == [1]
    assert [r["id"] for r in lc.reservations.find("db", "container")] == [5]


def test_two_live_reservations_of_one_name_keep_the_first_of_the_newest_spec(explorer):
    lc = lifecycle(explorer)
    add(explorer, 7, data_with(container()), _spec.metadata_tag("web", "container", "a"), **deployed())
    add(explorer, 9, data_with(container()), tag_for(lc, "web", "container", spec()), **deployed())
    result = lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE)
    assert result.changed is False and result.reservation["id"] == 9
    assert explorer.posts() == []  # 7 is deployed: the run that registered it replaces it, not this one
    assert any("2 live reservations carry this name (9, 7): reservation 9 is the one kept" in w
               for w in lc.session.warnings)


def test_an_unpaid_reservation_left_by_a_stopped_run_next_to_the_kept_one_is_cancelled(explorer, monkeypatch):
    monkeypatch.setattr(_payment, "wallet_paid_memo", lambda *a: False)
    lc = lifecycle(explorer)
    add(explorer, 7, data_with(container()), tag_for(lc, "web", "container", spec()), **deployed())
    add(explorer, 8, data_with(container()), tag_for(lc, "web", "container", spec()), next_action=2,
        epoch=NOW - 3600)
    result = lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE,
                               payment={"stellar_secret": "x"})
    assert result.reservation["id"] == 7 and explorer.cancelled() == [8]


# ---- create / unchanged ----------------------------------------------------------------------------

def test_create_signs_registers_and_waits(explorer):
    lc = lifecycle(explorer)
    explorer.script[1] = [{}, deployed()]
    result = lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE,
                               wait=True, wait_timeout=300, payment=None)
    # nobody pays: the wait stops at "pay" with a warning
    assert result.changed and result.action == "create"
    assert result.reservation["state"] == "pay"
    assert result.reservation["escrow"] == {"address": "GESCROW", "asset": "TFT:GISSUER", "amount": "0.1234567",
                                            "total_amount": 1234567, "memo": "1",
                                            "details": explorer.escrow["details"]}
    assert any("waiting for payment" in w for w in lc.session.warnings)
    body = explorer.posted()[-1]
    data = body["data_reservation"]
    assert body["customer_tid"] == TID and body["next_action"] == 0
    assert data["signing_request_provision"] == {"signers": [], "quorum_min": 0}
    assert data["signing_request_delete"] == {"signers": [TID], "quorum_min": 1}
    assert data["expiration_reservation"] == NOW + 7200
    assert data["expiration_provisioning"] == NOW + 900
    assert data["currencies"] == ["TFT"]
    assert all(isinstance(data[key], list) for key in _workloads.WORKLOAD_LISTS)
    expected_tag = {"name": "web", "kind": "container", "fp": lc.fingerprint(spec(), LIFE, ["TFT"]),
                    "secrets": {"secret_env.PW": lc.secret_digests(spec())["secret_env.PW"]}}
    assert _spec.parse_metadata(body["metadata"]) == expected_tag
    assert len(expected_tag["secrets"]["secret_env.PW"]) == 16
    assert "s3cret" not in json.dumps(body)


def test_provisioning_deadline_follows_long_wait_timeout(explorer):
    lc = lifecycle(explorer)
    lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE, wait=False, wait_timeout=3000)
    assert explorer.posted()[-1]["data_reservation"]["expiration_provisioning"] == NOW + 3060


def test_same_spec_is_unchanged_without_any_write(explorer):
    lc = lifecycle(explorer)
    add(explorer, 4, data_with(container()), tag_for(lc, "web", "container", spec()), **deployed())
    result = lc.ensure_present("web", "container", lambda: pytest.fail("workloads built"), spec(), LIFE)
    assert result.changed is False and result.action == "none"
    assert result.reservation["id"] == 4 and result.reservation["workload_state"] == "ok"
    assert explorer.posts() == []
    assert result.diff["before"] == result.diff["after"]


def test_changed_secret_replaces(explorer):
    lc = lifecycle(explorer)
    add(explorer, 4, data_with(container()), tag_for(lc, "web", "container", spec()), **deployed())
    explorer.script[4] = [{"next_action": 6}]  # same IP: the old one goes first, even without wait
    result = lc.ensure_present("web", "container", {"containers": [container()]}, spec(secret="other"), LIFE,
                               wait=False)
    assert result.changed and result.action == "replace" and result.replaced == [4]


def test_renew_before_replaces_a_reservation_expiring_soon(explorer):
    lc = lifecycle(explorer)
    data = data_with(container())
    data["expiration_reservation"] = NOW + 3 * 86400
    add(explorer, 4, data, tag_for(lc, "web", "container", spec()), **deployed())
    kept = lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE, renew_before=86400)
    assert kept.changed is False
    # The first read is the name index's GET (the kept run indexed "web"), the second the wait for deletion.
    explorer.script[4] = [{}, {"next_action": 6}]
    renewed = lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE,
                                renew_before=7 * 86400, wait=False)
    assert renewed.action == "renew" and renewed.replaced == [4]


# ---- replace order ---------------------------------------------------------------------------------

def test_replace_with_same_ip_cancels_and_waits_deleted_before_registering(explorer):
    lc = lifecycle(explorer)
    add(explorer, 4, data_with(container()), tag_for(lc, "web", "container", spec()), **deployed())
    explorer.script[4] = [{"next_action": 4}, {"next_action": 6}]
    explorer.script[5] = [deployed()]
    result = lc.ensure_present("web", "container", {"containers": [container(cpu=2)]}, spec(cpu=2), LIFE,
                               wait=True, payment=None)
    writes = [c for c in explorer.calls() if c[0] == "POST" or c == ("GET", "/reservations/4")]
    assert writes == [("POST", "/reservations/4/sign/delete"), ("GET", "/reservations/4"), ("GET", "/reservations/4"),
                      ("POST", "/reservations")]
    assert result.replaced == [4]


def test_replace_with_new_ip_registers_first_then_cancels_old(explorer, monkeypatch):
    prechecked = []
    monkeypatch.setattr(_payment_checks, "precheck_payment", lambda session, payment, estimate: prechecked.append(
        (payment, estimate["total_amount"])))
    monkeypatch.setattr(_payment, "pay_escrow", lambda *a, **kw: {"changed": True})
    lc = lifecycle(explorer)
    add(explorer, 4, data_with(container()), tag_for(lc, "web", "container", spec()), **deployed())
    explorer.script[5] = [deployed()]
    explorer.script[4] = [{"next_action": 6}]
    result = lc.ensure_present("web", "container", {"containers": [container(ip="10.1.3.11")]}, spec(ip="10.1.3.11"),
                               LIFE, wait=True, payment={"stellar_secret": "x"})
    posts = explorer.posts()
    assert posts == [("POST", "/reservations"), ("POST", "/reservations/4/sign/delete")]
    assert prechecked == [({"stellar_secret": "x"}, result.estimate["total_amount"])]
    assert result.replaced == [4] and result.reservation["id"] == 5
    assert result.reservation["workload_state"] == "ok"


def test_failed_replacement_is_cancelled_and_old_kept(explorer, monkeypatch):
    monkeypatch.setattr(_payment_checks, "precheck_payment", lambda *a: None)
    monkeypatch.setattr(_payment, "pay_escrow", lambda *a, **kw: {"changed": True})
    lc = lifecycle(explorer)
    add(explorer, 4, data_with(container()), tag_for(lc, "web", "container", spec()), **deployed())
    with pytest.raises(LifecycleError) as error:
        lc.ensure_present("web", "container", {"containers": [container(ip="10.1.3.11")]}, spec(ip="10.1.3.11"),
                          LIFE, wait=True, wait_timeout=30, payment={"stellar_secret": "x"})
    assert "Timeout after 30s" in error.value.msg
    assert "the replacement 5 was cancelled and reservation 4 is kept" in error.value.msg
    assert explorer.reservations[4]["next_action"] == 3
    assert ("POST", "/reservations/5/sign/delete") in explorer.posts()


def test_ip_of_another_live_container_is_refused_before_registering(explorer):
    lc = lifecycle(explorer)
    add(explorer, 4, data_with(container()), _spec.metadata_tag("db", "container", "f"), **deployed())
    with pytest.raises(LifecycleError) as error:
        lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE)
    assert error.value.msg == ("IP 10.1.3.10 on network net is already used by live reservation 4 (db); choose "
                               "another address")
    assert explorer.posts() == []


def test_ip_of_a_cancelled_container_or_of_the_replaced_one_is_free(explorer):
    lc = lifecycle(explorer)
    add(explorer, 3, data_with(container()), _spec.metadata_tag("db", "container", "f"), next_action=6)
    add(explorer, 4, data_with(container()), tag_for(lc, "web", "container", spec()), **deployed())
    explorer.script[4] = [{"next_action": 6}]
    explorer.script[5] = [deployed()]
    result = lc.ensure_present("web", "container", {"containers": [container(cpu=2)]}, spec(cpu=2), LIFE)
    assert result.action == "replace" and result.replaced == [4]


def test_one_ip_given_twice_in_a_reservation_is_refused(explorer):
    lc = lifecycle(explorer)
    with pytest.raises(LifecycleError) as error:
        lc.ensure_present("pair", "reservation", {"containers": [container(), container(wid=2)]}, spec(), LIFE)
    assert error.value.msg == "IP 10.1.3.10 is given to two workloads on network net"
    assert explorer.posts() == []


def unpaid_web(explorer, lc, age):
    """Reservation 4 named web, same spec, waiting for payment, registered `age` seconds ago."""
    add(explorer, 4, data_with(container()), tag_for(lc, "web", "container", spec()), next_action=2, epoch=NOW - age)


def test_young_unpaid_reservation_is_waited_on_not_replaced(explorer, monkeypatch):
    monkeypatch.setattr(_payment, "wallet_paid_memo", lambda *a: pytest.fail("a young reservation needs no lookup"))
    lc = lifecycle(explorer)
    unpaid_web(explorer, lc, 10)
    explorer.script[4] = [{"next_action": 2}, deployed()]
    result = lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE,
                               payment={"stellar_secret": "x"})
    assert result.changed is False and result.reservation["id"] == 4 and result.reservation["state"] == "deploy"
    assert explorer.posts() == []
    assert any("payment that may be in flight (registered 10s ago)" in w for w in lc.session.warnings)


def test_young_unpaid_reservation_nobody_pays_is_registered_again_after_the_window(explorer, monkeypatch):
    monkeypatch.setattr(_payment_checks, "precheck_payment", lambda *a: None)
    monkeypatch.setattr(_payment, "pay_escrow", lambda *a, **kw: {"changed": True})
    lc = lifecycle(explorer)
    unpaid_web(explorer, lc, 290)
    explorer.script[4] = [{"next_action": 2}] * 60 + [{"next_action": 6}]
    explorer.script[5] = [deployed()]
    result = lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE, wait_sleep=1,
                               payment={"stellar_secret": "x"})
    assert result.action == "replace" and result.replaced == [4] and result.reservation["id"] == 5
    assert any("nobody paid reservation 4 within 300s" in w for w in lc.session.warnings)


def test_old_unpaid_reservation_the_wallet_paid_is_waited_on(explorer, monkeypatch):
    looked_up = []
    monkeypatch.setattr(_payment, "wallet_paid_memo", lambda session, reservation, payment: looked_up.append(
        reservation["id"]) or True)
    lc = lifecycle(explorer)
    unpaid_web(explorer, lc, 3600)
    explorer.script[4] = [deployed()]
    result = lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE,
                               payment={"stellar_secret": "x"})
    assert looked_up == [4] and result.reservation["id"] == 4 and explorer.posts() == []


def test_old_unpaid_reservation_nobody_paid_is_registered_again(explorer, monkeypatch):
    monkeypatch.setattr(_payment, "wallet_paid_memo", lambda *a: False)
    monkeypatch.setattr(_payment_checks, "precheck_payment", lambda *a: None)
    monkeypatch.setattr(_payment, "pay_escrow", lambda *a, **kw: {"changed": True})
    lc = lifecycle(explorer)
    unpaid_web(explorer, lc, 3600)
    explorer.script[4] = [{"next_action": 6}]
    explorer.script[5] = [deployed()]
    result = lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE,
                               payment={"stellar_secret": "x"})
    assert result.action == "replace" and result.replaced == [4] and result.reservation["id"] == 5


def test_payment_that_cannot_pay_registers_nothing(explorer):
    lc = lifecycle(explorer)
    with pytest.raises(LifecycleError) as error:
        lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE,
                          payment={"stellar_secret": "SNOTASECRET"})
    assert "not a valid Stellar secret seed" in error.value.msg and "nothing was registered" in error.value.msg
    assert error.value.failure["code"] == "invalid_secret" and "SNOTASECRET" not in error.value.msg
    assert explorer.posts() == []


# ---- waiting ---------------------------------------------------------------------------------------

def test_wait_reports_the_node_error_message(explorer):
    lc = lifecycle(explorer)
    add(explorer, 3, data_with(container(), container(ip="10.1.3.12", wid=2)), "", next_action=3)
    explorer.script[3] = [
        {"results": [{"workload_id": "3-1", "node_id": NODE_A, "state": OK, "message": "", "category": 1}]},
        {"results": [{"workload_id": "3-1", "node_id": NODE_A, "state": OK, "message": "", "category": 1},
                     {"workload_id": "3-2", "node_id": NODE_A, "state": ERROR, "category": 1,
                      "message": "fail to download flist: 404 Not Found"}], "next_action": 4},
    ]
    with pytest.raises(LifecycleError) as error:
        lc.wait_deployed(3, 600, 1, paying=True)
    assert error.value.msg == ("Reservation 3 failed on node %s (workload 3-2): fail to download flist: 404 Not Found"
                               % NODE_A)
    assert error.value.reservation["error"]["category"] == "container"


def test_wait_reports_an_error_already_turned_deleted(explorer):
    lc = lifecycle(explorer)
    add(explorer, 3, data_with(container()), "", next_action=3)
    explorer.script[3] = [{"next_action": 6, "results": [
        {"workload_id": "3-1", "node_id": NODE_A, "state": DELETED, "category": 1,
         "message": "Not enough space left in pools of this type SSD"}]}]
    with pytest.raises(LifecycleError, match="Not enough space left in pools of this type SSD"):
        lc.wait_deployed(3, 600, 1, paying=True)


def test_wait_cancelled_without_error(explorer):
    lc = lifecycle(explorer)
    add(explorer, 3, data_with(container()), "", next_action=4)
    with pytest.raises(LifecycleError, match="moved to delete before it was deployed"):
        lc.wait_deployed(3, 600, 1, paying=True)


def test_wait_timeout_names_last_state_and_returns_reservation(explorer):
    lc = lifecycle(explorer)
    add(explorer, 3, data_with(container()), _spec.metadata_tag("web", "container", "f"), next_action=3)
    with pytest.raises(LifecycleError) as error:
        lc.wait_deployed(3, 20, 5, paying=True)
    assert error.value.msg == ("Timeout after 20s waiting for reservation 3 to be deployed "
                               "(last state: deploy, workloads pending)")
    assert error.value.reservation["id"] == 3 and error.value.reservation["name"] == "web"


def test_paying_waits_through_pay_state(explorer):
    lc = lifecycle(explorer)
    add(explorer, 3, data_with(container()), "", next_action=2)
    explorer.script[3] = [{}, {"next_action": 3}, deployed()]
    reservation, outcome = lc.wait_deployed(3, 600, 1, paying=True)
    assert outcome == "deployed" and reservation["next_action"] == 3


# ---- absent / check mode -----------------------------------------------------------------------------

def test_absent_signs_delete_and_waits_deleted(explorer):
    lc = lifecycle(explorer)
    add(explorer, 4, data_with(container()), _spec.metadata_tag("web", "container", "f"), **deployed())
    explorer.script[4] = [{"next_action": 4}, {"next_action": 6}]
    result = lc.ensure_absent("web", "container", wait=True)
    assert result.changed and result.cancelled == [4]
    assert result.reservations[0]["state"] == "deleted"
    assert result.diff["after"] == {} and result.diff["before"]["containers"][0]["network_connection"]["ip_address"] == "10.1.3.10"
    again = lifecycle(explorer).ensure_absent("web", "container")
    assert again.changed is False and again.cancelled == []


def test_check_mode_writes_nothing_and_estimates(explorer):
    lc = lifecycle(explorer, check_mode=True)
    result = lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE)
    assert result.changed and result.estimate["details"][0]["farmer_id"] == 1 and result.estimate["total_amount"] > 0
    # What would be registered: no id nor state yet, the escrow as estimated.
    planned = result.reservation
    assert planned["id"] is None and planned["state"] is None and planned["name"] == "web"
    assert planned["workloads"]["containers"][0]["node_id"] == NODE_A
    assert planned["escrow"] == {"address": None, "asset": "TFT", "amount": result.estimate["amount"],
                                 "total_amount": result.estimate["total_amount"], "memo": None,
                                 "details": result.estimate["details"], "estimated": True}
    assert result.diff["after"]["containers"][0]["node_id"] == NODE_A
    assert explorer.posts() == []
    add(explorer, 4, data_with(container()), _spec.metadata_tag("web", "container", "f"), **deployed())
    absent = lifecycle(explorer, check_mode=True).ensure_absent("web", "container")
    assert absent.changed and explorer.posts() == []


# ---- lookups -----------------------------------------------------------------------------------------

def network_data(name="net", nodes=((NODE_A, "10.1.3.0/24"),)):
    data = data_with()
    data["networks"] = [{"name": name, "workload_id": 1, "iprange": "10.1.0.0/16",
                         "network_resources": [{"node_id": n, "iprange": r} for n, r in nodes]}]
    return data


def test_lookup_node_unknown_or_down(explorer):
    lookup = lifecycle(explorer).lookup
    assert lookup.node(NODE_A)["farm_id"] == 1
    with pytest.raises(LifecycleError, match="node_id: 'nope' is not a node known to the explorer"):
        lookup.node("nope")
    with pytest.raises(LifecycleError, match="node_id: node '%s' is down" % NODE_B):
        lookup.node(NODE_B)


def test_lookup_network_subnet(explorer):
    lc = lifecycle(explorer)
    add(explorer, 1, network_data(), _spec.metadata_tag("net", "network", "f"))
    lookup = lc.lookup
    assert lookup.network_subnet("net", NODE_A) == "10.1.3.0/24"
    with pytest.raises(LifecycleError, match="network 'net' has no resource on node %s" % NODE_B):
        lookup.network_subnet("net", NODE_B)
    with pytest.raises(LifecycleError, match="network_connection.name: no live network named 'other'"):
        lookup.network_subnet("other", NODE_A)


def test_lookup_volume_by_name_and_id(explorer):
    lc = lifecycle(explorer)
    data = data_with()
    data["volumes"] = [_workloads.volume_workload(1, NODE_A, 5)]
    add(explorer, 6, data, _spec.metadata_tag("data", "volume", "f"))
    lookup = lc.lookup
    assert lookup.volume_id("data", NODE_A, "volumes[0].volume") == "6-1"
    assert lookup.volume_id("6-1", NODE_A, "volumes[0].volume") == "6-1"
    with pytest.raises(LifecycleError, match=r"volumes\[0\].volume: volume 'data' is on node %s, not on node %s"
                       % (NODE_A, NODE_B)):
        lookup.volume_id("data", NODE_B, "volumes[0].volume")
    with pytest.raises(LifecycleError, match="no live volume named 'missing'"):
        lookup.volume_id("missing", NODE_A, "volumes[0].volume")
    with pytest.raises(LifecycleError, match="'6-2' is not a volume of a live reservation"):
        lookup.volume_id("6-2", NODE_A, "volumes[0].volume")


def test_escrow_error_after_insert_cancels_only_the_new_reservation(explorer):
    """The explorer stores the reservation before the escrow fails (500), on every attempt: each attempt's
    orphan is cancelled, the reservation being renewed (same tag) is not."""
    lc = lifecycle(explorer)
    data = data_with(container())
    data["expiration_reservation"] = NOW + 3600
    tag = tag_for(lc, "web", "container", spec())
    add(explorer, 4, data, tag, **deployed())
    original = explorer.handler

    def failing_escrow(request):
        response = original(request)
        if request.method == "POST" and request.url.path == "/explorer/reservations":
            return httpx.Response(500, json={"error": "none of the offered currencies are currently supported"})
        return response

    explorer.handler = failing_escrow
    lc = ReservationLifecycle(session(explorer), clock=lambda: NOW, monotonic=FakeTime().monotonic,
                              sleep=lambda s: None)
    add(explorer, 5, data, _spec.metadata_tag("other", "container", "x"))
    with pytest.raises(LifecycleError, match="Failed to register the reservation: none of the offered currencies"):
        lc.ensure_present("web", "container", {"containers": [container(ip="10.1.3.11")]}, spec(), LIFE,
                          renew_before=7200, wait=False)
    orphans = list(range(6, 6 + _registration.REGISTER_ATTEMPTS))
    assert sorted(explorer.reservations) == [4, 5] + orphans
    assert [explorer.reservations[rid]["next_action"] for rid in orphans] == [4] * len(orphans)
    assert explorer.reservations[4]["next_action"] == 3  # the one being renewed
    assert explorer.reservations[5]["next_action"] == 3  # someone else's


def test_lost_answer_never_cancels_another_runs_reservation_with_the_same_tag(explorer):
    """Another run registered (and paid) the same name and spec while this run's answer was lost: only the
    reservation holding exactly the text this run signed is cancelled."""
    lc = lifecycle(explorer)
    tag = tag_for(lc, "web", "container", spec())
    original = explorer.handler

    def lost_answer(request):
        response = original(request)
        if request.method == "POST" and request.url.path == "/explorer/reservations":
            # The other run's registration lands at the same moment; its paid reservation carries the same tag.
            add(explorer, 50, data_with(container()), tag, **deployed())
            raise httpx.ReadError("connection lost", request=request)
        return response

    explorer.handler = lost_answer
    lc = lifecycle(explorer)
    with pytest.raises(LifecycleError, match="Failed to register the reservation"):
        lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE, wait=False)
    mine = [rid for rid in explorer.reservations if rid != 50]
    # One orphan per attempt, each cancelled before the next attempt.
    assert [explorer.reservations[rid]["next_action"] for rid in mine] == [4] * _registration.REGISTER_ATTEMPTS
    assert explorer.reservations[50]["next_action"] == 3  # the other run's, paid and kept


@pytest.mark.parametrize("lost", ["connection", 500, 502, 503, 504, 429])
def test_a_lost_registration_answer_is_tried_again_within_the_task(explorer, lost):
    """The first answer is lost after the explorer stored the reservation (or, for 429, before): that one is
    cancelled and the second attempt's reservation is the task's; one live reservation is left."""
    original = explorer.handler
    posts = []

    def first_answer_lost(request):
        if request.method == "POST" and request.url.path == "/explorer/reservations":
            posts.append(request)
            if len(posts) == 1:
                if lost == 429:
                    return httpx.Response(429, json={"error": "slow down"})
                original(request)
                if lost == "connection":
                    raise httpx.ReadError("connection lost", request=request)
                return httpx.Response(lost, text="bad gateway")
        return original(request)

    explorer.handler = first_answer_lost
    lc = lifecycle(explorer)
    result = lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE, wait=False)
    assert result.changed is True and len(posts) == 2
    live = [rid for rid, r in explorer.reservations.items() if r["next_action"] != 4]
    assert live == [result.reservation["id"]]
    cancelled = [rid for rid, r in explorer.reservations.items() if r["next_action"] == 4]
    assert cancelled == ([] if lost == 429 else [min(explorer.reservations)])


def test_a_registration_whose_orphan_check_fails_is_not_tried_again(explorer):
    """Without knowing whether the lost attempt stored a reservation, a second one could be a duplicate."""
    original = explorer.handler
    posts = []

    def lost_then_blind(request):
        if request.method == "POST" and request.url.path == "/explorer/reservations":
            posts.append(request)
            original(request)
            raise httpx.ReadError("connection lost", request=request)
        if posts and request.method == "GET" and request.url.path == "/explorer/reservations":
            return httpx.Response(503, text="unavailable")
        return original(request)

    explorer.handler = lost_then_blind
    lc = lifecycle(explorer)
    with pytest.raises(LifecycleError, match="Failed to register the reservation"):
        lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE, wait=False)
    assert len(posts) == 1


def test_validation_error_cancels_nothing(explorer):
    original = explorer.handler

    def rejecting(request):
        if request.method == "POST" and request.url.path == "/explorer/reservations":
            return httpx.Response(400, json={"error": "json data does not match the reservation data"})
        return original(request)

    explorer.handler = rejecting
    lc = ReservationLifecycle(session(explorer), clock=lambda: NOW, monotonic=FakeTime().monotonic,
                              sleep=lambda s: None)
    with pytest.raises(LifecycleError) as error:
        lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE, wait=False)
    assert error.value.failure["status"] == 400
    assert [c for c in explorer.calls() if "sign/delete" in c[1]] == []


def test_ensure_deployed_waits_through_payment(explorer):
    lc = lifecycle(explorer)
    add(explorer, 3, data_with(container()), "", next_action=2)
    explorer.script[3] = [{}, {}, {"next_action": 3}, deployed()]
    result = lc.ensure_deployed(3, wait_timeout=600, wait_sleep=1)
    assert result.changed is False and result.reservation["workload_state"] == "ok"


def test_wait_polls_soon_after_registering_then_backs_off_to_wait_sleep(explorer):
    sleeps = []
    fake_time = FakeTime()

    def sleep(seconds):
        sleeps.append(seconds)
        fake_time.sleep(seconds)
    lc = ReservationLifecycle(session(explorer), clock=lambda: NOW, monotonic=fake_time.monotonic, sleep=sleep)
    explorer.escrow = {"address": "", "asset": "", "details": []}
    explorer.script[1] = [{}] * 26 + [deployed()]
    lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE, wait=True, wait_sleep=3)
    # Every 0.1 s for the first 2 s, then a quarter of the time waited, up to wait_sleep.
    assert sleeps == pytest.approx([0.1] * 20 + [0.5, 0.625, 0.78125, 0.9765625, 1.220703125, 1.52587890625])
