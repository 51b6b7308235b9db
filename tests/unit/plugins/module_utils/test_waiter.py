# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.threefold.grid.plugins.module_utils._explorer import ExplorerError
from ansible_collections.threefold.grid.plugins.module_utils._waiter import WaitTimeout, is_transient, poll_pause, wait_for


class FakeClock:
    """Monotonic time that only moves when the waiter sleeps (or a fetch takes `request_seconds`)."""

    def __init__(self, request_seconds=0.0):
        self.now = 100.0
        self.sleeps = []
        self.polls = []
        self.request_seconds = request_seconds

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


def run(fetch, done, timeout=60, max_pause=5, clock=None, **kwargs):
    clock = clock or FakeClock()
    return wait_for(fetch, done, timeout, max_pause, clock=clock.clock, sleep_func=clock.sleep, **kwargs), clock


def test_returns_the_state_that_satisfies_done():
    result, clock = run(states("pay", "deploy", "ok"), lambda state: state == "ok")
    assert result == "ok"
    assert clock.sleeps == pytest.approx([0.1, 0.1])


def test_no_sleep_when_done_at_once():
    result, clock = run(states(3), lambda state: state == 3)
    assert result == 3 and clock.sleeps == []


def test_timeout_carries_last_state_and_never_oversleeps():
    clock = FakeClock()
    with pytest.raises(WaitTimeout) as caught:
        run(states("pay", "pay", "sign"), lambda state: False, timeout=12, max_pause=5, clock=clock)
    error = caught.value
    assert error.last_state == "sign"
    assert clock.now == pytest.approx(112.0)
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


@pytest.mark.parametrize("waited, max_pause, pause", [
    (0, 5, 0.1), (1.99, 5, 0.1), (2, 5, 0.5), (8, 5, 2), (20, 5, 5), (600, 5, 5),
    (0, 0, 0), (30, 0, 0), (10, 1, 1), (10, 60, 2.5),
])
def test_poll_pause_is_soon_for_two_seconds_then_a_quarter_of_the_time_waited_up_to_max_pause(waited, max_pause, pause):
    assert poll_pause(waited, max_pause) == pytest.approx(pause)


def lateness_bound(deployed_at, max_pause):
    """The rule: seen at most 0.1 s late during the first 2 s, then at most a quarter of the time waited."""
    return min(max_pause, 0.1 if deployed_at < 2 else deployed_at / 4)


def seen_late(deployed_at, max_pause, request_seconds=0.0):
    clock = FakeClock(request_seconds)

    def fetch():
        clock.polls.append(clock.now)
        clock.now += request_seconds
        return clock.now - 100.0 >= deployed_at
    run(fetch, bool, timeout=600, max_pause=max_pause, clock=clock)
    return clock.now - 100.0 - deployed_at


@pytest.mark.parametrize("max_pause", [5, 1, 30])
def test_a_deployment_is_seen_within_the_rule_whenever_it_happens(max_pause):
    times = [step / 100.0 for step in range(1, 12001)]  # every 10 ms of the first two minutes
    late = dict((deployed_at, seen_late(deployed_at, max_pause)) for deployed_at in times)
    assert all(late[t] <= lateness_bound(t, max_pause) + 1e-9 for t in times)
    # The bound is what the worst case reaches, not a loose ceiling, early and late.
    assert max(late[t] / lateness_bound(t, max_pause) for t in times if t < 2) > 0.9
    assert max(late[t] / lateness_bound(t, max_pause) for t in times if t >= 2) > 0.95


def test_a_slow_explorer_adds_one_request_to_the_lateness():
    for deployed_at in (0.05, 0.55, 1.05, 3.3, 9.9, 45.0):
        assert seen_late(deployed_at, 5, request_seconds=0.3) <= lateness_bound(deployed_at, 5) + 0.3 + 1e-9


def polls_of_a_wait(timeout, max_pause, request_seconds=0.0):
    clock = FakeClock(request_seconds)

    def fetch():
        clock.polls.append(clock.now - 100.0)
        clock.now += request_seconds
        return "pending"
    with pytest.raises(WaitTimeout):
        run(fetch, lambda state: False, timeout=timeout, max_pause=max_pause, clock=clock)
    return clock


def test_polls_of_a_long_wait():
    # The schedule's polls, and one more at the deadline.
    assert len(polls_of_a_wait(60, 5).polls) == 40
    assert len(polls_of_a_wait(300, 5).polls) == 88
    polls = polls_of_a_wait(300, 5).polls
    assert len([at for at in polls if at < 2.05]) == 21
    # From 20 s on, the pause is max_pause (12 polls a minute) until the last one, cut short by the deadline.
    steps = [b - a for a, b in zip(polls, polls[1:]) if a >= 20]
    assert len(steps) == 56 and steps[:-1] == pytest.approx([5.0] * 55) and steps[-1] < 5


def test_a_slow_explorer_is_polled_less_often_never_more():
    slow = polls_of_a_wait(60, 5, request_seconds=0.3)
    assert len(slow.polls) < 39
    assert all(b - a >= 0.3 - 1e-9 for a, b in zip(slow.polls, slow.polls[1:]))
    # A pause counts from the start of a poll: the request's time is not added to it.
    late = [b - a for a, b in zip(slow.polls, slow.polls[1:]) if a >= 20]
    assert late and all(step == pytest.approx(5.0) for step in late[:-1])


@pytest.mark.parametrize("max_pause", [0, 1, 3, 5])
def test_no_pause_is_longer_than_max_pause(max_pause):
    clock = polls_of_a_wait(120, max_pause, request_seconds=0.01)
    # The request's 10 ms count in the pause; with max_pause 0 the polls follow each other without a sleep.
    assert max(clock.sleeps or [0.0]) <= max(0.0, max_pause - 0.01) + 1e-9
    assert bool(clock.sleeps) is (max_pause > 0)
    assert max(b - a for a, b in zip(clock.polls, clock.polls[1:])) <= max(max_pause, 0.01) + 1e-9


@pytest.mark.parametrize("timeout, request_seconds", [(0, 0.0), (7.3, 0.0), (45, 0.0), (45, 0.7)])
def test_the_timeout_is_respected(timeout, request_seconds):
    clock = polls_of_a_wait(timeout, 5, request_seconds)
    # Never sleeps past the deadline; the last poll starts at the deadline at the latest (at it without latency).
    assert clock.polls[-1] <= timeout + 1e-9
    assert clock.now - 100.0 <= timeout + request_seconds + 1e-9
    if not request_seconds:
        assert clock.polls[-1] == pytest.approx(timeout)
