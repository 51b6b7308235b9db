# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""The private network workload: validation, subnet allocation, peers and the external access peer.

Subnets are allocated by _subnets.py.

Peers follow the 2020 Python SDK (docs/contract/node.md §5.2): every network resource peers with every
other one; allowed ranges are the peer's /24 plus its 100.64.b.c/32 routing address; public nodes
connect over IPv6 (IPv4 as fallback); hidden nodes (no public address) peer only with public IPv4
nodes, and the first public IPv4 node (the relay) also carries the other hidden subnets and the
subnets of IPv6-only nodes for them. Where the SDK code had slips (iterating node ids instead of
subnets, adding hidden subnets to the relay for nodes that already peer with them directly, which
would take the route away from the direct peer), this follows what the SDK meant.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from typing import Any, Dict, List, Optional, Sequence

from ansible_collections.threefold.grid.plugins.module_utils._crypto import encrypt_for_node
from ansible_collections.threefold.grid.plugins.module_utils._errors import NetworkSpecError
from ansible_collections.threefold.grid.plugins.module_utils._subnets import (
    ACCESS_KEY,
    allocate_subnets,
    check_unique_nodes,
    parse_ip_range,
    subnet_requests,
)
from ansible_collections.threefold.grid.plugins.module_utils._wireguard import (
    ROUTING_RANGE,
    access_keypair,
    endpoint_text,
    node_keypair,
    pick_listen_port,
    routing_address,
    wg_quick_config,
)

# Addresses the SDK never used as a WireGuard endpoint.
NON_PUBLIC_RANGES = tuple(
    ipaddress.ip_network(text)
    for text in (
        "127.0.0.0/8",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "169.254.0.0/16",
        "::1/128",
        "fe80::/10",
        "fc00::/7",
    )
)


def _is_public(address):
    if address.is_multicast or address.is_unspecified:
        return False
    return not any(address in network for network in NON_PUBLIC_RANGES if network.version == address.version)


def public_endpoints(node: Dict[str, Any]) -> List[Any]:
    """Public addresses of a directory node: its public_config when set up, else its interface addresses.

    As in the SDK, the addresses a farmer declared in public_config are taken as given (localgrid
    declares loopback ones); only interface addresses are filtered down to public unicast ones.
    """
    config = node.get("public_config") or {}
    declared = bool(config.get("master"))
    if declared:
        cidrs = [config.get("ipv4"), config.get("ipv6")]
    else:
        cidrs = [addr for iface in node.get("ifaces") or [] for addr in iface.get("addrs") or []]
    endpoints = []
    for cidr in cidrs:
        if not cidr:
            continue
        try:
            address = ipaddress.ip_interface(str(cidr)).ip
        except ValueError:
            continue
        usable = not (address.is_multicast or address.is_unspecified) if declared else _is_public(address)
        if usable and address not in endpoints:
            endpoints.append(address)
    return endpoints


class NetworkResource:
    """One node of the network with everything its network resource needs."""

    __slots__ = ("node_id", "subnet", "private_key", "public_key", "listen_port", "endpoints")

    def __init__(self, node_id, subnet, private_key, public_key, listen_port, endpoints):
        self.node_id = node_id
        self.subnet = subnet
        self.private_key = private_key
        self.public_key = public_key
        self.listen_port = listen_port
        self.endpoints = list(endpoints)

    @property
    def hidden(self):
        return not self.endpoints

    def endpoint_address(self, version):
        for address in self.endpoints:
            if address.version == version:
                return address
        return None

    @property
    def gateway(self):
        return str(self.subnet.network_address + 1)


class AccessPoint:
    """An external peer (the user's machine) entering the network through one public node."""

    __slots__ = ("node_id", "subnet", "public_key", "ipv4")

    def __init__(self, node_id, subnet, public_key, ipv4):
        self.node_id = node_id
        self.subnet = subnet
        self.public_key = public_key
        self.ipv4 = ipv4


def _allowed(subnets):
    allowed = []
    for subnet in subnets:
        for item in (str(subnet), routing_address(subnet)):
            if item not in allowed:
                allowed.append(item)
    return allowed


def _peer(public_key, subnet, allowed_subnets, endpoint):
    return {
        "public_key": public_key,
        "allowed_iprange": _allowed(allowed_subnets),
        "endpoint": endpoint,
        "iprange": str(subnet),
    }


