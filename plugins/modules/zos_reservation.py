#!/usr/bin/python
# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zos_reservation
short_description: Manage a ThreeFold Grid reservation holding several workloads
version_added: 0.1.0
description:
  - Registers one reservation holding private networks, volumes and containers together, pays its escrow when
    O(payment) is set and waits until every node reports its workloads deployed.
  - The reservation is identified by O(name), kept in its metadata with a fingerprint of the normalised
    options. The same options give no change; changed options register a new reservation that replaces the old
    one; O(state=absent) cancels it.
  - Acts on any reservation of the identity by O(id) too, to wait for its deployment (O(state=deployed), for
    example after M(threefold.grid.zos_payment)) or to cancel it (O(state=absent)).
  - Waits for many reservations at once with O(ids) and O(state=deployed), for example those a loop of
    M(threefold.grid.zos_container) registered with O(wait=false).
  - One failing workload makes the grid cancel the whole reservation. Give resources with their own life cycle
    their own reservation (M(threefold.grid.zos_container), M(threefold.grid.zos_volume),
    M(threefold.grid.zos_network)).
author:
  - threefold.grid developers (@threefold-grid)
options:
  name:
    description:
      - Name of the reservation for Ansible, unique per identity. Required unless O(id) is given.
      - Up to 128 letters, digits, dots, dashes and underscores, starting with a letter or digit, so that it can
        serve as an inventory host name; any other name fails before anything is registered.
    type: str
  id:
    description:
      - Id of an existing reservation of the identity, for O(state=deployed), O(state=absent) or
        O(state=renewed).
      - Mutually exclusive with O(name) and O(ids).
    type: int
  ids:
    description:
      - Ids of existing reservations of the identity to wait for with O(state=deployed), all within one
        O(wait_timeout). They deploy in parallel, so this takes about as long as the slowest one.
      - Every reservation is waited for even when one fails; the task then fails naming each one that was not
        deployed.
      - Mutually exclusive with O(name) and O(id).
    type: list
    elements: int
  state:
    description:
      - V(present) makes sure a live reservation named O(name) holds these workloads.
      - V(absent) cancels the reservation (by O(name) or O(id)) and waits until the nodes report it deleted.
      - V(deployed) waits until the reservation O(id) (or each of O(ids)) is deployed, also while it still waits
        for payment (the explorer notices a payment made with M(threefold.grid.zos_payment) within about a
        minute). O(payment) is not used.
      - V(renewed) makes sure the deployed reservation O(id) does not end within O(renew_before) (required).
        When it does, the same workloads (the same sealed secrets and keys, on the same nodes) are registered
        again for the same length under the same name, paid with O(payment), waited for, and the old
        reservation is cancelled (first, when they share a container address, which means a short
        interruption). A reservation renewed earlier stands for the live one that replaced it, so a re-run
        changes nothing. O(duration) and O(expires_at) are not used. A volume renewed this way is a new, empty
        volume.
    type: str
    choices: [present, absent, deployed, renewed]
    default: present
  networks:
    description:
      - Private networks of the reservation, built like M(threefold.grid.zos_network) builds one (subnets,
        WireGuard keys sealed for each node, peers). External access peers are only offered by
        M(threefold.grid.zos_network).
      - When the reservation is replaced, a network it already holds keeps its subnets, WireGuard keys and listen
        ports.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the network; containers of this reservation join it with O(containers[].network_connection.name).
        type: str
        required: true
      ip_range:
        description: Private IPv4 /16 of the network, for example V(10.20.0.0/16).
        type: str
        required: true
      nodes:
        description: Nodes of the network, each with its own /24.
        type: list
        elements: dict
        required: true
        suboptions:
          node_id:
            description: Id of the node.
            type: str
            required: true
          subnet:
            description: The node's /24 inside O(networks[].ip_range); allocated when omitted.
            type: str
  volumes:
    description:
      - Volumes of the reservation.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the volume in this reservation; containers mount it with O(containers[].volumes[].volume).
        type: str
        required: true
      node_id:
        description: Node holding the volume.
        type: str
        required: true
      size:
        description: Size in GiB.
        type: int
        required: true
      type:
        description:
          - Disk type. The explorer accepts only V(SSD) volumes (since tfexplorer v0.3.2); V(HDD) is refused by the
            module before anything is signed.
        type: str
        choices: [SSD, HDD]
        default: SSD
  containers:
    description:
      - Containers of the reservation, with the options of M(threefold.grid.zos_container).
      - O(containers[].network_connection.name) may name a network of O(networks) or a live network of the identity;
        O(containers[].volumes[].volume) may name a volume of O(volumes), a M(threefold.grid.zos_volume) or a
        C(<reservation id>-<workload id>) id.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Label of the container in the results.
        type: str
      node_id:
        description: Id of the node.
        type: str
        required: true
      flist:
        description: HTTP(S) URL of the flist, ending in C(.flist).
        type: str
        required: true
      hub_url:
        description: Storage URL of the flist data.
        type: str
        default: ""
      env:
        description: Environment variables.
        type: dict
        default: {}
      secret_env:
        description: Environment variables encrypted for the node; never logged or returned.
        type: dict
        default: {}
      entrypoint:
        description: Command started in the container; ignored when O(containers[].interactive=true).
        type: str
        default: ""
      interactive:
        description: Run coreX (port 7681) instead of the entrypoint.
        type: bool
        default: false
      volumes:
        description: Volumes to mount.
        type: list
        elements: dict
        default: []
        suboptions:
          volume:
            description: Volume name or C(<reservation id>-<workload id>).
            type: str
            required: true
          mountpoint:
            description: Absolute path in the container.
            type: str
            required: true
      capacity:
        description: Resources, as for M(threefold.grid.zos_container).
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
            description: Root filesystem size in MiB, 256 to 1048576.
            type: int
            default: 256
          disk_type:
            description: Disk type of the root filesystem.
            type: str
            choices: [SSD, HDD]
            default: SSD
      network_connection:
        description: The private network the container joins.
        type: dict
        required: true
        suboptions:
          name:
            description: Name of the network.
            type: str
            required: true
          ip_address:
            description: IPv4 address in the node's /24 (not C(.0), C(.1) or C(.255)). Required.
            type: str
          public_ipv6:
            description: Also give the container a public IPv6 address.
            type: bool
            default: false
      logs:
        description: Redis channels for stdout and stderr.
        type: list
        elements: dict
        default: []
        suboptions:
          stdout:
            description: V(redis://host[:port]/channel) for stdout.
            type: str
            required: true
          stderr:
            description: V(redis://host[:port]/channel) for stderr.
            type: str
            required: true
notes:
  - Replacing follows M(threefold.grid.zos_container)'s order rules; when the old and the new reservation share
    a container address, the old one is cancelled and deleted first.
  - When a network of this reservation is also defined in another live reservation, the newest one defines the
    network on the nodes.
extends_documentation_fragment:
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
      - Shows the workloads before and after, with secret values as C(********) and no key material.
      - A replacement whose only change is a secret value lists it under C(secrets), for example
        C(secret_env.PASSWORD) marked "(changed)" after and C(********) before; the value is never shown.
  idempotent:
    support: full
seealso:
  - module: threefold.grid.zos_container
  - module: threefold.grid.zos_reservation_info
  - module: threefold.grid.zos_payment
"""

EXAMPLES = r"""
- name: A network, a volume and a container in one reservation
  threefold.grid.zos_reservation:
    name: blog
    networks:
      - name: blog-net
        ip_range: 10.30.0.0/16
        nodes:
          - node_id: 2fi9ZZiBGW4G9pnrN656bMfW6x55RSoHDeMrd9pgSA8T
    volumes:
      - name: blog-data
        node_id: 2fi9ZZiBGW4G9pnrN656bMfW6x55RSoHDeMrd9pgSA8T
        size: 5
    containers:
      - name: blog
        node_id: 2fi9ZZiBGW4G9pnrN656bMfW6x55RSoHDeMrd9pgSA8T
        flist: https://hub.grid.tf/zaibon/zaibon-ubuntu-ssh-0.0.2.flist
        entrypoint: /sbin/my_init
        network_connection:
          name: blog-net
          ip_address: 10.30.1.10
        volumes:
          - volume: blog-data
            mountpoint: /data
    duration: 30d
    payment:
      stellar_secret: "{{ vault_stellar_secret }}"
  register: blog

- name: Wait for a reservation paid elsewhere
  threefold.grid.zos_reservation:
    id: "{{ blog.reservation.id }}"
    state: deployed
    wait_timeout: 900

- name: Register many containers without waiting for each
  threefold.grid.zos_container:
    name: "web-{{ item }}"
    node_id: 2fi9ZZiBGW4G9pnrN656bMfW6x55RSoHDeMrd9pgSA8T
    flist: https://hub.grid.tf/zaibon/zaibon-ubuntu-ssh-0.0.2.flist
    network_connection:
      name: blog-net
      ip_address: "10.30.1.{{ 20 + item }}"
    duration: 30d
    wait: false
  loop: "{{ range(10) | list }}"
  register: webs

- name: Wait once for all of them
  threefold.grid.zos_reservation:
    ids: "{{ webs.results | map(attribute='container.reservation_id') | list }}"
    state: deployed

- name: Cancel a reservation by id
  threefold.grid.zos_reservation:
    id: 42
    state: absent

- name: Renew a reservation that ends within a week, paying at most 5 TFT for it
  threefold.grid.zos_reservation:
    id: 42
    state: renewed
    renew_before: 7d
    payment:
      stellar_secret: "{{ lookup('ansible.builtin.file', 'wallet.secret') }}"
      max_amount: "5"
"""

RETURN = r"""
reservation:
  description:
    - The reservation; V(null) when there is none.
    - In check mode, when a reservation would be registered, what would be registered, with C(id) and
      C(state) V(null) and C(escrow) as estimated, so that a following M(threefold.grid.zos_payment) task also
      runs in check mode.
  returned: always
  type: dict
  contains:
    id:
      description: Reservation id.
      type: int
      sample: 42
    name:
      description: Name from the metadata, V(null) for a reservation not made by this collection.
      type: str
      sample: blog
    kind:
      description: Kind from the metadata (C(reservation) for this module).
      type: str
      sample: reservation
    labels:
      description: Labels from the metadata (V(null) when there are none or they are sealed).
      type: dict
      sample: {"app": "blog"}
    sealed_labels:
      description: Labels sealed with the identity's key (see the resource modules' C(seal_labels)), or V(null).
      type: str
      sample: null
    state:
      description: The explorer's computed next action (C(create), C(sign), C(pay), C(deploy), C(delete), C(deleted)).
      type: str
      sample: deploy
    workload_state:
      description: C(pending) until every node reported, then C(ok), C(error) or C(deleted).
      type: str
      sample: ok
    customer_tid:
      description: Threebot id of the owner.
      type: int
    created:
      description: Unix time the explorer registered it.
      type: int
    expires_at:
      description: Unix time at which it ends.
      type: int
    expiration_provisioning:
      description: Unix time by which it had to be deployed.
      type: int
    currencies:
      description: Currencies offered.
      type: list
      elements: str
    workloads:
      description: Containers, volumes and networks (secret values masked, no key material).
      type: dict
    results:
      description: The raw results the nodes reported.
      type: list
      elements: dict
    escrow:
      description: What to pay (address, asset, amount, total_amount, memo, details) when registered by this run.
      type: dict
    error:
      description: The first error a node reported, or V(null).
      type: dict
reservations:
  description: The reservations of O(ids), in the same order, once deployed.
  returned: when O(ids) is given
  type: list
  elements: dict
containers:
  description: Per container of the reservation, its global workload id and the addresses the node reported.
  returned: when O(state=present) or O(state=deployed)
  type: list
  elements: dict
  sample: [{"name": "blog", "workload_id": "42-3", "ipv4": "10.30.1.10", "ipv6": "fd32::a", "result_state": "ok"}]
replaced:
  description: Ids of reservations this run cancelled to replace them.
  returned: when O(state=present)
  type: list
  elements: int
cancelled:
  description: Ids of reservations this run cancelled.
  returned: when O(state=absent)
  type: list
  elements: int
payment:
  description: The payment made by this run, or V(null).
  returned: when O(state=present)
  type: dict
action:
  description: What the module did or would do.
  returned: always
  type: str
  choices: [none, create, replace, renew, cancel, wait]
estimate:
  description: Estimated escrow (amount, total_amount, currency, details) of a reservation that is or would be registered.
  returned: when a reservation is or would be registered
  type: dict
"""

from ansible_collections.threefold.grid.plugins.module_utils._argspec import (
    container_argument_spec,
    labels_argument_spec,
    reservation_argument_spec,
)
from ansible_collections.threefold.grid.plugins.module_utils._base import ZosModule
from ansible_collections.threefold.grid.plugins.module_utils._crypto import encrypt_for_node
from ansible_collections.threefold.grid.plugins.module_utils._errors import NetworkSpecError, SpecError
from ansible_collections.threefold.grid.plugins.module_utils._network import deployed_layout, plan_network
from ansible_collections.threefold.grid.plugins.module_utils._renewal import renew_by_id
from ansible_collections.threefold.grid.plugins.module_utils._resource import ResourceRunner
from ansible_collections.threefold.grid.plugins.module_utils._spec import (
    normalise_container,
    normalise_volume,
    parse_duration,
)
from ansible_collections.threefold.grid.plugins.module_utils._views import data_of
from ansible_collections.threefold.grid.plugins.module_utils._workloads import (
    container_from_spec,
    container_result,
    volume_workload,
)


class ReservationRunner(ResourceRunner):
    kind = "reservation"

    def __init__(self, params, session, diff=False):
        super(ReservationRunner, self).__init__(params, session, diff)
        self.lookup = self.lifecycle.lookup
        self.labels = {}  # container labels by workload id, set by present()

    # ---- building -------------------------------------------------------------------------------

    def plan(self):
        """(workloads builder, fingerprint spec, container labels) for the options."""
        self._next_id = 0
        names = set()
        networks, local_networks = self._plan_networks(names)
        volumes, local_volumes = self._plan_volumes(names)
        containers = self._plan_containers(local_networks, local_volumes)

        def workloads():
            return {
                "networks": [plan.workload(workload_id) for workload_id, plan in networks],
                "volumes": [volume_workload(workload_id, item["node_id"], item["size"], item["type"])
                            for workload_id, item in volumes],
                "containers": [container_from_spec(spec, workload_id, encrypt_for_node)
                               for workload_id, label, spec in containers],
            }

        spec = {
            "networks": [plan.spec() for workload_id, plan in networks],
            "volumes": [dict(item, workload_id=workload_id) for workload_id, item in volumes],
            "containers": [dict(spec, workload_id=workload_id, name=label) for workload_id, label, spec in containers],
        }
        labels = dict((workload_id, label) for workload_id, label, spec in containers)
        return workloads, spec, labels

    def _allocate(self):
        self._next_id += 1
        return self._next_id

    def _plan_networks(self, names):
        """[(workload id, NetworkPlan)] and {network name: {node_id: /24}} for the networks option."""
        networks, local_networks = [], {}
        live = self.lifecycle.reservations.find_live(self.name, self.kind)
        # A live network keeps its subnets, keys and listen ports (the node now lists that port as used).
        live_networks = dict((n.get("name"), n) for n in (data_of(live).get("networks") or [])) if live else {}
        identity = self.session.identity
        for index, item in enumerate(self.params["networks"]):
            option = "networks[%d]" % index
            self._unique(names, item["name"], option + ".name")
            directory = dict((node["node_id"], self.lookup.node(node["node_id"], "%s.nodes[%d].node_id" % (option, n)))
                             for n, node in enumerate(item["nodes"]))
            try:
                plan = plan_network(item["name"], item["ip_range"], item["nodes"], directory,
                                    identity.seed_hex, identity.public_key_hex,
                                    deployed=deployed_layout(live_networks.get(item["name"])))
            except NetworkSpecError as error:
                raise SpecError("%s.%s" % (option, error)) from None
            local_networks[item["name"]] = dict((nr.node_id, str(nr.subnet)) for nr in plan.resources)
            networks.append((self._allocate(), plan))
        return networks, local_networks

    def _plan_volumes(self, names):
        """[(workload id, volume spec)] and {volume name: (workload id, node_id)} for the volumes option."""
        volumes, local_volumes = [], {}
        for index, item in enumerate(self.params["volumes"]):
            option = "volumes[%d]" % index
            self._unique(names, item["name"], option + ".name")
            self.lookup.node(item["node_id"], option + ".node_id")
            workload_id = self._allocate()
            local_volumes[item["name"]] = (workload_id, item["node_id"])
            volumes.append((workload_id, dict(item, **normalise_volume(item, option + "."))))
        return volumes, local_volumes

    def _plan_containers(self, local_networks, local_volumes):
        """[(workload id, label, resolved container spec)] for the containers option."""
        containers = []
        for index, item in enumerate(self.params["containers"]):
            prefix = "containers[%d]." % index
            spec, warnings = normalise_container(item, prefix)
            for warning in warnings:
                self.session.warn(warning)
            self.lookup.resolve_container(spec, prefix, local_networks, local_volumes)
            containers.append((self._allocate(), item.get("name") or "container-%d" % index, spec))
        return containers

    @staticmethod
    def _unique(names, name, option):
        if name in names:
            raise SpecError("%s: %r is used by another network or volume of this reservation" % (option, name))
        names.add(name)

    @staticmethod
    def containers_of(reservation, labels=None):
        if reservation is None:
            return []
        shown = []
        for workload in reservation["workloads"].get("containers") or []:
            outcome = container_result(reservation["id"], workload, reservation["results"])
            shown.append({
                "name": (labels or {}).get(workload["workload_id"]),
                "workload_id": outcome["workload_id"],
                "node_id": workload["node_id"],
                "ip_address": workload["network_connection"]["ip_address"],
                "ipv4": outcome["ipv4"],
                "ipv6": outcome["ipv6"],
                "result_state": outcome["result_state"],
                "message": outcome["message"],
            })
        return shown

    # ---- states ---------------------------------------------------------------------------------

    def present(self):
        if not (self.params["networks"] or self.params["volumes"] or self.params["containers"]):
            raise SpecError("networks, volumes, containers: a reservation needs at least one workload")
        for index, item in enumerate(self.params["volumes"]):
            normalise_volume(item, "volumes[%d]." % index)
        life = self.lifetime()
        workloads, spec, self.labels = self.plan()
        return self.deploy(workloads, spec, life, self.params["currencies"], self.params["payment"])

    def present_returns(self, outcome):
        return {
            "reservation": outcome.reservation,
            "containers": self.containers_of(outcome.reservation, self.labels),
            "replaced": outcome.replaced,
            "payment": outcome.payment,
        }

    def absent(self):
        if self.params["id"] is None:
            return super(ReservationRunner, self).absent()
        outcome = self.lifecycle.cancel_id(self.params["id"], **self.wait_options())
        return self.absent_result(outcome, {"reservation": outcome.reservation, "cancelled": outcome.cancelled})

    def absent_returns(self, outcome):
        reservations = outcome.reservations
        return {"reservation": reservations[0] if reservations else None, "cancelled": outcome.cancelled}

    def failure_returns(self, error):
        return {"reservation": error.reservation, "payment": error.payment}

    def renewed(self):
        renew_before = parse_duration(self.params["renew_before"], "renew_before")
        outcome = renew_by_id(self.lifecycle, self.params["id"], renew_before, self.params["payment"],
                              **self.wait_options())
        return self.present_result(outcome)

    def deployed(self):
        if self.params["ids"] is not None:
            outcome = self.lifecycle.ensure_all_deployed(self.params["ids"], wait_timeout=self.params["wait_timeout"],
                                                         wait_sleep=self.params["wait_sleep"])
            return {"changed": False, "action": "wait", "reservations": outcome.reservations}
        outcome = self.lifecycle.ensure_deployed(self.params["id"], wait_timeout=self.params["wait_timeout"],
                                                 wait_sleep=self.params["wait_sleep"])
        return {"changed": False, "action": "wait", "reservation": outcome.reservation,
                "containers": self.containers_of(outcome.reservation)}


def argument_spec():
    spec = dict(
        name=dict(type="str"),
        id=dict(type="int"),
        ids=dict(type="list", elements="int"),
        state=dict(type="str", choices=["present", "absent", "deployed", "renewed"], default="present"),
        networks=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True),
            ip_range=dict(type="str", required=True),
            nodes=dict(type="list", elements="dict", required=True, options=dict(
                node_id=dict(type="str", required=True),
                subnet=dict(type="str"),
            )),
        )),
        volumes=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True),
            node_id=dict(type="str", required=True),
            size=dict(type="int", required=True),
            type=dict(type="str", choices=["SSD", "HDD"], default="SSD"),
        )),
        containers=dict(type="list", elements="dict", default=[],
                        options=dict(name=dict(type="str"), **container_argument_spec(required=True))),
        currencies=dict(type="list", elements="str", choices=["TFT", "TFTA", "FreeTFT"], default=["TFT"]),
    )
    spec.update(reservation_argument_spec())
    spec.update(labels_argument_spec())
    return spec


def main():
    ZosModule(
        argument_spec(),
        identity=True,
        required_one_of=[("name", "id", "ids")],
        mutually_exclusive=[("name", "id", "ids"), ("duration", "expires_at")],
        required_if=[("state", "deployed", ("id", "ids"), True), ("state", "present", ("name",)),
                     ("state", "absent", ("name", "id"), True), ("state", "renewed", ("id", "renew_before"))],
    ).run(ReservationRunner)


if __name__ == "__main__":
    main()
