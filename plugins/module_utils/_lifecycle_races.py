# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""The lifecycle's answers to other runs on the same name (docs/CONCURRENCY.md G3-G5): functions of a
ReservationLifecycle (_lifecycle.py), whose state and helpers (runs, registrar, waiter, keep, pay_and_wait)
they use. Most tasks never meet another run's reservation, so the lifecycle loads them only when one does:

    await_payment   wait for a payment that may be in flight instead of paying again
    unpaid          an unpaid reservation nobody pays: paid when its escrow is recovered, else replaced
    retire_extras   other live reservations of the name than the one kept
    give_way        this run's reservation is not the one kept: cancel it, adopt the kept one or fail
    pay_existing    pay an unpaid reservation a stopped run registered
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional

from ansible_collections.threefold.grid.plugins.module_utils._errors import LifecycleError
from ansible_collections.threefold.grid.plugins.module_utils._kept_reservation import Verdict
from ansible_collections.threefold.grid.plugins.module_utils._lifecycle_types import Decision, Outcome, Superseded
from ansible_collections.threefold.grid.plugins.module_utils._views import (
    LIVE_STATES,
    Reservation,
    describe,
    state_name,
    tag_of,
    view,
)

if TYPE_CHECKING:
    from ansible_collections.threefold.grid.plugins.module_utils._lifecycle import ReservationLifecycle


def await_payment(lifecycle: ReservationLifecycle, decision: Decision, wait: bool, wait_timeout: int,
                  wait_sleep: int, payment: Dict[str, Any]) -> Optional[Outcome]:
    """Wait for a payment in flight instead of paying again; None when the decision became another one.

    A young reservation is waited on until it is the pay window old (then nobody is paying it: it is paid
    or registered again, see unpaid()); one this wallet paid is waited on for wait_timeout, and never
    registered again.
    """
    old = decision.old
    age = lifecycle.now() - int(old.get("epoch") or 0)
    window = lifecycle.runs.window
    paid = age >= window  # only reached then because the wallet's history holds its memo
    lifecycle.session.warn("reservation %d waits for a payment that may be in flight (%s): waiting for it instead "
                           "of paying again" % (old["id"], "this wallet paid its memo" if paid else
                                                "registered %ds ago" % age))
    if lifecycle.session.check_mode:
        return Outcome(False, "none", reservation=view(old), diff={"before": describe(old), "after": describe(old)})
    current = lifecycle.waiter.wait_past_payment(old["id"], wait_timeout if paid else min(wait_timeout, window - age),
                                                 wait_sleep)
    if current is None and paid:
        raise LifecycleError("reservation %d was paid by this wallet, but the explorer still shows it waiting for "
                             "payment after %ds; it is not registered again: re-run later" % (old["id"], wait_timeout),
                             reservation=view(old))
    if current is not None and state_name(current) in LIVE_STATES:
        return lifecycle.keep(current, wait, wait_timeout, wait_sleep)
    if current is None:
        lifecycle.session.warn("nobody paid reservation %d within %ds of its registration" % (old["id"], window))
        unpaid(lifecycle, decision, payment)
    else:  # cancelled or expired meanwhile
        decision.old, decision.action = None, "create"
    return None


def unpaid(lifecycle: ReservationLifecycle, decision: Decision, payment: Dict[str, Any]) -> Decision:
    """An unpaid reservation nobody is paying (registered by a run that stopped): paid when its escrow details
    can be recovered (_escrow_recovery.py), else registered again and the unpaid one cancelled."""
    old = decision.old
    escrow, how = lifecycle.registrar.recover_escrow(old, payment)
    if escrow is None:
        lifecycle.session.warn("reservation %d is still waiting for payment and its escrow details can not be "
                               "recovered (%s): registering it again" % (old["id"], how))
        decision.action, decision.unpayable = "replace", True
        return decision
    lifecycle.session.warn("reservation %d, registered by a run that did not pay it, is paid now with %s" % (
        old["id"], how))
    decision.action, decision.escrow = "pay_existing", escrow
    return decision


