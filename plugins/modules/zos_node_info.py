#!/usr/bin/python
# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zos_node_info
short_description: List and filter 0-OS nodes of the ThreeFold Grid
version_added: 0.1.0
description:
  - Lists the nodes registered in the explorer directory, filtered by farm, location, free capacity, public
    network configuration and liveness.
  - Each returned node carries the keys the resource modules take, such as RV(nodes[].node_id) and
    RV(nodes[].public_key_hex), and the capacity that is still free.
  - Needs no identity.
author:
  - threefold.grid developers (@threefold-grid)
options:
  node_id:
    description:
      - Return only this node (its base58 id). The module fails if the explorer does not know it.
    type: str
  farm_id:
    description:
      - Return only nodes of this farm. The module fails if the farm does not exist.
    type: int
  farm_name:
    description:
      - Return only nodes of the farm with this name. The module fails if no farm has this name.
    type: str
  country:
    description:
      - Return only nodes in this country (exact match, as registered, for example V(Belgium)).
    type: str
  city:
    description:
      - Return only nodes in this city (exact match).
    type: str
  min_cru:
    description:
      - Return only nodes with at least this many free virtual CPU cores.
      - Free capacity is the total capacity minus the capacity reserved by workloads.
    type: int
  min_mru:
    description:
      - Return only nodes with at least this much free memory, in GiB.
    type: float
  min_sru:
    description:
      - Return only nodes with at least this much free SSD storage, in GiB.
    type: float
  min_hru:
    description:
      - Return only nodes with at least this much free HDD storage, in GiB.
    type: float
  public_ipv4:
    description:
      - V(true) returns only nodes whose farmer configured a public IPv4 address; V(false) only nodes without.
    type: bool
  public_ipv6:
    description:
      - V(true) returns only nodes whose farmer configured a public IPv6 address; V(false) only nodes without.
    type: bool
  free_to_use:
    description:
      - V(true) returns only nodes that can be used for free (paid in FreeTFT); V(false) only paid nodes.
    type: bool
  up:
    description:
      - V(true) returns only nodes that reported to the explorer within O(up_within) seconds; V(false) only
        nodes that did not. When not set, nodes are returned either way and RV(nodes[].up) tells which.
    type: bool
  up_within:
    description:
      - How recent, in seconds before now, the last report of a node must be for it to count as up.
    type: int
    default: 600
extends_documentation_fragment:
  - threefold.grid.explorer
  - threefold.grid.identity
  - threefold.grid.identity_unused
  - threefold.grid.attributes
  - threefold.grid.attributes.info_module
  - threefold.grid.attributes.actiongroup
seealso:
  - module: threefold.grid.zos_farm_info
  - module: threefold.grid.zos_identity
"""

EXAMPLES = r"""
- name: Find up nodes in Belgium with 2 free cores, 4 GiB memory and 20 GiB SSD
  threefold.grid.zos_node_info:
    country: Belgium
    min_cru: 2
    min_mru: 4
    min_sru: 20
    up: true
  register: candidates

- name: Deploy on the first candidate
  ansible.builtin.debug:
    msg: "Using node {{ candidates.nodes[0].node_id }} of farm {{ candidates.nodes[0].farm_id }}"
  when: candidates.nodes | length > 0

- name: Nodes of one farm that have a public IPv4 address, on the test grid
  threefold.grid.zos_node_info:
    network: test
    farm_name: freefarm
    public_ipv4: true

- name: Look up one node against a localgrid on another port
  module_defaults:
    group/threefold.grid.grid:
      network: local
      explorer_url: http://127.0.0.1:8081/explorer
  block:
    - name: Read one node
      threefold.grid.zos_node_info:
        node_id: 82mzXa5Xe1iuUHwiDUvFgQL4EQTPM5m1orKMi7YMQvDd
