# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""What the Stellar ledger says about an identity's reservations: paid, refunded, paid out, unmatched.

    read_ledger(horizon, payer, reservations, prices) -> (ledgers, unmatched)
        horizon: a _stellar.Horizon; payer: the Stellar address that pays the reservations;
        reservations: explorer reservations of one identity; prices: {reservation id: stroops} the grid
        asks for each (from _payment_checks.grid_prices), used to flag a wrong amount.
        Returns ({reservation id: ledger dict}, [unmatched payment dicts]).

Everything comes from public ledger data, read by memo (the reservation id, docs/contract/stellar.md §2):
the payer's own payments, newest first back to the oldest reservation, show which escrow account the
identity pays (one per customer, docs/contract/explorer.md §7.4); that account's payments with a memo
then split into what came in (paid), what went back to a funder (refunded, §7.6) and what went to
anyone else (farmers, burn and foundation: paid out, §7.7).
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Tuple

from ansible_collections.threefold.grid.plugins.module_utils._amounts import amount_to_stroops, stroops_to_amount
from ansible_collections.threefold.grid.plugins.module_utils._payment import CLOCK_SKEW, PAYMENT_TYPES
from ansible_collections.threefold.grid.plugins.module_utils._stellar import asset_of
from ansible_collections.threefold.grid.plugins.module_utils._views import ENDED_STATES, Reservation, state_name

NEXT_STEPS = {
    "no_reservation": "the memo is no reservation of this identity: the escrow account is the explorer's, so only "
                      "the grid's operators can send it back; ask them, quoting the transaction hash",
    "paid_after_end": "the payment reached the escrow after the reservation ended, so the cancel did not refund it "
                      "(docs/contract/explorer.md §7.6): ask the grid's operators, quoting the transaction hash",
    "underpaid": "the reservation still lacks {missing}: pay it with threefold.grid.zos_payment before its "
                 "provisioning deadline, or the explorer refunds what was paid at that deadline",
    "overpaid": "the escrow holds {extra} more than the price: the explorer refunds the surplus to the first payer "
                "after the farmers are paid",
}


def _movements(records: Iterable[Dict[str, Any]]) -> Iterable[Dict[str, Any]]:
    """Successful payments with a text memo, oldest first, as {hash, from, to, asset, stroops, memo, created_at}."""
    for record in reversed(list(records)):
        if record.get("type") not in PAYMENT_TYPES or record.get("transaction_successful") is False:
            continue
        memo = (record.get("transaction") or {}).get("memo")
        if memo is None:
            continue
        yield {"transaction_hash": record.get("transaction_hash"), "from": record.get("from"),
               "to": record.get("to"), "asset": asset_of(record), "memo": str(memo),
               "stroops": amount_to_stroops(record.get("amount") or "0"), "created_at": record.get("created_at")}


def escrow_accounts(payer_movements: List[Dict[str, Any]], payer: str, ids: Iterable[str]) -> List[str]:
    """Accounts the payer sent payments with one of the identity's reservation ids as memo."""
    wanted = set(ids)
    found: List[str] = []
    for move in payer_movements:
        if move["from"] == payer and move["memo"] in wanted and move["to"] not in found:
            found.append(move["to"])
    return found


def memo_ledger(escrow_movements: List[Dict[str, Any]], escrow: Optional[str], memo: str) -> Dict[str, Any]:
    """Paid, refunded and paid out for one memo on one escrow account (amounts as 7-decimal strings)."""
    funders: List[str] = []
    totals = {"paid": 0, "refunded": 0, "paid_out": 0}
    asset = None
    moves = []
    for move in escrow_movements:
        if escrow is None or move["memo"] != memo or escrow not in (move["from"], move["to"]):
            continue
        asset = asset or move["asset"]
        if move["asset"] != asset:
            continue
        if move["to"] == escrow:
            kind = "payment"
            funders.append(move["from"])
        else:
            kind = "refund" if move["to"] in funders else "payout"
        totals[{"payment": "paid", "refund": "refunded", "payout": "paid_out"}[kind]] += move["stroops"]
        moves.append({"kind": kind, "transaction_hash": move["transaction_hash"], "from": move["from"],
                      "to": move["to"], "amount": stroops_to_amount(move["stroops"]), "created_at": move["created_at"]})
    held = totals["paid"] - totals["refunded"] - totals["paid_out"]
    ledger = {key: stroops_to_amount(value) for key, value in totals.items()}
    ledger.update(escrow=escrow, asset=asset.split(":")[0] if asset else None, held=stroops_to_amount(max(held, 0)),
                  movements=moves)
    return ledger


