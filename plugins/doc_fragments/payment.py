# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The `payment` block of the modules that register reservations (_payment.payment_argument_spec).
    DOCUMENTATION = r"""
options:
  payment:
    description:
      - Pay the escrow of a new reservation from a Stellar wallet (memo = reservation id, never twice).
      - Without it a new reservation that costs something stays waiting for payment; the module then returns the
        escrow details (O(wait) stops there) so M(threefold.grid.zos_payment) can pay it.
      - Before anything is registered, the wallet is checked against the estimated price (valid secret, existing
        account, trustline, enough of the asset and XLM for the fee, O(payment.max_amount)); a wallet that could
        not pay fails the task with nothing registered or paid.
    type: dict
    suboptions:
      stellar_secret:
        description:
          - Secret seed (C(S...)) of the paying Stellar wallet.
          - If not set, the value of the E(TFGRID_STELLAR_SECRET) environment variable is used.
          - This value is a secret; it is never logged or returned.
        type: str
      horizon_url:
        description:
          - Horizon server to use instead of the one of O(network).
          - If not set, the value of the E(TFGRID_HORIZON_URL) environment variable is used.
        type: str
      max_amount:
        description:
          - Fail instead of paying more than this amount (a decimal string, in the escrow asset).
        type: str
      channels:
        description:
          - Pay new reservations through this many payment channels, so that payments from one wallet do not wait
            for each other's sequence number (up to 100; V(0) pays from the wallet's own sequence number).
          - A channel is a Stellar account derived from the wallet's secret and created by the wallet on its first
            use, with its minimum balance (2 base reserves) plus 1 XLM for fees; the wallet stays the account that
            pays (and the one the escrow refunds), the channel pays the fee.
          - The number is stored with each reservation, and every later payment of that reservation (a re-run,
            M(threefold.grid.zos_payment)) goes through the same channel, whatever its own O(payment.channels), so
            that one reservation is never paid twice.
          - Worth it when one task or several forks pay many reservations at once (M(threefold.grid.zos_containers),
            large fleets). A wallet's own transactions, and each channel's, apply one per ledger on the public
            network (about 5 seconds), so K channels pay up to K reservations per ledger; as many channels as
            containers paid at once (O(threefold.grid.zos_containers#module:parallel)) pays a whole wave in one.
        type: int
        default: 0
      wait:
        description:
          - Wait in the payment step until the explorer has seen the payment. The module waits for the deployment
            anyway when O(wait=true).
        type: bool
        default: false
"""

    # The escrow currencies of the modules that offer TFT unless told otherwise.
    CURRENCIES = r"""
options:
  currencies:
    description:
      - Currencies offered for the escrow, in order of preference.
    type: list
    elements: str
    choices: [TFT, TFTA, FreeTFT]
    default: [TFT]
"""
