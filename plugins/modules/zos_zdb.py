#!/usr/bin/python
# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zos_zdb
short_description: Manage a 0-DB namespace on a 0-OS node of the ThreeFold Grid
version_added: 0.1.0
description:
  - Registers a named 0-DB namespace (O(size) GiB on the node's pool of O(disk_type), served by the node's 0-DB on
    port 9900) in its own reservation, pays it and waits until the node created it.
  - The namespace is identified by O(name) among the live reservations of the identity. The same options change
    nothing; any other value (or lifetime) registers a new namespace and cancels the old one, which B(destroys its
    data). O(state=absent) cancels the reservation and waits until the node deleted the namespace.
author:
  - threefold.grid developers (@threefold-grid)
options:
  name:
    description:
      - Name of the namespace's reservation.
      - Up to 128 letters, digits, dots, dashes and underscores, starting with a letter or digit, so that it can
        serve as an inventory host name; any other name fails before anything is registered.
    type: str
    required: true
  state:
    description:
      - V(present) makes sure the namespace exists as described; V(absent) cancels its reservation (the data is lost).
    type: str
    choices: [present, absent]
    default: present
  node_id:
    description:
      - Id of the 0-OS node holding the namespace; it must have reported to the explorer in the last 10 minutes.
      - Required when O(state=present).
    type: str
  size:
    description:
      - Size of the namespace in GiB, from 1 to 65536.
      - Required when O(state=present).
    type: int
  mode:
    description:
      - V(user) is a key-value store; V(seq) a sequential store (keys are assigned by 0-DB).
    type: str
    choices: [seq, user]
    default: user
  password:
    description:
      - Password of the namespace, sealed for the node before it is signed; it is never returned or shown in a diff
        (a change of password still replaces the namespace). Without it the namespace is open to anyone who can
        reach it.
    type: str
  disk_type:
    description:
      - Pool the namespace is carved from.
    type: str
    choices: [SSD, HDD]
    default: SSD
  public:
    description:
      - Whether the namespace is public (read-only access without the password).
    type: bool
    default: false
  currencies:
    description:
      - Currencies offered for the escrow, in order of preference.
      - Defaults to V([FreeTFT]) on a free-to-use node and V([TFT]) on any other node.
    type: list
    elements: str
    choices: [TFT, TFTA, FreeTFT]
extends_documentation_fragment:
  - threefold.grid.ledger
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
      - The node and the live reservation are read and the escrow is estimated; nothing is registered or paid.
  diff_mode:
    support: full
    details:
      - A replacement whose only change is a secret value lists it under C(secrets), for example
        C(password) marked "(changed)" after and C(********) before; the value is never shown.
  idempotent:
    support: full
notes:
  - Nodes up to 0-OS v0.3.4 report one address (C(IP)), later ones a list (C(IPs)); RV(zdb.ips) is a list in both
    cases.
seealso:
  - module: threefold.grid.zos_node_info
  - module: threefold.grid.zos_volume
"""

EXAMPLES = r"""
- name: A 10 GiB key-value namespace with a password
  threefold.grid.zos_zdb:
    name: backups
    node_id: "{{ node }}"
    size: 10
    password: "{{ vault_zdb_password }}"
    payment:
      stellar_secret: "{{ vault_stellar_secret }}"
  register: zdb

- name: Connect with redis-cli
  ansible.builtin.debug:
    msg: "redis-cli -h {{ zdb.zdb.ips[0] }} -p {{ zdb.zdb.port }} SELECT {{ zdb.zdb.namespace }} <password>"

- name: Remove the namespace and its data
  threefold.grid.zos_zdb:
    name: backups
    state: absent
