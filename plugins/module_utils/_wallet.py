# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""zos_wallet's work: a Stellar wallet with its trustlines, created and funded from the faucet on a localgrid.

Loaded only by zos_wallet; its run loads stellar-sdk (_stellar.sdk()) to build trustline operations.
"""

from __future__ import annotations

import os

from ansible_collections.threefold.grid.plugins.module_utils import _stellar
from ansible_collections.threefold.grid.plugins.module_utils._amounts import amount_to_stroops, stroops_to_amount
from ansible_collections.threefold.grid.plugins.module_utils._errors import StellarError
from ansible_collections.threefold.grid.plugins.module_utils._explorer import GRID_NETWORKS
from ansible_collections.threefold.grid.plugins.module_utils._payment import horizon_at, horizon_settings
from ansible_collections.threefold.grid.plugins.module_utils._session import Runner

LOCALGRID_PASSPHRASE = GRID_NETWORKS["local"]["network_passphrase"]


def wallet_view(address, account):
    """The returned wallet: address, existence, balances and trustlines (never the secret)."""
    if account is None:
        return {"address": address, "exists": False, "balances": [], "trustlines": []}
    balances = [{"asset": _stellar.asset_of(line), "balance": line.get("balance")} for line in account["balances"]]
    return {"address": address, "exists": True, "balances": balances,
            "trustlines": [b["asset"] for b in balances if b["asset"] != "XLM"]}


def _funded(account, asset, target):
    """Whether ``account`` holds at least ``target`` stroops of ``asset``."""
    line = _stellar.balance_line(account, asset) if account else None
    return bool(line) and amount_to_stroops(line["balance"]) >= target


class WalletRunner(Runner):
    """zos_wallet: a Stellar account with the trustlines asked for (created and funded on a localgrid)."""

    def __init__(self, params, session, diff=False):
        super(WalletRunner, self).__init__(params, session, diff)
        self.result = {"changed": False}

    def run(self):
        _stellar.sdk()
        try:
            return self.prepare()
        except StellarError as error:
            error.returns = self.result
            raise

    def keypair(self):
        path = self.params["generate_secret_file"]
        if not path:
            return _stellar.keypair_from_secret(self.params["stellar_secret"])
        self.result.update(secret_file=path, secret_file_created=False)
        if os.path.exists(path):
            try:
                with open(path) as handle:
                    return _stellar.keypair_from_secret(handle.read())
            except (IOError, OSError) as exc:
                raise StellarError("Cannot read generate_secret_file %s: %s" % (path, exc.strerror or exc),
                                   "secret_file") from None
            except StellarError as exc:
                raise StellarError("Cannot reuse generate_secret_file %s: %s" % (path, exc.msg), exc.code) from None
        self.result["changed"] = True
        if self.check_mode:
            return None
        keypair = _stellar.Keypair.random()
        try:
            # O_EXCL: never overwrite a secret another run wrote meanwhile.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(keypair.secret + "\n")
        except (IOError, OSError) as exc:
            raise StellarError("Cannot write generate_secret_file %s: %s" % (path, exc.strerror or exc),
                               "secret_file") from None
        self.result["secret_file_created"] = True
        return keypair

    def wanted_assets(self, network, passphrase):
        issuers = _stellar.network_issuers(network, passphrase)
        names = list(self.params["trustlines"])
        if self.params["fund"]:
            names.append(self.params["fund_asset"])
        assets = []
        for name in names:
            try:
                asset = _stellar.resolve_asset(name, issuers)
                _stellar.sdk_asset(asset)
            except ValueError as exc:
                raise StellarError("trustlines: %s" % exc, "invalid_asset") from None
            if asset not in assets:
                assets.append(asset)
        return assets

    def check_fund_allowed(self, network, passphrase):
        if self.params["fund"] and passphrase != LOCALGRID_PASSPHRASE:
            raise StellarError("fund is only available on a localgrid; the %s grid uses real Stellar accounts, so send "
                               "XLM and tokens to the wallet yourself" % network, "fund_refused")

    def prepare(self):
        network = self.params["network"]
        if self.params["fund"] and network != "local":
            # Refused before Horizon is asked: only a localgrid funds, and another network's Horizon is refused.
            self.check_fund_allowed(network, GRID_NETWORKS[network]["network_passphrase"])
        keypair = self.keypair()
        url, passphrase = horizon_settings(self.session, self.params["horizon_url"])
        self.check_fund_allowed(network, passphrase)
        horizon = horizon_at(self.session, url)
        assets = self.wanted_assets(network, passphrase)
        address = keypair.public_key if keypair else None
        account = horizon.account(address) if address else None
        before = wallet_view(address, account)
        after = self.plan(before, assets)
        if not self.check_mode:
            self.apply(horizon, passphrase, keypair, account, before, assets)
            if self.result["changed"]:
                after = wallet_view(address, horizon.account(address))
        self.result["wallet"] = after
        if self.diff_mode:
            self.result["diff"] = {"before": before, "after": after}
        return self.result

    def plan(self, before, assets):
        """The wallet as it will be; marks the result changed when anything is to be done."""
        after = {"address": before["address"], "exists": before["exists"],
                 "balances": [dict(b) for b in before["balances"]], "trustlines": list(before["trustlines"])}
        if not after["exists"] and not self.params["fund"]:
            if assets:
                raise StellarError("account %s does not exist: send it XLM first (or use fund=true on a localgrid)"
                                   % (before["address"] or "(new)"), "payer_missing")
            return after
        if not after["exists"]:
            after["exists"] = True
            after["balances"].append({"asset": "XLM", "balance": None})
            self.result["changed"] = True
        for asset in assets:
            if asset not in after["trustlines"]:
                after["trustlines"].append(asset)
                after["balances"].append({"asset": asset, "balance": stroops_to_amount(0)})
                self.result["changed"] = True
        if self.params["fund"]:
            target, fund_asset = self.fund_target(assets)
            for line in after["balances"]:
                if line["asset"] == fund_asset and amount_to_stroops(line["balance"]) < target:
                    line["balance"] = stroops_to_amount(target)
                    self.result["changed"] = True
        return after

    def fund_target(self, assets):
        try:
            target = amount_to_stroops(self.params["fund_amount"])
        except ValueError as exc:
            raise StellarError("fund_amount: %s" % exc, "invalid_amount") from None
        code = self.params["fund_asset"]
        return target, next(a for a in assets if a.split(":")[0] == code)

    def apply(self, horizon, passphrase, keypair, account, before, assets):
        address = keypair.public_key
        if account is None:
            if not self.params["fund"]:
                return
            horizon.fund("/friendbot", {"addr": address}, "creating account %s with the friendbot" % address,
                         lambda: horizon.account(address) is not None)
            account = horizon.account(address)
        missing = [asset for asset in assets if asset not in before["trustlines"]]
        if missing:
            self.add_trustlines(horizon, passphrase, keypair, missing)
            account = horizon.account(address)
        if self.params["fund"]:
            target, fund_asset = self.fund_target(assets)
            line = _stellar.balance_line(account, fund_asset)
            have = amount_to_stroops(line["balance"]) if line else 0
            if have < target:
                horizon.fund("/faucet", {"addr": address, "asset": self.params["fund_asset"],
                                         "amount": stroops_to_amount(target - have)},
                             "funding %s from the localgrid faucet" % address,
                             lambda: _funded(horizon.account(address), fund_asset, target))
                self.result["changed"] = True

    def add_trustlines(self, horizon, passphrase, keypair, assets):
        account = horizon.account(keypair.public_key)
        base_fee, base_reserve = horizon.fees()
        native = _stellar.balance_line(account, "XLM")
        needed = _stellar.minimum_balance_stroops(account, base_reserve) + len(assets) * base_reserve \
            + base_fee * len(assets)
        have = _stellar.spendable_stroops(native) if native else 0
        if have < needed:
            raise StellarError("account %s holds %s XLM; %d new trustline(s) need at least %s XLM (minimum balance "
                               "plus fee)" % (keypair.public_key, stroops_to_amount(have), len(assets),
                                              stroops_to_amount(needed)), "fee_underfunded")
        builder = _stellar.build_transaction(horizon.load_account(keypair.public_key), passphrase, base_fee)
        for asset in assets:
            builder.append_change_trust_op(asset=_stellar.sdk_asset(asset))
        envelope = builder.build()
        envelope.sign(keypair.secret)
        horizon.submit(envelope)
        self.result["changed"] = True
