# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""Reading explorer reservations: their state names, the node results, and the view modules return.

Pure functions of a reservation record (``GET /reservations/<id>``); nothing here calls the explorer.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

from ansible_collections.threefold.grid.plugins.module_utils import _spec, _workloads
from ansible_collections.threefold.grid.plugins.module_utils._amounts import stroops_to_amount
from ansible_collections.threefold.grid.plugins.module_utils._explorer import NEXT_ACTION_NAMES

Reservation = Dict[str, Any]

LIVE_STATES = ("create", "sign", "pay", "deploy")
# Before these states the escrow has not seen the whole payment yet.
PAYABLE_STATES = ("create", "sign", "pay")
ENDED_STATES = ("delete", "deleted", "invalid")


def state_name(reservation: Reservation) -> str:
    return NEXT_ACTION_NAMES.get(reservation.get("next_action"), str(reservation.get("next_action")))


def data_of(reservation: Reservation) -> Dict[str, Any]:
    data = reservation.get("data_reservation")
    if isinstance(data, dict):
        return data
    try:
        return json.loads(reservation.get("json") or "{}")
    except ValueError:
        return {}


def tag_of(reservation: Reservation) -> Optional[Dict[str, str]]:
    return _spec.parse_metadata(reservation.get("metadata"))


def first_results(reservation: Reservation) -> List[Dict[str, Any]]:
    """The first result of each global workload id, as the explorer counts them."""
    firsts: Dict[Any, Dict[str, Any]] = {}
    for result in reservation.get("results") or []:
        firsts.setdefault((result.get("workload_id"), result.get("node_id")), result)
    return list(firsts.values())


def first_error(reservation: Reservation) -> Optional[Dict[str, Any]]:
    for result in reservation.get("results") or []:
        if result.get("state") == _workloads.RESULT_STATES["error"]:
            return result
    return None


def workload_state(reservation: Reservation) -> str:
    """pending | ok | error | deleted, from the results against the expected workload count."""
    results = reservation.get("results") or []
    expected = _workloads.node_workload_count(data_of(reservation))
    states = [result.get("state") for result in results]
    if _workloads.RESULT_STATES["error"] in states:
        return "error"
    if expected and len(results) >= expected:
        if all(s == _workloads.RESULT_STATES["ok"] for s in states):
            return "ok"
        if all(s == _workloads.RESULT_STATES["deleted"] for s in states):
            return "deleted"
    return "pending"


def is_deployed(reservation: Reservation) -> bool:
    return state_name(reservation) == "deploy" and workload_state(reservation) == "ok"


def escrow_view(reservation_id: Any, escrow_information: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """address, asset, amount (7-decimal string), memo and per-farm details; None when nothing to pay."""
    if not escrow_information or not escrow_information.get("address"):
        return None
    details = escrow_information.get("details") or []
    total = sum(int(detail.get("total_amount") or 0) for detail in details)
    return {
        "address": escrow_information["address"],
        "asset": escrow_information.get("asset"),
        "amount": stroops_to_amount(total),
        "total_amount": total,
        "memo": str(reservation_id),
        "details": details,
    }


def view(reservation: Reservation, escrow_information: Optional[Dict[str, Any]] = None,
         error: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """The readable form of an explorer reservation that modules return (no secret in it)."""
    data = data_of(reservation)
    tag = tag_of(reservation)
    return {
        "id": reservation.get("id"),
        "name": tag["name"] if tag else None,
        "kind": tag["kind"] if tag else None,
        "labels": (tag or {}).get("labels"),
        "sealed_labels": (tag or {}).get("sealed_labels"),
        "state": state_name(reservation),
        "workload_state": workload_state(reservation),
        "customer_tid": reservation.get("customer_tid"),
        "created": reservation.get("epoch"),
        "expires_at": data.get("expiration_reservation"),
        "expiration_provisioning": data.get("expiration_provisioning"),
        "currencies": data.get("currencies") or [],
        "workloads": _workloads.describe_workloads(data),
        "results": list(reservation.get("results") or []),
        "escrow": escrow_view(reservation.get("id"), escrow_information),
        "error": error,
    }


def planned_view(data: Dict[str, Any], metadata: str, estimate: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """The view of the reservation check mode would register: no id or state yet, the escrow as estimated.

    A following task (zos_payment, a template reading ``escrow.amount``) then sees what a real run returns.
    """
    shown = view({"data_reservation": data, "metadata": metadata, "results": []})
    shown.update(state=None, workload_state=None, escrow=None)
    if estimate and estimate.get("total_amount"):
        shown["escrow"] = {"address": None, "asset": estimate.get("currency"), "amount": estimate.get("amount"),
                           "total_amount": estimate["total_amount"], "memo": None,
                           "details": estimate.get("details") or [], "estimated": True}
    return shown


def describe_data(data: Dict[str, Any]) -> Dict[str, Any]:
    """One side of a diff: the workloads (secrets masked) with the expiry and currencies."""
    described = _workloads.describe_workloads(data)
    described["expires_at"] = data.get("expiration_reservation")
    described["currencies"] = data.get("currencies") or []
    return described


def mark_secret_changes(diff: Dict[str, Any], before: Optional[Dict[str, str]], after: Dict[str, str],
                        fingerprint_changed: bool) -> None:
    """Add ``secrets`` to both sides of a replacement's diff: which secret changed, never a value.

    ``before``/``after`` are the secret digests of the old tag (None when it has none) and of the new spec.
    Secret values are masked on both sides, so without this a changed secret shows only as a new expiry.
    """
    if before is None:
        changes = dict((path, "(may have changed)") for path in after) if fingerprint_changed else {}
    else:
        changes = {}
        for path in set(before) | set(after):
            if path not in before:
                changes[path] = "(added)"
            elif path not in after:
                changes[path] = "(removed)"
            elif before[path] != after[path]:
                changes[path] = "(changed)"
    if changes:
        diff["before"]["secrets"] = dict((path, _workloads.MASK) for path in changes if path in (before or after))
        diff["after"]["secrets"] = dict((path, change) for path, change in changes.items() if change != "(removed)")


def describe(reservation: Optional[Reservation]) -> Dict[str, Any]:
    return describe_data(data_of(reservation)) if reservation else {}


def result_error(result: Dict[str, Any]) -> Dict[str, Any]:
    """The ``error`` of a view: where a workload failed and the node's message."""
    return {"workload_id": result.get("workload_id"), "node_id": result.get("node_id"),
            "category": _workloads.WORKLOAD_TYPE_NAMES.get(result.get("category")),
            "message": result.get("message")}
