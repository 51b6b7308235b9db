#!/usr/bin/python
# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zos_container
short_description: Run a container on a ThreeFold Grid 0-OS node
version_added: 0.1.0
description:
  - Registers a reservation holding one container (the 0-OS container primitive) on a node, pays its escrow
    when O(payment) is set, and waits until the node reports it running.
  - The container is identified by O(name), kept in the reservation's metadata with a fingerprint of the
    normalised options. The same options give no change; changed options register a new reservation that
    replaces the old one, because reservations cannot change once signed; O(state=absent) cancels it.
  - Everything is checked before anything is signed (flist URL, capacity, environment names, the node is up,
    the network has a resource on the node and the IP is a host of that node's subnet, the volumes are on the
    node, the reservation lasts at least one hour). Each error names the option and the wrong value.
author:
  - threefold.grid developers (@threefold-grid)
options:
  name:
    description:
      - Name of the container for Ansible, unique per identity. Stored in the reservation metadata.
      - Up to 128 letters, digits, dots, dashes and underscores, starting with a letter or digit, so that it can
        serve as an inventory host name; any other name fails before anything is registered.
    type: str
    required: true
  state:
    description:
      - V(present) makes sure a live reservation with these options exists; V(absent) cancels it (a signed
        delete) and waits until the node reports the container deleted.
    type: str
    choices: [present, absent]
    default: present
  node_id:
    description:
      - Id of the 0-OS node to run the container on. The node must have reported to the explorer in the
        last 10 minutes.
      - With O(state=present), O(node_id) or O(placement) is required; they are mutually exclusive.
    type: str
  placement:
    description:
      - Let the module choose the node among those the container's network spans, by these constraints,
        instead of O(node_id). Only nodes that reported within O(placement.up_within) seconds are candidates.
      - Each constraint narrows the candidates in turn; when one leaves none, the task fails before anything is
        signed, naming that constraint.
      - Among the nodes left, the one with the most free cores, then memory, wins (ties by node id), and
        O(network_connection.ip_address) defaults to the lowest free host from C(.10) up in that node's /24.
      - The choice is stable. A deployed container keeps its node and address while they still satisfy the
        constraints, so a re-run changes nothing.
      - Volumes live on one node; a container that mounts volumes needs O(node_id).
      - Mutually exclusive with O(node_id) and O(adopt_id).
    type: dict
    suboptions:
      farm_id:
        description: Only nodes of this farm.
        type: int
      country:
        description: Only nodes in this country (the explorer's location).
        type: str
      city:
        description: Only nodes in this city.
        type: str
      free_to_use:
        description: Only free-to-use nodes (V(true)) or only paid ones (V(false)).
        type: bool
      min_cru:
        description: At least this many free cores (besides what the container itself needs).
        type: int
      min_mru:
        description: At least this much free memory, in GiB.
        type: float
      min_sru:
        description: At least this much free SSD, in GiB.
        type: float
      min_hru:
        description: At least this much free HDD, in GiB.
        type: float
      exclude_nodes:
        description: Never these nodes.
        type: list
        elements: str
        default: []
      distinct_from:
        description: Not on a node that runs one of these containers (by name), to spread replicas.
        type: list
        elements: str
        default: []
      up_within:
        description: Seconds within which a candidate node must have reported to the explorer.
        type: int
        default: 600
      attempts:
        description: With O(replace_on_failure), how many nodes to try in all.
        type: int
        default: 3
  replace_on_failure:
    description:
      - With O(placement), when the chosen node reports an error for the container, or the reservation ends or
        is not deployed within O(wait_timeout), cancel that reservation (nothing was deployed, so the escrow
        refunds what it holds), choose another node and register again, at most O(placement.attempts) times.
      - Each attempt, with its node, reservation and error, is in RV(placement.attempts), also when the task
        fails.
    type: bool
    default: false
  flist:
    description:
      - HTTP(S) URL of the flist holding the root filesystem, ending in C(.flist), for example
        V(https://hub.grid.tf/zaibon/zaibon-ubuntu-ssh-0.0.2.flist).
      - Required when O(state=present).
    type: str
  hub_url:
    description:
      - Storage URL of the flist data. The node uses V(zdb://hub.grid.tf:9900) when empty.
      - "A scheme (V(zdb), V(redis), V(http) or V(https)), a host and an optional port, for example
        V(zdb://hub.grid.tf:9900); anything else fails before anything is registered."
    type: str
    default: ""
  env:
    description:
      - Environment variables of the container. Names must match C(^[A-Za-z_][A-Za-z0-9_]*$).
    type: dict
    default: {}
  secret_env:
    description:
      - Environment variables whose values are encrypted for the node (sealed box for the node's key), so
        only the node can read them. Names as for O(env), and a name may not be in both.
      - The values are never logged or returned; the metadata fingerprint holds an HMAC of them keyed by the
        identity seed, so changing a value replaces the container.
    type: dict
    default: {}
  entrypoint:
    description:
      - Command started in the container. Empty uses the flist's C(.startup.toml).
      - Ignored (with a warning) when O(interactive=true).
    type: str
    default: ""
  interactive:
    description:
      - Run coreX as the container's first process instead of O(entrypoint). coreX serves a web console on
        port 7681 of the container's IP.
    type: bool
    default: false
  volumes:
    description:
      - Volumes to mount. They must be live and on O(node_id).
    type: list
    elements: dict
    default: []
    suboptions:
      volume:
        description:
          - The O(threefold.grid.zos_volume#module:name) of a volume, or its id C(<reservation id>-<workload id>).
          - A name is resolved to the volume of the live volume reservation with that name.
        type: str
        required: true
      mountpoint:
        description:
          - Absolute path in the container.
        type: str
        required: true
  capacity:
    description:
      - Resources of the container.
    type: dict
    default: {}
    suboptions:
      cpu:
        description: Virtual CPUs, 1 to 32.
        type: int
        default: 1
      memory:
        description: Memory in MiB, 256 to 262144.
        type: int
        default: 1024
      disk_size:
        description: Size of the writable root filesystem in MiB, 256 to 1048576.
        type: int
        default: 256
      disk_type:
        description: Disk type of the root filesystem.
        type: str
        choices: [SSD, HDD]
        default: SSD
  network_connection:
    description:
      - The private network the container joins (the seed's C(NetworkConnection); O(network) selects the grid).
      - The network must be live (a reservation of this identity,
        for example from M(threefold.grid.zos_network)) and have a resource on O(node_id).
      - Required when O(state=present).
    type: dict
    suboptions:
      name:
        description: Name of the network.
        type: str
        required: true
      ip_address:
        description:
          - IPv4 address of the container, a host of the network's /24 on this node other than C(.0), C(.1)
            (the gateway) and C(.255).
          - Required unless O(placement) chooses the node; with O(placement) it also limits the candidates to
            the node whose /24 holds it.
        type: str
      public_ipv6:
        description: Also give the container a public IPv6 address on a second interface.
        type: bool
        default: false
  logs:
    description:
      - Redis channels the node publishes the container's stdout and stderr lines to.
    type: list
    elements: dict
    default: []
    suboptions:
      stdout:
        description: Channel URL for stdout, V(redis://host[:port]/channel).
        type: str
        required: true
      stderr:
        description: Channel URL for stderr, V(redis://host[:port]/channel).
        type: str
        required: true
  adopt_id:
    description:
      - Id of a live reservation made outside Ansible (M(threefold.grid.zos_reservation), the SDK, the raw API)
        holding exactly one container, to manage as O(name) without deploying it again.
      - It must belong to the configured identity and carry no other name; then the options are compared with its
        container (secret values by name only, as they are sealed for the node) and, when they match, the module
        returns it as O(name) with RV(action=adopt) and nothing is signed.
      - The lifetime options and O(currencies) are not compared; the adopted reservation keeps its expiry.
      - The explorer can not change a reservation's metadata, so the adopted reservation is named by this option
        only (not in the inventory nor the C(_info) modules) until the module registers it again, which writes
        the name (and O(labels)) in the new reservation's metadata. Keep O(adopt_id) in the task; once a live
        reservation carries the name, the option is not used any more.
      - Adopting a reservation of another identity, an ended one, one with other workloads or one another resource
        module manages fails before anything is signed. One made by M(threefold.grid.zos_reservation) can be
        adopted; remove its M(threefold.grid.zos_reservation) task then, as the container is managed here.
    type: int
  adopt_mismatch:
    description:
      - What to do when the options differ from the adopted reservation's container.
      - V(fail) fails with the list of differences (option by option); nothing is signed.
      - V(replace) registers (and pays for) the container as the options give it, named O(name), and cancels the
        adopted reservation, as any change of a container's options does.
    type: str
    choices: [fail, replace]
    default: fail
notes:
  - "Replacing a container: when the new one uses the same network address as the old one, the old reservation
    is cancelled and waited for until deleted before the new one is registered, so two containers never hold
    the same IP. Otherwise the new one is registered (and paid and waited for) first and the old one is cancelled
    after, so the container is never gone for long; if the new one fails, it is cancelled and the old one kept."
  - A node error (unknown flist, missing network, no capacity) fails the module with the node's message; the
    grid then cancels the reservation and refunds the escrow.
  - Two live reservations with the same O(name) make the module fail and list both ids.
  - The reservation is given a provisioning deadline of 15 minutes, or O(wait_timeout) plus a minute when longer.
extends_documentation_fragment:
  - threefold.grid.ledger
  - threefold.grid.explorer
  - threefold.grid.identity
  - threefold.grid.lifetime
  - threefold.grid.labels
  - threefold.grid.payment
  - threefold.grid.payment.currencies
  - threefold.grid.wait
  - threefold.grid.attributes
  - threefold.grid.attributes.actiongroup
attributes:
  check_mode:
    support: full
    details:
      - Reports what would be registered or cancelled and the estimated escrow cost.
  diff_mode:
    support: full
    details:
      - Shows the container before and after, with secret values as C(********).
      - A replacement whose only change is a secret value lists it under C(secrets), for example
        C(secret_env.PASSWORD) marked "(changed)" after and C(********) before; the value is never shown.
  idempotent:
    support: full
seealso:
  - module: threefold.grid.zos_network
  - module: threefold.grid.zos_volume
  - module: threefold.grid.zos_reservation
  - module: threefold.grid.zos_payment
  - name: 0-OS container primitive
    description: What the node does with a container reservation.
    link: https://github.com/threefoldtech/zos/tree/v0.3.4/docs/container
"""

EXAMPLES = r"""
- name: Manage a container deployed with zos_reservation (reservation 17) as "web", without deploying it again
  threefold.grid.zos_container:
    name: web
    adopt_id: 17
    node_id: "{{ node }}"
    flist: https://hub.grid.tf/zaibon/zaibon-ubuntu-ssh-0.0.2.flist
    network_connection:
      name: demo-net
      ip_address: 10.20.1.10
    labels:
      app: web

- name: Run the SSH example container of the 0-OS docs and pay for it
  threefold.grid.zos_container:
    name: web
    node_id: 2fi9ZZiBGW4G9pnrN656bMfW6x55RSoHDeMrd9pgSA8T
    flist: https://hub.grid.tf/zaibon/zaibon-ubuntu-ssh-0.0.2.flist
    entrypoint: /sbin/my_init
    env:
      pub_key: "{{ lookup('ansible.builtin.file', '~/.ssh/id_ed25519.pub') }}"
    secret_env:
      DB_PASSWORD: "{{ vault_db_password }}"
    capacity:
      cpu: 2
      memory: 2048
      disk_size: 2048
    network_connection:
      name: office
      ip_address: 10.20.3.10
    volumes:
      - volume: web-data
        mountpoint: /data
    duration: 30d
    renew_before: 7d
    payment:
      stellar_secret: "{{ vault_stellar_secret }}"
      max_amount: "50"
  register: web

- name: Show its address
  ansible.builtin.debug:
    msg: "{{ web.container.ipv4 }} (reservation {{ web.container.reservation_id }})"

- name: Interactive container with a coreX console, cost estimate only
  threefold.grid.zos_container:
    name: debug
    node_id: 2fi9ZZiBGW4G9pnrN656bMfW6x55RSoHDeMrd9pgSA8T
    flist: https://hub.grid.tf/tf-official-apps/ubuntu-bionic.flist
    interactive: true
    network_connection:
      name: office
      ip_address: 10.20.3.11
  check_mode: true
  diff: true

- name: Let the module choose a node in Belgium, and another one if that node fails the container
  threefold.grid.zos_container:
    name: worker-2
    flist: https://hub.grid.tf/zaibon/zaibon-ubuntu-ssh-0.0.2.flist
    network_connection:
      name: blog-net
    placement:
      country: Belgium
      distinct_from: [worker-1]
    replace_on_failure: true
  register: worker

- name: Remove the container
  threefold.grid.zos_container:
    name: web
    state: absent
"""

RETURN = r"""
container:
  description:
    - The container's reservation. V(null) when O(state=absent) and nothing was found.
    - In check mode, when a reservation would be registered, what would be registered, with C(reservation_id) and
      C(state) V(null) and C(escrow) as estimated, so that a following M(threefold.grid.zos_payment) task also
      runs in check mode.
  returned: always
  type: dict
  contains:
    name:
      description: O(name).
      type: str
      sample: web
    reservation_id:
      description: Id of the reservation holding the container.
      type: int
      sample: 42
    workload_id:
      description: Global workload id of the container, C(<reservation id>-<workload id>).
      type: str
      sample: 42-1
    node_id:
      description: Node running the container.
      type: str
      sample: 2fi9ZZiBGW4G9pnrN656bMfW6x55RSoHDeMrd9pgSA8T
    ip_address:
      description: The requested private IPv4 address.
      type: str
      sample: 10.20.3.10
    ipv4:
      description: IPv4 address the node reported; V(null) until deployed.
      type: str
      sample: 10.20.3.10
    ipv6:
      description: IPv6 address the node reported (public when O(network_connection.public_ipv6=true)); V(null) until deployed.
      type: str
      sample: fd32:6e60:4a3e:3::a
    state:
      description:
        - The reservation's next action as the explorer computes it, C(create), C(sign), C(pay) (waiting for
          payment), C(deploy) (paid, with the nodes), C(delete) (being removed) or C(deleted).
      type: str
      sample: deploy
    workload_state:
      description: C(pending) until every node reported, then C(ok), C(error) or C(deleted).
      type: str
      sample: ok
    expires_at:
      description: Unix time at which the reservation ends.
      type: int
      sample: 1767225600
    escrow:
      description:
        - What to pay for a reservation registered by this run (V(null) otherwise, or when nothing is to be paid).
        - In check mode, the estimate for the reservation that would be registered; C(address) and C(memo) are
          V(null) and C(asset) is the asset code.
      type: dict
      contains:
        estimated:
          description: Present and V(true) in check mode, where the amount is the estimate.
          type: bool
        address:
          description: Escrow account to pay.
          type: str
        asset:
          description: Asset as C(CODE:ISSUER).
          type: str
        amount:
          description: Amount as a decimal string with 7 decimals (Stellar's precision), as zos_payment returns amounts.
          type: str
          sample: "3.4546420"
        total_amount:
          description: Amount in stroops (1e-7).
          type: int
        memo:
          description: Text memo of the payment, the reservation id.
          type: str
          sample: "42"
        details:
          description: Per-farm amounts in stroops, as the explorer returned them.
          type: list
          elements: dict
    error:
      description: The first error a node reported (C(workload_id), C(node_id), C(category), C(message)), or V(null).
      type: dict
    results:
      description: The explorer's raw results for the container.
      type: list
      elements: dict
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
      sample: [41]
    payment:
      description: The payment made by this run (transaction hash, amount, asset, destination, memo), or V(null).
      type: dict
unmatched_payments:
  description: With O(ledger), payments to the escrow for no reservation of the identity or not the price of a returned one, with a C(next_step).
  returned: when O(ledger) or O(ledger_account) is set
  type: list
  elements: dict
action:
  description: What the module did or, in check mode, would do.
  returned: always
  type: str
  choices: [none, create, replace, renew, cancel, adopt]
  sample: create
adopted:
  description: Id of the reservation adopted under O(name) (O(adopt_id)).
  returned: when the module adopted a reservation (RV(action=adopt))
  type: int
  sample: 17
estimate:
  description:
    - Estimated escrow of the reservation that is (or would be) registered, from the explorer's pricing
      formula (cloud units per farm); the explorer's own figure can differ by an hour of usage.
  returned: when a reservation is or would be registered
  type: dict
  contains:
    amount:
      description: Total as a decimal string with 7 decimals, as zos_payment returns amounts.
      type: str
      sample: "0.7182000"
    total_amount:
      description: Total in stroops.
      type: int
      sample: 7182000
    currency:
      description: Asset code the explorer would pick.
      type: str
      sample: TFT
    details:
      description: Per-farm amounts (C(farmer_id) holds the farm id, C(total_amount) stroops).
      type: list
      elements: dict
placement:
  description: With O(placement), where the container went and why.
  returned: when O(placement) is given and O(state=present)
  type: dict
  contains:
    node_id:
      description: The node chosen (or kept).
      type: str
    ip_address:
      description: The container's address on its network.
      type: str
      sample: 10.20.3.10
    reason:
      description: Why this node (kept because deployed there, or chosen among how many candidates).
      type: str
    attempts:
      description:
        - Each node tried, oldest first, with C(node_id), C(reservation_id) and C(error) (V(null) for the one that
          worked). On failure the same list is in the task's C(failure.placement_attempts).
      type: list
      elements: dict
"""

from ansible_collections.threefold.grid.plugins.module_utils._argspec import ledger_argument_spec
from ansible_collections.threefold.grid.plugins.module_utils._base import ZosModule
from ansible_collections.threefold.grid.plugins.module_utils._container_runner import (
    CONTAINER_MUTUALLY_EXCLUSIVE,
    CONTAINER_REQUIRED_IF,
    ContainerRunner,
    container_module_argument_spec,
)


def main():
    # Not in container_module_argument_spec: zos_containers' items take those options, and a ledger per item
    # would read Horizon once per container.
    ZosModule(dict(container_module_argument_spec(), **ledger_argument_spec()), identity=True,
              required_if=CONTAINER_REQUIRED_IF, mutually_exclusive=CONTAINER_MUTUALLY_EXCLUSIVE).run(ContainerRunner)


if __name__ == "__main__":
    main()
