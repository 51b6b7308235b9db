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

from typing import Any, Dict, Optional

from ansible_collections.threefold.grid.plugins.module_utils import _pricing
from ansible_collections.threefold.grid.plugins.module_utils._views import LIVE_STATES, Reservation, data_of, state_name


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
