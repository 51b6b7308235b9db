#!/usr/bin/python
# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zos_gateway_proxy
short_description: Forward a domain's TCP traffic through a TF gateway
version_added: 0.1.0
description:
  - Registers a named TCP proxy, so that the gateway's TCP router forwards connections for O(domain) (by HTTP Host or
    TLS SNI) to O(addr) on O(port) (plain) and O(port_tls) (TLS).
  - O(domain) must be under one of the gateway's managed domains or a domain this identity delegated to it; a domain
    another user routes is refused by the gateway.
author:
  - threefold.grid developers (@threefold-grid)
options:
  domain:
    description:
      - The name clients connect to.
      - Required when O(state=present).
    type: str
  addr:
    description:
      - Address (IP) the traffic is forwarded to.
      - Required when O(state=present).
    type: str
  port:
    description:
      - Port plain (HTTP) traffic is forwarded to, from 1 to 65535.
    type: int
    default: 80
  port_tls:
    description:
      - Port TLS traffic is forwarded to, from 1 to 65535.
    type: int
    default: 443
extends_documentation_fragment:
  - threefold.grid.ledger
  - threefold.grid.gateway
  - threefold.grid.explorer
  - threefold.grid.identity
  - threefold.grid.lifetime
  - threefold.grid.labels
  - threefold.grid.payment
  - threefold.grid.wait
  - threefold.grid.attributes
  - threefold.grid.attributes.actiongroup
attributes:
  check_mode:
    support: full
    details:
      - The gateway and the live reservation are read; nothing is registered.
  diff_mode:
    support: full
  idempotent:
    support: full
seealso:
  - module: threefold.grid.zos_gateway_info
  - module: threefold.grid.zos_gateway_reverse_proxy
"""

EXAMPLES = r"""
- name: Route app.<managed domain> to the web server
  threefold.grid.zos_gateway_proxy:
    name: app-proxy
    gateway_id: "{{ gateway_id }}"
    domain: app.ghent.grid.example
    addr: 198.51.100.4
    port: 8080
    port_tls: 8443
"""

RETURN = r"""
proxy:
  description:
    - The reservation. V(null) when O(state=absent) and nothing was found.
    - In check mode, when a reservation would be registered, what would be registered, with C(reservation_id) and
      C(state) V(null) and C(escrow) as estimated, so that a following M(threefold.grid.zos_payment) task also
      runs in check mode.
  returned: always
  type: dict
  contains:
    domain:
      description: The routed name.
      type: str
      sample: app.ghent.grid.example
    addr:
      description: Destination address.
      type: str
      sample: 198.51.100.4
    port:
      description: Destination port for plain traffic.
      type: int
      sample: 80
    port_tls:
      description: Destination port for TLS traffic.
      type: int
      sample: 443
    name:
      description: O(name).
      type: str
      sample: web
    reservation_id:
      description: Id of the reservation.
      type: int
      sample: 42
    workload_id:
      description: Global workload id, C(<reservation id>-<workload id>).
      type: str
      sample: 42-1
    gateway_id:
      description: The gateway serving it.
      type: str
      sample: BmwWovsGEMbHZXvyxJMVJagPYW5ysChUG2o66bCnWPUd
    state:
      description: The reservation's next action as the explorer computes it (C(pay), C(deploy), C(delete), C(deleted)).
      type: str
      sample: deploy
    workload_state:
      description: C(pending) until the gateway reported, then C(ok), C(error) or C(deleted).
      type: str
      sample: ok
    expires_at:
      description: Unix time at which the reservation ends.
      type: int
      sample: 1767225600
    escrow:
      description: The escrow of a reservation registered by this run (V(null) otherwise, or when free).
      type: dict
      sample: null
    error:
      description: The first error the gateway reported (C(workload_id), C(node_id), C(category), C(message)), or V(null).
      type: dict
      sample: null
    results:
      description: The explorer's raw results.
      type: list
      elements: dict
      sample: []
    labels:
      description:
        - The labels the reservation carries (O(labels) when this run registered it). V(null) when they are sealed
          with another identity's key.
      type: dict
      sample: {"app": "web"}
    ledger:
      description: With O(ledger), the ledger of the reservation (C(paid), C(refunded), C(paid_out), C(held), C(movements)); V(null) before it is registered.
      returned: when O(ledger) or O(ledger_account) is set
      type: dict
    labels_sealed:
      description: Whether the labels are sealed in the metadata (O(seal_labels)).
      type: bool
      sample: false
    replaced:
      description: Ids of reservations this run cancelled to replace them.
      type: list
      elements: int
      sample: []
    payment:
      description: The payment made by this run, or V(null).
      type: dict
      sample: null
unmatched_payments:
  description: With O(ledger), payments to the escrow for no reservation of the identity or not the price of a returned one, with a C(next_step).
  returned: when O(ledger) or O(ledger_account) is set
  type: list
  elements: dict
action:
  description: What the module did or, in check mode, would do.
  returned: always
  type: str
  choices: [none, create, replace, renew, cancel]
  sample: create
failure:
  description: Details of a failed explorer call.
  returned: on failure, when the explorer answered with an error
  type: dict
  sample: {"status": 500, "method": "POST", "path": "/reservations", "message": "mongo: no documents in result"}
"""

from ansible_collections.threefold.grid.plugins.module_utils._base import ZosModule
from ansible_collections.threefold.grid.plugins.module_utils._gateway import (
    GatewayRunner, check_managed, check_port, normalise_domain, normalise_ip_list,
)
from ansible_collections.threefold.grid.plugins.module_utils._gateway_argspec import gateway_argument_spec, gateway_module_kwargs


class ProxyRunner(GatewayRunner):
    kind = "proxy"
    workload_list = "proxies"

    def spec(self, gateway):
        domain = normalise_domain(self.params["domain"])
        check_managed(domain, gateway, self.delegated_zones(gateway["node_id"]))
        return {"domain": domain, "addr": normalise_ip_list([self.params["addr"]], "addr")[0],
                "port": check_port(self.params["port"], "port"),
                "port_tls": check_port(self.params["port_tls"], "port_tls")}

    def gateway_fields(self, spec):
        return {"domain": spec["domain"], "addr": spec["addr"], "port": spec["port"], "port_tls": spec["port_tls"]}


def argument_spec():
    return gateway_argument_spec(
        domain=dict(type="str"),
        addr=dict(type="str"),
        port=dict(type="int", default=80),
        port_tls=dict(type="int", default=443),
    )


def main():
    ZosModule(argument_spec(), **gateway_module_kwargs("domain", "addr")).run(ProxyRunner)


if __name__ == "__main__":
    main()
