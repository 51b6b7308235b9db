"""Container: the steps of 0-OS v0.3.x container provisioning (docs/contract/node.md §3), in order.

Nothing runs: the node checks what 0-OS checks, holds the capacity, and answers with the ids
and addresses a real node would. Decrypted secret env values stay in memory for the length of
the call; only their sha256 is kept so tests can prove the node opened them.
"""

import hashlib
import ipaddress
import shlex

from localgrid.node.provision import flist, network
from localgrid.node.provision.base import (
    Deployment, ProvisionError, STORAGE_COUNTER, compute_shortage, disk_type_name, public_ipv6, storage_shortage,
)
from localgrid.node.secrets import DecryptError, open_hex

ROOTFS_DEFAULT_MIB = 256
MEMORY_DEFAULT_MIB = 256
VOLUME_CACHE_DIR = "/var/cache/modules/storage/volumes"


def _validate(content):
    connections = content.get("network_connection") or []
    if not connections or not connections[0].get("network_id"):
        return "network ID cannot be empty"
    if not content.get("flist"):
        return "missing flist url"
    return None


def _rootfs(capacity):
    size_mib = int(capacity.get("disk_size") or 0)
    if size_mib == 0:
        return "SSD", ROOTFS_DEFAULT_MIB
    return disk_type_name(capacity.get("disk_type")), size_mib


def _secret_digests(ctx, secrets):
    digests = {}
    for name, sealed in (secrets or {}).items():
        try:
            value = open_hex(ctx.box, sealed)
        except DecryptError as error:
            raise ProvisionError("failed to decrypt secret env var '%s': %s" % (name, error)) from None
        digests[name] = hashlib.sha256(value).hexdigest()
    return digests


def _check_volumes(ctx, workload, rid):
    for mount in workload["content"].get("volumes") or []:
        volume_id = mount.get("volume_id") or ""
        if volume_id.startswith("-"):
            volume_id = rid + volume_id
        volume = ctx.state.volume(volume_id)
        if volume is None:
            raise ProvisionError(
                "failed to retrieve the owner of volume %s: open %s/%s: no such file or directory"
                % (volume_id, VOLUME_CACHE_DIR, volume_id))
        if volume["owner_tid"] != str(workload["user"]):
            raise ProvisionError("cannot use volume %s, user %s is not the owner of it" % (volume_id, workload["user"]))


def ula_ipv6(net_id, ipv4):
    """0-OS Convert4to6: md5.New().Sum(netID) *appends* a hash, so the first 5 bytes are the id's own."""
    prefix = net_id.encode()[:5]
    try:
        octets = ipaddress.IPv4Address(ipv4).packed
    except ValueError:
        octets = b"\0\0\0\0"
    text = "fd%x:%x%x:%x%x:%x::%x" % (*prefix, octets[2], octets[3])
    return str(ipaddress.IPv6Address(text))


def _entrypoint(content, flist_entry):
    text = content.get("entrypoint") or flist_entry.get("entrypoint") or ""
    try:
        argv = shlex.split(text)
    except ValueError:
        argv = []
    if not argv:
        raise ProvisionError("error starting container: invalid entrypoint definition '%s'" % text)


def provision(ctx, workload):
    content = workload["content"]
    gwid = workload["workload_id"]
    rid = gwid.split("-", 1)[0]
    problem = _validate(content)
    if problem:
        raise ProvisionError("container provision schema not valid: %s" % problem)
    capacity = content.get("capacity") or {}
    kind, rootfs_mib = _rootfs(capacity)
    flist_entry = flist.fetch(ctx, content["flist"])
    shortage = storage_shortage(ctx, kind, rootfs_mib / 1024)
    if shortage:
        raise ProvisionError("failed to create read-write subvolume for 0-fs: %s" % shortage)
    digests = _secret_digests(ctx, content.get("secret_environment"))
    _check_volumes(ctx, workload, rid)
    connection = content["network_connection"][0]
    net_id = network.network_id(workload["user"], connection["network_id"])
    if ctx.state.network(net_id) is None:
        raise ProvisionError(network.missing_network_error(net_id))
    ipv4 = connection.get("ipaddress") or ""
    if connection.get("public_ip6"):
        ipv6 = public_ipv6(ctx, gwid)
        if ipv6 is None:
            raise ProvisionError("error reading container ipv6: no public ipv6 address on this node")
    else:
        ipv6 = ula_ipv6(net_id, ipv4)
    cpu = int(capacity.get("cpu") or 0) or 1
    memory_mib = int(capacity.get("memory") or 0) or MEMORY_DEFAULT_MIB
    shortage = compute_shortage(ctx, cpu, memory_mib)
    if shortage:
        raise ProvisionError(shortage)
    if not content.get("interactive"):
        _entrypoint(content, flist_entry)
    ctx.state.set_secret_env_digests(gwid, digests)
    return Deployment(
        data={"id": gwid, "ipv6": ipv6, "ipv4": ipv4},
        usage={"cru": cpu, "mru": memory_mib / 1024, STORAGE_COUNTER[kind]: rootfs_mib / 1024},
    )

