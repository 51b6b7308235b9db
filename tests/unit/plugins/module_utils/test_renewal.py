# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.threefold.grid.plugins.module_utils import _spec
from ansible_collections.threefold.grid.plugins.module_utils._errors import LifecycleError
from ansible_collections.threefold.grid.plugins.module_utils._renewal import renew_by_id, renewal_view
from ansible_collections.threefold.grid.plugins.module_utils._renewal_plan import renewal_plan
from ansible_collections.threefold.grid.tests.unit.plugins.module_utils.test_lifecycle import (
    NODE_A,
    NOW,
    add,
    container,
    data_with,
    deployed,
    grid_explorer,
    lifecycle,
)

HOUR = 3600


@pytest.fixture
def explorer():
    explorer = grid_explorer()
    explorer.nodes_report = True
    explorer.deploy = "ok"
    explorer.escrow = {"address": "", "asset": "", "details": None}  # free: renewals need no wallet here
    return explorer


def expiring(explorer, rid=4, ends_in=HOUR, length=2 * HOUR, **state):
    data = data_with(container())
    data["expiration_reservation"] = NOW + ends_in
    state = state or deployed()
    return add(explorer, rid, data, _spec.metadata_tag("web", "container", "fp1"),
               epoch=NOW + ends_in - length, **state)


def test_renews_same_workloads_for_the_same_length_and_cancels_the_old_one(explorer):
    expiring(explorer)
    outcome = renew_by_id(lifecycle(explorer), 4, renew_before=3 * HOUR, payment=None, wait_sleep=0)
    posted = explorer.posted()
    assert outcome.changed and outcome.action == "renew" and outcome.replaced == [4]
    assert len(posted) == 1
    new = posted[0]
    assert new["metadata"] == explorer.reservations[4]["metadata"]
    assert new["data_reservation"]["containers"] == explorer.reservations[4]["data_reservation"]["containers"]
    assert new["data_reservation"]["expiration_reservation"] == NOW + 2 * HOUR
    assert explorer.cancelled() == [4]


def test_a_renewed_reservation_stands_for_its_successor_so_a_rerun_changes_nothing(explorer):
    expiring(explorer)
    lc = lifecycle(explorer)
    renew_by_id(lc, 4, renew_before=3 * HOUR, payment=None, wait_sleep=0)
    again = renew_by_id(lifecycle(explorer), 4, renew_before=90 * 60, payment=None, wait_sleep=0)
    assert again.changed is False and again.reservation["id"] == 5
    assert len(explorer.posted()) == 1


def test_not_due_yet_changes_nothing(explorer):
    expiring(explorer, ends_in=10 * HOUR)
    outcome = renew_by_id(lifecycle(explorer), 4, renew_before=3 * HOUR, payment=None)
    assert outcome.changed is False and explorer.posted() == []


def test_check_mode_prices_without_registering(explorer):
    expiring(explorer)
    outcome = renew_by_id(lifecycle(explorer, check_mode=True), 4, renew_before=3 * HOUR, payment=None)
    assert outcome.changed and outcome.estimate["total_amount"] > 0
    assert explorer.posted() == [] and explorer.cancelled() == []


@pytest.mark.parametrize("state, says", [({"next_action": 2}, "not deployed"), ({"next_action": 6}, "has ended")])
def test_refuses_what_is_not_deployed(explorer, state, says):
    expiring(explorer, **state)
    with pytest.raises(LifecycleError, match=says):
        renew_by_id(lifecycle(explorer), 4, renew_before=3 * HOUR, payment=None)
    assert explorer.posted() == []


def test_refuses_another_identitys_reservation(explorer):
    expiring(explorer)
    explorer.reservations[4]["customer_tid"] = 99
    with pytest.raises(LifecycleError, match="belongs to tid 99"):
        renew_by_id(lifecycle(explorer), 4, renew_before=3 * HOUR, payment=None)
    assert explorer.posted() == []


def test_renewal_view_prices_the_same_length_from_now():
    data = data_with(container())
    data["expiration_reservation"] = NOW + HOUR
    reservation = {"id": 4, "epoch": NOW - HOUR, "next_action": 3, "data_reservation": data}
    shown = renewal_view(reservation, {NODE_A: 1}, NOW)
    assert (shown["expires_in"], shown["duration"], shown["currency"]) == (HOUR, 2 * HOUR, "TFT")
    assert shown["total_amount"] > 0
    assert renewal_view(dict(reservation, next_action=6), {NODE_A: 1}, NOW) is None


def listed(rid, amount, ends_in, state="deploy", currency="TFT"):
    return {"id": rid, "name": "r%d" % rid, "kind": "container", "state": state,
            "renewal": {"expires_in": ends_in, "amount": "%.7f" % (amount / 1e7), "total_amount": amount,
                        "currency": currency}}


def test_plan_takes_the_soonest_first_within_the_budget():
    plan = renewal_plan([listed(1, 3000000, 500), listed(2, 5000000, 100), listed(3, 4000000, 300),
                         listed(4, 0, 900), listed(5, 10, 50, state="pay"), listed(6, 10, 60, currency="TFTA")],
                        "1")
    assert [e["id"] for e in plan["renew"]] == [2, 3, 4]
    assert plan["total"] == "0.9000000"
    reasons = {e["id"]: e["reason"] for e in plan["skipped"]}
    assert reasons[1].startswith("over budget: it would bring this run to 1.2000000 of 1.0000000 TFT")
    assert reasons[5] == "not deployed (pay)" and "priced in TFTA" in reasons[6]


def test_plan_refuses_a_budget_below_the_cheapest_renewal():
    with pytest.raises(ValueError, match=r"smaller than the cheapest renewal, reservation 1 \(r1\) at 0.3000000"):
        renewal_plan([listed(1, 3000000, 500), listed(2, 5000000, 100)], "0.1")
    with pytest.raises(ValueError, match="budget: "):
        renewal_plan([], "-1")
