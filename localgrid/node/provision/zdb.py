"""0-DB namespace: space on a pool of the disk type, served by the node's zdb on port 9900."""

import hashlib
import ipaddress

from localgrid.node.provision.base import (
    Deployment, ProvisionError, STORAGE_COUNTER, disk_type_name, public_ipv6, storage_shortage,
)
from localgrid.node.secrets import DecryptError, open_hex

ZDB_PORT = 9900


def zdb_ip(ctx, volume_seed):
    """The zdb container's IPv6: public prefix of the node if it has one, else a stable ULA.

    0-OS gives the zdb container an address by SLAAC on the node's network; a hidden localgrid
    node has no prefix in the grid file, so it gets a ULA derived from its node id.
    """
    address = public_ipv6(ctx, volume_seed)
    if address:
        return address
    digest = hashlib.sha256((ctx.node_id + volume_seed).encode()).digest()
    return str(ipaddress.IPv6Address(b"\xfd" + digest[:15]))


def ip_field(ctx, address):
    """0-OS v0.3.5 reports the container's addresses as a list ``IPs`` (docs/contract/node.md §7)."""
    if ctx.zos_version >= (0, 3, 5):
        return {"IPs": [address]}
    return {"IP": address}


def provision(ctx, workload):
    if ctx.zos_version < (0, 3, 5):
        return _deploy(ctx, workload)
    try:
        return _deploy(ctx, workload)
    except ProvisionError as error:
        # The zero value of v0.3.5's result struct: a nil list marshals as null.
        raise ProvisionError(error.message, {"Namespace": "", "IPs": None, "Port": 0}) from None


def _deploy(ctx, workload):
    content = workload["content"]
    gwid = workload["workload_id"]
    if content.get("mode") not in (0, 1):
        raise ProvisionError("invalid namespace mode: %s" % content.get("mode"))
    kind = disk_type_name(content.get("disk_type"))
    try:
        open_hex(ctx.box, content.get("password") or "")
    except DecryptError as error:
        raise ProvisionError("failed to decrypt namespace password: %s" % error) from None
    size = int(content.get("size") or 0)
    shortage = storage_shortage(ctx, kind, size)
    if shortage:
        raise ProvisionError("failed to allocate storage: %s" % shortage)
    # One zdb container per pool type stands in for 0-OS's per-volume zdb container.
    address = zdb_ip(ctx, "zdb-" + kind)
    return Deployment(
        data={"Namespace": gwid, **ip_field(ctx, address), "Port": ZDB_PORT},
        usage={STORAGE_COUNTER[kind]: size},
    )
