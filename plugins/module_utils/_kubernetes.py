# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""Kubernetes clusters (zos_kubernetes): the option rules, the members' addresses, the wire workload and the result.

A cluster is a master and named workers; each member is one k3os VM in its own reservation, so that adding
or removing a worker registers or cancels only that worker. Shapes: docs/contract/explorer.md §4.3 and
docs/contract/node.md §8.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional

from ansible_collections.threefold.grid.plugins.module_utils._errors import SpecError
from ansible_collections.threefold.grid.plugins.module_utils._spec import Secret, ip_in_node_subnet, normalise_ipv4
from ansible_collections.threefold.grid.plugins.module_utils._subnets import parse_ip_range
from ansible_collections.threefold.grid.plugins.module_utils._workloads import RESULT_STATE_NAMES, workload_report

# The sizes 0-OS v0.3 knows (zos pkg/provision/primitives/kubernetes.go vmSize): vCPU, memory GiB, disk GB.
VM_SIZES = {1: (1, 2, 50), 2: (2, 4, 100)}
MASTER = "master"
MASTER_KIND = "kubernetes_master"
WORKER_KIND = "kubernetes_worker"


def worker_tag_name(cluster: str, worker: str) -> str:
    """The reservation name of a worker: ``<cluster>/<worker>`` (worker names hold no ``/``)."""
    return "%s/%s" % (cluster, worker)


def split_worker_tag_name(tag_name: str) -> Optional[List[str]]:
    """``[cluster, worker]`` from a worker's reservation name, None when it is not one."""
    parts = tag_name.rsplit("/", 1)
    return parts if len(parts) == 2 and parts[0] and parts[1] else None


def _size(value: Any, option: str) -> int:
    if value not in VM_SIZES:
        raise SpecError("%s: %r is not a VM size; 0-OS knows %s" % (
            option, value, ", ".join("%d (%d vCPU, %d GiB, %d GB SSD)" % ((size,) + VM_SIZES[size])
                                     for size in sorted(VM_SIZES))))
    return int(value)


def _member(item: Mapping[str, Any], option: str, default_size: int, role: str, name: str) -> Dict[str, Any]:
    node_id = str(item.get("node_id") or "").strip()
    if not node_id:
        raise SpecError("%s.node_id: %r must be a node id" % (option, item.get("node_id")))
    ip = item.get("ip_address")
    size = item.get("size")
    return {
        "option": option,
        "role": role,
        "member": name,
        "node_id": node_id,
        "size": _size(default_size if size is None else size, option + ".size"),
        "ip_address": normalise_ipv4(ip, option + ".ip_address") if ip not in (None, "") else None,
    }


def _ssh_keys(keys: Iterable[Any]) -> List[str]:
    cleaned = []
    for index, key in enumerate(keys or []):
        text = str(key or "").strip()
        # 0-OS puts each key on the VM's kernel command line as ssh_authorized_keys="<key>".
        if not text or '"' in text or "\n" in text:
            raise SpecError("ssh_keys[%d]: %r must be one public key (or github:<user>) without quotes or newlines"
                            % (index, key))
        cleaned.append(text)
    return cleaned


def normalise_cluster(options: Mapping[str, Any]) -> Dict[str, Any]:
    """``{network, cluster_secret, ssh_keys, members}`` (master first); SpecError names the option and the value."""
    network = str(options.get("network_name") or "").strip()
    if not network:
        raise SpecError("network_name: %r must name the network the VMs join" % options.get("network_name"))
    secret = options.get("cluster_secret") or ""
    if not secret or any(char.isspace() for char in secret):
        # 0-OS passes it to k3os as k3os.token=<secret> on the kernel command line.
        raise SpecError("cluster_secret: must be a non-empty value without whitespace")
    if not options.get("master"):
        raise SpecError("master: %r must describe the master VM (node_id, optional ip_address and size)"
                        % options.get("master"))
    default_size = _size(options.get("size"), "size")
    members = [_member(options["master"], "master", default_size, MASTER, MASTER)]
    names = set()
    for index, item in enumerate(options.get("workers") or []):
        option = "workers[%d]" % index
        name = str(item.get("name") or "worker-%d" % (index + 1)).strip()
        if not name or "/" in name or any(ord(char) < 32 for char in name):
            raise SpecError("%s.name: %r must be a name without '/' or control characters" % (option, item.get("name")))
        if name in names or name == MASTER:
            raise SpecError("%s.name: %r is used twice (each worker needs its own name)" % (option, name))
        names.add(name)
        members.append(_member(item, option, default_size, "worker", name))
    return {"network": network, "cluster_secret": Secret(secret), "ssh_keys": _ssh_keys(options.get("ssh_keys")),
            "members": members}


def _hosts(subnet: ipaddress.IPv4Network) -> Iterable[ipaddress.IPv4Address]:
    """Usable VM addresses: .2 up (.1 is the network resource's gateway), the broadcast left out."""
    for host in subnet.hosts():
        if host != subnet.network_address + 1:
            yield host


