"""Reservation state machine, node endpoints and escrow, with the test playing the node.

docs/contract/explorer.md §3.6, §6, §7, §8.
"""

import httpx
import pytest
from stellar_sdk import Keypair

from localgrid.grid import load_grid
from localgrid.tests.conftest import Customer, container, grid_now, network, reservation_data, volume, wait_for

GRID = load_grid()
NODE_A = next(n for n in GRID["nodes"] if n["hostname"] == "kristof-lochristi-1")["node_id"]
NODE_B = next(n for n in GRID["nodes"] if n["hostname"] == "cairo-1")["node_id"]
FREE = next(n for n in GRID["nodes"] if n["hostname"] == "free-ghent-1")["node_id"]
XLM = 10**7


@pytest.fixture
def free_lg(start_localgrid):
    return start_localgrid(payment="free", quiet=True)


def _client(lg):
    return httpx.Client(base_url=lg.explorer_url, timeout=10)


def _create(client, lg, customer, **kwargs):
    kwargs.setdefault("containers", [container(1, NODE_A), container(3, NODE_B, ip="10.1.2.2")])
    kwargs.setdefault("networks", [network(2, [NODE_A, NODE_B])])
    data = reservation_data(grid_now(lg), signer=customer.tid, **kwargs)
    body = customer.reservation_body(data)
    response = client.post("/reservations", json=body)
    assert response.status_code == 201, response.text
    return response.json(), body


def _poll(client, node_id, from_id=0):
    response = client.get("/reservations/workloads/%s" % node_id, params={"from": from_id})
    assert response.status_code == 200
    return response.json(), int(response.headers["x-last-id"])


def _ok(client, gwid, node_id, category=1, data=None):
    body = {"category": category, "workload_id": gwid, "data_json": data or {"id": gwid}, "signature": "ab", "state": 1, "message": ""}
    response = client.put("/reservations/workloads/%s/%s" % (gwid, node_id), json=body)
    assert response.status_code == 201 and response.text == "null\n", response.text


def _funded_wallet(ledger, code="TFT", amount=1000 * XLM):
    address = Keypair.random().public_key
    ledger.create_account(address, 100 * XLM)
    ledger.change_trust(address, code)
    ledger.pay(ledger.issuer(code), address, code, amount)
    return address


def _state(client, rid):
    return client.get("/reservations/%d" % rid).json()["next_action"]


def test_free_mode_deploys_at_create_and_nodes_find_it_by_scanning(free_lg):
    with _client(free_lg) as client:
        customer = Customer(client, "free.3bot")
        answer, body = _create(client, free_lg, customer)
        assert answer["escrow_information"] == {"address": "", "asset": "", "details": None}
        rid = answer["reservation_id"]
        assert _state(client, rid) == 3
        workloads, last_id = _poll(client, NODE_A)
        assert last_id == rid
        assert [w["workload_id"] for w in workloads] == ["%d-1" % rid, "%d-2" % rid]  # containers, then networks
        first = workloads[0]
        assert list(first) == ["workload_id", "user", "type", "content", "created", "duration", "signature", "to_delete", "node_id"]
        assert first["user"] == str(customer.tid) and first["type"] == 1 and first["to_delete"] is False
        assert first["signature"] == "" and first["node_id"] == NODE_A
        assert first["duration"] == body["data_reservation"]["expiration_reservation"] - first["created"]
        assert first["content"]["capacity"] == {"cpu": 1, "memory": 1024, "disk_size": 1024, "disk_type": 1}
        assert workloads[1]["type"] == 3 and workloads[1]["content"]["name"] == "net"
        # the scan part is not repeated past X-Last-Id, and nothing is queued in free mode
        assert _poll(client, NODE_A, last_id + 1)[0] == []
        assert [w["workload_id"] for w in _poll(client, NODE_B)[0]] == ["%d-3" % rid, "%d-2" % rid]


