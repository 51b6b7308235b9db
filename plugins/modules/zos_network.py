#!/usr/bin/python
# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zos_network
short_description: Manage a private WireGuard network across 0-OS nodes of the ThreeFold Grid
version_added: 0.1.0
description:
  - Registers a named private network (a /16) with one network resource (a /24) on each node, connected by
    WireGuard, in its own reservation; containers join it with their O(name) and an address in their node's /24.
  - The network is identified by O(name) among the live reservations of the identity. The same options give the
    same network and change nothing. Adding or removing a node, or any other change, registers a new reservation
    with the whole network and cancels the old one once the new one is deployed; the nodes update the network of
    that name in place, and the subnets, WireGuard keys and listen ports of the nodes that stay do not change, so
    running containers are not disturbed.
  - "Subnets: a node keeps the O(nodes[].subnet) it is given; otherwise the /24 it already has in the live network;
    otherwise the lowest free /24 from C(x.y.1.0/24) up (C(x.y.0.0/24) is never handed out), in the order of
    O(nodes). The access subnet is allocated the same way, after the nodes."
  - "WireGuard keys are derived, not random, so that a re-run rebuilds the same network: the private key of the
    network resource on a node is HMAC-SHA256 keyed by the identity seed over the network name and the node id,
    clamped as a Curve25519 key; it is sealed for the node before it is sent. The listen port is the first of a
    series of ports in 1000-8999 derived from the identity public key, the network name and the node id that the
    node does not list in C(wg_ports); a deployed node keeps its port."
  - "Peers are built as the 2020 SDK built them: public nodes connect over IPv6 (IPv4 as a fallback), nodes without
    a public address (hidden nodes) connect only to nodes with a public IPv4 address, and the first such node also
    routes the hidden subnets for nodes that cannot reach them. Every peer allows the peer's /24 and its
    C(100.64.b.c/32) WireGuard address."
  - Networks cost nothing on the grid; the reservation still lasts O(duration) and must be kept alive like any
    other.
author:
  - threefold.grid developers (@threefold-grid)
