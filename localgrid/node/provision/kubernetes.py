"""Kubernetes VM: a k3os VM of size 1 or 2 on the user's network resource of this node.

The checks, their order and their messages are zos v0.3.x ``pkg/provision/primitives/kubernetes.go``
(docs/contract/node.md §8): the cluster secret is opened first (with the message 0-OS copied from the
zdb code), then the size, the disk, the tap device on the network, the address in the node's subnet.
localgrid's runtimes run containers, not VMs: a VM here holds its capacity and reports its result, and
nothing answers at its address.
"""

import ipaddress

from localgrid.node.provision import network
from localgrid.node.provision.base import Deployment, ProvisionError, compute_shortage, storage_shortage
from localgrid.node.secrets import DecryptError, open_hex

# size -> (vCPU, memory MiB, disk GB on SSD)
SIZES = {1: (1, 2048, 50), 2: (2, 4096, 100)}


def _address(text):
    """The VM's address as Go prints a net.IP ("<nil>" when empty); a text Go can not parse fails the decode."""
    if not text:
        return "<nil>"
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ProvisionError("failed to decode reservation schema: invalid IP address: %s" % text,
                             {"id": "", "ip": ""}) from None


def provision(ctx, workload):
    content = workload["content"]
    ip = _address(content.get("ipaddress") or "")
    data = {"id": workload["workload_id"], "ip": ip}  # 0-OS fills these even when it fails
    try:
        open_hex(ctx.box, content.get("cluster_secret") or "")
    except DecryptError as error:
        raise ProvisionError("failed to decrypt namespace password: %s" % error, data) from None
    size = content.get("size")
    if size not in SIZES:
        raise ProvisionError(
            "could not interpret vm size: unsupported vm size %s, only size 1 and 2 are supported" % size, data)
    cpu, memory_mib, disk_gb = SIZES[size]
    if storage_shortage(ctx, "SSD", disk_gb):
        # The VM disk is a file fallocate()d on the node's cache: a full pool fails with ENOSPC.
        raise ProvisionError("failed to reserve filesystem for vm: no space left on device", data)
    net_id = network.network_id(workload["user"], content.get("network_id") or "")
    resource = ctx.state.network(net_id)
    if resource is None:
        raise ProvisionError("could not set up tap device: %s" % network.missing_network_error(net_id), data)
    subnet = ipaddress.ip_network(resource["subnet"])
    if ip == "<nil>" or ipaddress.ip_address(ip) not in subnet:
        raise ProvisionError("could not generate network info: IP %s is not part of local nr subnet %s"
                             % (ip, subnet), data)
    shortage = compute_shortage(ctx, cpu, memory_mib)
    if shortage:
        raise ProvisionError(shortage, data)
    return Deployment(data=data, usage={"cru": cpu, "mru": memory_mib / 1024, "sru": disk_gb})
