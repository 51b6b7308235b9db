# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""zos_kubernetes: a named cluster made to match its options, member by member.

Reservations are immutable and one reservation is paid and deployed as a whole, so every VM of the cluster
has its own reservation, tagged ``{name: <cluster>, kind: kubernetes_master}`` or ``{name:
<cluster>/<worker>, kind: kubernetes_worker}``. Each member then goes through the ReservationLifecycle on its
own: an unchanged member is left alone, a changed one replaced, a new worker registered, a worker no longer
listed cancelled. What every worker carries of the master (its address, the cluster secret, the SSH keys) is
part of the worker's fingerprint, so changing those replaces the workers too.

The cluster's labels are written into the tag of every VM (its reservation is the unit the inventory and the
explorer see), and, as for every resource, they are not part of the fingerprint: a label change alone keeps
every VM and warns; a VM registered again for another reason (a new worker, a replaced one) gets the new labels.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ansible_collections.threefold.grid.plugins.module_utils import _labels
from ansible_collections.threefold.grid.plugins.module_utils._amounts import stroops_to_amount
from ansible_collections.threefold.grid.plugins.module_utils._crypto import encrypt_for_node
from ansible_collections.threefold.grid.plugins.module_utils._errors import LifecycleError
from ansible_collections.threefold.grid.plugins.module_utils._kubernetes import (
    MASTER,
    MASTER_KIND,
    WORKER_KIND,
    assign_addresses,
    kubernetes_result,
    kubernetes_workload,
    member_spec,
    normalise_cluster,
    split_worker_tag_name,
    worker_tag_name,
)
from ansible_collections.threefold.grid.plugins.module_utils._lifecycle import Outcome, addresses
from ansible_collections.threefold.grid.plugins.module_utils._resource import WORKLOAD_ID, ResourceRunner
from ansible_collections.threefold.grid.plugins.module_utils._views import data_of, tag_of

MEMBER_FIELDS = ("reservation_id", "workload_id", "vm_id", "state", "workload_state", "expires_at", "escrow",
                 "error")


def label(member: Dict[str, Any]) -> str:
    """How messages name a member: ``master`` or ``workers[<index>] (<name>)``."""
    return member["option"] if member["role"] == MASTER else "%s (%s)" % (member["option"], member["member"])


