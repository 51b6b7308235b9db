#!/usr/bin/python
# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zos_farm_info
short_description: List and filter farms of the ThreeFold Grid
version_added: 0.1.0
description:
  - Lists the farms registered in the explorer directory, or reads one farm by id.
  - Each returned farm carries RV(farms[].farm_id), which O(threefold.grid.zos_node_info#module:farm_id) takes.
  - Needs no identity.
author:
  - threefold.grid developers (@threefold-grid)
options:
  farm_id:
    description:
      - Return only this farm. The module fails if the explorer does not know it.
    type: int
  name:
    description:
      - Return only the farm with this name (exact match); V([]) if there is none.
    type: str
  owner:
    description:
      - Return only farms owned by this threebot id (tid).
    type: int
  country:
    description:
      - Return only farms located in this country (exact match, as registered).
    type: str
  with_node_count:
    description:
      - Also count the nodes of each returned farm (one more explorer query per farm).
    type: bool
    default: false
extends_documentation_fragment:
  - threefold.grid.explorer
  - threefold.grid.identity
  - threefold.grid.identity_unused
  - threefold.grid.attributes
  - threefold.grid.attributes.info_module
  - threefold.grid.attributes.actiongroup
seealso:
  - module: threefold.grid.zos_node_info
"""

EXAMPLES = r"""
- name: List every farm of the local grid
  threefold.grid.zos_farm_info:
  register: farms

- name: Read one farm and count its nodes
  threefold.grid.zos_farm_info:
    farm_id: 1
    with_node_count: true
  register: farm

- name: Use the farm to find nodes
  threefold.grid.zos_node_info:
    farm_id: "{{ farm.farms[0].farm_id }}"
    up: true

- name: Farms of one owner on the test grid
  module_defaults:
    group/threefold.grid.grid:
      network: test
  block:
    - name: List farms of tid 12
      threefold.grid.zos_farm_info:
        owner: 12
"""

RETURN = r"""
farms:
  description: The matching farms, in the explorer's order; V([]) when none match.
  returned: always
  type: list
  elements: dict
  contains:
    farm_id:
      description: The farm id; the O(threefold.grid.zos_node_info#module:farm_id) of the node filters.
      type: int
      sample: 1
    name:
      description: The farm name.
      type: str
      sample: freefarm
    threebot_id:
      description: The threebot id (tid) of the farmer who owns the farm.
      type: int
      sample: 12
    iyo_organization:
      description: The farm's ItsYouOnline organization (legacy).
      type: str
      sample: ""
    location:
      description: Where the farm is.
      type: dict
      sample: {"city": "Ghent", "country": "Belgium", "continent": "Europe", "latitude": 51.05, "longitude": 3.72}
    wallet_addresses:
      description: The Stellar addresses the farmer is paid on, per asset.
      type: list
      elements: dict
      sample: [{"asset": "TFT", "address": "GBNOTAREALADDRESS"}]
    resource_prices:
      description: The farmer's prices per resource unit, per currency (0 EUR, 1 USD, 2 TFT, 3 AED, 4 GBP).
      type: list
      elements: dict
      sample: [{"currency": 2, "cru": 1.0, "mru": 0.5, "hru": 0.01, "sru": 0.1, "nru": 0.0}]
    prefix_zero:
      description: The farm's IPv6 allocation (CIDR), or an empty string.
      type: str
      sample: 2001:db8:5e::/48
    email:
      description: The farm's email address (some explorer versions hide it from unsigned requests).
      type: str
      sample: farmer@example.com
    node_count:
      description: Number of nodes registered in the farm.
      type: int
      returned: when O(with_node_count=true)
      sample: 3
"""

from ansible_collections.threefold.grid.plugins.module_utils._base import ZosModule
from ansible_collections.threefold.grid.plugins.module_utils._errors import ExplorerError, ExplorerNotFound, GridError
from ansible_collections.threefold.grid.plugins.module_utils._session import Runner


def describe_farm(farm):
    return {
        "farm_id": farm.get("id"),
        "name": farm.get("name") or "",
        "threebot_id": farm.get("threebot_id"),
        "iyo_organization": farm.get("iyo_organization") or "",
        "location": farm.get("location") or {},
        "wallet_addresses": farm.get("wallet_addresses") or [],
        "resource_prices": farm.get("resource_prices") or [],
        "prefix_zero": farm.get("prefix_zero") or "",
        "email": farm.get("email") or "",
    }


def matches(farm, params):
    if params["name"] is not None and farm["name"] != params["name"]:
        return False
    if params["owner"] is not None and farm["threebot_id"] != params["owner"]:
        return False
    if params["country"] is not None and farm["location"].get("country") != params["country"]:
        return False
    return True


class FarmInfoRunner(Runner):
    def read_farms(self):
        client = self.session.client
        if self.params["farm_id"] is not None:
            try:
                raw = [client.get_farm(self.params["farm_id"])]
            except ExplorerNotFound as exc:
                raise self.session.not_found("Farm %s" % self.params["farm_id"], exc) from None
        else:
            raw = client.list_farms(name=self.params["name"], owner=self.params["owner"])
        farms = [farm for farm in (describe_farm(item) for item in raw if item) if matches(farm, self.params)]
        if self.params["with_node_count"]:
            for farm in farms:
                farm["node_count"] = len(client.list_nodes(farm=farm["farm_id"]))
        return farms

    def run(self):
        try:
            return {"changed": False, "farms": self.read_farms()}
        except ExplorerError as exc:
            raise GridError.during("Failed to list farms", exc) from None


def main():
    argument_spec = dict(
        farm_id=dict(type="int"),
        name=dict(type="str"),
        owner=dict(type="int"),
        country=dict(type="str"),
        with_node_count=dict(type="bool", default=False),
    )
    ZosModule(argument_spec, identity=False).run(FarmInfoRunner)


if __name__ == "__main__":
    main()
