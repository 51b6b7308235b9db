# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Several runs on one name at once (docs/CONCURRENCY.md): each branch of the protocol on the fake explorer.

Another run's registration is simulated by adding a reservation to the fake explorer while this run
registers (``racing``) or while it pays (inside the fake payment, the late visibility of F5).
"""

from __future__ import annotations

import pytest

from ansible_collections.threefold.grid.plugins.module_utils import _payment, _payment_checks, _spec
from ansible_collections.threefold.grid.plugins.module_utils._concurrency import PAY_WINDOW, pay_window
from ansible_collections.threefold.grid.plugins.module_utils._kept_reservation import judge
from ansible_collections.threefold.grid.plugins.module_utils._errors import LifecycleError
from ansible_collections.threefold.grid.tests.unit.plugins.module_utils.test_lifecycle import (
    LIFE,
    NODE_A,
    NOW,
    add,
    container,
    data_with,
    deployed,
    grid_explorer,
    lifecycle,
    spec,
    tag_for,
)


@pytest.fixture
def explorer():
    return grid_explorer()


PAYMENT = {"stellar_secret": "x"}


def tagged(rid, fp):
    return {"id": rid, "metadata": _spec.metadata_tag("web", "container", fp)}


# ---- the rule ----------------------------------------------------------------------------------

@pytest.mark.parametrize("named, mine, fp, action, other", [
    ([], 7, "a", "proceed", None),
    ([tagged(9, "a")], 7, "a", "proceed", None),  # a later run with our spec adopts ours
    ([tagged(5, "a")], 7, "a", "adopt", 5),  # the first registration of the same spec is kept
    ([tagged(5, "a"), tagged(6, "a")], 7, "a", "adopt", 5),
    ([tagged(9, "b")], 7, "a", "yield", 9),  # a newer spec wins
    ([tagged(5, "a"), tagged(6, "b"), tagged(8, "a")], 6, "b", "yield", 8),
    ([tagged(5, "a"), tagged(6, "b"), tagged(8, "a")], 8, "a", "adopt", 5),
    ([tagged(5, "a"), tagged(6, "b"), tagged(8, "a")], 5, "a", "proceed", None),
])
def test_the_newest_intent_wins_and_its_first_reservation_is_kept(named, mine, fp, action, other):
    verdict = judge(named + [tagged(mine, fp)], mine, fp)
    assert verdict.action == action
    assert (verdict.other or {}).get("id") == other


def test_older_intents_are_replaced_and_the_decided_old_one_is_ignored():
    verdict = judge([tagged(3, "old"), tagged(5, "b"), tagged(7, "a")], 7, "a", ignored=[3])
    assert verdict.action == "proceed" and [r["id"] for r in verdict.older] == [5]
    # Without ignoring it, the old reservation would be one more older intent (never a winner: it is older).
    assert [r["id"] for r in judge([tagged(3, "old"), tagged(7, "a")], 7, "a").older] == [3]


# ---- the lifecycle with another run registering at the same time -------------------------------

def racing(explorer, lc, the_spec, next_action=2, after=False, epoch=NOW):
    """Another run registers `web` with `the_spec` right before (or right after) this run's POST /reservations."""
    original = explorer.create
    rivals = []

    def create(request, body):
        if not after:
            rivals.append(add(explorer, None, data_with(container()), tag_for(lc, "web", "container", the_spec),
                              next_action=next_action, epoch=epoch))
        answer = original(request, body)
        if after:
            rivals.append(add(explorer, None, data_with(container()), tag_for(lc, "web", "container", the_spec),
                              next_action=next_action, epoch=epoch))
        return answer
    explorer.create = create
    return rivals


def paying(monkeypatch, calls, before=None, checked=None):
    """A fake payment that records the reservation ids paid; `before()` runs first (another run's registration
    becoming visible late), then the lifecycle's check just before submitting (what it returns goes to
    ``checked``)."""
    monkeypatch.setattr(_payment_checks, "precheck_payment", lambda *a: None)

    def pay(session, rid, escrow, payment, before_submit=None, **kwargs):
        if before is not None:
            before()
        if before_submit is not None:
            listed = before_submit()
            if checked is not None:
                checked.append(listed)
        calls.append(rid)
        return {"changed": True, "memo": str(rid)}
    monkeypatch.setattr(_payment, "pay_escrow", pay)


