# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.threefold.grid.plugins.module_utils import _payment, _waiter
from ansible_collections.threefold.grid.plugins.modules import zos_payment
from ansible_collections.threefold.grid.tests.unit.plugins.grid_fake import EXPLORER_URL, FakeExplorer, fake_session

SECRET = "SBKGCMBY56MHTT4EGE3YJIYL4CPWKSGJ7VDEQF4J3B3VO7D4VRAUJM6H"
ESCROW = {"address": "GBQ3GKHP5ACY4XZ7VE3ILIAVDOTDLXGTGXSNGI6HJQRH5VOFA4QTOBVU",
          "asset": "TFT:GA47YZA3PKFUZMPLQ3B5F2E3CJIB57TGGU7SPCQT2WAEYKN766PWIMB3",
          "details": [{"farmer_id": 1, "total_amount": 34546420}]}


class Exit(Exception):
    pass


class Fail(Exception):
    pass


@pytest.fixture(autouse=True)
def module_exits(monkeypatch):
    def exit_json(self, **kwargs):
        raise Exit(kwargs)

    def fail_json(self, **kwargs):
        raise Fail(kwargs)
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.exit_json", exit_json)
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.fail_json", fail_json)


def Explorer(next_action=None, rid=None, down=False):
    """The fake explorer holding reservation ``rid`` in ``next_action`` (the nodes do not move it)."""
    explorer = FakeExplorer(users=[{"id": 1, "name": "alice.3bot", "pubkey": "00" * 32}])
    explorer.nodes_report = False
    explorer.down = down
    if rid is not None:
        explorer.add({"volumes": [{"workload_id": 1, "node_id": "n1"}]}, rid=rid, next_action=next_action)
    return explorer


def run(args, monkeypatch, explorer=None, check_mode=False):
    if explorer is not None:
        explorer.install(monkeypatch)
    args = dict(args, explorer_url=EXPLORER_URL)
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    with patch_module_args(args):
        with pytest.raises((Exit, Fail)) as info:
            zos_payment.main()
    return info.type, info.value.args[0]


def test_payment_block_built_from_options_and_env(monkeypatch):
    calls = []

    def fake_pay(session, rid, escrow, payment, from_task=False):
        assert from_task is True
        calls.append((rid, escrow, payment, session.check_mode))
        return {"changed": True, "transaction_hash": "ab" * 32, "amount": "3.4546420", "total_amount": "3.4546420",
                "asset": escrow["asset"], "destination": escrow["address"], "memo": str(rid),
                "already_paid": "0.0000000", "free": False, "next_action": "deploy"}
    monkeypatch.setattr(zos_payment, "pay_escrow", fake_pay)
    monkeypatch.setenv("TFGRID_STELLAR_SECRET", SECRET)
    kind, result = run({"reservation_id": 42, "escrow": ESCROW, "max_amount": "5", "wait_for": "deployed"},
                       monkeypatch, check_mode=True)
    assert kind is Exit
    (rid, escrow, payment, check_mode), = calls
    assert (rid, escrow, check_mode) == (42, ESCROW, True)
    assert payment == {"stellar_secret": SECRET, "horizon_url": None, "max_amount": "5", "wait": True,
                       "wait_for": "deployed", "wait_timeout": 600, "wait_sleep": 5}
    assert result["changed"] is True and result["reservation_id"] == 42 and result["memo"] == "42"
    assert SECRET not in json.dumps(result)


def test_payment_error_becomes_failure_without_secret(monkeypatch):
    def fake_pay(session, rid, escrow, payment, from_task=False):
        raise _payment.PaymentError("Failed to pay reservation 42: account G... has no trustline for TFT",
                                    "no_trustline", {"reservation_id": 42})
    monkeypatch.setattr(zos_payment, "pay_escrow", fake_pay)
    kind, result = run({"reservation_id": 42, "escrow": ESCROW, "stellar_secret": SECRET}, monkeypatch)
    assert kind is Fail
    assert result["failure"] == {"code": "no_trustline", "reservation_id": 42}
    assert "no trustline" in result["msg"] and SECRET not in json.dumps(result)


def test_id_only_reservation_waiting_for_payment_needs_escrow(monkeypatch):
    kind, result = run({"reservation_id": 42, "stellar_secret": SECRET}, monkeypatch, Explorer(2, rid=42))
    assert kind is Fail
    assert result["failure"]["code"] == "escrow_required" and "as the escrow option" in result["msg"]


