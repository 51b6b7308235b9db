"""A payment through a channel account, end to end over localgrid's Horizon, as the Stellar protocol has it.

A channel payment is a transaction whose source is a channel account C (C's sequence number, C pays
the fee) holding one payment whose operation source is the wallet W, memo = reservation id, signed
by C and W. What is proven here, and where it comes from:

* Stellar protocol, operation source accounts: an operation with its own source acts on that account
  (W is debited), while only the transaction source pays the fee and consumes a sequence number.
* Stellar protocol, signatures per source account: every source account (the transaction's and each
  operation's) must sign; stellar-core refuses a missing transaction-source signature with tx_bad_auth
  and a missing operation-source signature with tx_failed / op_bad_auth, before apply (no fee, no
  sequence number, nothing recorded).
* Stellar protocol, create_account: creating an account that exists fails with CREATE_ACCOUNT_ALREADY_EXIST,
  which Horizon reports as 400 transaction_failed, result_codes {"transaction": "tx_failed",
  "operations": ["op_already_exists"]}; the failed transaction still pays its fee and uses its sequence number.
* Horizon: the payment is an operation of W and of the escrow (not of C), its transaction is C's.
* tfexplorer v0.3.2 pkg/stellar/stellar.go GetBalance/Refund (used by pkg/escrow/stellar.go): the escrow
  counts the memo's credits to the escrow and refunds to the accounts the payment debited
  (``account_debited`` effects), i.e. the payment's ``from`` W, never the fee payer C.
"""

import collections
from decimal import Decimal

import httpx
import pytest
from stellar_sdk import Account, Asset, Keypair, TransactionBuilder, xdr

from localgrid.stellar import NETWORK_PASSPHRASE
from localgrid.tests.test_explorer_escrow_refunds import Escrow
from localgrid.tests.test_explorer_lifecycle import NODE_A, NODE_B, XLM, _client, _ok, _state

FEE = 100  # stroops: localgrid's base fee, one operation
CHANNEL_XLM = 5 * XLM
AccountState = collections.namedtuple("AccountState", "sequence xlm tft")


@pytest.fixture
def lg(start_localgrid):
    return start_localgrid(quiet=True)


def _stroops(amount):
    return int(Decimal(amount) * 10**7)


def _amount(stroops):
    return str(Decimal(stroops).scaleb(-7))


def _tft(lg):
    return Asset("TFT", lg.app_state.ledger.issuer("TFT"))


def _wallet(lg, tft=1000 * XLM):
    """W: a funded account trusting TFT whose key the test holds (it signs its operations)."""
    ledger, keypair = lg.app_state.ledger, Keypair.random()
    ledger.create_account(keypair.public_key, 100 * XLM)
    ledger.change_trust(keypair.public_key, "TFT")
    ledger.pay(ledger.issuer("TFT"), keypair.public_key, "TFT", tft)
    return keypair


def _account(lg, address):
    """Sequence number, XLM and TFT (stroops) as Horizon reports them."""
    response = httpx.get(lg.horizon_url + "/accounts/" + address, timeout=10)
    assert response.status_code == 200, response.text
    record = response.json()
    balances = {line.get("asset_code", "XLM"): _stroops(line["balance"]) for line in record["balances"]}
    return AccountState(int(record["sequence"]), balances["XLM"], balances.get("TFT", 0))


def _post(lg, envelope):
    return httpx.post(lg.horizon_url + "/transactions", data={"tx": envelope.to_xdr()}, timeout=10)


def _create_account(lg, wallet, channel_id):
    source = Account(wallet.public_key, _account(lg, wallet.public_key).sequence)
    envelope = TransactionBuilder(source, NETWORK_PASSPHRASE, FEE).append_create_account_op(
        channel_id, _amount(CHANNEL_XLM)).set_timeout(300).build()
    envelope.sign(wallet)
    return _post(lg, envelope)


def _channel(lg, wallet):
    """C, created by W; it trusts TFT so a refund wrongly sent to it would land there instead of failing."""
    channel = Keypair.random()
    assert _create_account(lg, wallet, channel.public_key).status_code == 200
    lg.app_state.ledger.change_trust(channel.public_key, "TFT")
    return channel


def _channel_payment(lg, channel, wallet, destination, stroops, memo, signers):
    source = Account(channel.public_key, _account(lg, channel.public_key).sequence)
    envelope = TransactionBuilder(source, NETWORK_PASSPHRASE, FEE).add_text_memo(memo).append_payment_op(
        destination, _tft(lg), _amount(stroops), source=wallet.public_key).set_timeout(300).build()
    for signer in signers:
        envelope.sign(signer)
    return envelope


