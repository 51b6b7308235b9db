# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""Payment channels: paying many reservations from one wallet without one sequence number for all of them.

    channel_count(payment) -> int              # the `payment.channels` option, checked (SpecError)
    channel_tag(payment) -> dict               # what the reservation's tag carries: {"channels": K} or {}
    channel_for(reservation, wallet) -> Channel(index, count, keypair) or None  # the channel paying it
    ensure_channels(horizon, passphrase, wallet, channel, fees)  # create them when it is missing (wallet's turn)
    check_channels_possible(horizon, payer, wallet, count, fees)  # before registering: they exist or can be made
    check_channel_fee(record, index, fee, base_reserve); starting_balance(base_reserve) -> stroops

A reservation whose tag carries K channels is paid through channel ``id mod K`` by every payer (this run,
another run settling a race, zos_payment), so two payments for one memo always share one sequence number and
the exactly-once argument holds per channel (docs/CONCURRENCY.md, "Channels chosen by the memo"). A channel
is a Stellar account whose key is derived from the wallet's seed: any holder of the wallet finds the same
channels. The wallet creates and funds all K on first use, in one transaction; a channel pays the fees of the
payments it carries, while the payment operation's source stays the wallet (the account debited, the one the
escrow refunds).

Stellar code loads only when a channel is used (this file itself is read by every registering task).
"""

from __future__ import annotations

import random
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

from ansible_collections.threefold.grid.plugins.module_utils._amounts import stroops_to_amount
from ansible_collections.threefold.grid.plugins.module_utils._errors import SpecError, StellarError
from ansible_collections.threefold.grid.plugins.module_utils._views import tag_of

MAX_CHANNELS = 100  # created in one transaction: Stellar takes at most 100 operations in one
CHANNEL_LABEL = b"threefold.grid payment channel "
# XLM a new channel gets above its minimum balance, for its fees: 100,000 payments at 100 stroops each.
CHANNEL_FEE_FUND = 10000000
# Another run creating some of the same channels at the same moment fails ours (op_already_exists), and any other
# transaction of the wallet taking its sequence number first too (tx_bad_seq): then the channels are read again
# and the missing ones created, after a random pause that doubles per attempt (as a payment's, _payment.py).
CREATE_ATTEMPTS = 12
CREATE_PAUSE = 0.1  # seconds
CREATE_PAUSE_MAX = 10.0


def channel_count(payment: Optional[Dict[str, Any]]) -> int:
    """``payment.channels`` (0 when unset): how many channels new reservations are paid through."""
    count = (payment or {}).get("channels") or 0
    if not 0 <= count <= MAX_CHANNELS:
        raise SpecError("payment.channels must be between 0 and %d, not %d" % (MAX_CHANNELS, count))
    return count


def channel_tag(payment: Optional[Dict[str, Any]]) -> Dict[str, int]:
    """What a reservation registered with this payment block carries in its tag (nothing without channels)."""
    count = channel_count(payment)
    return {"channels": count} if count else {}


def channel_key(wallet: Any, index: int) -> Any:
    """Channel ``index``'s keypair, derived from the wallet's (a _stellar_envelope.Keypair)."""
    return wallet.derived(CHANNEL_LABEL + str(index).encode("ascii"))


class Channel(NamedTuple):
    index: int
    count: int  # the channels of the reservation's tag
    keypair: Any  # a _stellar_envelope.Keypair


def channel_for(reservation: Dict[str, Any], wallet: Any) -> Optional[Channel]:
    """The channel paying ``reservation``, from the K its tag carries; None: the wallet's own sequence number (a
    reservation registered without channels, or by a version that knew none)."""
    count = (tag_of(reservation) or {}).get("channels")
    if not count:
        return None
    index = int(reservation["id"]) % count
    return Channel(index, count, channel_key(wallet, index))


def starting_balance(base_reserve: int) -> int:
    """Stroops of XLM a new channel gets: its minimum balance (2 base reserves) and its fees."""
    return 2 * base_reserve + CHANNEL_FEE_FUND


def check_channel_fee(record: Dict[str, Any], index: int, fee: int, base_reserve: int) -> None:
    """Fail clearly when the channel cannot pay a transaction's fee."""
    from ansible_collections.threefold.grid.plugins.module_utils._stellar import free_xlm
    if free_xlm(record, base_reserve) < fee:
        address = record.get("account_id") or record.get("id")
        raise StellarError("payment channel %d (%s) cannot pay the %s XLM fee: send it XLM from the wallet"
                           % (index, address, stroops_to_amount(fee)), "fee_underfunded")


