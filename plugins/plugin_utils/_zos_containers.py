# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This plugin_utils file is private to the threefold.grid collection and may change at any time.

"""Containers of an identity's reservations, as flat records for the threefold.grid.zos inventory.

Controller-only: the inventory plugin builds hosts from these records; they hold no secret (the
secret environment of a container is sealed for its node and is left out).
"""

from __future__ import annotations

from ansible_collections.threefold.grid.plugins.module_utils._explorer import NEXT_ACTION
from ansible_collections.threefold.grid.plugins.module_utils._spec import parse_metadata
from ansible_collections.threefold.grid.plugins.module_utils._workloads import (
    DISK_TYPE_NAMES,
    RESULT_STATES,
    WORKLOAD_TYPES,
    global_workload_id,
)

CONTAINER_STATES = ("ok", "pending", "error")
# Reservations that can still run or come to run a container; create, delete, deleted and invalid cannot.
LIVE_NEXT_ACTIONS = frozenset((NEXT_ACTION["sign"], NEXT_ACTION["pay"], NEXT_ACTION["deploy"]))


def results_of(reservation, kind):
    """The node results of the reservation's workloads of ``kind`` (a WORKLOAD_TYPES name), by global workload id."""
    results = {}
    for result in reservation.get("results") or []:
        if result.get("category") == WORKLOAD_TYPES[kind]:
            results[result.get("workload_id")] = result
    return results


def listed_state(reservation, result):
    """ok (running, addresses known), error (the node refused it), pending (no result yet) or None (gone)."""
    if result is None:
        return "pending"
    if result.get("state") == RESULT_STATES["ok"]:
        # A result can outlive the reservation's deploy state for a moment while it is being deleted.
        return "ok" if reservation.get("next_action") == NEXT_ACTION["deploy"] else None
    if result.get("state") == RESULT_STATES["error"]:
        return "error"
    return None


def _capacity(workload):
    capacity = dict(workload.get("capacity") or {})
    if "disk_type" in capacity:
        capacity["disk_type"] = DISK_TYPE_NAMES.get(capacity["disk_type"], capacity["disk_type"])
    return capacity


def container_records(reservations):
    """One record per container of the live reservations, in reservation id order."""
    records = []
    for reservation in sorted(reservations, key=lambda item: int(item.get("id") or 0)):
        if reservation.get("next_action") not in LIVE_NEXT_ACTIONS:
            continue
        data = reservation.get("data_reservation") or {}
        containers = data.get("containers") or []
        tag = parse_metadata(reservation.get("metadata")) or {}
        # The module's name is the host name only when it names exactly this one container.
        tagged_name = tag.get("name") if tag.get("kind") == "container" and len(containers) == 1 else None
        results = results_of(reservation, "container")
        for workload in containers:
            gwid = global_workload_id(reservation["id"], workload["workload_id"])
            result = results.get(gwid)
            state = listed_state(reservation, result)
            if state is None:
                continue
            addresses = (result or {}).get("data_json") if state == "ok" else None
            addresses = addresses if isinstance(addresses, dict) else {}
            connection = (workload.get("network_connection") or [{}])[0]
            records.append({
                "kind": "container",
                "name": tagged_name or gwid,
                "state": state,
                "reservation_id": int(reservation["id"]),
                "workload_id": gwid,
                "node_id": workload.get("node_id"),
                "flist": workload.get("flist"),
                "capacity": _capacity(workload),
                "expires_at": data.get("expiration_reservation"),
                "network": connection.get("network_id"),
                "ipv4": addresses.get("ipv4") or None,
                "ipv6": addresses.get("ipv6") or None,
                "public_ipv6": bool(connection.get("public_ip6")),
                "message": ((result or {}).get("message") or None) if state == "error" else None,
                # Sealed labels stay sealed here (records are cached); the plugin opens them when it has the seed.
                "labels": tag.get("labels") or {},
                "sealed_labels": tag.get("sealed_labels"),
            })
    return records


def newest_per_name(records):
    """Keep one record per host name, from the newest reservation (a replaced reservation is cancelled
    after its successor is registered, so both can be live for a moment). Returns (kept, dropped)."""
    kept = {}
    dropped = []
    for record in records:
        previous = kept.get(record["name"])
        if previous is None:
            kept[record["name"]] = record
        elif record["reservation_id"] > previous["reservation_id"]:
            dropped.append(previous)
            kept[record["name"]] = record
        else:
            dropped.append(record)
    return sorted(kept.values(), key=lambda item: item["reservation_id"]), dropped


def ansible_host(record, address):
    """The address Ansible connects to: the preferred one, else the other one, else None.

    `private_ipv4` is the container's address in its private network (reachable over the WireGuard
    access of that network); `public_ipv6` counts only when the container asked for a public IPv6,
    because otherwise its IPv6 is a unique local address inside the node.
    """
    public_ipv6 = record["ipv6"] if record["public_ipv6"] else None
    if address == "public_ipv6":
        return public_ipv6 or record["ipv4"]
    return record["ipv4"] or public_ipv6
