"""A restart on the same state file keeps users, reservations, results, escrow, balances, clock."""

import httpx
from stellar_sdk import Keypair

from localgrid.tests.conftest import Customer, container, grid_now, network, reservation_data, wait_for

XLM = 10**7


def test_state_survives_a_restart(start_localgrid, tmp_path):
    state_file = str(tmp_path / "persist.db")
    first = start_localgrid(quiet=True, state=state_file)
    ledger = first.app_state.ledger
    node = next(n for n in first.app_state.grid["nodes"] if n["hostname"] == "kristof-lochristi-1")["node_id"]
    with httpx.Client(base_url=first.explorer_url, timeout=10) as client:
        customer = Customer(client, "persist.3bot")
        data = reservation_data(grid_now(first), containers=[container(1, node)], networks=[network(2, [node])],
                                signer=customer.tid)
        answer = client.post("/reservations", json=customer.reservation_body(data)).json()
        rid, info = answer["reservation_id"], answer["escrow_information"]
        wallet = Keypair.random().public_key
        ledger.create_account(wallet, 100 * XLM)
        ledger.change_trust(wallet, "TFT")
        ledger.pay(ledger.issuer("TFT"), wallet, "TFT", 100 * XLM)
        ledger.pay(wallet, info["address"], "TFT", info["details"][0]["total_amount"], memo_text=str(rid))
        wait_for(lambda: client.get("/reservations/%d" % rid).json()["next_action"] == 3)
        ok = {"category": 1, "state": 1, "data_json": {"id": "%d-1" % rid}}
        assert client.put("/reservations/workloads/%d-1/%s" % (rid, node), json=ok).status_code == 201
        first.app_state.clock.advance(600)
        before = {
            "users": client.get("/users").json(),
            "reservation": client.get("/reservations/%d" % rid).json(),
            "farms": client.get("/farms").json(),
            "nodes": client.get("/nodes").json(),
            "wallet": ledger.balance(wallet, "TFT"),
            "escrow": ledger.balance(info["address"], "TFT"),
            "now": grid_now(first),
        }
    first.stop()

    second = start_localgrid(quiet=True, state=state_file)
    with httpx.Client(base_url=second.explorer_url, timeout=10) as client:
        assert client.get("/users").json() == before["users"]
        assert client.get("/reservations/%d" % rid).json() == before["reservation"]
        assert client.get("/farms").json() == before["farms"]
        assert client.get("/nodes").json() == before["nodes"]
        assert second.app_state.ledger.balance(wallet, "TFT") == before["wallet"]
        assert second.app_state.ledger.balance(info["address"], "TFT") == before["escrow"]
        assert grid_now(second) >= before["now"]
        # the queue survived: the container is reported, the network is still queued for the node
        queued = client.get("/reservations/workloads/%s" % node, params={"from": rid + 1}).json()
        assert [w["workload_id"] for w in queued] == ["%d-2" % rid]
        # counters continue and the same customer keeps the same escrow account
        again = client.post("/reservations", json=customer.reservation_body(data)).json()
        assert again["reservation_id"] == rid + 1
        assert again["escrow_information"]["address"] == info["address"]
        # finishing the deployment after the restart pays the farmer
        farm_wallet = client.get("/farms/2").json()["wallet_addresses"][0]["address"]
        farm_before = second.app_state.ledger.balance(farm_wallet, "TFT")
        ok = {"category": 3, "state": 1, "data_json": None}
        assert client.put("/reservations/workloads/%d-2/%s" % (rid, node), json=ok).status_code == 201
        assert second.app_state.ledger.balance(farm_wallet, "TFT") > farm_before