def ensure_channels(horizon: Any, passphrase: str, wallet: Any, channel: Channel, fees: Tuple[int, int]) -> None:
    """Unless ``channel`` exists, create every one of the wallet's ``channel.count`` channels that is missing, in
    one transaction funded by the wallet (another run may have just created some: those are used as they are).

    Runs under the wallet's turn (_wallet_turn.py): creating takes the wallet's sequence number, which this
    process's payments without channels use too. All at once, as the first payments of a fleet need them all and
    a wallet's transactions apply one per ledger on the public network.
    """
    from ansible_collections.threefold.grid.plugins.module_utils._payment_history import forget_wallet
    from ansible_collections.threefold.grid.plugins.module_utils._wallet_turn import wallet_turn
    with wallet_turn(wallet.public_key):
        for attempt in range(CREATE_ATTEMPTS):
            if horizon.account(channel.keypair.public_key) is not None:
                return
            missing = [key for key in (channel_key(wallet, index) for index in range(channel.count))
                       if key.public_key == channel.keypair.public_key or horizon.account(key.public_key) is None]
            forget_wallet(horizon, wallet.public_key)  # its sequence number moves (or may have, on a failure)
            try:
                _create(horizon, passphrase, wallet, missing, fees)
                return
            except StellarError as exc:
                codes = (exc.failure or {}).get("result_codes") or {}
                raced = codes.get("transaction") == "tx_bad_seq" or "op_already_exists" in (codes.get("operations") or [])
                if not raced or attempt + 1 == CREATE_ATTEMPTS:
                    raise
            horizon.sleep(min(CREATE_PAUSE_MAX, CREATE_PAUSE * 2 ** attempt) * random.uniform(0.0, 1.0))


def check_can_create(payer: Optional[Dict[str, Any]], count: int, fees: Tuple[int, int]) -> None:
    """Fail clearly when the wallet (its Horizon record) cannot create ``count`` channels."""
    from ansible_collections.threefold.grid.plugins.module_utils._stellar import free_xlm
    base_fee, base_reserve = fees
    if payer is None:
        raise StellarError("the paying Stellar account does not exist; fund it with XLM first", "payer_missing")
    starting = starting_balance(base_reserve) * count
    if free_xlm(payer, base_reserve) < starting + base_fee * count:
        raise StellarError("account %s cannot create %d payment channel(s): that needs %s XLM above its minimum "
                           "balance, plus the fee" % (payer.get("account_id") or payer.get("id"), count,
                                                      stroops_to_amount(starting)), "fee_underfunded")


def check_channels_possible(horizon: Any, payer: Optional[Dict[str, Any]], wallet: Any, count: int,
                            fees: Tuple[int, int]) -> None:
    """Before registering: the wallet can create its ``count`` channels unless they exist. They are created
    together, so the last one existing means they all do (a larger count than before adds a new last one)."""
    if count and horizon.account(channel_key(wallet, count - 1).public_key) is None:
        check_can_create(payer, count, fees)


def _create(horizon: Any, passphrase: str, wallet: Any, channels: List[Any], fees: Tuple[int, int]) -> None:
    from ansible_collections.threefold.grid.plugins.module_utils import _stellar
    base_fee, base_reserve = fees
    payer = horizon.account(wallet.public_key)
    check_can_create(payer, len(channels), fees)
    builder = _stellar.build_transaction(_stellar.sequence_account(payer), passphrase, base_fee)
    for channel in channels:
        builder.append_create_account_op(destination=channel.public_key,
                                         starting_balance=stroops_to_amount(starting_balance(base_reserve)))
    envelope = builder.build()
    envelope.sign(wallet.secret)
    horizon.submit(envelope)
