# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Payments through payment channels (_payment_channels.py, docs/CONCURRENCY.md "Channels chosen by the memo").

The fake Horizon checks what the ledger would: every source account signed, an operation debits its own
source, a channel that exists cannot be created again (op_already_exists).
"""

from __future__ import annotations

import threading
import time

import pytest

from ansible_collections.threefold.grid.plugins.module_utils import _payment_channels, _spec, _stellar
from ansible_collections.threefold.grid.plugins.module_utils._amounts import amount_to_stroops
from ansible_collections.threefold.grid.plugins.module_utils._errors import PaymentError, SpecError
from ansible_collections.threefold.grid.plugins.module_utils._payment import pay_escrow
from ansible_collections.threefold.grid.plugins.module_utils._payment_history import PaymentHistory
from ansible_collections.threefold.grid.tests.unit.plugins.module_utils.test_container_batch import OtherProcess, together
from ansible_collections.threefold.grid.tests.unit.plugins.module_utils.test_escrow_recovery import (
    TFT,
    memo_total,
    payment_block,
)
from ansible_collections.threefold.grid.tests.unit.plugins.module_utils.test_escrow_recovery import ledger  # noqa: F401 pylint: disable=unused-import
from ansible_collections.threefold.grid.tests.unit.plugins.module_utils.test_lifecycle import (
    LIFE,
    add,
    container,
    data_with,
    deployed,
    grid_explorer,
    lifecycle,
    session,
    spec,
    tag_for,
)

WALLET_XLM = "100"


@pytest.fixture
def wallet(ledger):  # noqa: F811
    """The ledger, its wallet holding enough XLM for a few channels, and the process's kept records."""
    ledger.accounts[ledger.payer.public_key]["native"] = amount_to_stroops(WALLET_XLM)
    ledger.histories, ledger.wallet_records = {}, {}
    return ledger


def tagged(explorer, rid, channels, amount=1000):
    """Reservation ``rid`` waiting for payment, registered with ``channels`` in its tag; its escrow details."""
    fields = {"channels": channels} if channels else None
    add(explorer, rid, data_with(container(ip="10.1.3.%d" % (10 + rid % 200))),
        _spec.metadata_tag("web%d" % rid, "container", "f", fields), next_action=2, epoch=int(time.time()))


def escrow_of(ledger, amount=1000):
    return {"address": ledger.escrow, "asset": TFT, "details": [{"total_amount": amount}]}


def channel_address(ledger, index):
    return _payment_channels.channel_key(_stellar.keypair_from_secret(ledger.payer.secret), index).public_key


def transactions_from(ledger, address):
    return [t for t in ledger.transactions.values() if t["source_account"] == address]


def test_a_tagged_reservation_is_paid_through_its_channel_by_the_wallet(wallet):
    explorer = grid_explorer()
    tagged(explorer, 42, 4)
    sequence = wallet.accounts[wallet.payer.public_key]["sequence"]
    paid = pay_escrow(session(explorer), 42, escrow_of(wallet), payment_block(wallet))
    channel = channel_address(wallet, 42 % 4)
    assert paid["changed"] is True and memo_total(wallet, "42") == 1000
    # The transaction is the channel's; the payment's source (what the escrow sees and refunds) is the wallet.
    transaction = wallet.transactions[paid["transaction_hash"]]
    assert transaction["source_account"] == channel and transaction["memo"] == "42"
    assert [p["from"] for p in wallet.payments if p["transaction_hash"] == paid["transaction_hash"]] == [
        wallet.payer.public_key]
    # The wallet created its 4 channels (its one transaction) with 2 base reserves plus 1 XLM each; the channel
    # paid the fee.
    assert wallet.accounts[wallet.payer.public_key]["sequence"] == sequence + 1
    funded = 2 * 5000000 + _payment_channels.CHANNEL_FEE_FUND
    assert [wallet.accounts[channel_address(wallet, index)]["native"] for index in range(4)] == [funded] * 2 + [
        funded - 100, funded]
    assert wallet.accounts[channel]["sequence"] == 1001


