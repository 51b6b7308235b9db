"""Network resource: this node's share of a user's private network (one WireGuard endpoint).

The node-side id depends only on the user and the network name, so re-registering a network
with the same name in a new reservation updates the resource in place (how clients add nodes).
0-OS v0.3 then removes the resource when *any* of those reservations is decommissioned; here
only the reservation that defined it last removes it, so replacing a network reservation with a
newer one and cancelling the old one leaves the network up.
"""

import base64
import binascii
import hashlib
import ipaddress
import logging

from localgrid.keys import b58encode
from localgrid.node.provision.base import Deployment, ProvisionError
from localgrid.node.secrets import DecryptError, open_hex
from localgrid.runtime.base import StartError
from localgrid.runtime.networks import NetworkConfig

log = logging.getLogger(__name__)


def network_id(user_tid, name):
    """0-OS node-side network id: first 13 chars of base58(md5(tid string + network name))."""
    return b58encode(hashlib.md5((str(user_tid) + name).encode()).digest())[:13]


def missing_network_error(net_id):
    return "couldn't load network with id (%s): open /var/cache/modules/networkd/networks/%s: no such file or directory" % (
        net_id, net_id)


def _validate(network):
    if not network.get("name"):
        return "network needs a valid id"
    if not network.get("iprange"):
        return "network IP range cannot be empty"
    resources = network.get("network_resources") or []
    if not resources:
        return "Network needs at least one network resource"
    for index, resource in enumerate(resources):
        problem = _validate_resource(resource)
        if problem:
            return "network resource %d is invalid: %s" % (index, problem)
    return None


def _validate_resource(resource):
    if not resource.get("node_id"):
        return "network resource node ID cannot empty"
    if not resource.get("iprange"):
        return "network resource subnet cannot empty"
    if not resource.get("wireguard_private_key_encrypted"):
        return "network resource wireguard private key cannot empty"
    if not resource.get("wireguard_public_key"):
        return "network resource wireguard public key cannot empty"
    if not resource.get("wireguard_listen_port"):
        return "network resource wireguard listen port cannot empty"
    return None


def _create_resource(ctx, network, net_id):
    """The part 0-OS networkd does; its errors get wrapped by the caller."""
    mine = [nr for nr in network["network_resources"] if nr.get("node_id") == ctx.node_id]
    if not mine:
        raise ProvisionError("not network resource for this node: %s" % ctx.node_id)
    resource = mine[0]
    try:
        key_text = open_hex(ctx.box, resource["wireguard_private_key_encrypted"])
    except DecryptError as error:
        raise ProvisionError("failed to decrypt wireguard private key: %s" % error) from None
    try:
        key = base64.b64decode(key_text, validate=True)
    except binascii.Error:
        key = b""
    if len(key) != 32:  # wgtypes.ParseKey
        raise ProvisionError("failed to parse wireguard private key: wgtypes: incorrect key size: %d" % len(key))
    port = int(resource["wireguard_listen_port"])
    taken = {other["listen_port"] for other in ctx.state.networks() if other["net_id"] != net_id}
    if port in taken or port in ctx.reserved_ports:
        raise ProvisionError("wireguard listen port already in use, pick another one")
    try:
        subnet = ipaddress.ip_interface(resource["iprange"]).network
    except ValueError as error:
        raise ProvisionError("invalid network resource subnet: %s" % error) from None
    return resource, port, str(subnet), key_text.decode()


def loopback_endpoint(ctx):
    """The node's public IPv4 when it is an address of this machine (127/8): where its relay listens."""
    try:
        address = ipaddress.ip_interface((ctx.public_config or {}).get("ipv4") or "").ip
    except ValueError:
        return ""
    return str(address) if address.is_loopback else ""


def _run(ctx, net_id, resource, port, subnet, private_key):
    config = NetworkConfig(net_id=net_id, subnet=subnet, private_key=private_key, listen_port=port,
                           peers=list(resource.get("peers") or []), endpoint=loopback_endpoint(ctx))
    try:
        ctx.runtime.network_up(ctx.node_id, config)
    except StartError as error:
        raise ProvisionError(error.message) from None


def provision(ctx, workload):
    network = workload["content"]
    problem = _validate(network)
    if problem:
        raise ProvisionError("validation of the network resource failed: %s" % problem)
    net_id = network_id(workload["user"], network["name"])
    try:
        resource, port, subnet, private_key = _create_resource(ctx, network, net_id)
        _run(ctx, net_id, resource, port, subnet, private_key)
    except ProvisionError as error:
        raise ProvisionError("failed to create network resource for network %s: %s" % (net_id, error)) from None
    # Same user + same name = same net id: a later reservation updates the resource in place.
    ctx.state.put_network(
        net_id, workload["user"], network["name"], workload["workload_id"], network["iprange"],
        subnet, port, resource["wireguard_public_key"],
    )
    return Deployment(data=None, details={"net_id": net_id, "network": network})


def restore(ctx, cached):
    """Bring the resource up again after a localgrid restart (its key decrypted anew)."""
    details = cached["data"].get("details") or {}
    net_id = details.get("net_id")
    current = ctx.state.network(net_id) if net_id else None
    if current is None or current["gwid"] != cached["gwid"] or "network" not in details:
        return
    try:
        _run(ctx, net_id, *_create_resource(ctx, details["network"], net_id))
    except ProvisionError as error:
        log.warning("network resource %s could not be brought up again: %s", net_id, error.message)


def decommission(ctx, cached):
    net_id = cached["data"]["details"]["net_id"]
    current = ctx.state.network(net_id)
    if current and current["gwid"] == cached["gwid"]:
        ctx.state.remove_network(net_id)
        ctx.runtime.network_down(ctx.node_id, net_id)
