"""Network resources of the namespaces runtime: one namespace per network resource per node.

Inside it: wireguard-go's interface with the node's decrypted key, listen port and peers, a
route per peer's allowed range through it, and a bridge holding the gateway ``<subnet>.1`` where
containers plug their veth. The 10.x addresses exist only in these namespaces and the
containers'; the host reaches them only through a WireGuard tunnel of its own, whose datagrams
enter through the relay on the node's loopback endpoint (see relay.py).
"""

import dataclasses
import ipaddress
import logging
import os
import shutil
import signal
import subprocess
import threading

from localgrid.runtime import launch, netns, wireguard
from localgrid.runtime.base import StartError
from localgrid.runtime.layout import read_record, short_hash, write_record
from localgrid.runtime.relay import UdpRelay

log = logging.getLogger(__name__)
BRIDGE = "br0"


@dataclasses.dataclass
class NetworkConfig:
    net_id: str
    subnet: str
    private_key: str = dataclasses.field(repr=False)
    listen_port: int
    peers: list
    endpoint: str = ""  # the node's loopback public address, or "" (no relay)


@dataclasses.dataclass
class Resource:
    config: NetworkConfig
    home: str
    netns: str
    ifname: str
    process: object = None
    relay: object = None

    @property
    def gateway(self):
        return str(ipaddress.ip_network(self.config.subnet, strict=False).network_address + 1)


