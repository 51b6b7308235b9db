# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""Waiting for a reservation: until its nodes run every workload, or until it is deleted.

Every wait polls ``GET /reservations/<id>`` on _waiter.poll_pause()'s schedule, with ``wait_sleep`` as the
longest pause: at once, every 0.1 s for the first 2 s, then a quarter of the time waited so far, up to
``wait_sleep``. A deployment T seconds into the wait is seen at most 0.1 s late while T < 2 s, at most T/4
late afterwards (never more than ``wait_sleep``); the previous schedule (0.1 s growing by half) saw it up to
T/2 late, e.g. localgrid's container, deployed about 1 s after its registration, 0.28 s late. A 60 s wait
costs 40 polls (previously 21), a 300 s wait 88 (69); _waiter.py's docstring has the table and the reasons.

Failures (a node's error, a cancelled or expired reservation, a timeout) raise LifecycleError with
the reservation's view as far as it got.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, Optional, Tuple

from ansible_collections.threefold.grid.plugins.module_utils._errors import ExplorerError, LifecycleError
from ansible_collections.threefold.grid.plugins.module_utils._session import GridSession
from ansible_collections.threefold.grid.plugins.module_utils._views import (
    Reservation,
    first_results,
    result_error,
    state_name,
    view,
    workload_state,
)
from ansible_collections.threefold.grid.plugins.module_utils._waiter import WaitTimeout, wait_for
from ansible_collections.threefold.grid.plugins.module_utils._workloads import RESULT_STATES


class Verdict(Exception):
    """Raised by the wait predicate to stop waiting early: "pay", "error" (with the result) or a final state."""

    def __init__(self, verdict: str, reservation: Reservation, result: Optional[Dict[str, Any]] = None) -> None:
        super(Verdict, self).__init__(verdict)
        self.verdict = verdict
        self.reservation = reservation
        self.result = result


def deployed_predicate(paying: bool) -> Callable[[Reservation], bool]:
    """done(reservation) for wait_for; the first node error seen is kept (later polls show it as "deleted")."""
    latched: Dict[str, Dict[str, Any]] = {}

    def done(reservation: Reservation) -> bool:
        state = state_name(reservation)
        for result in first_results(reservation):
            if result.get("state") == RESULT_STATES["error"]:
                latched.setdefault("error", result)
        if "error" in latched:
            raise Verdict("error", reservation, latched["error"])
        if state in ("delete", "deleted"):
            for result in first_results(reservation):
                if result.get("message"):
                    raise Verdict("error", reservation, result)
            raise Verdict(state, reservation)
        if state == "pay" and not paying:
            raise Verdict("pay", reservation)
        return state == "deploy" and workload_state(reservation) == "ok"
    return done


def verdict_outcome(rid: int, stop: Verdict, escrow_information: Optional[Dict[str, Any]] = None
                    ) -> Tuple[Reservation, str]:
    """``(reservation, "pay")`` for a reservation nobody pays; LifecycleError for a node's error or an end."""
    if stop.verdict == "pay":
        return stop.reservation, "pay"
    if stop.verdict == "error":
        error = result_error(stop.result)
        raise LifecycleError(
            "Reservation %d failed on node %s (workload %s): %s"
            % (rid, error["node_id"], error["workload_id"], error["message"]),
            reservation=view(stop.reservation, escrow_information, error=error))
    raise LifecycleError(
        "Reservation %d moved to %s before it was deployed (cancelled, expired or its provisioning "
        "deadline passed)" % (rid, stop.verdict),
        reservation=view(stop.reservation, escrow_information))


def timed_out(error: WaitTimeout, escrow_information: Optional[Dict[str, Any]] = None) -> LifecycleError:
    """The LifecycleError of a wait that timed out, with the last state read."""
    last = error.last_state
    described = "never read" if last is None else "%s, workloads %s" % (state_name(last), workload_state(last))
    return LifecycleError("%s (last state: %s)" % (error, described),
                          reservation=view(last, escrow_information) if last else None)


class ReservationWaiter:
    def __init__(self, session: GridSession, monotonic: Optional[Callable[[], float]] = None,
                 sleep: Optional[Callable[[float], None]] = None) -> None:
        self.session = session
        # Looked up when built, so that tests can patch time.sleep.
        self.monotonic = monotonic or time.monotonic
        self._sleep = sleep or time.sleep

    def wait_deployed(self, rid: int, timeout: int, sleep: int, paying: bool,
                      escrow_information: Optional[Dict[str, Any]] = None) -> Tuple[Reservation, str]:
        """Poll until every workload has a result: ``(reservation, "deployed" | "pay")``.

        "pay" when nobody is paying and the reservation waits for payment. Raises LifecycleError with the
        first node error seen, when the reservation goes to delete, or on timeout (last state included).
        """
        try:
            return self._wait(rid, deployed_predicate(paying), timeout, sleep,
                              "reservation %d to be deployed" % rid, escrow_information), "deployed"
        except Verdict as stop:
            return verdict_outcome(rid, stop, escrow_information)

    def wait_past_payment(self, rid: int, timeout: float, sleep: int) -> Optional[Reservation]:
        """The reservation once it no longer waits for payment, or None when it still does after ``timeout``."""
        try:
            return self._poll(rid, lambda r: state_name(r) != "pay", timeout, sleep, "reservation %d to be paid" % rid)
        except WaitTimeout:
            return None
        except ExplorerError as error:
            raise LifecycleError.during("Failed to read reservation %d" % rid, error) from None

    def wait_deleted(self, rid: int, timeout: int, sleep: int) -> Reservation:
        return self._wait(rid, lambda r: state_name(r) == "deleted", timeout, sleep, "reservation %d to be deleted" % rid)

    def _poll(self, rid: int, done: Callable[[Reservation], bool], timeout: float, sleep: int, what: str) -> Reservation:
        """Read the reservation until ``done``: soon at first, then backing off up to ``sleep``."""
        return wait_for(lambda: self.session.client.get_reservation(rid), done, timeout, sleep, what=what,
                        clock=self.monotonic, sleep_func=self._sleep)

    def _wait(self, rid: int, done: Callable[[Reservation], bool], timeout: int, sleep: int, what: str,
              escrow_information: Optional[Dict[str, Any]] = None) -> Reservation:
        try:
            return self._poll(rid, done, timeout, sleep, what)
        except WaitTimeout as error:
            raise timed_out(error, escrow_information) from None
        except ExplorerError as error:
            raise LifecycleError.during("Failed to read reservation %d" % rid, error) from None
