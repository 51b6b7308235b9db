# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""A private network's range, its /24 subnets and the per-node requests for them.

A node keeps the /24 it was given explicitly, else the /24 it has in the live reservation of the same
network, else it gets the lowest free /24 of the range starting at x.y.1.0 (x.y.0.0/24 is never handed
out, so the first node of 10.1.0.0/16 gets 10.1.1.0/24, the next 10.1.2.0/24), in the order of the
`nodes` list; the access subnet is allocated last, the same way.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.threefold.grid.plugins.module_utils._errors import NetworkSpecError

# Network ranges the module accepts (RFC 1918).
PRIVATE_RANGES = tuple(ipaddress.ip_network(text) for text in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def parse_ip_range(value: Any, option: str = "ip_range") -> ipaddress.IPv4Network:
    try:
        network = ipaddress.ip_network(str(value), strict=True)
    except ValueError as exc:
        raise NetworkSpecError("%s: %r is not a network address in CIDR notation (%s)" % (option, value, exc))
    if network.version != 4:
        raise NetworkSpecError("%s: %r must be an IPv4 range" % (option, value))
    if not any(network.subnet_of(private) for private in PRIVATE_RANGES):
        raise NetworkSpecError(
            "%s: %r is not a private range (10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)" % (option, value)
        )
    if network.prefixlen != 16:
        raise NetworkSpecError("%s: %r must be a /16, not a /%d" % (option, value, network.prefixlen))
    return network


def parse_subnet(value: Any, ip_range: ipaddress.IPv4Network, option: str) -> ipaddress.IPv4Network:
    try:
        subnet = ipaddress.ip_network(str(value), strict=True)
    except ValueError as exc:
        raise NetworkSpecError("%s: %r is not a network address in CIDR notation (%s)" % (option, value, exc))
    if subnet.version != 4 or subnet.prefixlen != 24:
        raise NetworkSpecError("%s: %r must be an IPv4 /24" % (option, value))
    if not subnet.subnet_of(ip_range):
        raise NetworkSpecError("%s: %r is not inside ip_range %s" % (option, value, ip_range))
    return subnet


def _allocatable(ip_range):
    for subnet in ip_range.subnets(new_prefix=24):
        if subnet.network_address.packed[2] != 0:
            yield subnet


def allocate_subnets(ip_range: ipaddress.IPv4Network, requests: List[Tuple[Any, str, Optional[str]]],
                     previous: Optional[Dict[Any, str]] = None) -> Dict[Any, ipaddress.IPv4Network]:
    """Map each request key to a /24 of `ip_range`.

    `requests` is an ordered list of (key, option name, requested subnet or None); `previous` maps
    keys to the subnet they have in the live network. Explicit subnets win, then previous ones that
    are still inside the range and free, then the lowest free /24 from x.y.1.0 up.
    """
    previous = previous or {}
    assigned = {}
    owners = {}
    for key, option, value in requests:
        if not value:
            continue
        subnet = parse_subnet(value, ip_range, option)
        if subnet in owners:
            raise NetworkSpecError("%s: %s overlaps %s" % (option, subnet, owners[subnet]))
        owners[subnet] = option
        assigned[key] = subnet
    for key, option, _value in requests:
        if key in assigned or not previous.get(key):
            continue
        try:
            subnet = parse_subnet(previous[key], ip_range, option)
        except NetworkSpecError:
            continue
        if subnet not in owners:
            owners[subnet] = option
            assigned[key] = subnet
    free = (subnet for subnet in _allocatable(ip_range) if subnet not in owners)
    for key, option, _value in requests:
        if key in assigned:
            continue
        subnet = next(free, None)
        if subnet is None:
            raise NetworkSpecError("%s: no free /24 left in ip_range %s" % (option, ip_range))
        owners[subnet] = option
        assigned[key] = subnet
    return assigned


ACCESS_KEY = ("access",)  # the subnet key of the external access peer (never a node id)


def check_unique_nodes(node_requests: List[Dict[str, Any]]) -> None:
    seen = set()
    for index, request in enumerate(node_requests):
        if request["node_id"] in seen:
            raise NetworkSpecError("nodes[%d].node_id: %s is listed more than once" % (index, request["node_id"]))
        seen.add(request["node_id"])


def subnet_requests(node_requests: List[Dict[str, Any]],
                    access_request: Optional[Dict[str, Any]]) -> List[Tuple[Any, str, Optional[str]]]:
    """(key, option, requested subnet or None) of each node, then of the access peer (key ACCESS_KEY)."""
    requests = [
        (request["node_id"], "nodes[%d].subnet" % index, request.get("subnet"))
        for index, request in enumerate(node_requests)
    ]
    if access_request:
        requests.append((ACCESS_KEY, "access.subnet", access_request.get("subnet")))
    return requests
