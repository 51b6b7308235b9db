# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A reservation registered by a run that was killed before paying is paid on the next run, not replaced.

The payments go through the real payment code to the fake Horizon of test_stellar; the explorer is the fake
explorer of test_lifecycle (alice.3bot, node A of farm 1).
"""

from __future__ import annotations

import os
import stat

import pytest
from stellar_sdk import Keypair

from ansible_collections.threefold.grid.plugins.module_utils import _payment, _pricing, _stellar
from ansible_collections.threefold.grid.plugins.module_utils._amounts import amount_to_stroops, stroops_to_amount
from ansible_collections.threefold.grid.plugins.module_utils._errors import LifecycleError
from ansible_collections.threefold.grid.plugins.module_utils._escrow_cache import KEPT, EscrowCache
from ansible_collections.threefold.grid.plugins.module_utils._payment import pay_escrow
from ansible_collections.threefold.grid.tests.unit.plugins.grid_fake import EXPLORER_URL
from ansible_collections.threefold.grid.tests.unit.plugins.module_utils.test_lifecycle import (
    LIFE,
    NOW,
    PUBKEY,
    TID,
    add,
    container,
    data_with,
    deployed,
    grid_explorer,
    lifecycle,
    spec,
    tag_for,
)
from ansible_collections.threefold.grid.tests.unit.plugins.module_utils.test_stellar import (
    HORIZON,
    PASSPHRASE,
    FakeHorizon,
)


@pytest.fixture
def explorer():
    return grid_explorer()


TFT = "TFT:" + _stellar.localgrid_issuers(PASSPHRASE)["TFT"]
# The reads of a reservation that is paid: by the payment (twice, the second just before signing), then deployed.
UNTIL_PAID = [{"next_action": 2}, {"next_action": 2}, {"next_action": 3}, deployed()]


@pytest.fixture
def ledger(monkeypatch):
    """A payer holding 100 TFT and the identity's escrow account, on a fake Horizon."""
    fake = FakeHorizon()
    monkeypatch.setattr(_stellar, "new_http_client", lambda: fake)
    fake.payer = Keypair.random()
    fake.escrow = Keypair.random().public_key
    fake.create(fake.payer.public_key, xlm="10", trust=[TFT])
    fake.credit(fake.payer.public_key, TFT, "100")
    fake.create(fake.escrow, xlm="5", trust=[TFT])
    return fake


def payment_block(ledger):
    return {"stellar_secret": ledger.payer.secret, "horizon_url": HORIZON}


def price(data):
    return int(_pricing.estimate(data, {"2fi9ZZiBGW4G9pnrN656bMfW6x55RSoHDeMrd9pgSA8T": 1}, NOW - 3600)["total_amount"])


def killed_run_left(explorer, lc, rid=4, age=3600):
    """Reservation `rid` named web, registered `age` seconds ago by a run killed before it paid."""
    data = data_with(container())
    add(explorer, rid, data, tag_for(lc, "web", "container", spec()), next_action=2, epoch=NOW - age)
    return data


def earlier_paid_reservation(explorer, lc, ledger, rid=3):
    """A reservation of this identity that this wallet paid (to its escrow, memo "3") and that was deployed."""
    add(explorer, rid, data_with(container(ip="10.1.3.20")), tag_for(lc, "db", "container", spec()), next_action=2)
    pay_escrow(lc.session, rid, {"address": ledger.escrow, "asset": TFT, "details": [{"total_amount": 1000}]},
               payment_block(ledger))
    explorer.reservations[rid].update(deployed())


def memo_total(ledger, memo):
    return sum(amount_to_stroops(p["amount"]) for p in ledger.payments
               if p["transaction"].get("memo") == memo and p["to"] == ledger.escrow)


def test_escrow_from_this_controller_cache_pays_the_reservation(explorer, ledger):
    lc = lifecycle(explorer)
    killed_run_left(explorer, lc)
    explorer.script[4] = list(UNTIL_PAID)
    EscrowCache(EXPLORER_URL, TID, PUBKEY).remember(4, {"address": ledger.escrow, "asset": TFT,
                                                        "details": [{"farmer_id": 1, "total_amount": 5000}]})
    result = lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE, wait_sleep=1,
                               payment=payment_block(ledger))
    assert explorer.posts() == [] and explorer.cancelled() == []
    assert result.changed is True and result.reservation["id"] == 4 and result.reservation["workload_state"] == "ok"
    assert result.payment["amount"] == stroops_to_amount(5000) and memo_total(ledger, "4") == 5000
    assert any("kept on this controller when the reservation was registered" in w for w in lc.session.warnings)


def test_escrow_from_the_wallet_history_and_pricing_pays_the_reservation(explorer, ledger):
    lc = lifecycle(explorer)
    earlier_paid_reservation(explorer, lc, ledger)
    data = killed_run_left(explorer, lc)
    explorer.script[4] = list(UNTIL_PAID)
    result = lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE, wait_sleep=1,
                               payment=payment_block(ledger))
    assert explorer.posts() == [] and explorer.cancelled() == []
    assert result.reservation["id"] == 4 and memo_total(ledger, "4") == price(data) > 0
    assert result.payment["destination"] == ledger.escrow and result.payment["asset"] == TFT
    assert any("the escrow account this wallet paid before" in w for w in lc.session.warnings)


