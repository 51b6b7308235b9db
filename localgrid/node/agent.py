"""One simulated 0-OS node: provisiond's poll loop over HTTP, plus its expiry scan and uptime.

Per poll batch the node handles networks, zdbs, volumes, containers, then kubernetes VMs (so a
container can use a network or volume of the same reservation). A workload that is marked
``to_delete`` or has outlived ``created + duration`` is decommissioned and reported deleted;
anything else is provisioned unless the local cache already has it, and the result is PUT back.
The cache and the poll cursor live in the store, so a restart neither redoes nor forgets work.
"""

import logging
import threading
import time

from localgrid.keys import node_id_of, node_signing_key
from localgrid.node import result
from localgrid.node.client import ExplorerClient, ExplorerUnavailable
from localgrid.node.provision import container, kubernetes, network, volume, zdb
from localgrid.node.provision.base import NodeContext, ProvisionError
from localgrid.node.secrets import node_box
from localgrid.node.state import NodeState
from localgrid.runtime.base import Runtime
from localgrid.wakeup import Wakeup

log = logging.getLogger(__name__)

PROVISIONERS = {
    result.NETWORK: network,
    result.ZDB: zdb,
    result.VOLUME: volume,
    result.CONTAINER: container,
    result.KUBERNETES: kubernetes,
}
# provisiond's order within one batch.
ORDER = [result.NETWORK, result.ZDB, result.VOLUME, result.CONTAINER, result.KUBERNETES]
USED_COUNTER_NAMES = {
    result.NETWORK: "network", result.VOLUME: "volume", result.ZDB: "zdb_namespace",
    result.CONTAINER: "container", result.KUBERNETES: "k8s_vm",
}
# A timed wake comes this long after the grid time it waits for: expiry is "strictly after".
DUE_MARGIN = 0.05


def zos_version(text):
    """"v0.3.5" -> (0, 3, 5); nodes without one behave as v0.3.4, the release the contract follows."""
    if not text:
        return (0, 3, 4)
    return tuple(int(part) for part in str(text).lstrip("v").split("."))


