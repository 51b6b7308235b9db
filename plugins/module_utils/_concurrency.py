# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""Several runs on one name at once, without a lock server (the argument is in docs/CONCURRENCY.md).

After registering, and again just before paying, a run lists the live reservations tagged with the name
and kind (fresh, never the name index) and judges them with the rule of _kept_reservation.py: this run's
reservation is the one kept ("proceed"), or another one with the same fingerprint is ("adopt": cancel ours,
wait for its payment, never pay it), or a newer intent won ("yield": cancel ours and fail). A reservation is never cancelled while a payment for it may be in
flight: ``retire`` waits for one younger than the pay window (PAY_WINDOW, or $TFGRID_PAY_WINDOW seconds),
or that the wallet paid, to leave "pay" first.
"""

from __future__ import annotations

import os
import time
from typing import Any, Callable, Dict, Iterable, Mapping, Optional

from ansible_collections.threefold.grid.plugins.module_utils._errors import LifecycleError
from ansible_collections.threefold.grid.plugins.module_utils._kept_reservation import Verdict, judge
from ansible_collections.threefold.grid.plugins.module_utils._lifecycle_types import Superseded
from ansible_collections.threefold.grid.plugins.module_utils._lookup import Reservations
from ansible_collections.threefold.grid.plugins.module_utils._registration import Registrar
from ansible_collections.threefold.grid.plugins.module_utils._reservation_wait import ReservationWaiter
from ansible_collections.threefold.grid.plugins.module_utils._session import GridSession
from ansible_collections.threefold.grid.plugins.module_utils._views import LIVE_STATES, Reservation, state_name

PAY_WINDOW = 300  # seconds a run may take from registering to paying (retries under faults included)
PAY_WINDOW_VARIABLE = "TFGRID_PAY_WINDOW"


def pay_window(environ: Optional[Mapping[str, str]] = None) -> int:
    """PAY_WINDOW, or ``$TFGRID_PAY_WINDOW`` seconds (for grids and tests where every run pays sooner)."""
    text = (os.environ if environ is None else environ).get(PAY_WINDOW_VARIABLE)
    if not text:
        return PAY_WINDOW
    try:
        seconds = int(text)
    except ValueError:
        seconds = 0
    if seconds < 1:
        raise LifecycleError("%s must be a whole number of seconds, at least 1 (the time a run may take from "
                             "registering a reservation to paying it), not %r" % (PAY_WINDOW_VARIABLE, text))
    return seconds


class ConcurrentRuns:
    def __init__(self, session: GridSession, reservations: Reservations, registrar: Registrar,
                 waiter: ReservationWaiter, clock: Callable[[], float] = time.time) -> None:
        self.session = session
        self.reservations = reservations
        self.registrar = registrar
        self.waiter = waiter
        self._clock = clock

    @property
    def window(self) -> int:
        return pay_window()

    def age(self, reservation: Reservation) -> int:
        return int(self._clock()) - int(reservation.get("epoch") or 0)

    def payment_in_flight(self, reservation: Reservation, payment: Optional[Dict[str, Any]]) -> bool:
        """Whether an unpaid reservation is younger than a run needs to pay it, or the wallet already paid its memo."""
        if self.age(reservation) < self.window:
            return True
        return bool(payment) and self.registrar.memo_paid(reservation, payment)

    def settle(self, mine: int, name: str, kind: str, fp: str, ignored: Iterable[int] = ()) -> Verdict:
        """judge() on a fresh listing of the live reservations tagged {name, kind}."""
        self.reservations.live(refresh=True)
        return judge(self.reservations.find(name, kind), mine, fp, ignored)

    def guard(self, mine: int, name: str, kind: str, fp: str,
              ignored: Iterable[int] = ()) -> Callable[[], Optional[Reservation]]:
        """What the payment calls just before signing: raises Superseded unless ``mine`` is still the one kept, else
        returns ``mine`` as the fresh listing showed it (the payment's re-read, G2), None if it holds no copy."""
        ignored = list(ignored)

        def still_kept() -> Optional[Reservation]:
            verdict = self.settle(mine, name, kind, fp, ignored)
            if verdict.action != "proceed":
                raise Superseded(verdict)
            return self.reservations.listed(mine)
        return still_kept

    def retire(self, reservation: Reservation, payment: Optional[Dict[str, Any]], wait_timeout: int,
               wait_sleep: int) -> bool:
        """Cancel a live reservation this run replaces; False when it is no longer live or a payment for it may
        still land (then it is left alone: a cancel refunds only what the escrow holds at that moment)."""
        rid = int(reservation["id"])
        current = reservation  # a listing's or decision's read: re-read only when it may be being paid
        deadline = self.waiter.monotonic() + max(0, int(wait_timeout or 0))
        while state_name(current) == "pay" and self.payment_in_flight(current, payment):
            remaining = deadline - self.waiter.monotonic()
            if remaining <= 0:
                self.session.warn("reservation %d is replaced but a payment for it may still land (registered %ds "
                                  "ago, or this wallet paid its memo): it is not cancelled; cancel it with "
                                  "threefold.grid.zos_reservation (id, state=absent) once it is paid"
                                  % (rid, self.age(current)))
                return False
            window = self.window - self.age(current)
            seen = self.waiter.wait_past_payment(rid, min(remaining, window) if window > 0 else remaining, wait_sleep)
            current = seen if seen is not None else self.reservations.get(rid)
        if state_name(current) not in LIVE_STATES:
            return False
        self.registrar.cancel(current)
        return True

    def cancel_own(self, rid: int) -> None:
        """Cancel this run's reservation, which it has not paid (its runs never pay one that is not kept)."""
        own = self.reservations.get(rid)
        if state_name(own) in LIVE_STATES:
            self.registrar.cancel(own)
