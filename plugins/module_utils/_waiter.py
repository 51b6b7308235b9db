# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""Polling until a condition holds, on monotonic time, tolerating transient explorer errors."""

from __future__ import annotations

import time
from typing import Any, Callable, Optional

from ansible_collections.threefold.grid.plugins.module_utils._explorer import ExplorerError

TRANSIENT_STATUSES = frozenset((408, 429, 500, 502, 503, 504))


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


def wait_for(fetch: Callable[[], Any], done: Callable[[Any], bool], timeout: float, sleep: float = 5.0,
             what: str = "the condition", max_sleep: Optional[float] = None, backoff: float = 1.5,
             transient=is_transient, clock=time.monotonic, sleep_func=time.sleep, first_sleep: Optional[float] = None):
    """Call `fetch()` until `done(state)` is true and return that state.

    The pause starts at `first_sleep` (default `sleep`) seconds and grows by `backoff` up to `max_sleep`
    (default 4 × sleep), never past the deadline. Errors for which `transient(error)` is true are retried; others propagate,
    as does anything `done` raises (use that to stop early on a failed state). On timeout raises
    WaitTimeout carrying the last state fetched.
    """
    deadline = clock() + timeout
    ceiling = float(max_sleep) if max_sleep is not None else max(0.0, float(sleep)) * 4
    interval = max(0.0, float(sleep if first_sleep is None else first_sleep))
    last_state = None
    last_error = None
    while True:
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
        remaining = deadline - clock()
        if remaining <= 0:
            raise WaitTimeout(timeout, last_state, what=what, last_error=last_error)
        sleep_func(min(interval, remaining))
        interval = min(ceiling, interval * backoff)
