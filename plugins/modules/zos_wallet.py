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

from ansible_collections.threefold.grid.plugins.module_utils._argspec import stellar_argument_spec
from ansible_collections.threefold.grid.plugins.module_utils._base import ZosModule
from ansible_collections.threefold.grid.plugins.module_utils._wallet import WalletRunner


def main():
    argument_spec = dict(
        generate_secret_file=dict(type="path"),
        trustlines=dict(type="list", elements="str", default=[]),
        fund=dict(type="bool", default=False),
        fund_asset=dict(type="str", choices=["TFT", "TFTA", "FreeTFT"], default="TFT"),
        fund_amount=dict(type="str", default="1000"),
    )
    argument_spec.update(stellar_argument_spec())
    ZosModule(argument_spec, identity=False).run(WalletRunner)


if __name__ == "__main__":
    main()
