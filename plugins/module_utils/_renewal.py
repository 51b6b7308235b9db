# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""When a reservation ends and what renewing it costs.

Nothing changes a registered reservation's expiration (docs/contract/explorer.md §3.5 offers creates,
signatures and results only): a resource module renews by registering the same workloads again for a new
lifetime (`renew_before`) and paying that reservation.
Its cost is the price the explorer would ask for the same workloads and the same length registered now.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, Optional

from ansible_collections.threefold.grid.plugins.module_utils import _pricing
from ansible_collections.threefold.grid.plugins.module_utils._errors import LifecycleError
from ansible_collections.threefold.grid.plugins.module_utils._lifecycle import PROVISIONING_SECONDS, ReservationLifecycle
from ansible_collections.threefold.grid.plugins.module_utils._lifecycle_types import Decision, Outcome, Plan
from ansible_collections.threefold.grid.plugins.module_utils._views import (
    LIVE_STATES,
    Reservation,
    data_of,
    describe,
    describe_data,
    state_name,
    tag_of,
    view,
)


def expires_within(reservation: Reservation, seconds: int, now: int) -> bool:
    """A live reservation that ends within `seconds` of `now`."""
    ends = int(data_of(reservation).get("expiration_reservation") or 0)
    return state_name(reservation) in LIVE_STATES and ends - now <= seconds


def renewal_view(reservation: Reservation, farms: Dict[str, Any], now: int) -> Optional[Dict[str, Any]]:
    """{expires_in, duration, amount, currency} for a live reservation, None for an ended one."""
    if state_name(reservation) not in LIVE_STATES:
        return None
    data = dict(data_of(reservation))
    ends = int(data.get("expiration_reservation") or 0)
    duration = ends - int(reservation.get("epoch") or 0)
    data["expiration_reservation"] = now + duration
    priced = _pricing.estimate(data, farms, now)
    return {"expires_in": ends - now, "duration": duration, "amount": priced["amount"],
            "total_amount": priced["total_amount"], "currency": priced["currency"]}


def renew_by_id(lifecycle: ReservationLifecycle, reservation_id: int, renew_before: int,
                payment: Optional[Dict[str, Any]], wait: bool = True, wait_timeout: int = 600,
                wait_sleep: int = 5) -> Outcome:
    """Register reservation `reservation_id`'s workloads again for its length, pay, wait, cancel the old one.

    Nothing happens when it ends later than `renew_before` from now. A reservation renewed earlier (ended,
    with a live successor carrying its name and kind) stands for that successor, so a re-run changes nothing.
    """
    old = _current(lifecycle, reservation_id)
    now = lifecycle.now()
    if not expires_within(old, renew_before, now):
        return Outcome(False, "none", reservation=view(old), diff={"before": describe(old), "after": describe(old)})
    if state_name(old) != "deploy":
        raise LifecycleError("Reservation %d is %s, not deployed: only a deployed reservation is renewed (pay or "
                             "wait for it first)" % (old["id"], state_name(old)), reservation=view(old))
    data = copy.deepcopy(data_of(old))
    data["expiration_reservation"] = now + int(data["expiration_reservation"]) - int(old.get("epoch") or 0)
    data["expiration_provisioning"] = now + max(PROVISIONING_SECONDS, int(wait_timeout) + 60)
    plan = Plan(data, {"before": describe(old), "after": describe_data(data)}, lifecycle.estimate(data, now))
    if payment:
        lifecycle.registrar.precheck(payment, plan.estimate)
    if lifecycle.session.check_mode:
        return Outcome(True, "renew", diff=plan.diff, estimate=plan.estimate, replaced=[old["id"]])
    decision = Decision(old, (tag_of(old) or {}).get("fp"), old.get("metadata") or "", "renew", False)
    outcome = lifecycle.execute(decision, plan, payment, wait, wait_timeout, wait_sleep, None)
    outcome.estimate = plan.estimate
    return outcome


def _current(lifecycle: ReservationLifecycle, reservation_id: int) -> Reservation:
    """The reservation, or the live successor of a renewed one; refuses another identity's."""
    reservation = lifecycle.reservations.get(reservation_id)
    if int(reservation.get("customer_tid") or 0) != lifecycle.session.tid:
        raise LifecycleError("Reservation %d belongs to tid %s, not to this identity (tid %d); nothing was signed"
                             % (reservation_id, reservation.get("customer_tid"), lifecycle.session.tid))
    if state_name(reservation) in LIVE_STATES:
        return reservation
    tag = tag_of(reservation)
    successor = lifecycle.reservations.find_one(tag["name"], tag["kind"]) if tag else None
    if successor is None:
        raise LifecycleError("Reservation %d has ended (%s) and no live reservation carries its name: there is "
                             "nothing to renew" % (reservation_id, state_name(reservation)),
                             reservation=view(reservation))
    return successor