def retire_extras(lifecycle: ReservationLifecycle, decision: Decision, payment: Optional[Dict[str, Any]]) -> None:
    """Other live reservations of the name than the one kept: another run's, which that run cancels or replaces,
    or left unpaid by a run that stopped, cancelled here once nobody can be paying it (G3)."""
    lifecycle.session.warn("%d live reservations carry this name (%s): reservation %d is the one kept; the others "
                           "are cancelled by the runs that registered them, or here when unpaid and %ds old" % (
                               len(decision.extras) + 1,
                               ", ".join(str(r["id"]) for r in [decision.old] + decision.extras),
                               decision.old["id"], lifecycle.runs.window))
    if lifecycle.session.check_mode:
        return
    for extra in decision.extras:
        if state_name(extra) in ("sign", "pay") and not lifecycle.payment_in_flight(extra, payment):
            lifecycle.registrar.cancel(extra)


def give_way(lifecycle: ReservationLifecycle, rid: int, verdict: Verdict, outcome: Outcome, old: Optional[Reservation],
             payment: Optional[Dict[str, Any]], wait: bool, wait_timeout: int, wait_sleep: int) -> Outcome:
    """Another run's reservation of this name is the one kept: cancel ours (never paid) and adopt theirs when it
    has the same spec, waiting for its payment rather than paying it; fail when a newer spec won."""
    other = verdict.other
    lifecycle.runs.cancel_own(rid)
    what = "%s %r" % ((tag_of(other) or {}).get("kind"), (tag_of(other) or {}).get("name"))
    if verdict.action == "yield":
        raise LifecycleError("another run registered reservation %d for %s with a different spec at the same time; "
                             "the newest registration wins, so this run cancelled its own reservation %d and paid "
                             "nothing: re-run to apply this task's spec" % (other["id"], what, rid),
                             reservation=view(other))
    lifecycle.session.warn("another run registered reservation %d for %s with the same spec at the same time: this "
                           "run cancelled its own reservation %d (unpaid) and keeps %d"
                           % (other["id"], what, rid, other["id"]))
    current: Optional[Reservation] = other
    if state_name(other) == "pay" and payment and wait:
        current = lifecycle.waiter.wait_past_payment(other["id"], wait_timeout, wait_sleep)
        if current is None:
            raise LifecycleError("reservation %d, registered with the same spec by another run at the same time, still "
                                 "waits for payment after %ds; this run cancelled its own reservation %d and paid "
                                 "nothing. Re-run: once it is %ds old and unpaid, a run pays it or replaces it"
                                 % (other["id"], wait_timeout, rid, lifecycle.runs.window), reservation=view(other))
    if state_name(current) not in LIVE_STATES:
        raise LifecycleError("reservation %d, registered with the same spec by another run at the same time, was "
                             "cancelled or expired (next_action %s); this run cancelled its own reservation %d and "
                             "paid nothing: re-run" % (other["id"], state_name(current), rid),
                             reservation=view(current))
    outcome.reservation = lifecycle.keep(current, wait, wait_timeout, wait_sleep).reservation
    kept = outcome.reservation
    if old is not None and old["id"] != other["id"] and (kept["state"], kept["workload_state"]) == ("deploy", "ok"):
        # What this run set out to replace goes once the kept one runs (its own run may be gone).
        if lifecycle.runs.retire(old, payment, wait_timeout, wait_sleep):
            outcome.replaced.append(old["id"])
    return outcome


def pay_existing(lifecycle: ReservationLifecycle, decision: Decision, payment: Optional[Dict[str, Any]], wait: bool,
                 wait_timeout: int, wait_sleep: int) -> Outcome:
    """Pay the unpaid reservation a stopped run registered (escrow details recovered), instead of replacing it."""
    old = decision.old
    outcome = Outcome(True, "create", diff={"before": {}, "after": describe(old)})
    if lifecycle.session.check_mode:
        outcome.reservation = view(old, decision.escrow)
        return outcome
    tag = tag_of(old)
    try:
        reservation = lifecycle.pay_and_wait(old["id"], decision.escrow, payment, wait, wait_timeout, wait_sleep,
                                             outcome, None,
                                             lifecycle.runs.guard(old["id"], tag["name"], tag["kind"], decision.fp))
    except Superseded as superseded:
        other = superseded.verdict.other
        raise LifecycleError("another run registered reservation %d for %s %r at the same time, so reservation %d "
                             "was not paid: re-run" % (other["id"], tag["kind"], tag["name"], old["id"]),
                             reservation=view(other)) from None
    outcome.reservation = view(reservation, decision.escrow)
    return outcome
