# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""Adopting a reservation made outside Ansible (zos_reservation, the SDK, the raw API) under a name.

The explorer can not change a reservation's metadata, so an adopted reservation carries no name tag: the task's
``adopt_id`` names it, until the module registers it again under the name (``adopt_mismatch=replace``). Every
check runs before anything is signed:

    result = adopt(runner, resolve, build)  # the module result, or None: the runner deploys (runner.adopted)
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

from ansible_collections.threefold.grid.plugins.module_utils._errors import LifecycleError
from ansible_collections.threefold.grid.plugins.module_utils._lifecycle import ReservationLifecycle
from ansible_collections.threefold.grid.plugins.module_utils._session import GridSession
from ansible_collections.threefold.grid.plugins.module_utils._views import (
    LIVE_STATES,
    Reservation,
    data_of,
    state_name,
    tag_of,
    view,
)

# Wire key of a container workload -> the zos_container option that sets it; bookkeeping keys are not compared.
CONTAINER_OPTIONS = (("node_id", "node_id"), ("flist", "flist"), ("hub_url", "hub_url"), ("environment", "env"),
                     ("entrypoint", "entrypoint"), ("interactive", "interactive"), ("volumes", "volumes"),
                     ("network_connection", "network_connection"), ("logs", "logs"), ("capacity", "capacity"))


def adoptable(lifecycle: ReservationLifecycle, session: GridSession, rid: int, name: str, kind: str,
              workload_list: str) -> Optional[Reservation]:
    """Reservation ``rid`` when it is to be adopted as ``name``; None when the name already found its reservation
    (adopted and registered again since: ``adopt_id`` has done its job). Fails on anything else."""
    reservation = lifecycle.reservations.get(rid)
    owner = int(reservation.get("customer_tid") or 0)
    if owner != session.tid:
        raise LifecycleError("adopt_id: reservation %d belongs to tid %d, not to this identity (tid %d); only the "
                             "identity's own reservations can be adopted" % (rid, owner, session.tid))
    named = lifecycle.reservations.find_one(name, kind)
    live = state_name(reservation) in LIVE_STATES
    if named is not None:
        if live and named["id"] != rid:
            raise LifecycleError("adopt_id: %s %r already names live reservation %d, and reservation %d is another "
                                 "live one; cancel one of them" % (kind, name, named["id"], rid))
        return None
    if not live:
        raise LifecycleError("adopt_id: reservation %d is %s, not live: there is nothing to adopt"
                             % (rid, state_name(reservation)))
    tag = tag_of(reservation)
    # zos_reservation's reservations are adoptable: their task then has to go, as the container is managed here.
    if tag is not None and tag["kind"] != "reservation":
        raise LifecycleError("adopt_id: reservation %d is already managed as %s %r" % (rid, tag["kind"], tag["name"]))
    data = data_of(reservation)
    others = sorted(key for key, items in data.items()
                    if isinstance(items, list) and items and key not in (workload_list, "currencies"))
    if len(data.get(workload_list) or []) != 1 or others:
        raise LifecycleError("adopt_id: reservation %d holds %s, not exactly one of %s; only a reservation of one "
                             "workload can be adopted" % (rid, _workload_counts(data), workload_list))
    return reservation


def _workload_counts(data: Dict[str, Any]) -> str:
    counts = ["%d %s" % (len(items), key) for key, items in sorted(data.items())
              if isinstance(items, list) and items and key != "currencies"]
    return ", ".join(counts) or "no workload"


def differences(expected: Dict[str, Any], actual: Dict[str, Any]) -> List[str]:
    """What the options would change in the container ``actual``, one line per option (no secret value).

    Secret environment values are sealed for the node with a random nonce: only their names are compared.
    """
    found = []
    for key, option in CONTAINER_OPTIONS:
        if expected.get(key) != actual.get(key):
            found.append("%s: the reservation has %r, the options give %r" % (option, actual.get(key), expected.get(key)))
    wanted, has = sorted(expected.get("secret_environment") or {}), sorted(actual.get("secret_environment") or {})
    if wanted != has:
        found.append("secret_env: the reservation sets %s, the options set %s (values are not compared)"
                     % (", ".join(has) or "none", ", ".join(wanted) or "none"))
    return found


def adopt(runner: Any, resolve: Callable[[], None], build: Callable[[int], Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The module result of adopting ``runner.params["adopt_id"]`` as ``runner.name``, or None when the runner's
    usual deploy applies: the name already has its reservation, or adopt_mismatch=replace registers the options
    (``runner.adopted`` is then the reservation it replaces).

    ``resolve()`` checks the options against the grid; ``build(workload_id)`` is the workload they give.
    """
    rid = runner.params["adopt_id"]
    reservation = adoptable(runner.lifecycle, runner.session, rid, runner.name, runner.kind, runner.workload_list)
    if reservation is None:
        return None
    resolve()
    actual = data_of(reservation)[runner.workload_list][0]
    found = differences(build(actual.get("workload_id") or 1), actual)
    if found and runner.params["adopt_mismatch"] != "replace":
        raise LifecycleError("adopt_id: reservation %d does not match the options, nothing was signed: %s. Change the "
                             "options to match it, or set adopt_mismatch=replace to register the container as the "
                             "options give it and cancel reservation %d" % (rid, "; ".join(found), rid),
                             reservation=view(reservation))
    if found:
        runner.adopted = reservation
        return None
    if runner.wanted_labels:
        runner.session.warn("labels: reservation %d was made without them and the explorer can not change a "
                            "reservation's metadata; they are written when the module next registers it" % rid)
    return {runner.kind: runner.view(view(reservation)), "changed": False, "action": "adopt", "adopted": rid}
