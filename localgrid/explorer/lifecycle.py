"""The reservation state machine (docs/contract/explorer.md §6): node workloads of a reservation and the computed state."""

from localgrid.explorer.schema import (
    CREATE,
    DELETE,
    DELETED,
    NETWORK,
    PAY,
    RESULT_DELETED,
    RESULT_OK,
    SIGN,
    WORKLOAD_KINDS,
)


def node_workloads(reservation):
    """[(node_id, gwid, type, workload)] in the order nodes receive them; networks fan out per resource."""
    out = []
    data = reservation["data_reservation"]
    for key, kind, _spec in WORKLOAD_KINDS:
        for workload in data.get(key) or []:
            gwid = "%d-%d" % (reservation["id"], workload["workload_id"])
            if kind == NETWORK:
                for resource in workload.get("network_resources") or []:
                    out.append((resource["node_id"], gwid, kind, workload))
            else:
                out.append((workload["node_id"], gwid, kind, workload))
    return out


def _quorum(request, signatures):
    signers = set(request.get("signers") or [])
    count = sum(1 for sig in signatures or [] if sig["tid"] in signers)
    return count >= request["quorum_min"]


def delete_quorum(reservation):
    request = reservation["data_reservation"]["signing_request_delete"]
    return request["quorum_min"] > 0 and _quorum(request, reservation["signatures_delete"])


def provision_quorum(reservation):
    request = reservation["data_reservation"]["signing_request_provision"]
    return request["quorum_min"] == 0 or _quorum(request, reservation["signatures_provision"])


def successfully_deployed(reservation):
    results = reservation["results"] or []
    if len(results) < len(node_workloads(reservation)):
        return False
    return all(result["state"] == RESULT_OK for result in results)


def first_result(reservation, gwid):
    for result in reservation["results"] or []:
        if result["workload_id"] == gwid:
            return result
    return None


def all_deleted(reservation):
    for _node_id, gwid, _kind, _workload in node_workloads(reservation):
        result = first_result(reservation, gwid)
        if result is None or result["state"] != RESULT_DELETED:
            return False
    return True


def _expired(date, now):
    # A zero date (None) is year 1: always in the past.
    return date is None or date <= now


def computed_state(reservation, now):
    """The pipeline (explorer.md §6.2): starts from the stored next_action; run on every read."""
    state = reservation["next_action"]
    if state in (DELETE, DELETED):
        return state
    data = reservation["data_reservation"]
    if _expired(data["expiration_reservation"], now) or delete_quorum(reservation):
        return DELETE
    provisioning = data["expiration_provisioning"]
    if (provisioning is None or provisioning < now) and not successfully_deployed(reservation):
        return DELETE
    if state == CREATE:
        state = SIGN
    if state == SIGN and provision_quorum(reservation):
        state = PAY
    return state
