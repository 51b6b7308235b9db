# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""What a process knows of a paying wallet: its recent payments and its account record.

Payments: read in full once per process, then only what is newer.

A memo read (docs/CONCURRENCY.md, G1 step 2) needs every payment of the wallet since the reservation was
created. A task that pays many reservations (zos_containers) would read, for each one, every payment it has
just made for the others. Horizon lists an account's payments in ledger order and a listed record never
changes, so after one read newest first back to ``since``, the next reads ask only for the records after the
newest one seen: together the same records a full read returns. The cache lives on the process's shared
Horizon client (a client without one, as in tests, reads in full every time) and is only used inside the
wallet's turn (_wallet_turn.py), which serialises its updates.

Account record: after a payment that Horizon answered as applied, the process knows the wallet's record as that
payment left it (sequence number + 1, the amount and the fee spent), so the next payment of the task needs no
read of it. Horizon answers a submission only once the ledger that applied it is ingested, so this record is
what a read at that moment would give unless another process's transaction applied since, and then the next
envelope is refused with tx_bad_seq and the record is read again (docs/CONCURRENCY.md, G1). Any failure forgets it.

Chained payments: while that record is the one a payment uses (``wallet_state``), the payments known are those
read for the payments before plus the ones this process made since, and no read is needed: the envelope can
only apply on that sequence number, so no other transaction of the wallet applies between this process's last
payment and it (docs/CONCURRENCY.md, G1). The process's own payments are kept as records of their own until the
next read lists them.
"""

from __future__ import annotations

import threading
from typing import Any, Dict, List, Optional, Set, Tuple


class PaymentHistory:
    """The payments of one wallet on one Horizon known so far: those since ``since``, newest first.

    With payment channels several turns use it at once (one per channel): ``lock`` serialises its reads and
    updates, and this process's own payments are known by transaction hash, so a read that lists one drops it
    from ``own`` (counted twice, a memo would look better paid than it is).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.since: Optional[int] = None
        self.newest: Optional[str] = None  # paging token of the newest record read
        self.records: List[Dict[str, Any]] = []
        self.hashes: Set[str] = set()  # of the records read
        self.own: List[Dict[str, Any]] = []  # this process's payments not read yet, newest first
        self.started = 0  # reads begun
        self.done = 0  # the number of the last read that succeeded

    def read(self, horizon: Any, address: str, since: int, chained: bool = False) -> List[Dict[str, Any]]:
        # Loaded here, not at the top: _payment imports this file, and Stellar code loads only when a payment runs.
        from ansible_collections.threefold.grid.plugins.module_utils._stellar import created_epoch
        # A read begun after this call serves it as well as its own would (channels' turns waiting for the lock
        # share one), as what a read must follow (a channel's record, G1) came before the call.
        ticket = self.started
        with self.lock:
            covered = self.since is not None and since >= self.since
            if not (covered and (chained or self.done > ticket)):  # else complete without a read (see above)
                self.started += 1
                if not covered or self.newest is None:
                    self.records = list(horizon.recent_payments(address, since))
                    self.since = since
                    self.newest = self.records[0]["paging_token"] if self.records else None
                    self.hashes = set(record.get("transaction_hash") for record in self.records)
                else:
                    newer = horizon.payments_after(address, self.newest)
                    if newer:
                        self.records = list(reversed(newer)) + self.records
                        self.newest = newer[-1]["paging_token"]
                        self.hashes.update(record.get("transaction_hash") for record in newer)
                self.done = self.started
            self.own = [record for record in self.own if record["transaction_hash"] not in self.hashes]
            return [record for record in self.own + self.records if created_epoch(record) >= since]

    def add_own(self, record: Dict[str, Any]) -> None:
        with self.lock:
            if record["transaction_hash"] not in self.hashes:
                self.own.insert(0, record)


def _history(horizon: Any, address: str) -> Optional[PaymentHistory]:
    histories = getattr(horizon.client, "histories", None)
    return None if histories is None else histories.setdefault((horizon.url, address), PaymentHistory())


def wallet_payments(horizon: Any, address: str, since: int, chained: bool = False) -> List[Dict[str, Any]]:
    """The payment records touching ``address`` created at or after ``since``, newest first (``chained``: the
    wallet's record is the one this process's last payment left, so the payments known are complete)."""
    history = _history(horizon, address)
    if history is None:
        return horizon.recent_payments(address, since)
    return history.read(horizon, address, since, chained)


def _known_accounts(horizon: Any) -> Optional[Dict[Any, Dict[str, Any]]]:
    return getattr(horizon.client, "wallet_records", None)


# The kept account records are updated by several turns at once when payments go through channels.
_RECORDS_LOCK = threading.Lock()


def _kept(horizon: Any, key: Any) -> Optional[Dict[str, Any]]:
    known = _known_accounts(horizon)
    if known is None:
        return None
    with _RECORDS_LOCK:
        return known.get((horizon.url,) + key)


