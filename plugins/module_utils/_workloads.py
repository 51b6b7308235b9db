# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""Wire encodings of reservation workloads (explorer legacy API, tfexplorer v0.3.2).

Enums and epochs are integers on the wire; the explorer rejects strings. Builders return
plain dicts in the field order the 2020 Python SDK produced, so the signed ``json`` text
looks like the SDK's. ``describe_*`` turn a wire workload back into the option-shaped,
secret-masked form used for diffs and return values.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

WORKLOAD_TYPES = {
    "zdb": 0,
    "container": 1,
    "volume": 2,
    "network": 3,
    "kubernetes": 4,
    "proxy": 5,
    "reverse_proxy": 6,
    "subdomain": 7,
    "domain_delegate": 8,
    "gateway4to6": 9,
}
WORKLOAD_TYPE_NAMES = dict((v, k) for k, v in WORKLOAD_TYPES.items())

DISK_TYPES = {"HDD": 0, "SSD": 1}
DISK_TYPE_NAMES = dict((v, k) for k, v in DISK_TYPES.items())

RESULT_STATES = {"error": 0, "ok": 1, "deleted": 2}
RESULT_STATE_NAMES = dict((v, k) for k, v in RESULT_STATES.items())

# Lists of data_reservation that hold workloads with a single node_id (networks fan out instead).
SINGLE_NODE_LISTS = (
    "containers",
    "volumes",
    "zdbs",
    "kubernetes",
    "proxies",
    "reverse_proxies",
    "subdomains",
    "domain_delegates",
    "gateway4to6",
)
WORKLOAD_LISTS = SINGLE_NODE_LISTS + ("networks",)
# Lists whose node_id is a gateway's id: read from /gateways, not /nodes (docs/contract/explorer.md §3.4).
GATEWAY_LISTS = ("proxies", "reverse_proxies", "subdomains", "domain_delegates", "gateway4to6")

MASK = "********"
COREX_PORT = 7681


def global_workload_id(reservation_id: Optional[int], workload_id: int) -> Optional[str]:
    """The id nodes and results use: ``<reservation_id>-<workload_id>``; None before the reservation has an id."""
    if reservation_id is None:
        return None
    return "%d-%d" % (int(reservation_id), int(workload_id))


def container_workload(
    workload_id,
    node_id,
    flist,
    network_name,
    ip_address,
    hub_url="",
    environment=None,
    secret_environment=None,
    entrypoint="",
    interactive=False,
    volumes=None,
    public_ipv6=False,
    logs=None,
    cpu=1,
    memory=1024,
    disk_size=256,
    disk_type="SSD",
):
    """A container workload (type 1).

    ``secret_environment`` values must already be sealed for the node (hex).
    ``volumes`` is a list of ``(volume_id, mountpoint)``; ``logs`` a list of ``(stdout, stderr)``
    redis channel URLs.
    """
    return {
        "workload_id": int(workload_id),
        "node_id": node_id,
        "flist": flist,
        "hub_url": hub_url or "",
        "environment": dict(environment or {}),
        "secret_environment": dict(secret_environment or {}),
        "entrypoint": entrypoint or "",
        "interactive": bool(interactive),
        "volumes": [{"volume_id": str(vid), "mountpoint": mp} for vid, mp in (volumes or [])],
        "network_connection": [
            {"network_id": network_name, "ipaddress": ip_address, "public_ip6": bool(public_ipv6)}
        ],
        "stats_aggregator": [],
        "farmer_tid": 0,
        "logs": [{"type": "redis", "data": {"stdout": out, "stderr": err}} for out, err in (logs or [])],
        "capacity": {
            "cpu": int(cpu),
            "memory": int(memory),
            "disk_size": int(disk_size),
            "disk_type": DISK_TYPES[disk_type],
        },
    }


def volume_workload(workload_id: int, node_id: str, size: int, disk_type: str = "SSD") -> Dict[str, Any]:
    """A volume workload (type 2); ``size`` in GiB."""
    return {
        "workload_id": int(workload_id),
        "node_id": node_id,
        "size": int(size),
        "type": DISK_TYPES[disk_type],
        "stats_aggregator": [],
        "farmer_tid": 0,
    }


