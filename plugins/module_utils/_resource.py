# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""What the modules that register reservations share: their common options and one runner.

zos_container, zos_volume and zos_network each manage one named resource in its own reservation;
they subclass ResourceRunner and supply only their spec normalisation (``present``) and the
resource they return (``view``). zos_reservation reuses the option handling::

    class VolumeRunner(ResourceRunner):
        kind = "volume"            # metadata kind, and the key of the module's return value
        workload_list = "volumes"  # the diff shows this one workload; None shows the whole reservation

        def present(self):
            spec = ...             # normalised and checked, SpecError on a wrong option
            return self.deploy(lambda: {"volumes": [...]}, spec, self.lifetime(), currencies, payment)

        def describe(self, reservation, replaced=None, payment=None):
            return self.resource_view(reservation, replaced, payment, size=...)

    ZosModule(argument_spec()).run(VolumeRunner)

``run()`` calls the method named by the ``state`` option; a LifecycleError leaves with the resource as
far as it is known (``returns``), which ZosModule puts next to ``msg`` and ``failure``.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

from ansible_collections.threefold.grid.plugins.module_utils import _labels, _resource_views
from ansible_collections.threefold.grid.plugins.module_utils._errors import LifecycleError
from ansible_collections.threefold.grid.plugins.module_utils._ledger_account import ledger_payer
from ansible_collections.threefold.grid.plugins.module_utils._lifecycle import Outcome, ReservationLifecycle
from ansible_collections.threefold.grid.plugins.module_utils._lookup import Reservations
from ansible_collections.threefold.grid.plugins.module_utils._session import GridSession, Runner
from ansible_collections.threefold.grid.plugins.module_utils._spec import lifetime, parse_duration

WORKLOAD_ID = _resource_views.WORKLOAD_ID  # the modules' workload id of their one workload