def test_results_deploy_then_deletion_reaches_deleted(free_lg):
    with _client(free_lg) as client:
        customer = Customer(client, "results.3bot")
        rid = _create(client, free_lg, customer)[0]["reservation_id"]
        _ok(client, "%d-1" % rid, NODE_A, data={"id": "%d-1" % rid, "ipv4": "10.1.1.2", "ipv6": ""})
        _ok(client, "%d-2" % rid, NODE_A, category=3, data=None)
        _ok(client, "%d-3" % rid, NODE_B)
        _ok(client, "%d-2" % rid, NODE_B, category=3)
        reservation = client.get("/reservations/%d" % rid).json()
        assert len(reservation["results"]) == 4 and reservation["next_action"] == 3
        assert reservation["results"][0]["data_json"] == {"id": "%d-1" % rid, "ipv4": "10.1.1.2", "ipv6": ""}
        assert reservation["results"][0]["node_id"] == NODE_A and reservation["results"][0]["epoch"] > 0
        # a new result for the same (workload, node) replaces the old one
        _ok(client, "%d-1" % rid, NODE_A, data={"id": "again"})
        reservation = client.get("/reservations/%d" % rid).json()
        assert len(reservation["results"]) == 4 and reservation["results"][0]["data_json"] == {"id": "again"}
        workload = client.get("/reservations/workloads/%d-1" % rid).json()
        assert workload["workload_id"] == "%d-1" % rid and workload["result"][0]["state"] == 1
        assert client.get("/reservations/workloads/%d-9" % rid).json() == {"error": "workload not found"}
        wrong_node = client.put("/reservations/workloads/%d-1/%s" % (rid, NODE_B), json={"state": 1})
        assert wrong_node.status_code == 404 and wrong_node.json() == {"error": "workload not found"}
        # cancel: delete quorum -> 4, every workload queued with to_delete
        sig = customer.delete_signature(rid, reservation["json"])
        assert client.post("/reservations/%d/sign/delete" % rid, json=sig).status_code == 201
        assert _state(client, rid) == 4
        queued, _ = _poll(client, NODE_A, rid + 1)
        assert {(w["workload_id"], w["to_delete"]) for w in queued} == {("%d-1" % rid, True), ("%d-2" % rid, True)}
        for gwid, node in (("%d-1" % rid, NODE_A), ("%d-2" % rid, NODE_A), ("%d-3" % rid, NODE_B)):
            response = client.delete("/reservations/workloads/%s/%s" % (gwid, node))
            assert response.status_code == 200 and response.text == "null\n"
        assert _poll(client, NODE_A, rid + 1)[0] == []  # DELETE removed the queue entries
        # the network's first result (node A) is marked deleted for the whole gwid: all deleted
        assert _state(client, rid) == 6


def test_poll_and_workload_routes_are_strict(free_lg):
    with _client(free_lg) as client:
        assert client.get("/reservations/workloads/%s" % NODE_A).text == "404 page not found\n"
        assert client.get("/reservations/workloads/%s?from=x" % NODE_A).status_code == 404
        assert client.put("/reservations/workloads/1-1/%s" % NODE_A, json={}).json() == {
            "error": "mongo: no documents in result"
        }
        assert client.post("/reservations/workloads/1-1/%s" % NODE_A).status_code == 405
        assert client.put("/reservations/workloads/1-1/%s" % NODE_A, json={"state": 1.5}).status_code == 400


def test_error_result_deletes_and_other_nodes_learn_by_scanning(free_lg):
    with _client(free_lg) as client:
        customer = Customer(client, "failing.3bot")
        rid = _create(client, free_lg, customer)[0]["reservation_id"]
        body = {"category": 1, "state": 0, "message": "fail to download flist: 404 Not Found", "data_json": None}
        assert client.put("/reservations/workloads/%d-1/%s" % (rid, NODE_A), json=body).status_code == 201
        reservation = client.get("/reservations/%d" % rid).json()
        assert reservation["next_action"] == 4 and reservation["results"][0]["message"].startswith("fail to download")
        rescanned, _ = _poll(client, NODE_B, rid)
        assert rescanned and all(w["to_delete"] for w in rescanned)