def wallet_state(horizon: Any, address: str, since: int,
                 with_record: bool = True) -> Tuple[Optional[Dict[str, Any]], List[Dict[str, Any]]]:
    """(the wallet's account record, its payments since ``since``), in G1's order: the record first, as this
    process's last applied payment left it or read from Horizon, then the payments: those known when the record
    is the kept one (chained), else read. Without ``with_record`` (check mode) only the payments are read."""
    kept = _kept(horizon, (address,)) if with_record else None
    payer = kept if kept is not None else (horizon.account(address) if with_record else None)
    return payer, wallet_payments(horizon, address, since, chained=kept is not None)


def channel_state(horizon: Any, wallet: str, channel: str,
                  since: int) -> Tuple[Optional[Dict[str, Any]], Optional[Dict[str, Any]], List[Dict[str, Any]]]:
    """(the channel's record, the wallet's record for its balances, the wallet's payments since ``since``) for a
    payment through ``channel``, in G1's order for the channel's sequence number: the channel's record (kept
    from this process's last payment through it, or read), then the payments, read after it unless chained."""
    balances = _kept(horizon, (wallet, "balances"))
    if balances is None:
        balances = horizon.account(wallet)
        _keep(horizon, (wallet, "balances"), balances)
    kept = _kept(horizon, (channel,))
    record = kept if kept is not None else horizon.account(channel)
    return record, balances, wallet_payments(horizon, wallet, since, chained=kept is not None)


def _keep(horizon: Any, key: Any, record: Optional[Dict[str, Any]]) -> None:
    known = _known_accounts(horizon)
    if known is not None and record is not None:
        with _RECORDS_LOCK:
            known[(horizon.url,) + key] = record


def _spent(record: Dict[str, Any], spent: Dict[str, int], sequence: Optional[int] = None) -> Dict[str, Any]:
    """``record`` after a transaction that spent ``spent`` (stroops per asset) and, if given, took ``sequence``."""
    from ansible_collections.threefold.grid.plugins.module_utils._amounts import amount_to_stroops, stroops_to_amount
    from ansible_collections.threefold.grid.plugins.module_utils._stellar import asset_of
    balances = []
    for line in record.get("balances") or []:
        line = dict(line)
        if asset_of(line) in spent:
            line["balance"] = stroops_to_amount(amount_to_stroops(line.get("balance") or "0") - spent[asset_of(line)])
        balances.append(line)
    after = dict(record, balances=balances)
    if sequence is not None:
        after["sequence"] = str(sequence)
    return after


def paid_from(horizon: Any, address: str, payer: Dict[str, Any], destination: str, asset: str, stroops: int,
              fee: int, memo: str, transaction_hash: str, channel: Optional[Dict[str, Any]] = None) -> None:
    """Remember the records and the payment itself after a payment of ``stroops`` of ``asset`` from ``address``
    that Horizon answered as applied: ``payer`` is the record it was built on, the wallet's own or, with
    ``channel`` (the channel's record it was built on), the wallet's record for its balances."""
    known = _known_accounts(horizon)
    if known is None:
        return
    history = _history(horizon, address)
    if history is not None:
        history.add_own(own_payment(address, destination, asset, stroops, memo, transaction_hash))
    with _RECORDS_LOCK:
        if channel is None:
            spent = {asset: stroops, "XLM": fee} if asset != "XLM" else {"XLM": stroops + fee}
            known[(horizon.url, address)] = _spent(payer, spent, int(payer["sequence"]) + 1)
            # Read again by the next payment through a channel (this record no longer shows what was spent).
            known.pop((horizon.url, address, "balances"), None)
            return
        wallet_key, channel_key = (horizon.url, address, "balances"), (horizon.url, channel.get("account_id")
                                                                       or channel["id"])
        known[wallet_key] = _spent(known.get(wallet_key) or payer, {asset: stroops})
        known[channel_key] = _spent(channel, {"XLM": fee}, int(channel["sequence"]) + 1)


def own_payment(address: str, destination: str, asset: str, stroops: int, memo: str,
                transaction_hash: str) -> Dict[str, Any]:
    """A payment this process made, as the Horizon payment record paid_for_memo reads (without created_at: new)."""
    from ansible_collections.threefold.grid.plugins.module_utils._amounts import stroops_to_amount
    record = {"type": "payment", "transaction_successful": True, "from": address, "to": destination,
              "amount": stroops_to_amount(stroops), "transaction_hash": transaction_hash,
              "transaction": {"memo": memo, "successful": True}}
    if asset == "XLM":
        record["asset_type"] = "native"
    else:
        code, issuer = asset.split(":", 1)
        record.update(asset_type="credit_alphanum4" if len(code) <= 4 else "credit_alphanum12", asset_code=code,
                      asset_issuer=issuer)
    return record


def forget_wallet(horizon: Any, address: str, channel: Optional[str] = None) -> None:
    """After a failure: the next payment reads the wallet's records (and the channel's) from Horizon."""
    known = _known_accounts(horizon)
    if known is not None:
        with _RECORDS_LOCK:
            for key in [(address,), (address, "balances")] + ([(channel,)] if channel else []):
                known.pop((horizon.url,) + key, None)
