"""Kubernetes VM: a k3os VM of size 1 or 2 on the user's network resource of this node."""

import ipaddress

from localgrid.node.provision import network
from localgrid.node.provision.base import Deployment, ProvisionError, compute_shortage, storage_shortage
from localgrid.node.secrets import DecryptError, open_hex

# size -> (vCPU, memory MiB, disk GB on SSD)
SIZES = {1: (1, 2048, 50), 2: (2, 4096, 100)}


def provision(ctx, workload):
    content = workload["content"]
    gwid = workload["workload_id"]
    ip = content.get("ipaddress") or ""
    data = {"id": gwid, "ip": ip}  # 0-OS fills these even when it fails
    size = content.get("size")
    if size not in SIZES:
        raise ProvisionError(
            "could not interpret vm size: unsupported vm size %s, only size 1 and 2 are supported" % size, data)
    cpu, memory_mib, disk_gb = SIZES[size]
    try:
        open_hex(ctx.box, content.get("cluster_secret") or "")
    except DecryptError as error:
        raise ProvisionError("failed to decrypt cluster secret: %s" % error, data) from None
    net_id = network.network_id(workload["user"], content.get("network_id") or "")
    resource = ctx.state.network(net_id)
    if resource is None:
        raise ProvisionError(network.missing_network_error(net_id), data)
    try:
        inside = ipaddress.ip_address(ip) in ipaddress.ip_network(resource["subnet"])
    except ValueError:
        inside = False
    if not inside:
        raise ProvisionError("IP %s is not part of local nr subnet %s" % (ip, resource["subnet"]), data)
    shortage = storage_shortage(ctx, "SSD", disk_gb) or compute_shortage(ctx, cpu, memory_mib)
    if shortage:
        raise ProvisionError(shortage, data)
    return Deployment(data=data, usage={"cru": cpu, "mru": memory_mib / 1024, "sru": disk_gb})
