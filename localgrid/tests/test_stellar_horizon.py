"""HTTP tests of localgrid's Horizon subset, driven by stellar-sdk 16's own ``Server`` over a real socket."""

import base64
import contextlib
import threading
import time
from decimal import Decimal

import pytest
import requests
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount
from stellar_sdk import Account, Asset, Keypair, Network, Server, TransactionBuilder, TransactionEnvelope
from stellar_sdk.exceptions import BadRequestError, NotFoundError

from localgrid.clock import Clock
from localgrid.stellar import NETWORK_PASSPHRASE, Ledger
from localgrid.stellar.horizon import routes
from localgrid.store import Store

XLM = 10**7


@contextlib.contextmanager
def serve(path, ledger_close_interval=0.0):
    """A ledger and its routes mounted at /stellar, served by uvicorn on a free 127.0.0.1 port."""
    store = Store(str(path))
    ledger = Ledger(store, Clock(store))
    app = Starlette(routes=[Mount("/stellar", routes=routes(ledger, ledger_close_interval))])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield ledger, "http://127.0.0.1:%d/stellar" % port
    finally:
        server.should_exit = True
        thread.join(10)
        store.close()


@pytest.fixture(scope="module")
def horizon(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("horizon") / "state.db") as running:
        yield running


@pytest.fixture(scope="module")
def ledger(horizon):
    return horizon[0]


@pytest.fixture(scope="module")
def url(horizon):
    return horizon[1]


@pytest.fixture(scope="module")
def server(url):
    server = Server(url)
    yield server
    server.close()


@pytest.fixture(scope="module")
def tft(ledger):
    return Asset("TFT", ledger.issuer("TFT"))


def funded(url, tft_asset=None, tft_amount=None):
    """A keypair funded by friendbot, optionally trusting TFT (through the SDK) and topped up by the faucet."""
    keypair = Keypair.random()
    assert requests.get(url + "/friendbot", params={"addr": keypair.public_key}, timeout=10).status_code == 200
    if tft_asset is not None:
        server = Server(url)
        submit(server, keypair, lambda b: b.append_change_trust_op(tft_asset))
        if tft_amount:
            response = requests.post(url + "/faucet", data={"addr": keypair.public_key, "asset": "TFT",
                                                            "amount": tft_amount}, timeout=10)
            assert response.status_code == 200, response.text
    return keypair


def build(server, keypair, add_ops, memo=None, passphrase=NETWORK_PASSPHRASE, base_fee=100, sequence_delta=0):
    account = server.load_account(keypair.public_key)
    account.sequence += sequence_delta
    builder = TransactionBuilder(account, passphrase, base_fee).set_timeout(300)
    if memo is not None:
        builder.add_text_memo(memo)
    add_ops(builder)
    return builder.build()


def submit(server, keypair, add_ops, memo=None, **kwargs):
    envelope = build(server, keypair, add_ops, memo, **kwargs)
    envelope.sign(keypair)
    return server.submit_transaction(envelope)


def codes_of(server, envelope):
    with pytest.raises(BadRequestError) as exc:
        server.submit_transaction(envelope)
    assert exc.value.status == 400
    assert exc.value.type == "https://stellar.org/horizon-errors/transaction_failed"
    return exc.value.extras["result_codes"]


def balance_of(server, account_id, asset):
    for line in server.accounts().account_id(account_id).call()["balances"]:
        if asset.is_native() and line["asset_type"] == "native":
            return line["balance"]
        if not asset.is_native() and (line.get("asset_code"), line.get("asset_issuer")) == (asset.code, asset.issuer):
            return line["balance"]
    return None


def test_root_ledgers_and_fees(server, url):
    root = requests.get(url + "/", timeout=10).json()
    assert root["network_passphrase"] == NETWORK_PASSPHRASE
    assert server.fetch_base_fee() == 100
    latest = server.ledgers().order(desc=True).limit(1).call()["_embedded"]["records"][0]
    assert latest["sequence"] == root["history_latest_ledger"]
    assert latest["base_reserve_in_stroops"] == 5_000_000
    assert server.fee_stats().call()["last_ledger_base_fee"] == "100"