options:
  name:
    description:
      - Name of the network. It is the network id on the nodes and the O(threefold.grid.zos_container#module:network_connection.name)
        containers use, and it identifies the network's reservation.
      - Up to 128 letters, digits, dots, dashes and underscores, starting with a letter or digit, so that it can
        serve as an inventory host name; any other name fails before anything is registered.
    type: str
    required: true
  state:
    description:
      - V(present) makes sure the network exists as described; V(absent) cancels its reservation, which removes
        the network from every node.
    type: str
    choices: [present, absent]
    default: present
  ip_range:
    description:
      - The private IPv4 range of the whole network, a /16 inside C(10.0.0.0/8), C(172.16.0.0/12) or
        C(192.168.0.0/16), for example V(10.20.0.0/16).
      - Required when O(state=present).
    type: str
  nodes:
    description:
      - The nodes the network spans, each with its own /24. Required when O(state=present).
      - Every node must be known to the explorer and up (reported within the last 10 minutes), and free-to-use
        and paid nodes cannot be mixed (the explorer rejects such a reservation).
      - When some nodes have no public address, at least one node needs a public IPv4 address to relay them.
    type: list
    elements: dict
    suboptions:
      node_id:
        description:
          - The node id (base58), as returned by M(threefold.grid.zos_node_info).
        type: str
        required: true
      subnet:
        description:
          - The /24 of this node inside O(ip_range), for example V(10.20.3.0/24).
          - When omitted the node keeps the /24 it has in the live network, or gets the lowest free one.
        type: str
  access:
    description:
      - Lets one machine outside the grid (your laptop, a CI runner) join the network through a node with a public
        address, and returns a wg-quick configuration for it in RV(access_config).
      - The access node must be one of O(nodes).
    type: dict
    suboptions:
      node_id:
        description:
          - The node the machine connects to. It needs a public address of the family chosen by O(access.ipv4).
        type: str
        required: true
      subnet:
        description:
          - The /24 of the machine inside O(ip_range). Allocated like the node subnets when omitted.
        type: str
      ipv4:
        description:
          - Connect to the node over IPv4 instead of IPv6 (for machines without IPv6).
        type: bool
        default: false
      wg_public_key:
        description:
          - The machine's own WireGuard public key (base64). Its private key then never leaves the machine and the
            returned configuration has no C(PrivateKey) line; add it yourself.
          - When omitted the module derives the machine's key pair from the identity seed and the network name
            (stable across runs) and puts the private key in the configuration.
        type: str
  access_config_path:
    description:
      - Write the wg-quick configuration of O(access) to this local file (mode C(0600)), for example
        V(~/.config/wireguard/grid.conf). The file is only rewritten when its content changes.
      - When set, RV(access_config) is not returned. With O(state=absent) the file is removed, since it holds the
        private key of a network that no longer exists.
    type: path
  force:
    description:
      - With O(state=absent), cancel the network even when live containers or Kubernetes VMs of the identity are
        connected to it; they lose their private network. Without it the module fails naming them, and in check
        mode it warns.
    type: bool
    default: false
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
      - Nodes and the live network are read; nothing is registered, paid, cancelled, or written to or removed from
        O(access_config_path).
  diff_mode:
    support: full
    details:
      - The diff shows the network range, the nodes with their subnets and listen ports, and the expiry; never a key.
  idempotent:
    support: full
notes:
  - The private key of a derived access key pair is only ever written to O(access_config_path) (mode C(0600));
    RV(access_config) shows it masked.
  - On 0-OS v0.3 nodes the network id is derived from the owner and O(name), which is how a new reservation of the same
    name updates the network in place.
  - A renewal (O(renew_before)) registers a new reservation with the same network, subnets, WireGuard keys and
    listen ports.
  - Networks cost nothing, so nothing is paid and O(payment) is not needed; it is accepted so that the resource
    modules of a play can share it through C(module_defaults). Without it the module still waits until the
    explorer has checked the (empty) escrow and the nodes report the network.
seealso:
  - module: threefold.grid.zos_node_info
  - module: threefold.grid.zos_container
  - module: threefold.grid.zos_volume
  - name: WireGuard wg-quick
    description: The configuration format of RV(access_config).
    link: https://man7.org/linux/man-pages/man8/wg-quick.8.html
"""

EXAMPLES = r"""
- name: A network over a public and a hidden node, with access from this machine over IPv4
  threefold.grid.zos_network:
    name: demo-net
    ip_range: 10.20.0.0/16
    nodes:
      - node_id: "{{ public_node }}"
      - node_id: "{{ hidden_node }}"
        subnet: 10.20.9.0/24
    access:
      node_id: "{{ public_node }}"
      ipv4: true
    access_config_path: "{{ lookup('env', 'HOME') }}/.config/wireguard/demo-net.conf"
    duration: 30d
  register: net

- name: Show the subnets
  ansible.builtin.debug:
    msg: "{{ net.network.nodes | items2dict(key_name='node_id', value_name='subnet') }}"

- name: Add a node; the other nodes keep their subnets, keys and ports
  threefold.grid.zos_network:
    name: demo-net
    ip_range: 10.20.0.0/16
    nodes:
      - node_id: "{{ public_node }}"
      - node_id: "{{ hidden_node }}"
        subnet: 10.20.9.0/24
      - node_id: "{{ third_node }}"
    access:
      node_id: "{{ public_node }}"
      ipv4: true
    access_config_path: "{{ lookup('env', 'HOME') }}/.config/wireguard/demo-net.conf"

- name: Bring your own WireGuard key; the returned configuration has no PrivateKey line
  threefold.grid.zos_network:
    name: demo-net
    ip_range: 10.20.0.0/16
    nodes:
      - node_id: "{{ public_node }}"
    access:
      node_id: "{{ public_node }}"
      wg_public_key: "{{ lookup('file', 'laptop.pub') }}"
  register: net

- name: Remove the network
  threefold.grid.zos_network:
    name: demo-net
    state: absent
"""

RETURN = r"""
network:
  description: The network as deployed (or as it would be, in check mode). V(null) after O(state=absent).
  returned: always
  type: dict
  contains:
    name:
      description: The network name.
      type: str
      sample: demo-net
    ip_range:
      description: The /16 of the network.
      type: str
      sample: 10.20.0.0/16
    reservation_id:
      description: Id of the reservation holding the network; V(null) in check mode when it would be registered.
      type: int
      sample: 42
    state:
      description: The reservation's state (C(pay), C(deploy), ...), V(null) when not registered.
      type: str
      sample: deploy
    workload_state:
      description: C(ok) once every node reported its network resource, else C(pending), C(error) or C(deleted).
      type: str
      sample: ok
    expires_at:
      description: Unix time at which the reservation ends.
      type: int
      sample: 1767225600
    escrow:
      description: What the escrow asked for at registration (networks are free, so usually V(null)).
      type: dict
      sample: null
    error:
      description: The first error a node reported (C(workload_id), C(node_id), C(category), C(message)), or V(null).
      type: dict
      sample: null
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
      description: Ids of the reservations this run cancelled because the network changed.
      type: list
      elements: int
      sample: [41]
    payment:
      description: The payment made by this run, or V(null) (networks cost nothing).
      type: dict
      sample: null
    nodes:
      description: One entry per node, in the order of O(nodes).
      type: list
      elements: dict
      contains:
        node_id:
          description: The node id.
          type: str
          sample: 2fi9ZZiBGW4G9pnrN656bMfW6x55RSoHDeMrd9pgSA8T
        subnet:
          description: The node's /24.
          type: str
          sample: 10.20.1.0/24
        gateway:
          description: The node's gateway address in its /24 (C(.1)); container addresses start after it.
          type: str
          sample: 10.20.1.1
        wireguard_public_key:
          description: The WireGuard public key of the network resource (base64).
          type: str
          sample: 6Dtj5KbAkk6Y0GfAL2gYhUcXoplOM7hKzb8BYpWnKwE=
        wireguard_listen_port:
          description: The WireGuard listen port on the node.
          type: int
          sample: 4312
        hidden:
          description: Whether the node has no public address (it is reached through a public IPv4 node).
          type: bool
          sample: false
    access:
      description: The external access peer, V(null) without O(access).
      type: dict
      contains:
        node_id:
          description: The access node.
          type: str
          sample: 2fi9ZZiBGW4G9pnrN656bMfW6x55RSoHDeMrd9pgSA8T
        subnet:
          description: The machine's /24.
          type: str
          sample: 10.20.3.0/24
        address:
          description: The machine's WireGuard address.
          type: str
          sample: 100.64.20.3/32
        wireguard_public_key:
          description: The machine's WireGuard public key.
          type: str
          sample: Jp2WKtuQ4UR5X1SLuD9DdVOBQ4rQmZ2JMmIkG9HRN1A=
        ipv4:
          description: Whether the machine connects over IPv4.
          type: bool
          sample: true
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
access_config:
  description:
    - The wg-quick configuration for the machine of O(access). When the module derived the machine's key pair
      (no O(access.wg_public_key)), the value of its C(PrivateKey) line is masked as C(********), so that a
      private key never goes to task output or logs. Use O(access_config_path) to get a usable file.
    - Not returned when O(access_config_path) is set.
  returned: when O(access) is set and O(access_config_path) is not
  type: str
  sample: |
    [Interface]
    Address = 100.64.20.3/32
    PrivateKey = ********

    [Peer]
    PublicKey = 6Dtj5KbAkk6Y0GfAL2gYhUcXoplOM7hKzb8BYpWnKwE=
    AllowedIPs = 10.20.0.0/16, 100.64.0.0/16
    Endpoint = 192.0.2.11:4312
    PersistentKeepalive = 25
access_config_path:
  description: The file the wg-quick configuration was written to.
  returned: when O(access_config_path) is set and O(state=present)
  type: str
  sample: /home/me/.config/wireguard/demo-net.conf
config_removed:
  description: Whether O(state=absent) removed (or, in check mode, would remove) the file at O(access_config_path).
  returned: when O(access_config_path) is set and O(state=absent)
  type: bool
  sample: true
cancelled:
  description: Ids of the reservations cancelled by O(state=absent).
  returned: when O(state=absent)
  type: list
  elements: int
  sample: [42]
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
from ansible_collections.threefold.grid.plugins.module_utils._errors import NetworkSpecError
from ansible_collections.threefold.grid.plugins.module_utils._network import check_options, deployed_layout, plan_network
from ansible_collections.threefold.grid.plugins.module_utils._resource import ResourceRunner
from ansible_collections.threefold.grid.plugins.module_utils._lifecycle import addresses
from ansible_collections.threefold.grid.plugins.module_utils._views import data_of, tag_of
from ansible_collections.threefold.grid.plugins.module_utils._wireguard import (
    check_config_folder, deliver_config, drop_config, routing_address)


def argument_spec():
    spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        ip_range=dict(type="str"),
        nodes=dict(type="list", elements="dict", options=dict(
            node_id=dict(type="str", required=True),
            subnet=dict(type="str"),
        )),
        access=dict(type="dict", options=dict(
            node_id=dict(type="str", required=True),
            subnet=dict(type="str"),
            ipv4=dict(type="bool", default=False),
            wg_public_key=dict(type="str", no_log=False),
        )),
        access_config_path=dict(type="path"),
        force=dict(type="bool", default=False),
    )
    spec.update(reservation_argument_spec())
    spec.update(labels_argument_spec())
    spec.update(ledger_argument_spec())
    return spec


