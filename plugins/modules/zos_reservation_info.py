#!/usr/bin/python
# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zos_reservation_info
short_description: List the ThreeFold Grid reservations of an identity
version_added: 0.1.0
description:
  - Lists the reservations of the configured identity (every page), with their workloads, the results the nodes
    reported and the name and kind this collection stored in their metadata.
  - Filters by O(name), O(kind), O(states) and O(id).
author:
  - threefold.grid developers (@threefold-grid)
options:
  name:
    description: Only reservations whose metadata name is this (as set by O(threefold.grid.zos_container#module:name) and the other modules).
    type: str
  kind:
    description: Only reservations of this metadata kind.
    type: str
    choices: [container, volume, network, reservation]
  states:
    description:
      - Only reservations whose computed next action is one of these. V(live) stands for V(create), V(sign),
        V(pay) and V(deploy).
      - The same name as the P(threefold.grid.zos#inventory) inventory's filter; O(state) is kept as an alias.
    aliases: [state]
    type: list
    elements: str
    choices: [create, sign, pay, deploy, delete, invalid, deleted, live]
  id:
    description: Only the reservation with this id (it must belong to the identity).
    type: int
  expiring_within:
    description:
      - Only live reservations that end within this long from now, as a duration (V(7d), V(12h), V(3600)).
      - Each one returned then carries RV(reservations[].renewal), what renewing it would cost.
    type: str
  renewal_cost:
    description:
      - Price the renewal of every live reservation returned (RV(reservations[].renewal)), reading each node's
        farm once. Implied by O(expiring_within).
    type: bool
    default: false
  ledger_account:
    description:
      - The Stellar address (G...) that pays this identity's reservations. Its payments, and those of the escrow
        account it pays, are read from Horizon (public data, no secret needed) to return each reservation's
        RV(reservations[].ledger) and the RV(unmatched_payments).
      - Only payments made since a little before the oldest listed reservation was created are read.
    type: str
  horizon_url:
    description:
      - Horizon to read the ledger from. Defaults to the grid network's Horizon (a localgrid's own at
        C(<base>/stellar) when O(explorer_url) points at one).
    type: str
notes:
  - The explorer returns escrow details only when a reservation is registered, so RV(reservations[].escrow) is
    always V(null) here.
  - The ledger sees payments from O(ledger_account) only, and refunds and payouts of the escrow accounts it
    paid; a payment for this identity made from another wallet counts in RV(reservations[].ledger) but is not
    listed in RV(unmatched_payments).
extends_documentation_fragment:
  - threefold.grid.explorer
  - threefold.grid.identity
  - threefold.grid.attributes
  - threefold.grid.attributes.info_module
  - threefold.grid.attributes.actiongroup
seealso:
  - module: threefold.grid.zos_reservation
  - module: threefold.grid.zos_container
"""

EXAMPLES = r"""
- name: Live reservations made by zos_container
  threefold.grid.zos_reservation_info:
    kind: container
    states: [live]
  register: containers

- name: One container by name
  threefold.grid.zos_reservation_info:
    name: web
    states: [deploy]

- name: A reservation by id
  threefold.grid.zos_reservation_info:
    id: 42

- name: What ends within a week, and what renewing it costs
  threefold.grid.zos_reservation_info:
    expiring_within: 7d
  register: expiring

- name: Where the money went, reservation by reservation
  threefold.grid.zos_reservation_info:
    ledger_account: GBQ3GKHP5ACY4XZ7VE3ILIAVDOTDLXGTGXSNGI6HJQRH5VOFA4QTOBVU
  register: spending

- name: Payments that need a look
  ansible.builtin.debug:
    msg: "{{ item.reason }} {{ item.amount }} (memo {{ item.memo }}): {{ item.next_step }}"
  loop: "{{ spending.unmatched_payments }}"
"""

RETURN = r"""
reservations:
  description: Matching reservations, oldest first; V([]) when none match.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Reservation id.
      type: int
      sample: 42
    name:
      description: Metadata name, V(null) for reservations not made by this collection.
      type: str
      sample: web
    kind:
      description: Metadata kind.
      type: str
      sample: container
    labels:
      description: Labels from the metadata (V(null) when there are none or they are sealed).
      type: dict
      sample: {"app": "blog"}
    sealed_labels:
      description: Labels sealed with the identity's key (see the resource modules' C(seal_labels)), or V(null).
      type: str
      sample: null
    state:
      description: The explorer's computed next action.
      type: str
      sample: deploy
    workload_state:
      description: C(pending), C(ok), C(error) or C(deleted).
      type: str
      sample: ok
    customer_tid:
      description: Threebot id of the owner.
      type: int
    created:
      description: Unix time the explorer registered it.
      type: int
    expires_at:
      description: Unix time at which it ends.
      type: int
    expiration_provisioning:
      description: Unix time by which it had to be deployed.
      type: int
    currencies:
      description: Currencies offered.
      type: list
      elements: str
    workloads:
      description: Containers, volumes and networks (secret values masked, no key material).
      type: dict
    results:
      description: The raw results the nodes reported.
      type: list
      elements: dict
    escrow:
      description: Always V(null) (see the notes).
      type: dict
    error:
      description: Always V(null); the first node error is in RV(reservations[].results).
      type: dict
    renewal:
      description:
        - With O(expiring_within) or O(renewal_cost), for a live reservation; V(null) otherwise.
      type: dict
      contains:
        expires_in:
          description: Seconds until it ends (negative once past).
          type: int
        duration:
          description: Its length in seconds, the length a renewal is priced for.
          type: int
        amount:
          description: What the explorer would ask to register the same workloads for that length now, 7 decimals.
          type: str
          sample: "0.0066000"
        total_amount:
          description: The same in stroops.
          type: int
        currency:
          description: The asset it would be paid in (the first paid currency the reservation offers).
          type: str
          sample: TFT
    ledger:
      description:
        - With O(ledger_account), what the ledger holds for this reservation's memo; V(null) otherwise.
        - Amounts are 7-decimal strings in RV(reservations[].ledger.asset).
      type: dict
      contains:
        escrow:
          description: The escrow account paid; V(null) when no payment with this memo was found.
          type: str
        asset:
          description: The asset code of the payments.
          type: str
          sample: TFT
        paid:
          description: All payments with this memo to the escrow account.
          type: str
          sample: "0.0066000"
        refunded:
          description: What the escrow sent back to an account that paid it (a cancel, an expiry, an overpayment).
          type: str
          sample: "0.0000000"
        paid_out:
          description: What the escrow sent to farmers, the burn and the foundation once it was deployed.
          type: str
          sample: "0.0066000"
        held:
          description: What the escrow still holds for the memo.
          type: str
          sample: "0.0000000"
        movements:
          description: Each payment, oldest first, with its C(kind) (C(payment), C(refund), C(payout)), hash, accounts and amount.
          type: list
          elements: dict
unmatched_payments:
  description:
    - With O(ledger_account), payments that need a look, each with a plain next step; V([]) otherwise.
    - C(reason) is C(no_reservation) (a payment to the escrow whose memo is no reservation of this identity),
      C(paid_after_end) (it reached the escrow after the reservation ended, so nothing refunded it),
      C(underpaid) (a reservation still waiting for the rest) or C(overpaid) (a surplus the explorer refunds
      after paying the farmers).
  returned: always
  type: list
  elements: dict
  sample:
    - reason: no_reservation
      memo: "4711"
      reservation_id: null
      amount: "0.5000000"
      transaction_hash: 3389e9f0f1a65f19736cacf544c2e825313e8447f569233bb8db39aa607c8889
      next_step: the memo is no reservation of this identity...
"""

import time

from ansible_collections.threefold.grid.plugins.module_utils._base import ZosModule
from ansible_collections.threefold.grid.plugins.module_utils._errors import ExplorerError, ExplorerNotFound, GridError
from ansible_collections.threefold.grid.plugins.module_utils._explorer import NEXT_ACTION
from ansible_collections.threefold.grid.plugins.module_utils._ledger_account import check_account
from ansible_collections.threefold.grid.plugins.module_utils import _money_views
from ansible_collections.threefold.grid.plugins.module_utils._renewal import expires_within
from ansible_collections.threefold.grid.plugins.module_utils._session import Runner
from ansible_collections.threefold.grid.plugins.module_utils._spec import parse_duration
from ansible_collections.threefold.grid.plugins.module_utils._views import LIVE_STATES, state_name, tag_of, view


class ReservationInfoRunner(Runner):
    def wanted_states(self):
        states = set(self.params["states"] or [])
        if "live" in states:
            states.discard("live")
            states.update(LIVE_STATES)
        return states

    def matches(self, reservation, states, within, now):
        tag = tag_of(reservation) or {}
        for option, value in (("id", reservation.get("id")), ("name", tag.get("name")), ("kind", tag.get("kind"))):
            if self.params[option] is not None and value != self.params[option]:
                return False
        if within is not None and not expires_within(reservation, within, now):
            return False
        return not states or state_name(reservation) in states

    def read(self):
        tid = self.session.tid
        # The ledger needs every reservation of the identity to tell an unknown memo from a filtered-out one.
        if self.params["id"] is None or self.params["ledger_account"]:
            return _money_views.identity_reservations(self.session)
        try:
            found = [self.session.client.get_reservation(self.params["id"])]
        except ExplorerNotFound:
            return []
        except ExplorerError as error:
            raise GridError.during("Failed to list the reservations of tid %d" % tid, error) from None
        return [r for r in found if int(r.get("customer_tid") or 0) == tid]

    def run(self):
        now = int(time.time())
        states = self.wanted_states()
        within = self.params["expiring_within"]
        within = None if within is None else parse_duration(within, "expiring_within")
        if self.params["ledger_account"]:
            check_account(self.params["ledger_account"])
        everything = sorted(self.read(), key=lambda r: r.get("id") or 0)
        found = [r for r in everything if self.matches(r, states, within, now)]
        views = [view(r) for r in found]
        pricing = self.params["renewal_cost"] or self.params["expiring_within"] is not None
        unmatched = _money_views.add(self.session, found, views, everything, now, renewal=pricing,
                                     ledger_account=self.params["ledger_account"],
                                     horizon_url=self.params["horizon_url"])
        return {"changed": False, "reservations": views, "unmatched_payments": unmatched}


def main():
    ZosModule(dict(
        name=dict(type="str"),
        kind=dict(type="str", choices=["container", "volume", "network", "reservation"]),
        states=dict(type="list", elements="str", aliases=["state"], choices=sorted(NEXT_ACTION) + ["live"]),
        id=dict(type="int"),
        expiring_within=dict(type="str"),
        renewal_cost=dict(type="bool", default=False),
        ledger_account=dict(type="str"),
        horizon_url=dict(type="str"),
    ), identity=True).run(ReservationInfoRunner)


if __name__ == "__main__":
    main()
