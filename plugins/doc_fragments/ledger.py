# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The spending ledger of a resource module's reservations (_argspec.ledger_argument_spec, _money_views.py).
    DOCUMENTATION = r"""
options:
  ledger:
    description:
      - Also return, for each reservation the task returns, what the Stellar ledger holds for its memo (paid,
        refunded, paid out to farmers, still held, every movement), and the payments that need a look, each with a
        plain next step (RV(unmatched_payments)), that is the payer's payments to the escrow whose memo is no reservation
        of the identity, and a returned reservation paid short, paid too much or paid after it ended.
        M(threefold.grid.zos_reservation_info) checks the amounts of every listed reservation.
      - The payer is O(ledger_account), else the wallet of the O(payment) block.
      - Off by default, as it lists every reservation of the identity and reads the payer's and the escrow's
        payments from Horizon (public data, no secret sent), which costs requests on every run, an idempotent
        re-run included. The same as M(threefold.grid.zos_reservation_info) with its O(ledger_account).
      - Horizon is that of O(payment.horizon_url) (or E(TFGRID_HORIZON_URL)), else the network's own.
    type: bool
    default: false
  ledger_account:
    description:
      - The Stellar address (G...) that pays this identity's reservations, whose ledger O(ledger) reads; setting
        it turns O(ledger) on. A wrong address fails before anything is signed.
      - Defaults to the address of the O(payment) block's wallet when O(ledger=true).
    type: str
"""
