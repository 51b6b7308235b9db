# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""zos_containers: many containers in one task, each through zos_container's own runner and lifecycle.

    ContainerBatchRunner(params, session, diff).run() -> {"changed", "containers": [...], "diff"}

``params["containers"]`` holds each container's options as zos_container takes them (the Ansible side,
_container_items.py, merged them with ``defaults`` and checked them). Three passes over the containers, each
with at most ``parallel`` threads:

1. plan: every container in check mode, with a check-mode session of its own: its spec, the grid lookups, the
   decision, the estimate and the payment precheck. When one fails, when two share a name or an address, or
   when the wallet cannot pay them all, the task fails with every container's error before anything is signed.
2. apply: the containers whose plan changes something run for real with ``wait: false`` (register, settle
   against other runs, pay), ``parallel`` at a time in waves; unchanged ones keep the result of their plan.
3. wait (``wait: true``): the containers not running yet are waited for, all within one ``wait_timeout``: through
   listings of the identity's reservations when they are many (_batch_wait.py), else each on its own.

What the threads share: the explorer client (httpx's connection pool takes a lock), the identity (signing is a
pure function), the phonebook record (read before the threads start), the records every container reads alike
(the nodes, the network: _shared_reads.py), one Reservations (threads that need a listing at the same time share
it, _lookup.py) and the cache files (updated under a process lock, _cache_file.py). Payments from the one wallet
take turns (_wallet_turn.py). Each container has a session of its own for its warnings, given to the task's
session prefixed with the container's place; nothing calls Ansible from a thread.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from ansible_collections.threefold.grid.plugins.module_utils._container_runner import ContainerRunner
from ansible_collections.threefold.grid.plugins.module_utils._errors import GridError, LifecycleError, SpecError
from ansible_collections.threefold.grid.plugins.module_utils._ledger_account import ledger_payer
from ansible_collections.threefold.grid.plugins.module_utils._lookup import Reservations
from ansible_collections.threefold.grid.plugins.module_utils._session import GridSession, Runner
from ansible_collections.threefold.grid.plugins.module_utils._views import view

Result = Dict[str, Any]


def remaining(deadline: float) -> int:
    return max(0, int(deadline - time.monotonic()))


def item_label(index: int, params: Dict[str, Any]) -> str:
    return "containers[%d] (%s)" % (index, params.get("name"))


def failed_result(name: Optional[str], error: Exception) -> Result:
    """An item's result for an error: zos_container's failure (msg, failure and what it returns)."""
    if not isinstance(error, GridError):
        return {"name": name, "failed": True, "changed": False,
                "msg": "Unexpected error: %s: %s" % (type(error).__name__, error)}
    result = dict(error.returns, name=name, failed=True, changed=bool(getattr(error, "payment", None)), msg=error.msg)
    failure = error.to_failure()
    if failure:
        result["failure"] = failure
    return result


def _clashes(items: List[Dict[str, Any]]) -> List[str]:
    """Two present containers with one name, or one address on one network: refused before anything runs."""
    problems = []
    seen: Dict[Tuple[str, Any], int] = {}
    for index, params in enumerate(items):
        keys = [("name", params["name"])]
        connection = params.get("network_connection") or {}
        if params["state"] == "present" and connection.get("ip_address"):
            keys.append(("address", (connection.get("name"), connection.get("ip_address"))))
        for key in keys:
            if key in seen:
                what = "named %r" % key[1] if key[0] == "name" else "given IP %s on network %s" % (key[1][1], key[1][0])
                problems.append("%s and %s are both %s" % (item_label(seen[key], items[seen[key]]),
                                                           item_label(index, params), what))
            seen.setdefault(key, index)
    return problems


