# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.threefold.grid.plugins.modules import zos_farm_info
from ansible_collections.threefold.grid.tests.unit.plugins.grid_fake import (
    FakeExplorer,
    module_runner,
    run_module,
    unreachable_explorer,
)

FARMS = [
    {"id": 1, "name": "freefarm", "threebot_id": 3, "iyo_organization": "", "email": "f@example.com",
     "location": {"country": "Belgium", "city": "Ghent"}, "prefix_zero": "2001:db8:5e::/48",
     "wallet_addresses": [{"asset": "TFT", "address": "GABC"}],
     "resource_prices": [{"currency": 2, "cru": 1.0, "mru": 0.5, "hru": 0.01, "sru": 0.1, "nru": 0.0}]},
    {"id": 2, "name": "egypt-farm", "threebot_id": 4, "location": {"country": "Egypt", "city": "Cairo"}},
    {"id": 3, "name": "ghent-two", "threebot_id": 3, "location": {"country": "Belgium", "city": "Ghent"}},
]
NODES = [{"node_id": "A", "farm_id": 1, "location": {"country": "Belgium", "city": "Ghent"}},
         {"node_id": "B", "farm_id": 1, "location": {"country": "Belgium", "city": "Ghent"}},
         {"node_id": "C", "farm_id": 2, "location": {"country": "Egypt", "city": "Cairo"}}]


@pytest.fixture
def info(monkeypatch, capsys):
    return module_runner(monkeypatch, capsys, zos_farm_info.main, lambda: FakeExplorer(farms=FARMS, nodes=NODES))


def farm_ids(result):
    return [farm["farm_id"] for farm in result["farms"]]


def test_lists_every_farm(info):
    result = info({})
    assert result["changed"] is False and farm_ids(result) == [1, 2, 3]
    assert result["farms"][0] == {
        "farm_id": 1, "name": "freefarm", "threebot_id": 3, "iyo_organization": "",
        "location": {"country": "Belgium", "city": "Ghent"}, "wallet_addresses": [{"asset": "TFT", "address": "GABC"}],
        "resource_prices": FARMS[0]["resource_prices"], "prefix_zero": "2001:db8:5e::/48", "email": "f@example.com"}
    assert "node_count" not in result["farms"][0]


def test_farm_by_id(info):
    assert farm_ids(info({"farm_id": 2})) == [2]


def test_unknown_farm_id_fails(info):
    result = info({"farm_id": 42})
    assert result["failed"] is True
    assert result["msg"] == ("Farm 42 does not exist in the explorer at http://explorer.test/explorer: "
                             "mongo: no documents in result")
    assert result["failure"] == {"status": 404, "method": "GET", "path": "/farms/42",
                                 "message": "mongo: no documents in result"}


def test_filters(info):
    assert farm_ids(info({"name": "egypt-farm"})) == [2]
    assert info({"name": "nothing"})["farms"] == []
    assert farm_ids(info({"owner": 3})) == [1, 3]
    assert farm_ids(info({"country": "Belgium"})) == [1, 3]
    assert farm_ids(info({"farm_id": 2, "country": "Belgium"})) == []


def test_node_count(info):
    result = info({"with_node_count": True})
    assert [farm["node_count"] for farm in result["farms"]] == [2, 1, 0]


def test_empty_directory(info):
    assert info({}, FakeExplorer())["farms"] == []


def test_unreachable_explorer(monkeypatch, capsys):
    result = run_module(monkeypatch, capsys, zos_farm_info.main,
                        {"explorer_url": "http://127.0.0.1:9/explorer", "explorer_retries": 0},
                        unreachable_explorer())
    assert result["msg"].startswith("Failed to list farms: cannot reach the explorer at http://127.0.0.1:9/explorer")
