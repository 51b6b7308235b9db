# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""Choosing a container's node from constraints, and choosing again when the node fails it.

    choose(lifecycle, name, placement, container, excluded) -> Choice(node_id, ip_address, reason)
        placement: zos_container's `placement` option; container: its `network_connection` and `capacity`.
        The candidates are the nodes the container's network spans that reported recently; each constraint
        narrows them in turn, and an emptied list fails naming the constraint. A container that is deployed
        keeps its node and address while they still satisfy the constraints (a re-run changes nothing).
        Among the rest the node with the most free cores, then memory, wins (ties by node id), and the
        address is the lowest free host from .10 up in that node's /24.
    failed_node(error) -> why a deployment attempt failed on its node ("node error", "ended before it was
        deployed", "not deployed within wait_timeout"), or None when another node would not help.
    deploy_placed(runner, placement, replace_on_failure) -> the module result, with `placement`
        runner: zos_container's runner (its deploy_on(options) deploys on the options' node). With
        replace_on_failure, a failed attempt's reservation is cancelled (the escrow refunds what it holds,
        as nothing was deployed) and another node is chosen, at most placement.attempts times in all.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from ansible_collections.threefold.grid.plugins.module_utils._errors import ExplorerError, LifecycleError
from ansible_collections.threefold.grid.plugins.module_utils._lifecycle import ReservationLifecycle, addresses
from ansible_collections.threefold.grid.plugins.module_utils._lookup import NODE_UP_SECONDS
from ansible_collections.threefold.grid.plugins.module_utils._nodes import CAPACITY_KEYS, describe_node
from ansible_collections.threefold.grid.plugins.module_utils._views import data_of, is_deployed

FIRST_HOST = 10  # as the container role: low addresses stay free for what users number by hand
MIB_PER_GIB = 1024.0
CAPACITY_CHECK = "the free capacity of this container"


class Choice:
    def __init__(self, node_id: str, ip_address: str, reason: str) -> None:
        self.node_id = node_id
        self.ip_address = ip_address
        self.reason = reason


def _needs(container: Dict[str, Any]) -> Dict[str, float]:
    """Free capacity one container needs on its node (explorer units: cores and GiB)."""
    capacity = container.get("capacity") or {}
    disk_key = "hru" if capacity.get("disk_type") == "HDD" else "sru"
    needs = {"cru": int(capacity.get("cpu") or 1), "mru": (capacity.get("memory") or 1024) / MIB_PER_GIB}
    needs[disk_key] = (capacity.get("disk_size") or 256) / MIB_PER_GIB
    return needs


def _constraints(placement: Dict[str, Any], container: Dict[str, Any], excluded: Set[str],
                 distinct: Set[str], subnets: Dict[str, str]) -> List[Tuple[str, Callable[[Dict[str, Any]], bool]]]:
    """(what the constraint says, test of a node view), in the order they narrow the candidates."""
    checks: List[Tuple[str, Callable[[Dict[str, Any]], bool]]] = [
        ("up within the last %ds" % placement["up_within"], lambda node: node["up"]),
    ]
    for key in ("farm_id", "free_to_use"):
        if placement.get(key) is not None:
            checks.append(("placement.%s=%s" % (key, placement[key]), lambda node, key=key: node[key] == placement[key]))
    for key in ("country", "city"):
        if placement.get(key) is not None:
            checks.append(("placement.%s=%s" % (key, placement[key]),
                           lambda node, key=key: node["location"].get(key) == placement[key]))
    for key in CAPACITY_KEYS:
        wanted = placement.get("min_" + key)
        if wanted is not None:
            checks.append(("placement.min_%s=%s" % (key, wanted), lambda node, key=key, wanted=wanted:
                           node["free_resources"][key] >= wanted))
    needs = _needs(container)
    checks.append((CAPACITY_CHECK + " (%s)" % ", ".join("%s %s" % item for item in sorted(needs.items())),
                   lambda node: all(node["free_resources"][key] >= value for key, value in needs.items())))
    wanted_ip = (container.get("network_connection") or {}).get("ip_address")
    if wanted_ip:
        checks.append(("network_connection.ip_address=%s" % wanted_ip,
                       lambda node: ipaddress.IPv4Address(wanted_ip) in ipaddress.IPv4Network(subnets[node["node_id"]])))
    if placement.get("exclude_nodes"):
        checks.append(("placement.exclude_nodes", lambda node: node["node_id"] not in placement["exclude_nodes"]))
    if distinct:
        checks.append(("placement.distinct_from (their nodes %s)" % ", ".join(sorted(distinct)),
                       lambda node: node["node_id"] not in distinct))
    if excluded:
        checks.append(("the nodes that failed this deployment (%s)" % ", ".join(sorted(excluded)),
                       lambda node: node["node_id"] not in excluded))
    return checks


def _free_ip(subnet: str, used: Set[str]) -> Optional[str]:
    network = ipaddress.IPv4Network(subnet, strict=False)
    for host in list(network.hosts())[FIRST_HOST - 1:-1]:
        if str(host) not in used:
            return str(host)
    return None


def _used_ips(lifecycle: ReservationLifecycle, network_name: str, own_id: Optional[int]) -> Set[str]:
    return {ip for reservation in lifecycle.reservations.live() if reservation["id"] != own_id
            for name, ip in addresses(data_of(reservation)) if name == network_name}