def _problem(reason: str, move: Optional[Dict[str, Any]], reservation_id: Optional[int], amount: int,
             **fields: str) -> Dict[str, Any]:
    return {"reason": reason, "reservation_id": reservation_id, "memo": move["memo"] if move else str(reservation_id),
            "transaction_hash": move["transaction_hash"] if move else None, "amount": stroops_to_amount(amount),
            "next_step": NEXT_STEPS[reason].format(**fields)}


def amount_problems(reservation: Reservation, ledger: Dict[str, Any], price: Optional[int]) -> List[Dict[str, Any]]:
    """A paid amount that is not the price: short while the reservation can still be paid, or above it."""
    rid = int(reservation["id"])
    paid = amount_to_stroops(ledger["paid"])
    if price is None or paid == 0:
        return []
    state = state_name(reservation)
    if paid < price and state == "pay":
        missing = stroops_to_amount(price - paid)
        return [_problem("underpaid", None, rid, paid, missing=missing)]
    held = amount_to_stroops(ledger["held"])
    if paid > price and held > 0 and state not in ENDED_STATES:
        return [_problem("overpaid", None, rid, paid - price, extra=stroops_to_amount(paid - price))]
    return []


def late_payments(reservation: Reservation, ledger: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Payments that came after the last refund of an ended reservation: they stay in the escrow."""
    if state_name(reservation) not in ENDED_STATES:
        return []
    moves = ledger["movements"]
    ends = [index for index, move in enumerate(moves) if move["kind"] != "payment"]
    if not ends:
        return []
    late = [move for move in moves[ends[-1] + 1:] if move["kind"] == "payment"]
    return [_problem("paid_after_end", {"memo": str(reservation["id"]), "transaction_hash": move["transaction_hash"]},
                     int(reservation["id"]), amount_to_stroops(move["amount"])) for move in late]


def read_ledger(horizon: Any, payer: str, reservations: List[Reservation], prices: Dict[int, int],
                shown: Iterable[int]) -> Tuple[Dict[int, Dict[str, Any]], List[Dict[str, Any]]]:
    """Ledgers of the `shown` reservation ids; unmatched payments among all of the identity's `reservations`."""
    shown = set(shown)
    if not reservations or not shown:
        return {}, []
    since = min(int(r.get("epoch") or 0) for r in reservations) - CLOCK_SKEW
    ids = {str(r["id"]): r for r in reservations}
    payer_moves = list(_movements(horizon.recent_payments(payer, since)))
    escrows = escrow_accounts(payer_moves, payer, ids)
    escrow_moves = {escrow: list(_movements(horizon.recent_payments(escrow, since))) for escrow in escrows}
    ledgers: Dict[int, Dict[str, Any]] = {}
    unmatched: List[Dict[str, Any]] = []
    for memo, reservation in ids.items():
        rid = int(memo)
        if rid not in shown:
            continue
        paid_to = [escrow for escrow in escrows
                   if any(m["memo"] == memo and m["to"] == escrow for m in escrow_moves[escrow])]
        ledgers[rid] = memo_ledger(escrow_moves[paid_to[0]] if paid_to else [], paid_to[0] if paid_to else None, memo)
        unmatched.extend(amount_problems(reservation, ledgers[rid], prices.get(rid)))
        unmatched.extend(late_payments(reservation, ledgers[rid]))
    for move in payer_moves:
        if move["from"] == payer and move["to"] in escrows and move["memo"] not in ids:
            unmatched.append(_problem("no_reservation", move, None, move["stroops"]))
    return ledgers, unmatched
