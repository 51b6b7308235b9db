"""What every provisioner shares: the node it runs on, its error type, and capacity checks."""

import dataclasses
import ipaddress
import hashlib

from localgrid.runtime.base import Runtime

DISK_TYPES = {0: "HDD", 1: "SSD"}
# Disk kind -> the total_resources counter it is carved from (GB; localgrid counts a GiB as a GB).
STORAGE_COUNTER = {"HDD": "hru", "SSD": "sru"}


class ProvisionError(Exception):
    """A provisioning failure; ``str(error)`` is the message the node reports."""

    def __init__(self, message, data=None):
        super().__init__(message)
        self.message = message
        self.data = data


@dataclasses.dataclass
class Deployment:
    """What a successful provision leaves behind: the result data, the capacity it holds, and
    what decommission needs to undo it."""

    data: object
    usage: dict = dataclasses.field(default_factory=dict)
    details: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class NodeContext:
    node_id: str
    signing_key: object
    box: object  # SealedBox for secrets sealed to this node
    total_resources: dict
    public_config: object  # dict or None for a hidden node
    state: object  # NodeState
    hub_base_url: str
    flist_catalogue: list
    http: object = None  # httpx.Client used to download flists from the hub
    reserved_ports: tuple = ()  # WireGuard ports the grid file says are taken outside localgrid's networks
    runtime: Runtime = dataclasses.field(default_factory=Runtime)  # what really runs the workloads
    zos_version: tuple = (0, 3, 4)  # the 0-OS release this node behaves as (grid file `zos_version`)


def disk_type_name(value, what="disk"):
    if value not in DISK_TYPES:
        raise ProvisionError("unknown %s type: %s" % (what, value))
    return DISK_TYPES[value]


def storage_shortage(ctx, kind, size_gb):
    """The 0-OS storage error if ``size_gb`` does not fit in the free space of ``kind`` pools."""
    counter = STORAGE_COUNTER[kind]
    free = float(ctx.total_resources.get(counter, 0)) - ctx.state.used_resources()[counter]
    if size_gb > free + 1e-9:
        return "Not enough space left in pools of this type %s" % kind
    return None


def compute_shortage(ctx, cpu, memory_mib):
    """Real 0-OS v0.3 never refused a container for cpu/memory; localgrid does, with this text."""
    used = ctx.state.used_resources()
    free_cru = float(ctx.total_resources.get("cru", 0)) - used["cru"]
    free_mib = (float(ctx.total_resources.get("mru", 0)) - used["mru"]) * 1024
    if cpu > free_cru + 1e-9:
        return "not enough free capacity on node: requested %d vCPU, %d available" % (cpu, max(free_cru, 0))
    if memory_mib > free_mib + 1e-9:
        return "not enough free capacity on node: requested %d MiB of memory, %d MiB available" % (
            memory_mib, max(free_mib, 0))
    return None


def public_ipv6(ctx, seed):
    """A SLAAC-style address in the node's public IPv6 prefix, stable for ``seed``.

    0-OS gives the interface a MAC derived from the workload id and the farm router hands out a
    prefix; EUI-64 of that MAC is what SLAAC yields, so the result is stable across restarts.
    """
    config = ctx.public_config or {}
    if not config.get("ipv6"):
        return None
    network = ipaddress.ip_interface(config["ipv6"]).network
    mac = bytearray(hashlib.md5(seed.encode()).digest()[:6])
    mac[0] = (mac[0] | 0x02) & 0xFE  # locally administered unicast, like 0-OS generated MACs
    eui = bytes([mac[0] ^ 0x02]) + bytes(mac[1:3]) + b"\xff\xfe" + bytes(mac[3:6])
    host = int.from_bytes(eui, "big")
    if network.prefixlen > 64:
        host &= (1 << (128 - network.prefixlen)) - 1
    return str(ipaddress.IPv6Address(int(network.network_address) | host))