def test_account_shape_and_missing_account(server, url, tft):
    keypair = funded(url, tft, "25")
    record = server.accounts().account_id(keypair.public_key).call()
    assert record["id"] == record["account_id"] == keypair.public_key
    assert isinstance(record["sequence"], str) and int(record["sequence"]) > 0
    assert record["data"] == {} and record["subentry_count"] == 1
    assert record["signers"] == [{"weight": 1, "key": keypair.public_key, "type": "ed25519_public_key"}]
    credit, native = record["balances"]
    assert native == {"balance": "9999.9999900", "buying_liabilities": "0.0000000",
                      "selling_liabilities": "0.0000000", "asset_type": "native"}
    assert (credit["asset_type"], credit["asset_code"], credit["asset_issuer"], credit["balance"]) == (
        "credit_alphanum4", "TFT", tft.issuer, "25.0000000")
    assert credit["limit"] == "922337203685.4775807"
    with pytest.raises(NotFoundError) as exc:
        server.accounts().account_id(Keypair.random().public_key).call()
    assert exc.value.type == "https://stellar.org/horizon-errors/not_found"


def test_payment_with_memo(server, url, ledger, tft):
    alice, escrow = funded(url, tft, "100"), funded(url, tft)
    latest = server.ledgers().order(desc=True).limit(1).call()["_embedded"]["records"][0]["sequence"]
    result = submit(server, alice, lambda b: b.append_payment_op(escrow.public_key, tft, "12.3456789"), memo="42")
    assert result["successful"] is True and result["ledger"] == latest + 1
    assert (result["memo_type"], result["memo"], result["fee_charged"]) == ("text", "42", "100")
    assert result["result_xdr"] == "AAAAAAAAAGQAAAAAAAAAAQAAAAAAAAABAAAAAAAAAAA="
    assert balance_of(server, alice.public_key, tft) == "87.6543211"
    assert balance_of(server, escrow.public_key, tft) == "12.3456789"
    assert ledger.memo_balance(escrow.public_key, "TFT", "42") == 123456789

    fetched = server.transactions().transaction(result["hash"]).call()
    assert (fetched["hash"], fetched["memo"], fetched["source_account"]) == (result["hash"], "42", alice.public_key)
    assert base64.b64decode(fetched["memo_bytes"]) == b"42"

    payments = server.payments().for_account(escrow.public_key).join("transactions").call()["_embedded"]["records"]
    payment = payments[-1]
    assert (payment["type"], payment["from"], payment["to"], payment["amount"]) == (
        "payment", alice.public_key, escrow.public_key, "12.3456789")
    assert (payment["asset_code"], payment["asset_issuer"], payment["transaction_hash"]) == (
        "TFT", tft.issuer, result["hash"])
    assert payment["transaction"]["memo"] == "42"
    assert payments[0]["type"] == "create_account" and payments[0]["starting_balance"] == "10000.0000000"

    effects = server.effects().for_transaction(result["hash"]).call()["_embedded"]["records"]
    assert [(e["type"], e["account"], e["amount"]) for e in effects] == [
        ("account_credited", escrow.public_key, "12.3456789"), ("account_debited", alice.public_key, "12.3456789")]
    for builder in (server.operations(), server.payments()):
        (operation,) = builder.for_transaction(result["hash"]).call()["_embedded"]["records"]
        assert (operation["type"], operation["amount"], operation["transaction_successful"]) == (
            "payment", "12.3456789", True)
        assert server.operations().operation(operation["id"]).call()["to"] == escrow.public_key
    mine = server.transactions().for_account(escrow.public_key).order(desc=True).limit(1).call()
    assert mine["_embedded"]["records"][0]["hash"] == result["hash"]


