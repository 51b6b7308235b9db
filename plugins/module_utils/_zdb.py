# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""0-DB namespaces (zos_zdb): the option rules, the wire workload and the node's result.

The workload and result shapes are docs/contract/explorer.md §4.3 and docs/contract/node.md §7.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping

from ansible_collections.threefold.grid.plugins.module_utils._errors import SpecError
from ansible_collections.threefold.grid.plugins.module_utils._spec import VOLUME_SIZE_LIMITS, Secret
from ansible_collections.threefold.grid.plugins.module_utils._workloads import (
    DISK_TYPES, RESULT_STATE_NAMES, workload_report,
)

ZDB_MODES = {"seq": 0, "user": 1}
ZDB_MODE_NAMES = dict((v, k) for k, v in ZDB_MODES.items())


def normalise_zdb(options: Mapping[str, Any]) -> Dict[str, Any]:
    """The namespace spec {node_id, size, mode, password, disk_type, public}; SpecError names the option."""
    low, high = VOLUME_SIZE_LIMITS
    if not low <= options["size"] <= high:
        raise SpecError("size: %r must be at least %d and at most %d (GiB)" % (options["size"], low, high))
    node_id = (options["node_id"] or "").strip()
    if not node_id:
        raise SpecError("node_id: %r must be a node id" % options["node_id"])
    password = options.get("password") or ""
    if any(char.isspace() for char in password):
        # zdb's NSSET PASSWORD takes one argument: a space would split it.
        raise SpecError("password: must not contain whitespace")
    return {
        "node_id": node_id,
        "size": options["size"],
        "mode": options["mode"],
        "password": Secret(password) if password else "",
        "disk_type": options["disk_type"],
        "public": bool(options["public"]),
    }


def zdb_workload(spec: Dict[str, Any], workload_id: int, seal: Callable[[str, str], str]) -> Dict[str, Any]:
    """The zdb workload (type 0); the password sealed for the node, "" when there is none."""
    password = spec["password"]
    return {
        "workload_id": int(workload_id),
        "node_id": spec["node_id"],
        "size": int(spec["size"]),
        "mode": ZDB_MODES[spec["mode"]],
        "password": seal(spec["node_id"], password.value) if password else "",
        "disk_type": DISK_TYPES[spec["disk_type"]],
        "public": bool(spec["public"]),
        "stats_aggregator": [],
        "farmer_tid": 0,
    }


def zdb_result(reservation_id: int, workload_id: int, results: List[Dict[str, Any]]) -> Dict[str, Any]:
    """namespace, ips and port as the node reports them: ``IP`` until zos v0.3.4, ``IPs`` from v0.3.5."""
    gwid, mine, data = workload_report(reservation_id, workload_id, results)
    ips = data.get("IPs")
    if ips is None:
        ips = [data["IP"]] if data.get("IP") else []
    return {
        "workload_id": gwid,
        "namespace": data.get("Namespace") or None,
        "ips": list(ips),
        "port": data.get("Port") or None,
        "result_state": RESULT_STATE_NAMES.get(mine[0].get("state")) if mine else None,
        "message": mine[0].get("message") if mine else None,
        "results": mine,
    }
