# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""Polling until a condition holds, on monotonic time, tolerating transient explorer errors.

Every wait of the collection follows one schedule, poll_pause(): a poll at once, then one every SOON_SECONDS
during the first SOON_FOR_SECONDS of the wait, then a pause of LATE_FRACTION of the time waited so far, never
longer than ``max_pause`` (the modules' ``wait_sleep``). A pause runs from the start of one poll to the start of
the next, so a slow explorer makes polls rarer, never more frequent, and never two at once. A wait for many
reservations at once calls wait_for() with one fetch that reads them all, so it polls as often as a wait for one.

The rule: a change the nodes make T seconds into the wait is seen at most 0.1 s late while T < 2 s, at most
T/4 late afterwards, and never more than ``max_pause`` late (plus the time a request takes): the poll that sees
it follows a pause chosen at the poll before T, and pauses never shrink.

Why: localgrid deploys in a fraction of a second to a few seconds (a volume at once, a network 0.06 s and a
container about 1 s after their registration), where what a task waits for nothing is what the user sees; a
poll costs it a few milliseconds, and its nodes (fast profile) report every 0.2 s. 0-OS nodes poll the explorer
every 10 s and a wait there lasts tens of seconds to minutes, where ``max_pause`` bounds the rate of requests.
A bound relative to T alone cannot serve both: T/4 sees a 1 s deployment up to 0.25 s late, and T/10 (0.1 s
late at 1 s) costs 54 polls a minute.

With max_pause = 5 (the default wait_sleep), against the previous schedule (0.1 s, then growing by half, so
at most half the time waited late):

    deployed at T s in                (0, 1]  (1, 2]  (2, 5]  (5, 10]  (10, 20]  (20, 60]
    seen late at most, before          0.51    0.76    2.56    3.84     5         5
    seen late at most, now             0.1     0.1     1.22    2.38     4.66      5
    polls started by 1, 2, 5, 10, 20, 60 s: before 5, 6, 9, 10, 12, 20; now 11, 21, 25, 28, 31, 39

A wait that times out polls once more, at its deadline: 60 s cost 40 polls (before: 21), 300 s 88 (69), 600 s
148 (129). Both schedules reach the 5 s pause (12 polls a minute) by about 20 s; the 19 more requests are spent
in the first 20 s, 15 of them in the first 2 s.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Optional

from ansible_collections.threefold.grid.plugins.module_utils._explorer import ExplorerError

TRANSIENT_STATUSES = frozenset((408, 429, 500, 502, 503, 504))

SOON_SECONDS = 0.1
SOON_FOR_SECONDS = 2.0
LATE_FRACTION = 0.25


class WaitTimeout(Exception):
    """The condition did not hold in time. `last_state` is the last value fetched (None if none was)."""

    def __init__(self, timeout, last_state, what="the condition", last_error=None):
        message = "Timeout after %ss waiting for %s" % (_seconds(timeout), what)
        if last_error is not None:
            message += " (last error: %s)" % last_error
        super(WaitTimeout, self).__init__(message)
        self.timeout = timeout
        self.last_state = last_state
        self.last_error = last_error
        self.what = what


def _seconds(value):
    return int(value) if float(value).is_integer() else value


def is_transient(error: BaseException) -> bool:
    """Explorer errors worth another poll: unreachable explorer or a 408/429/5xx answer."""
    return isinstance(error, ExplorerError) and (error.status is None or error.status in TRANSIENT_STATUSES)


def poll_pause(waited: float, max_pause: float) -> float:
    """Seconds from the start of a poll begun `waited` seconds into a wait to the start of the next one."""
    # To the microsecond: twenty pauses of 0.1 s add up to 2 s give or take a rounding error, either side.
    waited = round(waited, 6)
    pause = SOON_SECONDS if waited < SOON_FOR_SECONDS else waited * LATE_FRACTION
    return max(0.0, min(float(max_pause), pause))


def wait_for(fetch: Callable[[], Any], done: Callable[[Any], bool], timeout: float, max_pause: float,
             what: str = "the condition", transient=is_transient, clock: Optional[Callable[[], float]] = None,
             sleep_func: Optional[Callable[[float], None]] = None):
    """Call `fetch()` on the poll_pause() schedule until `done(state)` is true and return that state.

    The last poll is made at the deadline at the latest. Errors for which `transient(error)` is true are retried;
    others propagate, as does anything `done` raises (use that to stop early on a failed state). On timeout raises
    WaitTimeout carrying the last state fetched.
    """
    # Looked up per call, so that tests can patch time.
    clock = clock or time.monotonic
    sleep_func = sleep_func or time.sleep
    started = clock()
    deadline = started + timeout
    last_state = None
    last_error = None
    while True:
        polled = clock()
        try:
            state = fetch()
        except Exception as error:  # pylint: disable=broad-except
            if not transient(error):
                raise
            last_error = error
        else:
            last_state = state
            last_error = None
            if done(state):
                return state
        now = clock()
        if now >= deadline:
            raise WaitTimeout(timeout, last_state, what=what, last_error=last_error)
        pause = min(polled + poll_pause(polled - started, max_pause), deadline) - now
        if pause > 0:
            sleep_func(pause)
