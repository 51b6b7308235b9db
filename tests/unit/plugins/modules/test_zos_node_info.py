# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.threefold.grid.plugins.modules import zos_node_info
from ansible_collections.threefold.grid.tests.unit.plugins.grid_fake import (
    FakeExplorer,
    module_runner,
    run_module,
    unreachable_explorer,
)

FARMS = [
    {"id": 1, "name": "freefarm", "threebot_id": 3, "location": {"country": "Belgium", "city": "Ghent"}},
    {"id": 2, "name": "egypt-farm", "threebot_id": 4, "location": {"country": "Egypt", "city": "Cairo"}},
]


# The injected clock: nodes' ages and the module's "now" agree, however loaded the machine is.
NOW = 1700000000


class FrozenClock:
    """Stands in for the time module zos_node_info reads "now" from."""

    @staticmethod
    def time():
        return float(NOW)


def node(number, farm_id, country, city, total, reserved, age, public_config=None, free_to_use=False):
    return {
        "id": number, "node_id": "Node%d" % number, "farm_id": farm_id, "os_version": "v0.3.1",
        "created": NOW - 86400, "updated": NOW - age, "uptime": 3600,
        "location": {"country": country, "city": city, "continent": "", "latitude": 0.0, "longitude": 0.0},
        "total_resources": dict(zip(("cru", "mru", "sru", "hru"), total)),
        "reserved_resources": dict(zip(("cru", "mru", "sru", "hru"), reserved)),
        "used_resources": {"cru": 0, "mru": 0.0, "sru": 0.0, "hru": 0.0},
        "public_config": public_config, "free_to_use": free_to_use, "approved": True,
        "public_key_hex": "%02x" % number * 32, "wg_ports": [6000 + number],
    }


PUBLIC = {"master": "eth1", "type": 0, "ipv4": "192.0.2.120/24", "gw4": "192.0.2.1",
          "ipv6": "2001:db8:5e::f5/64", "gw6": "2001:db8:5e::1", "version": 1}
PUBLIC6 = dict(PUBLIC, ipv4="", gw4="")

NODES = [
    node(1, 1, "Belgium", "Ghent", (8, 32.0, 500.0, 4000.0), (2, 4.0, 50.0, 0.0), 30, PUBLIC),
    node(2, 1, "Belgium", "Ghent", (4, 8.0, 100.0, 0.0), (4, 6.0, 90.0, 0.0), 60),
    node(3, 2, "Egypt", "Cairo", (16, 64.0, 1000.0, 0.0), (0, 0.0, 0.0, 0.0), 5000, PUBLIC6, True),
    node(4, 2, "Egypt", "Cairo", (2, 4.0, 50.0, 0.0), (3, 1.0, 0.0, 0.0), 10),
]


def ids(result):
    return [n["node_id"] for n in result["nodes"]]


@pytest.fixture
def info(monkeypatch, capsys):
    monkeypatch.setattr(zos_node_info, "time", FrozenClock)
    return module_runner(monkeypatch, capsys, zos_node_info.main, lambda: FakeExplorer(farms=FARMS, nodes=NODES))


def test_lists_all_nodes_with_resource_module_keys(info):
    result = info({})
    assert result["changed"] is False
    assert ids(result) == ["Node1", "Node2", "Node3", "Node4"]
    first = result["nodes"][0]
    assert first["farm_id"] == 1 and first["farm_name"] == "freefarm"
    assert first["free_resources"] == {"cru": 6, "mru": 28.0, "sru": 450.0, "hru": 4000.0}
    assert first["public_ipv4"] == "192.0.2.120/24" and first["public_ipv6"] == "2001:db8:5e::f5/64"
    assert first["wg_ports"] == [6001] and first["public_key_hex"] == "01" * 32
    assert first["up"] is True and first["location"]["city"] == "Ghent"


def test_free_resources_never_negative(info):
    overbooked = info({"node_id": "Node4"})["nodes"][0]
    assert overbooked["free_resources"]["cru"] == 0


def test_filter_by_farm_id_and_name(info):
    assert ids(info({"farm_id": 2})) == ["Node3", "Node4"]
    assert ids(info({"farm_name": "freefarm"})) == ["Node1", "Node2"]


def test_unknown_farm_fails(info):
    result = info({"farm_id": 99})
    assert result["failed"] is True
    assert result["msg"].startswith("Farm 99 does not exist in the explorer at http://explorer.test/explorer")
    assert result["failure"]["status"] == 404
    assert info({"farm_name": "nofarm"})["msg"] == (
        "Farm nofarm does not exist in the explorer at http://explorer.test/explorer")


def test_farm_id_and_name_must_agree(info):
    result = info({"farm_id": 2, "farm_name": "freefarm"})
    assert result["msg"] == "farm_id 2 and farm_name freefarm name different farms (freefarm has id 1)"


def test_filter_by_location(info):
    assert ids(info({"country": "Egypt"})) == ["Node3", "Node4"]
    assert ids(info({"city": "Ghent"})) == ["Node1", "Node2"]
    assert info({"country": "Atlantis"})["nodes"] == []


def test_filter_by_free_capacity_not_total(info):
    # Node2 has 4 cores in total but all are reserved.
    assert ids(info({"min_cru": 4})) == ["Node1", "Node3"]
    assert ids(info({"min_mru": 30})) == ["Node3"]
    assert ids(info({"min_sru": 100, "min_hru": 1000})) == ["Node1"]


def test_filter_by_public_addresses(info):
    assert ids(info({"public_ipv4": True})) == ["Node1"]
    assert ids(info({"public_ipv6": True})) == ["Node1", "Node3"]
    assert ids(info({"public_ipv4": False})) == ["Node2", "Node3", "Node4"]


def test_filter_by_free_to_use(info):
    assert ids(info({"free_to_use": True})) == ["Node3"]


def test_filter_by_liveness(info):
    assert ids(info({"up": True})) == ["Node1", "Node2", "Node4"]
    assert ids(info({"up": False})) == ["Node3"]
    assert ids(info({"up": True, "up_within": 20})) == ["Node4"]
    # The bounds are exact: a node last seen up_within seconds ago is still up.
    assert ids(info({"up": True, "up_within": 10})) == ["Node4"]
    assert ids(info({"up": True, "up_within": 9})) == []
    assert ids(info({"up": True, "up_within": 10000})) == ["Node1", "Node2", "Node3", "Node4"]


def test_node_by_id_respects_other_filters(info):
    assert ids(info({"node_id": "Node3"})) == ["Node3"]
    assert info({"node_id": "Node3", "farm_id": 1})["nodes"] == []
    assert info({"node_id": "Node3", "country": "Belgium"})["nodes"] == []


def test_unknown_node_fails(info):
    result = info({"node_id": "Nope"})
    assert result["msg"].startswith("Node Nope does not exist in the explorer")


def test_empty_grid_returns_empty_list(info):
    assert info({}, FakeExplorer())["nodes"] == []


def test_explorer_error_is_structured(info, monkeypatch, capsys):
    result = run_module(monkeypatch, capsys, zos_node_info.main,
                        {"explorer_url": "http://127.0.0.1:9/explorer", "explorer_retries": 0},
                        unreachable_explorer())
    assert result["msg"].startswith("Failed to list nodes: cannot reach the explorer at http://127.0.0.1:9/explorer")
    assert result["failure"]["method"] == "GET" and result["failure"]["path"] == "/nodes"


def test_identity_options_from_group_defaults_are_accepted(info):
    result = info({"identity_name": "alice", "identity_seed": "00" * 32})
    assert not result.get("failed") and ids(result) == ["Node1", "Node2", "Node3", "Node4"]
