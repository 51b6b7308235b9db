# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""Reservation lifecycle: build, sign, register, find by name, replace, pay, wait, cancel.

Entry points (used by zos_container, zos_reservation, zos_network, zos_volume and payment code)::

    lifecycle = ReservationLifecycle(zmodule)          # zmodule: a _base.ZosModule

    lifecycle.ensure_present(name, kind, workloads, spec, lifetime, currencies=None, wait=True,
                             wait_timeout=600, wait_sleep=5, payment=None, renew_before=None,
                             cancel_first=None) -> dict
        name, kind   identify the reservation (metadata tag {"ansible": {name, kind, fp}}).
        workloads    dict of data_reservation lists ({"containers": [...], "volumes": [...],
                     "networks": [...]}, workload ids chosen by the caller, unique) or a callable
                     returning that dict; it is only called when a new reservation is needed.
        spec         normalised spec (_spec); fingerprinted with lifetime and currencies, secrets
                     (_spec.Secret) keyed by the identity seed.
        lifetime     _spec.lifetime() result: {"duration": s} or {"expires_at": epoch}; an int is
                     taken as an absolute expiration epoch.
        payment      the module's `payment` block (_payment.payment_argument_spec) or None.
        renew_before seconds: a matching reservation expiring within that window is replaced.
        cancel_first None: cancel the old reservation (and wait until deleted) before registering
                     the new one only when a container/kubernetes IP of the new one is already used
                     by the old one in the same network; otherwise the new one is registered (paid,
                     waited for) first and the old one cancelled after it deployed. True/False force.
        Returns {"changed", "action": "none"|"create"|"replace"|"renew", "reservation": view,
                 "replaced": [ids], "diff": {"before","after"}, "estimate": dict|None,
                 "payment": dict|None, "warnings": [str]}.

    lifecycle.ensure_absent(name, kind, wait=True, wait_timeout=600, wait_sleep=5) -> dict
        Signs the delete of every live reservation with that tag and waits until deleted.
        Returns {"changed", "cancelled": [ids], "reservations": [view], "diff"}.

    lifecycle.ensure_deployed(reservation_id, wait_timeout=600, wait_sleep=5) -> dict
        Waits (through "pay": the explorer notices a payment within about a minute) until deployed.
    lifecycle.cancel_id(reservation_id, wait=True, wait_timeout=600, wait_sleep=5) -> dict
    lifecycle.find(name, kind) -> [reservation]      live reservations with that tag
    lifecycle.find_one(name, kind) -> reservation|None   fails when two are live
    lifecycle.live_reservations() -> [reservation]   every live reservation of the identity
    view(reservation, escrow_information=None) -> dict   the readable form modules return

Failures raise LifecycleError(msg, reservation=view or None, failure=dict or None); its `payment`
attribute holds a payment made before the failure (or None). Modules turn it into
fail_json(msg=..., failure=..., <resource>=...). "Live" = computed next_action in create/sign/pay/deploy.

