#!/usr/bin/python
# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zos_payment
short_description: Pay the escrow of a ThreeFold Grid reservation on Stellar, exactly once
version_added: 0.1.0
description:
  - Pays what a reservation owes to its escrow account from a Stellar wallet, with the text memo the explorer
    looks for (the reservation id), then optionally waits until the explorer has seen the payment or the
    workloads are deployed.
  - Never pays twice. Before paying it adds up what the wallet already paid the escrow account for that memo in
    that asset since the reservation was created (minus refunds, as the explorer counts them) and pays only what
    is missing. A submission whose answer is lost is looked up by transaction hash before the same signed
    transaction is sent again; one refused for a used sequence number is signed again with a fresh one.
  - The reservation is re-read just before signing; one that no longer waits for payment is not paid.
  - A reservation registered with O(threefold.grid.zos_container#module:payment.channels) is paid through the
    payment channel it was registered with (created by the wallet if missing), so that every payer of one
    reservation shares one sequence number.
  - O(escrow) is checked against the reservation on the grid first. A price above what the reservation's
    workloads and lifetime cost, an asset it does not offer, or an address that is not a Stellar account fails
    with nothing paid; a lower price is paid with a warning (the reservation keeps waiting for the rest). When
    identity options are set and the reservation belongs to another identity, the module warns.
  - Horizon reads are retried on HTTP 429, 5xx and lost connections, and time out after O(explorer_timeout).
  - A free reservation (no escrow address or no amount) needs no payment and returns RV(free=true).
author:
  - threefold.grid developers (@threefold-grid)
options:
  reservation_id:
    description:
      - Id of the reservation to pay. The memo of the payment is this id as a decimal string.
      - Required. Only in check mode may it be V(null), as a resource module returns it for a reservation it only
        plans; the module then reports the estimated price from O(escrow) (held against O(max_amount)) and reads
        nothing from Stellar.
    type: int
  escrow:
    description:
      - What the reservation owes, as returned when it was registered, for example the C(escrow) that
        M(threefold.grid.zos_container) and M(threefold.grid.zos_volume) return, or the C(escrow_information) of the
        explorer's answer.
      - Keys used are C(address) (the escrow account), C(asset) (C(CODE:ISSUER)) and the price, taken from
        C(details) (per-farm C(total_amount) in stroops, summed) or, when C(details) is empty, from C(amount) (an
        integer number of stroops, or a decimal string in units of the asset). Other keys are ignored.
      - The explorer does not return escrow information after registration, so it cannot be looked up by
        O(reservation_id). When it is omitted the module only reports the state of a reservation that no
        longer waits for payment, and fails for one that still does.
    type: dict
  max_amount:
    description:
      - Highest total price, in units of the escrow's asset (for example V("25.5")), that the module agrees to pay
        for this reservation. A reservation that costs more fails and nothing is paid.
    type: str
  wait_for:
    description:
      - What O(wait=true) waits for. V(paid) returns once the explorer has seen the payment (the reservation
        leaves the C(pay) state); V(deployed) also waits until every workload reports that it runs, and fails with
        the node's message if one fails.
    type: str
    choices: [paid, deployed]
    default: paid
notes:
  - The wallet pays its own fee, so besides the asset it needs XLM above its minimum balance.
  - The explorer checks escrow accounts for payments about once a minute, so O(wait=true) can take a minute on
    the public grid.
  - On V(local) networks, when O(explorer_url) is set and O(horizon_url) is not, the Horizon of the same localgrid
    (C(<base>/stellar)) is used. A O(horizon_url) that is not the network's own is asked for its network passphrase.
  - The wallet secret is never logged or returned.
extends_documentation_fragment:
  - threefold.grid.explorer
  - threefold.grid.identity
  - threefold.grid.identity_unused
  - threefold.grid.stellar
  - threefold.grid.wait
  - threefold.grid.attributes
  - threefold.grid.attributes.actiongroup
attributes:
  check_mode:
    support: full
    details:
      - Reports the amount, asset, destination and memo it would pay and submits nothing.
  diff_mode:
    support: none
  idempotent:
    support: full
seealso:
  - module: threefold.grid.zos_wallet
  - name: Stellar payments
    description: How Stellar payments and memos work.
    link: https://developers.stellar.org/docs/learn/fundamentals/transactions/list-of-operations#payment
"""

EXAMPLES = r"""
- name: Register a volume without paying it
  threefold.grid.zos_volume:
    name: data
    node_id: "{{ node_id }}"
    size: 10
    wait: false
  register: data

- name: Pay it from a wallet kept in Ansible Vault, but never more than 50 TFT
  threefold.grid.zos_payment:
    reservation_id: "{{ data.volume.reservation_id }}"
    escrow: "{{ data.volume.escrow }}"
    stellar_secret: "{{ vault_stellar_secret }}"
    max_amount: "50"
    wait_for: deployed
  register: payment

- name: Show what was paid
  ansible.builtin.debug:
    msg: "paid {{ payment.amount }} {{ payment.asset }} in {{ payment.transaction_hash }}"

- name: See what would be paid
  threefold.grid.zos_payment:
    reservation_id: 42
    escrow:
      address: GBQ3GKHP5ACY4XZ7VE3ILIAVDOTDLXGTGXSNGI6HJQRH5VOFA4QTOBVU
      asset: TFT:GA47YZA3PKFUZMPLQ3B5F2E3CJIB57TGGU7SPCQT2WAEYKN766PWIMB3
      details:
        - farmer_id: 1
          total_amount: 34546420
    network: test
  check_mode: true
"""

RETURN = r"""
reservation_id:
  description: The reservation the payment is for.
  returned: always
  type: int
  sample: 42
transaction_hash:
  description: Hash of the Stellar transaction this run submitted; V(null) when nothing was paid.
  returned: always
  type: str
  sample: 3389e9f0f1a65f19736cacf544c2e825313e8447f569233bb8db39aa607c8889
amount:
  description:
    - The amount this run paid (or, in check mode, would pay), with 7 decimals. V("0.0000000") when nothing was
      missing.
  returned: always
  type: str
  sample: "3.4546420"
total_amount:
  description: The reservation's full price, with 7 decimals; V(null) when O(escrow) is not given.
  returned: always
  type: str
  sample: "3.4546420"
already_paid:
  description:
    - What the escrow account already held for this reservation's memo before this run, with 7 decimals.
    - V(null) when O(escrow) is not given or the reservation no longer waits for payment.
  returned: always
  type: str
  sample: "0.0000000"
asset:
  description: The asset paid, as C(CODE:ISSUER); V(null) when O(escrow) is not given.
  returned: always
  type: str
  sample: TFT:GA47YZA3PKFUZMPLQ3B5F2E3CJIB57TGGU7SPCQT2WAEYKN766PWIMB3
destination:
  description: The escrow account paid; V(null) when O(escrow) is not given.
  returned: always
  type: str
  sample: GBQ3GKHP5ACY4XZ7VE3ILIAVDOTDLXGTGXSNGI6HJQRH5VOFA4QTOBVU
memo:
  description: The text memo of the payment, the reservation id.
  returned: always
  type: str
  sample: "42"
free:
  description: Whether the reservation needs no payment at all.
  returned: always
  type: bool
  sample: false
next_action:
  description:
    - The reservation's state on the explorer (C(pay), C(deploy), C(delete), ...) after the payment and the wait;
      V(null) for a free reservation.
  returned: always
  type: str
  sample: deploy
failure:
  description:
    - On failure, what went wrong, without the secret. C(code) is a short reason such as C(no_trustline),
      C(underfunded), C(above_max_amount), C(escrow_mismatch), C(reservation_not_found) or C(bad_auth); Horizon
      failures add C(status), C(type), C(title), C(detail) and C(result_codes).
  returned: failure
  type: dict
  sample: {"code": "underfunded", "reservation_id": 42}
"""

from ansible_collections.threefold.grid.plugins.module_utils._argspec import stellar_argument_spec, wait_argument_spec
from ansible_collections.threefold.grid.plugins.module_utils._base import ZosModule
from ansible_collections.threefold.grid.plugins.module_utils._errors import PaymentError
from ansible_collections.threefold.grid.plugins.module_utils._payment import (
    pay_escrow, planned_payment, require_stellar, status_without_escrow)
from ansible_collections.threefold.grid.plugins.module_utils._session import Runner

PAYMENT_OPTIONS = ("stellar_secret", "horizon_url", "max_amount", "wait", "wait_for", "wait_timeout", "wait_sleep")


class PaymentRunner(Runner):
    def run(self):
        require_stellar()
        reservation_id = self.params["reservation_id"]
        payment = dict((key, self.params[key]) for key in PAYMENT_OPTIONS)
        try:
            if reservation_id is None:
                if not self.check_mode:
                    raise PaymentError("reservation_id is unset (null): give the id of a registered reservation, such "
                                       "as the reservation_id a resource module returned", "reservation_id_required")
                result = planned_payment(self.session, self.params["escrow"], payment)
            elif self.params["escrow"] is None:
                result = status_without_escrow(self.session, reservation_id)
            else:
                result = pay_escrow(self.session, reservation_id, self.params["escrow"], payment, from_task=True)
        except PaymentError as error:
            error.returns = {"reservation_id": reservation_id}
            raise
        return dict(result, reservation_id=reservation_id)


def main():
    argument_spec = dict(
        reservation_id=dict(type="int"),  # null only in check mode, after a task that planned the reservation
        escrow=dict(type="dict"),
        max_amount=dict(type="str"),
        wait_for=dict(type="str", choices=["paid", "deployed"], default="paid"),
    )
    argument_spec.update(stellar_argument_spec())
    argument_spec.update(wait_argument_spec())
    ZosModule(argument_spec, identity=False).run(PaymentRunner)


if __name__ == "__main__":
    main()