def _rejected(response):
    """result_codes and the TransactionResult XDR of a 400 transaction_failed."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["type"] == "https://stellar.org/horizon-errors/transaction_failed"
    return body["extras"]["result_codes"], xdr.TransactionResult.from_xdr(body["extras"]["result_xdr"])


def test_wallet_creates_the_channel_and_a_second_create_account_fails_op_already_exists(lg):
    wallet, channel = _wallet(lg), Keypair.random()
    before = _account(lg, wallet.public_key)
    created = _create_account(lg, wallet, channel.public_key)
    assert created.status_code == 200 and created.json()["source_account"] == wallet.public_key
    assert _account(lg, channel.public_key).xlm == CHANNEL_XLM
    assert _account(lg, wallet.public_key) == before._replace(
        sequence=before.sequence + 1, xlm=before.xlm - CHANNEL_XLM - FEE)

    channel_before, before = _account(lg, channel.public_key), _account(lg, wallet.public_key)
    codes, result = _rejected(_create_account(lg, wallet, channel.public_key))
    assert codes == {"transaction": "tx_failed", "operations": ["op_already_exists"]}
    assert result.result.code == xdr.TransactionResultCode.txFAILED
    assert result.result.results[0].tr.create_account_result.code == (
        xdr.CreateAccountResultCode.CREATE_ACCOUNT_ALREADY_EXIST)
    # Applied and failed: the fee is charged and the sequence number used, the channel is untouched.
    assert _account(lg, wallet.public_key) == before._replace(sequence=before.sequence + 1, xlm=before.xlm - FEE)
    assert _account(lg, channel.public_key) == channel_before


def test_channel_payment_debits_the_wallet_charges_the_channel_and_pays_the_escrow(lg):
    with _client(lg) as client:
        escrow = Escrow(lg, client, "channel.3bot")
        wallet = _wallet(lg)
        channel = _channel(lg, wallet)
        overpaid = 2 * XLM
        paid = escrow.total + overpaid
        wallet_before, channel_before = _account(lg, wallet.public_key), _account(lg, channel.public_key)

        for signers, expected in (((channel,), {"transaction": "tx_failed", "operations": ["op_bad_auth"]}),
                                  ((wallet,), {"transaction": "tx_bad_auth"})):
            envelope = _channel_payment(lg, channel, wallet, escrow.address, paid, escrow.memo, signers)
            assert _rejected(_post(lg, envelope))[0] == expected
            assert httpx.get(lg.horizon_url + "/transactions/" + envelope.hash_hex(), timeout=10).status_code == 404
        assert _account(lg, wallet.public_key) == wallet_before
        assert _account(lg, channel.public_key) == channel_before
        lg.app_state.escrow.scan()
        assert escrow.held() == 0 and _state(client, escrow.rid) == 2

        envelope = _channel_payment(lg, channel, wallet, escrow.address, paid, escrow.memo, (channel, wallet))
        accepted = _post(lg, envelope)
        assert accepted.status_code == 200, accepted.text
        tx_hash = accepted.json()["hash"]
        assert _account(lg, channel.public_key) == channel_before._replace(
            sequence=channel_before.sequence + 1, xlm=channel_before.xlm - FEE)
        assert _account(lg, wallet.public_key) == wallet_before._replace(tft=wallet_before.tft - paid)

        payments = httpx.get(lg.horizon_url + "/accounts/%s/payments" % wallet.public_key,
                             params={"order": "desc", "join": "transactions"}, timeout=10).json()
        payment = payments["_embedded"]["records"][0]
        assert (payment["type"], payment["from"], payment["to"], payment["amount"], payment["source_account"]) == (
            "payment", wallet.public_key, escrow.address, _amount(paid), wallet.public_key)
        assert payment["transaction_hash"] == tx_hash
        transaction = httpx.get(lg.horizon_url + "/transactions/" + tx_hash, timeout=10).json()
        for record in (payment["transaction"], transaction):
            assert (record["source_account"], record["memo_type"], record["memo"], record["fee_charged"]) == (
                channel.public_key, "text", escrow.memo, str(FEE))
        # Horizon: the channel is a participant of the transaction, not of the payment operation.
        channel_txs = httpx.get(lg.horizon_url + "/accounts/%s/transactions" % channel.public_key,
                                params={"order": "desc", "limit": 1}, timeout=10).json()
        assert channel_txs["_embedded"]["records"][0]["hash"] == tx_hash
        channel_payments = httpx.get(lg.horizon_url + "/accounts/%s/payments" % channel.public_key,
                                     params={"limit": 200}, timeout=10).json()
        assert tx_hash not in [record["transaction_hash"] for record in channel_payments["_embedded"]["records"]]

        lg.app_state.escrow.scan()
        assert escrow.held() == paid and _state(client, escrow.rid) == 3
        rid = escrow.rid
        for gwid, node, category in (("%d-1", NODE_A, 1), ("%d-2", NODE_A, 3), ("%d-3", NODE_B, 1),
                                     ("%d-2", NODE_B, 3)):
            _ok(client, gwid % rid, node, category=category)
        # Deployed: the farmers are paid and the overpayment goes back to the payment's `from`.
        assert escrow.record()["released"] == 1 and escrow.held() == 0
        assert _account(lg, wallet.public_key).tft == wallet_before.tft - escrow.total
        assert _account(lg, channel.public_key).tft == 0
        refund = httpx.get(lg.horizon_url + "/accounts/%s/payments" % wallet.public_key,
                           params={"order": "desc", "limit": 1, "join": "transactions"}, timeout=10).json()
        refund = refund["_embedded"]["records"][0]
        assert (refund["from"], refund["to"], refund["amount"], refund["transaction"]["memo"]) == (
            escrow.address, wallet.public_key, _amount(overpaid), escrow.memo)


def test_cancel_refunds_a_channel_payment_to_the_wallet_not_the_channel(lg):
    with _client(lg) as client:
        escrow = Escrow(lg, client, "channel-cancel.3bot")
        wallet = _wallet(lg)
        channel = _channel(lg, wallet)
        start = _account(lg, wallet.public_key).tft
        part = escrow.total // 3
        envelope = _channel_payment(lg, channel, wallet, escrow.address, part, escrow.memo, (channel, wallet))
        assert _post(lg, envelope).status_code == 200
        assert escrow.held() == part and _account(lg, wallet.public_key).tft == start - part
        escrow.cancel()
        assert escrow.record()["cancelled"] == 1 and escrow.held() == 0
        assert _account(lg, wallet.public_key).tft == start
        assert _account(lg, channel.public_key).tft == 0
