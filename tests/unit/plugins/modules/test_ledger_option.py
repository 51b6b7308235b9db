# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The ``ledger`` option of the resource modules (zos_volume and zos_kubernetes stand for all: ResourceRunner)."""

from __future__ import annotations

import time

import pytest

from ansible_collections.threefold.grid.plugins.module_utils import _payment, _reservation_wait
from ansible_collections.threefold.grid.plugins.module_utils._stellar_envelope import Keypair
from ansible_collections.threefold.grid.plugins.modules import zos_kubernetes, zos_volume
from ansible_collections.threefold.grid.tests.unit.plugins.module_utils.test_ledger import FakeHorizon
from ansible_collections.threefold.grid.tests.unit.plugins.modules.sample_grid import PUBLIC_1, PUBLIC_2, sample_runner
from ansible_collections.threefold.grid.tests.unit.plugins.modules.test_zos_volume import vol_args

SECRET = Keypair.from_raw_seed(b"\x05" * 32).secret
PAYER = Keypair.from_secret(SECRET).public_key
OTHER_PAYER = Keypair.from_raw_seed(b"\x07" * 32).public_key
ESCROW, FARMER = "GESCROW", "GFARMER"


@pytest.fixture
def horizon(monkeypatch):
    fake = FakeHorizon()
    monkeypatch.setattr(_payment, "horizon_settings", lambda session, url=None: (url or "http://horizon", "local"))
    monkeypatch.setattr(_payment, "horizon_at", lambda session, url: fake)
    return fake


@pytest.fixture
def volume(monkeypatch, capsys, explorer):
    return sample_runner(monkeypatch, capsys, zos_volume.main, explorer, wait_sleep=0)


def test_without_the_option_horizon_is_not_read_and_nothing_is_added(volume, horizon):
    result = volume(vol_args())
    assert "ledger" not in result["volume"] and "unmatched_payments" not in result
    assert horizon.reads == []


def test_the_ledger_of_the_returned_reservation_and_the_unmatched_payments(volume, horizon, explorer):
    volume(vol_args())
    horizon.pay(PAYER, ESCROW, "0.0100000", "1")
    horizon.pay(ESCROW, FARMER, "0.0100000", "1")
    horizon.pay(PAYER, ESCROW, "0.5000000", "4711")
    posted = len(explorer.posted())
    again = volume(vol_args(ledger_account=PAYER))
    assert again["changed"] is False and len(explorer.posted()) == posted
    ledger = again["volume"]["ledger"]
    assert (ledger["escrow"], ledger["paid"], ledger["paid_out"], ledger["refunded"], ledger["held"]) == (
        ESCROW, "0.0100000", "0.0100000", "0.0000000", "0.0000000")
    assert [m["kind"] for m in ledger["movements"]] == ["payment", "payout"]
    assert [(u["reason"], u["memo"]) for u in again["unmatched_payments"]] == [("no_reservation", "4711")]
    assert horizon.reads == [PAYER, ESCROW]


def test_the_payer_defaults_to_the_payment_blocks_wallet(volume, horizon):
    volume(vol_args())
    horizon.pay(PAYER, ESCROW, "0.0100000", "1")
    horizon.pay(OTHER_PAYER, ESCROW, "0.0200000", "1")
    again = volume(vol_args(ledger=True, payment={"stellar_secret": SECRET}))
    assert horizon.reads[0] == PAYER
    # Every payment to the escrow for the memo counts, whoever made it.
    assert again["volume"]["ledger"]["paid"] == "0.0300000"
    assert SECRET not in str(again)


def test_a_cancelled_reservation_shows_its_refund(volume, horizon):
    volume(vol_args())
    horizon.pay(PAYER, ESCROW, "0.0100000", "1")
    horizon.pay(ESCROW, PAYER, "0.0100000", "1")
    gone = volume({"name": "data", "state": "absent", "ledger_account": PAYER})
    assert gone["changed"] and gone["volume"]["ledger"]["refunded"] == "0.0100000"
    assert gone["unmatched_payments"] == []


@pytest.mark.parametrize("args, message", [
    ({"ledger": True}, "ledger: no account to read the ledger of: set ledger_account"),
    ({"ledger": True, "payment": {"stellar_secret": "S-not-a-seed"}},
     "ledger: the payment block's stellar_secret is not a valid Stellar secret seed"),
    ({"ledger_account": "GNOTANACCOUNT"}, "ledger_account 'GNOTANACCOUNT' is not a Stellar account address"),
])
def test_a_ledger_without_a_valid_account_fails_before_signing(volume, horizon, explorer, args, message):
    result = volume(vol_args(**args))
    assert result["failed"] and message in result["msg"]
    assert explorer.writes() == [] and horizon.reads == []
    assert "S-not-a-seed" not in result["msg"]


def test_check_mode_reads_the_ledger_and_a_new_reservation_has_none(volume, horizon, explorer):
    result = volume(vol_args(ledger_account=PAYER), check_mode=True)
    assert result["changed"] and explorer.writes() == []
    assert result["volume"]["ledger"] is None and result["unmatched_payments"] == []


def test_every_vm_of_a_cluster_has_its_ledger(monkeypatch, capsys, explorer, horizon):
    monkeypatch.setattr(_reservation_wait.time, "sleep", lambda seconds: None)
    explorer.add({"networks": [{"name": "net", "workload_id": 1, "iprange": "10.1.0.0/16", "network_resources": [
        {"node_id": PUBLIC_1["node_id"], "iprange": "10.1.3.0/24"},
        {"node_id": PUBLIC_2["node_id"], "iprange": "10.1.4.0/24"}]}],
        "expiration_reservation": int(time.time()) + 86400}, "net", kind="network")
    k8s = sample_runner(monkeypatch, capsys, zos_kubernetes.main, explorer, wait_sleep=0)
    args = {"name": "k8s", "network_name": "net", "cluster_secret": "token", "master": {"node_id": PUBLIC_1["node_id"]},
            "workers": [{"name": "w1", "node_id": PUBLIC_2["node_id"]}], "duration": "2h"}
    first = k8s(args)
    master, worker = first["kubernetes"]["master"]["reservation_id"], first["kubernetes"]["workers"][0]["reservation_id"]
    horizon.pay(PAYER, ESCROW, "0.0100000", str(master))
    horizon.pay(PAYER, ESCROW, "0.0200000", str(worker))
    again = k8s(dict(args, ledger_account=PAYER))
    assert again["kubernetes"]["master"]["ledger"]["paid"] == "0.0100000"
    assert again["kubernetes"]["workers"][0]["ledger"]["paid"] == "0.0200000"