def test_stellar_payment_moves_to_deploy_and_pays_farmers(start_localgrid):
    lg = start_localgrid(quiet=True)
    ledger = lg.app_state.ledger
    with _client(lg) as client:
        customer = Customer(client, "payer.3bot")
        answer, _ = _create(client, lg, customer)
        rid, info = answer["reservation_id"], answer["escrow_information"]
        total = sum(d["total_amount"] for d in info["details"])
        assert _state(client, rid) == 2 and _poll(client, NODE_A)[0] == []
        wallet = _funded_wallet(ledger)
        ledger.pay(wallet, info["address"], "TFT", total - 1, memo_text=str(rid))
        ledger.pay(wallet, info["address"], "TFT", 1 + 5 * XLM, memo_text=str(rid))  # several payments add up, with 5 TFT too much
        wait_for(lambda: _state(client, rid) == 3)
        stored = client.get("/reservations", params={"next_action": 3, "customer_tid": customer.tid}).json()
        assert [r["id"] for r in stored] == [rid]
        # the queue part repeats until the node reports
        for _ in range(2):
            queued, _ = _poll(client, NODE_A, rid + 1)
            assert [w["workload_id"] for w in queued] == ["%d-1" % rid, "%d-2" % rid]
        farms = {f["id"]: f["wallet_addresses"][0]["address"] for f in client.get("/farms").json()}
        before = {farm: ledger.balance(address, "TFT") for farm, address in farms.items()}
        foundation_before = ledger.balance(lg.app_state.wallets.foundation, "TFT")
        payer_before = ledger.balance(wallet, "TFT")
        _ok(client, "%d-1" % rid, NODE_A)
        _ok(client, "%d-2" % rid, NODE_A, category=3)
        _ok(client, "%d-3" % rid, NODE_B)
        assert ledger.balance(farms[2], "TFT") == before[2]  # not yet: node B's network result is missing
        _ok(client, "%d-2" % rid, NODE_B, category=3)
        assert _poll(client, NODE_A, rid + 1)[0] == []
        foundation = 0
        for detail in info["details"]:
            farmer_share = ledger.balance(farms[detail["farmer_id"]], "TFT") - before[detail["farmer_id"]]
            assert farmer_share == detail["total_amount"] * 9 // 10
            foundation += detail["total_amount"] - farmer_share
        assert ledger.balance(lg.app_state.wallets.foundation, "TFT") - foundation_before == foundation
        assert ledger.balance(wallet, "TFT") - payer_before == 5 * XLM  # overpayment refunded
        assert ledger.memo_balance(info["address"], "TFT", str(rid)) == 0


def test_freetft_payout_is_burned(start_localgrid):
    lg = start_localgrid(quiet=True)
    ledger = lg.app_state.ledger
    with _client(lg) as client:
        customer = Customer(client, "burner.3bot")
        answer, _ = _create(client, lg, customer, containers=[container(1, FREE)], networks=[], currencies=["FreeTFT"])
        rid, info = answer["reservation_id"], answer["escrow_information"]
        total = info["details"][0]["total_amount"]
        wallet = _funded_wallet(ledger, "FreeTFT")
        ledger.pay(wallet, info["address"], "FreeTFT", total, memo_text=str(rid))
        wait_for(lambda: _state(client, rid) == 3)
        farm_wallet = client.get("/farms/1").json()["wallet_addresses"][0]["address"]
        _ok(client, "%d-1" % rid, FREE)
        assert ledger.memo_balance(info["address"], "FreeTFT", str(rid)) == 0
        assert ledger.balance(farm_wallet, "FreeTFT") == 0
        assert ledger.memo_balance(ledger.issuer("FreeTFT"), "FreeTFT", str(rid)) == total


def test_cancel_refunds_the_first_payer(start_localgrid):
    lg = start_localgrid(quiet=True)
    ledger = lg.app_state.ledger
    with _client(lg) as client:
        customer = Customer(client, "canceller.3bot")
        answer, body = _create(client, lg, customer)
        rid, info = answer["reservation_id"], answer["escrow_information"]
        total = sum(d["total_amount"] for d in info["details"])
        wallet = _funded_wallet(ledger)
        start = ledger.balance(wallet, "TFT")
        ledger.pay(wallet, info["address"], "TFT", total, memo_text=str(rid))
        wait_for(lambda: _state(client, rid) == 3)
        client.post("/reservations/%d/sign/delete" % rid, json=customer.delete_signature(rid, body["json"]))
        assert _state(client, rid) == 4
        assert ledger.balance(wallet, "TFT") == start
        assert ledger.memo_balance(info["address"], "TFT", str(rid)) == 0


