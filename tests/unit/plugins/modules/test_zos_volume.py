# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

import pytest

from ansible_collections.threefold.grid.plugins.module_utils import _payment, _payment_checks
from ansible_collections.threefold.grid.plugins.modules import zos_volume
from ansible_collections.threefold.grid.tests.unit.plugins.modules.sample_grid import (
    DOWN_5,
    FREE_4,
    PUBLIC_1,
    sample_runner,
)


@pytest.fixture
def volume(monkeypatch, capsys, explorer):
    return sample_runner(monkeypatch, capsys, zos_volume.main, explorer, wait_sleep=0)


def vol_args(**extra):
    args = {"name": "data", "node_id": PUBLIC_1["node_id"], "size": 10}
    args.update(extra)
    return args


def test_creates_ssd_volume_and_returns_its_id(volume, explorer):
    result = volume(vol_args())
    assert result["changed"] is True and result["action"] == "create"
    got = result["volume"]
    assert got["volume_id"] == "1-1" and got["reservation_id"] == 1
    assert (got["node_id"], got["size"], got["type"]) == (PUBLIC_1["node_id"], 10, "SSD")
    assert got["workload_state"] == "ok" and got["results"][0]["data_json"] == {"volume_id": "1-1"}
    data = explorer.reservations[1]["data_reservation"]
    assert data["volumes"] == [{"workload_id": 1, "node_id": PUBLIC_1["node_id"], "size": 10, "type": 1,
                                "stats_aggregator": [], "farmer_tid": 0}]
    assert data["currencies"] == ["TFT"]
    tag = json.loads(explorer.reservations[1]["metadata"])["ansible"]
    assert (tag["name"], tag["kind"]) == ("data", "volume") and len(tag["fp"]) == 64


def test_rerun_is_unchanged_and_resize_replaces(volume, explorer):
    volume(vol_args())
    again = volume(vol_args())
    assert again["changed"] is False and again["volume"]["volume_id"] == "1-1"
    assert len(explorer.posted()) == 1
    bigger = volume(vol_args(size=20), diff=True)
    assert bigger["action"] == "replace" and bigger["volume"]["volume_id"] == "2-1"
    assert bigger["volume"]["replaced"] == [1] and explorer.cancelled() == [1]
    assert bigger["diff"]["before"]["size"] == 10 and bigger["diff"]["after"]["size"] == 20


def test_free_node_offers_freetft_by_default(volume, explorer):
    volume(vol_args(node_id=FREE_4["node_id"]))
    assert explorer.reservations[1]["data_reservation"]["currencies"] == ["FreeTFT"]


def test_check_mode_registers_nothing(volume, explorer):
    result = volume(vol_args(), check_mode=True)
    assert result["changed"] is True and "estimate" in result
    assert result["volume"]["reservation_id"] is None and result["volume"]["volume_id"] is None
    assert result["volume"]["escrow"]["amount"] == result["estimate"]["amount"]
    assert explorer.writes() == []


@pytest.mark.parametrize("args, message", [
    ({"type": "HDD"}, "type: 'HDD' volumes are refused by the explorer"),
    ({"size": 0}, "size: 0 must be at least 1"),
    ({"node_id": DOWN_5["node_id"]}, "node_id: node %r is down" % DOWN_5["node_id"]),
    ({"duration": "30m"}, "duration: '30m' is shorter than the 1 hour minimum"),
])
def test_invalid_volumes_fail_before_signing(volume, explorer, args, message):
    result = volume(vol_args(**args))
    assert result["failed"] is True and message in result["msg"]
    assert explorer.writes() == []


def test_absent_cancels_then_nothing_to_do(volume, explorer):
    volume(vol_args())
    gone = volume({"name": "data", "state": "absent"})
    assert gone["changed"] is True and gone["action"] == "cancel" and explorer.cancelled() == [1]
    assert gone["volume"]["state"] == "deleted"
    assert volume({"name": "data", "state": "absent"})["changed"] is False


def test_failure_after_paying_returns_the_payment(volume, explorer, monkeypatch):
    paid = {"changed": True, "transaction_hash": "ab" * 32, "amount": "0.3456000", "memo": "1"}
    monkeypatch.setattr(_payment_checks, "precheck_payment", lambda session, payment, estimate: None)
    monkeypatch.setattr(_payment, "pay_escrow", lambda session, rid, escrow, payment, **kw: dict(paid))
    explorer.escrow = {"address": "GESCROW", "asset": "TFT:GISSUER", "details": [{"farmer_id": 2, "total_amount": 3456000}]}
    explorer.deploy = None  # the node never reports
    result = volume(vol_args(payment={"stellar_secret": "S" + "A" * 55}, wait_timeout=0))
    assert result["failed"] is True and "Timeout after 0s" in result["msg"]
    assert result["volume"]["reservation_id"] == 1 and result["volume"]["payment"] == paid
