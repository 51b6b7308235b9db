# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting for many reservations through listings (_batch_wait.py), against the fake explorer."""

from __future__ import annotations

import pytest

from ansible_collections.threefold.grid.plugins.module_utils._batch_wait import BatchWaiter, worthwhile
from ansible_collections.threefold.grid.plugins.module_utils._errors import LifecycleError
from ansible_collections.threefold.grid.tests.unit.plugins.module_utils.test_lifecycle import (
    DELETED,
    NODE_A,
    FakeTime,
    add,
    container,
    data_with,
    grid_explorer,
    session,
)

COUNT = 12


@pytest.fixture
def explorer():
    fake = grid_explorer()
    for rid in range(1, COUNT + 1):
        add(fake, rid, data_with(container(ip="10.1.3.%d" % (10 + rid))), "", next_action=3)
    return fake


def waiter(explorer):
    clock = FakeTime()
    return BatchWaiter(session(explorer), clock.monotonic, clock.sleep), clock


def single_reads(explorer):
    return [path for method, path in explorer.calls() if method == "GET" and path.startswith("/reservations/")
            and path.split("/")[-1].isdigit()]


def listings(explorer):
    return [path for method, path in explorer.calls() if method == "GET" and path == "/reservations"]


def test_reservations_the_nodes_deploy_are_seen_through_listings_without_a_read_each(explorer):
    explorer.nodes_report = explorer.listings_report = True
    batch, _clock = waiter(explorer)
    outcomes = batch.wait_all_deployed(dict((rid, True) for rid in range(1, COUNT + 1)), 60, 5)
    assert sorted(outcomes) == list(range(1, COUNT + 1))
    assert all(state == "deployed" and reservation["results"] for reservation, state in outcomes.values())
    # One poll: one listing per stored state that can be live, whatever the number waited for.
    assert len(listings(explorer)) == 3 and single_reads(explorer) == []


def test_one_that_left_the_live_listing_is_read_on_its_own_and_fails_alone(explorer):
    explorer.nodes_report = explorer.listings_report = True
    explorer.reservations[5].update(next_action=6, results=[
        {"workload_id": "5-1", "node_id": NODE_A, "state": DELETED, "category": 1, "message": "no space left"}])
    batch, _clock = waiter(explorer)
    outcomes = batch.wait_all_deployed(dict((rid, True) for rid in range(1, COUNT + 1)), 60, 5)
    assert isinstance(outcomes[5], LifecycleError) and "no space left" in outcomes[5].msg
    assert all(outcomes[rid][1] == "deployed" for rid in outcomes if rid != 5)
    assert single_reads(explorer) == ["/reservations/5"]


def test_a_reservation_nobody_pays_stops_its_wait_with_pay(explorer):
    explorer.reservations[3]["next_action"] = 2
    batch, _clock = waiter(explorer)
    outcomes = batch.wait_all_deployed({3: False}, 60, 5)
    assert outcomes[3][1] == "pay"


def test_those_still_pending_at_the_deadline_time_out_each_with_its_last_state(explorer):
    batch, clock = waiter(explorer)
    explorer.reservations[1]["results"] = [
        {"workload_id": "1-1", "node_id": NODE_A, "state": 1, "message": "", "category": 1}]
    outcomes = batch.wait_all_deployed(dict((rid, True) for rid in range(1, COUNT + 1)), 10, 5)
    assert outcomes[1][1] == "deployed"
    for rid in range(2, COUNT + 1):
        assert outcomes[rid].msg == ("Timeout after 10s waiting for reservation %d to be deployed (last state: "
                                     "deploy, workloads pending)" % rid)
        assert outcomes[rid].reservation["id"] == rid
    assert clock.value == 10
    # Polls on the schedule of every wait (_waiter.poll_pause): every 0.1 s for 2 s, then a quarter of the time.
    assert single_reads(explorer) == [] and 20 < len(listings(explorer)) / 3 < 30


def test_listings_are_worth_it_for_many_waited_among_not_too_many_live():
    assert not worthwhile(9, 9)
    assert worthwhile(10, 40)
    assert not worthwhile(10, 41)
    assert worthwhile(100, 400)


def test_the_last_few_waited_for_are_read_on_their_own(explorer):
    for rid in range(1, COUNT - 1):
        explorer.reservations[rid]["results"] = [
            {"workload_id": "%d-1" % rid, "node_id": NODE_A, "state": 1, "message": "", "category": 1}]
    batch, _clock = waiter(explorer)
    outcomes = batch.wait_all_deployed(dict((rid, True) for rid in range(1, COUNT + 1)), 1, 5, live=COUNT)
    assert all(outcomes[rid][1] == "deployed" for rid in range(1, COUNT - 1))
    assert all(isinstance(outcomes[rid], LifecycleError) for rid in (COUNT - 1, COUNT))
    # One listing poll; then the two still pending, fewer than LISTING_MIN, are read alone at every poll.
    assert len(listings(explorer)) == 3
    reads = single_reads(explorer)
    assert set(reads) == {"/reservations/%d" % (COUNT - 1), "/reservations/%d" % COUNT} and len(reads) > 2