def test_paying_again_finds_the_memo_paid_and_the_channels_are_created_once(wallet):
    explorer = grid_explorer()
    for rid in (1, 2, 5):
        tagged(explorer, rid, 2)
        pay_escrow(session(explorer), rid, escrow_of(wallet), payment_block(wallet))
    again = pay_escrow(session(explorer), 5, escrow_of(wallet), payment_block(wallet))
    assert again["changed"] is False and again["already_paid"] == "0.0001000"
    assert [memo_total(wallet, str(rid)) for rid in (1, 2, 5)] == [1000] * 3
    # Both channels created by the wallet's one transaction; 1 and 5 share channel 1.
    assert len(transactions_from(wallet, wallet.payer.public_key)) == 1
    assert len(transactions_from(wallet, channel_address(wallet, 1))) == 2
    assert len(transactions_from(wallet, channel_address(wallet, 0))) == 1


def test_the_channel_comes_from_the_reservation_not_from_the_payer_setting(wallet):
    explorer = grid_explorer()
    tagged(explorer, 7, 0)
    tagged(explorer, 8, 3)
    # A payment block asking for channels pays an untagged reservation from the wallet's own sequence number, and a
    # block without them pays a tagged one through the channel its tag chose: every payer of a memo agrees.
    untagged = pay_escrow(session(explorer), 7, escrow_of(wallet), dict(payment_block(wallet), channels=5))
    through = pay_escrow(session(explorer), 8, escrow_of(wallet), payment_block(wallet))
    assert wallet.transactions[untagged["transaction_hash"]]["source_account"] == wallet.payer.public_key
    assert wallet.transactions[through["transaction_hash"]]["source_account"] == channel_address(wallet, 8 % 3)


def test_a_payment_another_process_made_through_the_channel_is_not_paid_again(wallet, monkeypatch):
    explorer = grid_explorer()
    for rid in (3, 6):
        tagged(explorer, rid, 3)
    pay_escrow(session(explorer), 3, escrow_of(wallet), payment_block(wallet))
    # Another process pays 600 of reservation 6 through channel 0, the channel this process keeps a record of.
    monkeypatch.setattr(_stellar, "new_http_client", lambda: OtherProcess(wallet))
    pay_escrow(session(explorer), 6, escrow_of(wallet, 600), payment_block(wallet))
    monkeypatch.setattr(_stellar, "new_http_client", lambda: wallet)
    submissions = wallet.submissions
    paid = pay_escrow(session(explorer), 6, escrow_of(wallet), payment_block(wallet))
    # The chained envelope's sequence number was used up (tx_bad_seq); the memo read after counts the 600.
    assert paid["amount"] == "0.0000400" and wallet.submissions == submissions + 2
    assert memo_total(wallet, "6") == 1000


def test_a_read_that_lists_a_payment_of_this_process_does_not_count_it_twice(wallet):
    explorer = grid_explorer()
    tagged(explorer, 10, 2)
    tagged(explorer, 11, 2)
    pay_escrow(session(explorer), 10, escrow_of(wallet), payment_block(wallet))  # channel 0: kept, own payment
    pay_escrow(session(explorer), 11, escrow_of(wallet), payment_block(wallet))  # channel 1: read, lists it
    # Reservation 10 now costs 2000 (as a partial payment would leave it): 1000 are paid, not 0.
    more = pay_escrow(session(explorer), 10, escrow_of(wallet, 2000), payment_block(wallet))
    assert more["already_paid"] == "0.0001000" and more["amount"] == "0.0001000"
    assert memo_total(wallet, "10") == 2000


