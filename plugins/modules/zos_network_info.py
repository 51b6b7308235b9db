#!/usr/bin/python
# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zos_network_info
short_description: List the private networks of an identity on the ThreeFold Grid
version_added: 0.1.0
description:
  - Lists the networks the identity's reservations hold that M(threefold.grid.zos_network) made, each in the shape
    M(threefold.grid.zos_network) returns, filtered by O(name), O(labels), O(states) and O(node_id).
author:
  - threefold.grid developers (@threefold-grid)
extends_documentation_fragment:
  - threefold.grid.resource_info
  - threefold.grid.explorer
  - threefold.grid.identity
  - threefold.grid.attributes
  - threefold.grid.attributes.info_module
  - threefold.grid.attributes.actiongroup
seealso:
  - module: threefold.grid.zos_network
  - module: threefold.grid.zos_reservation_info
"""

EXAMPLES = r"""
- name: The live networks labelled app=web
  threefold.grid.zos_network_info:
    labels:
      app: web
  register: found

- name: One by name, whatever its state
  threefold.grid.zos_network_info:
    name: demo-net
    states: [live, delete, deleted]
  register: one
"""

RETURN = r"""
networks:
  description: The matching networks, in reservation id order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The name its resource module was given.
      type: str
      sample: demo-net
    reservation_id:
      description: Id of the reservation holding it.
      type: int
      sample: 42
    ip_range:
      description: The network's IPv4 range.
      type: str
      sample: 10.20.0.0/16
    nodes:
      description:
        - Each node of the network with its C(subnet) and C(wireguard_listen_port), as the reservation holds them.
        - M(threefold.grid.zos_network) returns more per node (keys, gateway, hidden) as it knows the plan; this
          module only the reservation.
      type: list
      elements: dict
      sample: [{"node_id": "2fi9ZZiBGW4G9pnrN656bMfW6x55RSoHDeMrd9pgSA8T", "subnet": "10.20.1.0/24",
                "wireguard_listen_port": 6001}]
    state:
      description: The reservation's computed next action (C(pay), C(deploy), C(delete), C(deleted) ...).
      type: str
      sample: deploy
    workload_state:
      description: C(pending) until the node reported, then C(ok), C(error) or C(deleted).
      type: str
      sample: ok
    expires_at:
      description: Unix time at which the reservation ends.
      type: int
      sample: 1767225600
    escrow:
      description: Always V(null) (the explorer returns escrow details only when a reservation is registered).
      type: dict
      sample: null
    error:
      description: Always V(null); a node error is in RV(networks[].results).
      type: dict
      sample: null
    labels:
      description: The labels of the reservation; V(null) when they are sealed with another identity's key.
      type: dict
      sample: {"app": "web"}
    labels_sealed:
      description: Whether the labels are sealed in the metadata.
      type: bool
      sample: false
    results:
      description: The explorer's raw results for the workload.
      type: list
      elements: dict
      sample: []
    replaced:
      description: Always V([]) (the shape of the resource module's return).
      type: list
      elements: int
      sample: []
    payment:
      description: Always V(null) (the shape of the resource module's return).
      type: dict
      sample: null
"""

from ansible_collections.threefold.grid.plugins.module_utils._base import ZosModule
from ansible_collections.threefold.grid.plugins.module_utils._resource_info import (
    ResourceInfoRunner,
    resource_info_argument_spec,
)


class NetworkInfoRunner(ResourceInfoRunner):
    kind = "network"


def main():
    ZosModule(resource_info_argument_spec()).run(NetworkInfoRunner)


if __name__ == "__main__":
    main()