def test_bad_sequence(server, url, tft):
    alice, bob = funded(url, tft, "10"), funded(url, tft)
    sequence = server.load_account(alice.public_key).sequence
    for delta in (1, -1):
        envelope = build(server, alice, lambda b: b.append_payment_op(bob.public_key, tft, "1"), sequence_delta=delta)
        envelope.sign(alice)
        with pytest.raises(BadRequestError) as exc:
            server.submit_transaction(envelope)
        assert exc.value.extras["result_codes"] == {"transaction": "tx_bad_seq"}
        assert exc.value.result_xdr == "AAAAAAAAAAD////7AAAAAA=="
    assert server.load_account(alice.public_key).sequence == sequence
    assert balance_of(server, alice.public_key, Asset.native()) == "9999.9999900"


def test_underfunded_charges_fee_and_consumes_sequence(server, url, tft):
    alice, bob = funded(url, tft, "10"), funded(url, tft)
    sequence = server.load_account(alice.public_key).sequence
    envelope = build(server, alice, lambda b: b.append_payment_op(bob.public_key, tft, "10.0000001"), memo="9")
    envelope.sign(alice)
    assert codes_of(server, envelope) == {"transaction": "tx_failed", "operations": ["op_underfunded"]}
    assert server.load_account(alice.public_key).sequence == sequence + 1
    assert balance_of(server, alice.public_key, Asset.native()) == "9999.9999800"
    assert balance_of(server, alice.public_key, tft) == "10.0000000"
    listed = server.transactions().for_account(alice.public_key).call()["_embedded"]["records"]
    assert envelope.hash_hex() not in [t["hash"] for t in listed]
    failed = server.transactions().for_account(alice.public_key).include_failed(True).call()["_embedded"]["records"]
    assert [t["successful"] for t in failed if t["hash"] == envelope.hash_hex()] == [False]


@pytest.mark.parametrize("case, expected", [
    ("no_trust", ["op_no_trust"]),
    ("src_no_trust", ["op_src_no_trust"]),
    ("no_destination", ["op_no_destination"]),
    ("second_op_fails", ["op_success", "op_underfunded"]),
])
def test_operation_failures(server, url, tft, case, expected):
    alice, bob = funded(url, tft, "10"), funded(url, tft)
    source, destination = alice, bob.public_key
    if case == "no_trust":
        destination = funded(url).public_key
    elif case == "src_no_trust":
        source = funded(url)
    elif case == "no_destination":
        destination = Keypair.random().public_key

    def ops(builder):
        builder.append_payment_op(destination, tft, "5")
        if case == "second_op_fails":
            builder.append_payment_op(destination, tft, "5.0000001")

    envelope = build(server, source, ops, memo="x")
    envelope.sign(source)
    assert codes_of(server, envelope) == {"transaction": "tx_failed", "operations": expected}
    # all-or-nothing: the successful first op of a failing transaction is rolled back
    assert balance_of(server, alice.public_key, tft) == "10.0000000"
    assert balance_of(server, bob.public_key, tft) == "0.0000000"


@pytest.mark.parametrize("case, expected", [
    ("wrong_network", "tx_bad_auth"),
    ("unsigned", "tx_bad_auth"),
    ("other_key", "tx_bad_auth"),
    ("extra_signature", "tx_bad_auth_extra"),
    ("low_fee", "tx_insufficient_fee"),
])
def test_transaction_level_rejections(server, url, tft, case, expected):
    alice, bob = funded(url, tft, "10"), funded(url, tft)
    passphrase = Network.TESTNET_NETWORK_PASSPHRASE if case == "wrong_network" else NETWORK_PASSPHRASE
    envelope = build(server, alice, lambda b: b.append_payment_op(bob.public_key, tft, "1"), memo="1",
                     passphrase=passphrase, base_fee=99 if case == "low_fee" else 100)
    if case == "other_key":
        envelope.sign(bob)
    elif case != "unsigned":
        envelope.sign(alice)
    if case == "extra_signature":
        envelope.sign(Keypair.random())
    sequence = server.load_account(alice.public_key).sequence
    assert codes_of(server, envelope) == {"transaction": expected}
    assert server.load_account(alice.public_key).sequence == sequence
    assert balance_of(server, alice.public_key, Asset.native()) == "9999.9999900"
    with pytest.raises(NotFoundError):
        server.transactions().transaction(envelope.hash_hex()).call()


