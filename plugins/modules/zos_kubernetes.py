#!/usr/bin/python
# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zos_kubernetes
short_description: Manage a Kubernetes cluster (k3os VMs) on 0-OS nodes of the ThreeFold Grid
version_added: 0.1.0
description:
  - Deploys a named Kubernetes cluster, a master and any number of workers, each a k3os VM on a 0-OS node in an
    existing private network (see M(threefold.grid.zos_network)). Every VM gets the cluster secret (sealed for
    its node before it is signed) and the SSH keys; workers join the master at its address on port 6443.
  - Every VM has its own reservation, tagged with the cluster's O(name) (and the worker's name), so that the
    cluster changes VM by VM. The same options change nothing. Adding a worker registers only that worker;
    removing one from O(workers) cancels only that worker (its VM and disk are destroyed). A VM whose options
    changed (node, size, address) is registered again and the old one cancelled.
  - A reservation can not be changed once signed, and a worker's VM is given the master's address and the cluster
    secret when it is installed. So a change of the master's address, of O(cluster_secret), of O(ssh_keys), of
    O(network_name) or of the lifetime replaces B(every) VM of the cluster, and so does a change of the master's node
    or size when its address changes with it.
  - O(state=absent) cancels every VM of the cluster (workers first) and waits until the nodes deleted them.
  - O(labels) apply to every VM of the cluster, as each VM's reservation carries them in its metadata, so the
    inventory groups the master and the workers alike. As for every resource, a label change alone keeps every
    VM (nothing is registered or paid again) and warns; a VM registered again for another reason (a new or
    replaced worker) gets the new labels, so the VMs of one cluster can then carry different labels until the
    others are registered again (C(labels) of each VM in RV(kubernetes.workers), and of the master).
author:
  - threefold.grid developers (@threefold-grid)
