"""Cloud-unit pricing of a reservation (tfexplorer pkg/escrow/resource.go, v0.3.2 container disk).

Float64 arithmetic and Go's math.Round (half away from zero) are reproduced exactly; Python's
round() is banker's rounding and must not be used here.
"""

import decimal
import math

HOUR = 3600
DAY = 24 * HOUR
MONTH = 30 * DAY  # the explorer's month
STROOPS = 10**7

# k8s size -> (cru, mru GiB, sru GB); other sizes cost nothing.
K8S_SIZES = {1: (1, 2.0, 50.0), 2: (2, 4.0, 100.0)}


def go_round(value):
    """Go math.Round: nearest integer, halves away from zero (exact on float64)."""
    whole = math.trunc(value)
    if abs(value - whole) >= 0.5:
        whole += math.copysign(1.0, value)
    return float(whole)


def round_to(value, digits):
    scale = 10.0**digits
    return go_round(value * scale) / scale


def workload_units(kind, workload):
    """(cru, mru, hru, sru) one workload adds; kind is the data_reservation key."""
    if kind == "containers":
        capacity = workload["capacity"]
        mru = round_to(capacity["memory"] / 1024, 4)
        disk = float(int(round_to(capacity["disk_size"] / 1024, 4)))
        if capacity["disk_type"] == 1:
            return capacity["cpu"], mru, 0.0, disk
        return capacity["cpu"], mru, disk, 0.0
    if kind == "volumes":
        return (0, 0.0, 0.0, float(workload["size"])) if workload["type"] == 1 else (0, 0.0, float(workload["size"]), 0.0)
    if kind == "zdbs":
        return (0, 0.0, 0.0, float(workload["size"])) if workload["disk_type"] == 1 else (0, 0.0, float(workload["size"]), 0.0)
    if kind == "kubernetes":
        cru, mru, sru = K8S_SIZES.get(workload["size"], (0, 0.0, 0.0))
        return cru, mru, 0.0, sru
    return 0, 0.0, 0.0, 0.0


PRICED_KINDS = ("containers", "volumes", "zdbs", "kubernetes")


def resource_units_per_farm(data_reservation, farm_of_node):
    """{farm_id: {"cru","mru","hru","sru"}} summed over priced workloads (per node, then per farm)."""
    per_node = {}
    for kind in PRICED_KINDS:
        for workload in data_reservation.get(kind) or []:
            units = workload_units(kind, workload)
            total = per_node.setdefault(workload["node_id"], [0, 0.0, 0.0, 0.0])
            for index, value in enumerate(units):
                total[index] += value
    per_farm = {}
    for node_id, (cru, mru, hru, sru) in per_node.items():
        farm = per_farm.setdefault(farm_of_node(node_id), {"cru": 0, "mru": 0.0, "hru": 0.0, "sru": 0.0})
        farm["cru"] += cru
        farm["mru"] += mru
        farm["hru"] += hru
        farm["sru"] += sru
    return per_farm


def cloud_units(rsu):
    cu = round_to(min(rsu["mru"] / 4 * 0.95, float(rsu["cru"] * 2)), 3)
    su = round_to(rsu["hru"] / 1093 + rsu["sru"] / 91, 3)
    return cu, su


def discount_factor(duration_seconds):
    if duration_seconds >= 12 * MONTH:
        return 0.3
    if duration_seconds >= 6 * MONTH:
        return 0.4
    if duration_seconds >= MONTH:
        return 0.5
    if duration_seconds >= 7 * DAY:
        return 0.75
    return 1.0


def format_g10(value):
    """Go fmt %.10g."""
    return "%.10g" % value


def tft_to_stroops(text):
    """Parse a decimal amount as Stellar does (7 decimals) into stroops."""
    amount = decimal.Decimal(text).quantize(decimal.Decimal("0.0000001"), rounding=decimal.ROUND_DOWN)
    return int(amount * STROOPS)


def cost_stroops(rsu, duration_seconds):
    """Price in stroops of one farm's resource units for a lease of duration_seconds."""
    cu, su = cloud_units(rsu)
    hours = math.ceil(duration_seconds / HOUR)
    total = (0.266 * cu + 0.200 * su) * hours * discount_factor(duration_seconds)
    return tft_to_stroops(format_g10(total))


def escrow_details(data_reservation, farm_of_node, duration_seconds):
    """[{"farmer_id": farm id, "total_amount": stroops}] for farms hosting priced workloads."""
    per_farm = resource_units_per_farm(data_reservation, farm_of_node)
    return [
        {"farmer_id": farm_id, "total_amount": cost_stroops(rsu, duration_seconds)}
        for farm_id, rsu in sorted(per_farm.items())
    ]


def split_payout(total, farmer_pct, burn_pct, foundation_pct):
    """(farmer, burn, foundation) stroops, rounded as the explorer's splitPayout does."""
    amount = total * 10
    base = amount // 100
    parts = [base * farmer_pct, base * burn_pct, base * foundation_pct]
    change = sum(part % 10 for part in parts) // 10
    for index in range(3):
        if (farmer_pct, burn_pct, foundation_pct)[index]:
            parts[index] += change * 10
            break
    return tuple(part // 10 for part in parts)
