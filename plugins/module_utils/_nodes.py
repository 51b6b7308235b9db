# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""Explorer node records as the collection shows and filters them (zos_node_info, placement).

    describe_node(node, farm_names, now, up_within) -> the flat view zos_node_info returns
    matches(view, params, farm_id) -> whether the view passes zos_node_info's filters (params keys: country,
        city, min_cru/mru/sru/hru, public_ipv4/ipv6, free_to_use, up; None means no filter)
"""

from __future__ import annotations

CAPACITY_KEYS = ("cru", "mru", "sru", "hru")


def free_resources(node):
    total = node.get("total_resources") or {}
    reserved = node.get("reserved_resources") or {}
    free = {}
    for key in CAPACITY_KEYS:
        value = (total.get(key) or 0) - (reserved.get(key) or 0)
        free[key] = max(0, value) if key == "cru" else max(0.0, float(value))
    return free


def describe_node(node, farm_names, now, up_within):
    public_config = node.get("public_config") or None
    updated = node.get("updated") or 0
    return {
        "node_id": node.get("node_id"),
        "id": node.get("id"),
        "farm_id": node.get("farm_id"),
        "farm_name": farm_names.get(node.get("farm_id"), ""),
        "location": node.get("location") or {},
        "total_resources": node.get("total_resources") or {},
        "reserved_resources": node.get("reserved_resources") or {},
        "used_resources": node.get("used_resources") or {},
        "free_resources": free_resources(node),
        "public_ipv4": (public_config or {}).get("ipv4") or None,
        "public_ipv6": (public_config or {}).get("ipv6") or None,
        "public_config": public_config,
        "wg_ports": node.get("wg_ports") or [],
        "public_key_hex": node.get("public_key_hex") or "",
        "free_to_use": bool(node.get("free_to_use")),
        "approved": bool(node.get("approved")),
        "up": updated > 0 and now - updated <= up_within,
        "updated": updated,
        "uptime": node.get("uptime") or 0,
        "os_version": node.get("os_version") or "",
        "hostname": node.get("hostname") or "",
        "created": node.get("created") or 0,
    }


def matches(node, params, farm_id):
    # Location and farm are filtered by the explorer too, but not when one node is read by id.
    if farm_id is not None and node["farm_id"] != farm_id:
        return False
    for key in ("country", "city"):
        if params[key] is not None and node["location"].get(key) != params[key]:
            return False
    for key in CAPACITY_KEYS:
        wanted = params["min_" + key]
        if wanted is not None and node["free_resources"][key] < wanted:
            return False
    for key in ("public_ipv4", "public_ipv6"):
        if params[key] is not None and bool(node[key]) != params[key]:
            return False
    for key in ("free_to_use", "up"):
        if params[key] is not None and node[key] != params[key]:
            return False
    return True