def test_same_spec_registered_first_by_another_run_is_adopted_and_not_paid(explorer, monkeypatch):
    paid = []
    paying(monkeypatch, paid)
    lc = lifecycle(explorer)
    rivals = racing(explorer, lc, spec())
    explorer.script[1] = [{"next_action": 2}, {"next_action": 3}, deployed()]  # the other run pays it
    result = lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE, wait_sleep=1,
                               payment=PAYMENT)
    assert rivals == [1] and paid == []
    assert explorer.cancelled() == [2]  # this run's own, unpaid
    assert result.changed is True and result.reservation["id"] == 1 and result.reservation["workload_state"] == "ok"
    assert any("cancelled its own reservation 2 (unpaid) and keeps 1" in w for w in lc.session.warnings)


def test_adopted_reservation_nobody_pays_in_time_fails_clearly_and_pays_nothing(explorer, monkeypatch):
    paid = []
    paying(monkeypatch, paid)
    lc = lifecycle(explorer)
    racing(explorer, lc, spec())
    explorer.script[1] = [{"next_action": 2}] * 100
    with pytest.raises(LifecycleError) as error:
        lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE, wait_timeout=20,
                          wait_sleep=1, payment=PAYMENT)
    assert paid == [] and explorer.cancelled() == [2]
    assert error.value.msg.startswith("reservation 1, registered with the same spec by another run at the same time, "
                                      "still waits for payment after 20s; this run cancelled its own reservation 2")
    assert explorer.reservations[1]["next_action"] == 2  # the other run's reservation is left alone


def test_adopted_reservation_cancelled_meanwhile_fails_clearly(explorer, monkeypatch):
    paying(monkeypatch, [])
    lc = lifecycle(explorer)
    racing(explorer, lc, spec())
    explorer.script[1] = [{"next_action": 6}]
    with pytest.raises(LifecycleError) as error:
        lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE, payment=PAYMENT)
    assert "was cancelled or expired (next_action deleted)" in error.value.msg and explorer.cancelled() == [2]


def test_a_newer_spec_registered_meanwhile_wins_and_this_run_pays_nothing(explorer, monkeypatch):
    paid = []
    paying(monkeypatch, paid)
    lc = lifecycle(explorer)
    racing(explorer, lc, spec(cpu=2), after=True)
    with pytest.raises(LifecycleError) as error:
        lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE, payment=PAYMENT)
    assert paid == [] and explorer.cancelled() == [1]
    assert error.value.msg == ("another run registered reservation 2 for container 'web' with a different spec at the "
                               "same time; the newest registration wins, so this run cancelled its own reservation 1 "
                               "and paid nothing: re-run to apply this task's spec")
    assert error.value.reservation["id"] == 2


def test_a_later_run_with_the_same_spec_does_not_stop_this_one(explorer, monkeypatch):
    paid = []
    paying(monkeypatch, paid)
    lc = lifecycle(explorer)
    racing(explorer, lc, spec(), after=True)
    explorer.script[1] = [deployed()]
    result = lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE, payment=PAYMENT)
    assert paid == [1] and explorer.cancelled() == [] and result.reservation["id"] == 1
    assert result.replaced == []  # the later one is cancelled by its own run


def test_the_check_just_before_paying_returns_the_reservation_as_its_listing_shows_it(explorer, monkeypatch):
    paid, checked = [], []
    paying(monkeypatch, paid, checked=checked)
    lc = lifecycle(explorer)
    explorer.script[1] = [deployed()]
    lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE, payment=PAYMENT)
    assert paid == [1] and [listed["id"] for listed in checked] == [1]
    assert checked[0]["next_action"] == 2  # the payment's re-read (G2): waiting for payment when listed


def test_the_check_just_before_paying_sees_a_lower_id_that_became_visible_late(explorer, monkeypatch):
    paid = []
    lc = lifecycle(explorer)
    late = []
    paying(monkeypatch, paid, before=lambda: late.append(
        add(explorer, 0, data_with(container()), tag_for(lc, "web", "container", spec()), next_action=2, epoch=NOW)))
    explorer.script[0] = [{"next_action": 3}, deployed()]
    result = lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE, wait_sleep=1,
                               payment=PAYMENT)
    assert late == [0] and paid == [] and explorer.cancelled() == [1]
    assert result.reservation["id"] == 0


def test_an_older_spec_registered_meanwhile_is_cancelled_only_once_it_left_pay(explorer, monkeypatch):
    paid = []
    paying(monkeypatch, paid)
    lc = lifecycle(explorer)
    racing(explorer, lc, spec(cpu=2))  # reservation 1, the older intent, young and waiting for payment
    explorer.script[2] = [deployed()]
    # Its run pays it; once cancelled, it is deleted.
    explorer.script[1] = [{"next_action": 2}, {"next_action": 2}, {"next_action": 3}, {"next_action": 6}]
    result = lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE, wait_sleep=1,
                               payment=PAYMENT)
    assert paid == [2] and result.reservation["id"] == 2 and result.replaced == [1]
    gets_of_1 = [i for i, call in enumerate(explorer.calls()) if call == ("GET", "/reservations/1")]
    cancel = explorer.calls().index(("POST", "/reservations/1/sign/delete"))
    assert len(gets_of_1) >= 3 and cancel > gets_of_1[2]  # cancelled after it was seen paid, never before


