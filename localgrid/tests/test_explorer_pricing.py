"""Cloud-unit pricing and payout split against the upstream vectors (docs/contract/explorer.md §7.3, §7.7)."""

import pytest

from localgrid.explorer import pricing
from localgrid.tests.conftest import load_vector

UNITS = load_vector("escrow_cloud_units_and_discount_v030.json")
SPLIT = load_vector("escrow_payout_split_v030.json")


@pytest.mark.parametrize("case", UNITS["rsu_to_cu"], ids=lambda c: str(c["rsu"]))
def test_cloud_units_vectors(case):
    assert pricing.cloud_units(case["rsu"]) == (case["cu"], case["su"])


@pytest.mark.parametrize("case", UNITS["discount_factor"]["cases"], ids=lambda c: str(c["duration_seconds"]))
def test_discount_vectors(case):
    assert pricing.discount_factor(case["duration_seconds"]) == case["factor"]


@pytest.mark.parametrize("case", SPLIT["cases"], ids=lambda c: "%d-%s" % (c["total"], c["dist"]))
def test_payout_split_vectors(case):
    assert pricing.split_payout(case["total"], *case["dist"]) == (case["farmer"], case["burn"], case["foundation"])


def test_real_distributions_split_90_10_and_burn():
    assert pricing.split_payout(34546420, 90, 0, 10) == (31091778, 0, 3454642)
    assert pricing.split_payout(34546420, 0, 100, 0) == (0, 34546420, 0)


def test_go_round_is_half_away_from_zero():
    assert pricing.go_round(0.5) == 1.0 and pricing.go_round(-0.5) == -1.0
    assert pricing.go_round(2.5) == 3.0  # Python's round() would give 2
    assert pricing.go_round(0.49999999999999994) == 0.0
    assert pricing.round_to(0.0005, 3) == 0.001


def test_ten_significant_digits_then_seven_decimals():
    assert pricing.format_g10(3.4546420000000003) == "3.454642"
    assert pricing.tft_to_stroops("3.454642") == 34546420
    assert pricing.format_g10(123456.78901234) == "123456.789"


def _data(**lists):
    base = {key: [] for key in ("containers", "volumes", "zdbs", "kubernetes", "networks")}
    base.update(lists)
    return base


def test_units_per_farm_sum_nodes_and_v032_container_disk():
    container = {"node_id": "a", "capacity": {"cpu": 2, "memory": 3000, "disk_size": 2048, "disk_type": 1}}
    hdd = {"node_id": "b", "capacity": {"cpu": 1, "memory": 512, "disk_size": 1536, "disk_type": 0}}
    volume = {"node_id": "b", "size": 10, "type": 0}
    zdb = {"node_id": "c", "size": 5, "disk_type": 1}
    k8s = {"node_id": "c", "size": 2}
    farms = {"a": 1, "b": 1, "c": 2}
    per_farm = pricing.resource_units_per_farm(
        _data(containers=[container, hdd], volumes=[volume], zdbs=[zdb], kubernetes=[k8s]), farms.__getitem__
    )
    # mru per container rounded to 4 decimals (3000/1024 = 2.9296875 -> 2.9297); disk in whole GiB
    assert per_farm[1] == {"cru": 3, "mru": 2.9297 + 0.5, "hru": 1.0 + 10, "sru": 2.0}
    assert per_farm[2] == {"cru": 2, "mru": 4.0, "hru": 0.0, "sru": 5.0 + 100}


def test_networks_cost_nothing_and_unknown_k8s_size():
    details = pricing.escrow_details(
        _data(networks=[{"network_resources": [{"node_id": "a"}]}], kubernetes=[{"node_id": "a", "size": 9}]),
        lambda node: 1,
        3600,
    )
    assert details == [{"farmer_id": 1, "total_amount": 0}]
    assert pricing.escrow_details(_data(networks=[{}]), lambda node: 1, 3600) == []


def test_cost_uses_ceil_hours_and_discount():
    rsu = {"cru": 2, "mru": 4, "hru": 1093, "sru": 91}  # cu 0.95, su 2
    per_hour = 0.266 * 0.95 + 0.2 * 2
    assert pricing.cost_stroops(rsu, 3600) == pricing.tft_to_stroops("%.10g" % per_hour)
    assert pricing.cost_stroops(rsu, 3601) == pricing.tft_to_stroops("%.10g" % (per_hour * 2))
    week = 7 * 86400
    assert pricing.cost_stroops(rsu, week) == pricing.tft_to_stroops("%.10g" % (per_hour * 168 * 0.75))