def test_other_refusals_before_apply(server, url, ledger, tft):
    alice, bob = funded(url, tft, "10"), funded(url, tft)
    path_payment = build(server, alice, lambda b: b.append_path_payment_strict_send_op(
        bob.public_key, tft, "1", tft, "1", []))
    path_payment.sign(alice)
    assert codes_of(server, path_payment) == {"transaction": "tx_failed", "operations": ["op_not_supported"]}

    inner = build(server, alice, lambda b: b.append_payment_op(bob.public_key, tft, "1"))
    inner.sign(alice)
    fee_bump = TransactionBuilder.build_fee_bump_transaction(bob.public_key, 200, inner, NETWORK_PASSPHRASE)
    fee_bump.sign(bob)
    assert codes_of(server, fee_bump) == {"transaction": "tx_not_supported"}

    early = TransactionBuilder(server.load_account(alice.public_key), NETWORK_PASSPHRASE, 100).add_time_bounds(
        int(ledger.clock.now()) + 3600, 0).append_payment_op(bob.public_key, tft, "1").build()
    early.sign(alice)
    assert codes_of(server, early) == {"transaction": "tx_too_early"}

    stranger = Keypair.random()
    ghost = TransactionBuilder(Account(stranger.public_key, 1), NETWORK_PASSPHRASE, 100).set_timeout(60)
    ghost = ghost.append_payment_op(bob.public_key, tft, "1").build()
    ghost.sign(stranger)
    assert codes_of(server, ghost) == {"transaction": "tx_no_source_account"}

    ledger.create_account(stranger.public_key, 10_000_000)  # exactly the minimum balance: no room for a fee
    broke = build(server, stranger, lambda b: b.append_payment_op(bob.public_key, Asset.native(), "0.0000001"))
    broke.sign(stranger)
    assert codes_of(server, broke) == {"transaction": "tx_insufficient_balance"}
    assert server.accounts().account_id(stranger.public_key).call()["balances"][0]["balance"] == "1.0000000"


def test_operation_source_must_sign(server, url, tft):
    payer, escrow, farmer = funded(url, tft), funded(url, tft, "5"), funded(url, tft)
    ops = lambda b: b.append_payment_op(farmer.public_key, tft, "5", source=escrow.public_key)  # noqa: E731
    envelope = build(server, payer, ops, memo="3")
    envelope.sign(payer)
    assert codes_of(server, envelope) == {"transaction": "tx_failed", "operations": ["op_bad_auth"]}
    envelope.sign(escrow)  # the explorer's payout shape: foundation pays the fee, escrow signs its ops
    assert server.submit_transaction(envelope)["successful"] is True
    assert balance_of(server, farmer.public_key, tft) == "5.0000000"
    assert balance_of(server, payer.public_key, Asset.native()) == "9999.9999800"


def test_resubmission_returns_the_same_record_and_applies_once(server, url, tft):
    alice, bob = funded(url, tft, "10"), funded(url, tft)
    envelope = build(server, alice, lambda b: b.append_payment_op(bob.public_key, tft, "4"), memo="77")
    envelope.sign(alice)
    first = server.submit_transaction(envelope)
    again = server.submit_transaction(TransactionEnvelope.from_xdr(envelope.to_xdr(), NETWORK_PASSPHRASE))
    assert again == first
    assert balance_of(server, bob.public_key, tft) == "4.0000000"
    failing = build(server, alice, lambda b: b.append_payment_op(bob.public_key, tft, "7"))
    failing.sign(alice)
    assert codes_of(server, failing)["operations"] == ["op_underfunded"]
    assert codes_of(server, failing)["operations"] == ["op_underfunded"]
    assert balance_of(server, alice.public_key, Asset.native()) == "9999.9999700"


