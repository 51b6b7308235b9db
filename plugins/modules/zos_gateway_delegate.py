#!/usr/bin/python
# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zos_gateway_delegate
short_description: Delegate a domain to a TF gateway's DNS
version_added: 0.1.0
description:
  - Registers a named delegation, so that the gateway's DNS becomes authoritative for O(domain), so this identity can add
    names under it with M(threefold.grid.zos_gateway_subdomain). Point the domain's NS records at the gateway's
    RV(threefold.grid.zos_gateway_info#module:gateways[].dns_nameserver) at your registrar.
  - A domain the gateway manages itself, or one another user delegated, is refused by the gateway.
author:
  - threefold.grid developers (@threefold-grid)
options:
  domain:
    description:
      - The domain to delegate, for example V(mysite.example).
      - Required when O(state=present).
    type: str
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
  - module: threefold.grid.zos_gateway_subdomain
"""

EXAMPLES = r"""
- name: Delegate my domain to the gateway
  threefold.grid.zos_gateway_delegate:
    name: mysite-zone
    gateway_id: "{{ gateway_id }}"
    domain: mysite.example

- name: Then give names under it
  threefold.grid.zos_gateway_subdomain:
    name: mysite-www
    gateway_id: "{{ gateway_id }}"
    domain: www.mysite.example
    ips: [198.51.100.10]
"""

RETURN = r"""
delegate:
  description:
    - The reservation. V(null) when O(state=absent) and nothing was found.
    - In check mode, when a reservation would be registered, what would be registered, with C(reservation_id) and
      C(state) V(null) and C(escrow) as estimated, so that a following M(threefold.grid.zos_payment) task also
      runs in check mode.
  returned: always
  type: dict
  contains:
    domain:
      description: The delegated domain.
      type: str
      sample: mysite.example
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
from ansible_collections.threefold.grid.plugins.module_utils._gateway import GatewayRunner, normalise_domain
from ansible_collections.threefold.grid.plugins.module_utils._gateway_argspec import gateway_argument_spec, gateway_module_kwargs


class DelegateRunner(GatewayRunner):
    kind = "delegate"
    workload_list = "domain_delegates"

    def spec(self, gateway):
        return {"domain": normalise_domain(self.params["domain"])}

    def gateway_fields(self, spec):
        return {"domain": spec["domain"]}


def argument_spec():
    return gateway_argument_spec(
        domain=dict(type="str"),
    )


def main():
    ZosModule(argument_spec(), **gateway_module_kwargs("domain")).run(DelegateRunner)


if __name__ == "__main__":
    main()