def test_an_older_spec_still_in_pay_when_time_is_up_is_left_alone(explorer, monkeypatch):
    paying(monkeypatch, [])
    lc = lifecycle(explorer)
    racing(explorer, lc, spec(cpu=2))
    explorer.script[2] = [deployed()]
    explorer.script[1] = [{"next_action": 2}] * 100
    result = lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE, wait_timeout=20,
                               wait_sleep=1, payment=PAYMENT)
    assert result.reservation["id"] == 2 and result.replaced == [] and 1 not in explorer.cancelled()
    assert any("reservation 1 is replaced but a payment for it may still land" in w for w in lc.session.warnings)


def test_an_old_unpaid_reservation_nobody_pays_is_cancelled_at_once(explorer, monkeypatch):
    monkeypatch.setattr(_payment, "wallet_paid_memo", lambda *a: False)
    paying(monkeypatch, [])
    lc = lifecycle(explorer)
    racing(explorer, lc, spec(cpu=2), epoch=NOW - PAY_WINDOW - 1)
    explorer.script[2] = [deployed()]
    explorer.script[1] = [{"next_action": 6}]  # read only once cancelled
    result = lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE, payment=PAYMENT)
    assert result.replaced == [1] and explorer.cancelled() == [1]


def test_a_young_unpaid_reservation_sharing_an_ip_is_not_cancelled_before_registering(explorer, monkeypatch):
    paying(monkeypatch, [])
    lc = lifecycle(explorer)
    add(explorer, 4, data_with(container()), tag_for(lc, "web", "container", spec()), next_action=2, epoch=NOW - 10)
    explorer.script[4] = [{"next_action": 2}] * 100
    with pytest.raises(LifecycleError) as error:
        lc.ensure_present("web", "container", {"containers": [container(cpu=2)]}, spec(cpu=2), LIFE,
                          wait_timeout=20, wait_sleep=1, payment=PAYMENT)
    assert error.value.msg.startswith("reservation 4 must be cancelled before its replacement is registered")
    assert explorer.posts() == []


def test_the_pay_window_follows_the_environment_and_refuses_nonsense():
    assert pay_window({}) == PAY_WINDOW == 300
    assert pay_window({"TFGRID_PAY_WINDOW": "20"}) == 20
    for bad in ("0", "-5", "soon"):
        with pytest.raises(LifecycleError) as error:
            pay_window({"TFGRID_PAY_WINDOW": bad})
        assert error.value.msg == ("TFGRID_PAY_WINDOW must be a whole number of seconds, at least 1 (the time a run "
                                   "may take from registering a reservation to paying it), not %r" % bad)


def test_a_shorter_pay_window_stops_waiting_sooner(explorer, monkeypatch):
    monkeypatch.setenv("TFGRID_PAY_WINDOW", "20")
    monkeypatch.setattr(_payment, "wallet_paid_memo", lambda *a: False)
    paying(monkeypatch, [])
    lc = lifecycle(explorer)
    racing(explorer, lc, spec(cpu=2), epoch=NOW - 30)  # older than the window: nobody pays it any more
    explorer.script[2] = [deployed()]
    explorer.script[1] = [{"next_action": 6}]
    result = lc.ensure_present("web", "container", {"containers": [container()]}, spec(), LIFE, payment=PAYMENT)
    assert result.replaced == [1]


def test_reads_by_name_see_the_kept_reservation_while_two_carry_the_name(explorer):
    lc = lifecycle(explorer)
    add(explorer, 3, data_with(container()), tag_for(lc, "web", "container", spec()), **deployed())
    add(explorer, 4, data_with(container()), tag_for(lc, "web", "container", spec()), next_action=2)
    add(explorer, 5, {"volumes": [{"workload_id": 1, "node_id": NODE_A, "size": 1, "type": 1}]},
        _spec.metadata_tag("data", "volume", "a"), **deployed())
    add(explorer, 6, {"volumes": [{"workload_id": 1, "node_id": NODE_A, "size": 1, "type": 1}]},
        _spec.metadata_tag("data", "volume", "b"), next_action=2)
    assert lc.reservations.find_one("web", "container")["id"] == 3
    assert lc.lookup.volume_id("data", NODE_A, "volumes[0].volume") == "6-1"  # the newest spec's first