"""

RETURN = r"""
nodes:
  description: The matching nodes, in the explorer's order; V([]) when none match.
  returned: always
  type: list
  elements: dict
  contains:
    node_id:
      description: The node id (base58 of the node's ed25519 public key); the O(node_id) of resource modules.
      type: str
      sample: 82mzXa5Xe1iuUHwiDUvFgQL4EQTPM5m1orKMi7YMQvDd
    id:
      description: The explorer's internal record number of the node.
      type: int
      sample: 3
    farm_id:
      description: The id of the node's farm.
      type: int
      sample: 1
    farm_name:
      description: The name of the node's farm (empty if the farm is unknown).
      type: str
      sample: freefarm
    location:
      description: Where the node is.
      type: dict
      sample: {"city": "Ghent", "country": "Belgium", "continent": "Europe", "latitude": 51.05, "longitude": 3.72}
    total_resources:
      description: Total capacity; C(cru) in cores, C(mru), C(sru) and C(hru) in GiB.
      type: dict
      sample: {"cru": 8, "mru": 32.0, "sru": 512.0, "hru": 4096.0}
    reserved_resources:
      description: Capacity reserved by deployed workloads, as reported by the node.
      type: dict
      sample: {"cru": 2, "mru": 4.0, "sru": 50.0, "hru": 0.0}
    used_resources:
      description: Capacity in use, as reported by the node.
      type: dict
      sample: {"cru": 1, "mru": 2.0, "sru": 10.0, "hru": 0.0}
    free_resources:
      description: Total minus reserved capacity, never below zero; the figures the O(min_cru) etc. filters use.
      type: dict
      sample: {"cru": 6, "mru": 28.0, "sru": 462.0, "hru": 4096.0}
    public_ipv4:
      description: The public IPv4 address (CIDR) the farmer configured, or V(null).
      type: str
      sample: 192.0.2.120/24
    public_ipv6:
      description: The public IPv6 address (CIDR) the farmer configured, or V(null).
      type: str
      sample: 2001:db8:5e:0:1000::f5/64
    public_config:
      description: The node's public interface configuration as stored by the explorer, or V(null).
      type: dict
      sample: {"master": "eth1", "type": 0, "ipv4": "192.0.2.120/24", "gw4": "192.0.2.1",
               "ipv6": "2001:db8:5e:0:1000::f5/64", "gw6": "2001:db8:5e::1", "version": 1}
    wg_ports:
      description: WireGuard ports already in use on the node; choose another one for a new network.
      type: list
      elements: int
      sample: [6000, 6001]
    public_key_hex:
      description: The node's ed25519 public key in hex; secrets are sealed for this key.
      type: str
      sample: 687643012371bc439a905161f5c8dd0632b46de1514b13fe29505b414059a888
    free_to_use:
      description: Whether the node is paid in FreeTFT.
      type: bool
      sample: false
    approved:
      description: Whether the farmer approved the node.
      type: bool
      sample: true
    up:
      description: Whether the node reported within O(up_within) seconds.
      type: bool
      sample: true
    updated:
      description: Unix time of the node's last report.
      type: int
      sample: 1764350000
    uptime:
      description: Seconds since the node booted, as last reported.
      type: int
      sample: 86400
    os_version:
      description: The 0-OS version the node runs.
      type: str
      sample: v0.3.1
    hostname:
      description: The node's host name (explorers from v0.3.2 publish it; empty otherwise).
      type: str
      sample: kristof-lochristi-1
    created:
      description: Unix time the node first registered.
      type: int
      sample: 1589000000
"""

import time

from ansible_collections.threefold.grid.plugins.module_utils._base import ZosModule
from ansible_collections.threefold.grid.plugins.module_utils._errors import ExplorerError, ExplorerNotFound, GridError
from ansible_collections.threefold.grid.plugins.module_utils._nodes import CAPACITY_KEYS, describe_node, matches
from ansible_collections.threefold.grid.plugins.module_utils._session import Runner


class NodeInfoRunner(Runner):
    @property
    def client(self):
        return self.session.client

    def farm_id(self):
        """The farm to filter on, checked to exist so a typo fails instead of returning []."""
        farm_id, farm_name = self.params["farm_id"], self.params["farm_name"]
        if farm_name is not None:
            farms = [farm for farm in self.client.list_farms(name=farm_name) if farm.get("name") == farm_name]
            if not farms:
                raise GridError("Farm %s does not exist in the explorer at %s" % (farm_name, self.session.explorer_url))
            if farm_id is not None and farm_id != farms[0]["id"]:
                raise GridError("farm_id %s and farm_name %s name different farms (%s has id %s)"
                                % (farm_id, farm_name, farm_name, farms[0]["id"]))
            return farms[0]["id"]
        if farm_id is not None:
            try:
                self.client.get_farm(farm_id)
            except ExplorerNotFound as exc:
                raise self.session.not_found("Farm %s" % farm_id, exc) from None
        return farm_id

    def raw_nodes(self, farm_id):
        node_id = self.params["node_id"]
        if node_id:
            try:
                node = self.client.get_node(node_id)
            except ExplorerNotFound as exc:
                raise self.session.not_found("Node %s" % node_id, exc) from None
            return [node] if node else []
        # The explorer filters on total capacity; a cheap first cut before the free-capacity check.
        totals = dict((key, int(self.params["min_" + key])) for key in CAPACITY_KEYS
                      if self.params["min_" + key])
        return self.client.list_nodes(farm=farm_id, country=self.params["country"], city=self.params["city"],
                                      **totals)

    def run(self):
        try:
            farm_id = self.farm_id()
            raw = self.raw_nodes(farm_id)
            farm_names = {}
            if raw:
                farm_names = dict((farm.get("id"), farm.get("name") or "") for farm in self.client.list_farms())
        except ExplorerError as exc:
            raise GridError.during("Failed to list nodes", exc) from None
        now = time.time()
        described = [describe_node(node, farm_names, now, self.params["up_within"]) for node in raw]
        return {"changed": False, "nodes": [node for node in described if matches(node, self.params, farm_id)]}


def main():
    argument_spec = dict(node_id=dict(type="str"), farm_id=dict(type="int"), farm_name=dict(type="str"),
                         country=dict(type="str"), city=dict(type="str"), up_within=dict(type="int", default=600))
    # Free capacity at least: whole cores, GiB of memory and disk.
    argument_spec.update(("min_" + key, dict(type="int" if key == "cru" else "float")) for key in CAPACITY_KEYS)
    argument_spec.update((flag, dict(type="bool")) for flag in ("public_ipv4", "public_ipv6", "free_to_use", "up"))
    ZosModule(argument_spec, identity=False).run(NodeInfoRunner)


if __name__ == "__main__":
    main()