def test_threads_pay_each_memo_once_through_their_channels(wallet):
    explorer = grid_explorer()
    rids = list(range(20, 36))
    for rid in rids:
        tagged(explorer, rid, 3)
    results = together(lambda i: pay_escrow(session(explorer), rids[i], escrow_of(wallet), payment_block(wallet)),
                       count=len(rids))
    assert all(result["changed"] for result in results)
    assert [memo_total(wallet, str(rid)) for rid in rids] == [1000] * len(rids)
    assert len(transactions_from(wallet, wallet.payer.public_key)) == 1  # the 3 channels, created together
    for index in range(3):
        assert len(transactions_from(wallet, channel_address(wallet, index))) == len([r for r in rids if r % 3 == index])


def test_channels_another_run_just_created_are_used_and_the_missing_ones_created(wallet):
    wallet_keys = _stellar.keypair_from_secret(wallet.payer.secret)
    keys = [_payment_channels.channel_key(wallet_keys, index) for index in range(3)]
    wallet.create(keys[1].public_key, xlm="2")
    seen = set()

    class Late(_stellar.Horizon):
        """Answers the first read of channel 1 as missing: another run creates it in between."""
        def account(self, address):
            if address == keys[1].public_key and address not in seen:
                seen.add(address)
                return None
            return super().account(address)
    late = Late(payment_block(wallet)["horizon_url"])
    _payment_channels.ensure_channels(late, wallet.passphrase, wallet_keys, _payment_channels.Channel(0, 3, keys[0]),
                                      (100, 5000000))
    # The first transaction failed on channel 1 (op_already_exists, nothing created); the second created 0 and 2.
    assert wallet.accounts[keys[1].public_key]["native"] == amount_to_stroops("2")
    assert all(key.public_key in wallet.accounts for key in keys)
    assert wallet.submissions == 2


def test_a_wallet_that_cannot_fund_a_channel_fails_clearly_with_nothing_paid(wallet):
    explorer = grid_explorer()
    tagged(explorer, 4, 2)
    wallet.accounts[wallet.payer.public_key]["native"] = amount_to_stroops("2")
    with pytest.raises(PaymentError) as info:
        pay_escrow(session(explorer), 4, escrow_of(wallet), payment_block(wallet))
    assert info.value.code == "fee_underfunded" and "cannot create 2 payment channel(s)" in info.value.msg
    assert wallet.submissions == 0 and memo_total(wallet, "4") == 0


def test_a_channel_without_xlm_for_the_fee_fails_clearly_with_nothing_paid(wallet):
    explorer = grid_explorer()
    tagged(explorer, 4, 2)
    wallet.create(channel_address(wallet, 0), xlm="1")  # exactly its minimum balance
    wallet.create(channel_address(wallet, 1), xlm="2")
    with pytest.raises(PaymentError) as info:
        pay_escrow(session(explorer), 4, escrow_of(wallet), payment_block(wallet))
    assert info.value.code == "fee_underfunded" and "payment channel 0" in info.value.msg
    assert wallet.submissions == 0


def test_the_tag_carries_the_channels_and_the_option_is_checked():
    assert _payment_channels.channel_tag({"channels": 8}) == {"channels": 8}
    assert _payment_channels.channel_tag({"channels": 0}) == {} == _payment_channels.channel_tag(None)
    text = _spec.metadata_tag("web", "container", "f", _payment_channels.channel_tag({"channels": 8}))
    assert _spec.parse_metadata(text)["channels"] == 8
    assert "channels" not in _spec.parse_metadata(_spec.metadata_tag("web", "container", "f"))
    for wrong in (-1, _payment_channels.MAX_CHANNELS + 1):
        with pytest.raises(SpecError, match="payment.channels must be between 0 and 100"):
            _payment_channels.channel_count({"channels": wrong})


def test_a_new_reservation_carries_the_channels_and_an_existing_one_is_kept_without_them():
    explorer = grid_explorer()
    lc = lifecycle(explorer)
    payment = {"stellar_secret": "unused", "channels": 6}
    created = lc.decide("web", "container", spec(), LIFE, ["TFT"], None, payment)
    assert created.action == "create" and _spec.parse_metadata(created.metadata)["channels"] == 6
    # A reservation registered without channels is not replaced for them: its payments keep the wallet's sequence.
    add(explorer, 3, data_with(container()), tag_for(lc, "web", "container", spec()), **deployed())
    kept = lifecycle(explorer).decide("web", "container", spec(), LIFE, ["TFT"], None, payment)
    assert kept.action == "none" and kept.old["id"] == 3


