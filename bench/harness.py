"""Shared pieces of the localgrid benchmarks: a localgrid subprocess, a signed-in customer, timed
reservation creation (serial and threaded) and the one-line-per-metric verdicts.

localgrid runs as its own process (``python -m localgrid serve``), as it does under the demo and
the integration tests: client threads in the same interpreter would otherwise compete with the
server for the GIL and the numbers would describe that contention instead of localgrid.
"""

import atexit
import concurrent.futures
import hashlib
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

import httpx
import yaml

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 180.0  # under load localgrid can take a minute to start
STOP_TIMEOUT = 15.0
# Nodes with at least this much SSD (GiB) take a share of 1 GiB volumes without running out.
MIN_NODE_SRU = 500


def _collection_root():
    """A temporary ``ansible_collections/threefold/grid`` that is a symlink to the working tree.

    The collection's code is the client the benchmarks drive, imported here and run by the
    ``ansible-playbook`` processes of the collection benchmarks (ANSIBLE_COLLECTIONS_PATH); the
    repository root is the collection root, so a symlink is enough: no build step, nothing copied.
    The symlink is removed at exit.
    """
    root = pathlib.Path(tempfile.mkdtemp(prefix="tfgrid-bench-path."))
    namespace = root / "ansible_collections" / "threefold"
    namespace.mkdir(parents=True)
    (namespace / "grid").symlink_to(REPO_ROOT, target_is_directory=True)

    def remove():
        (namespace / "grid").unlink()
        namespace.rmdir()
        namespace.parent.rmdir()
        root.rmdir()

    atexit.register(remove)
    return root


COLLECTIONS_ROOT = _collection_root()
sys.path.insert(0, str(COLLECTIONS_ROOT))
# A SIGTERM unwinds like Ctrl-C does, so every localgrid a benchmark started is stopped.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))

from ansible_collections.threefold.grid.plugins.module_utils import _workloads  # noqa: E402
from ansible_collections.threefold.grid.plugins.module_utils._explorer import ExplorerClient  # noqa: E402
from ansible_collections.threefold.grid.plugins.module_utils._identity import Identity  # noqa: E402

sys.path.insert(1, str(REPO_ROOT))
from localgrid.config import PROFILES  # noqa: E402


