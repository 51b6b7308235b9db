"""The ledger inside a whole localgrid process (A's server, Horizon mounted at /stellar), across a restart."""

import httpx
from stellar_sdk import Asset, Keypair, Server, TransactionBuilder

from localgrid.stellar import NETWORK_PASSPHRASE


def test_sdk_payment_through_localgrid_survives_restart(start_localgrid, tmp_path):
    state = str(tmp_path / "persist.db")
    lg = start_localgrid(quiet=True, state=state)
    info = httpx.get(lg.base_url + "/localgrid/info", timeout=10).json()
    assert httpx.get(lg.horizon_url + "/", timeout=10).json()["network_passphrase"] == NETWORK_PASSPHRASE
    tft = Asset(*info["assets"]["TFT"].split(":"))
    alice, bob = Keypair.random(), Keypair.random()
    for keypair in (alice, bob):
        httpx.get(lg.horizon_url + "/friendbot", params={"addr": keypair.public_key}, timeout=10).raise_for_status()
    server = Server(lg.horizon_url)
    for keypair in (alice, bob):
        envelope = TransactionBuilder(server.load_account(keypair.public_key), NETWORK_PASSPHRASE,
                                      server.fetch_base_fee()).append_change_trust_op(tft).set_timeout(60).build()
        envelope.sign(keypair)
        server.submit_transaction(envelope)
    httpx.post(lg.horizon_url + "/faucet", params={"addr": alice.public_key, "amount": "20"},
               timeout=10).raise_for_status()
    envelope = TransactionBuilder(server.load_account(alice.public_key), NETWORK_PASSPHRASE, 100).add_text_memo(
        "1").append_payment_op(bob.public_key, tft, "7.5").set_timeout(60).build()
    envelope.sign(alice)
    tx_hash = server.submit_transaction(envelope)["hash"]
    sequence = server.load_account(alice.public_key).sequence
    server.close()
    lg.stop()

    again = start_localgrid(quiet=True, state=state)
    server = Server(again.horizon_url)
    assert server.load_account(alice.public_key).sequence == sequence
    assert server.transactions().transaction(tx_hash).call()["memo"] == "1"
    assert again.app_state.ledger.balance(bob.public_key, "TFT") == 75_000_000
    assert again.app_state.ledger.memo_balance(bob.public_key, "TFT", "1") == 75_000_000
    assert httpx.get(again.base_url + "/localgrid/info", timeout=10).json()["assets"] == info["assets"]
    server.close()