def access_view(plan):
    """The external access peer of the plan, or None."""
    access = None
    if plan.access is not None:
        access = {
            "node_id": plan.access.node_id,
            "subnet": str(plan.access.subnet),
            "address": routing_address(plan.access.subnet),
            "wireguard_public_key": plan.access.public_key,
            "ipv4": plan.access.ipv4,
        }
    return access


class NetworkRunner(ResourceRunner):
    kind = "network"
    returns_estimate = False  # networks cost nothing

    def __init__(self, params, session, diff=False):
        super(NetworkRunner, self).__init__(params, session, diff)
        self.plan = None  # the planned network, set by present()

    def describe(self, reservation, replaced=None, payment=None):
        """What is known of the network when the lifecycle failed (no plan details needed)."""
        return {
            "name": self.name,
            "reservation_id": reservation.get("id"),
            "state": reservation.get("state"),
            "workload_state": reservation.get("workload_state"),
            "error": reservation.get("error"),
            "results": reservation.get("results"),
        }

    def present_returns(self, outcome):
        # The returned `network`: the plan (subnets, keys, ports) plus the reservation's state.
        return {"network": self.resource_view(outcome.reservation or {}, outcome.replaced, outcome.payment,
                                              ip_range=str(self.plan.ip_range), nodes=self.plan.describe_nodes(),
                                              access=access_view(self.plan))}

    def absent_returns(self, outcome):
        # The network is gone from every node; the cancelled reservation ids say what was removed.
        return {"network": None, "cancelled": outcome.cancelled}

    def absent(self):
        self.check_unused()
        result = super(NetworkRunner, self).absent()
        path = self.params["access_config_path"]
        if path:
            # The access file holds the machine's private key for a network that no longer exists.
            removed = drop_config(path, self.check_mode, "access_config_path")
            result["changed"] = result["changed"] or removed
            result["config_removed"] = removed
        return result

    def check_unused(self):
        """Refuse to cancel a network that live containers or VMs of the identity still use, unless forced.

        In check mode it only warns: an earlier task of the same run (a role tearing down) removes them first.
        """
        reservations = self.lifecycle.reservations
        if not reservations.find(self.name, self.kind):
            return
        users = ["%s (reservation %d)" % ((tag_of(other) or {}).get("name") or "no name", other["id"])
                 for other in reservations.live() if any(network == self.name for network, _ip in addresses(data_of(other)))]
        if not users:
            return
        what = "network %r is used by live workloads of this identity: %s" % (self.name, ", ".join(users))
        if self.params["force"]:
            self.session.warn("%s; cancelling it anyway (force=true): they lose their private network" % what)
        elif self.check_mode:
            self.session.warn("%s; a real run refuses to cancel it unless they are removed first or force=true" % what)
        else:
            raise NetworkSpecError("%s; remove them first (state=absent), or set force=true to cancel the network "
                                   "anyway, which cuts them off" % what)

    def directory(self):
        """Directory records of the nodes (known and up), and the currency their reservation must offer."""
        lookup = self.lifecycle.lookup
        directory = {}
        for index, item in enumerate(self.params["nodes"]):
            directory[item["node_id"]] = lookup.node(item["node_id"], "nodes[%d].node_id" % index)
        free = sorted(node_id for node_id, node in directory.items() if node.get("free_to_use"))
        paid = sorted(node_id for node_id, node in directory.items() if not node.get("free_to_use"))
        if free and paid:
            raise NetworkSpecError(
                "nodes: free-to-use nodes (%s) and paid nodes (%s) cannot be in one reservation; the explorer "
                "rejects it" % (", ".join(free), ", ".join(paid)))
        return directory, (["FreeTFT"] if free else ["TFT"])

    def live_layout(self):
        """Subnets, ports and keys the live network already has, so that a new reservation keeps them."""
        live = self.lifecycle.reservations.find_live(self.name, self.kind)
        networks = [n for n in data_of(live).get("networks") or [] if n.get("name") == self.name] if live else []
        return deployed_layout(networks[0] if networks else None)

    def present(self):
        check_options(self.params["ip_range"], self.params["nodes"], self.params["access"])
        life = self.lifetime()
        check_config_folder(self.params["access_config_path"], "access_config_path")
        directory, currencies = self.directory()
        identity = self.session.identity
        self.plan = plan_network(self.name, self.params["ip_range"], self.params["nodes"], directory,
                                 identity.seed_hex, identity.public_key_hex, deployed=self.live_layout(),
                                 access_request=self.params["access"])
        # Networks cost nothing: the zero escrow needs no wallet, but the lifecycle must still wait (as for a
        # payer) until the explorer's escrow check moves the reservation from pay to deploy.
        payment = self.params["payment"] or {"wait": False}
        result = self.deploy(lambda: {"networks": [self.plan.workload()]}, self.plan.spec(), life, currencies, payment)
        if self.plan.access_config is not None:
            delivered, written = deliver_config(self.plan.access_config, self.params["access_config_path"],
                                                self.check_mode, "access_config_path", self.session.warn)
            result.update(delivered)
            result["changed"] = result["changed"] or written
        return result


def main():
    ZosModule(
        argument_spec(),
        required_if=[("state", "present", ("ip_range", "nodes"))],
        mutually_exclusive=[("duration", "expires_at")],
    ).run(NetworkRunner)


if __name__ == "__main__":
    main()
