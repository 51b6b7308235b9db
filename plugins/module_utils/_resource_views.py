# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""The resource a module returns, from a lifecycle reservation view (_views.view).

Shared by the resource modules (zos_container, zos_volume, zos_zdb, zos_network) and their _info modules, so
both return one shape. Pure functions: nothing here calls the explorer.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Tuple

from ansible_collections.threefold.grid.plugins.module_utils._workloads import container_result, global_workload_id

WORKLOAD_ID = 1  # the workload id of the one workload in the reservation of zos_container, zos_volume
View = Dict[str, Any]


def resource_view(name: Optional[str], reservation: View, replaced: Optional[list] = None,
                  payment: Optional[Dict[str, Any]] = None, labels: Optional[Dict[str, str]] = None,
                  **fields: Any) -> Dict[str, Any]:
    """What every returned resource says of its reservation, with the kind's own ``fields``.

    ``labels`` is None when they are sealed and unreadable with the identity at hand.
    """
    shown = {"name": name, "reservation_id": reservation.get("id")}
    shown.update(fields)
    for key in ("state", "workload_state", "expires_at", "escrow", "error"):
        shown[key] = reservation.get(key)
    shown.update(labels=labels, labels_sealed=bool(reservation.get("sealed_labels")),
                 replaced=list(replaced or []), payment=payment)
    return shown


def single_workload(reservation: View, workload_list: str) -> Tuple[Dict[str, Any], str]:
    """The one workload of ``workload_list`` in the reservation view, and its global id."""
    workload = ((reservation.get("workloads") or {}).get(workload_list) or [{}])[0]
    return workload, global_workload_id(reservation["id"], workload.get("workload_id", WORKLOAD_ID))


def container_fields(reservation: View) -> Dict[str, Any]:
    workload = single_workload(reservation, "containers")[0]
    outcome = container_result(reservation["id"], {"workload_id": workload.get("workload_id", WORKLOAD_ID)},
                               reservation.get("results") or [])
    return dict(workload_id=outcome["workload_id"], node_id=workload.get("node_id"),
                ip_address=(workload.get("network_connection") or {}).get("ip_address"), ipv4=outcome["ipv4"],
                ipv6=outcome["ipv6"], results=outcome["results"])


def volume_fields(reservation: View) -> Dict[str, Any]:
    workload, volume_id = single_workload(reservation, "volumes")
    results = [r for r in reservation.get("results") or [] if r.get("workload_id") == volume_id]
    return dict(volume_id=volume_id, node_id=workload.get("node_id"), size=workload.get("size"),
                type=workload.get("type"), results=results)


def zdb_fields(reservation: View) -> Dict[str, Any]:
    from ansible_collections.threefold.grid.plugins.module_utils._zdb import zdb_result  # zdb code for zdbs only
    workload = single_workload(reservation, "zdbs")[0]
    outcome = zdb_result(reservation["id"], workload.get("workload_id", WORKLOAD_ID), reservation.get("results") or [])
    return dict(workload_id=outcome["workload_id"], node_id=workload.get("node_id"), namespace=outcome["namespace"],
                ips=outcome["ips"], port=outcome["port"], size=workload.get("size"), mode=workload.get("mode"),
                results=outcome["results"])


def network_fields(reservation: View) -> Dict[str, Any]:
    """The network as its reservation holds it (zos_network adds what only its plan knows: keys, gateways)."""
    network = single_workload(reservation, "networks")[0]
    nodes = [{"node_id": node.get("node_id"), "subnet": node.get("ip_range"),
              "wireguard_listen_port": node.get("wireguard_listen_port")} for node in network.get("nodes") or []]
    return dict(ip_range=network.get("ip_range"), nodes=nodes, results=list(reservation.get("results") or []))


# kind (metadata tag) -> the data_reservation list of its one workload and the fields it returns
KIND_FIELDS: Dict[str, Tuple[str, Callable[[View], Dict[str, Any]]]] = {
    "container": ("containers", container_fields),
    "volume": ("volumes", volume_fields),
    "zdb": ("zdbs", zdb_fields),
    "network": ("networks", network_fields),
}


def workload_nodes(reservation: View) -> list:
    """The node ids the reservation's workloads run on (a network: each of its nodes)."""
    nodes = []
    for items in (reservation.get("workloads") or {}).values():
        for workload in items:
            nodes.extend([node.get("node_id") for node in workload.get("nodes") or []] or [workload.get("node_id")])
    return [node for node in nodes if node]