def test_change_trust_and_create_account_through_the_sdk(server, url, ledger):
    alice = funded(url)
    tfta = Asset("TFTA", ledger.issuer("TFTA"))
    submit(server, alice, lambda b: b.append_change_trust_op(tfta, limit="1000"))
    assert balance_of(server, alice.public_key, tfta) == "0.0000000"
    line = [b for b in server.accounts().account_id(alice.public_key).call()["balances"] if b.get("asset_code")]
    assert line[0]["limit"] == "1000.0000000"
    submit(server, alice, lambda b: b.append_change_trust_op(tfta, limit="0"))
    assert balance_of(server, alice.public_key, tfta) is None

    free_tft = Asset("FreeTFT", ledger.issuer("FreeTFT"))
    submit(server, alice, lambda b: b.append_change_trust_op(free_tft))
    line = [b for b in server.accounts().account_id(alice.public_key).call()["balances"] if b.get("asset_code")]
    assert (line[0]["asset_type"], line[0]["asset_code"]) == ("credit_alphanum12", "FreeTFT")

    unknown_issuer = Asset("TFT", Keypair.random().public_key)
    envelope = build(server, alice, lambda b: b.append_change_trust_op(unknown_issuer))
    envelope.sign(alice)
    assert codes_of(server, envelope)["operations"] == ["op_no_issuer"]

    newcomer = Keypair.random().public_key
    submit(server, alice, lambda b: b.append_create_account_op(newcomer, "2.5"))
    assert server.accounts().account_id(newcomer).call()["balances"][-1]["balance"] == "2.5000000"
    for destination, amount, code in ((newcomer, "2.5", "op_already_exists"),
                                      (Keypair.random().public_key, "0.9999999", "op_low_reserve")):
        envelope = build(server, alice, lambda b: b.append_create_account_op(destination, amount))
        envelope.sign(alice)
        assert codes_of(server, envelope)["operations"] == [code]


def test_malformed_envelope(url):
    response = requests.post(url + "/transactions", data={"tx": "bm90IGFuIGVudmVsb3Bl"}, timeout=10)
    body = response.json()
    assert response.status_code == 400
    assert body["type"] == "https://stellar.org/horizon-errors/transaction_malformed"
    assert body["extras"] == {"envelope_xdr": "bm90IGFuIGVudmVsb3Bl"}


def test_time_bounds_follow_the_grid_clock(tmp_path):
    with serve(tmp_path / "clock.db") as (ledger, url):
        server = Server(url)
        alice, bob = funded(url), funded(url)
        envelope = build(server, alice, lambda b: b.append_payment_op(bob.public_key, Asset.native(), "1"))
        envelope.sign(alice)
        ledger.clock.advance(301)
        assert codes_of(server, envelope) == {"transaction": "tx_too_late"}
        server.close()


def test_paging_links_are_followable(server, url, tft):
    alice, escrow = funded(url, tft, "100"), funded(url, tft)
    hashes = [submit(server, alice, lambda b: b.append_payment_op(escrow.public_key, tft, str(n)), memo=str(n))["hash"]
              for n in range(1, 6)]
    builder = server.payments().for_account(escrow.public_key).limit(2)
    seen = []
    page = builder.call()
    while page["_embedded"]["records"]:
        assert page["_links"]["next"]["href"].startswith(url + "/accounts/")
        seen += [record["transaction_hash"] for record in page["_embedded"]["records"] if record["type"] == "payment"]
        page = builder.next()
    assert seen == hashes

    newest_first = server.transactions().for_account(escrow.public_key).order(desc=True).limit(3)
    first_page = newest_first.call()["_embedded"]["records"]
    assert [t["hash"] for t in first_page] == hashes[:1:-1]
    second_page = newest_first.next()["_embedded"]["records"]
    assert [t["hash"] for t in second_page[:2]] == hashes[1::-1]  # then the change_trust and friendbot txs
    back = newest_first.prev()["_embedded"]["records"]
    assert [t["hash"] for t in back] == hashes[2:]

    effects = server.effects().for_account(escrow.public_key).limit(1)
    tokens = [effects.call()["_embedded"]["records"][0]["paging_token"]]
    tokens.append(effects.next()["_embedded"]["records"][0]["paging_token"])
    assert tokens[0] != tokens[1]


