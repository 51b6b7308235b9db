"""Network resources of the namespaces runtime: one namespace per network resource per node.

Inside it, as 0-OS sets it up (zos ``pkg/network/nr/net_resource.go``, ``pkg/network/wireguard``):
wireguard-go's interface with the node's decrypted key, listen port and peers (each with a 20 s
persistent keepalive), the address ``100.64.<b>.<c>/16`` for the subnet ``10.<b>.<c>.0/24``, a
route for each peer's allowed subnet via that peer's ``100.64`` address, and a bridge holding the
gateway ``<subnet>.1`` where containers plug their veth. The 10.x addresses exist only in these
namespaces and the containers'; the host reaches them only through a WireGuard tunnel of its own,
whose datagrams enter through the relay on the node's loopback endpoint, and a resource reaches a
peer node's loopback endpoint through a peer relay (see relay.py).
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
from localgrid.runtime.relay import PeerRelay, UdpRelay

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
    peer_relays: dict = dataclasses.field(default_factory=dict)  # (source, (host, port)) -> PeerRelay

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
        try:
            peers = self._through_relays(resource, config)
        except OSError as error:
            raise StartError("failed to create network resource: cannot relay to a peer: %s" % error) from None
        wireguard.configure(self.tools, resource.ifname, config.private_key, config.listen_port, peers)
        ip = [self.tools["ip"], "-n", resource.netns]
        netns.run(ip + ["addr", "replace", "%s/16" % wireguard_address(config.subnet), "dev", resource.ifname])
        netns.run(ip + ["route", "flush", "dev", resource.ifname, "proto", "static"])
        for destination, gateway in peer_routes(config.subnet, config.peers):
            via = ["via", gateway] if gateway else []
            netns.run(ip + ["route", "replace", destination, *via, "dev", resource.ifname, "proto", "static"])
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
        if config.endpoint:  # what a user's tunnel points at: a restart after a crash looks for stale ones
            write_record(os.path.join(resource.home, "run.json"), dict(
                read_record(os.path.join(resource.home, "run.json")) or {},
                endpoint="%s:%d" % (config.endpoint, config.listen_port)))

    def _through_relays(self, resource, config):
        """The peers as WireGuard in the namespace must see them: an endpoint on this machine's loopback
        becomes the address of a peer relay to it (kept across updates; relays no peer needs are closed)."""
        source = config.endpoint or "127.0.0.1"
        relays, peers = {}, []
        for peer in config.peers:
            target = loopback_endpoint(peer.get("endpoint"))
            if target:
                key = (source, target)
                relays[key] = relays.get(key) or resource.peer_relays.pop(key, None) or PeerRelay(
                    netns.path(resource.netns), source, target)
                peer = dict(peer, endpoint=relays[key].address)
            peers.append(peer)
        for unused in resource.peer_relays.values():
            unused.close()
        resource.peer_relays = relays
        return peers

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
        for relay in resource.peer_relays.values():
            relay.close()
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
        """Kill the wireguard-go processes and remove the namespaces a crashed previous run recorded.
        Returns (what was cleaned, the endpoints its resources served)."""
        cleaned, endpoints = [], set()
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
                if record.get("endpoint"):
                    endpoints.add(record["endpoint"])
                os.unlink(path)
        return cleaned, endpoints

    def shutdown(self):
        with self._lock:
            resources, self._resources = list(self._resources.values()), {}
        for resource in resources:
            self._destroy(resource)


def wireguard_address(subnet):
    """0-OS's address of a resource on its WireGuard interface: 10.b.c.0/24 -> 100.64.b.c."""
    octets = ipaddress.ip_network(subnet, strict=False).network_address.packed
    return "100.64.%d.%d" % (octets[1], octets[2])


def peer_routes(subnet, peers):
    """(destination, gateway) of each route to a peer, as 0-OS adds them: every IPv4 allowed range of the
    peer that is a subnet (not a single address), via the peer's 100.64 address (none without its subnet);
    ranges overlapping the resource's own subnet are left out."""
    own = ipaddress.ip_network(subnet, strict=False)
    routes = []
    for peer in peers:
        try:
            gateway = wireguard_address(peer.get("iprange") or "")
        except ValueError:
            gateway = ""
        for allowed in peer.get("allowed_iprange") or []:
            network = ipaddress.ip_network(allowed, strict=False)
            if network.version == 4 and network.prefixlen < 32 and not network.overlaps(own):
                routes.append((str(network), gateway))
    return routes


def loopback_endpoint(endpoint):
    """(host, port) of an IPv4 ``host:port`` endpoint on this machine's loopback, else None."""
    host, _sep, port = (endpoint or "").rpartition(":")
    try:
        address = ipaddress.ip_address(host)
        number = int(port)
    except ValueError:
        return None
    return (host, number) if address.version == 4 and address.is_loopback and 0 < number < 65536 else None


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
