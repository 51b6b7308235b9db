#!/usr/bin/python
# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zos_wallet
short_description: Prepare and inspect the Stellar wallet that pays for ThreeFold Grid reservations
version_added: 0.1.0
description:
  - Makes sure a Stellar wallet has trustlines for the grid's assets (O(trustlines)) and reports its address,
    balances and trustlines.
  - Can create a new wallet secret into a file (O(generate_secret_file)), so a new wallet needs no secret in the
    playbook.
  - On a localgrid it can also create and fund a demo wallet (O(fund)) with the localgrid friendbot (XLM) and
    faucet (TFT, TFTA or FreeTFT). Funding is refused on the V(main), V(test) and V(dev) grids.
author:
  - threefold.grid developers (@threefold-grid)
options:
  generate_secret_file:
    description:
      - Path of a file holding the wallet's secret seed. If it does not exist, a new random secret is written to it
        (mode C(0600)) and used; an existing file is never overwritten and its secret is used instead.
      - Takes precedence over O(stellar_secret). In check mode the file is not written.
    type: path
  trustlines:
    description:
      - Assets the wallet must trust, as asset codes of the grid network (V(TFT), V(TFTA), V(FreeTFT)) or as
        C(CODE:ISSUER) strings. Trustlines that exist and are not listed are left alone.
      - Codes are resolved to the issuers used by the explorer of O(network). On V(local) they are localgrid's
        issuers, which every localgrid derives the same way from its network passphrase.
    type: list
    elements: str
    default: []
  fund:
    description:
      - Create the account with the localgrid friendbot if it does not exist, add a trustline for O(fund_asset) and
        top its balance up to O(fund_amount) from the localgrid faucet.
      - Only on a localgrid (V(network=local), or a O(horizon_url) whose network passphrase is localgrid's).
    type: bool
    default: false
  fund_asset:
    description:
      - Asset code the faucet pays when O(fund=true).
    type: str
    choices: [TFT, TFTA, FreeTFT]
    default: TFT
  fund_amount:
    description:
      - Balance of O(fund_asset), in units of the asset, that O(fund=true) tops the wallet up to. A wallet that
        already holds that much gets nothing.
    type: str
    default: "1000"
notes:
  - A trustline needs 0.5 XLM of extra minimum balance on the account; the module fails clearly when the account
    cannot afford it.
  - The secret is never logged or returned; only the address (public key) is.
extends_documentation_fragment:
  - threefold.grid.explorer
  - threefold.grid.identity
  - threefold.grid.identity_unused
  - threefold.grid.stellar
  - threefold.grid.attributes
  - threefold.grid.attributes.actiongroup
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - Shows the wallet's balances and trustlines before and after.
  idempotent:
    support: full
seealso:
  - module: threefold.grid.zos_payment
"""

EXAMPLES = r"""
- name: Create and fund a demo wallet on a localgrid
  threefold.grid.zos_wallet:
    network: local
    generate_secret_file: "{{ playbook_dir }}/demo-wallet.secret"
    trustlines: [TFT, FreeTFT]
    fund: true
    fund_amount: "500"
  register: demo_wallet

- name: Show the address to send tokens to
  ansible.builtin.debug:
    msg: "{{ demo_wallet.wallet.address }}"

- name: Make sure a testnet wallet kept in Ansible Vault trusts TFT
  threefold.grid.zos_wallet:
    network: test
    stellar_secret: "{{ vault_stellar_secret }}"
    trustlines: [TFT]

- name: Inspect a wallet without changing anything
  threefold.grid.zos_wallet:
    network: main
  environment:
    TFGRID_STELLAR_SECRET: "{{ vault_stellar_secret }}"
  check_mode: true
"""

RETURN = r"""
wallet:
  description: The wallet after the changes (predicted in check mode).
  returned: success
  type: dict
  contains:
    address:
      description: The wallet's public address; V(null) in check mode when O(generate_secret_file) would be created.
      type: str
      sample: GDRXE2BQUC3AZNPVFSCEZ76NJ3WWL25FYFK6RGZGIEKWE4SOOHSUJUJ6
    exists:
      description: Whether the account exists on the Stellar network.
      type: bool
      sample: true
    balances:
      description: Balances, native XLM included, as C(asset) (C(XLM) or C(CODE:ISSUER)) and C(balance) (7 decimals).
      type: list
      elements: dict
      sample: [{"asset": "XLM", "balance": "9999.9999800"},
               {"asset": "TFT:GA47YZA3PKFUZMPLQ3B5F2E3CJIB57TGGU7SPCQT2WAEYKN766PWIMB3", "balance": "500.0000000"}]
    trustlines:
      description: Assets the wallet trusts, as C(CODE:ISSUER).
      type: list
      elements: str
      sample: ["TFT:GA47YZA3PKFUZMPLQ3B5F2E3CJIB57TGGU7SPCQT2WAEYKN766PWIMB3"]
secret_file:
  description: Path of the secret file, when O(generate_secret_file) is set. The secret itself is never returned.
  returned: when O(generate_secret_file) is set
  type: str
  sample: /home/alice/demo-wallet.secret
secret_file_created:
  description: Whether a new secret was written to O(generate_secret_file) (V(false) when reused, and in check mode).
  returned: when O(generate_secret_file) is set
  type: bool
  sample: true
failure:
  description: On failure, what went wrong, without the secret (C(code), and Horizon's C(status), C(detail), C(result_codes)).
  returned: failure
  type: dict
  sample: {"code": "fee_underfunded"}
"""

import os

from ansible.module_utils.basic import missing_required_lib
from ansible_collections.threefold.grid.plugins.module_utils import _stellar
from ansible_collections.threefold.grid.plugins.module_utils._base import ZosModule, stellar_argument_spec
from ansible_collections.threefold.grid.plugins.module_utils._explorer import GRID_NETWORKS
from ansible_collections.threefold.grid.plugins.module_utils._payment import horizon_settings
from ansible_collections.threefold.grid.plugins.module_utils._stellar import (
    StellarError,
    amount_to_stroops,
    stroops_to_amount,
)

LOCALGRID_PASSPHRASE = GRID_NETWORKS["local"]["network_passphrase"]


def wallet_view(address, account):
    """The returned wallet: address, existence, balances and trustlines (never the secret)."""
    if account is None:
        return {"address": address, "exists": False, "balances": [], "trustlines": []}
    balances = [{"asset": _stellar.asset_of(line), "balance": line.get("balance")} for line in account["balances"]]
    return {"address": address, "exists": True, "balances": balances,
            "trustlines": [b["asset"] for b in balances if b["asset"] != "XLM"]}


class Wallet:
    def __init__(self, zmodule):
        self.zmodule = zmodule
        self.params = zmodule.params
        self.check_mode = zmodule.check_mode
        self.result = {"changed": False}

    def fail(self, exc):
        self.zmodule.module.fail_json(msg=exc.msg, failure=dict(exc.failure, code=exc.code), **self.result)

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

    def run(self):
        network = self.params["network"]
        if self.params["fund"] and network != "local" and not self.params["horizon_url"]:
            self.check_fund_allowed(network, GRID_NETWORKS[network]["network_passphrase"])
        keypair = self.keypair()
        url, passphrase = horizon_settings(self.zmodule, self.params["horizon_url"])
        self.check_fund_allowed(network, passphrase)
        horizon = _stellar.Horizon(url)
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
        if self.zmodule.diff_mode:
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
            horizon.get_json("/friendbot", {"addr": address}, "creating account %s with the friendbot" % address)
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
                horizon.get_json("/faucet", {"addr": address, "asset": self.params["fund_asset"],
                                             "amount": stroops_to_amount(target - have)},
                                 "funding %s from the localgrid faucet" % address)
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
        envelope.sign(keypair)
        horizon.submit(envelope)
        self.result["changed"] = True


def main():
    argument_spec = dict(
        generate_secret_file=dict(type="path"),
        trustlines=dict(type="list", elements="str", default=[]),
        fund=dict(type="bool", default=False),
        fund_asset=dict(type="str", choices=["TFT", "TFTA", "FreeTFT"], default="TFT"),
        fund_amount=dict(type="str", default="1000"),
    )
    argument_spec.update(stellar_argument_spec())
    zmodule = ZosModule(argument_spec, identity=False)
    if not _stellar.HAS_STELLAR_SDK:
        zmodule.module.fail_json(msg=missing_required_lib("stellar-sdk"), exception=_stellar.STELLAR_SDK_IMPORT_ERROR)
    wallet = Wallet(zmodule)
    try:
        result = wallet.run()
    except StellarError as exc:
        wallet.fail(exc)
    zmodule.exit(**result)


if __name__ == "__main__":
    main()