def empty_workload_lists() -> Dict[str, List[Any]]:
    return dict((key, []) for key in WORKLOAD_LISTS)


def node_workload_count(data_reservation: Dict[str, Any]) -> int:
    """How many results a fully deployed reservation has (one per network resource)."""
    count = 0
    for key in SINGLE_NODE_LISTS:
        count += len(data_reservation.get(key) or [])
    for network in data_reservation.get("networks") or []:
        count += len(network.get("network_resources") or [])
    return count


def workload_nodes(data_reservation: Dict[str, Any]) -> List[str]:
    """Every node id the reservation uses, sorted."""
    nodes = set()
    for key in SINGLE_NODE_LISTS:
        for workload in data_reservation.get(key) or []:
            if workload.get("node_id"):
                nodes.add(workload["node_id"])
    for network in data_reservation.get("networks") or []:
        for resource in network.get("network_resources") or []:
            nodes.add(resource["node_id"])
    return sorted(nodes)


def gateway_ids(data_reservation: Dict[str, Any]) -> List[str]:
    """The gateway ids the reservation uses."""
    return sorted(set(w["node_id"] for key in GATEWAY_LISTS for w in data_reservation.get(key) or []))


def describe_container(workload: Dict[str, Any]) -> Dict[str, Any]:
    """Option-shaped view of a container workload; secret values masked."""
    capacity = workload.get("capacity") or {}
    connections = workload.get("network_connection") or [{}]
    connection = connections[0]
    return {
        "workload_id": workload.get("workload_id"),
        "node_id": workload.get("node_id"),
        "flist": workload.get("flist"),
        "hub_url": workload.get("hub_url") or "",
        "env": dict(workload.get("environment") or {}),
        "secret_env": dict((key, MASK) for key in (workload.get("secret_environment") or {})),
        "entrypoint": workload.get("entrypoint") or "",
        "interactive": bool(workload.get("interactive")),
        "volumes": [
            {"volume": v.get("volume_id"), "mountpoint": v.get("mountpoint")}
            for v in workload.get("volumes") or []
        ],
        "capacity": {
            "cpu": capacity.get("cpu"),
            "memory": capacity.get("memory"),
            "disk_size": capacity.get("disk_size"),
            "disk_type": DISK_TYPE_NAMES.get(capacity.get("disk_type"), capacity.get("disk_type")),
        },
        "network_connection": {
            "name": connection.get("network_id"),
            "ip_address": connection.get("ipaddress"),
            "public_ipv6": bool(connection.get("public_ip6")),
        },
        "logs": [
            {"stdout": (entry.get("data") or {}).get("stdout"), "stderr": (entry.get("data") or {}).get("stderr")}
            for entry in workload.get("logs") or []
            if entry.get("type") == "redis"
        ],
    }


def describe_volume(workload: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "workload_id": workload.get("workload_id"),
        "node_id": workload.get("node_id"),
        "size": workload.get("size"),
        "type": DISK_TYPE_NAMES.get(workload.get("type"), workload.get("type")),
    }


def describe_network(workload: Dict[str, Any]) -> Dict[str, Any]:
    """Network view without key material (WireGuard private keys are sealed, peers derived)."""
    return {
        "workload_id": workload.get("workload_id"),
        "name": workload.get("name"),
        "ip_range": workload.get("iprange"),
        "nodes": [
            {
                "node_id": resource.get("node_id"),
                "ip_range": resource.get("iprange"),
                "wireguard_listen_port": resource.get("wireguard_listen_port"),
            }
            for resource in workload.get("network_resources") or []
        ],
    }


def describe_zdb(workload: Dict[str, Any]) -> Dict[str, Any]:
    """0-DB namespace view; the sealed password shows as ``********`` (or "" when there is none)."""
    return {
        "workload_id": workload.get("workload_id"),
        "node_id": workload.get("node_id"),
        "size": workload.get("size"),
        "mode": {0: "seq", 1: "user"}.get(workload.get("mode"), workload.get("mode")),
        "password": MASK if workload.get("password") else "",
        "disk_type": DISK_TYPE_NAMES.get(workload.get("disk_type"), workload.get("disk_type")),
        "public": bool(workload.get("public")),
    }


