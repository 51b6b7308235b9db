# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""Reservation lifecycle: a named reservation made to match a spec, or cancelled.

Reservations are immutable on the grid, so "present" is decide -> plan -> execute::

    lifecycle = ReservationLifecycle(session)
    lifecycle.ensure_present(name, kind, workloads, spec, lifetime, currencies=None, wait=True,
                             wait_timeout=600, wait_sleep=5, payment=None, renew_before=None,
                             cancel_first=None, tag_fields=None, adopted=None) -> Outcome
        decide   find the live reservation tagged {name, kind}; same fingerprint (spec, lifetime,
                 currencies; secrets keyed by the identity seed) and not due for renewal -> "none",
                 else "create" | "replace" | "renew". ``tag_fields`` (labels) go in the tag, not the fingerprint;
                 ``adopted`` is the untagged reservation replaced when no live one carries the name.
        plan     build the data_reservation (``workloads``: the data_reservation lists, or a callable
                 returning them, called only here), its diff and escrow estimate. Check mode stops here.
        execute  cancel the old one first when the new one reuses one of its IPs (or cancel_first),
                 register, check against other runs' reservations of the name (_concurrency.py), pay
                 (``payment`` block), wait, then cancel the old one. Other runs' reservations and unpaid
                 ones left behind are handled by _lifecycle_races.py.
    lifecycle.ensure_absent(name, kind, wait=True, ...) -> Outcome   cancels every live one with the tag
    lifecycle.ensure_deployed(reservation_id, ...) -> Outcome       waits (through "pay") until deployed
    lifecycle.ensure_all_deployed(reservation_ids, ...) -> Outcome  the same for many, one shared deadline
    lifecycle.cancel_id(reservation_id, wait=True, ...) -> Outcome

Failures raise LifecycleError(msg, reservation=view or None, failure=dict or None); its ``payment`` holds
a payment made before the failure. "Live" = computed next_action in create/sign/pay/deploy.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple, Union

from ansible_collections.threefold.grid.plugins.module_utils import _spec, _workloads
from ansible_collections.threefold.grid.plugins.module_utils._errors import LifecycleError
from ansible_collections.threefold.grid.plugins.module_utils._kept_reservation import kept_of
from ansible_collections.threefold.grid.plugins.module_utils._lifecycle_types import Decision, Outcome, Plan, Superseded
from ansible_collections.threefold.grid.plugins.module_utils._lookup import GridLookup, Reservations, explorer_call
from ansible_collections.threefold.grid.plugins.module_utils._payment_channels import channel_tag
from ansible_collections.threefold.grid.plugins.module_utils._session import GridSession
from ansible_collections.threefold.grid.plugins.module_utils._views import (
    LIVE_STATES,
    Reservation,
    data_of,
    describe,
    describe_data,
    escrow_view,
    mark_secret_changes,
    planned_view,
    state_name,
    tag_of,
    view,
)

if TYPE_CHECKING:
    from ansible_collections.threefold.grid.plugins.module_utils._concurrency import ConcurrentRuns
    from ansible_collections.threefold.grid.plugins.module_utils._registration import Registrar, Workloads
    from ansible_collections.threefold.grid.plugins.module_utils._reservation_wait import ReservationWaiter

PROVISIONING_SECONDS = 900  # the SDK's default expiration_provisioning window


def _races():
    """_lifecycle_races.py, loaded when this task meets another run's reservation of the name (most never do)."""
    from ansible_collections.threefold.grid.plugins.module_utils import _lifecycle_races
    return _lifecycle_races


def addresses(data: Dict[str, Any]) -> List[Tuple[Any, Any]]:
    """(network name, IP) of every container and kubernetes VM of a data_reservation, in order."""
    pairs = []
    for container in data.get("containers") or []:
        for connection in container.get("network_connection") or []:
            pairs.append((connection.get("network_id"), connection.get("ipaddress")))
    for vm in data.get("kubernetes") or []:
        pairs.append((vm.get("network_id"), vm.get("ipaddress")))
    return pairs