def test_missed_provisioning_deadline_refunds_via_escrow_scan(start_localgrid):
    lg = start_localgrid(quiet=True)
    ledger = lg.app_state.ledger
    with _client(lg) as client:
        customer = Customer(client, "late.3bot")
        answer, _ = _create(client, lg, customer)
        rid, info = answer["reservation_id"], answer["escrow_information"]
        wallet = _funded_wallet(ledger)
        start = ledger.balance(wallet, "TFT")
        ledger.pay(wallet, info["address"], "TFT", 1000, memo_text=str(rid))  # not enough: stays at pay
        lg.app_state.clock.advance(1801)
        assert _state(client, rid) == 4  # computed on read, stored still 2
        assert client.get("/reservations", params={"customer_tid": customer.tid, "next_action": 2}).json()
        wait_for(lambda: ledger.balance(wallet, "TFT") == start)


def test_reservation_expiry_is_delete_on_read(free_lg):
    with _client(free_lg) as client:
        customer = Customer(client, "expiring.3bot")
        rid = _create(client, free_lg, customer)[0]["reservation_id"]
        free_lg.app_state.clock.advance(2 * 3600 + 1)
        assert _state(client, rid) == 4
        # a node scanning it persists 4 and sees to_delete
        workloads, _ = _poll(client, NODE_A, rid)
        assert workloads and all(w["to_delete"] for w in workloads)
        assert client.get("/reservations", params={"next_action": 4}).json()[0]["id"] == rid


def test_sign_provision_quorum(free_lg):
    with _client(free_lg) as client:
        customer = Customer(client, "signer.3bot")
        cosigner = Customer(client, "cosigner.3bot")
        provision = {"signers": [cosigner.tid, 9999], "quorum_min": 1}
        answer, body = _create(client, free_lg, customer, signing_request_provision=provision)
        rid = answer["reservation_id"]
        assert _state(client, rid) == 1  # sign; free mode cannot move it further before the quorum
        url = "/reservations/%d/sign/provision" % rid
        message = "%d%s" % (rid, body["json"])
        bad_hex = client.post(url, json={"tid": cosigner.tid, "signature": "xx"})
        assert bad_hex.status_code == 400 and bad_hex.json()["error"].startswith("invalid signature expecting hex encoded string: ")
        assert client.post("/reservations/99999/sign/provision", json={"tid": 1, "signature": ""}).status_code == 404
        not_signer = client.post(url, json={"tid": customer.tid, "signature": customer.sign(message)})
        assert not_signer.status_code == 401 and not_signer.json() == {"error": "signature not required for '%d'" % customer.tid}
        unknown = client.post(url, json={"tid": 9999, "signature": "00"})
        assert unknown.status_code == 404 and unknown.json() == {"error": "customer id not found: mongo: no documents in result"}
        forged = client.post(url, json={"tid": cosigner.tid, "signature": customer.sign(message)})
        assert forged.status_code == 401 and forged.json() == {"error": "failed to verify signature: signature verification failed"}
        signed = client.post(url, json={"tid": cosigner.tid, "signature": cosigner.sign(message), "epoch": 0})
        assert signed.status_code == 201 and signed.text == "null\n"
        reservation = client.get("/reservations/%d" % rid).json()
        assert reservation["next_action"] == 2 and [s["tid"] for s in reservation["signatures_provision"]] == [cosigner.tid]
        assert client.get("/reservations", params={"next_action": 1, "customer_tid": customer.tid}).json()  # stored 1
        again = client.post(url, json={"tid": cosigner.tid, "signature": cosigner.sign(message)})
        assert again.status_code == 401 and again.json() == {"error": "reservation not expecting signatures"}


def test_sign_delete_errors_and_no_quorum(free_lg):
    with _client(free_lg) as client:
        customer = Customer(client, "nodelete.3bot")
        data = reservation_data(grid_now(free_lg), containers=[container(1, NODE_A)], networks=[network(2, [NODE_A])])
        body = customer.reservation_body(data)
        rid = client.post("/reservations", json=body).json()["reservation_id"]
        response = client.post("/reservations/%d/sign/delete" % rid, json=customer.delete_signature(rid, body["json"]))
        assert response.status_code == 401 and response.json() == {"error": "signature not required for '%d'" % customer.tid}
        assert _state(client, rid) == 3  # without a delete quorum a reservation cannot be cancelled


