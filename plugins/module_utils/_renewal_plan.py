# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""Which expiring reservations one run renews within a budget (the renewal_plan filter).

    renewal_plan(reservations, budget, currency="TFT") -> {"renew", "skipped", "total", "budget", "currency"}

`reservations` are zos_reservation_info results carrying `renewal`. The soonest to end come first; each
is taken while the running total stays within the budget. Renewals that cost nothing (free-to-use nodes,
gateways) are always taken; those priced in another currency are skipped. Raises ValueError, naming the
cheapest renewal, when the budget can not pay even one.
"""

from __future__ import annotations

from typing import Any, Dict, List

from ansible_collections.threefold.grid.plugins.module_utils._amounts import amount_to_stroops, stroops_to_amount

FREE_CURRENCIES = ("FreeTFT",)


def _entry(reservation: Dict[str, Any], **fields: Any) -> Dict[str, Any]:
    renewal = reservation.get("renewal") or {}
    entry = {"id": reservation.get("id"), "name": reservation.get("name"), "kind": reservation.get("kind"),
             "amount": renewal.get("amount"), "expires_in": renewal.get("expires_in")}
    entry.update(fields)
    return entry


def renewal_plan(reservations: List[Dict[str, Any]], budget: Any, currency: str = "TFT") -> Dict[str, Any]:
    number = isinstance(budget, (int, float)) and not isinstance(budget, bool)
    try:
        limit = amount_to_stroops(str(budget) if number else budget)
    except ValueError as exc:
        raise ValueError("budget: %s" % exc) from None
    renew: List[Dict[str, Any]] = []
    skipped: List[Dict[str, Any]] = []
    total = 0
    priced = [r for r in reservations if r.get("renewal")]
    for reservation in sorted(priced, key=lambda r: r["renewal"].get("expires_in") or 0):
        renewal = reservation["renewal"]
        cost = int(renewal.get("total_amount") or 0)
        if reservation.get("state") != "deploy":
            skipped.append(_entry(reservation, reason="not deployed (%s)" % reservation.get("state")))
        elif cost == 0 or renewal.get("currency") in FREE_CURRENCIES:
            renew.append(_entry(reservation))
        elif renewal.get("currency") != currency:
            skipped.append(_entry(reservation, reason="priced in %s, the budget is in %s" % (
                renewal.get("currency"), currency)))
        elif total + cost > limit:
            skipped.append(_entry(reservation, reason="over budget: it would bring this run to %s of %s %s" % (
                stroops_to_amount(total + cost), stroops_to_amount(limit), currency)))
        else:
            total += cost
            renew.append(_entry(reservation))
    paid = [entry for entry in skipped if entry["reason"].startswith("over budget")]
    if paid and not any(amount_to_stroops(entry["amount"] or "0") for entry in renew):
        cheapest = min(paid, key=lambda entry: amount_to_stroops(entry["amount"]))
        raise ValueError("the budget of %s %s is smaller than the cheapest renewal, reservation %s (%s) at %s %s: "
                         "nothing was renewed" % (stroops_to_amount(limit), currency, cheapest["id"],
                                                  cheapest["name"], cheapest["amount"], currency))
    return {"renew": renew, "skipped": skipped, "total": stroops_to_amount(total),
            "budget": stroops_to_amount(limit), "currency": currency}
