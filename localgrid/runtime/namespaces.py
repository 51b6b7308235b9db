"""The namespaces runtime: every container really runs, as PID 1 of its own namespaces.

Restart policy (docs/contract/node.md §3): 0-OS creates each container with containerd's restart
monitor set to keep the task running (zos ``pkg/container/container.go``, ``restart.WithStatus(Running)``),
whatever the exit status.
localgrid does the same after ``restart_delay`` seconds (containerd checks every 10 s) and writes
each exit to the container's output. Deleting follows 0-OS too: no more restarts, SIGTERM to PID 1,
SIGKILL after ``stop_grace`` seconds. One difference: an entrypoint that exits within
``start_grace`` seconds of its first start fails the workload instead of restarting for ever.
"""

import dataclasses
import logging
import os
import shutil
import signal
import subprocess
import threading
import time

from localgrid.runtime import corex, entrypoint, launch, logs, netns, recipes, wireguard
from localgrid.runtime.base import Runtime, StartError
from localgrid.runtime.cgroups import Cgroups
from localgrid.runtime.images import ImageCache
from localgrid.runtime.layout import RuntimeDir, short_hash, write_record
from localgrid.runtime.networks import NetworkResources
from localgrid.runtime.probe import tool_paths

log = logging.getLogger(__name__)
MONITOR_INTERVAL = 0.2
OUTPUT_TAIL_BYTES = 2048


@dataclasses.dataclass
class Running:
    spec: object
    layout: object
    netns: str
    cgroup_procs: str
    mounts: list
    argv: list = dataclasses.field(default_factory=list)
    output: object = None  # logs.OutputFile
    channels: tuple = ((), ())  # redis channels of stdout, stderr
    process: object = None
    pumps: list = dataclasses.field(default_factory=list)
    exited_at: float = None
    restarts: int = 0

    def note(self, text):
        """A line of the runtime's own (an exit, a restart) in the output and on the stderr channels."""
        line = ("[localgrid] " + text).encode()
        self.output.write(line + b"\n")
        for channel in self.channels[1]:
            channel.publish(line)