def test_bad_paging_parameters(url, tft):
    for params in ({"order": "up"}, {"limit": "201"}, {"cursor": "abc"}):
        response = requests.get(url + "/transactions", params=params, timeout=10)
        assert response.status_code == 400
        assert response.json()["type"] == "https://stellar.org/horizon-errors/bad_request"


def test_concurrent_submissions_keep_sequences_strict(server, url, tft):
    escrow = funded(url, tft)
    payers = [funded(url, tft, "50") for _ in range(4)]
    outcomes = []

    def race(payer):
        # Two envelopes with the same sequence number: exactly one may be applied.
        local = Server(url)
        envelopes = [build(local, payer, lambda b, n=n: b.append_payment_op(escrow.public_key, tft, str(n)))
                     for n in (1, 2)]
        for envelope in envelopes:
            envelope.sign(payer)
            try:
                outcomes.append(local.submit_transaction(envelope)["successful"])
            except BadRequestError as exc:
                outcomes.append(exc.extras["result_codes"]["transaction"])
        local.close()

    threads = [threading.Thread(target=race, args=(payer,)) for payer in payers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(map(str, outcomes)) == ["True"] * 4 + ["tx_bad_seq"] * 4
    paid = sum(Decimal(50) - Decimal(balance_of(server, payer.public_key, tft)) for payer in payers)
    assert paid in (4, 5, 6, 7, 8)  # each payer's winning envelope paid 1 or 2
    assert Decimal(balance_of(server, escrow.public_key, tft)) == paid


def test_friendbot(url, server):
    keypair = Keypair.random()
    response = requests.get(url + "/friendbot", params={"addr": keypair.public_key}, timeout=10)
    assert response.status_code == 200 and response.json()["successful"] is True
    assert balance_of(server, keypair.public_key, Asset.native()) == "10000.0000000"
    again = requests.post(url + "/friendbot", params={"addr": keypair.public_key}, timeout=10)
    assert again.status_code == 400
    assert again.json()["extras"]["result_codes"] == {"transaction": "tx_failed", "operations": ["op_already_exists"]}
    assert requests.get(url + "/friendbot", params={"addr": "GNOPE"}, timeout=10).status_code == 400


def test_faucet(url, server, ledger, tft):
    stranger = funded(url)
    refused = requests.get(url + "/faucet", params={"addr": stranger.public_key, "asset": "TFT"}, timeout=10)
    assert refused.status_code == 400 and "no trustline to " + ledger.asset_string("TFT") in refused.json()["detail"]
    missing = Keypair.random().public_key
    refused = requests.get(url + "/faucet", params={"addr": missing}, timeout=10)
    assert refused.status_code == 400 and "does not exist" in refused.json()["detail"]
    holder = funded(url, tft)
    for params, field in (({"asset": "BTC"}, "asset"), ({"amount": "1000000.0000001"}, "amount"),
                          ({"amount": "-1"}, "amount"), ({"amount": "0"}, "amount")):
        refused = requests.get(url + "/faucet", params=dict(params, addr=holder.public_key), timeout=10)
        assert refused.status_code == 400 and refused.json()["extras"]["invalid_field"] == field
    granted = requests.get(url + "/faucet", params={"addr": holder.public_key}, timeout=10)
    assert granted.status_code == 200 and granted.json()["successful"] is True
    requests.post(url + "/faucet", json={"addr": holder.public_key, "asset": ledger.asset_string("TFT"),
                                         "amount": "0.5"}, timeout=10).raise_for_status()
    assert balance_of(server, holder.public_key, tft) == "1000.5000000"