class ClusterRunner(ResourceRunner):
    kind = "kubernetes"
    workload_list = "kubernetes"

    def __init__(self, params, session, diff=False):
        super(ClusterRunner, self).__init__(params, session, diff)
        self.shown: Dict[str, Any] = {"master": None, "workers": [], "removed": []}

    # ---- the cluster's live reservations -------------------------------------------------------

    def live_members(self) -> Dict[str, Dict[str, Any]]:
        """``{member name: reservation}`` of the cluster's live VMs (the master under ``master``)."""
        found = {}
        for reservation in self.lifecycle.reservations.live():
            tag = tag_of(reservation) or {}
            if tag.get("kind") == MASTER_KIND and tag.get("name") == self.name:
                found[MASTER] = reservation
            elif tag.get("kind") == WORKER_KIND:
                parts = split_worker_tag_name(tag.get("name") or "")
                if parts and parts[0] == self.name:
                    found[parts[1]] = reservation
        return found

    @staticmethod
    def tag(member_name: str, cluster: str):
        if member_name == MASTER:
            return cluster, MASTER_KIND
        return worker_tag_name(cluster, member_name), WORKER_KIND

    # ---- what is returned ----------------------------------------------------------------------

    def member_view(self, name: str, role: str, reservation: Optional[Dict[str, Any]], planned: Optional[Dict[str, Any]] = None,
                    action: str = "none", replaced: Optional[list] = None, payment: Optional[Dict[str, Any]] = None):
        """One VM: what was asked (``planned``) or what its reservation holds, with the reservation's state."""
        vm = ((reservation or {}).get("workloads") or {}).get("kubernetes", [{}])[0] if reservation else {}
        source = planned or {"node_id": vm.get("node_id"), "size": vm.get("size"), "ip_address": vm.get("ip_address")}
        shown = {"name": name, "role": role, "node_id": source["node_id"], "size": source["size"],
                 "ip_address": source["ip_address"], "action": action, "results": [],
                 "replaced": list(replaced or []), "payment": payment}
        shown.update((key, None) for key in MEMBER_FIELDS)
        shown.update(labels=None, labels_sealed=False)
        if reservation is not None:
            result = kubernetes_result(reservation["id"], vm.get("workload_id", WORKLOAD_ID), reservation["results"])
            shown.update(reservation_id=reservation["id"], workload_id=result["workload_id"], vm_id=result["vm_id"],
                         results=result["results"])
            for key in ("state", "workload_state", "expires_at", "escrow", "error"):
                shown[key] = reservation.get(key)
            shown.update(labels=_labels.stored_labels(reservation, self.session.identity),
                         labels_sealed=bool(reservation.get("sealed_labels")))
        return shown

    def cluster_view(self) -> Optional[Dict[str, Any]]:
        master, workers = self.shown["master"], self.shown["workers"]
        if master is None and not workers and not self.shown["removed"]:
            return None
        return {"name": self.name, "network_name": self.params.get("network_name"), "master": master,
                "master_ip": (master or {}).get("ip_address"), "workers": workers,
                "worker_ips": [worker["ip_address"] for worker in workers], "removed": self.shown["removed"]}

    def ledger_views(self, result: Dict[str, Any]) -> List[Dict[str, Any]]:
        cluster = result.get(self.kind) or {}
        return [member for member in [cluster.get("master")] + list(cluster.get("workers") or []) if member]

    def failure_returns(self, error: LifecycleError) -> Dict[str, Any]:
        return {self.kind: self.cluster_view()}

    def _record(self, member: Dict[str, Any], shown: Dict[str, Any]) -> None:
        if member["role"] == MASTER:
            self.shown["master"] = shown
        else:
            self.shown["workers"].append(shown)

    # ---- present -------------------------------------------------------------------------------

    def present(self) -> Dict[str, Any]:
        cluster = normalise_cluster(self.params)
        life = self.lifetime()
        currencies = self._resolve(cluster)
        live = self.live_members()
        wanted = [member["member"] for member in cluster["members"]]
        kept_ids = set(live[name]["id"] for name in wanted if name in live)
        taken = set(ip for reservation in self.lifecycle.reservations.live() if reservation["id"] not in kept_ids
                    for network, ip in addresses(data_of(reservation)) if network == cluster["network"])
        previous = dict((name, (data_of(reservation).get("kubernetes") or [{}])[0].get("ipaddress"))
                        for name, reservation in live.items())
        assign_addresses(cluster["members"], self.subnets, taken, previous)
        master_ip = cluster["members"][0]["ip_address"]
        # Every VM's tag is checked against the metadata limit before the first one is signed.
        tag_fields = dict((member["member"], self.tag_fields(*self.tag(member["member"], self.name)))
                          for member in cluster["members"])

        outcomes: List[Outcome] = []
        diff: Dict[str, Any] = {"before": {"workers": {}}, "after": {"workers": {}}}
        for name in sorted(set(live) - set(wanted)):
            outcome = self._member_absent(name, live[name])
            outcomes.append(outcome)
            self._diff_into(diff, name, outcome.diff)
        for member in cluster["members"]:
            spec = member_spec(cluster, member, master_ip)
            outcome = self._member_present(member, spec, life, currencies, tag_fields[member["member"]])
            outcomes.append(outcome)
            self._diff_into(diff, member["member"], outcome.diff)
        result = {self.kind: self.cluster_view(), "changed": any(o.changed for o in outcomes),
                  "action": self._action(outcomes, live)}
        estimates = [o.estimate for o in outcomes if o.estimate is not None]
        if estimates:
            total = sum(int(e["total_amount"]) for e in estimates)
            result["estimate"] = {"total_amount": total, "amount": stroops_to_amount(total),
                                  "currency": estimates[0].get("currency"),
                                  "details": [d for e in estimates for d in e.get("details") or []]}
        if self.diff_mode:
            result["diff"] = diff
        return result

    def _resolve(self, cluster: Dict[str, Any]) -> List[str]:
        """Check every node (known, up, on the network) before anything is signed; the currencies to offer."""
        lookup = self.lifecycle.lookup
        self.subnets: Dict[str, str] = {}
        free = True
        for member in cluster["members"]:
            node = lookup.node(member["node_id"], member["option"] + ".node_id")
            free = free and bool(node.get("free_to_use"))
            if member["node_id"] not in self.subnets:
                self.subnets[member["node_id"]] = lookup.network_subnet(cluster["network"], member["node_id"],
                                                                        "network_name")
        return self.params["currencies"] or (["FreeTFT"] if free else ["TFT"])

    def _member_present(self, member: Dict[str, Any], spec: Dict[str, Any], life, currencies,
                        tag_fields: Dict[str, Any]) -> Outcome:
        name, kind = self.tag(member["member"], self.name)

        def workloads():
            return {"kubernetes": [kubernetes_workload(spec, WORKLOAD_ID, encrypt_for_node)]}

        reservation_lifetime, renew_before = life
        try:
            outcome = self.lifecycle.ensure_present(
                name, kind, workloads, spec, reservation_lifetime, currencies=currencies,
                payment=self.params["payment"], renew_before=renew_before, tag_fields=tag_fields,
                **self.wait_options())
        except LifecycleError as error:
            self._record(member, self.member_view(member["member"], member["role"], error.reservation, member,
                                                  "failed", payment=error.payment))
            error.msg = "%s: %s" % (label(member), error.msg)
            if error.failure is None and error.reservation and error.reservation.get("error"):
                error.failure = dict(error.reservation["error"], member=member["member"])
            raise
        self.warn_stale_labels(outcome)
        self._record(member, self.member_view(member["member"], member["role"], outcome.reservation, member,
                                              outcome.action, outcome.replaced, outcome.payment))
        return outcome

    def _member_absent(self, name: str, reservation: Dict[str, Any]) -> Outcome:
        tag_name, kind = self.tag(name, self.name)
        try:
            outcome = self.lifecycle.ensure_absent(tag_name, kind, **self.wait_options())
        except LifecycleError as error:
            error.msg = "removing %s: %s" % (name, error.msg)
            raise
        self.shown["removed"].append({"name": name, "reservation_id": reservation["id"],
                                      "state": outcome.reservations[0]["state"] if outcome.reservations else None})
        return outcome

    def _diff_into(self, diff: Dict[str, Any], name: str, member_diff: Dict[str, Any]) -> None:
        for side in ("before", "after"):
            shown = self._diff_side(member_diff[side])
            if name == MASTER:
                diff[side]["master"] = shown
            elif shown:
                diff[side]["workers"][name] = shown

    @staticmethod
    def _action(outcomes: List[Outcome], live: Dict[str, Any]) -> str:
        if not any(o.changed for o in outcomes):
            return "none"
        if not live:
            return "create"
        return "update"

    # ---- absent --------------------------------------------------------------------------------

    def absent(self) -> Dict[str, Any]:
        live = self.live_members()
        outcomes = []
        # Workers first: a worker without its master only retries joining.
        names = sorted(name for name in live if name != MASTER) + ([MASTER] if MASTER in live else [])
        for name in names:
            tag_name, kind = self.tag(name, self.name)
            outcome = self.lifecycle.ensure_absent(tag_name, kind, **self.wait_options())
            outcomes.append(outcome)
            role = MASTER if name == MASTER else "worker"
            for reservation in outcome.reservations:
                self._record({"role": role}, self.member_view(name, role, reservation, action="cancel"))
        result = {self.kind: self.cluster_view(), "changed": any(o.changed for o in outcomes),
                  "action": "cancel" if any(o.changed for o in outcomes) else "none"}
        if self.diff_mode:
            result["diff"] = {"before": dict((name, self._diff_side(o.diff["before"]))
                                             for name, o in zip(names, outcomes)), "after": {}}
        return result