def assign_addresses(members: List[Dict[str, Any]], subnets: Mapping[str, str], taken: Iterable[str],
                     previous: Mapping[str, str]) -> None:
    """Give every member an ``ip_address`` inside its node's subnet, in place.

    A given address must be a usable host of the node's /24 and differ from every other member's. A member
    without one keeps the address of its live reservation when that still fits (so a re-run changes
    nothing), else gets the lowest free host of the subnet: not another member's, not in ``taken`` (addresses
    of the identity's other live workloads on the network).
    """
    used = {}
    for member in members:
        ip = member["ip_address"]
        if ip is None:
            continue
        ip_in_node_subnet(ip, subnets[member["node_id"]], member["option"] + ".ip_address")
        if ip in used:
            raise SpecError("%s.ip_address: %r is already the address of %s" % (member["option"], ip, used[ip]))
        used[ip] = member["option"]
    taken = set(taken)
    for member in members:
        if member["ip_address"] is not None:
            continue
        subnet = ipaddress.IPv4Network(subnets[member["node_id"]], strict=False)
        kept = previous.get(member["member"])
        if kept and kept not in used and kept not in taken and kept in set(str(host) for host in _hosts(subnet)):
            member["ip_address"] = kept
        else:
            free = next((str(host) for host in _hosts(subnet) if str(host) not in used and str(host) not in taken), None)
            if free is None:
                raise SpecError("%s.ip_address: no free address left in the node's subnet %s" % (member["option"], subnet))
            member["ip_address"] = free
        used[member["ip_address"]] = member["option"]


def node_subnets(members: List[Dict[str, Any]], ip_range: str, option: str = "ip_range") -> Dict[str, str]:
    """The /24 each node must have in a network of ``ip_range`` for the given addresses, before the network exists.

    Refuses an address outside the range, two VMs of one node in different /24s, two nodes in one /24 and an
    address given twice; nodes without a given address are left to the network's own allocation.
    """
    network = parse_ip_range(ip_range, option)
    subnets: Dict[str, ipaddress.IPv4Network] = {}
    owners: Dict[ipaddress.IPv4Network, str] = {}
    used: Dict[str, str] = {}
    for member in members:
        ip = member["ip_address"]
        if ip is None:
            continue
        where = member["option"] + ".ip_address"
        subnet = ipaddress.IPv4Network(ip + "/24", strict=False)
        if not subnet.subnet_of(network):
            raise SpecError("%s: %r is not inside the network's range %s" % (where, ip, network))
        if ip in used:
            raise SpecError("%s: %r is already the address of %s" % (where, ip, used[ip]))
        used[ip] = member["option"]
        node = member["node_id"]
        if subnets.get(node, subnet) != subnet:
            raise SpecError("%s: %r is not in %s, the /24 that another VM's address gives node %s"
                            % (where, ip, subnets[node], node))
        if owners.get(subnet, node) != node:
            raise SpecError("%s: %r is in %s, the /24 of node %s; each node has its own /24"
                            % (where, ip, subnet, owners[subnet]))
        subnets[node], owners[subnet] = subnet, node
    return dict((node, str(subnet)) for node, subnet in subnets.items())


def member_spec(cluster: Dict[str, Any], member: Dict[str, Any], master_ip: str) -> Dict[str, Any]:
    """What one VM's reservation is made of (its fingerprint): a worker also names the master's address."""
    return {
        "role": member["role"],
        "node_id": member["node_id"],
        "size": member["size"],
        "network": cluster["network"],
        "ip_address": member["ip_address"],
        "cluster_secret": cluster["cluster_secret"],
        "ssh_keys": list(cluster["ssh_keys"]),
        "master_ips": [] if member["role"] == MASTER else [master_ip],
    }


def kubernetes_workload(spec: Dict[str, Any], workload_id: int, seal: Callable[[str, str], str]) -> Dict[str, Any]:
    """The kubernetes workload (type 4) of a member_spec; the cluster secret sealed for the VM's node."""
    return {
        "workload_id": int(workload_id),
        "node_id": spec["node_id"],
        "size": int(spec["size"]),
        "network_id": spec["network"],
        "ipaddress": spec["ip_address"],
        "cluster_secret": seal(spec["node_id"], spec["cluster_secret"].value),
        "master_ips": list(spec["master_ips"]),
        "ssh_keys": list(spec["ssh_keys"]),
        "stats_aggregator": [],
        "farmer_tid": 0,
    }


def kubernetes_result(reservation_id: int, workload_id: int, results: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The VM's id and address as the node reports them (0-OS fills them even on error)."""
    gwid, mine, data = workload_report(reservation_id, workload_id, results)
    return {
        "workload_id": gwid,
        "vm_id": data.get("id") or None,
        "ip": data.get("ip") or None,
        "result_state": RESULT_STATE_NAMES.get(mine[0].get("state")) if mine else None,
        "results": mine,
    }
