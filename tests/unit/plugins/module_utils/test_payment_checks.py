# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import time

import pytest

from stellar_sdk import Keypair

from ansible_collections.threefold.grid.plugins.module_utils import _pricing, _stellar
from ansible_collections.threefold.grid.plugins.module_utils._errors import PaymentError
from ansible_collections.threefold.grid.plugins.module_utils._payment import pay_escrow
from ansible_collections.threefold.grid.plugins.module_utils._payment_checks import precheck_payment
from ansible_collections.threefold.grid.tests.unit.plugins.grid_fake import FakeExplorer
from ansible_collections.threefold.grid.tests.unit.plugins.module_utils import test_stellar
from ansible_collections.threefold.grid.tests.unit.plugins.module_utils.test_stellar import PASSPHRASE, TFT, session_on

ledger = test_stellar.ledger  # the fake Horizon fixture, shared

# The TFT a `local` network's payment block resolves (localgrid derives its issuers from the passphrase).
LOCAL_TFT = "TFT:" + _stellar.localgrid_issuers(PASSPHRASE)["TFT"]
ESTIMATE = {"details": [{"farmer_id": 1, "total_amount": 30000000}], "total_amount": 30000000, "amount": "3.0000000",
            "currency": "TFT"}


def explorer_with_node():
    explorer = FakeExplorer(users=[{"id": 1, "name": "alice.3bot", "pubkey": "00" * 32}],
                            nodes=[{"node_id": "n1", "farm_id": 7}])
    explorer.nodes_report = False
    return explorer


@pytest.fixture
def payer(ledger):
    wallet = Keypair.random()
    ledger.create(wallet.public_key, xlm="10", trust=[LOCAL_TFT])
    ledger.credit(wallet.public_key, LOCAL_TFT, "5")
    return wallet


# ---- before registering ----------------------------------------------------------------------

def test_precheck_passes_for_a_wallet_that_can_pay(ledger, payer):
    precheck_payment(session_on(explorer_with_node()), {"stellar_secret": payer.secret}, ESTIMATE)
    assert ledger.submissions == 0


@pytest.mark.parametrize("change, payment, code", [
    (None, {"stellar_secret": "SNOTASECRET"}, "invalid_secret"),
    (None, {"stellar_secret": None}, "missing_secret"),
    (None, {"max_amount": "2.9999999"}, "above_max_amount"),
    (lambda l, w: l.accounts.pop(w.public_key), {}, "payer_missing"),
    (lambda l, w: l.accounts[w.public_key]["lines"].pop(LOCAL_TFT), {}, "no_trustline"),
    (lambda l, w: l.accounts[w.public_key]["lines"].__setitem__(LOCAL_TFT, 29999999), {}, "underfunded"),
])
def test_precheck_refuses_what_could_not_pay(ledger, payer, change, payment, code):
    if change is not None:
        change(ledger, payer)
    block = dict({"stellar_secret": payer.secret}, **payment)
    with pytest.raises(PaymentError) as info:
        precheck_payment(session_on(explorer_with_node()), block, ESTIMATE)
    assert info.value.code == code
    assert "nothing was registered" in info.value.msg
    assert payer.secret not in info.value.msg + json.dumps(info.value.to_failure())


def test_precheck_skips_free_estimates(ledger):
    for estimate in (dict(ESTIMATE, total_amount=0), dict(ESTIMATE, currency="FreeTFT")):
        precheck_payment(session_on(explorer_with_node()), {"stellar_secret": "SNOTASECRET"}, estimate)


# ---- escrow details from a task --------------------------------------------------------------

def _reservation(explorer, currencies=("TFT",)):
    epoch = int(time.time())
    data = {"containers": [{"node_id": "n1", "capacity": {"cpu": 1, "memory": 1024, "disk_size": 256,
                                                          "disk_type": 1}}],
            "currencies": list(currencies), "expiration_reservation": epoch + 7200}
    rid = explorer.add(data, next_action=2, epoch=epoch)
    price = _pricing.estimate(data, {"n1": 7}, epoch)["total_amount"]
    return rid, price


def _pay_task(ledger, explorer, rid, total, asset=TFT, address=None):
    escrow = {"address": address or ledger.escrow, "asset": asset, "details": [{"farmer_id": 7, "total_amount": total}]}
    return pay_escrow(session_on(explorer), rid, escrow, {"stellar_secret": ledger.payer.secret}, from_task=True)


def test_task_escrow_at_the_grid_price_is_paid(ledger):
    explorer = explorer_with_node()
    rid, price = _reservation(explorer)
    assert _pay_task(ledger, explorer, rid, price)["amount"] == _stellar.stroops_to_amount(price)
    assert ledger.submissions == 1


@pytest.mark.parametrize("bend, code, fragment", [
    (dict(total=+1), "escrow_mismatch", "costs at most"),
    (dict(asset="TFTA:" + Keypair.random().public_key), "escrow_mismatch", "not a currency reservation"),
    (dict(address="GNOTANADDRESS"), "invalid_escrow", "not a Stellar account address"),
])
def test_task_escrow_contradicting_the_grid_is_refused(ledger, bend, code, fragment):
    explorer = explorer_with_node()
    rid, price = _reservation(explorer)
    with pytest.raises(PaymentError) as info:
        _pay_task(ledger, explorer, rid, price + bend.get("total", 0), asset=bend.get("asset", TFT),
                  address=bend.get("address"))
    assert info.value.code == code and fragment in info.value.msg and "nothing was paid" in info.value.msg
    assert ledger.submissions == 0


def test_task_escrow_below_the_grid_price_pays_it_with_a_warning(ledger):
    explorer = explorer_with_node()
    rid, price = _reservation(explorer)
    session = session_on(explorer)
    escrow = {"address": ledger.escrow, "asset": TFT, "details": [{"farmer_id": 7, "total_amount": price - 1}]}
    result = pay_escrow(session, rid, escrow, {"stellar_secret": ledger.payer.secret}, from_task=True)
    assert result["changed"] is True and ledger.submissions == 1
    assert any("keeps waiting for payment" in warning for warning in session.warnings)