def build_peers(resources: List["NetworkResource"], access_points: Sequence["AccessPoint"] = ()) -> None:
    """{node_id: [peer dicts]} for every network resource."""
    hidden = [nr for nr in resources if nr.hidden]
    relay = None
    if hidden:
        relay = next((nr for nr in resources if nr.endpoint_address(4)), None)
    ipv6_only = [nr for nr in resources if not nr.hidden and not nr.endpoint_address(4)]
    subnet_of_node = dict((nr.node_id, nr.subnet) for nr in resources)
    behind = {}
    for access in access_points:
        behind.setdefault(subnet_of_node[access.node_id], []).append(access.subnet)

    peers = {}
    for nr in resources:
        items = []
        for other in resources:
            if other is nr:
                continue
            allowed = [other.subnet]
            if nr.hidden:
                address = other.endpoint_address(4)
                if address is None:
                    continue
                endpoint = endpoint_text(address, other.listen_port)
                if other is relay:
                    allowed.extend(item.subnet for item in hidden if item is not nr)
                    allowed.extend(item.subnet for item in ipv6_only)
            elif other.hidden:
                # The hidden node dials us over IPv4; without IPv4 we reach it through the relay.
                if nr.endpoint_address(4) is None:
                    continue
                endpoint = ""
            else:
                address = other.endpoint_address(6) or other.endpoint_address(4)
                endpoint = endpoint_text(address, other.listen_port)
                if other is relay and nr.endpoint_address(4) is None:
                    allowed.extend(item.subnet for item in hidden)
            for subnet in list(allowed):
                allowed.extend(behind.get(subnet, []))
            items.append(_peer(other.public_key, other.subnet, allowed, endpoint))
        for access in access_points:
            if access.node_id == nr.node_id:
                items.append(_peer(access.public_key, access.subnet, [access.subnet], ""))
        peers[nr.node_id] = items
    return peers


def network_workload(name: str, ip_range: Any, resources: List["NetworkResource"],
                     access_points: Sequence["AccessPoint"] = (), workload_id: int = 1) -> Dict[str, Any]:
    """The wire form of the network (type 3); each private key is sealed for its node."""
    peers = build_peers(resources, access_points)
    return {
        "name": name,
        "workload_id": int(workload_id),
        "iprange": str(ip_range),
        "stats_aggregator": [],
        "farmer_tid": 0,
        "network_resources": [
            {
                "node_id": nr.node_id,
                "wireguard_private_key_encrypted": encrypt_for_node(nr.node_id, nr.private_key),
                "wireguard_public_key": nr.public_key,
                "wireguard_listen_port": int(nr.listen_port),
                "iprange": str(nr.subnet),
                "peers": peers[nr.node_id],
            }
            for nr in resources
        ],
    }


