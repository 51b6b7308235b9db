# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The _info modules of the resource kinds: filters, and the shape their resource module returns."""

from __future__ import annotations

import json

import pytest

from ansible_collections.threefold.grid.plugins.module_utils import _spec
from ansible_collections.threefold.grid.plugins.modules import (
    zos_container_info,
    zos_network_info,
    zos_volume,
    zos_volume_info,
    zos_zdb_info,
)
from ansible_collections.threefold.grid.tests.unit.plugins.grid_fake import FakeExplorer
from ansible_collections.threefold.grid.tests.unit.plugins.modules.sample_grid import (
    PUBLIC_1,
    PUBLIC_2,
    sample_runner,
)


@pytest.fixture
def volume(monkeypatch, capsys, explorer):
    return sample_runner(monkeypatch, capsys, zos_volume.main, explorer, wait_sleep=0)


@pytest.fixture
def info(monkeypatch, capsys, explorer):
    def run(main, **args):
        return sample_runner(monkeypatch, capsys, main, explorer)(args)
    return run


def volumes(explorer, volume):
    """web-data (app=web, node 1), db-data (app=db, node 2, sealed), old (cancelled)."""
    web = volume({"name": "web-data", "node_id": PUBLIC_1["node_id"], "size": 5, "labels": {"app": "web"}})
    volume({"name": "db-data", "node_id": PUBLIC_2["node_id"], "size": 5, "labels": {"app": "db"},
            "seal_labels": True})
    volume({"name": "old", "node_id": PUBLIC_1["node_id"], "size": 5})
    volume({"name": "old", "state": "absent"})
    return web


def test_volume_info_returns_what_zos_volume_returned(info, explorer, volume):
    web = volumes(explorer, volume)["volume"]
    found = info(zos_volume_info.main, name="web-data")
    assert found["changed"] is False and len(found["volumes"]) == 1
    listed = found["volumes"][0]
    assert set(listed) == set(web)
    for key in ("name", "reservation_id", "volume_id", "node_id", "size", "type", "state", "workload_state",
                "expires_at", "labels", "labels_sealed", "results"):
        assert listed[key] == web[key], key


@pytest.mark.parametrize("args, names", [
    ({}, ["web-data", "db-data"]),
    ({"labels": {"app": "web"}}, ["web-data"]),
    ({"labels": {"app": "db"}}, ["db-data"]),          # sealed, opened with the identity's seed
    ({"labels": {"app": "db", "env": "x"}}, []),
    ({"node_id": PUBLIC_2["node_id"]}, ["db-data"]),
    ({"states": ["deleted"]}, ["old"]),
    ({"states": ["live", "deleted"], "name": "old"}, ["old"]),
])
def test_volume_info_filters(info, explorer, volume, args, names):
    volumes(explorer, volume)
    found = info(zos_volume_info.main, **args)
    assert [v["name"] for v in found["volumes"]] == names


def test_other_kinds_are_not_listed(info, explorer, volume):
    volumes(explorer, volume)
    assert info(zos_container_info.main)["containers"] == []
    assert info(zos_zdb_info.main)["zdbs"] == []


def test_a_bad_label_filter_fails_clearly(info, explorer):
    result = info(zos_volume_info.main, labels={"app": ["a"]})
    assert result["failed"] is True and "labels: the value of app is a list" in result["msg"]


def test_network_info_lists_nodes_and_subnets(info, explorer):
    data = {"networks": [{"name": "net", "workload_id": 1, "iprange": "10.1.0.0/16", "network_resources": [
        {"node_id": PUBLIC_1["node_id"], "iprange": "10.1.3.0/24", "wireguard_listen_port": 6001}]}],
        "expiration_reservation": 2000000000}
    explorer.add(data, metadata=_spec.metadata_tag("net", "network", "f", {"labels": {"env": "prod"}}))
    found = info(zos_network_info.main, labels={"env": "prod"})["networks"]
    assert len(found) == 1
    assert found[0]["ip_range"] == "10.1.0.0/16" and found[0]["labels"] == {"env": "prod"}
    assert found[0]["nodes"] == [{"node_id": PUBLIC_1["node_id"], "subnet": "10.1.3.0/24",
                                  "wireguard_listen_port": 6001}]
    assert info(zos_network_info.main, node_id=PUBLIC_2["node_id"])["networks"] == []


def test_reservations_of_another_identity_are_not_listed(info, explorer):
    assert isinstance(explorer, FakeExplorer)
    explorer.users.append({"id": 99, "name": "bob.3bot", "pubkey": "00" * 32})
    rid = explorer.add({"volumes": [{"workload_id": 1, "node_id": PUBLIC_1["node_id"], "size": 1, "type": 1}]},
                       "theirs", kind="volume")
    explorer.reservations[rid]["customer_tid"] = 99
    assert json.dumps(info(zos_volume_info.main)["volumes"]).count("theirs") == 0


def test_zdb_info_returns_what_zos_zdb_returned(monkeypatch, capsys, info, explorer):
    from ansible_collections.threefold.grid.plugins.modules import zos_zdb
    # The sample nodes report no 0-DB result: registered without waiting, it is listed as pending.
    made = sample_runner(monkeypatch, capsys, zos_zdb.main, explorer, wait=False)(
        {"name": "backup", "node_id": PUBLIC_1["node_id"], "size": 2, "labels": {"role": "backup"}})
    assert made["changed"] is True and made["zdb"]["workload_state"] == "pending"
    listed = info(zos_zdb_info.main, labels={"role": "backup"})["zdbs"]
    assert len(listed) == 1 and set(listed[0]) == set(made["zdb"])
    for key in ("name", "reservation_id", "workload_id", "node_id", "size", "mode", "labels", "namespace", "port"):
        assert listed[0][key] == made["zdb"][key], key
