# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""zos_wallet under Horizon faults (issue 13): reads are retried on a 502, and the friendbot and the
faucet, which are not idempotent, are asked again only when a read shows the earlier request did not apply."""

from __future__ import annotations

import pytest

from stellar_sdk import Keypair

from ansible_collections.threefold.grid.plugins.module_utils import _stellar
from ansible_collections.threefold.grid.plugins.module_utils._amounts import amount_to_stroops
from ansible_collections.threefold.grid.plugins.module_utils._errors import StellarError
from ansible_collections.threefold.grid.plugins.module_utils._wallet import WalletRunner
from ansible_collections.threefold.grid.tests.unit.plugins.module_utils.test_stellar import (
    HORIZON, PASSPHRASE, FakeHorizon, _failing_reads, grid, session_on)

TFT = "TFT:" + _stellar.localgrid_issuers(PASSPHRASE)["TFT"]


class FundingHorizon(FakeHorizon):
    """FakeHorizon with localgrid's friendbot and faucet. ``funding_faults`` is consumed by those two:
    "before" answers 502 without applying the request, "after" applies it and then answers 502."""

    def __init__(self):
        super().__init__()
        self.funding_faults = []
        self.funding_requests = []

    def get(self, url, params=None, max_content_size=None):
        path = url.rsplit("/", 1)[-1]
        if path not in ("friendbot", "faucet"):
            return super().get(url, params, max_content_size)
        self.funding_requests.append(path)
        fault = self.funding_faults.pop(0) if self.funding_faults else None
        if fault != "before":
            if path == "friendbot":
                assert params["addr"] not in self.accounts, "the friendbot was asked twice for one account"
                self.create(params["addr"], xlm="10000")
            else:
                self.credit(params["addr"], TFT, params["amount"])
        if fault:
            return self._json(502, {"type": "about:blank", "title": "Bad Gateway", "status": 502})
        return self._json(200, {"hash": "00" * 32})


@pytest.fixture
def horizon(monkeypatch):
    fake = FundingHorizon()
    monkeypatch.setattr(_stellar, "new_http_client", lambda: fake)
    monkeypatch.setattr(_stellar.time, "sleep", lambda seconds: None)
    return fake


def _fund(secret, amount="1000"):
    params = dict(network="local", horizon_url=HORIZON, stellar_secret=secret, generate_secret_file=None,
                  trustlines=[], fund=True, fund_asset="TFT", fund_amount=amount)
    return WalletRunner(params, session_on(grid())).run()


def _no_pause(monkeypatch):
    original = _stellar.Horizon.__init__

    def init(self, url, client=None, sleep=None, **kwargs):
        original(self, url, client=client, sleep=lambda seconds: None, **kwargs)
    monkeypatch.setattr(_stellar.Horizon, "__init__", init)


def test_a_new_wallet_survives_502s_on_reads_friendbot_and_faucet(horizon, monkeypatch):
    _no_pause(monkeypatch)
    wallet = Keypair.random()
    _failing_reads(horizon, monkeypatch, [502])  # the first read of the account
    horizon.funding_faults = ["before", "after", "after"]  # friendbot twice (applied the second time), faucet once
    result = _fund(wallet.secret)
    assert horizon.funding_requests == ["friendbot", "friendbot", "faucet"]
    assert horizon.accounts[wallet.public_key]["lines"][TFT] == amount_to_stroops("1000")
    assert result["changed"] is True and result["wallet"]["exists"] is True


def test_a_faucet_502_before_applying_asks_again_once(horizon, monkeypatch):
    _no_pause(monkeypatch)
    wallet = Keypair.random()
    horizon.create(wallet.public_key, trust=[TFT])
    horizon.funding_faults = ["before"]
    _fund(wallet.secret, amount="250")
    assert horizon.funding_requests == ["faucet", "faucet"]
    assert horizon.accounts[wallet.public_key]["lines"][TFT] == amount_to_stroops("250")


def test_funding_gives_up_after_the_retries_with_the_horizon_error(horizon, monkeypatch):
    _no_pause(monkeypatch)
    wallet = Keypair.random()
    horizon.funding_faults = ["before"] * 10
    with pytest.raises(StellarError) as info:
        _fund(wallet.secret)
    assert horizon.funding_requests == ["friendbot"] * (_stellar.READ_RETRIES + 1)
    assert info.value.failure["status"] == 502 and "friendbot" in info.value.msg
