# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.threefold.grid.plugins.module_utils._explorer import NEXT_ACTION
from ansible_collections.threefold.grid.plugins.module_utils._ledger import read_ledger

PAYER, ESCROW, FARMER, FOUNDATION, OTHER = "GPAYER", "GESCROW", "GFARMER", "GFOUNDATION", "GOTHER"


class FakeHorizon:
    """Payments of every account, newest first, as Horizon's /accounts/{id}/payments?join=transactions."""

    def __init__(self):
        self.records = []
        self.reads = []

    def pay(self, source, destination, amount, memo, code="TFT", successful=True):
        self.records.append({
            "type": "payment", "transaction_successful": successful, "from": source, "to": destination,
            "amount": amount, "asset_type": "credit_alphanum4", "asset_code": code, "asset_issuer": "GISSUER",
            "transaction_hash": "%064x" % len(self.records), "transaction": {"memo": memo},
            "created_at": "2026-11-30T10:%02d:00Z" % len(self.records)})

    def recent_payments(self, address, since):
        self.reads.append(address)
        return [r for r in reversed(self.records) if address in (r["from"], r["to"])]


def reservation(rid, state="deploy"):
    return {"id": rid, "epoch": 1764496800, "next_action": NEXT_ACTION[state], "customer_tid": 7}


@pytest.fixture
def horizon():
    return FakeHorizon()


def test_deployed_reservation_paid_then_paid_out(horizon):
    horizon.pay(PAYER, ESCROW, "0.0100000", "5")
    horizon.pay(ESCROW, FARMER, "0.0090000", "5")
    horizon.pay(ESCROW, FOUNDATION, "0.0010000", "5")
    ledgers, unmatched = read_ledger(horizon, PAYER, [reservation(5)], {5: 100000}, [5])
    ledger = ledgers[5]
    assert (ledger["escrow"], ledger["asset"], ledger["paid"], ledger["refunded"], ledger["paid_out"],
            ledger["held"]) == (ESCROW, "TFT", "0.0100000", "0.0000000", "0.0100000", "0.0000000")
    assert [m["kind"] for m in ledger["movements"]] == ["payment", "payout", "payout"]
    assert unmatched == []
    assert horizon.reads == [PAYER, ESCROW]


def test_cancelled_reservation_refunded_to_first_funder(horizon):
    horizon.pay(PAYER, ESCROW, "0.0040000", "6")
    horizon.pay(ESCROW, PAYER, "0.0040000", "6")
    ledgers, unmatched = read_ledger(horizon, PAYER, [reservation(6, "deleted")], {6: 100000}, [6])
    assert (ledgers[6]["paid"], ledgers[6]["refunded"], ledgers[6]["paid_out"]) == (
        "0.0040000", "0.0040000", "0.0000000")
    assert unmatched == []


def test_payment_after_the_refund_stays_in_the_escrow(horizon):
    horizon.pay(PAYER, ESCROW, "0.0040000", "6")
    horizon.pay(ESCROW, PAYER, "0.0040000", "6")
    horizon.pay(PAYER, ESCROW, "0.0060000", "6")
    ledgers, unmatched = read_ledger(horizon, PAYER, [reservation(6, "deleted")], {6: 100000}, [6])
    assert ledgers[6]["held"] == "0.0060000"
    assert [(u["reason"], u["reservation_id"], u["amount"]) for u in unmatched] == [
        ("paid_after_end", 6, "0.0060000")]
    assert "quoting the transaction hash" in unmatched[0]["next_step"]


def test_memo_of_no_reservation_of_the_identity(horizon):
    horizon.pay(PAYER, ESCROW, "0.0100000", "5")
    horizon.pay(PAYER, ESCROW, "0.5000000", "4711")
    horizon.pay(PAYER, OTHER, "1.0000000", "not-a-grid-payment")
    ledgers, unmatched = read_ledger(horizon, PAYER, [reservation(5, "pay")], {5: 100000}, [5])
    assert [(u["reason"], u["memo"], u["amount"]) for u in unmatched] == [("no_reservation", "4711", "0.5000000")]
    assert unmatched[0]["transaction_hash"] == "%064x" % 1


def test_filtered_out_reservations_are_not_unmatched(horizon):
    horizon.pay(PAYER, ESCROW, "0.0100000", "5")
    horizon.pay(PAYER, ESCROW, "0.0200000", "8")
    ledgers, unmatched = read_ledger(horizon, PAYER, [reservation(5), reservation(8)], {5: 100000}, [5])
    assert list(ledgers) == [5]
    assert unmatched == []


@pytest.mark.parametrize("paid, state, reason, says", [
    ("0.0099999", "pay", "underpaid", "still lacks 0.0000001"),
    ("0.0150000", "deploy", "overpaid", "holds 0.0050000 more"),
])
def test_wrong_amounts(horizon, paid, state, reason, says):
    horizon.pay(PAYER, ESCROW, paid, "5")
    ledgers, unmatched = read_ledger(horizon, PAYER, [reservation(5, state)], {5: 100000}, [5])
    assert [u["reason"] for u in unmatched] == [reason]
    assert says in unmatched[0]["next_step"]


def test_failed_transactions_and_other_assets_do_not_count(horizon):
    horizon.pay(PAYER, ESCROW, "0.0100000", "5", successful=False)
    horizon.pay(PAYER, ESCROW, "0.0100000", "5")
    horizon.pay(PAYER, ESCROW, "3.0000000", "5", code="TFTA")
    ledgers = read_ledger(horizon, PAYER, [reservation(5)], {5: 100000}, [5])[0]
    assert ledgers[5]["paid"] == "0.0100000"


def test_unpaid_reservation_has_no_escrow(horizon):
    ledgers, unmatched = read_ledger(horizon, PAYER, [reservation(9, "pay")], {9: 100000}, [9])
    assert ledgers[9]["escrow"] is None and ledgers[9]["paid"] == "0.0000000"
    assert unmatched == []
