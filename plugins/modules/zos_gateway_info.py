#!/usr/bin/python
# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zos_gateway_info
short_description: List and filter the TF gateways of the ThreeFold Grid
version_added: 0.1.0
description:
  - Lists the gateways registered in the explorer directory, filtered by location, liveness and whether they are
    free to use.
  - Each returned gateway carries what the zos_gateway_* modules need, such as RV(gateways[].node_id) (their
    O(threefold.grid.zos_gateway_subdomain#module:gateway_id)) and the RV(gateways[].managed_domains) users get
    free names under.
  - Needs no identity.
author:
  - threefold.grid developers (@threefold-grid)
options:
  gateway_id:
    description:
      - Return only this gateway. The module fails if the explorer does not know it.
    type: str
  country:
    description:
      - Return only gateways in this country (exact match, as the explorer stores it).
    type: str
  city:
    description:
      - Return only gateways in this city.
    type: str
  free_to_use:
    description:
      - Return only gateways that are (V(true)) or are not (V(false)) free to use.
    type: bool
  up:
    description:
      - Return only gateways that reported within O(up_within) seconds (V(true)), or only those that did not.
    type: bool
  up_within:
    description:
      - How recent the last report of a gateway that is up must be, in seconds.
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
  - module: threefold.grid.zos_gateway_subdomain
  - module: threefold.grid.zos_node_info
"""

EXAMPLES = r"""
- name: Gateways in Belgium that are up
  threefold.grid.zos_gateway_info:
    country: Belgium
    up: true
  register: gw

- name: Name a web app under the first gateway's managed domain
  ansible.builtin.set_fact:
    app_domain: "shop.{{ gw.gateways[0].managed_domains[0] }}"
"""

RETURN = r"""
gateways:
  description: The gateways that match, in the explorer's order.
  returned: always
  type: list
  elements: dict
  contains:
    node_id:
      description: Id of the gateway; the O(threefold.grid.zos_gateway_subdomain#module:gateway_id) of the gateway modules.
      type: str
      sample: BmwWovsGEMbHZXvyxJMVJagPYW5ysChUG2o66bCnWPUd
    id:
      description: Directory row id.
      type: int
      sample: 1
    farm_id:
      description: Farm of the gateway (0 when it gave none).
      type: int
      sample: 1
    location:
      description: City, country, continent, latitude and longitude.
      type: dict
      sample: {"city": "Ghent", "country": "Belgium", "continent": "Europe", "latitude": 51.05, "longitude": 3.72}
    managed_domains:
      description: Domains the gateway manages itself; anyone may take a free name under them.
      type: list
      elements: str
      sample: [ghent.grid.example]
    dns_nameserver:
      description: Name servers to point a delegated domain's NS records at.
      type: list
      elements: str
      sample: [ns1.ghent.grid.example]
    tcp_router_port:
      description: Port reverse-tunnel clients connect to.
      type: int
      sample: 18000
    free_to_use:
      description: Whether the gateway takes FreeTFT reservations.
      type: bool
      sample: true
    workloads:
      description: How many workloads of each kind the gateway serves.
      type: dict
      sample: {"proxy": 0, "reverse_proxy": 0, "subdomain": 2, "delegate_domain": 1}
    public_key_hex:
      description: The gateway's ed25519 public key; reverse-proxy secrets are sealed for it.
      type: str
      sample: 4b1e...
    up:
      description: Whether it reported within O(up_within) seconds.
      type: bool
      sample: true
    updated:
      description: Unix time of its last report.
      type: int
      sample: 1767225600
    uptime:
      description: Seconds since it started, as it last reported.
      type: int
      sample: 3600
    os_version:
      description: Version it reports.
      type: str
      sample: v0.3.2
"""

import time

from ansible_collections.threefold.grid.plugins.module_utils._base import ZosModule
from ansible_collections.threefold.grid.plugins.module_utils._errors import ExplorerError, ExplorerNotFound, GridError
from ansible_collections.threefold.grid.plugins.module_utils._session import Runner


def describe_gateway(gateway, now, up_within):
    updated = gateway.get("updated") or 0
    return {
        "node_id": gateway.get("node_id"),
        "id": gateway.get("id"),
        "farm_id": gateway.get("farm_id") or 0,
        "location": gateway.get("location") or {},
        "managed_domains": list(gateway.get("managed_domains") or []),
        "dns_nameserver": list(gateway.get("dns_nameserver") or []),
        "tcp_router_port": gateway.get("tcp_router_port") or 0,
        "free_to_use": bool(gateway.get("free_to_use")),
        "workloads": gateway.get("workloads") or {},
        "public_key_hex": gateway.get("public_key_hex") or "",
        "up": updated > 0 and now - updated <= up_within,
        "updated": updated,
        "uptime": gateway.get("uptime") or 0,
        "os_version": gateway.get("os_version") or "",
    }


def matches(gateway, params):
    for key in ("country", "city"):
        if params[key] is not None and gateway["location"].get(key) != params[key]:
            return False
    for key in ("free_to_use", "up"):
        if params[key] is not None and gateway[key] != params[key]:
            return False
    return True


class GatewayInfoRunner(Runner):
    def raw_gateways(self):
        client = self.session.client
        gateway_id = self.params["gateway_id"]
        if gateway_id:
            try:
                return [client.get("/gateways/%s" % gateway_id)]
            except ExplorerNotFound as exc:
                raise self.session.not_found("Gateway %s" % gateway_id, exc) from None
        query = dict((key, self.params[key]) for key in ("country", "city") if self.params[key] is not None)
        return client.get_all("/gateways", params=query)

    def run(self):
        try:
            raw = self.raw_gateways()
        except ExplorerError as exc:
            raise GridError.during("Failed to list gateways", exc) from None
        now = time.time()
        described = [describe_gateway(gateway, now, self.params["up_within"]) for gateway in raw]
        return {"changed": False, "gateways": [g for g in described if matches(g, self.params)]}


def main():
    argument_spec = dict(gateway_id=dict(type="str"), country=dict(type="str"), city=dict(type="str"),
                         free_to_use=dict(type="bool"), up=dict(type="bool"), up_within=dict(type="int", default=600))
    ZosModule(argument_spec, identity=False).run(GatewayInfoRunner)


if __name__ == "__main__":
    main()
