# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import subprocess
import sys

import pytest

from stellar_sdk import Account, Asset, Keypair as SdkKeypair, TransactionBuilder, TransactionEnvelope

from ansible_collections.threefold.grid.plugins.module_utils import _stellar
from ansible_collections.threefold.grid.plugins.module_utils._stellar_envelope import (
    Keypair,
    PaymentEnvelope,
    account_id_bytes,
    is_account_id,
)

PASSPHRASE = "Test SDF Network ; September 2015"


@pytest.mark.parametrize("code", ["TFT", "FreeTFT", "A", "ABCDEFGHIJKL"])
def test_payment_envelope_is_byte_for_byte_what_stellar_sdk_builds(code):
    # stellar-sdk is the oracle: same transaction, same XDR, same hash, a signature it verifies.
    payer, destination, issuer = SdkKeypair.random(), SdkKeypair.random().public_key, SdkKeypair.random().public_key
    ours = PaymentEnvelope(payer.public_key, 1001, 100, "42", 1700000060, destination, code, issuer, 34546420,
                           PASSPHRASE)
    ours.sign(Keypair.from_secret(payer.secret))
    theirs = (TransactionBuilder(Account(payer.public_key, 1000), PASSPHRASE, base_fee=100).add_text_memo("42")
              .append_payment_op(destination, Asset(code, issuer), "3.4546420").add_time_bounds(0, 1700000060).build())
    theirs.sign(payer)
    assert ours.to_xdr() == theirs.to_xdr() and ours.hash_hex() == theirs.hash_hex()
    decoded = TransactionEnvelope.from_xdr(ours.to_xdr(), PASSPHRASE)
    payer.verify(decoded.hash(), decoded.signatures[0].signature)


def test_channel_payment_is_byte_for_byte_what_stellar_sdk_builds():
    # Through a payment channel: the channel's sequence number and fee, the wallet's operation, both signatures.
    channel, wallet = SdkKeypair.random(), SdkKeypair.random()
    destination, issuer = SdkKeypair.random().public_key, SdkKeypair.random().public_key
    ours = PaymentEnvelope(channel.public_key, 8, 100, "7", 1700000060, destination, "TFT", issuer, 10000000,
                           PASSPHRASE, operation_source=wallet.public_key)
    ours.sign(Keypair.from_secret(channel.secret))
    ours.sign(Keypair.from_secret(wallet.secret))
    theirs = (TransactionBuilder(Account(channel.public_key, 7), PASSPHRASE, base_fee=100).add_text_memo("7")
              .append_payment_op(destination, Asset("TFT", issuer), "1", source=wallet.public_key)
              .add_time_bounds(0, 1700000060).build())
    theirs.sign(channel)
    theirs.sign(wallet)
    assert ours.to_xdr() == theirs.to_xdr() and ours.hash_hex() == theirs.hash_hex()
    decoded = TransactionEnvelope.from_xdr(ours.to_xdr(), PASSPHRASE)
    assert decoded.transaction.operations[0].source.account_id == wallet.public_key
    assert decoded.transaction.source.account_id == channel.public_key


def test_keys_round_trip_and_match_stellar_sdk():
    sdk = SdkKeypair.random()
    ours = Keypair.from_secret(sdk.secret)
    assert ours.public_key == sdk.public_key and ours.secret == sdk.secret
    assert account_id_bytes(sdk.public_key) == sdk.raw_public_key()
    fresh = Keypair.random()
    assert SdkKeypair.from_secret(fresh.secret).public_key == fresh.public_key
    assert sdk.secret not in repr(ours) and sdk.secret not in str(ours)


@pytest.mark.parametrize("text", [
    "", "G" * 56, None, 42, "not a key",
])
def test_invalid_account_ids_are_refused(text):
    assert not is_account_id(text)


def test_checksum_and_key_kind_are_checked():
    sdk = SdkKeypair.random()
    flipped = sdk.public_key[:-2] + ("A" if sdk.public_key[-2] != "A" else "B") + sdk.public_key[-1]
    assert is_account_id(sdk.public_key) and not is_account_id(flipped)
    assert not is_account_id(sdk.secret)  # a seed is not an account id
    with pytest.raises(ValueError):
        Keypair.from_secret(sdk.public_key)


def test_memo_longer_than_28_bytes_and_non_positive_amounts_are_refused():
    payer, issuer = SdkKeypair.random().public_key, SdkKeypair.random().public_key
    with pytest.raises(ValueError):
        PaymentEnvelope(payer, 1, 100, "x" * 29, 1, payer, "TFT", issuer, 1, PASSPHRASE)
    with pytest.raises(ValueError):
        PaymentEnvelope(payer, 1, 100, "1", 1, payer, "TFT", issuer, 0, PASSPHRASE)


def test_check_asset_messages():
    issuer = SdkKeypair.random().public_key
    assert _stellar.check_asset("TFT:" + issuer) == ("TFT", issuer)
    with pytest.raises(ValueError, match="1 to 12 letters"):
        _stellar.check_asset("TF-T:" + issuer)
    with pytest.raises(ValueError, match="issuer is not an account id"):
        _stellar.check_asset("TFT:GABC")


def test_building_and_signing_a_payment_does_not_import_stellar_sdk():
    # What a paying task loads: the payment code, a Horizon client, a signed envelope; stellar-sdk stays out.
    code = (
        "import sys\n"
        "sys.path[:0] = %r\n"
        "from ansible_collections.threefold.grid.plugins.module_utils import _payment, _payment_checks, _stellar\n"
        "kp = _stellar.Keypair.random()\n"
        "_stellar.Horizon('http://127.0.0.1:1/stellar')\n"
        "env = _stellar.payment_envelope({'id': kp.public_key, 'sequence': '7'}, 'p', 100, '1', kp.public_key,\n"
        "                                'TFT:' + kp.public_key, 5)\n"
        "env.sign(kp)\n"
        "env.to_xdr()\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in ('stellar_sdk', 'aiohttp', 'requests')))\n"
    ) % sys.path
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"