"""

RETURN = r"""
zdb:
  description:
    - The namespace's reservation. V(null) when O(state=absent) and nothing was found.
    - In check mode, when a reservation would be registered, what would be registered, with C(reservation_id) and
      C(state) V(null) and C(escrow) as estimated, so that a following M(threefold.grid.zos_payment) task also
      runs in check mode.
  returned: always
  type: dict
  contains:
    name:
      description: O(name).
      type: str
      sample: backups
    reservation_id:
      description: Id of the reservation holding the namespace.
      type: int
      sample: 42
    workload_id:
      description: Global workload id, C(<reservation id>-<workload id>).
      type: str
      sample: 42-1
    node_id:
      description: Node holding the namespace.
      type: str
      sample: 2fi9ZZiBGW4G9pnrN656bMfW6x55RSoHDeMrd9pgSA8T
    namespace:
      description: Name of the namespace on the node's 0-DB, as the node reports it.
      type: str
      sample: 42-1
    ips:
      description: Addresses of the node's 0-DB, as the node reports them (empty until it did).
      type: list
      elements: str
      sample: ["2001:db8:5e:0:a8f0:1ff:fe02:3"]
    port:
      description: Port of the node's 0-DB.
      type: int
      sample: 9900
    size:
      description: Size in GiB.
      type: int
      sample: 10
    mode:
      description: V(seq) or V(user).
      type: str
      sample: user
    state:
      description: The reservation's next action as the explorer computes it (C(pay), C(deploy), C(delete), C(deleted)).
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
      description: What to pay for a reservation registered by this run (V(null) otherwise, or when free).
      type: dict
      sample: null
    error:
      description: The first error the node reported (C(workload_id), C(node_id), C(category), C(message)), or V(null).
      type: dict
      sample: null
    results:
      description: The explorer's raw results for the namespace.
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
      description: The payment made by this run (transaction hash, amount, asset, destination, memo), or V(null).
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
estimate:
  description: Estimated escrow of the reservation that is (or would be) registered.
  returned: when a reservation is or would be registered
  type: dict
  sample: {"amount": "0.0200000", "total_amount": 200000, "currency": "TFT", "details": []}
failure:
  description: Details of a failed explorer or payment call.
  returned: on failure, when the explorer or the payment answered with an error
  type: dict
  sample: {"status": 400, "method": "POST", "path": "/reservations", "message": "invalid request wrong status 'delete'"}
"""

from ansible_collections.threefold.grid.plugins.module_utils._argspec import (
    labels_argument_spec,
    ledger_argument_spec,
    reservation_argument_spec,
)
from ansible_collections.threefold.grid.plugins.module_utils._base import ZosModule
from ansible_collections.threefold.grid.plugins.module_utils._crypto import encrypt_for_node
from ansible_collections.threefold.grid.plugins.module_utils._resource import WORKLOAD_ID, ResourceRunner
from ansible_collections.threefold.grid.plugins.module_utils._zdb import normalise_zdb, zdb_workload


class ZdbRunner(ResourceRunner):
    kind = "zdb"
    workload_list = "zdbs"

    def present(self):
        spec = normalise_zdb(self.params)
        life = self.lifetime()
        node = self.lifecycle.lookup.node(spec["node_id"], "node_id")
        currencies = self.params["currencies"] or (["FreeTFT"] if node.get("free_to_use") else ["TFT"])

        def workloads():
            return {"zdbs": [zdb_workload(spec, WORKLOAD_ID, encrypt_for_node)]}

        return self.deploy(workloads, spec, life, currencies, self.params["payment"])


def argument_spec():
    spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        node_id=dict(type="str"),
        size=dict(type="int"),
        mode=dict(type="str", choices=["seq", "user"], default="user"),
        password=dict(type="str", no_log=True),
        disk_type=dict(type="str", choices=["SSD", "HDD"], default="SSD"),
        public=dict(type="bool", default=False),
        currencies=dict(type="list", elements="str", choices=["TFT", "TFTA", "FreeTFT"]),
    )
    spec.update(reservation_argument_spec())
    spec.update(labels_argument_spec())
    spec.update(ledger_argument_spec())
    return spec


def main():
    ZosModule(
        argument_spec(),
        required_if=[("state", "present", ("node_id", "size"))],
        mutually_exclusive=[("duration", "expires_at")],
    ).run(ZdbRunner)


if __name__ == "__main__":
    main()