def shares_an_address(old_data: Dict[str, Any], new_data: Dict[str, Any]) -> bool:
    """Whether a container or kubernetes VM of both uses the same IP in the same network."""
    return bool(set(addresses(old_data)) & set(addresses(new_data)))


class ReservationLifecycle:
    def __init__(self, session: GridSession, clock: Callable[[], float] = time.time,
                 monotonic: Optional[Callable[[], float]] = None, sleep: Optional[Callable[[float], None]] = None,
                 reservations: Optional[Reservations] = None) -> None:
        self.session = session
        self._clock = clock
        # zos_containers passes one Reservations to the lifecycles of all its containers (one listing serves many).
        self.reservations = reservations if reservations is not None else Reservations(session)
        self.lookup = GridLookup(session, self.reservations, clock)
        self._monotonic = monotonic
        self._sleep = sleep
        self._registrar: Optional[Registrar] = None
        self._waiter: Optional[ReservationWaiter] = None
        self._runs: Optional[ConcurrentRuns] = None
        # A caller that waits for a new reservation itself right after (zos_containers' wait pass) turns this off:
        # with wait=false the reservation is then returned as the newest listing showed it, one read less each.
        self.read_after_payment = True

    # An unchanged reservation is kept without registering, paying or waiting: the code that does those loads
    # on first use, as the modules compile every module_utils they import on each task.

    @property
    def registrar(self) -> Registrar:
        if self._registrar is None:
            from ansible_collections.threefold.grid.plugins.module_utils._registration import Registrar
            self._registrar = Registrar(self.session, self.reservations)
        return self._registrar

    @property
    def waiter(self) -> ReservationWaiter:
        if self._waiter is None:
            from ansible_collections.threefold.grid.plugins.module_utils._reservation_wait import ReservationWaiter
            self._waiter = ReservationWaiter(self.session, self._monotonic, self._sleep)
        return self._waiter

    @property
    def runs(self) -> ConcurrentRuns:
        if self._runs is None:
            from ansible_collections.threefold.grid.plugins.module_utils._concurrency import ConcurrentRuns
            self._runs = ConcurrentRuns(self.session, self.reservations, self.registrar, self.waiter, self._clock)
        return self._runs

    def wait_deployed(self, rid: int, timeout: int, sleep: int, paying: bool,
                      escrow_information: Optional[Dict[str, Any]] = None) -> Tuple[Reservation, str]:
        return self.waiter.wait_deployed(rid, timeout, sleep, paying, escrow_information=escrow_information)

    def wait_deleted(self, rid: int, timeout: int, sleep: int) -> Reservation:
        return self.waiter.wait_deleted(rid, timeout, sleep)

    def payment_in_flight(self, reservation: Reservation, payment: Optional[Dict[str, Any]]) -> bool:
        return self.runs.payment_in_flight(reservation, payment)

    def now(self) -> int:
        return int(self._clock())

    def fingerprint(self, spec: Any, life: Dict[str, int], currencies: List[str]) -> str:
        seed = bytes.fromhex(self.session.identity.seed_hex)
        return _spec.fingerprint({"spec": spec, "lifetime": life, "currencies": currencies}, seed)

    def secret_digests(self, spec: Any) -> Dict[str, str]:
        return _spec.secret_digests(spec, bytes.fromhex(self.session.identity.seed_hex))

    # ---- present: decide -> plan -> execute ----------------------------------------------------

    def ensure_present(self, name: str, kind: str, workloads: Union[Workloads, Callable[[], Workloads]], spec: Any,
                       lifetime: Union[int, Dict[str, int]], currencies: Optional[List[str]] = None, wait: bool = True,
                       wait_timeout: int = 600, wait_sleep: int = 5, payment: Optional[Dict[str, Any]] = None,
                       renew_before: Optional[int] = None, cancel_first: Optional[bool] = None,
                       tag_fields: Optional[Dict[str, Any]] = None, adopted: Optional[Reservation] = None) -> Outcome:
        life = {"expires_at": int(lifetime)} if isinstance(lifetime, int) else dict(lifetime)
        currencies = _spec.normalise_currencies(currencies)
        decision = self.decide(name, kind, spec, life, currencies, renew_before, payment, tag_fields, adopted)
        if decision.extras:  # other live reservations of the name than the one kept
            _races().retire_extras(self, decision, payment)
        if decision.action == "none":
            return self.keep(decision.old, wait, wait_timeout, wait_sleep)
        if decision.action == "await_payment":
            settled = _races().await_payment(self, decision, wait, wait_timeout, wait_sleep, payment)
            if settled is not None:
                return settled
        if decision.action == "pay_existing":
            return _races().pay_existing(self, decision, payment, wait, wait_timeout, wait_sleep)
        plan = self.plan(decision.old, workloads, life, currencies, wait_timeout)
        if decision.old is not None:
            old_tag = tag_of(decision.old) or {}  # an adopted reservation carries no tag
            mark_secret_changes(plan.diff, old_tag.get("secrets"), self.secret_digests(spec),
                                old_tag.get("fp") != decision.fp)
        self.check_addresses_free(plan.data, decision.old, decision.metadata)
        if payment:
            self.registrar.precheck(payment, plan.estimate)
        if self.session.check_mode:
            return Outcome(True, decision.action, diff=plan.diff, estimate=plan.estimate,
                           reservation=planned_view(plan.data, decision.metadata, plan.estimate),
                           replaced=[decision.old["id"]] if decision.old else [])
        outcome = self.execute(decision, plan, payment, wait, wait_timeout, wait_sleep, cancel_first)
        outcome.estimate = plan.estimate
        return outcome

    def decide(self, name: str, kind: str, spec: Any, life: Dict[str, int], currencies: List[str],
               renew_before: Optional[int], payment: Optional[Dict[str, Any]],
               tag_fields: Optional[Dict[str, Any]] = None, adopted: Optional[Reservation] = None) -> Decision:
        fp = self.fingerprint(spec, life, currencies)
        # Labels and the payment channels ride in the tag but not in the fingerprint (_labels.py,
        # _payment_channels.py): changing them alone registers nothing.
        fields = dict(tag_fields or {}, **channel_tag(payment))
        metadata = _spec.metadata_tag(name, kind, fp, fields, secrets=self.secret_digests(spec))
        # The name index spares the listing only when nothing is to be done: any decision to register goes
        # through a fresh listing, which sees every live reservation of that name (another run's too).
        cached = self.reservations.cached(name, kind)
        if cached is not None and self._unchanged(cached, fp, renew_before, payment):
            return Decision(cached, fp, metadata, "none", False)
        named = self.reservations.find(name, kind)
        # An adopted reservation (_adopt.py) carries no tag: it is the one replaced when none carries the name.
        old = kept_of(named) or adopted
        if old is None:
            return Decision(None, fp, metadata, "create", False)
        decision = self.decide_on(old, fp, metadata, renew_before, payment)
        decision.extras = [r for r in named if r["id"] != old["id"]]
        return decision

    def decide_on(self, old: Reservation, fp: str, metadata: str, renew_before: Optional[int],
                  payment: Optional[Dict[str, Any]]) -> Decision:
        """The decision about the live reservation of the name (the one kept when several carry it)."""
        same = (tag_of(old) or {}).get("fp") == fp
        if same and not self._needs_renewal(old, renew_before):
            if state_name(old) == "pay" and payment:
                # Another run may be paying it right now, or its payment may not be seen yet: cancelling it
                # then would lose that payment (a cancel refunds only what the escrow held at that moment).
                if self.payment_in_flight(old, payment):
                    return Decision(old, fp, metadata, "await_payment", False)
                return _races().unpaid(self, Decision(old, fp, metadata, "replace", True), payment)
            return Decision(old, fp, metadata, "none", False)
        return Decision(old, fp, metadata, "renew" if same else "replace", False)

    def check_addresses_free(self, data: Dict[str, Any], old: Optional[Reservation], metadata: str) -> None:
        """Refuse an IP used twice in `data`, or by a live reservation other than the one being replaced or another
        run's reservation of the same name (of the two, only one is kept: see _concurrency.py)."""
        wanted = addresses(data)
        for pair in set(wanted):
            if wanted.count(pair) > 1:
                raise LifecycleError("IP %s is given to two workloads on network %s" % (pair[1], pair[0]))
        tag = _spec.parse_metadata(metadata)
        for other, theirs in self.reservations.tagged():
            theirs = theirs or {}
            if (old is not None and other["id"] == old["id"]) or (theirs.get("name"), theirs.get("kind")) == (
                    tag["name"], tag["kind"]):
                continue
            taken = set(wanted) & set(addresses(data_of(other)))
            if taken:
                network, ip = sorted(taken)[0]
                raise LifecycleError("IP %s on network %s is already used by live reservation %d (%s); choose another "
                                     "address" % (ip, network, other["id"], theirs.get("name") or "no name"))

    def _unchanged(self, old: Reservation, fp: str, renew_before: Optional[int],
                   payment: Optional[Dict[str, Any]]) -> bool:
        """Same fingerprint, not due for renewal, and not an unpaid reservation this task would pay."""
        return (tag_of(old).get("fp") == fp and not self._needs_renewal(old, renew_before)
                and not (state_name(old) == "pay" and payment))

    def _needs_renewal(self, reservation: Reservation, renew_before: Optional[int]) -> bool:
        if not renew_before:
            return False
        return int(data_of(reservation).get("expiration_reservation") or 0) - self.now() <= renew_before

    def keep(self, old: Reservation, wait: bool, wait_timeout: int, wait_sleep: int) -> Outcome:
        """The matching reservation stays; wait for it when it is still deploying."""
        current = view(old)
        if wait and not self.session.check_mode and current["state"] == "deploy" and current["workload_state"] != "ok":
            current = view(self.wait_deployed(old["id"], wait_timeout, wait_sleep, paying=True)[0])
        elif current["state"] == "pay":
            self.session.warn("reservation %d is waiting for payment; pay it with threefold.grid.zos_payment or the "
                              "payment option (escrow details are in the registration result)" % old["id"])
        return Outcome(False, "none", reservation=current, diff={"before": describe(old), "after": describe(old)})

    def plan(self, old: Optional[Reservation], workloads: Union[Workloads, Callable[[], Workloads]],
             life: Dict[str, int], currencies: List[str], wait_timeout: int) -> Plan:
        now = self.now()
        built = workloads() if callable(workloads) else workloads
        deadline = now + max(PROVISIONING_SECONDS, int(wait_timeout or 0) + 60)
        data = self.registrar.build_data_reservation(built, _spec.expiration_epoch(life, now), currencies, deadline)
        return Plan(data, {"before": describe(old), "after": describe_data(data)}, self.estimate(data, now))

    def execute(self, decision: Decision, plan: Plan, payment: Optional[Dict[str, Any]], wait: bool,
                wait_timeout: int, wait_sleep: int, cancel_first: Optional[bool]) -> Outcome:
        old = decision.old
        outcome = Outcome(True, decision.action, diff=plan.diff)
        if old is not None:
            first = shares_an_address(data_of(old), plan.data) if cancel_first is None else bool(cancel_first)
            if first:
                if not self.runs.retire(old, payment, wait_timeout, wait_sleep) and self._still_live(old):
                    raise LifecycleError("reservation %d must be cancelled before its replacement is registered (they "
                                         "share an IP), but a payment for it may still land: nothing was registered; "
                                         "re-run once it is paid or %ds old" % (old["id"], self.runs.window))
                self.wait_deleted(old["id"], wait_timeout, wait_sleep)
                outcome.replaced.append(old["id"])
        tag = _spec.parse_metadata(decision.metadata)
        race = (tag["name"], tag["kind"], decision.fp, [old["id"]] if old is not None else [])
        rid, escrow_information = self.registrar.register(plan.data, decision.metadata)
        try:
            # Other runs may have registered the name too: only the reservation every run judges kept is paid.
            verdict = self.runs.settle(rid, *race)
            if verdict.action != "proceed":
                raise Superseded(verdict)
            reservation = self.pay_and_wait(rid, escrow_information, payment, wait, wait_timeout, wait_sleep, outcome,
                                            old if old is not None and not outcome.replaced else None,
                                            self.runs.guard(rid, *race))
        except Superseded as superseded:
            return _races().give_way(self, rid, superseded.verdict, outcome, None if outcome.replaced else old,
                                     payment, wait, wait_timeout, wait_sleep)
        for replaced in ([old] if old is not None and not outcome.replaced else []) + verdict.older:
            if self.runs.retire(replaced, payment, wait_timeout, wait_sleep):
                outcome.replaced.append(replaced["id"])
                if wait:
                    self.wait_deleted(replaced["id"], wait_timeout, wait_sleep)
        outcome.reservation = view(reservation, escrow_information)
        return outcome

    def pay_and_wait(self, rid: int, escrow_information: Dict[str, Any], payment: Optional[Dict[str, Any]],
                     wait: bool, wait_timeout: int, wait_sleep: int, outcome: Outcome,
                     kept_old: Optional[Reservation], before_submit: Optional[Callable[[], Optional[Reservation]]] = None) -> Reservation:
        """The new reservation after paying and waiting; a failed replacement is dropped so the old one stays."""
        try:
            outcome.payment = self.registrar.pay(rid, escrow_information, payment, before_submit)
            if not wait:
                listed = None if self.read_after_payment else self.reservations.listed(rid)
                return listed if listed is not None else self.reservations.get(rid)
            # Nothing due (gateway workloads are free): the explorer deploys it without a payment.
            nothing_due = not any(detail.get("total_amount") for detail in escrow_information.get("details") or [])
            reservation, state = self.wait_deployed(rid, wait_timeout, wait_sleep, paying=bool(payment) or nothing_due,
                                                    escrow_information=escrow_information)
        except LifecycleError as error:
            error.payment = outcome.payment
            if kept_old is not None:
                error.msg = self._drop_replacement(rid, error.msg, kept_old["id"])
            raise
        if state == "pay":
            self.session.warn("reservation %d is waiting for payment of %s" % (
                rid, (escrow_view(rid, escrow_information) or {}).get("amount")))
        return reservation

    def _drop_replacement(self, rid: int, msg: str, old_id: int) -> str:
        """A replacement that did not deploy is cancelled, so the old reservation stays the only live one."""
        try:
            replacement = self.reservations.get(rid)
            if state_name(replacement) in LIVE_STATES:
                self.registrar.cancel(replacement)
        except LifecycleError as error:
            return "%s; cancelling the replacement %d failed too (%s), so two live reservations carry this " \
                   "name: cancel one of them" % (msg, rid, error.msg)
        return "%s; the replacement %d was cancelled and reservation %d is kept" % (msg, rid, old_id)

    def _still_live(self, reservation: Reservation) -> bool:
        return state_name(self.reservations.get(reservation["id"])) in LIVE_STATES

    def estimate(self, data_reservation: Dict[str, Any], now: int) -> Dict[str, Any]:
        """Escrow estimate; nodes are read for their farm (and free_to_use)."""
        farms = {}
        free = True
        gateways = _workloads.gateway_ids(data_reservation)
        for node_id in _workloads.workload_nodes(data_reservation):
            if node_id in gateways:
                node = explorer_call("read gateway %s" % node_id, self.session.client.get, "/gateways/%s" % node_id)
            else:
                node = explorer_call("read node %s" % node_id, self.session.node, node_id)
            farms[node_id] = node.get("farm_id")
            free = free and bool(node.get("free_to_use"))
        from ansible_collections.threefold.grid.plugins.module_utils import _pricing  # loaded when a plan is priced
        estimate = _pricing.estimate(data_reservation, farms, now)
        if free and "FreeTFT" in (data_reservation.get("currencies") or []):
            estimate["currency"] = "FreeTFT"
        return estimate

    # ---- absent, deployed, cancel by id --------------------------------------------------------

    def ensure_absent(self, name: str, kind: str, wait: bool = True, wait_timeout: int = 600,
                      wait_sleep: int = 5) -> Outcome:
        live = self.reservations.find(name, kind)
        outcome = Outcome(bool(live), "cancel" if live else "none", cancelled=[r["id"] for r in live],
                          diff={"before": describe(live[0]) if live else {}, "after": {}})
        if self.session.check_mode:
            outcome.reservations = [view(r) for r in live]
            return outcome
        for reservation in live:
            self.registrar.cancel(reservation)
        for reservation in live:
            final = (self.wait_deleted(reservation["id"], wait_timeout, wait_sleep) if wait
                     else self.reservations.get(reservation["id"]))
            outcome.reservations.append(view(final))
        return outcome

    def ensure_deployed(self, reservation_id: int, wait_timeout: int = 600, wait_sleep: int = 5) -> Outcome:
        """Wait for an existing reservation (e.g. paid with zos_payment) to be deployed."""
        reservation = self.reservations.get(reservation_id)
        if not self.session.check_mode:
            reservation = self.wait_deployed(reservation_id, wait_timeout, wait_sleep, paying=True)[0]
        return Outcome(False, "wait", reservation=view(reservation))

    def ensure_all_deployed(self, reservation_ids: List[int], wait_timeout: int = 600,
                            wait_sleep: int = 5) -> Outcome:
        """Wait for many reservations (registered with wait=false) within one ``wait_timeout``.

        They deploy in parallel on the grid, so waiting for them one after the other costs the slowest one
        plus one read of each other. Every reservation is waited for even when one fails; the failures are
        raised together, the ids deployed and not deployed in the error's ``failure``.
        """
        deadline = self.waiter.monotonic() + wait_timeout
        outcome = Outcome(False, "wait")
        failures: List[str] = []
        not_deployed: List[int] = []
        for rid in reservation_ids:
            if self.session.check_mode:
                outcome.reservations.append(view(self.reservations.get(rid)))
                continue
            remaining = max(0, int(deadline - self.waiter.monotonic()))
            try:
                reservation = self.wait_deployed(rid, remaining, wait_sleep, paying=True)[0]
            except LifecycleError as error:
                failures.append(error.msg)
                not_deployed.append(rid)
                continue
            outcome.reservations.append(view(reservation))
        if failures:
            raise LifecycleError("%d of %d reservations were not deployed: %s"
                                 % (len(failures), len(reservation_ids), "; ".join(failures)),
                                 failure={"not_deployed": not_deployed,
                                          "deployed": [r["id"] for r in outcome.reservations]})
        return outcome

    def cancel_id(self, reservation_id: int, wait: bool = True, wait_timeout: int = 600,
                  wait_sleep: int = 5) -> Outcome:
        reservation = self.reservations.get(reservation_id)
        if int(reservation.get("customer_tid") or 0) != self.session.tid:
            raise LifecycleError("Reservation %d belongs to tid %s, not to this identity (tid %d)"
                                 % (reservation_id, reservation.get("customer_tid"), self.session.tid))
        live = state_name(reservation) in LIVE_STATES
        outcome = Outcome(live, "cancel" if live else "none", cancelled=[reservation_id] if live else [],
                          diff={"before": describe(reservation) if live else {}, "after": {}})
        if live and not self.session.check_mode:
            self.registrar.cancel(reservation)
            reservation = (self.wait_deleted(reservation_id, wait_timeout, wait_sleep) if wait
                           else self.reservations.get(reservation_id))
        elif wait and state_name(reservation) == "delete" and not self.session.check_mode:
            reservation = self.wait_deleted(reservation_id, wait_timeout, wait_sleep)
        outcome.reservation = view(reservation)
        return outcome