options:
  name:
    description:
      - Name of the cluster; it tags the reservation of every VM.
    type: str
    required: true
  state:
    description:
      - V(present) makes sure the cluster exists as described; V(absent) cancels all its VMs.
    type: str
    choices: [present, absent]
    default: present
  network_name:
    description:
      - Name of the private network every VM joins; it must already have a resource on each VM's node.
      - Required when O(state=present).
    type: str
  cluster_secret:
    description:
      - The k3s token the VMs share (a worker joins the master with it), sealed for each VM's node before it is
        signed. Never returned or shown in a diff; a change replaces the cluster.
      - It must not contain whitespace (0-OS passes it on the VM's kernel command line).
      - Required when O(state=present).
    type: str
  ssh_keys:
    description:
      - Public SSH keys allowed to log in to every VM as C(rancher), or C(github:<user>) to fetch that user's keys
        when the VM boots.
    type: list
    elements: str
    default: []
  size:
    description:
      - VM size used when a VM does not give its own. 0-OS v0.3 knows two sizes.
      - V(1) is 1 vCPU, 2 GiB of memory and a 50 GB SSD disk; V(2) is 2 vCPU, 4 GiB and 100 GB.
    type: int
    choices: [1, 2]
    default: 1
  master:
    description:
      - The master VM.
      - Required when O(state=present).
    type: dict
    suboptions:
      node_id:
        description: Node running the master; it must be up and in O(network_name).
        type: str
        required: true
      ip_address:
        description:
          - Address of the master in the node's subnet of O(network_name) (not C(.0), C(.1) or C(.255)).
          - When omitted, the master keeps the address of its live VM, else gets the lowest free address of the
            subnet.
        type: str
      size:
        description: Size of this VM; defaults to O(size).
        type: int
        choices: [1, 2]
  workers:
    description:
      - The worker VMs. A worker is known by its O(workers[].name); give names to remove a worker from the middle
        of the list without the following ones being renamed (and so replaced).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - Name of the worker within the cluster (no C(/)); defaults to C(worker-<position>), counting from 1.
        type: str
      node_id:
        description: Node running the worker; it must be up and in O(network_name).
        type: str
        required: true
      ip_address:
        description:
          - Address of the worker in its node's subnet of O(network_name), different from every other VM's.
          - When omitted, the worker keeps the address of its live VM, else gets the lowest free address.
        type: str
      size:
        description: Size of this VM; defaults to O(size).
        type: int
        choices: [1, 2]
  currencies:
    description:
      - Currencies offered for the escrow of each VM, in order of preference.
      - Defaults to V([FreeTFT]) when every node is free to use, else V([TFT]).
    type: list
    elements: str
    choices: [TFT, TFTA, FreeTFT]
extends_documentation_fragment:
  - threefold.grid.ledger
  - threefold.grid.labels
  - threefold.grid.explorer
  - threefold.grid.identity
  - threefold.grid.lifetime
  - threefold.grid.payment
  - threefold.grid.wait
  - threefold.grid.attributes
  - threefold.grid.attributes.actiongroup
attributes:
  check_mode:
    support: full
    details:
      - Nodes, the network and the live reservations are read, addresses chosen and the escrow of every VM to
        register is estimated; nothing is registered, paid or cancelled.
  diff_mode:
    support: full
    details:
      - The diff shows the master and each worker (cluster secret masked) before and after.
  idempotent:
    support: full
notes:
  - Each VM is paid for on its own (one escrow, one payment per registered VM); RV(estimate) is their sum.
  - VMs are deployed one after the other, the master first; a failure stops at that VM and returns the cluster as
    far as it got, with the node's message in RV(failure) and C(msg).
  - The nodes only install the VMs; the kubeconfig stays on the master (C(/etc/rancher/k3s/k3s.yaml)). The role
    C(threefold.grid.kubernetes) fetches it.
seealso:
  - module: threefold.grid.zos_network
  - module: threefold.grid.zos_node_info
  - ref: ansible_collections.threefold.grid.docsite.guide_workloads
    description: A cluster with the threefold.grid.kubernetes role, kubeconfig included.
"""

EXAMPLES = r"""
- name: A cluster of a master and two workers in network "office"
  threefold.grid.zos_kubernetes:
    name: k8s
    network_name: office
    cluster_secret: "{{ vault_k8s_secret }}"
    ssh_keys:
      - "{{ lookup('ansible.builtin.file', '~/.ssh/id_ed25519.pub') }}"
    master:
      node_id: 2fi9ZZiBGW4G9pnrN656bMfW6x55RSoHDeMrd9pgSA8T
      ip_address: 10.20.3.10
    workers:
      - name: w1
        node_id: 2fi9ZZiBGW4G9pnrN656bMfW6x55RSoHDeMrd9pgSA8T
      - name: w2
        node_id: 8zGJKrq4kuTnKEfv6PTg8VMgmUnCDhA8ir5gBmYzbCaQ
        size: 2
    labels:
      app: k3s
      env: prod
    duration: 30d
    payment:
      stellar_secret: "{{ vault_stellar_secret }}"
  register: cluster

- name: Show the addresses
  ansible.builtin.debug:
    msg: "master {{ cluster.kubernetes.master_ip }}, workers {{ cluster.kubernetes.worker_ips | join(', ') }}"

- name: What adding a worker would register and cost
  threefold.grid.zos_kubernetes:
    name: k8s
    network_name: office
    cluster_secret: "{{ vault_k8s_secret }}"
    master:
      node_id: 2fi9ZZiBGW4G9pnrN656bMfW6x55RSoHDeMrd9pgSA8T
      ip_address: 10.20.3.10
    workers:
      - {name: w1, node_id: 2fi9ZZiBGW4G9pnrN656bMfW6x55RSoHDeMrd9pgSA8T}
      - {name: w2, node_id: 8zGJKrq4kuTnKEfv6PTg8VMgmUnCDhA8ir5gBmYzbCaQ, size: 2}
      - {name: w3, node_id: 8zGJKrq4kuTnKEfv6PTg8VMgmUnCDhA8ir5gBmYzbCaQ}
    duration: 30d
  check_mode: true
  diff: true

- name: Remove the cluster
  threefold.grid.zos_kubernetes:
    name: k8s
    state: absent
"""

RETURN = r"""
kubernetes:
  description:
    - The cluster. V(null) when O(state=absent) and nothing was found. In check mode the VMs to be registered are
      shown with the addresses they would get and no reservation.
  returned: always
  type: dict
  contains:
    name:
      description: O(name).
      type: str
      sample: k8s
    network_name:
      description: O(network_name).
      type: str
      sample: office
    master_ip:
      description: Address of the master in the network.
      type: str
      sample: 10.20.3.10
    worker_ips:
      description: Address of each worker, in the order of O(workers).
      type: list
      elements: str
      sample: ["10.20.3.2", "10.20.4.2"]
    master:
      description: The master VM (keys as in RV(kubernetes.workers)).
      type: dict
    workers:
      description: The worker VMs, in the order of O(workers).
      type: list
      elements: dict
      contains:
        name:
          description: Name of the VM in the cluster (C(master) for the master).
          type: str
          sample: w1
        role:
          description: C(master) or C(worker).
          type: str
          sample: worker
        node_id:
          description: Node running the VM.
          type: str
        size:
          description: VM size.
          type: int
          sample: 1
        ip_address:
          description: Address of the VM in the network.
          type: str
          sample: 10.20.3.2
        action:
          description: What was done to this VM (C(none), C(create), C(replace), C(renew), C(cancel), C(failed)).
          type: str
          sample: create
        reservation_id:
          description: Id of the VM's reservation (V(null) in check mode for a new VM).
          type: int
          sample: 42
        workload_id:
          description: Global workload id, C(<reservation id>-<workload id>).
          type: str
          sample: 42-1
        vm_id:
          description: The VM's id as the node reports it.
          type: str
          sample: 42-1
        state:
          description: The reservation's next action as the explorer computes it.
          type: str
          sample: deploy
        workload_state:
          description: C(pending) until the node reported, then C(ok), C(error) or C(deleted).
          type: str
          sample: ok
        expires_at:
          description: Unix time at which the reservation ends.
          type: int
        escrow:
          description: What to pay for a reservation registered by this run (V(null) otherwise, or when free).
          type: dict
        error:
          description: The error the node reported (C(workload_id), C(node_id), C(category), C(message)), or V(null).
          type: dict
        results:
          description: The explorer's raw results for the VM.
          type: list
          elements: dict
        replaced:
          description: Ids of reservations this run cancelled to replace this VM.
          type: list
          elements: int
        payment:
          description: The payment made by this run for this VM, or V(null).
          type: dict
        labels:
          description:
            - The labels the VM's reservation carries (O(labels) when this run registered it); V(null) when they
              are sealed with another identity's key, or for a VM not registered yet.
          type: dict
          sample: {"app": "k3s"}
        ledger:
          description: With O(ledger), the ledger of this VM's reservation (C(paid), C(refunded), C(paid_out), C(held) ...); V(null) before it is registered.
          returned: when O(ledger) or O(ledger_account) is set
          type: dict
        labels_sealed:
          description: Whether the VM's labels are sealed in its metadata (O(seal_labels)).
          type: bool
          sample: false
    removed:
      description: Workers no longer listed in O(workers) whose VM this run cancelled (C(name), C(reservation_id), C(state)).
      type: list
      elements: dict
      sample: []
unmatched_payments:
  description: With O(ledger), payments to the escrow for no reservation of the identity or not the price of a returned one, with a C(next_step).
  returned: when O(ledger) or O(ledger_account) is set
  type: list
  elements: dict
action:
  description: C(none), C(create) (a new cluster), C(update) (some VMs registered, replaced or cancelled) or C(cancel).
  returned: always
  type: str
  sample: create
estimate:
  description: Sum of the estimated escrows of the VMs that are (or would be) registered.
  returned: when a VM is or would be registered
  type: dict
  sample: {"amount": "0.4000000", "total_amount": 4000000, "currency": "TFT", "details": []}
failure:
  description:
    - Details of a failed call; for a VM the node refused, the node's C(message), C(node_id), C(workload_id) and the
      C(member) it was.
  returned: on failure, when the explorer, the payment or a node answered with an error
  type: dict
  sample: {"member": "w2", "node_id": "8zGJKrq4kuTnKEfv6PTg8VMgmUnCDhA8ir5gBmYzbCaQ", "workload_id": "43-1",
           "category": "kubernetes", "message": "failed to reserve filesystem for vm: no space left on device"}
"""

from ansible_collections.threefold.grid.plugins.module_utils._argspec import (
    labels_argument_spec,
    ledger_argument_spec,
    reservation_argument_spec,
)
from ansible_collections.threefold.grid.plugins.module_utils._base import ZosModule
from ansible_collections.threefold.grid.plugins.module_utils._kubernetes_cluster import ClusterRunner


def argument_spec():
    vm = dict(
        node_id=dict(type="str", required=True),
        ip_address=dict(type="str"),
        size=dict(type="int", choices=[1, 2]),
    )
    spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        network_name=dict(type="str"),
        cluster_secret=dict(type="str", no_log=True),
        ssh_keys=dict(type="list", elements="str", default=[], no_log=False),
        size=dict(type="int", choices=[1, 2], default=1),
        master=dict(type="dict", options=vm),
        workers=dict(type="list", elements="dict", default=[], options=dict(vm, name=dict(type="str"))),
        currencies=dict(type="list", elements="str", choices=["TFT", "TFTA", "FreeTFT"]),
    )
    spec.update(reservation_argument_spec())
    spec.update(labels_argument_spec())
    spec.update(ledger_argument_spec())
    return spec


def main():
    ZosModule(
        argument_spec(),
        required_if=[("state", "present", ("network_name", "cluster_secret", "master"))],
        mutually_exclusive=[("duration", "expires_at")],
    ).run(ClusterRunner)


if __name__ == "__main__":
    main()