def until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the threads did not get there"
        time.sleep(0.001)


class GatedHorizon:
    """Answers payment reads, the first one only once ``gate`` opens; counts them."""

    def __init__(self):
        self.gate, self.reads = threading.Event(), 0

    def recent_payments(self, address, since):
        self.reads += 1
        return [{"paging_token": "1", "transaction_hash": "a"}]

    def payments_after(self, address, cursor):
        self.reads += 1
        if self.reads == 2:
            self.gate.wait(10)
        return []


class CountingLock:
    """A lock that counts the threads waiting for it."""

    def __init__(self):
        self.lock, self.waiting = threading.Lock(), 0

    def __enter__(self):
        self.waiting += 1
        self.lock.acquire()
        self.waiting -= 1

    def __exit__(self, *exc_info):
        self.lock.release()


def test_turns_waiting_for_the_history_share_a_read_begun_after_they_asked_never_one_begun_before():
    history, horizon = PaymentHistory(), GatedHorizon()
    history.lock = CountingLock()
    history.read(horizon, "GWALLET", 0)  # the full read
    first = threading.Thread(target=history.read, args=(horizon, "GWALLET", 0))
    first.start()
    until(lambda: horizon.reads == 2)  # its read has begun: the two callers below ask after that
    later = [threading.Thread(target=history.read, args=(horizon, "GWALLET", 0)) for _caller in range(2)]
    for thread in later:
        thread.start()
    until(lambda: history.lock.waiting == 2)
    horizon.gate.set()
    for thread in [first] + later:
        thread.join(10)
    # The read in progress when they asked serves neither; the one the first of them makes serves both.
    assert horizon.reads == 3


def test_a_wallet_that_cannot_create_its_channels_is_refused_before_anything_is_registered(wallet):
    from ansible_collections.threefold.grid.plugins.module_utils._payment_checks import precheck_payment
    explorer = grid_explorer()
    wallet.accounts[wallet.payer.public_key]["native"] = amount_to_stroops("5")
    estimate = {"total_amount": 1000, "currency": "TFT"}
    with pytest.raises(PaymentError, match="cannot create 3 payment channel"):
        precheck_payment(session(explorer), dict(payment_block(wallet), channels=3), estimate)
    precheck_payment(session(explorer), dict(payment_block(wallet), channels=1), estimate)
    # Channels that exist need nothing more of the wallet.
    for index in range(3):
        wallet.create(channel_address(wallet, index), xlm="2")
    precheck_payment(session(explorer), dict(payment_block(wallet), channels=3), estimate)
    assert wallet.submissions == 0


def test_channels_are_created_again_when_another_transaction_of_the_wallet_took_the_sequence_number(wallet):
    wallet_keys = _stellar.keypair_from_secret(wallet.payer.secret)
    pauses = []

    class Racing(_stellar.Horizon):
        """Another process's transaction from the wallet applies just before our first submission."""
        def submit(self, envelope, *args, **kwargs):
            if not pauses:
                wallet.accounts[wallet.payer.public_key]["sequence"] += 1
            return super().submit(envelope, *args, **kwargs)
    racing = Racing(payment_block(wallet)["horizon_url"], sleep=pauses.append)
    channel = _payment_channels.Channel(1, 2, _payment_channels.channel_key(wallet_keys, 1))
    _payment_channels.ensure_channels(racing, wallet.passphrase, wallet_keys, channel, (100, 5000000))
    assert all(channel_address(wallet, index) in wallet.accounts for index in range(2))
    assert len(pauses) == 1 and wallet.submissions == 2