def deployed_layout(network: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """What a live network workload already assigns: per node subnet/port/key, and its access peers."""
    layout = {"nodes": {}, "access": []}
    if not network:
        return layout
    resources = network.get("network_resources") or []
    node_keys = set()
    for resource in resources:
        node_keys.add(resource.get("wireguard_public_key"))
        layout["nodes"][resource.get("node_id")] = {
            "subnet": resource.get("iprange"),
            "listen_port": resource.get("wireguard_listen_port"),
            "public_key": resource.get("wireguard_public_key"),
        }
    for resource in resources:
        for peer in resource.get("peers") or []:
            if peer.get("public_key") not in node_keys:
                layout["access"].append(
                    {"node_id": resource.get("node_id"), "subnet": peer.get("iprange"), "public_key": peer.get("public_key")}
                )
    return layout


class NetworkPlan:
    """The resolved network: range, resources, optional access point and its wg-quick config."""

    def __init__(self, name, ip_range, resources, access=None, access_config=None):
        self.name = name
        self.ip_range = ip_range
        self.resources = resources
        self.access = access
        self.access_config = access_config

    @property
    def access_points(self):
        return [self.access] if self.access else []

    def workload(self, workload_id: int = 1) -> Dict[str, Any]:
        return network_workload(self.name, self.ip_range, self.resources, self.access_points, workload_id)

    def spec(self) -> Dict[str, Any]:
        """The normalised network for the reservation fingerprint: no private key, nothing random."""
        return {
            "name": self.name,
            "ip_range": str(self.ip_range),
            "nodes": [
                {
                    "node_id": nr.node_id,
                    "subnet": str(nr.subnet),
                    "wireguard_public_key": nr.public_key,
                    "wireguard_listen_port": nr.listen_port,
                    "endpoints": [str(address) for address in nr.endpoints],
                }
                for nr in self.resources
            ],
            "access": None if self.access is None else {
                "node_id": self.access.node_id,
                "subnet": str(self.access.subnet),
                "wireguard_public_key": self.access.public_key,
                "ipv4": self.access.ipv4,
            },
        }

    def describe_nodes(self) -> List[Dict[str, Any]]:
        return [
            {
                "node_id": nr.node_id,
                "subnet": str(nr.subnet),
                "gateway": nr.gateway,
                "wireguard_public_key": nr.public_key,
                "wireguard_listen_port": nr.listen_port,
                "hidden": nr.hidden,
            }
            for nr in self.resources
        ]


def check_options(ip_range: str, node_requests: List[Dict[str, Any]],
                  access_request: Optional[Dict[str, Any]] = None) -> ipaddress.IPv4Network:
    """Everything that can be checked without the explorer: range, subnets, overlaps, duplicates, keys."""
    if not node_requests:
        raise NetworkSpecError("nodes: a network needs at least one node")
    ip_range = parse_ip_range(ip_range)
    check_unique_nodes(node_requests)
    allocate_subnets(ip_range, subnet_requests(node_requests, access_request))
    if access_request:
        if access_request["node_id"] not in [request["node_id"] for request in node_requests]:
            raise NetworkSpecError("access.node_id: %s is not one of the nodes of the network" % access_request["node_id"])
        public_key = access_request.get("wg_public_key")
        if public_key and not _is_public_key(public_key):
            raise NetworkSpecError("access.wg_public_key: %r is not a base64 WireGuard public key" % public_key)
    return ip_range


def plan_network(name: str, ip_range: str, node_requests: List[Dict[str, Any]], directory: Dict[str, Dict[str, Any]],
                 seed_hex: str, owner: str, deployed: Optional[Dict[str, Any]] = None,
                 access_request: Optional[Dict[str, Any]] = None) -> "NetworkPlan":
    """Resolve subnets, keys, ports and the access peer of a network.

    `node_requests` are the `nodes` options ({node_id, subnet}); `directory` maps node ids to
    explorer node records; `deployed` is `deployed_layout()` of the live network of this name;
    `owner` (the identity's public key) seeds the port derivation.
    """
    ip_range = check_options(ip_range, node_requests, access_request)
    for index, request in enumerate(node_requests):
        if request["node_id"] not in directory:
            raise NetworkSpecError("nodes[%d].node_id: node %s is not in the directory" % (index, request["node_id"]))
    deployed = deployed or deployed_layout(None)
    previous = dict((node_id, item["subnet"]) for node_id, item in deployed["nodes"].items())
    if access_request:
        previous_access = [item for item in deployed["access"] if item["node_id"] == access_request["node_id"]]
        if previous_access:
            previous[ACCESS_KEY] = previous_access[0]["subnet"]
    requests = subnet_requests(node_requests, access_request)
    subnets = allocate_subnets(ip_range, requests, previous)

    resources = []
    for request in node_requests:
        node_id = request["node_id"]
        private_key, public_key = node_keypair(seed_hex, name, node_id)
        port = (deployed["nodes"].get(node_id) or {}).get("listen_port")
        if not port:
            port = pick_listen_port(owner, name, node_id, directory[node_id].get("wg_ports"))
        resources.append(
            NetworkResource(node_id, subnets[node_id], private_key, public_key, int(port),
                            public_endpoints(directory[node_id]))
        )
    _check_reachability(resources)
    plan = NetworkPlan(name, ip_range, resources)
    if access_request:
        _plan_access(plan, access_request, subnets[ACCESS_KEY], seed_hex)
    return plan


def _check_reachability(resources):
    hidden = [nr.node_id for nr in resources if nr.hidden]
    if hidden and len(resources) > 1 and not any(nr.endpoint_address(4) for nr in resources):
        raise NetworkSpecError(
            "nodes: hidden node(s) %s can only reach the network through a node with a public IPv4 "
            "address, and none of the nodes has one" % ", ".join(hidden)
        )


def _plan_access(plan, request, subnet, seed_hex):
    node_id = request["node_id"]
    resource = next(nr for nr in plan.resources if nr.node_id == node_id)
    if resource.hidden:
        raise NetworkSpecError("access.node_id: node %s has no public address and cannot be an access point" % node_id)
    version = 4 if request.get("ipv4") else 6
    address = resource.endpoint_address(version)
    if address is None:
        raise NetworkSpecError(
            "access.ipv4: node %s has no public IPv%d address (set access.ipv4 to %s)"
            % (node_id, version, "false" if version == 4 else "true")
        )
    private_key = None
    public_key = request.get("wg_public_key")
    if not public_key:
        private_key, public_key = access_keypair(seed_hex, plan.name)
    plan.access = AccessPoint(node_id, subnet, public_key, bool(request.get("ipv4")))
    plan.access_config = wg_quick_config(
        routing_address(subnet),
        resource.public_key,
        [str(plan.ip_range), ROUTING_RANGE],
        endpoint_text(address, resource.listen_port),
        private_key=private_key,
    )


def _is_public_key(text):
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return len(raw) == 32
