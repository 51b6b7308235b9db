#!/usr/bin/python
# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zos_containers
short_description: Run many containers on ThreeFold Grid 0-OS nodes in one task, in parallel
version_added: 0.2.0
description:
  - Does for each item of O(containers) what M(threefold.grid.zos_container) does for one container, with the same
    options, the same checks, the same idempotence (per item) and the same protection against paying twice, but in
    one task and in parallel threads, so that a fleet costs one task instead of one task per container.
  - "Three passes, each over the containers with at most O(parallel) threads: first every container is planned as
    in check mode (its options, node, network, address and volumes checked, its reservation compared with the live
    one, its price estimated and the wallet checked); then the containers whose plan changes something are
    registered and paid, without waiting; then, with O(wait=true), the module waits once for all of them within
    one O(wait_timeout). When 10 or more are waited for, each poll reads them through one listing of the identity's
    live reservations instead of one read each (unless the identity has over four times as many live ones)."
  - When any container is wrong (bad option, unknown node, address outside the node's subnet, two items with one
    name or one address, a wallet that cannot pay them all together), the task fails listing every wrong item, and
    nothing is signed, registered or paid.
  - A container that fails later (the explorer refuses it, a node reports an error, it is not deployed in time)
    fails the task with its message, while every other container is still done and returned in RV(containers).
  - Payments come from one wallet (O(payment)) and take turns within the task, so they never meet C(tx_bad_seq)
    among themselves (see the guide's "Large fleets" section); on the public Stellar network a wallet pays once per
    ledger (about 5 seconds), which bounds how fast a new fleet is paid.
author:
  - threefold.grid developers (@threefold-grid)
options:
  defaults:
    description:
      - Options shared by every item of O(containers). An item's own value wins; a dict option given in both
        (O(containers[].capacity), O(containers[].network_connection), O(containers[].env), ...) is merged key by
        key, with the item's keys winning.
      - Takes every suboption of O(containers) except O(containers[].name).
    type: dict
    default: {}
    suboptions: &container_options
      state:
        description:
          - V(present) (the default) or V(absent), as M(threefold.grid.zos_container)'s O(threefold.grid.zos_container#module:state).
        type: str
        choices: [present, absent]
      node_id:
        description:
          - Id of the 0-OS node to run the container on; it must have reported to the explorer in the last 10 minutes.
          - Required for a present container (placement is not offered in a batch; use M(threefold.grid.zos_container)).
        type: str
      flist:
        description:
          - HTTP(S) URL of the flist holding the root filesystem, ending in C(.flist). Required for a present container.
        type: str
      hub_url:
        description: Storage URL of the flist data; empty (the default) uses V(zdb://hub.grid.tf:9900).
        type: str
      env:
        description: Environment variables of the container (names match C(^[A-Za-z_][A-Za-z0-9_]*$)).
        type: dict
      secret_env:
        description:
          - Environment variables whose values are encrypted for the node; never logged or returned.
        type: dict
      entrypoint:
        description: Command started in the container; empty (the default) uses the flist's C(.startup.toml).
        type: str
      interactive:
        description: Run coreX as the container's first process (default V(false)).
        type: bool
      volumes:
        description: Volumes to mount; they must be live and on the container's node.
        type: list
        elements: dict
        suboptions:
          volume:
            description: The name of a M(threefold.grid.zos_volume) volume, or its id C(<reservation id>-<workload id>).
            type: str
          mountpoint:
            description: Absolute path in the container.
            type: str
      capacity:
        description: Resources of the container.
        type: dict
        suboptions:
          cpu:
            description: Virtual CPUs, 1 to 32 (default 1).
            type: int
          memory:
            description: Memory in MiB, 256 to 262144 (default 1024).
            type: int
          disk_size:
            description: Size of the writable root filesystem in MiB, 256 to 1048576 (default 256).
            type: int
          disk_type:
            description: Disk type of the root filesystem (default V(SSD)).
            type: str
            choices: [SSD, HDD]
      network_connection:
        description:
          - The private network the container joins; it must be live and have a resource on the container's node.
            Required for a present container.
        type: dict
        suboptions:
          name:
            description: Name of the network.
            type: str
          ip_address:
            description: IPv4 address of the container, a host of the network's /24 on the node.
            type: str
          public_ipv6:
            description: Also give the container a public IPv6 address (default V(false)).
            type: bool
      logs:
        description: Redis channels the node publishes the container's stdout and stderr lines to.
        type: list
        elements: dict
        suboptions:
          stdout:
            description: Channel URL for stdout, V(redis://host[:port]/channel).
            type: str
          stderr:
            description: Channel URL for stderr, V(redis://host[:port]/channel).
            type: str
      currencies:
        description: Currencies offered for the escrow, in order of preference (default V([TFT])).
        type: list
        elements: str
        choices: [TFT, TFTA, FreeTFT]
      adopt_id:
        description: Id of a live reservation made outside Ansible to manage as this container, as zos_container's option.
        type: int
      adopt_mismatch:
        description: V(fail) (the default) or V(replace) when the adopted reservation differs, as zos_container's option.
        type: str
        choices: [fail, replace]
      duration:
        description:
          - How long the reservation lasts, for example V(30d), V(12h) or a number of seconds; at least one hour.
            Defaults to V(30d). Mutually exclusive with O(containers[].expires_at).
        type: str
      expires_at:
        description: Absolute end of the reservation, a Unix epoch or an ISO 8601 date.
        type: str
      renew_before:
        description: Register a new reservation when the live one ends within this duration (for example V(7d)).
        type: str
      labels:
        description: Labels of the container, as zos_container's O(threefold.grid.zos_container#module:labels).
        type: dict
      seal_labels:
        description: Seal the labels with the identity's key (default V(false)).
        type: bool
  containers:
    description:
      - The containers, each with the options of M(threefold.grid.zos_container) (those of O(defaults) plus
        O(containers[].name)); O(defaults) fills in what an item leaves out, then zos_container's own defaults.
      - Names are unique among the items, and so are addresses on one network.
    type: list
    elements: dict
    required: true
    suboptions:
      <<: *container_options
      name:
        description:
          - Name of the container, unique per identity, as zos_container's O(threefold.grid.zos_container#module:name).
          - Required.
        type: str
  parallel:
    description:
      - How many containers are worked on at once (threads of the task's one process). Most of a container's time is
        spent waiting for the explorer and Horizon, so more threads than cores help; the explorer and Horizon see
        up to this many requests at once.
      - New containers are registered and paid in waves of this many. Within a wave, every registration is checked
        against the identity's live reservations (one listing shared by the threads that need it at the same time)
        before its payment; the fewer waves, the fewer of those listings, which on a large identity cost more than
        the payments. For a first deployment of up to a hundred containers, as many as there are containers is
        fastest, if the explorer takes that many requests at once.
    type: int
    default: 20
notes:
  - "Like M(threefold.grid.zos_container) with O(threefold.grid.zos_container#module:wait=false), a container that
    replaces another (changed options) is registered and paid before its old reservation is cancelled, but the old
    one is cancelled without waiting for the new one to run; use zos_container when the old one must stay until the
    new one runs."
  - The module makes no placement decision; give each container its O(containers[].node_id).
extends_documentation_fragment:
  - threefold.grid.explorer
  - threefold.grid.identity
  - threefold.grid.payment
  - threefold.grid.wait
  - threefold.grid.ledger
  - threefold.grid.attributes
  - threefold.grid.attributes.actiongroup
attributes:
  check_mode:
    support: full
    details:
      - Plans every container (what would be registered or cancelled, the estimated escrow), as zos_container does.
  diff_mode:
    support: full
    details:
      - Each item has zos_container's diff; the task's diff shows the changed containers by name, secrets as C(********).
  idempotent:
    support: full
    details:
      - Per container, as zos_container; a re-run with the same options changes nothing and signs nothing.
seealso:
  - module: threefold.grid.zos_container
  - module: threefold.grid.zos_reservation
"""

EXAMPLES = r"""
- name: Run 100 web containers on two nodes, paid from one wallet, and wait for all of them once
  threefold.grid.zos_containers:
    defaults:
      flist: https://hub.grid.tf/zaibon/zaibon-ubuntu-ssh-0.0.2.flist
      entrypoint: /sbin/my_init
      capacity:
        cpu: 1
        memory: 512
      network_connection:
        name: office
      duration: 30d
    # One item per container: the name, the node and the address differ (a YAML list written by Jinja).
    containers: "{{ web_fleet | from_yaml }}"
    payment:
      stellar_secret: "{{ vault_stellar_secret }}"
  vars:
    web_nodes: [2fi9ZZiBGW4G9pnrN656bMfW6x55RSoHDeMrd9pgSA8T, 3h4TKp11bNWjb2UemgrVwayuPnYcs2M1bccXvi3jPR2Y]
    web_fleet: |
      {% for index in range(100) %}
      - name: web-{{ index }}
        node_id: {{ web_nodes[index % 2] }}
        network_connection:
          ip_address: 10.20.{{ 3 + index % 2 }}.{{ 10 + index // 2 }}
      {% endfor %}

- name: Three containers with their own addresses, the rest shared
  threefold.grid.zos_containers:
    defaults:
      node_id: 2fi9ZZiBGW4G9pnrN656bMfW6x55RSoHDeMrd9pgSA8T
      flist: https://hub.grid.tf/zaibon/zaibon-ubuntu-ssh-0.0.2.flist
      network_connection:
        name: office
      capacity:
        memory: 512
    containers:
      - name: web-1
        network_connection:
          ip_address: 10.20.3.11
      - name: web-2
        network_connection:
          ip_address: 10.20.3.12
      - name: db
        capacity:
          cpu: 2
          memory: 2048
        network_connection:
          ip_address: 10.20.3.20
        secret_env:
          DB_PASSWORD: "{{ vault_db_password }}"
    payment:
      stellar_secret: "{{ vault_stellar_secret }}"
      max_amount: "50"
  register: fleet

- name: Show each container's address
  ansible.builtin.debug:
    msg: "{{ fleet.containers | map(attribute='container') | items2dict(key_name='name', value_name='ipv4') }}"

- name: Remove two of them
  threefold.grid.zos_containers:
    containers:
      - name: web-1
        state: absent
      - name: web-2
        state: absent
"""

RETURN = r"""
containers:
  description:
    - One result per item of O(containers), in the same order, as M(threefold.grid.zos_container) returns it for one
      container (C(container), C(action), C(changed), C(estimate), C(adopted), C(diff)), with the item's C(name).
    - An item that failed has C(failed=true), C(msg) and, when known, C(failure) and its C(container) as far as it
      got; the other items are returned as done. When the task fails before anything is signed, each item is its
      plan (as in check mode) or its error.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The item's name.
      type: str
      sample: web-1
    container:
      description:
        - The container's reservation, as zos_container's RV(threefold.grid.zos_container#module:container).
        - With O(ledger), its C(ledger) as zos_container's, read once for all the containers of the task.
      type: dict
    action:
      description: What was done (or would be in check mode), as zos_container's C(action).
      type: str
      sample: create
    changed:
      description: Whether this item changed anything.
      type: bool
    estimate:
      description: Estimated escrow of the reservation registered, as zos_container's C(estimate).
      type: dict
    failed:
      description: Present and V(true) when this item failed.
      type: bool
    msg:
      description: Why this item failed.
      type: str
unmatched_payments:
  description: With O(ledger), payments to the escrow for no reservation of the identity or not the price of a returned one, with a C(next_step).
  returned: when O(ledger) or O(ledger_account) is set
  type: list
  elements: dict
"""

from ansible_collections.threefold.grid.plugins.module_utils._base import ZosModule
from ansible_collections.threefold.grid.plugins.module_utils._container_batch import ContainerBatchRunner
from ansible_collections.threefold.grid.plugins.module_utils._container_items import batch_argument_spec, batch_params


def main():
    module = ZosModule(batch_argument_spec(), identity=True)
    module.run(ContainerBatchRunner, params=batch_params(module))


if __name__ == "__main__":
    main()
