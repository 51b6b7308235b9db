# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""Waiting for many reservations of the identity at once: zos_containers' wait pass.

    worthwhile(waiting, live) -> bool
    BatchWaiter(session).wait_all_deployed({reservation id: paying}, timeout, max_pause)
        -> {reservation id: (reservation, "deployed" | "pay") or the LifecycleError ReservationWaiter would raise}

Each poll lists the identity's live reservations (one request per stored state that can be live, however many are
waited for) instead of reading every waited one; a waited one the listing no longer holds (deleted: a node's
error, a cancellation, an expiry) is read on its own, so that its outcome is the one ReservationWaiter gives.
The polls follow the schedule of every wait (_waiter.poll_pause), within one timeout for all.

A listing costs what it lists: it pays off when the reservations waited for are a good part of the identity's
live ones. worthwhile() says when: at least LISTING_MIN waited for, and at most LISTED_PER_WAITED live reservations
listed per waited one, judged again at each poll for those still waited for, so the last few are read on their
own. Otherwise each waits on its own (100 waits of one container poll 100 reads at a time).
"""

from __future__ import annotations

from typing import Dict, Tuple, Union

from ansible_collections.threefold.grid.plugins.module_utils._errors import ExplorerError, LifecycleError
from ansible_collections.threefold.grid.plugins.module_utils._lookup import live_reservations
from ansible_collections.threefold.grid.plugins.module_utils._reservation_wait import (
    ReservationWaiter,
    Verdict,
    deployed_predicate,
    timed_out,
    verdict_outcome,
)
from ansible_collections.threefold.grid.plugins.module_utils._views import Reservation
from ansible_collections.threefold.grid.plugins.module_utils._waiter import WaitTimeout, wait_for

LISTING_MIN = 10
LISTED_PER_WAITED = 4

Outcome = Union[Tuple[Reservation, str], LifecycleError]


def worthwhile(waiting: int, live: int) -> bool:
    """Whether ``waiting`` reservations are better waited for through listings of the identity's ``live`` ones."""
    return waiting >= LISTING_MIN and live <= LISTED_PER_WAITED * waiting


class BatchWaiter(ReservationWaiter):
    """A ReservationWaiter that also waits for many reservations at once."""

    def wait_all_deployed(self, waiting: Dict[int, bool], timeout: float, max_pause: float,
                          live: int = 0) -> Dict[int, Outcome]:
        """Poll until every reservation of ``waiting`` ({id: paying}) is deployed or has failed, or ``timeout``.

        ``live``: how many live reservations the identity's last listing held. Each poll lists only while
        worthwhile() for those still waited for; the last few are read on their own.
        """
        done_with = dict((rid, deployed_predicate(paying)) for rid, paying in waiting.items())
        outcomes: Dict[int, Outcome] = {}
        last: Dict[int, Reservation] = {}
        listed_count = [live]

        def poll() -> Dict[int, Reservation]:
            pending = [rid for rid in waiting if rid not in outcomes]
            listed: Dict[int, Reservation] = {}
            if worthwhile(len(pending), listed_count[0]):
                found = live_reservations(self.session.client, self.session.tid)
                listed_count[0] = len(found)
                listed = dict((r["id"], r) for r in found)
            return dict((rid, listed.get(rid) or self.session.client.get_reservation(rid)) for rid in pending)

        def settled(states: Dict[int, Reservation]) -> bool:
            for rid, reservation in states.items():
                last[rid] = reservation
                try:
                    if done_with[rid](reservation):
                        outcomes[rid] = (reservation, "deployed")
                except Verdict as stop:
                    try:
                        outcomes[rid] = verdict_outcome(rid, stop)
                    except LifecycleError as error:
                        outcomes[rid] = error
            return len(outcomes) == len(waiting)

        try:
            wait_for(poll, settled, timeout, max_pause, what="%d reservations to be deployed" % len(waiting),
                     clock=self.monotonic, sleep_func=self._sleep)
        except WaitTimeout as error:
            for rid in waiting:
                if rid not in outcomes:
                    outcomes[rid] = timed_out(WaitTimeout(timeout, last.get(rid), "reservation %d to be deployed" % rid,
                                                          error.last_error))
        except ExplorerError as error:
            for rid in waiting:
                if rid not in outcomes:
                    outcomes[rid] = LifecycleError.during("Failed to read reservation %d" % rid, error)
        return outcomes