def test_the_next_run_after_paying_pays_nothing_more(explorer, ledger):
    lc = lifecycle(explorer)
    earlier_paid_reservation(explorer, lc, ledger)
    killed_run_left(explorer, lc)
    explorer.script[4] = [{"next_action": 2}, {"next_action": 2}]  # the explorer has not seen the payment yet
    with pytest.raises(LifecycleError):
        lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE, wait_timeout=5,
                          wait_sleep=1, payment=payment_block(ledger))
    paid_once = memo_total(ledger, "4")
    explorer.script[4] = [{"next_action": 2}] * 50
    with pytest.raises(LifecycleError) as error:  # the wallet's history holds the memo: waited on, never paid again
        lifecycle(explorer).ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE,
                                           wait_timeout=5, wait_sleep=1, payment=payment_block(ledger))
    assert "was paid by this wallet" in error.value.msg
    assert memo_total(ledger, "4") == paid_once > 0 and explorer.posts() == []


def test_without_cache_or_history_it_says_so_and_registers_again(explorer, ledger):
    lc = lifecycle(explorer)
    killed_run_left(explorer, lc)
    explorer.script[4] = [{"next_action": 6}]
    explorer.script[5] = list(UNTIL_PAID)
    explorer.escrow = {"address": ledger.escrow, "asset": TFT, "details": [{"farmer_id": 1, "total_amount": 700}]}
    result = lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE, wait_sleep=1,
                               payment=payment_block(ledger))
    assert result.action == "replace" and result.replaced == [4] and result.reservation["id"] == 5
    assert memo_total(ledger, "4") == 0 and memo_total(ledger, "5") == 700
    assert any("its escrow details can not be recovered (it was registered on another controller (or its cache was "
               "cleared) and the wallet's latest payments show no earlier payment" in w for w in lc.session.warnings)


def test_a_payment_to_another_identitys_reservation_is_no_evidence(explorer, ledger):
    lc = lifecycle(explorer)
    earlier_paid_reservation(explorer, lc, ledger)
    explorer.reservations[3]["customer_tid"] = TID + 1
    killed_run_left(explorer, lc)
    escrow, how = lc.registrar.recover_escrow(explorer.reservations[4], payment_block(ledger))
    assert escrow is None and "no earlier payment to this identity's escrow account" in how


def test_registering_keeps_the_escrow_before_paying(explorer, name_index_dir):
    lc = lifecycle(explorer)
    rid, escrow = lc.registrar.register(data_with(container()), tag_for(lc, "web", "container", spec()))
    kept = EscrowCache(EXPLORER_URL, TID, PUBKEY).recall(rid)
    assert kept == {"address": "GESCROW", "asset": "TFT:GISSUER", "details": escrow["details"]}
    path = EscrowCache(EXPLORER_URL, TID, PUBKEY).file.path
    assert os.path.dirname(path) == str(name_index_dir) and stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_the_cache_keeps_the_newest_reservations_only():
    cache = EscrowCache(EXPLORER_URL, TID, PUBKEY)
    for rid in range(1, KEPT + 3):
        cache.remember(rid, {"address": "G%d" % rid, "asset": TFT, "details": []})
    assert cache.recall(1) is None and cache.recall(2) is None and cache.recall(KEPT + 2)["address"] == "G%d" % (KEPT + 2)
    cache.remember(KEPT + 5, {"address": "", "details": []})  # a free reservation: nothing to remember
    assert cache.recall(KEPT + 5) is None


class Killed(BaseException):
    """What SIGKILL does to a run: nothing after this point runs, not even an except clause for Exception."""


def test_a_run_killed_between_registering_and_paying_is_finished_by_the_next_run(explorer, ledger, monkeypatch):
    explorer.escrow = {"address": ledger.escrow, "asset": TFT, "details": [{"farmer_id": 1, "total_amount": 4200}]}
    killed = lifecycle(explorer)

    def kill(*args, **kwargs):
        raise Killed()
    with monkeypatch.context() as patch:
        patch.setattr(_payment, "pay_escrow", kill)
        with pytest.raises(Killed):
            killed.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE,
                                  payment=payment_block(ledger))
    assert [rid for rid, r in explorer.reservations.items() if r["next_action"] == 2] == [1]
    assert ledger.payments == []
    explorer.reservations[1]["epoch"] = NOW - 3600  # the next run comes an hour later
    explorer.script[1] = [{"next_action": 2}] + UNTIL_PAID  # first read through the name index the killed run wrote
    result = lifecycle(explorer).ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE,
                                                wait_sleep=1, payment=payment_block(ledger))
    assert result.reservation["id"] == 1 and result.reservation["workload_state"] == "ok"
    assert len(explorer.posted()) == 1 and explorer.cancelled() == [] and memo_total(ledger, "1") == 4200
