"""Idle background loops sleep until there is work: a node agent polls when woken, its expiry scan
and uptime report wake it when they fall due, the escrow loop scans on a ledger change or an
escrow's deadline, and the grid clock wakes whoever waits on grid time."""

import dataclasses
import threading
import time

import httpx
import pytest
from stellar_sdk import Keypair

from localgrid.clock import Clock
from localgrid.config import PROFILES
from localgrid.explorer.escrow import EscrowLoop
from localgrid.node.agent import NodeAgent
from localgrid.stellar.ledger import Ledger
from localgrid.store import Store
from localgrid.tests.conftest import wait_for
from localgrid.tests.test_node_agent import EXPLORER, FLIST, HUB, NODE, StubExplorer, reservation
from localgrid.wakeup import Wakeup

# Long pauses: within a test, only a wake-up or a due deadline can make the agent act.
SLEEPY = dataclasses.replace(
    PROFILES["fast"], node_poll_interval=60.0, node_idle_poll_interval=60.0, node_uptime_interval=600.0,
)


@pytest.fixture
def store(tmp_path):
    store = Store(str(tmp_path / "state.db"))
    yield store
    store.close()


def started_agent(store, explorer, profile=SLEEPY):
    wakeup = Wakeup()
    clock = Clock(store, on_advance=(wakeup.notify,))
    agent = NodeAgent(NODE, EXPLORER, HUB, store, clock, profile, [FLIST], transport=httpx.MockTransport(explorer),
                      wakeup=wakeup)
    agent.start()
    wait_for(lambda: explorer.polls and explorer.last("uptime") is not None)  # the first tick
    return agent


def test_an_idle_agent_polls_again_only_when_woken(store):
    explorer = StubExplorer()
    agent = started_agent(store, explorer)
    try:
        explorer.workloads, explorer.last_id = reservation(agent.clock, 1), 1
        time.sleep(0.5)
        assert len(explorer.polls) == 1 and explorer.results == {}  # asleep: its next poll is a minute away
        agent.wakeup.notify()
        wait_for(lambda: len(explorer.results) == 3, timeout=5)
    finally:
        agent.stop()


def test_an_expiring_workload_wakes_its_agent(store):
    explorer = StubExplorer()
    agent = started_agent(store, explorer)
    try:
        explorer.workloads, explorer.last_id = reservation(agent.clock, 1, duration=2), 1
        agent.wakeup.notify()
        wait_for(lambda: len(explorer.results) == 3, timeout=5)
        polls = len(explorer.polls)
        wait_for(lambda: sorted(explorer.deleted) == ["1-1", "1-2", "1-3"], timeout=10)
        assert len(explorer.polls) <= polls + 1  # the expiry scan's own wake, not a stream of polls
        assert agent.state.next_expiry() is None
    finally:
        agent.stop()


def test_advancing_the_grid_clock_brings_the_uptime_report_forward(store):
    explorer = StubExplorer()
    agent = started_agent(store, explorer)
    try:
        first = explorer.last("uptime")["uptime"]
        agent.clock.advance(3600)  # the last report is now an hour old: the node would look down
        wait_for(lambda: explorer.last("uptime")["uptime"] >= first + 3600, timeout=5)
    finally:
        agent.stop()


class CountingEscrow:
    def __init__(self, deadline=None):
        self.scans = 0
        self.deadline = deadline

    def scan(self):
        self.scans += 1

    def next_deadline(self):
        return self.deadline


def escrow_loop(store, escrow, **profile):
    wakeup = Wakeup()
    clock = Clock(store, on_advance=(wakeup.notify,))
    settings = dataclasses.replace(PROFILES["fast"], **dict({"escrow_scan_interval": 0.05}, **profile))
    loop = EscrowLoop(escrow, clock, settings, wakeup)
    loop.start()
    return loop


def test_an_idle_escrow_loop_scans_when_woken_not_on_a_timer(store):
    escrow = CountingEscrow()
    loop = escrow_loop(store, escrow)
    try:
        wait_for(lambda: escrow.scans == 1)  # at start: escrows left open by a previous run
        time.sleep(0.5)
        assert escrow.scans == 1
        loop.wakeup.notify()
        wait_for(lambda: escrow.scans == 2, timeout=5)
    finally:
        loop.stop()


def test_the_escrow_loop_scans_when_the_first_deadline_passes_or_the_clock_moves(store):
    escrow = CountingEscrow()
    loop = escrow_loop(store, escrow)
    try:
        wait_for(lambda: escrow.scans == 1)
        escrow.deadline = loop.clock.now() + 3600
        loop.clock.advance(1)  # wakes the loop, which now sleeps until the deadline
        wait_for(lambda: escrow.scans == 2, timeout=5)
        loop.clock.advance(3600)
        wait_for(lambda: escrow.scans == 3, timeout=5)
        escrow.deadline = loop.clock.now() + 0.3
        loop.wakeup.notify()
        wait_for(lambda: escrow.scans == 5, timeout=5)  # the wake-up's scan, then the deadline's
    finally:
        loop.stop()


def test_a_burst_of_payments_is_scanned_once_per_interval(store):
    escrow = CountingEscrow()
    loop = escrow_loop(store, escrow, escrow_scan_interval=0.5)
    try:
        wait_for(lambda: escrow.scans == 1)
        stop = time.monotonic() + 1.2
        while time.monotonic() < stop:
            loop.wakeup.notify()
            time.sleep(0.01)
        wait_for(lambda: escrow.scans >= 3, timeout=5)
        assert escrow.scans <= 5  # about 120 wake-ups over 1.2 s, scans 0.5 s apart
    finally:
        loop.stop()


def test_the_ledger_reports_each_applied_transaction(store):
    changes = []
    ledger = Ledger(store, Clock(store), on_change=lambda: changes.append(threading.get_ident()))
    before = len(changes)
    ledger.create_account(Keypair.random().public_key, 10 ** 8)
    assert len(changes) == before + 1


def test_clock_advance_calls_each_listener(store):
    heard = []
    clock = Clock(store, on_advance=(lambda: heard.append("a"), lambda: heard.append("b")))
    clock.advance(5)
    assert heard == ["a", "b"]
