#!/usr/bin/python
# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zos_volume
short_description: Manage a storage volume on a 0-OS node of the ThreeFold Grid
version_added: 0.1.0
description:
  - Registers a named volume (a btrfs subvolume of O(size) GiB on the node's SSD pool) in its own reservation, pays
    it and waits until the node created it. Containers on the same node mount it by name or by RV(volume.volume_id)
    (see O(threefold.grid.zos_container#module:volumes)).
  - The volume is identified by O(name) among the live reservations of the identity. The same options change
    nothing; a different O(node_id), O(size) or lifetime registers a new volume and cancels the old one, which
    B(destroys the data) of the old one. O(state=absent) cancels the reservation and the node deletes the data.
author:
  - threefold.grid developers (@threefold-grid)
options:
  name:
    description:
      - Name of the volume; identifies its reservation, and containers can mount it by this name.
      - Up to 128 letters, digits, dots, dashes and underscores, starting with a letter or digit, so that it can
        serve as an inventory host name; any other name fails before anything is registered.
    type: str
    required: true
  state:
    description:
      - V(present) makes sure the volume exists as described; V(absent) cancels its reservation (the data is lost).
    type: str
    choices: [present, absent]
    default: present
  node_id:
    description:
      - Id of the 0-OS node holding the volume; it must have reported to the explorer in the last 10 minutes.
        Only containers on this node can mount the volume.
      - Required when O(state=present).
    type: str
  size:
    description:
      - Size of the volume in GiB, at least 1.
      - Required when O(state=present).
    type: int
  type:
    description:
      - Disk type of the volume. The explorer accepts only V(SSD) volumes (since tfexplorer v0.3.2); V(HDD) is
        refused by the module before anything is signed.
    type: str
    choices: [SSD, HDD]
    default: SSD
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
  idempotent:
    support: full
notes:
  - A volume belongs to the identity that reserved it; a container of another identity cannot mount it (the node
    refuses it).
  - A renewal (O(renew_before)) registers a new, empty volume that replaces the old one.
seealso:
  - module: threefold.grid.zos_container
  - module: threefold.grid.zos_node_info
  - module: threefold.grid.zos_payment
"""

EXAMPLES = r"""
- name: A 10 GiB volume for the database, paid from a wallet
  threefold.grid.zos_volume:
    name: db-data
    node_id: "{{ node }}"
    size: 10
    duration: 30d
    payment:
      stellar_secret: "{{ vault_stellar_secret }}"
  register: volume

- name: Mount it in a container on the same node
  threefold.grid.zos_container:
    name: db
    node_id: "{{ node }}"
    flist: https://hub.grid.tf/tf-official-apps/postgres:12.flist
    network_connection:
      name: demo-net
      ip_address: 10.20.1.10
    volumes:
      - volume: db-data
        mountpoint: /var/lib/postgresql/data

- name: See what the volume would cost
  threefold.grid.zos_volume:
    name: scratch
    node_id: "{{ node }}"
    size: 50
  check_mode: true
  register: would

- name: Remove the volume and its data
  threefold.grid.zos_volume:
    name: db-data
    state: absent
"""

RETURN = r"""
volume:
  description:
    - The volume's reservation. V(null) when O(state=absent) and nothing was found.
    - In check mode, when a reservation would be registered, what would be registered, with C(reservation_id) and
      C(state) V(null) and C(escrow) as estimated, so that a following M(threefold.grid.zos_payment) task also
      runs in check mode.
  returned: always
  type: dict
  contains:
    name:
      description: O(name).
      type: str
      sample: db-data
    volume_id:
      description: The volume's global workload id, C(<reservation id>-<workload id>); containers mount it by this id.
      type: str
      sample: 42-1
    reservation_id:
      description: Id of the reservation holding the volume.
      type: int
      sample: 42
    node_id:
      description: Node holding the volume.
      type: str
      sample: 2fi9ZZiBGW4G9pnrN656bMfW6x55RSoHDeMrd9pgSA8T
    size:
      description: Size in GiB.
      type: int
      sample: 10
    type:
      description: Disk type.
      type: str
      sample: SSD
    state:
      description:
        - The reservation's next action as the explorer computes it, C(pay) (waiting for payment), C(deploy) (paid,
          with the node), C(delete) (being removed) or C(deleted).
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
      sample: {"address": "GBQ3GKHP5ACY4XZ7VE3ILIAVDOTDLXGTGXSNGI6HJQRH5VOFA4QTOBVU", "asset": "TFT:GA47...",
               "amount": "0.3456000", "total_amount": 3456000, "memo": "42", "details": []}
    error:
      description: The first error the node reported (C(workload_id), C(node_id), C(category), C(message)), or V(null).
      type: dict
      sample: null
    results:
      description: The explorer's raw results for the volume.
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
  sample: {"amount": "0.3456000", "total_amount": 3456000, "currency": "TFT", "details": []}
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
from ansible_collections.threefold.grid.plugins.module_utils._resource import WORKLOAD_ID, ResourceRunner
from ansible_collections.threefold.grid.plugins.module_utils._spec import normalise_volume
from ansible_collections.threefold.grid.plugins.module_utils._workloads import volume_workload


class VolumeRunner(ResourceRunner):
    kind = "volume"
    workload_list = "volumes"

    def present(self):
        spec = normalise_volume(self.params)
        life = self.lifetime()
        node = self.lifecycle.lookup.node(spec["node_id"], "node_id")
        currencies = self.params["currencies"] or (["FreeTFT"] if node.get("free_to_use") else ["TFT"])

        def workloads():
            return {"volumes": [volume_workload(WORKLOAD_ID, spec["node_id"], spec["size"], spec["type"])]}

        return self.deploy(workloads, spec, life, currencies, self.params["payment"])


def argument_spec():
    spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        node_id=dict(type="str"),
        size=dict(type="int"),
        type=dict(type="str", choices=["SSD", "HDD"], default="SSD"),
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
    ).run(VolumeRunner)


if __name__ == "__main__":
    main()
