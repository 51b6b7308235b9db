# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import os
from decimal import Decimal

import pytest

from ansible_collections.threefold.grid.plugins.module_utils import _pricing
from ansible_collections.threefold.grid.plugins.module_utils._amounts import stroops_to_amount
from ansible_collections.threefold.grid.plugins.module_utils._workloads import container_workload, volume_workload

# tests/vectors/: the upstream vectors, shared with localgrid's tests.
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "vectors")


def _vector(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return json.load(handle)


CLOUD_UNITS = _vector("escrow_cloud_units_and_discount_v030.json")


@pytest.mark.parametrize("case", CLOUD_UNITS["rsu_to_cu"], ids=lambda c: json.dumps(c["rsu"], sort_keys=True))
def test_cloud_units_match_upstream_vectors(case):
    units = dict((key, Decimal(value)) for key, value in case["rsu"].items())
    cu, su = _pricing.cloud_units(units)
    assert cu == Decimal(str(case["cu"]))
    assert su == Decimal(str(case["su"]))


@pytest.mark.parametrize("case", CLOUD_UNITS["discount_factor"]["cases"], ids=lambda c: str(c["duration_seconds"]))
def test_discount_matches_upstream_vectors(case):
    assert _pricing.discount(case["duration_seconds"]) == Decimal(str(case["factor"]))


def test_rounding_is_half_away_from_zero_not_bankers():
    # 0.0625 -> Python round() gives 0.062, Go math.Round gives 0.063
    assert _pricing.round_half_away(Decimal("0.0625"), 3) == Decimal("0.063")
    assert _pricing.round_half_away(Decimal("2.5"), 0) == Decimal("3")


def test_significant_keeps_ten_digits():
    assert _pricing.significant(Decimal("3.45464200004")) == Decimal("3.454642000")
    assert _pricing.significant(Decimal("123456.78915")) == Decimal("123456.7892")
    assert _pricing.significant(Decimal(0)) == 0


def _reservation(containers=(), volumes=(), expiration=0, currencies=("TFT",)):
    return {"containers": list(containers), "volumes": list(volumes), "expiration_reservation": expiration,
            "currencies": list(currencies)}


def test_container_and_volume_estimate_per_farm():
    # node A (farm 1): container 2 cpu, 4096 MiB, 2048 MiB SSD rootfs + 91 GiB SSD volume
    # rsu farm 1: cru 2, mru 4, sru 2 + 91 = 93 -> cu = min(0.95, 4) = 0.95, su = round3(93/91) = 1.022
    # node B (farm 2): 1 cpu, 1024 MiB, 256 MiB HDD rootfs -> int(round4(0.25)) = 0 hru
    # rsu farm 2: cru 1, mru 1 -> cu = round3(0.2375) = 0.238 (half away), su = 0
    now = 1000000
    reservation = _reservation(
        containers=[
            container_workload(1, "A", "https://x/y.flist", "n", "10.0.1.2", cpu=2, memory=4096, disk_size=2048),
            container_workload(2, "B", "https://x/y.flist", "n", "10.0.2.2", disk_type="HDD"),
        ],
        volumes=[volume_workload(3, "A", 91)],
        expiration=now + 3 * 3600 + 1,  # 4 started hours, no discount
    )
    result = _pricing.estimate(reservation, {"A": 1, "B": 2}, now)
    farm1 = (Decimal("0.266") * Decimal("0.95") + Decimal("0.2") * Decimal("1.022")) * 4
    farm2 = Decimal("0.266") * Decimal("0.238") * 4
    assert result["details"] == [
        {"farmer_id": 1, "total_amount": int(farm1 * 10 ** 7)},
        {"farmer_id": 2, "total_amount": int(farm2 * 10 ** 7)},
    ]
    assert result["total_amount"] == int((farm1 + farm2) * 10 ** 7)
    assert result["amount"] == stroops_to_amount(result["total_amount"])
    assert result["currency"] == "TFT"


def test_month_discount_and_free_currency_dropped():
    now = 0
    reservation = _reservation(
        containers=[container_workload(1, "A", "https://x/y.flist", "n", "10.0.1.2")],
        expiration=30 * 86400,
        currencies=("FreeTFT", "TFTA"),
    )
    result = _pricing.estimate(reservation, {"A": 7}, now)
    # default 1024 MiB: cu = round3(1/4*0.95) = round3(0.2375) = 0.238 (half away); su = 0; 720 h; factor 0.5
    expected = Decimal("0.266") * Decimal("0.238") * 720 * Decimal("0.5")
    assert result["details"] == [{"farmer_id": 7, "total_amount": int(expected * 10 ** 7)}]
    assert result["currency"] == "TFTA"


def test_networks_cost_nothing():
    reservation = _reservation(expiration=7200)
    reservation["networks"] = [{"name": "n", "network_resources": [{"node_id": "A"}]}]
    assert _pricing.estimate(reservation, {"A": 1}, 0)["details"] == []
