# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""Cost estimate of a reservation, for check mode (explorer escrow formula, tfexplorer v0.3.2).

Resources are summed per node, then per farm; per farm::

    cu = round3(min(mru / 4 * 0.95, cru * 2))      su = round3(hru / 1093 + sru / 91)
    TFT = (0.266 * cu + 0.2 * su) * ceil(hours) * discount(duration)

Go rounds half away from zero (Python's ``round`` would round half to even), so the
arithmetic is done in Decimal with ROUND_HALF_UP. The total is cut to 10 significant digits
(Go ``%.10g``) and converted to stroops (1e-7). It is an estimate: the explorer measures the
hours when it receives the reservation.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Dict

from ansible_collections.threefold.grid.plugins.module_utils._amounts import STROOPS_PER_UNIT, stroops_to_amount

HOUR = 3600
DAY = 86400
MONTH = 30 * DAY
DISCOUNTS = (
    (12 * MONTH, Decimal("0.3")),
    (6 * MONTH, Decimal("0.4")),
    (MONTH, Decimal("0.5")),
    (7 * DAY, Decimal("0.75")),
)
CU_PRICE = Decimal("0.266")
SU_PRICE = Decimal("0.2")
KUBERNETES_SIZES = {1: (1, 2, 50), 2: (2, 4, 100)}  # cru, mru GiB, sru GiB


def round_half_away(value, places):
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _zero():
    return {"cru": Decimal(0), "mru": Decimal(0), "hru": Decimal(0), "sru": Decimal(0)}


def _add_disk(units, size, disk_type):
    units["sru" if disk_type == 1 else "hru"] += Decimal(size)


def node_resource_units(data_reservation):
    """``{node_id: {"cru","mru","hru","sru"}}`` (Decimal, GiB) of the priced workloads."""
    per_node = {}

    def units_of(node_id):
        return per_node.setdefault(node_id, _zero())

    for container in data_reservation.get("containers") or []:
        capacity = container.get("capacity") or {}
        units = units_of(container["node_id"])
        units["cru"] += Decimal(capacity.get("cpu") or 0)
        units["mru"] += round_half_away(Decimal(capacity.get("memory") or 0) / 1024, 4)
        disk_gib = int(round_half_away(Decimal(capacity.get("disk_size") or 0) / 1024, 4))
        _add_disk(units, disk_gib, capacity.get("disk_type"))
    for volume in data_reservation.get("volumes") or []:
        _add_disk(units_of(volume["node_id"]), volume.get("size") or 0, volume.get("type"))
    for zdb in data_reservation.get("zdbs") or []:
        _add_disk(units_of(zdb["node_id"]), zdb.get("size") or 0, zdb.get("disk_type"))
    for vm in data_reservation.get("kubernetes") or []:
        cru, mru, sru = KUBERNETES_SIZES.get(vm.get("size"), (0, 0, 0))
        units = units_of(vm["node_id"])
        units["cru"] += cru
        units["mru"] += mru
        units["sru"] += sru
    return per_node


def farm_resource_units(node_units, node_farms):
    """Sum node units per farm; ``node_farms`` maps node id -> farm id."""
    per_farm = {}
    for node_id, units in node_units.items():
        total = per_farm.setdefault(node_farms[node_id], _zero())
        for key, value in units.items():
            total[key] += value
    return per_farm


def cloud_units(units):
    """``(cu, su)`` of resource units, rounded to 3 decimals half away from zero."""
    cu = min(units["mru"] / 4 * Decimal("0.95"), units["cru"] * 2)
    su = units["hru"] / 1093 + units["sru"] / 91
    return round_half_away(cu, 3), round_half_away(su, 3)


def discount(duration_seconds):
    for threshold, factor in DISCOUNTS:
        if duration_seconds >= threshold:
            return factor
    return Decimal(1)


def significant(value, digits=10):
    """``value`` with ``digits`` significant digits, half away from zero (Go ``%.10g``)."""
    if value == 0:
        return Decimal(0)
    exponent = value.adjusted() - digits + 1
    return value.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_UP)


def farm_cost_stroops(units, duration_seconds):
    cu, su = cloud_units(units)
    hours = math.ceil(duration_seconds / float(HOUR)) if duration_seconds > 0 else 0
    total = (CU_PRICE * cu + SU_PRICE * su) * hours * discount(duration_seconds)
    return int(round_half_away(significant(total) * STROOPS_PER_UNIT, 0))


def estimate(data_reservation: Dict[str, Any], node_farms: Dict[str, Any], now: int) -> Dict[str, Any]:
    """Estimated escrow of a reservation registered at ``now``.

    Returns ``{"details": [{"farmer_id", "total_amount"}], "total_amount", "amount", "currency"}``
    with amounts in stroops (``amount`` is the 7-decimal string); ``details`` sorted by farm id and
    farms without priced workloads left out, as the explorer does.
    """
    duration = int(data_reservation["expiration_reservation"]) - int(now)
    per_farm = farm_resource_units(node_resource_units(data_reservation), node_farms)
    details = []
    for farm_id in sorted(per_farm):
        details.append({"farmer_id": farm_id, "total_amount": farm_cost_stroops(per_farm[farm_id], duration)})
    total = sum(detail["total_amount"] for detail in details)
    currencies = [code for code in data_reservation.get("currencies") or [] if code != "FreeTFT"]
    return {
        "details": details,
        "total_amount": total,
        "amount": stroops_to_amount(total),
        "currency": currencies[0] if currencies else None,
    }
