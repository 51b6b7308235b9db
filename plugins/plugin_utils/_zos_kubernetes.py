# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This plugin_utils file is private to the threefold.grid collection and may change at any time.

"""Kubernetes VMs of an identity's reservations, as flat records for the threefold.grid.zos inventory.

The records have the keys of the container records (_zos_containers.py), labels included (zos_kubernetes puts
the cluster's labels in every VM's tag), plus the cluster, the role and the size; the cluster secret is sealed
for the node and left out.
"""

from __future__ import annotations

from ansible_collections.threefold.grid.plugins.module_utils._kubernetes import (
    MASTER,
    MASTER_KIND,
    VM_SIZES,
    WORKER_KIND,
    split_worker_tag_name,
)
from ansible_collections.threefold.grid.plugins.module_utils._spec import parse_metadata
from ansible_collections.threefold.grid.plugins.module_utils._workloads import global_workload_id
from ansible_collections.threefold.grid.plugins.plugin_utils._zos_containers import (
    LIVE_NEXT_ACTIONS,
    listed_state,
    results_of,
)


def _capacity(size):
    cpu, memory_gib, disk_gb = VM_SIZES.get(size, (None, None, None))
    if cpu is None:
        return {}
    return {"cpu": cpu, "memory": memory_gib * 1024, "disk_size": disk_gb * 1024, "disk_type": "SSD"}


def _cluster_and_name(tag, vms, gwid):
    """(cluster, host name) of a VM: from the zos_kubernetes tag when it names exactly this VM, else (None, gwid)."""
    if len(vms) == 1 and tag.get("kind") == MASTER_KIND:
        return tag["name"], "%s-%s" % (tag["name"], MASTER)
    if len(vms) == 1 and tag.get("kind") == WORKER_KIND:
        parts = split_worker_tag_name(tag["name"])
        if parts:
            return parts[0], "%s-%s" % (parts[0], parts[1])
    return None, gwid


def kubernetes_records(reservations):
    """One record per Kubernetes VM of the live reservations, in reservation id order."""
    records = []
    for reservation in sorted(reservations, key=lambda item: int(item.get("id") or 0)):
        if reservation.get("next_action") not in LIVE_NEXT_ACTIONS:
            continue
        data = reservation.get("data_reservation") or {}
        vms = data.get("kubernetes") or []
        tag = parse_metadata(reservation.get("metadata")) or {}
        results = results_of(reservation, "kubernetes")
        for vm in vms:
            gwid = global_workload_id(reservation["id"], vm["workload_id"])
            result = results.get(gwid)
            state = listed_state(reservation, result)
            if state is None:
                continue
            reported = (result or {}).get("data_json") if state == "ok" else None
            reported = reported if isinstance(reported, dict) else {}
            cluster, name = _cluster_and_name(tag, vms, gwid)
            records.append({
                "kind": "kubernetes",
                "name": name,
                "state": state,
                "reservation_id": int(reservation["id"]),
                "workload_id": gwid,
                "node_id": vm.get("node_id"),
                "flist": None,
                "capacity": _capacity(vm.get("size")),
                "expires_at": data.get("expiration_reservation"),
                "network": vm.get("network_id"),
                "ipv4": reported.get("ip") or None,
                "ipv6": None,
                "public_ipv6": False,
                "message": ((result or {}).get("message") or None) if state == "error" else None,
                "cluster": cluster,
                "role": "worker" if vm.get("master_ips") else MASTER,
                "size": vm.get("size"),
                "master_ips": list(vm.get("master_ips") or []),
                # Sealed labels stay sealed here (records are cached); the plugin opens them when it has the seed.
                "labels": tag.get("labels") or {},
                "sealed_labels": tag.get("sealed_labels"),
            })
    return records