def _node_views(lifecycle: ReservationLifecycle, node_ids: List[str], up_within: int, now: float) -> List[Dict[str, Any]]:
    views = []
    for node_id in sorted(node_ids):
        try:
            node = lifecycle.session.client.get_node(node_id)
        except ExplorerError as error:
            raise LifecycleError.during("placement: failed to read node %s" % node_id, error) from None
        views.append(describe_node(node, {}, now, up_within))
    return views


def choose(lifecycle: ReservationLifecycle, name: str, placement: Dict[str, Any], container: Dict[str, Any],
           excluded: Set[str]) -> Choice:
    network_name = container["network_connection"]["name"]
    subnets = lifecycle.lookup.network_subnets(network_name, "network_connection.name")
    placement = dict(placement, up_within=placement.get("up_within") or NODE_UP_SECONDS)
    live = lifecycle.reservations.find_live(name, "container")
    own = (data_of(live).get("containers") or [{}])[0] if live else {}
    distinct = set()
    for other in placement.get("distinct_from") or []:
        found = lifecycle.reservations.find_live(other, "container")
        if found:
            distinct.update(c.get("node_id") for c in data_of(found).get("containers") or [])
    checks = _constraints(placement, container, excluded, distinct, subnets)
    nodes = _node_views(lifecycle, list(subnets), placement["up_within"], lifecycle.now())
    kept_node = own.get("node_id")
    if kept_node in subnets and live is not None and is_deployed(live) and kept_node not in excluded:
        view = next(node for node in nodes if node["node_id"] == kept_node)
        # Its own reservation uses the capacity the check looks for: only the other constraints apply.
        if all(test(view) for what, test in checks if not what.startswith(CAPACITY_CHECK)):
            ip = (own.get("network_connection") or [{}])[0].get("ipaddress")
            return Choice(kept_node, ip, "kept: it is deployed on this node")
    candidates = nodes
    for what, test in checks:
        remaining = [node for node in candidates if test(node)]
        if not remaining:
            spans = ", ".join(sorted(subnets))
            raise LifecycleError(
                "placement: no node is left for %r: network %s spans %d node(s) (%s) and %d passed the constraints "
                "before %s" % (name, network_name, len(nodes), spans, len(candidates), what))
        candidates = remaining
    best = min(candidates, key=lambda node: (-node["free_resources"]["cru"], -node["free_resources"]["mru"],
                                             node["node_id"]))
    ip = container["network_connection"].get("ip_address") or _free_ip(
        subnets[best["node_id"]], _used_ips(lifecycle, network_name, live["id"] if live else None))
    if ip is None:
        raise LifecycleError("placement: node %s has no free address left in %s of network %s"
                             % (best["node_id"], subnets[best["node_id"]], network_name))
    return Choice(best["node_id"], ip, "chosen among %d node(s) that satisfy the placement" % len(candidates))


def failed_node(error: LifecycleError) -> Optional[str]:
    shown = error.reservation or {}
    if shown.get("error"):
        return "node error: %s" % shown["error"].get("message")
    if shown.get("state") in ("delete", "deleted"):
        return "ended before it was deployed (provisioning deadline)"
    if shown.get("state") == "deploy" and shown.get("workload_state") != "ok":
        return "not deployed within wait_timeout"
    return None


def _attempt(node_id: str, reservation: Optional[Dict[str, Any]], error: Optional[str]) -> Dict[str, Any]:
    return {"node_id": node_id, "reservation_id": (reservation or {}).get("id") or (reservation or {}).get(
        "reservation_id"), "error": error}


def deploy_placed(runner: Any, placement: Dict[str, Any], replace_on_failure: bool) -> Dict[str, Any]:
    if placement["attempts"] < 1 or placement["up_within"] < 1:
        raise LifecycleError("placement.attempts and placement.up_within must be at least 1")
    lifecycle = runner.lifecycle
    options = runner.params
    attempts: List[Dict[str, Any]] = []
    excluded: Set[str] = set()
    while True:
        choice = choose(lifecycle, runner.name, placement, options, excluded)
        connection = dict(options["network_connection"], ip_address=choice.ip_address)
        try:
            result = runner.deploy_on(dict(options, node_id=choice.node_id, network_connection=connection))
        except LifecycleError as error:
            why = failed_node(error)
            attempts.append(_attempt(choice.node_id, error.reservation, why or error.msg))
            if not replace_on_failure or why is None or len(attempts) >= placement["attempts"]:
                error.failure = dict(error.failure or {}, placement_attempts=attempts)
                raise
            _cancel_if_live(lifecycle, error.reservation)
            runner.session.warn("node %s failed %s (%s): choosing another node" % (choice.node_id, runner.name, why))
            excluded.add(choice.node_id)
            continue
        attempts.append(_attempt(choice.node_id, result.get(runner.kind), None))
        result["placement"] = {"node_id": choice.node_id, "ip_address": choice.ip_address, "reason": choice.reason,
                               "attempts": attempts}
        return result


def _cancel_if_live(lifecycle: ReservationLifecycle, shown: Optional[Dict[str, Any]]) -> None:
    """A failed attempt still waiting to deploy is cancelled, so only the next attempt can come up."""
    if not shown or shown.get("state") not in ("create", "sign", "pay", "deploy"):
        return
    lifecycle.registrar.cancel(lifecycle.reservations.get(int(shown["id"])))