def test_volumes_and_used_resources_on_the_node_document(free_lg):
    """A container's and volume's workloads reach the node in explorer.md §4.5 order: containers, volumes, networks."""
    with _client(free_lg) as client:
        customer = Customer(client, "vol.3bot")
        rid = _create(client, free_lg, customer, containers=[container(1, NODE_A)], volumes=[volume(4, NODE_A)],
                      networks=[network(2, [NODE_A])])[0]["reservation_id"]
        workloads, _ = _poll(client, NODE_A, rid)
        assert [(w["workload_id"], w["type"]) for w in workloads] == [("%d-1" % rid, 1), ("%d-4" % rid, 2), ("%d-2" % rid, 3)]


def test_network_only_reservation_costs_nothing_and_deploys_unpaid(start_localgrid):
    lg = start_localgrid(quiet=True)
    with _client(lg) as client:
        assert _poll(client, NODE_A) == ([], 0)  # nothing allocated yet: X-Last-Id is 0
        customer = Customer(client, "netonly.3bot")
        answer, _ = _create(client, lg, customer, containers=[])
        assert answer["escrow_information"]["details"] == []  # farms that only host networks are absent
        rid = answer["reservation_id"]
        wait_for(lambda: _state(client, rid) == 3)
        queued, last_id = _poll(client, NODE_B, rid + 1)
        assert last_id == rid and [w["workload_id"] for w in queued] == ["%d-2" % rid]


def test_nodes_are_woken_by_work_for_them_not_by_a_reservation_waiting_for_payment(start_localgrid, free_lg):
    lg = start_localgrid(quiet=True)
    wakeups = lg.app_state.node_wakeups
    with _client(lg) as client:
        customer = Customer(client, "waiting.3bot")
        before = {node: wakeups.of(node).generation for node in (NODE_A, NODE_B)}
        answer, _ = _create(client, lg, customer)
        rid, info = answer["reservation_id"], answer["escrow_information"]
        assert {node: wakeups.of(node).generation for node in (NODE_A, NODE_B)} == before  # at pay: nothing to do
        ledger = lg.app_state.ledger
        total = sum(d["total_amount"] for d in info["details"])
        ledger.pay(_funded_wallet(ledger), info["address"], "TFT", total, memo_text=str(rid))
        wait_for(lambda: all(wakeups.of(node).generation > before[node] for node in (NODE_A, NODE_B)))
        assert _state(client, rid) == 3
    with _client(free_lg) as client:  # free mode: deploy at create, which wakes the nodes at once
        before = free_lg.app_state.node_wakeups.of(NODE_A).generation
        _create(client, free_lg, Customer(client, "free-waker.3bot"))
        assert free_lg.app_state.node_wakeups.of(NODE_A).generation > before


def test_a_read_again_shows_every_change_and_the_computed_state_of_its_time(free_lg):
    """Reads reuse the rendering of an unchanged stored reservation (reservations.py): a change or the
    clock passing a deadline must still show on the next read."""
    with _client(free_lg) as client:
        customer = Customer(client, "reader.3bot")
        answer, _ = _create(client, free_lg, customer)
        rid = answer["reservation_id"]
        first = client.get("/reservations/%d" % rid).json()
        assert first == client.get("/reservations/%d" % rid).json() and not first["results"]
        _ok(client, "%d-1" % rid, NODE_A)
        read = client.get("/reservations/%d" % rid).json()
        assert [r["workload_id"] for r in read["results"]] == ["%d-1" % rid] and read["next_action"] == 3
        listed = client.get("/reservations", params={"customer_tid": customer.tid}).json()
        assert listed == [read]
        free_lg.app_state.clock.advance(3 * 3600)  # past expiration_reservation: delete, computed on read
        assert client.get("/reservations/%d" % rid).json()["next_action"] == 4
        assert client.get("/reservations", params={"customer_tid": customer.tid}).json()[0]["next_action"] == 4