def test_id_only_reservation_past_payment_is_unchanged(monkeypatch):
    kind, result = run({"reservation_id": 42}, monkeypatch, Explorer(3, rid=42))
    assert kind is Exit
    assert result["changed"] is False and result["next_action"] == "deploy" and result["transaction_hash"] is None


def test_id_only_unknown_reservation(monkeypatch):
    kind, result = run({"reservation_id": 99}, monkeypatch, Explorer())
    assert kind is Fail
    assert result["failure"]["code"] == "reservation_not_found" and result["failure"]["status"] == 404
    assert "reservation 99 does not exist" in result["msg"]


def test_free_escrow_pays_nothing_and_needs_no_secret(monkeypatch):
    kind, result = run({"reservation_id": 7, "escrow": {"address": "", "asset": "", "details": None}}, monkeypatch,
                       Explorer(3, rid=7))
    assert kind is Exit
    assert result["free"] is True and result["changed"] is False and result["transaction_hash"] is None


class FakeTime:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.mark.parametrize("wait_timeout, wait_sleep, sleeps", [
    (0, 5, []),
    (3, 1, [0.1] * 20 + [0.5, 0.5]),  # a quarter of the 2 s waited, then cut short by the deadline
    (3, 0, []),
])
def test_waiting_for_the_deployment_follows_the_schedule_and_the_wait_options(monkeypatch, wait_timeout, wait_sleep,
                                                                              sleeps):
    fake_time = FakeTime()
    monkeypatch.setattr(_waiter.time, "monotonic", fake_time.monotonic)
    monkeypatch.setattr(_waiter.time, "sleep", fake_time.sleep)
    explorer = Explorer(3, rid=7)

    def handler(request, serve=explorer.handler):
        if wait_sleep == 0:
            fake_time.now += 0.25  # polls back to back: only the requests' own time passes
        return serve(request)
    monkeypatch.setattr(explorer, "handler", handler)
    payment = {"wait": True, "wait_for": "deployed", "wait_timeout": wait_timeout, "wait_sleep": wait_sleep}
    with pytest.raises(_payment.PaymentError) as caught:
        _payment.pay_escrow(fake_session(explorer, None), 7, ESCROW, payment)
    assert caught.value.code == "wait_timeout"
    assert caught.value.msg.startswith("Timeout after %ds waiting for reservation 7 to be deployed" % wait_timeout)
    assert fake_time.sleeps == pytest.approx(sleeps)
    reads = explorer.paths("/explorer/reservations/7")
    if wait_sleep:
        assert fake_time.now == pytest.approx(wait_timeout) and len(reads) == 1 + len(sleeps) + 1
    else:
        assert fake_time.now >= wait_timeout and len(reads) == round(fake_time.now / 0.25)


def test_above_max_amount_fails_before_reading_anything(monkeypatch):
    kind, result = run({"reservation_id": 7, "escrow": ESCROW, "max_amount": "3.4546419", "stellar_secret": SECRET},
                       monkeypatch, Explorer(down=True))
    assert kind is Fail
    assert result["failure"]["code"] == "above_max_amount"
    assert result["failure"]["max_amount"] == "3.4546419"


PLANNED = {"address": None, "asset": "TFT", "amount": "0.7182000", "total_amount": 7182000, "memo": None,
           "details": [{"farmer_id": 3, "total_amount": 7182000}], "estimated": True}


def test_check_mode_after_a_planned_reservation_reports_the_estimate(monkeypatch):
    # In check mode a resource module returns reservation_id null and its escrow as estimated.
    explorer = Explorer()
    kind, result = run({"reservation_id": None, "escrow": PLANNED, "stellar_secret": SECRET}, monkeypatch,
                       explorer, check_mode=True)
    assert kind is Exit, result
    assert result["changed"] is True and result["amount"] == "0.7182000"
    assert result["destination"] is None and result["transaction_hash"] is None and result["free"] is False
    assert explorer.requests == []


@pytest.mark.parametrize("check_mode, args, code", [
    (False, {"escrow": PLANNED}, "reservation_id_required"),
    (True, {"escrow": PLANNED, "max_amount": "0.5"}, "above_max_amount"),
])
def test_a_planned_reservation_is_never_paid(monkeypatch, check_mode, args, code):
    kind, result = run(dict(args, reservation_id=None, stellar_secret=SECRET), monkeypatch, Explorer(),
                       check_mode=check_mode)
    assert kind is Fail and result["failure"]["code"] == code
