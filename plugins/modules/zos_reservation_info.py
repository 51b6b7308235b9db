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
notes:
  - The explorer returns escrow details only when a reservation is registered, so RV(reservations[].escrow) is
    always V(null) here.
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
"""

from ansible_collections.threefold.grid.plugins.module_utils._base import ZosModule
from ansible_collections.threefold.grid.plugins.module_utils._errors import ExplorerError, ExplorerNotFound, GridError
from ansible_collections.threefold.grid.plugins.module_utils._explorer import NEXT_ACTION
from ansible_collections.threefold.grid.plugins.module_utils._lookup import explorer_call
from ansible_collections.threefold.grid.plugins.module_utils._session import Runner
from ansible_collections.threefold.grid.plugins.module_utils._views import LIVE_STATES, state_name, tag_of, view


class ReservationInfoRunner(Runner):
    def wanted_states(self):
        states = set(self.params["states"] or [])
        if "live" in states:
            states.discard("live")
            states.update(LIVE_STATES)
        return states

    def matches(self, reservation, states):
        tag = tag_of(reservation) or {}
        for option, value in (("id", reservation.get("id")), ("name", tag.get("name")), ("kind", tag.get("kind"))):
            if self.params[option] is not None and value != self.params[option]:
                return False
        return not states or state_name(reservation) in states

    def read(self):
        tid = self.session.tid
        what = "list the reservations of tid %d" % tid
        if self.params["id"] is None:
            return explorer_call(what, self.session.client.list_reservations, customer_tid=tid)
        try:
            found = [self.session.client.get_reservation(self.params["id"])]
        except ExplorerNotFound:
            return []
        except ExplorerError as error:
            raise GridError.during("Failed to " + what, error) from None
        return [r for r in found if int(r.get("customer_tid") or 0) == tid]

    def run(self):
        states = self.wanted_states()
        found = self.read()
        return {"changed": False,
                "reservations": [view(r) for r in sorted(found, key=lambda r: r.get("id") or 0)
                                 if self.matches(r, states)]}


def main():
    ZosModule(dict(
        name=dict(type="str"),
        kind=dict(type="str", choices=["container", "volume", "network", "reservation"]),
        states=dict(type="list", elements="str", aliases=["state"], choices=sorted(NEXT_ACTION) + ["live"]),
        id=dict(type="int"),
    ), identity=True).run(ReservationInfoRunner)


if __name__ == "__main__":
    main()