class LocalgridProcess:
    """``python -m localgrid serve`` on a free 127.0.0.1 port with a throw-away state file."""

    def __init__(self, payment="free", profile="fast", capacity_factor=1, runtime=None, ledger_close=None):
        self.workdir = tempfile.TemporaryDirectory(prefix="tfgrid-bench.")
        self.log_path = os.path.join(self.workdir.name, "localgrid.log")
        self.payment = payment
        self.profile = PROFILES[profile]
        command = [
            sys.executable, "-m", "localgrid", "serve", "--host", "127.0.0.1", "--port", "0",
            "--state", os.path.join(self.workdir.name, "state.db"), "--profile", profile, "--payment", payment,
        ]
        if capacity_factor != 1:
            command += ["--grid", _scaled_grid(self.workdir.name, capacity_factor)]
        if runtime is not None:
            command += ["--runtime", runtime]
        if ledger_close is not None:
            command += ["--ledger-close", str(ledger_close)]
        self.started_at = time.time()  # a fresh state's grid clock is the wall clock
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(command, cwd=str(REPO_ROOT), env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            self.base_url = self._wait_for_url()
        except BaseException:
            self.stop()
            raise
        self.explorer_url = self.base_url + "/explorer"
        self.horizon_url = self.base_url + "/stellar"

    def _wait_for_url(self):
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            with open(self.log_path, encoding="utf-8", errors="replace") as log:
                found = re.search(r"^localgrid listening on (http://[0-9.:]+)", log.read(), re.M)
            if found:
                return found.group(1)
            if self.process.poll() is not None:
                raise RuntimeError("localgrid exited during start-up:\n" + self.log_tail())
            time.sleep(0.05)
        raise RuntimeError("localgrid did not start within %.0f s:\n%s" % (STARTUP_TIMEOUT, self.log_tail()))

    def log_tail(self, lines=30):
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            return "".join(log.readlines()[-lines:])

    @property
    def pid(self):
        return self.process.pid

    def rss_mib(self):
        """Resident set size of the localgrid process, from /proc/<pid>/status (VmRSS, kB)."""
        with open("/proc/%d/status" % self.pid, encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
        raise RuntimeError("no VmRSS for pid %d" % self.pid)

    def cpu_seconds(self):
        """User + system CPU time of the localgrid process (every thread), from /proc/<pid>/stat."""
        with open("/proc/%d/stat" % self.pid, encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def wait_quiet(self, busy=0.2, timeout=120.0):
        """Wait until localgrid uses less than ``busy`` of a core over a second (the nodes have
        caught up with what was registered), at most ``timeout`` seconds; returns seconds waited."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            before = self.cpu_seconds()
            time.sleep(1.0)
            if self.cpu_seconds() - before < busy:
                break
        return time.monotonic() - started

    def grid_now(self):
        return httpx.get(self.base_url + "/localgrid/info", timeout=10).json()["now"]

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.workdir.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()


def _scaled_grid(directory, factor):
    """The packaged grid with every node's capacity multiplied by ``factor``: the collection
    benchmarks deploy hundreds of containers (1 vCPU each), more than the default grid's 80 vCPUs."""
    with open(REPO_ROOT / "localgrid" / "grids" / "default.yml", encoding="utf-8") as source:
        grid = yaml.safe_load(source)
    for node in grid["nodes"]:
        node["total_resources"] = {key: value * factor for key, value in node["total_resources"].items()}
    path = os.path.join(directory, "grid.yml")
    with open(path, "w", encoding="utf-8") as target:
        yaml.safe_dump(grid, target)
    return path


def live_storage_nodes(lg):
    """Ids of the nodes with room for volumes that are up."""
    return live_nodes(lg, sru=MIN_NODE_SRU)


def live_nodes(lg, **filters):
    """Ids of the nodes matching the explorer's ``filters`` that are up: their directory entry is fresh.

    localgrid registers a node of its grid file as last seen at start-up, or long before when
    the grid file marks it down (no agent runs for it).
    """
    with ExplorerClient(lg.explorer_url) as client:
        nodes = client.list_nodes(**filters)
    live = sorted(node["node_id"] for node in nodes if node["updated"] >= int(lg.started_at) - 1)
    if not live:
        raise RuntimeError("no live node matching %s" % filters)
    return live


def wait_deployed(lg, customers, stall_timeout=15.0):
    """Wait until the nodes have deployed every reservation of ``customers``.

    Returns (seconds waited, ids still without a result). It gives up once nothing new has been
    deployed for ``stall_timeout`` seconds: in free mode a node finds new reservations only by
    scanning from its cursor, 200 workloads per poll, and what a truncated scan skips is never
    rescanned (docs/contract/explorer.md §8), so a burst can leave a few behind for good.
    Raises when a node reports an error.
    """
    started = last_progress = time.monotonic()
    best = None
    with ExplorerClient(lg.explorer_url) as client:
        while True:
            pending = []
            for customer in customers:
                for reservation in client.get_all("/reservations", {"customer_tid": customer.tid}, page_size=1000):
                    states = [result["state"] for result in reservation["results"] or []]
                    if _workloads.RESULT_STATES["error"] in states:
                        raise RuntimeError("reservation %d failed on its node: %s"
                                           % (reservation["id"], reservation["results"]))
                    if not states:
                        pending.append(reservation["id"])
            now = time.monotonic()
            if not pending or (now - last_progress > stall_timeout):
                return now - started, pending
            if best is None or len(pending) < best:
                best, last_progress = len(pending), now
            time.sleep(0.5)


class Customer:
    """A 3Bot registered in the phonebook that signs volume reservations the way the collection does."""

    def __init__(self, lg, name, seed_file=None):
        """A new 3Bot ``name``, or the registered one whose seed is in ``seed_file``."""
        self.lg = lg
        with ExplorerClient(lg.explorer_url) as client:
            if seed_file is None:
                self.identity = Identity.generate()
                self.tid = int(client.create_user(name, name + "@bench.example", self.identity.public_key_hex)["id"])
            else:
                self.identity = Identity.from_file(str(seed_file))
                self.tid = int(client.find_users(name=name)[0]["id"])

    def volume_bodies(self, node_ids, count, label):
        """``count`` signed POST /reservations bodies, one 1 GiB volume each, nodes taken round-robin."""
        now = int(self.lg.grid_now())
        return [self.signed_body({"volumes": [_workloads.volume_workload(1, node_ids[index % len(node_ids)], 1)]},
                                 "%s-%d" % (label, index), "volume", now)
                for index in range(count)]

    def signed_body(self, workloads, name, kind, now, lifetime=2 * 3600):
        """A signed POST /reservations body laid out as the collection lays it out, with its metadata
        tag; ``workloads`` maps workload lists (``volumes``, ``containers``...) to their workloads."""
        data = {
            "description": "",
            "signing_request_provision": {"signers": [], "quorum_min": 0},
            "signing_request_delete": {"signers": [self.tid], "quorum_min": 1},
        }
        lists = _workloads.empty_workload_lists()
        lists.update(workloads)
        data.update(lists)
        data["expiration_provisioning"] = now + 1800
        data["expiration_reservation"] = now + lifetime
        data["currencies"] = ["TFT"]
        text = json.dumps(data)
        metadata = {"ansible": {"name": name, "kind": kind, "fp": hashlib.sha256(name.encode()).hexdigest()}}
        return {
            "json": text,
            "data_reservation": data,
            "customer_tid": self.tid,
            "customer_signature": self.identity.sign_reservation(text),
            "next_action": 0,
            "metadata": json.dumps(metadata, separators=(",", ":")),
        }


def create_serial(explorer_url, bodies):
    """Register every body with one client; returns (reservation ids, seconds)."""
    with ExplorerClient(explorer_url) as client:
        client.get("/nodes", params={"size": 1})  # connect before the clock starts
        started = time.perf_counter()
        ids = [int(client.create_reservation(body)["reservation_id"]) for body in bodies]
        return ids, time.perf_counter() - started


def create_parallel(explorer_url, bodies, threads):
    """Register the bodies from ``threads`` threads, each with its own client (like Ansible forks).

    Every thread takes an equal slice; all start together behind a barrier so the clock measures
    only the concurrent part. Returns (reservation ids, seconds).
    """
    return parallel_calls(explorer_url, bodies, threads,
                          lambda client, body: int(client.create_reservation(body)["reservation_id"]))


def delete_parallel(customer, bodies, ids, threads):
    """Sign the delete of each reservation (``ids``, registered from ``bodies``) from ``threads`` threads."""
    def sign_delete(client, item):
        body, rid = item
        client.sign_delete(rid, customer.tid, customer.identity.sign_reservation_action(rid, body["json"]))
        return rid

    return parallel_calls(customer.lg.explorer_url, list(zip(bodies, ids)), threads, sign_delete)


def parallel_calls(explorer_url, items, threads, call):
    """``call(client, item)`` for every item from ``threads`` threads with a client each; returns
    (results in the order of ``items``, seconds measured from the moment every client has connected)."""
    slices = [items[index::threads] for index in range(threads)]
    barrier = threading.Barrier(threads + 1, timeout=60)

    def worker(chunk):
        with ExplorerClient(explorer_url) as client:
            try:
                client.get("/nodes", params={"size": 1})  # connect before the clock starts
            finally:
                barrier.wait()  # even after a failure, so the main thread is not left waiting
            return [call(client, item) for item in chunk]

    with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [pool.submit(worker, chunk) for chunk in slices]
        barrier.wait()
        started = time.perf_counter()
        results = [None] * len(items)
        for index, future in enumerate(futures):
            results[index::threads] = future.result()
        return results, time.perf_counter() - started


def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2.0


def timed_rounds(rounds, variants):
    """{name: median seconds} of ``variants`` ({name: callable returning seconds}) run round by round."""
    times = {name: [] for name in variants}
    for _round in range(rounds):
        for name, run in variants.items():
            times[name].append(run())
    return {name: median(values) for name, values in times.items()}


class Verdicts:
    """One summary line per metric, and the exit status: non-zero when any target is missed."""

    def __init__(self):
        self.missed = []

    def info(self, text):
        print(text, flush=True)

    def at_least(self, metric, value, target):
        self._line(metric, value, ">=", target, value >= target)

    def at_most(self, metric, value, target):
        self._line(metric, value, "<=", target, value <= target)

    def require(self, what, ok, detail=""):
        print("%s: %s%s" % (what, "OK" if ok else "FAILED", " (%s)" % detail if detail else ""), flush=True)
        if not ok:
            self.missed.append(what)

    def _line(self, metric, value, op, target, ok):
        print("%s: %.2f (target %s %.2f) %s" % (metric, value, op, target, "OK" if ok else "MISSED"), flush=True)
        if not ok:
            self.missed.append(metric)

    def exit_status(self):
        if self.missed:
            print("targets missed: " + ", ".join(self.missed), flush=True)
            return 1
        return 0