def describe_kubernetes(workload: Dict[str, Any]) -> Dict[str, Any]:
    """Kubernetes VM view; the sealed cluster secret shows as ``********``."""
    return {
        "workload_id": workload.get("workload_id"),
        "node_id": workload.get("node_id"),
        "size": workload.get("size"),
        "network_name": workload.get("network_id"),
        "ip_address": workload.get("ipaddress"),
        "cluster_secret": MASK if workload.get("cluster_secret") else "",
        "master_ips": list(workload.get("master_ips") or []),
        "ssh_keys": list(workload.get("ssh_keys") or []),
    }


def describe_gateway_workload(workload: Dict[str, Any]) -> Dict[str, Any]:
    """A gateway workload as sent, without bookkeeping keys; a reverse-proxy secret shows as ``********``."""
    shown = dict((k, v) for k, v in workload.items() if k not in ("id", "stats_aggregator", "farmer_tid"))
    if "secret" in shown:
        shown["secret"] = MASK
    return shown


_DESCRIBERS = {"containers": describe_container, "volumes": describe_volume, "networks": describe_network,
               "zdbs": describe_zdb, "kubernetes": describe_kubernetes, "subdomains": describe_gateway_workload,
               "domain_delegates": describe_gateway_workload, "proxies": describe_gateway_workload,
               "reverse_proxies": describe_gateway_workload, "gateway4to6": describe_gateway_workload}


def describe_workloads(data_reservation: Dict[str, Any]) -> Dict[str, Any]:
    """``{"containers": [...], "volumes": [...], ...}`` for the lists in use, secrets masked."""
    described = {}
    for key, describe in _DESCRIBERS.items():
        items = data_reservation.get(key) or []
        if items:
            described[key] = [describe(item) for item in items]
    return described


def container_from_spec(spec: Dict[str, Any], workload_id: int, seal: Callable[[str, str], str]) -> Dict[str, Any]:
    """The container workload of a normalised spec (_spec.normalise_container, volumes resolved to ids).

    ``seal(node_id, plaintext)`` encrypts one secret value for the node (_crypto.encrypt_for_node).
    """
    network = spec["network_connection"]
    capacity = spec["capacity"]
    return container_workload(
        workload_id,
        spec["node_id"],
        spec["flist"],
        network["name"],
        network["ip_address"],
        hub_url=spec["hub_url"],
        environment=spec["env"],
        secret_environment=dict(
            (key, seal(spec["node_id"], secret.value)) for key, secret in spec["secret_env"].items()
        ),
        entrypoint=spec["entrypoint"],
        interactive=spec["interactive"],
        volumes=[(volume["volume"], volume["mountpoint"]) for volume in spec["volumes"]],
        public_ipv6=network["public_ipv6"],
        logs=[(entry["stdout"], entry["stderr"]) for entry in spec["logs"]],
        cpu=capacity["cpu"],
        memory=capacity["memory"],
        disk_size=capacity["disk_size"],
        disk_type=capacity["disk_type"],
    )


def workload_report(reservation_id: int, workload_id: int,
                    results: List[Dict[str, Any]]) -> Tuple[str, List[Dict[str, Any]], Dict[str, Any]]:
    """(global workload id, the node results of that workload, the first one's ``data_json`` as a dict)."""
    gwid = global_workload_id(reservation_id, workload_id)
    mine = [result for result in results if result.get("workload_id") == gwid]
    data = (mine[0].get("data_json") if mine else None) or {}
    return gwid, mine, data if isinstance(data, dict) else {}


def container_result(reservation_id: int, workload: Dict[str, Any], results: List[Dict[str, Any]]) -> Dict[str, Any]:
    """ipv4/ipv6 and the raw result of one container workload of a registered reservation."""
    gwid, mine, data = workload_report(reservation_id, workload["workload_id"], results)
    return {
        "workload_id": gwid,
        "ipv4": data.get("ipv4") or None,
        "ipv6": data.get("ipv6") or None,
        "result_state": RESULT_STATE_NAMES.get(mine[0].get("state")) if mine else None,
        "message": mine[0].get("message") if mine else None,
        "results": mine,
    }
