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
wallet's turn (_payment.wallet_turn), which serialises its updates.

Account record: after a payment that Horizon answered as applied, the process knows the wallet's record as that
payment left it (sequence number + 1, the amount and the fee spent), so the next payment of the task needs no
read of it. Horizon answers a submission only once the ledger that applied it is ingested, so this record is
what a read at that moment would give unless another process's transaction applied since, and then the next
envelope is refused with tx_bad_seq and the record is read again (docs/CONCURRENCY.md, G1). Any failure forgets it.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional


class PaymentHistory:
    """The payments of one wallet on one Horizon known so far: those since ``since``, newest first."""

    def __init__(self) -> None:
        self.since: Optional[int] = None
        self.newest: Optional[str] = None  # paging token of the newest record read
        self.records: List[Dict[str, Any]] = []

    def read(self, horizon: Any, address: str, since: int) -> List[Dict[str, Any]]:
        # Loaded here, not at the top: _payment imports this file, and Stellar code loads only when a payment runs.
        from ansible_collections.threefold.grid.plugins.module_utils._stellar import created_epoch
        if self.since is None or since < self.since or self.newest is None:
            self.records = list(horizon.recent_payments(address, since))
            self.since = since
            self.newest = self.records[0]["paging_token"] if self.records else None
        else:
            newer = horizon.payments_after(address, self.newest)
            if newer:
                self.records = list(reversed(newer)) + self.records
                self.newest = newer[-1]["paging_token"]
        return [record for record in self.records if created_epoch(record) >= since]


def wallet_payments(horizon: Any, address: str, since: int) -> List[Dict[str, Any]]:
    """The payment records touching ``address`` created at or after ``since``, newest first."""
    histories = getattr(horizon.client, "histories", None)
    if histories is None:
        return horizon.recent_payments(address, since)
    history = histories.setdefault((horizon.url, address), PaymentHistory())
    return history.read(horizon, address, since)


def _known_accounts(horizon: Any) -> Optional[Dict[Any, Dict[str, Any]]]:
    return getattr(horizon.client, "wallet_records", None)


def wallet_record(horizon: Any, address: str) -> Optional[Dict[str, Any]]:
    """The wallet's account record: as this process's last applied payment left it, else read from Horizon."""
    known = _known_accounts(horizon)
    if known is not None and (horizon.url, address) in known:
        return known[(horizon.url, address)]
    return horizon.account(address)


def paid_from(horizon: Any, address: str, payer: Dict[str, Any], asset: str, stroops: int, fee: int) -> None:
    """Remember the wallet's record after a payment of ``stroops`` of ``asset`` that Horizon answered as applied."""
    known = _known_accounts(horizon)
    if known is None:
        return
    from ansible_collections.threefold.grid.plugins.module_utils._amounts import amount_to_stroops, stroops_to_amount
    from ansible_collections.threefold.grid.plugins.module_utils._stellar import asset_of
    spent = {asset: stroops, "XLM": fee} if asset != "XLM" else {"XLM": stroops + fee}
    balances = []
    for line in payer.get("balances") or []:
        line = dict(line)
        if asset_of(line) in spent:
            line["balance"] = stroops_to_amount(amount_to_stroops(line.get("balance") or "0") - spent[asset_of(line)])
        balances.append(line)
    known[(horizon.url, address)] = dict(payer, sequence=str(int(payer["sequence"]) + 1), balances=balances)


def forget_wallet(horizon: Any, address: str) -> None:
    """After a failure: the next payment reads the wallet's record from Horizon."""
    known = _known_accounts(horizon)
    if known is not None:
        known.pop((horizon.url, address), None)
