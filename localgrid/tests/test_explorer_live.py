"""Stellar mode with the simulated nodes running: pay -> deploy -> ok -> payout; cancel -> deleted."""

import base64

import httpx
import nacl.public
import nacl.signing
from stellar_sdk import Keypair

from localgrid.tests.conftest import Customer, container, grid_now, reservation_data, wait_for

XLM = 10**7


def _sealed_network(node, name="live"):
    wg_key = base64.b64encode(bytes(nacl.public.PrivateKey.generate())).decode()
    public = nacl.signing.VerifyKey(bytes.fromhex(node["public_key_hex"])).to_curve25519_public_key()
    return {
        "name": name, "workload_id": 1, "iprange": "10.250.0.0/16", "stats_aggregator": [], "farmer_tid": 0,
        "network_resources": [{
            "node_id": node["node_id"],
            "wireguard_private_key_encrypted": nacl.public.SealedBox(public).encrypt(wg_key.encode()).hex(),
            "wireguard_public_key": base64.b64encode(bytes(32)).decode(), "wireguard_listen_port": 5555,
            "iprange": "10.250.1.0/24", "peers": [],
        }],
    }


def _assert_one_payout_transaction(lg, escrow, rid, destinations):
    """The escrow paid ``destinations`` in one transaction with the reservation id as memo, as upstream does."""
    records = httpx.get(lg.horizon_url + "/accounts/%s/payments" % escrow, params={"limit": 50}).json()
    paid = [r for r in records["_embedded"]["records"] if r.get("from") == escrow and r.get("to") in destinations]
    assert {r["to"] for r in paid} == destinations
    (tx_hash,) = {r["transaction_hash"] for r in paid}
    transaction = httpx.get(lg.horizon_url + "/transactions/" + tx_hash).json()
    assert transaction["memo"] == str(rid) and transaction["operation_count"] == len(destinations)


def test_paid_reservation_is_deployed_by_the_node_and_farmers_are_paid(start_localgrid):
    lg = start_localgrid(payment="stellar")
    state, ledger = lg.app_state, lg.app_state.ledger
    node = next(n for n in state.grid["nodes"] if n["hostname"] == "kristof-lochristi-1")
    with httpx.Client(base_url=lg.explorer_url, timeout=10) as client:
        customer = Customer(client, "live.3bot")
        box = container(2, node["node_id"], network="live", ip="10.250.1.5")
        data = reservation_data(grid_now(lg), containers=[box], networks=[_sealed_network(node)], signer=customer.tid)
        body = customer.reservation_body(data)
        answer = client.post("/reservations", json=body).json()
        rid, info = answer["reservation_id"], answer["escrow_information"]
        (detail,) = info["details"]
        farm_wallet = client.get("/farms/2").json()["wallet_addresses"][0]["address"]
        farm_before = ledger.balance(farm_wallet, "TFT")

        wallet = Keypair.random().public_key
        ledger.create_account(wallet, 100 * XLM)
        ledger.change_trust(wallet, "TFT")
        ledger.pay(ledger.issuer("TFT"), wallet, "TFT", 100 * XLM)
        ledger.pay(wallet, info["address"], "TFT", detail["total_amount"], memo_text=str(rid))

        def deployed():
            reservation = client.get("/reservations/%d" % rid).json()
            return len(reservation["results"]) == 2 and reservation

        reservation = wait_for(deployed, timeout=20)
        assert reservation["next_action"] == 3
        assert all(r["state"] == 1 for r in reservation["results"]), reservation["results"]
        container_result = next(r for r in reservation["results"] if r["workload_id"] == "%d-2" % rid)
        assert container_result["data_json"]["ipv4"] == "10.250.1.5"
        wait_for(lambda: ledger.balance(farm_wallet, "TFT") > farm_before)
        assert ledger.balance(farm_wallet, "TFT") - farm_before == (detail["total_amount"] // 10) * 9
        _assert_one_payout_transaction(lg, info["address"], rid, {farm_wallet, state.wallets.foundation})
        assert wait_for(lambda: client.get("/nodes/" + node["node_id"]).json()["reserved_resources"]["cru"] >= 1)

        signature = customer.delete_signature(rid, body["json"])
        assert client.post("/reservations/%d/sign/delete" % rid, json=signature).status_code == 201
        wait_for(lambda: client.get("/reservations/%d" % rid).json()["next_action"] == 6, timeout=20)
        wait_for(lambda: client.get("/nodes/" + node["node_id"]).json()["reserved_resources"]["cru"] == 0)