class NamespaceRuntime(Runtime):
    name = "namespaces"

    def __init__(self, runtime_dir, cache_dir, hub_base_url, start_grace=1.0, stop_grace=3.0, restart_delay=1.0):
        super().__init__("root, unshare and /dev/net/tun are available")
        self.tools = tool_paths()
        self.dir = RuntimeDir(runtime_dir)
        launch.prepare_skeleton(self.dir.skeleton)
        self.images = ImageCache(cache_dir, hub_base_url, self.tools["tar"])
        self.cgroups = Cgroups(self.dir.cgroup_group())
        self.networks = NetworkResources(self.tools, self.dir)
        self.start_grace = start_grace
        self.stop_grace = stop_grace
        self.restart_delay = restart_delay
        self.stale_tunnels = []  # (interface, endpoint) found by recover()
        self._running = {}
        self._not_run = {}  # (node_id, gwid) -> why a deployed container does not run
        self._lock = threading.RLock()
        self._containers_changed = threading.Condition(self._lock)  # the monitor sleeps while nothing runs
        self._stop = threading.Event()
        self._monitor = threading.Thread(target=self._watch, name="runtime-monitor", daemon=True)
        self._monitor.start()

    def describe(self):
        with self._lock:
            running = sum(1 for item in self._running.values() if item.process and item.process.poll() is None)
        return {"name": self.name, "reason": self.reason, "cgroup_limits": self.cgroups.status,
                "state_dir": self.dir.path, "images_dir": self.images.images_dir, "running_containers": running,
                "stale_tunnels": ["%s (peer %s)" % pair for pair in self.stale_tunnels]}

    # volumes ----------------------------------------------------------------------------------
    def create_volume(self, node_id, volume_id):
        os.makedirs(self.dir.volume(node_id, volume_id), exist_ok=True)

    def remove_volume(self, node_id, volume_id):
        shutil.rmtree(self.dir.volume(node_id, volume_id), ignore_errors=True)

    # networks ---------------------------------------------------------------------------------
    def network_up(self, node_id, config):
        self.networks.up(node_id, config)

    def network_down(self, node_id, net_id):
        self.networks.down(node_id, net_id)

    # containers -------------------------------------------------------------------------------
    def start_container(self, spec, http):
        lower = self.images.rootfs(spec.flist_url, http, spec.image, spec.recipe)
        if lower is None:
            if spec.recipe:
                why = "%s runs image %s, which is not built (python -m localgrid image build %s): deployed, not run" % (
                    spec.flist_url, spec.recipe, spec.recipe)
            else:
                why = "%s is %s" % (spec.flist_url, recipes.NOT_RUNNABLE)
            log.warning("container %s: %s", spec.gwid, why)
            with self._lock:
                self._not_run[(spec.node_id, spec.gwid)] = why
            return ""
        if not spec.interactive:  # an interactive container runs coreX, whatever its entrypoint
            entrypoint.check(lower, spec.argv, spec.env.get("PATH"))
        self.remove_container(spec.node_id, spec.gwid, keep_files=True)
        layout = self.dir.container(spec.node_id, spec.gwid, lower)
        first_start = not os.path.isdir(layout.home)  # a restart keeps the container's writes, even if it fails
        running = self._describe(spec, layout)
        try:
            self._prepare(running)
            self._launch(running)
            self._wait_started(running)
        except (StartError, OSError, netns.CommandError) as error:
            self._teardown(running)
            if first_start:
                shutil.rmtree(layout.home, ignore_errors=True)
            if isinstance(error, StartError):
                raise
            raise StartError("error starting container: %s" % error) from None
        with self._lock:
            self._running[(spec.node_id, spec.gwid)] = running
            self._containers_changed.notify_all()
        return "" if spec.recipe else os.path.basename(lower)

    def _describe(self, spec, layout):
        mounts = [(self.dir.volume(spec.node_id, volume_id), mountpoint) for volume_id, mountpoint in spec.volumes]
        argv = spec.argv
        if spec.interactive:
            mounts.append((os.path.join(layout.home, "corex"), "/corex"))
            argv = corex.ARGV
        return Running(spec, layout, self.dir.netns_name(spec.node_id, spec.gwid), None, mounts, argv,
                       logs.OutputFile(layout.output), logs.channels(spec.logs))

    def _prepare(self, running):
        """Files and cgroup of a container about to start."""
        spec = running.spec
        running.layout.create()
        for volume_id, _mountpoint in spec.volumes:
            self.create_volume(spec.node_id, volume_id)
        if spec.interactive:
            corex.install(os.path.join(running.layout.home, "corex"), self.tools["busybox"])
        running.cgroup_procs = self.cgroups.create(running.netns, spec.cpu, spec.memory_mib)

    def _enter_network(self, running):
        """In the thread starting the container: its network namespace, made with eth0 on its network the
        first time (one thread does it all: each thread handed work is a wake-up, slow on a loaded machine)."""
        if netns.exists(running.netns):
            netns.enter(running.netns)
            return
        try:
            netns.create_here(self.tools["ip"], running.netns)
        except netns.CommandError as error:
            raise StartError("error starting container: cannot create its network namespace: %s" % error) from None
        spec = running.spec
        if spec.network:
            net_id, ipv4, ipv6 = spec.network
            veth = "v" + short_hash(self.dir.path, spec.node_id, spec.gwid)[:12]
            try:
                attached = self.networks.attach(spec.node_id, net_id, running.netns, veth, ipv4, ipv6)
            except netns.CommandError as error:
                raise StartError("error starting container: cannot join network %s: %s" % (net_id, error)) from None
            if not attached:
                log.warning("container %s: network %s does not run here; the container has no eth0", spec.gwid, net_id)

    def _launch(self, running):
        # A stream with no redis channel goes straight to the output file (appending, like the notes):
        # no pipe, no thread copying it.
        with open(running.layout.output, "ab") as direct:
            streams = [subprocess.PIPE if channels else direct for channels in running.channels]
            running.process = launch.start(
                self.tools["busybox"], running.layout, lambda: self._enter_network(running), running.cgroup_procs,
                running.spec.gwid, running.mounts, running.argv, running.spec.env, streams)
        piped = zip((running.process.stdout, running.process.stderr), running.channels)
        running.pumps = [logs.pump(stream, running.output, channels) for stream, channels in piped if stream]
        running.exited_at = None
        write_record(running.layout.record, {
            "pid": running.process.pid, "start_ticks": launch.start_ticks(running.process.pid),
            "netns": running.netns, "cgroup": running.netns if running.cgroup_procs else None,
        })

    def _wait_started(self, running):
        try:
            status = running.process.wait(self.start_grace)
        except subprocess.TimeoutExpired:
            return
        for pump in running.pumps:
            pump.join(5)
        raise StartError("error starting container: %s exited at once with status %d%s" % (
            running.argv[0], status, _last_line(running.layout.output)))

    def remove_container(self, node_id, gwid, keep_files=False):
        with self._lock:
            running = self._running.pop((node_id, gwid), None)
            self._not_run.pop((node_id, gwid), None)
        if running is not None:
            self._teardown(running)
        if not keep_files:
            shutil.rmtree(self.dir.container(node_id, gwid).home, ignore_errors=True)

    def _teardown(self, running):
        """Stop the processes, then remove the namespace, cgroup and record (not the files)."""
        process = running.process
        if process is not None and process.poll() is None:
            launch.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(self.stop_grace)
            except subprocess.TimeoutExpired:
                launch.kill(process.pid, signal.SIGKILL)  # SIGKILL of PID 1 ends its whole PID namespace
                process.wait(30)
        _release(self.tools["ip"], self.cgroups, running.netns, running.cgroup_procs and running.netns)
        for channel in running.channels[0] + running.channels[1]:
            channel.close()
        try:
            os.unlink(running.layout.record)
        except FileNotFoundError:
            pass

    def container_pids(self):
        """The host pid of each running container's PID 1 (its container's processes descend from it)."""
        with self._lock:
            return [item.process.pid for item in self._running.values() if item.process.poll() is None]

    def not_running(self, node_id, gwid):
        with self._lock:
            return self._not_run.get((node_id, gwid))

    def output(self, node_id, gwid):
        try:
            with open(self.dir.container(node_id, gwid).output, "rb") as handle:
                return handle.read().decode(errors="replace")
        except FileNotFoundError:
            return None

    # restarts ---------------------------------------------------------------------------------
    def _watch(self):
        while True:
            with self._lock:
                self._containers_changed.wait_for(lambda: self._running or self._stop.is_set())
            if self._stop.wait(MONITOR_INTERVAL):
                return
            with self._lock:
                for running in list(self._running.values()):
                    self._restart_if_exited(running)

    def _restart_if_exited(self, running):
        status = running.process.poll()
        if status is None:
            return
        now = time.monotonic()
        if running.exited_at is None:
            running.exited_at = now
            running.note("%s exited with status %d; restarting in %.1f s" % (
                running.argv[0], status, self.restart_delay))
            return
        if now - running.exited_at >= self.restart_delay:
            running.restarts += 1
            try:
                self._launch(running)
            except (StartError, OSError, netns.CommandError) as error:
                running.exited_at = now
                running.note("restart failed: %s" % error)

    # process lifecycle ------------------------------------------------------------------------
    def recover(self):
        """Kill processes and remove namespaces a previous run of this state recorded (it crashed)."""
        cleaned = []
        for path, record in self.dir.records():
            pid = record.get("pid")
            if isinstance(pid, int) and launch.same_process(pid, record.get("start_ticks")):
                launch.kill(pid, signal.SIGKILL)
                launch.wait_gone([pid], 30)
                cleaned.append("process %d" % pid)
            _release(self.tools["ip"], self.cgroups, record.get("netns"), record.get("cgroup"))
            if record.get("netns"):
                cleaned.append("netns %s" % record["netns"])
            os.unlink(path)
        networks_cleaned, endpoints = self.networks.recover()
        cleaned += networks_cleaned
        if cleaned:
            log.warning("runtime: cleaned up after the previous run: %s", ", ".join(cleaned))
        self.stale_tunnels = wireguard.host_tunnels_to(self.tools, endpoints)
        for interface, endpoint in self.stale_tunnels:
            log.warning("runtime: WireGuard interface %s on this machine was brought up against the previous run (its "
                        "peer is %s): localgrid does not take it over; bring it down (wg-quick down %s) and up "
                        "again once the network is deployed", interface, endpoint, interface)
        return cleaned

    def shutdown(self):
        self._stop.set()
        with self._lock:
            self._containers_changed.notify_all()
        self._monitor.join(timeout=5)
        with self._lock:
            running, self._running = list(self._running.values()), {}
        # Every container gets its SIGTERM first, so stopping them all takes one grace period, not one each.
        for item in running:
            if item.process is not None and item.process.poll() is None:
                launch.kill(item.process.pid, signal.SIGTERM)
        for item in running:
            self._teardown(item)
        self.networks.shutdown()


def _release(ip, cgroups, netns_name, cgroup_name):
    if netns_name and netns_name.startswith("lgc"):
        try:
            netns.delete(ip, netns_name)
        except netns.CommandError as error:
            log.warning("runtime: %s", error)
    if cgroup_name:
        cgroups.remove(cgroup_name)


def _last_line(path):
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, os.path.getsize(path) - OUTPUT_TAIL_BYTES))
            lines = handle.read().decode(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return ": %s" % lines[-1] if lines else ""
