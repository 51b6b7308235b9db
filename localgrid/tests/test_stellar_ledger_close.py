"""Ledger closes (``--ledger-close``, the realistic profile): a submission applies at the next close.

Horizon answers a submitted transaction once a ledger holds it, and the public network closes a ledger about
every 5 seconds (Stellar's consensus round; Horizon's POST /transactions is synchronous, its 504 "timeout"
problem is what a submission gets when no ledger took it in time). So one account paying again and again, each
transaction built on the previous one's answer, gets one transaction per close: what payment channels
(the collection's ``payment.channels``) are for.
"""

import subprocess
import sys
import time

import httpx
from stellar_sdk import Account, Asset, Keypair, TransactionBuilder

from localgrid.config import PROFILES
from localgrid.stellar import NETWORK_PASSPHRASE
from localgrid.tests.test_stellar_horizon import XLM, serve

INTERVAL = 0.4  # seconds between two ledger closes here


def _payments(ledger, url, payer, count):
    """``count`` payments of 1 XLM from ``payer``, each submitted after the previous one's answer; the seconds
    from the first answer to the last."""
    destination = Keypair.random().public_key
    ledger.create_account(destination, 10 * XLM)
    answered = []
    with httpx.Client(timeout=30) as client:
        for _ in range(count):
            record = client.get(url + "/accounts/" + payer.public_key).json()
            sequence = int(record["sequence"])
            envelope = (TransactionBuilder(Account(payer.public_key, sequence), NETWORK_PASSPHRASE, 100)
                        .append_payment_op(destination, Asset.native(), "1").set_timeout(60).build())
            envelope.sign(payer)
            response = client.post(url + "/transactions", data={"tx": envelope.to_xdr()})
            assert response.status_code == 200, response.text
            answered.append(time.monotonic())
    return answered[-1] - answered[0]


def test_one_accounts_transactions_apply_one_per_ledger_close(tmp_path):
    payer = Keypair.random()
    with serve(tmp_path / "closing.db", INTERVAL) as (ledger, url):
        ledger.create_account(payer.public_key, 100 * XLM)
        # The 2nd and 3rd payments each wait for a close after the answer to the one before.
        assert _payments(ledger, url, payer, 3) >= 2 * INTERVAL - 0.05


def test_the_realistic_profile_closes_like_the_public_network_and_fast_at_once():
    assert PROFILES["realistic"].ledger_close_interval == 5.0
    assert PROFILES["fast"].ledger_close_interval == 0.0


def test_a_ledger_close_that_is_not_a_number_of_seconds_is_refused():
    for wrong in ("-1", "61", "soon"):
        refused = subprocess.run([sys.executable, "-m", "localgrid", "serve", "--ledger-close", wrong],
                                 capture_output=True, text=True, timeout=60)
        assert refused.returncode == 2 and "is not a number of seconds from 0 to 60" in refused.stderr