GridLookup(zmodule, lifecycle) checks what a container refers to: node(node_id) (exists and is up),
network_subnet(name, node_id) (its /24 from a live reservation), volume_id(reference, node_id),
resolve_container(spec) (all of them; volume references become ids).
"""

from __future__ import annotations

import json
import re
import time

from ansible_collections.threefold.grid.plugins.module_utils import _pricing, _spec, _workloads
from ansible_collections.threefold.grid.plugins.module_utils._explorer import (
    NEXT_ACTION,
    NEXT_ACTION_NAMES,
    ExplorerError,
)
from ansible_collections.threefold.grid.plugins.module_utils._payment import PaymentError, pay_escrow
from ansible_collections.threefold.grid.plugins.module_utils._waiter import WaitTimeout, wait_for

LIVE_STATES = ("create", "sign", "pay", "deploy")
# Stored next_action values that can compute to a live state (the list filter uses the stored one).
LIVE_STORED_STATES = (NEXT_ACTION["create"], NEXT_ACTION["sign"], NEXT_ACTION["pay"], NEXT_ACTION["deploy"])
PROVISIONING_SECONDS = 900  # the SDK's default expiration_provisioning window
NODE_UP_SECONDS = 600  # the SDK's filter_is_up: the node reported within the last 10 minutes
GLOBAL_ID_RE = re.compile(r"^(\d+)-(\d+)$")


class LifecycleError(Exception):
    def __init__(self, msg, reservation=None, failure=None):
        super(LifecycleError, self).__init__(msg)
        self.msg = msg
        self.reservation = reservation
        self.failure = failure
        self.payment = None  # a payment made before the failure, so nobody pays again by hand


def state_name(reservation):
    return NEXT_ACTION_NAMES.get(reservation.get("next_action"), str(reservation.get("next_action")))


def data_of(reservation):
    data = reservation.get("data_reservation")
    if isinstance(data, dict):
        return data
    try:
        return json.loads(reservation.get("json") or "{}")
    except ValueError:
        return {}


def tag_of(reservation):
    return _spec.parse_metadata(reservation.get("metadata"))


def first_results(reservation):
    """The first result of each global workload id, as the explorer counts them."""
    firsts = {}
    for result in reservation.get("results") or []:
        firsts.setdefault((result.get("workload_id"), result.get("node_id")), result)
    return list(firsts.values())


def workload_state(reservation):
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


def escrow_view(reservation_id, escrow_information):
    """address, asset, amount (decimal string), memo and per-farm details; None when nothing to pay."""
    if not escrow_information or not escrow_information.get("address"):
        return None
    details = escrow_information.get("details") or []
    total = sum(int(detail.get("total_amount") or 0) for detail in details)
    return {
        "address": escrow_information["address"],
        "asset": escrow_information.get("asset"),
        "amount": _pricing.format_amount(total),
        "total_amount": total,
        "memo": str(reservation_id),
        "details": details,
    }


def view(reservation, escrow_information=None, error=None):
    """The readable form of an explorer reservation that modules return (no secret in it)."""
    data = data_of(reservation)
    tag = tag_of(reservation)
    return {
        "id": reservation.get("id"),
        "name": tag["name"] if tag else None,
        "kind": tag["kind"] if tag else None,
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


def _connections(data_reservation):
    """(network, ip) pairs used by containers and kubernetes VMs."""
    pairs = set()
    for container in data_reservation.get("containers") or []:
        for connection in container.get("network_connection") or []:
            pairs.add((connection.get("network_id"), connection.get("ipaddress")))
    for vm in data_reservation.get("kubernetes") or []:
        pairs.add((vm.get("network_id"), vm.get("ipaddress")))
    return pairs


def shares_an_address(old_data, new_data):
    return bool(_connections(old_data) & _connections(new_data))


class _Waiting(Exception):
    """Raised by the wait predicate to stop waiting early with a verdict."""

    def __init__(self, verdict, reservation):
        super(_Waiting, self).__init__(verdict)
        self.verdict = verdict
        self.reservation = reservation


class ReservationLifecycle:
    def __init__(self, zmodule, clock=time.time, monotonic=time.monotonic, sleep=time.sleep):
        self.zmodule = zmodule
        self._clock = clock
        self._monotonic = monotonic
        self._sleep = sleep
        self._live = None
        self.warnings = []

    @property
    def client(self):
        return self.zmodule.client

    def now(self):
        return int(self._clock())

    # ---- queries -----------------------------------------------------------------------------

    def live_reservations(self, refresh=False):
        """Every live reservation of the identity (computed state), sorted by id; cached per run."""
        if self._live is None or refresh:
            found = {}
            for stored in LIVE_STORED_STATES:
                for reservation in self._call("list the reservations of tid %d" % self.zmodule.tid,
                                              self.client.list_reservations, customer_tid=self.zmodule.tid,
                                              next_action=stored):
                    if state_name(reservation) in LIVE_STATES:
                        found[reservation["id"]] = reservation
            self._live = [found[rid] for rid in sorted(found)]
        return self._live

    def find(self, name, kind):
        result = []
        for reservation in self.live_reservations():
            tag = tag_of(reservation)
            if tag and tag["name"] == name and tag["kind"] == kind:
                result.append(reservation)
        return result

    def find_one(self, name, kind):
        matches = self.find(name, kind)
        if len(matches) > 1:
            raise LifecycleError(
                "%d live reservations are named %r (kind %s): %s; cancel the extra ones (zos_reservation with "
                "id and state=absent) so the name identifies one reservation"
                % (len(matches), name, kind, ", ".join(str(r["id"]) for r in matches)))
        return matches[0] if matches else None

    # ---- building and signing ----------------------------------------------------------------

    def build_data_reservation(self, workloads, expiration, currencies, provisioning_deadline):
        """The data_reservation dict, laid out as the SDK's reservation_register made it."""
        data = {
            "description": "",
            "signing_request_provision": {"signers": [], "quorum_min": 0},
            "signing_request_delete": {"signers": [self.zmodule.tid], "quorum_min": 1},
        }
        lists = _workloads.empty_workload_lists()
        for key, items in workloads.items():
            if key not in lists:
                raise ValueError("unknown workload list %r" % key)
            lists[key] = list(items)
        data.update(lists)
        data["expiration_provisioning"] = int(provisioning_deadline)
        data["expiration_reservation"] = int(expiration)
        data["currencies"] = list(currencies)
        return data

    def signed_body(self, data_reservation, metadata):
        """POST /reservations body: `json` is the exact text signed, `data_reservation` the same object."""
        text = json.dumps(data_reservation)
        return {
            "json": text,
            "data_reservation": data_reservation,
            "customer_tid": self.zmodule.tid,
            "customer_signature": self.zmodule.identity.sign_reservation(text),
            "next_action": NEXT_ACTION["create"],
            "metadata": metadata,
        }

    # ---- explorer actions --------------------------------------------------------------------

    def _call(self, what, func, *args, **kwargs):
        try:
            return func(*args, **kwargs)
        except ExplorerError as error:
            raise LifecycleError("Failed to %s: %s" % (what, error.message), failure=error.to_failure())

    def register(self, data_reservation, metadata):
        body = self.signed_body(data_reservation, metadata)
        known = set(r["id"] for r in self.live_reservations())
        try:
            answer = self.client.create_reservation(body)
        except ExplorerError as error:
            if error.status is None or error.status >= 500:
                self._cancel_orphans(metadata, known)
            raise LifecycleError("Failed to register the reservation: %s" % error.message,
                                 failure=error.to_failure())
        self._live = None
        return int(answer["reservation_id"]), answer.get("escrow_information") or {}

    def _cancel_orphans(self, metadata, known):
        """A lost answer or an escrow error (500) can leave the new reservation stored: cancel it, best effort.

        ``known`` are the ids live before the attempt (a renewal's old reservation carries the same tag).
        """
        try:
            for reservation in self.live_reservations(refresh=True):
                if reservation.get("metadata") == metadata and reservation["id"] not in known:
                    self.cancel(reservation)
        except (ExplorerError, LifecycleError):
            self.warnings.append("could not check for a half-registered reservation tagged %s" % metadata)

    def cancel(self, reservation):
        rid = int(reservation["id"])
        signature = self.zmodule.identity.sign_reservation_action(rid, reservation["json"])
        self._call("cancel reservation %d" % rid, self.client.sign_delete, rid, self.zmodule.tid, signature)
        self._live = None

    def get(self, rid):
        return self._call("read reservation %d" % rid, self.client.get_reservation, rid)

    def pay(self, rid, escrow_information, payment):
        if not payment or not escrow_information or not escrow_information.get("address"):
            return None
        try:
            return pay_escrow(self.zmodule, rid, escrow_information, payment, False)
        except PaymentError as error:
            raise LifecycleError(error.msg,
                                 reservation=view(self.get(rid), escrow_information),
                                 failure=error.to_failure())

    # ---- waiting -----------------------------------------------------------------------------

    def wait_deployed(self, rid, timeout, sleep, paying, escrow_information=None):
        """Poll until every workload has a result.

        Returns ``(reservation, "deployed" | "pay")`` ("pay" when nobody is paying). Raises
        LifecycleError with the first node error seen (later polls show it as "deleted" with the
        message kept), when the reservation goes to delete, or on timeout (last state included).
        """
        latched = {}

        def done(reservation):
            state = state_name(reservation)
            for result in first_results(reservation):
                if result.get("state") == _workloads.RESULT_STATES["error"] and "error" not in latched:
                    latched["error"] = result
            if "error" in latched:
                raise _Waiting("error", reservation)
            if state in ("delete", "deleted"):
                for result in first_results(reservation):
                    if result.get("message"):
                        latched["error"] = result
                        raise _Waiting("error", reservation)
                raise _Waiting(state, reservation)
            if state == "pay" and not paying:
                raise _Waiting("pay", reservation)
            return state == "deploy" and workload_state(reservation) == "ok"

        try:
            reservation = self._wait(rid, done, timeout, sleep, "reservation %d to be deployed" % rid,
                                     escrow_information)
        except _Waiting as stop:
            if stop.verdict == "pay":
                return stop.reservation, "pay"
            if stop.verdict == "error":
                result = latched["error"]
                error = {"workload_id": result.get("workload_id"), "node_id": result.get("node_id"),
                         "category": _workloads.WORKLOAD_TYPE_NAMES.get(result.get("category")),
                         "message": result.get("message")}
                raise LifecycleError(
                    "Reservation %d failed on node %s (workload %s): %s"
                    % (rid, error["node_id"], error["workload_id"], error["message"]),
                    reservation=view(stop.reservation, escrow_information, error=error))
            raise LifecycleError(
                "Reservation %d moved to %s before it was deployed (cancelled, expired or its provisioning "
                "deadline passed)" % (rid, stop.verdict),
                reservation=view(stop.reservation, escrow_information))
        return reservation, "deployed"

    def wait_deleted(self, rid, timeout, sleep):
        return self._wait(rid, lambda r: state_name(r) == "deleted", timeout, sleep,
                          "reservation %d to be deleted" % rid)

    def _wait(self, rid, done, timeout, sleep, what, escrow_information=None):
        try:
            return wait_for(lambda: self.client.get_reservation(rid), done, timeout, sleep=sleep, what=what,
                            clock=self._monotonic, sleep_func=self._sleep)
        except WaitTimeout as error:
            last = error.last_state
            described = "never read" if last is None else "%s, workloads %s" % (state_name(last), workload_state(last))
            raise LifecycleError("%s (last state: %s)" % (error, described),
                                 reservation=view(last, escrow_information) if last else None)
        except ExplorerError as error:
            raise LifecycleError("Failed to read reservation %d: %s" % (rid, error.message),
                                 failure=error.to_failure())

    # ---- desired states ----------------------------------------------------------------------

    def fingerprint(self, spec, life, currencies):
        seed = bytes.fromhex(self.zmodule.identity.seed_hex)
        return _spec.fingerprint({"spec": spec, "lifetime": life, "currencies": currencies}, seed)

    def _needs_renewal(self, reservation, renew_before):
        if not renew_before:
            return False
        return int(data_of(reservation).get("expiration_reservation") or 0) - self.now() <= renew_before

    def ensure_present(self, name, kind, workloads, spec, lifetime, currencies=None, wait=True, wait_timeout=600,
                       wait_sleep=5, payment=None, renew_before=None, cancel_first=None):
        life = {"expires_at": int(lifetime)} if isinstance(lifetime, int) else dict(lifetime)
        currencies = _spec.normalise_currencies(currencies)
        fp = self.fingerprint(spec, life, currencies)
        metadata = _spec.metadata_tag(name, kind, fp)
        old = self.find_one(name, kind)
        old_tag = tag_of(old) if old else None
        result = {"changed": False, "action": "none", "replaced": [], "estimate": None, "payment": None,
                  "warnings": self.warnings}

        unchanged = old is not None and old_tag.get("fp") == fp and not self._needs_renewal(old, renew_before)
        unpayable = unchanged and state_name(old) == "pay" and bool(payment)
        if unpayable:
            # The escrow details only come back from POST /reservations: an unpaid reservation found
            # on a later run can not be paid, so it is registered again and the unpaid one cancelled.
            self.warnings.append("reservation %d is still waiting for payment and its escrow details are only "
                                 "known at registration: registering it again" % old["id"])
        if unchanged and not unpayable:
            current = view(old)
            result["diff"] = {"before": self._described(old), "after": self._described(old)}
            if wait and not self.zmodule.check_mode and current["state"] == "deploy" and current["workload_state"] != "ok":
                current = view(self.wait_deployed(old["id"], wait_timeout, wait_sleep, paying=True)[0])
            elif current["state"] == "pay":
                self.warnings.append("reservation %d is waiting for payment; pay it with threefold.grid.zos_payment "
                                     "or the payment option (escrow details are in the registration result)"
                                     % old["id"])
            result["reservation"] = current
            return result

        now = self.now()
        expiration = _spec.expiration_epoch(life, now)
        built = workloads() if callable(workloads) else workloads
        deadline = now + max(PROVISIONING_SECONDS, int(wait_timeout or 0) + 60)
        data = self.build_data_reservation(built, expiration, currencies, deadline)
        action = "create" if old is None else ("replace" if old_tag.get("fp") != fp or unpayable else "renew")
        result.update(changed=True, action=action)
        result["diff"] = {"before": self._described(old) if old else {}, "after": self._describe_data(data)}
        result["estimate"] = self.estimate(data, now)
        if self.zmodule.check_mode:
            result["reservation"] = None
            result["replaced"] = [old["id"]] if old else []
            return result

        if old is not None:
            first = shares_an_address(data_of(old), data) if cancel_first is None else bool(cancel_first)
            if first:
                self.cancel(old)
                self.wait_deleted(old["id"], wait_timeout, wait_sleep)
                result["replaced"].append(old["id"])

        rid, escrow_information = self.register(data, metadata)
        keeping_old = old is not None and old["id"] not in result["replaced"]
        try:
            result["payment"] = self.pay(rid, escrow_information, payment)
            if wait:
                reservation, outcome = self.wait_deployed(rid, wait_timeout, wait_sleep, paying=bool(payment),
                                                          escrow_information=escrow_information)
        except LifecycleError as error:
            error.payment = result["payment"]
            if keeping_old:
                error.msg = self._drop_replacement(rid, error.msg, old["id"])
            raise
        if wait:
            if outcome == "pay":
                self.warnings.append("reservation %d is waiting for payment of %s" % (
                    rid, (escrow_view(rid, escrow_information) or {}).get("amount")))
        else:
            reservation = self.get(rid)
        if old is not None and old["id"] not in result["replaced"]:
            self.cancel(old)
            result["replaced"].append(old["id"])
            if wait:
                self.wait_deleted(old["id"], wait_timeout, wait_sleep)
        result["reservation"] = view(reservation, escrow_information)
        return result

    def ensure_absent(self, name, kind, wait=True, wait_timeout=600, wait_sleep=5):
        live = self.find(name, kind)
        result = {"changed": bool(live), "cancelled": [r["id"] for r in live], "reservations": [],
                  "diff": {"before": self._described(live[0]) if live else {}, "after": {}},
                  "warnings": self.warnings}
        if self.zmodule.check_mode:
            result["reservations"] = [view(r) for r in live]
            return result
        for reservation in live:
            self.cancel(reservation)
        for reservation in live:
            final = self.wait_deleted(reservation["id"], wait_timeout, wait_sleep) if wait else self.get(reservation["id"])
            result["reservations"].append(view(final))
        return result

    def ensure_deployed(self, reservation_id, wait_timeout=600, wait_sleep=5):
        """Wait for an existing reservation (e.g. paid with zos_payment) to be deployed."""
        reservation = self.get(reservation_id)
        if not self.zmodule.check_mode:
            reservation = self.wait_deployed(reservation_id, wait_timeout, wait_sleep, paying=True)[0]
        return {"changed": False, "reservation": view(reservation), "warnings": self.warnings}

    def cancel_id(self, reservation_id, wait=True, wait_timeout=600, wait_sleep=5):
        reservation = self.get(reservation_id)
        if int(reservation.get("customer_tid") or 0) != self.zmodule.tid:
            raise LifecycleError("Reservation %d belongs to tid %s, not to this identity (tid %d)"
                                 % (reservation_id, reservation.get("customer_tid"), self.zmodule.tid))
        live = state_name(reservation) in LIVE_STATES
        result = {"changed": live, "cancelled": [reservation_id] if live else [],
                  "diff": {"before": self._described(reservation) if live else {}, "after": {}},
                  "warnings": self.warnings}
        if live and not self.zmodule.check_mode:
            self.cancel(reservation)
            reservation = self.wait_deleted(reservation_id, wait_timeout, wait_sleep) if wait else self.get(reservation_id)
        elif wait and state_name(reservation) == "delete" and not self.zmodule.check_mode:
            reservation = self.wait_deleted(reservation_id, wait_timeout, wait_sleep)
        result["reservation"] = view(reservation)
        return result

    # ---- helpers -----------------------------------------------------------------------------

    def _drop_replacement(self, rid, msg, old_id):
        """A replacement that did not deploy is cancelled, so the old reservation stays the only live one."""
        try:
            replacement = self.get(rid)
            if state_name(replacement) in LIVE_STATES:
                self.cancel(replacement)
        except LifecycleError as error:
            return "%s; cancelling the replacement %d failed too (%s), so two live reservations carry this " \
                   "name: cancel one of them" % (msg, rid, error.msg)
        return "%s; the replacement %d was cancelled and reservation %d is kept" % (msg, rid, old_id)

    def _described(self, reservation):
        return self._describe_data(data_of(reservation))

    @staticmethod
    def _describe_data(data):
        described = _workloads.describe_workloads(data)
        described["expires_at"] = data.get("expiration_reservation")
        described["currencies"] = data.get("currencies") or []
        return described

    def estimate(self, data_reservation, now):
        """Escrow estimate; nodes are read for their farm (and free_to_use)."""
        farms = {}
        free = True
        for node_id in _workloads.workload_nodes(data_reservation):
            node = self._call("read node %s" % node_id, self.client.get_node, node_id)
            farms[node_id] = node.get("farm_id")
            free = free and bool(node.get("free_to_use"))
        estimate = _pricing.estimate(data_reservation, farms, now)
        if free and "FreeTFT" in (data_reservation.get("currencies") or []):
            estimate["currency"] = "FreeTFT"
        return estimate