class ResourceRunner(Runner):
    kind: Optional[str] = None  # metadata kind of the reservation, also the module's return key
    workload_list: Optional[str] = None  # the data_reservation list whose single workload the diff shows
    returns_estimate = True

    def __init__(self, params: Dict[str, Any], session: GridSession, diff: bool = False,
                 reservations: Optional[Reservations] = None) -> None:
        super(ResourceRunner, self).__init__(params, session, diff)
        self.name = params.get("name")
        self.lifecycle = ReservationLifecycle(session, reservations=reservations)
        self.wanted_labels = _labels.normalise_labels(params.get("labels"))
        self.adopted: Optional[Dict[str, Any]] = None  # an untagged reservation the deploy replaces (_adopt.py)

    # ---- what a module supplies ----------------------------------------------------------------

    def present(self) -> Dict[str, Any]:
        raise NotImplementedError

    def describe(self, reservation: Dict[str, Any], replaced: Optional[list] = None,
                 payment: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """The returned resource from a lifecycle reservation view (the kind's fields of _resource_views)."""
        return self.resource_view(reservation, replaced, payment, **_resource_views.KIND_FIELDS[self.kind][1](reservation))

    def view(self, reservation: Optional[Dict[str, Any]], replaced: Optional[list] = None,
             payment: Optional[Dict[str, Any]] = None) -> Optional[Dict[str, Any]]:
        """The returned resource, None when there is no reservation."""
        return None if reservation is None else self.describe(reservation, replaced, payment)

    def resource_view(self, reservation: Dict[str, Any], replaced: Optional[list] = None,
                      payment: Optional[Dict[str, Any]] = None, **fields: Any) -> Dict[str, Any]:
        """What every returned resource says of its reservation, with the module's own ``fields``."""
        labels = _labels.stored_labels(reservation, self.session.identity if self.session.has_identity else None)
        return _resource_views.resource_view(self.name, reservation, replaced, payment, labels, **fields)

    def single_workload(self, reservation: Dict[str, Any]) -> Tuple[Dict[str, Any], str]:
        """The one workload of ``workload_list`` in the reservation view, and its global id."""
        return _resource_views.single_workload(reservation, self.workload_list)

    def present_returns(self, outcome: Outcome) -> Dict[str, Any]:
        return {self.kind: self.view(outcome.reservation, outcome.replaced, outcome.payment)}

    def absent_returns(self, outcome: Outcome) -> Dict[str, Any]:
        return {self.kind: self.view(outcome.reservations[0]) if outcome.reservations else None}

    def failure_returns(self, error: LifecycleError) -> Dict[str, Any]:
        return {self.kind: self.view(error.reservation, payment=error.payment)}

    # ---- shared flow ---------------------------------------------------------------------------

    def wait_options(self) -> Dict[str, Any]:
        return dict(wait=self.params["wait"], wait_timeout=self.params["wait_timeout"],
                    wait_sleep=self.params["wait_sleep"])

    def lifetime(self) -> Tuple[Dict[str, int], Optional[int]]:
        """(lifetime, renew_before seconds or None) from the lifetime options."""
        renew_before = self.params["renew_before"]
        return (lifetime(self.params["duration"], self.params["expires_at"]),
                parse_duration(renew_before, "renew_before") if renew_before else None)

    def tag_fields(self, name: Optional[str] = None, kind: Optional[str] = None) -> Dict[str, Any]:
        """The labels as the metadata tag of ``name`` (the module's own by default) carries them; fails before
        anything is signed when they do not fit."""
        fields = _labels.tag_fields(self.wanted_labels, bool(self.params.get("seal_labels")), self.session.identity)
        _labels.check_metadata_size(name or self.name, kind or self.kind, fields)
        return fields

    def warn_stale_labels(self, outcome: Outcome) -> None:
        """A kept reservation keeps the labels it was registered with: say so when they are not the wanted ones."""
        if self.wanted_labels is None or outcome.action != "none" or not outcome.reservation:
            return
        stored = _labels.stored_labels(outcome.reservation, self.session.identity)
        if stored != self.wanted_labels:
            self.session.warn("labels: reservation %s keeps the labels it was registered with (%s); a label change "
                              "alone does not register and pay for it again: the new labels are written when it is "
                              "next registered (a change of another option, or a renewal)"
                              % (outcome.reservation.get("id"), "unreadable" if stored is None else stored or "none"))

    def deploy(self, workloads: Callable[[], Dict[str, Any]], spec: Any, life: Tuple[Dict[str, int], Optional[int]],
               currencies: Any, payment: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        """Make sure the reservation holds ``workloads`` (see ReservationLifecycle.ensure_present); the module result."""
        reservation_lifetime, renew_before = life
        outcome = self.lifecycle.ensure_present(
            self.name, self.kind, workloads, spec, reservation_lifetime, currencies=currencies, payment=payment,
            renew_before=renew_before, tag_fields=self.tag_fields(), adopted=self.adopted, **self.wait_options())
        self.warn_stale_labels(outcome)
        return self.present_result(outcome)

    def present_result(self, outcome: Outcome) -> Dict[str, Any]:
        """The module result of a registration (or of finding nothing to register)."""
        result = dict(self.present_returns(outcome), changed=outcome.changed, action=outcome.action)
        if self.returns_estimate and outcome.estimate is not None:
            result["estimate"] = outcome.estimate
        if self.diff_mode:
            result["diff"] = self.diff(outcome.diff)
        return result

    def absent(self) -> Dict[str, Any]:
        outcome = self.lifecycle.ensure_absent(self.name, self.kind, **self.wait_options())
        return self.absent_result(outcome, self.absent_returns(outcome))

    def absent_result(self, outcome: Outcome, returns: Dict[str, Any]) -> Dict[str, Any]:
        result = dict(returns, changed=outcome.changed, action="cancel" if outcome.changed else "none")
        if self.diff_mode:
            result["diff"] = self.diff(outcome.diff)
        return result

    def diff(self, diff: Dict[str, Any]) -> Dict[str, Any]:
        if self.workload_list is None:
            return diff
        return {"before": self._diff_side(diff["before"]), "after": self._diff_side(diff["after"])}

    def _diff_side(self, described: Dict[str, Any]) -> Dict[str, Any]:
        """The one workload of the reservation, with the reservation's expiry and currencies."""
        if not described:
            return {}
        shown = dict((described.get(self.workload_list) or [{}])[0])
        shown.pop("workload_id", None)
        shown["expires_at"] = described.get("expires_at")
        shown["currencies"] = described.get("currencies")
        if "secrets" in described:
            shown["secrets"] = described["secrets"]
        return shown

    def ledger_views(self, result: Dict[str, Any]) -> List[Dict[str, Any]]:
        """The returned resources whose reservation the ``ledger`` option reports on."""
        shown = result.get(self.kind)
        return [shown] if shown else []

    def add_ledger(self, result: Dict[str, Any], payer: str) -> None:
        """Each returned reservation's ``ledger`` and the identity's ``unmatched_payments`` (_ledger.py)."""
        from ansible_collections.threefold.grid.plugins.module_utils import _money_views  # only when a ledger is asked for
        horizon_url = (self.params.get("payment") or {}).get("horizon_url")
        result["unmatched_payments"] = _money_views.add_ledgers(self.session, self.ledger_views(result), payer,
                                                                horizon_url)

    def run(self) -> Dict[str, Any]:
        # Checked before anything is signed; reading Horizon is opt-in as it costs requests on every re-run.
        payer = ledger_payer(self.params)
        try:
            # The state option's choices name the methods.
            result = getattr(self, self.params["state"])()
        except LifecycleError as error:
            error.returns = self.failure_returns(error)
            raise
        if payer:
            self.add_ledger(result, payer)
        return result