class NodeAgent:
    # What this kind of box deploys, in which order, and how it names its counters; the gateway
    # agent (localgrid/gateway/agent.py) swaps these for tfgateway's.
    provisioners = PROVISIONERS
    order = ORDER
    counter_names = USED_COUNTER_NAMES
    directory_kind = "nodes"

    def __init__(
        self, node, explorer_url, hub_base_url, store, clock, profile, flist_catalogue, transport=None, wakeup=None,
        runtime=None,
    ):
        self.signing_key = node_signing_key(node["seed"])
        self.node_id = node_id_of(self.signing_key.verify_key)
        # The grid file names nodes by ``hostname``; ``name`` is accepted too.
        self.name = node.get("name") or node.get("hostname") or self.node_id
        self.clock = clock
        self.profile = profile
        self.state = NodeState(store, self.node_id)
        self.client = ExplorerClient(
            explorer_url, self.node_id, self.signing_key, clock.now, transport=transport, kind=self.directory_kind,
        )
        self.ctx = NodeContext(
            node_id=self.node_id,
            signing_key=self.signing_key,
            box=node_box(self.signing_key),
            total_resources=dict(node.get("total_resources") or {}),
            public_config=node.get("public_config"),
            state=self.state,
            hub_base_url=hub_base_url,
            flist_catalogue=list(flist_catalogue or []),
            http=self.client.http,
            reserved_ports=tuple(node.get("wg_ports") or ()),
            runtime=runtime or Runtime(),
            zos_version=zos_version(node.get("zos_version")),
        )
        self._started_at = clock.now()
        self._uptime_due = self._started_at  # grid times: report at the first tick
        self._expiry_retry_at = 0.0  # a failed expiry scan is retried from then on
        # Notified by the explorer when it has new work; an agent of its own is only woken to stop.
        self.wakeup = wakeup or Wakeup()
        self._stop = threading.Event()
        self._thread = None

    # lifecycle -------------------------------------------------------------------------------
    def start(self):
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="node-%s" % self.name, daemon=True)
        self._thread.start()

    def stop(self):
        self._stop.set()
        self.wakeup.notify()
        if self._thread is not None:
            self._thread.join(timeout=max(5.0, self.profile.node_poll_interval + 1))
            self._thread = None
        self.client.close()

    def _run(self):
        # Each tick waits first: the explorer of the same process starts listening only after
        # the app's startup, which is where the agents are started. A poll that found work polls
        # again after node_poll_interval; one that failed retries with a pause doubling up to
        # node_retry_interval; one that found nothing doubles its pause up to the (long) idle
        # interval, since the explorer wakes the agent when it has new work or the clock moves.
        # The expiry scan and the uptime report wake the agent when they fall due, not every tick.
        capacity_reported = False
        pause = self.profile.node_poll_interval
        seen = self.wakeup.generation
        while True:
            self.wakeup.wait(seen, min(pause, self._until_due()))
            if self._stop.is_set():
                return
            seen = self.wakeup.generation
            if not capacity_reported:
                capacity_reported = self._guarded("capacity report", self.report_used_resources)
            handled = []
            polled = self._guarded("poll", lambda: handled.append(self.poll_once()))
            pause = self._next_pause(pause, polled, bool(handled and handled[0]))
            self._run_due()

    def _next_pause(self, pause, polled, busy):
        if busy:
            return self.profile.node_poll_interval
        ceiling = self.profile.node_idle_poll_interval if polled else self.profile.node_retry_interval
        return min(2 * pause, ceiling)

    def _until_due(self):
        """Seconds until the expiry scan or the uptime report falls due (grid time)."""
        due = self._uptime_due
        next_expiry = self.state.next_expiry()
        if next_expiry is not None:
            due = min(due, max(next_expiry, self._expiry_retry_at))
        return max(0.0, due - self.clock.now()) + DUE_MARGIN

    def _run_due(self):
        now = self.clock.now()
        next_expiry = self.state.next_expiry()
        if next_expiry is not None and next_expiry < now and now >= self._expiry_retry_at:
            if not self._guarded("expiry scan", self.decommission_expired):
                self._expiry_retry_at = now + self.profile.node_expiry_interval
        if now >= self._uptime_due:
            reported = self._guarded("uptime", self.report_uptime)
            self._uptime_due = now + (self.profile.node_uptime_interval if reported else self.profile.node_retry_interval)

    def _guarded(self, what, action):
        """0-OS logs and retries on the next tick whatever the explorer throws at it."""
        try:
            action()
            return True
        except ExplorerUnavailable as error:
            log.warning("node %s: %s failed: %s", self.name, what, error)
        except Exception:
            log.exception("node %s: %s crashed", self.name, what)
        return False

    def restore(self):
        """After a restart: bring back what the cache says is deployed (0-OS does so at boot)."""
        for category in ORDER:
            again = getattr(PROVISIONERS[category], "restore", None)
            for cached in self.state.deployed([category]) if again else ():
                try:
                    again(self.ctx, cached)
                except Exception:
                    log.exception("node %s: cannot restore workload %s", self.name, cached["gwid"])

    # one poll --------------------------------------------------------------------------------
    def poll_once(self):
        """Fetch the next batch, act on every workload, and return how many were handled."""
        self.retry_unreported()
        cursor = self.state.cursor()
        workloads, next_cursor = self.client.poll(cursor)
        mine = [w for w in workloads if w.get("node_id") == self.node_id and w.get("type") in self.provisioners]
        mine.sort(key=lambda w: self.order.index(w["type"]))
        changed = set()
        try:
            for workload in mine:
                try:
                    changed.add(self.handle(workload))
                except ExplorerUnavailable:
                    raise
                except Exception:
                    # Like a workload 0-OS cannot decode: logged, no result, the batch goes on.
                    log.exception("node %s: cannot handle workload %s", self.name, workload.get("workload_id"))
        finally:
            self._report_telemetry(changed)
        # Only after the whole batch: a crash or explorer error re-fetches it, and the cache
        # makes the second pass skip what was already done.
        self.state.set_cursor(next_cursor)
        return len(mine)

    def handle(self, workload):
        """Provision or decommission ``workload``; returns the category whose capacity changed, or None."""
        if workload.get("to_delete") or self._expired(workload):
            return self.decommission(workload["workload_id"])
        return self.provision(workload)

    def _expired(self, workload):
        return float(workload.get("created") or 0) + float(workload.get("duration") or 0) < self.clock.now()

    def provision(self, workload):
        gwid = workload["workload_id"]
        if self.state.workload(gwid) is not None:
            return None
        category = workload["type"]
        provisioner = self.provisioners[category]
        try:
            deployment = provisioner.provision(self.ctx, workload)
        except ProvisionError as error:
            log.info("node %s: %s failed: %s", self.name, gwid, error.message)
            data = error.data if error.data is not None else result.ZERO_DATA[category]
            self._put(category, gwid, result.STATE_ERROR, error.message, data)
            return category
        expires_at = float(workload["created"]) + float(workload["duration"])
        self.state.add_workload(
            gwid, category, workload["user"], expires_at,
            {"result": deployment.data, "details": deployment.details}, deployment.usage,
        )
        self._report_ok(gwid, category, deployment.data)
        return category

    def _report_ok(self, gwid, category, data):
        self._put(category, gwid, result.STATE_OK, "", data)
        self.state.mark_reported(gwid)

    def retry_unreported(self):
        """Results of deployed workloads whose PUT did not get through earlier."""
        for cached in self.state.unreported_workloads():
            self._report_ok(cached["gwid"], cached["category"], cached["data"]["result"])

    def _put(self, category, gwid, state, message, data):
        body = result.result_body(self.signing_key, category, gwid, state, message, data, self.clock.now())
        self.client.put_result(gwid, body)

    def decommission(self, gwid):
        cached = self.state.workload(gwid)
        if cached is not None:
            undo = getattr(self.provisioners[cached["category"]], "decommission", None)
            if undo is not None:
                undo(self.ctx, cached)  # idempotent, so a retry after a failed DELETE is harmless
        # Reported even when it was never deployed (failed workloads are not cached).
        self.client.report_deleted(gwid)
        if cached is None:
            return None
        # Dropped only once the explorer knows, so the expiry scan retries a lost DELETE.
        self.state.remove_workload(gwid)
        return cached["category"]

    def decommission_expired(self):
        """provisiond's cache janitor: workloads past ``created + duration`` go, even unasked."""
        expired = self.state.expired_workloads(self.clock.now())
        changed = set()
        try:
            for cached in expired:
                changed.add(self.decommission(cached["gwid"]))
        finally:
            self._report_telemetry(changed)
        return len(expired)

    # telemetry -------------------------------------------------------------------------------
    def _report_telemetry(self, categories):
        """Best effort, once per batch (not per workload, which doubled a burst's requests) for the
        ``categories`` whose capacity changed; a lost report must not replay the batch's results."""
        categories = set(categories) - {None}
        if not categories:
            return
        if result.NETWORK in categories:
            self._guarded("ports report", self.report_ports)
        self._guarded("capacity report", self.report_used_resources)

    def report_used_resources(self):
        used = self.state.used_resources()
        counts = {self.counter_names[category]: n for category, n in used["counts"].items()}
        self.client.post_used_resources(used, counts)

    def report_ports(self):
        ports = {nr["listen_port"] for nr in self.state.networks()} | set(self.ctx.reserved_ports)
        self.client.post_ports(ports)

    def report_uptime(self):
        self.client.post_uptime(self.clock.now() - self._started_at)