class GridLookup:
    """What a container refers to, checked against the explorer before anything is signed."""

    def __init__(self, zmodule, lifecycle):
        self.zmodule = zmodule
        self.lifecycle = lifecycle
        self._nodes = {}

    def node(self, node_id, option="node_id"):
        """The node record; fails when unknown or not seen for 10 minutes."""
        if node_id not in self._nodes:
            try:
                node = self.zmodule.client.get_node(node_id)
            except ExplorerError as error:
                if error.status == 404:
                    raise LifecycleError("%s: %r is not a node known to the explorer" % (option, node_id))
                raise LifecycleError("Failed to read node %s: %s" % (node_id, error.message),
                                     failure=error.to_failure())
            updated = int(node.get("updated") or 0)
            if updated < self.lifecycle.now() - NODE_UP_SECONDS:
                raise LifecycleError("%s: node %r is down (last seen at %d, more than 10 minutes ago)"
                                     % (option, node_id, updated))
            self._nodes[node_id] = node
        return self._nodes[node_id]

    def network_subnet(self, network_name, node_id, option="network_connection.name"):
        """The /24 of ``network_name`` on ``node_id``, from the newest live reservation that has it."""
        seen_elsewhere = []
        for reservation in reversed(self.lifecycle.live_reservations()):
            for network in data_of(reservation).get("networks") or []:
                if network.get("name") != network_name:
                    continue
                for resource in network.get("network_resources") or []:
                    if resource.get("node_id") == node_id:
                        return resource.get("iprange")
                    seen_elsewhere.append(resource.get("node_id"))
        if seen_elsewhere:
            raise LifecycleError("%s: network %r has no resource on node %s (it spans %s); add the node to the "
                                 "network first" % (option, network_name, node_id, ", ".join(sorted(set(seen_elsewhere)))))
        raise LifecycleError("%s: no live network named %r belongs to this identity; create it first "
                             "(threefold.grid.zos_network)" % (option, network_name))

    def volume_id(self, reference, node_id, option):
        """``<rid>-<wid>`` of a live volume on ``node_id`` given by id or by zos_volume name."""
        match = GLOBAL_ID_RE.match(reference)
        if match:
            rid, wid = int(match.group(1)), int(match.group(2))
            candidates = [r for r in self.lifecycle.live_reservations() if r["id"] == rid]
            volumes = [v for r in candidates for v in data_of(r).get("volumes") or [] if v.get("workload_id") == wid]
            if not volumes:
                raise LifecycleError("%s: %r is not a volume of a live reservation of this identity" % (option, reference))
        else:
            matches = self.lifecycle.find(reference, "volume")
            if len(matches) > 1:
                raise LifecycleError("%s: %d live volume reservations are named %r: %s"
                                     % (option, len(matches), reference, ", ".join(str(r["id"]) for r in matches)))
            volumes = [v for r in matches for v in data_of(r).get("volumes") or []]
            if not volumes:
                raise LifecycleError("%s: no live volume named %r belongs to this identity (create it with "
                                     "threefold.grid.zos_volume)" % (option, reference))
            rid = matches[0]["id"]
        on_node = [v for v in volumes if v.get("node_id") == node_id]
        if not on_node:
            raise LifecycleError("%s: volume %r is on node %s, not on node %s"
                                 % (option, reference, volumes[0].get("node_id"), node_id))
        return _workloads.global_workload_id(rid, on_node[0]["workload_id"])

    def resolve_container(self, spec, prefix="", local_networks=None, local_volumes=None):
        """Check a normalised container spec against the grid; volume references become ids in place.

        ``local_networks`` maps a network name of the same reservation to ``{node_id: /24}``;
        ``local_volumes`` maps a volume name of the same reservation to ``(workload_id, node_id)``
        (mounted as ``-<workload_id>``, which the node completes with the reservation id).
        """
        node_id = spec["node_id"]
        self.node(node_id, prefix + "node_id")
        network = spec["network_connection"]
        if local_networks and network["name"] in local_networks:
            subnet = local_networks[network["name"]].get(node_id)
            if subnet is None:
                raise LifecycleError("%snetwork_connection.name: network %r of this reservation has no resource on node %s"
                                     % (prefix, network["name"], node_id))
        else:
            subnet = self.network_subnet(network["name"], node_id, prefix + "network_connection.name")
        try:
            _spec.ip_in_node_subnet(network["ip_address"], subnet, prefix + "network_connection.ip_address")
        except _spec.SpecError as error:
            raise LifecycleError(str(error))
        for index, volume in enumerate(spec["volumes"]):
            option = "%svolumes[%d].volume" % (prefix, index)
            reference = volume["volume"]
            if local_volumes and reference in local_volumes:
                workload_id, volume_node = local_volumes[reference]
                if volume_node != node_id:
                    raise LifecycleError("%s: volume %r is on node %s, not on node %s"
                                         % (option, reference, volume_node, node_id))
                volume["volume"] = "-%d" % workload_id
            else:
                volume["volume"] = self.volume_id(reference, node_id, option)
        return spec
