# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.threefold.grid.plugins.module_utils._explorer import ExplorerError
from ansible_collections.threefold.grid.plugins.module_utils._waiter import WaitTimeout, is_transient, wait_for


class FakeClock:
    """Monotonic time that only moves when the waiter sleeps."""

    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def states(*values):
    values = list(values)

    def fetch():
        value = values.pop(0) if len(values) > 1 else values[0]
        if isinstance(value, Exception):
            raise value
        return value
    return fetch


def run(fetch, done, timeout=60, sleep=5, clock=None, **kwargs):
    clock = clock or FakeClock()
    return wait_for(fetch, done, timeout, sleep=sleep, clock=clock.clock, sleep_func=clock.sleep, **kwargs), clock


def test_returns_the_state_that_satisfies_done():
    result, clock = run(states("pay", "deploy", "ok"), lambda state: state == "ok")
    assert result == "ok"
    assert clock.sleeps == [5, 7.5]


def test_no_sleep_when_done_at_once():
    result, clock = run(states(3), lambda state: state == 3)
    assert result == 3 and clock.sleeps == []


def test_interval_grows_to_max_sleep():
    clock = FakeClock()
    with pytest.raises(WaitTimeout):
        run(states("pay"), lambda state: False, timeout=100, sleep=4, max_sleep=10, backoff=2, clock=clock)
    assert clock.sleeps[:4] == [4, 8, 10, 10]


def test_timeout_carries_last_state_and_never_oversleeps():
    clock = FakeClock()
    with pytest.raises(WaitTimeout) as caught:
        run(states("pay", "pay", "sign"), lambda state: False, timeout=12, sleep=5, backoff=1, clock=clock)
    error = caught.value
    assert error.last_state == "sign"
    assert clock.now == pytest.approx(112.0)
    assert clock.sleeps == [5, 5, 2]
    assert str(error) == "Timeout after 12s waiting for the condition"


def test_timeout_message_names_what_and_last_error():
    with pytest.raises(WaitTimeout) as caught:
        run(states(ExplorerError("busy", status=503, method="GET", path="/reservations/1")),
            lambda state: True, timeout=10, what="reservation 1 to be deployed")
    error = caught.value
    assert error.last_state is None and error.last_error.status == 503
    assert str(error).startswith("Timeout after 10s waiting for reservation 1 to be deployed (last error: ")


def test_transient_errors_are_tolerated():
    fetch = states(ExplorerError("refused", method="GET", path="/x"),
                   ExplorerError("bad gateway", status=502), "done")
    result, clock = run(fetch, lambda state: state == "done")
    assert result == "done" and len(clock.sleeps) == 2


def test_other_errors_propagate():
    with pytest.raises(ExplorerError) as caught:
        run(states(ExplorerError("mongo: no documents in result", status=404)), lambda state: True)
    assert caught.value.status == 404
    with pytest.raises(KeyError):
        run(states(KeyError("x")), lambda state: True)


def test_done_may_stop_the_wait_by_raising():
    def done(state):
        if state == "error":
            raise RuntimeError("workload failed")
        return state == "ok"
    with pytest.raises(RuntimeError, match="workload failed"):
        run(states("pay", "error"), done)


@pytest.mark.parametrize("error, expected", [
    (ExplorerError("x"), True),
    (ExplorerError("x", status=429), True),
    (ExplorerError("x", status=500), True),
    (ExplorerError("x", status=400), False),
    (ExplorerError("x", status=404), False),
    (ValueError("x"), False),
])
def test_is_transient(error, expected):
    assert is_transient(error) is expected


def test_first_sleep_starts_short_and_backs_off_to_max_sleep():
    clock = FakeClock()
    with pytest.raises(WaitTimeout):
        run(states("pay"), lambda state: False, timeout=20, sleep=5, first_sleep=0.2, max_sleep=5, backoff=2,
            clock=clock)
    assert clock.sleeps[:7] == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2, 5, 5])