class ContainerBatchRunner(Runner):
    def __init__(self, params: Dict[str, Any], session: GridSession, diff: bool = False) -> None:
        super(ContainerBatchRunner, self).__init__(params, session, diff)
        self.items: List[Dict[str, Any]] = list(params["containers"])
        self.parallel = max(1, int(params.get("parallel") or 1))
        self.reservations = Reservations(session)
        self.sessions: List[GridSession] = []
        self.pool: Optional[ThreadPoolExecutor] = None

    # ---- threads ---------------------------------------------------------------------------------

    def each(self, work: Callable[[int], Result], indexes: List[int]) -> Dict[int, Result]:
        """``work(index)`` for each index, in at most ``parallel`` threads; a raised error becomes that item's
        failure, so one container's failure never stops the others."""
        def guarded(index: int) -> Result:
            try:
                return dict(work(index), name=self.items[index]["name"])
            except Exception as error:  # pylint: disable=broad-except
                return failed_result(self.items[index]["name"], error)
        if not indexes:
            return {}
        if self.pool is None:
            # One pool for the task's passes: its threads serve the plan, every wave and the waits (starting
            # a thread costs about a millisecond of a busy core, three times per container with a pool per pass).
            self.pool = ThreadPoolExecutor(max_workers=min(self.parallel, len(self.items)))
        return dict(zip(indexes, self.pool.map(guarded, indexes)))

    def item_session(self, index: int, check_mode: bool) -> GridSession:
        """A session of the container's own (its warnings) on the task's client, identity and phonebook record."""
        session = GridSession(self.items[index], check_mode=check_mode, client=self.session.client,
                              identity=self.session.identity)
        session._user = self.session.user  # read once, before the threads start
        session.shared_reads = self.session.shared_reads
        return session

    def runner(self, index: int, session: GridSession, **overrides: Any) -> ContainerRunner:
        return ContainerRunner(dict(self.items[index], **overrides), session, self.diff_mode, self.reservations)

    # ---- passes ----------------------------------------------------------------------------------

    def plan(self, index: int) -> Result:
        session = self.sessions[index] = self.item_session(index, check_mode=True)
        return self.runner(index, session).run()

    def apply(self, index: int) -> Result:
        session = self.sessions[index] = self.item_session(index, check_mode=False)
        present = self.items[index]["state"] == "present"
        runner = self.runner(index, session, **({"wait": False} if present else {}))
        # A present container is waited for in the third pass, with all the others: no read of it in between.
        runner.lifecycle.read_after_payment = not (present and self.params["wait"])
        with self.reservations.writers.writing():
            return runner.run()

    def wait(self, index: int, deadline: float, result: Result) -> Result:
        """Wait for one container on its own (few are waited for, see _batch_wait.worthwhile)."""
        # Loaded by the containers that are waited for (an unchanged batch waits for none).
        from ansible_collections.threefold.grid.plugins.module_utils._reservation_wait import ReservationWaiter
        waiter = ReservationWaiter(self.sessions[index])
        try:
            outcome = waiter.wait_deployed(result["container"]["reservation_id"], remaining(deadline),
                                           self.params["wait_sleep"], paying=bool(self.items[index].get("payment")))
        except LifecycleError as error:
            return self.waited(index, result, error)
        return self.waited(index, result, outcome)

    def wait_together(self, indexes: List[int], deadline: float, results: Dict[int, Result]) -> Dict[int, Result]:
        """Wait for many containers through listings of the identity's reservations (_batch_wait.py)."""
        from ansible_collections.threefold.grid.plugins.module_utils._batch_wait import BatchWaiter
        index_of = dict((results[i]["container"]["reservation_id"], i) for i in indexes)
        outcomes = BatchWaiter(self.session).wait_all_deployed(
            dict((rid, bool(self.items[i].get("payment"))) for rid, i in index_of.items()), remaining(deadline),
            self.params["wait_sleep"], live=len(self.reservations.latest()))
        return dict((i, self.waited(i, results[i], outcomes[rid])) for rid, i in index_of.items())

    def waited(self, index: int, result: Result, outcome: Union[Tuple[Dict[str, Any], str], LifecycleError]) -> Result:
        """The container's result after its wait: ``outcome`` is (reservation, state) or the wait's error."""
        shown = result["container"]
        if isinstance(outcome, LifecycleError):
            if outcome.reservation is not None:
                outcome.reservation["escrow"] = shown["escrow"]
            outcome.returns = {"container": self.describe(index, outcome.reservation, shown)}
            failed = failed_result(shown["name"], outcome)
            failed.update(changed=result["changed"], action=result["action"])
            return failed
        reservation, _state = outcome
        current = view(reservation)
        current["escrow"] = shown["escrow"]
        return dict(result, container=self.describe(index, current, shown))

    def waits_together(self, count: int) -> bool:
        from ansible_collections.threefold.grid.plugins.module_utils._batch_wait import worthwhile
        return worthwhile(count, len(self.reservations.latest()))

    def describe(self, index: int, current: Optional[Dict[str, Any]], shown: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """The container as zos_container returns it, from a fresh view, keeping what the apply pass returned."""
        if current is None:
            return shown
        runner = self.runner(index, self.sessions[index])
        return runner.view(current, shown.get("replaced"), shown.get("payment"))

    def needs_wait(self, index: int, result: Result) -> bool:
        shown = result.get("container")
        if result.get("failed") or not shown or self.items[index]["state"] != "present" or shown["reservation_id"] is None:
            return False
        paid = bool(self.items[index].get("payment"))
        return (shown["state"] == "deploy" and shown["workload_state"] != "ok") or (shown["state"] == "pay" and paid)

    # ---- the task --------------------------------------------------------------------------------

    def refuse(self, problems: List[str], results: Optional[List[Result]] = None) -> None:
        """Fail the task before anything is signed, listing every problem."""
        error = SpecError("%d problem%s in containers, nothing was signed, registered or paid: %s"
                          % (len(problems), "" if len(problems) == 1 else "s", "; ".join(problems)))
        error.returns = {"containers": results or []}
        raise error

    def check_total(self, planned: Dict[int, Result]) -> None:
        """The wallet can pay every container the plan registers, not only each one alone."""
        payment = self.params.get("payment")
        estimates = [planned[i].get("estimate") for i in planned if planned[i].get("changed") and planned[i].get("estimate")]
        codes = set(estimate.get("currency") for estimate in estimates)
        if not payment or len(estimates) < 2 or len(codes) != 1:
            return
        total = sum(int(estimate.get("total_amount") or 0) for estimate in estimates)
        from ansible_collections.threefold.grid.plugins.module_utils._registration import Registrar  # paying tasks only
        try:
            Registrar(self.session, self.reservations).precheck(payment, {"total_amount": total,
                                                                          "currency": codes.pop()})
        except LifecycleError as error:
            self.refuse(["the %d containers to register together: %s" % (len(estimates), error.msg)],
                        [planned[i] for i in sorted(planned)])

    def add_ledger(self, results: List[Result], payer: str) -> List[Dict[str, Any]]:
        """Each returned container's ``ledger`` from one read for the whole batch; the identity's unmatched payments."""
        views = [result["container"] for result in results if result.get("container")]
        horizon_url = (self.params.get("payment") or {}).get("horizon_url")
        from ansible_collections.threefold.grid.plugins.module_utils import _money_views  # only when a ledger is asked for
        return _money_views.add_ledgers(self.session, views, payer, horizon_url)

    def run(self) -> Result:
        try:
            return self.run_passes()
        finally:
            if self.pool is not None:
                self.pool.shutdown()

    def run_passes(self) -> Result:
        # Checked before anything is signed; reading Horizon is opt-in as it costs requests on every re-run.
        payer = ledger_payer(self.params)
        problems = _clashes(self.items)
        if problems:
            self.refuse(problems)
        # Read once here, so that the threads share the client, the identity and the phonebook record.
        self.session.user  # pylint: disable=pointless-statement
        self.sessions = [self.session] * len(self.items)
        everything = list(range(len(self.items)))
        results = self.each(self.plan, everything)
        failed = [i for i in everything if results[i].get("failed")]
        if failed:
            self.refuse(["%s: %s" % (item_label(i, self.items[i]), results[i]["msg"]) for i in failed],
                        [results[i] for i in everything])
        self.check_total(results)
        if not self.check_mode:
            changing = [i for i in everything if results[i].get("changed")]
            # In waves of ``parallel``: a wave registers, one listing checks every registration (G4, the listings wait
            # for the wave: _pending_writers.py), then it pays, instead of listings and registrations slowing every
            # payment.
            for first in range(0, len(changing), self.parallel):
                wave = changing[first:first + self.parallel]
                self.reservations.writers.expect(len(wave))
                results.update(self.each(self.apply, wave))
            if self.params["wait"]:
                deadline = time.monotonic() + self.params["wait_timeout"]
                waiting = [i for i in everything if self.needs_wait(i, results[i])]
                if waiting and self.waits_together(len(waiting)):
                    results.update(self.wait_together(waiting, deadline, results))
                else:
                    results.update(self.each(lambda i: self.wait(i, deadline, results[i]), waiting))
        for index in everything:
            for warning in self.sessions[index].warnings:
                self.session.warn("%s: %s" % (item_label(index, self.items[index]), warning))
        ordered = [results[i] for i in everything]
        return self.outcome(ordered, self.add_ledger(ordered, payer) if payer else None)

    def outcome(self, results: List[Result], unmatched: Optional[List[Dict[str, Any]]] = None) -> Result:
        changed = any(result.get("changed") for result in results)
        outcome: Result = {"changed": changed, "containers": results}
        if unmatched is not None:
            outcome["unmatched_payments"] = unmatched
        if self.diff_mode:
            outcome["diff"] = {
                "before": dict((r["name"], r["diff"]["before"]) for r in results if r.get("changed") and "diff" in r),
                "after": dict((r["name"], r["diff"]["after"]) for r in results if r.get("changed") and "diff" in r)}
        failed = [(index, result) for index, result in enumerate(results) if result.get("failed")]
        if failed:
            error = LifecycleError("%d of %d containers failed (the others are done, see containers): %s" % (
                len(failed), len(results), "; ".join("%s: %s" % (item_label(index, self.items[index]), result["msg"])
                                                     for index, result in failed)))
            error.returns = dict(outcome, containers=results, changed=changed)
            error.returns.pop("diff", None)
            raise error
        return outcome