class NetworkResources:
    def __init__(self, tools, runtime_dir):
        self.tools = tools
        self.dir = runtime_dir
        self._resources = {}
        self._lock = threading.RLock()

    def _home(self, node_id, net_id):
        return os.path.join(self.dir.path, "networks", node_id, net_id)

    def up(self, node_id, config):
        """Create or update the resource; the namespace (and the containers in it) survives updates."""
        with self._lock:
            resource = self._resources.get((node_id, config.net_id))
            if resource is None:
                name = short_hash(self.dir.path, node_id, config.net_id)[:11]
                resource = Resource(config, self._home(node_id, config.net_id), "lgn" + name, "lgw" + name)
                try:
                    self._create(resource)
                except (StartError, OSError, netns.CommandError) as error:
                    self._destroy(resource)
                    if isinstance(error, StartError):
                        raise
                    raise StartError("failed to create network resource: %s" % error) from None
                self._resources[(node_id, config.net_id)] = resource
            self._configure(resource, config)

    def _create(self, resource):
        os.makedirs(resource.home, exist_ok=True)
        netns.add(self.tools["ip"], resource.netns)
        resource.process = wireguard.start(self.tools, netns.path(resource.netns), resource.ifname,
                                           os.path.join(resource.home, "wireguard.log"))
        write_record(os.path.join(resource.home, "run.json"), {
            "pid": resource.process.pid, "start_ticks": launch.start_ticks(resource.process.pid),
            "netns": resource.netns, "wg": resource.ifname})
        ip = [self.tools["ip"], "-n", resource.netns]
        netns.run(ip + ["link", "add", BRIDGE, "type", "bridge"])
        netns.run(ip + ["addr", "add", "%s/%d" % (resource.gateway, _prefix(resource.config.subnet)), "dev", BRIDGE])
        netns.run(ip + ["link", "set", BRIDGE, "up"])
        netns.run(ip + ["link", "set", resource.ifname, "up"])
        netns.run([self.tools["nsenter"], "--net=" + netns.path(resource.netns), "/bin/sh", "-c",
                   "echo 1 > /proc/sys/net/ipv4/ip_forward"])

    def _configure(self, resource, config):
        wireguard.configure(self.tools, resource.ifname, config.private_key, config.listen_port, config.peers)
        ip = [self.tools["ip"], "-n", resource.netns]
        netns.run(ip + ["route", "flush", "dev", resource.ifname])
        own = ipaddress.ip_network(config.subnet, strict=False)
        for peer in config.peers:
            for allowed in peer.get("allowed_iprange") or []:
                network = ipaddress.ip_network(allowed, strict=False)
                if network.version == 4 and not network.overlaps(own):
                    netns.run(ip + ["route", "replace", str(network), "dev", resource.ifname])
        if resource.relay is not None and (resource.config.endpoint, resource.config.listen_port) != (
                config.endpoint, config.listen_port):
            resource.relay.close()
            resource.relay = None
        if resource.relay is None and config.endpoint:
            try:
                resource.relay = UdpRelay(config.endpoint, config.listen_port, netns.path(resource.netns))
            except OSError as error:
                raise StartError("failed to create network resource: cannot listen on %s:%d (is another localgrid "
                                 "of this machine using it?): %s" % (config.endpoint, config.listen_port, error)) from None
        resource.config = config

    def namespace(self, node_id, net_id):
        """The name of the resource's namespace, or None when it does not run here."""
        with self._lock:
            resource = self._resources.get((node_id, net_id))
        return resource.netns if resource else None

    def attach(self, node_id, net_id, container_netns, veth, ipv4, ipv6):
        """Give a container's namespace its eth0 on the resource's bridge; False if the network is not here."""
        with self._lock:
            resource = self._resources.get((node_id, net_id))
        if resource is None:
            return False
        ip = self.tools["ip"]
        if _has_link(ip, resource.netns, veth):  # left by a container start that failed half-way
            netns.run([ip, "-n", resource.netns, "link", "del", veth])
        netns.run([ip, "-n", resource.netns, "link", "add", veth, "type", "veth", "peer", "name", "eth0",
                   "netns", container_netns])
        netns.run([ip, "-n", resource.netns, "link", "set", veth, "master", BRIDGE, "up"])
        inside = [ip, "-n", container_netns]
        netns.run(inside + ["addr", "add", "%s/24" % ipv4, "dev", "eth0"])
        if ipv6:
            netns.run(inside + ["addr", "add", "%s/64" % ipv6, "dev", "eth0", "nodad"])
        netns.run(inside + ["link", "set", "eth0", "up"])
        netns.run(inside + ["route", "add", "default", "via", resource.gateway])
        return True

    def down(self, node_id, net_id):
        with self._lock:
            resource = self._resources.pop((node_id, net_id), None)
        if resource is not None:
            self._destroy(resource)
        shutil.rmtree(self._home(node_id, net_id), ignore_errors=True)

    def _destroy(self, resource):
        if resource.relay is not None:
            resource.relay.close()
        if resource.process is not None and resource.process.poll() is None:
            resource.process.terminate()
            try:
                resource.process.wait(5)
            except subprocess.TimeoutExpired:
                resource.process.kill()
                resource.process.wait()
        _release(self.tools["ip"], resource.netns, resource.ifname)
        try:
            os.unlink(os.path.join(resource.home, "run.json"))
        except FileNotFoundError:
            pass

    def recover(self):
        cleaned = []
        base = os.path.join(self.dir.path, "networks")
        for node_id in sorted(os.listdir(base)) if os.path.isdir(base) else ():
            for net_id in sorted(os.listdir(os.path.join(base, node_id))):
                path = os.path.join(base, node_id, net_id, "run.json")
                record = read_record(path)
                if record is None:
                    continue
                pid = record.get("pid")
                if isinstance(pid, int) and launch.same_process(pid, record.get("start_ticks")):
                    launch.kill(pid, signal.SIGKILL)
                    launch.wait_gone([pid], 30)
                    cleaned.append("wireguard-go %d" % pid)
                _release(self.tools["ip"], record.get("netns"), record.get("wg"))
                cleaned.append("netns %s" % record.get("netns"))
                os.unlink(path)
        return cleaned

    def shutdown(self):
        with self._lock:
            resources, self._resources = list(self._resources.values()), {}
        for resource in resources:
            self._destroy(resource)


def _prefix(subnet):
    return ipaddress.ip_network(subnet, strict=False).prefixlen


def _has_link(ip, namespace, name):
    try:
        netns.run([ip, "-n", namespace, "link", "show", name])
    except netns.CommandError:
        return False
    return True


def _release(ip, namespace, ifname):
    if namespace and namespace.startswith("lgn"):
        try:
            netns.delete(ip, namespace)
        except netns.CommandError as error:
            log.warning("runtime: %s", error)
    if ifname and ifname.startswith("lgw"):
        try:
            os.unlink(wireguard.socket_path(ifname))  # a killed wireguard-go leaves its socket behind
        except FileNotFoundError:
            pass
