"""The network path for real: a network resource is a WireGuard interface in its own namespace,
reached through the node's loopback endpoint; a user's tunnel reaches a container's private IPv4;
containers on two nodes reach each other over the nodes' WireGuard interfaces; the host itself gets
no route to the private range."""

import base64
import ipaddress
import socket
import subprocess

import nacl.public
import pytest

from localgrid.runtime import netns
from localgrid.runtime.networks import loopback_endpoint, peer_routes, wireguard_address
from localgrid.tests.conftest import wait_for
from localgrid.tests.conftest import container
from localgrid.tests.runtime_support import Deployer, free_udp_port, publish, require_namespaces
from localgrid.tests.test_node_e2e import seal
from localgrid.tests.wireguard_client import WireguardClient


def _keypair():
    private = nacl.public.PrivateKey.generate()
    return base64.b64encode(bytes(private)).decode(), base64.b64encode(bytes(private.public_key)).decode()


@pytest.fixture
def loopback_localgrid(start_localgrid):
    """A localgrid (namespaces runtime) of the default grid, whose public nodes' IPv4 are loopback addresses."""
    require_namespaces()
    return start_localgrid(payment="free", runtime="namespaces")


def test_addresses_and_routes_follow_zos():
    assert wireguard_address("10.3.1.0/24") == "100.64.3.1"
    peers = [{"iprange": "10.240.2.0/24", "allowed_iprange": ["10.240.2.0/24", "100.64.240.2/32", "10.241.0.0/16"]},
             {"iprange": "", "allowed_iprange": ["10.240.1.128/25", "10.250.0.0/24", "fd00::/64"]}]
    assert peer_routes("10.240.1.0/24", peers) == [
        ("10.240.2.0/24", "100.64.240.2"), ("10.241.0.0/16", "100.64.240.2"), ("10.250.0.0/24", "")]
    assert loopback_endpoint("127.0.1.11:3000") == ("127.0.1.11", 3000)
    for elsewhere in ("192.0.2.1:3000", "[::1]:3000", "127.0.1.11", "127.0.1.11:0", "", None):
        assert loopback_endpoint(elsewhere) is None


ARPHRD_NONE = 65534  # the link type of a TUN device: a (userspace) WireGuard tunnel


def _host_devices_for(prefix):
    """Host devices with an IPv4 address or route in ``prefix``, except WireGuard tunnels (TUN devices): a
    user's wg-quick tunnel (maybe another test's, on this shared machine) is the one way in it may have."""
    found = set()
    for argv in (["ip", "-4", "-o", "addr"], ["ip", "-4", "route", "show", "table", "all"]):
        for line in subprocess.run(argv, capture_output=True, text=True, check=True).stdout.splitlines():
            words = line.split()
            if prefix in line:
                found.add(words[1] if argv[2] == "-o" else words[words.index("dev") + 1] if "dev" in words else line)
    tunnels = set()
    for device in found:
        try:
            with open("/sys/class/net/%s/type" % device, encoding="ascii") as handle:
                if int(handle.read()) == ARPHRD_NONE:
                    tunnels.add(device)
        except (OSError, ValueError):
            continue
    return found - tunnels


def test_a_user_tunnel_through_the_loopback_endpoint_reaches_the_container(loopback_localgrid, tmp_path):
    lg = loopback_localgrid
    deployer = Deployer(lg, "tunnel.3bot")
    client = WireguardClient()
    try:
        node = deployer.node
        endpoint = str(ipaddress.ip_interface(node["public_config"]["ipv4"]).ip)
        assert ipaddress.ip_address(endpoint).is_loopback
        port = free_udp_port(node)
        node_private, node_public = _keypair()
        user_private, user_public = _keypair()
        network = {
            "name": "e2e", "workload_id": 1, "iprange": "10.240.0.0/16", "stats_aggregator": [], "farmer_tid": 0,
            "network_resources": [{
                "node_id": node["node_id"], "wireguard_private_key_encrypted": seal(node, node_private.encode()),
                "wireguard_public_key": node_public, "wireguard_listen_port": port, "iprange": "10.240.1.0/24",
                "peers": [{"public_key": user_public, "allowed_iprange": ["10.240.2.0/24", "100.64.240.2/32"],
                           "endpoint": "", "iprange": "10.240.2.0/24"}],
            }],
        }
        box = deployer.container(publish(lg, tmp_path), entrypoint="/bin/app", environment={"GREETING": "net"})
        rid = deployer.reserve(containers=[box], networks=[network])
        assert {r["state"] for r in deployer.results(rid, 2).values()} == {1}
        client.connect(user_private, "10.240.2.2/32", node_public, "%s:%d" % (endpoint, port), ["10.240.1.0/24"])
        assert wait_for(lambda: client.ping("10.240.1.5"), timeout=30)
        assert _host_devices_for("10.240.") == set()

        resource_ns = lg.app_state.runtime.networks.namespace(node["node_id"], _net_id(lg, node))
        assert netns.exists(resource_ns)
        deployer.delete(rid)
        wait_for(lambda: not netns.exists(resource_ns))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:
            again.bind((endpoint, port))  # the relay let go of the endpoint
    finally:
        client.close()
        deployer.close()


def _net_id(lg, node):
    agent = next(a for a in lg.app_state.agents if a.node_id == node["node_id"])
    return agent.state.networks()[0]["net_id"]


def _resource(node, private_key, public_key, port, subnet, peers):
    return {"node_id": node["node_id"], "wireguard_private_key_encrypted": seal(node, private_key.encode()),
            "wireguard_public_key": public_key, "wireguard_listen_port": port, "iprange": subnet, "peers": peers}


def _ping_from(namespace, address):
    done = subprocess.run(["nsenter", "--net=" + netns.path(namespace), "busybox", "ping", "-c", "1", "-W", "1",
                           address], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    return done.returncode == 0


def test_containers_on_two_nodes_reach_each_other_over_wireguard(loopback_localgrid, tmp_path):
    """A public node (loopback endpoint) and a hidden one (no public config, like a node behind NAT): the
    hidden node's resource knows the public one's endpoint and keeps the tunnel up (keepalive), as 0-OS does."""
    lg = loopback_localgrid
    deployer = Deployer(lg, "peers.3bot")
    try:
        public = deployer.node
        hidden = next(n for n in lg.app_state.grid["nodes"] if n["free_to_use"] and not n["public_config"])
        endpoint = str(ipaddress.ip_interface(public["public_config"]["ipv4"]).ip)
        port = free_udp_port(public)
        (public_private, public_key), (hidden_private, hidden_key) = _keypair(), _keypair()
        network = {
            "name": "e2e", "workload_id": 1, "iprange": "10.240.0.0/16", "stats_aggregator": [], "farmer_tid": 0,
            "network_resources": [
                _resource(public, public_private, public_key, port, "10.240.1.0/24", [
                    {"public_key": hidden_key, "allowed_iprange": ["10.240.3.0/24", "100.64.240.3/32"],
                     "endpoint": "", "iprange": "10.240.3.0/24"}]),
                _resource(hidden, hidden_private, hidden_key, port + 1 if port < 65535 else port - 1, "10.240.3.0/24", [
                    {"public_key": public_key, "allowed_iprange": ["10.240.1.0/24", "100.64.240.1/32"],
                     "endpoint": "%s:%d" % (endpoint, port), "iprange": "10.240.1.0/24"}]),
            ],
        }
        flist = publish(lg, tmp_path)
        boxes = []
        for workload_id, node, address in ((2, public, "10.240.1.5"), (3, hidden, "10.240.3.5")):
            box = container(workload_id, node["node_id"], network="e2e", ip=address)
            box.update(flist=flist, entrypoint="/bin/app", environment={"GREETING": node["hostname"]})
            boxes.append(box)
        rid = deployer.reserve(containers=boxes, networks=[network])
        results = deployer.results(rid, 4)
        assert len(results) == 3 and {r["state"] for r in results.values()} == {1}, results
        runtime = lg.app_state.runtime
        on_public = runtime.dir.netns_name(public["node_id"], "%d-2" % rid)
        on_hidden = runtime.dir.netns_name(hidden["node_id"], "%d-3" % rid)
        assert wait_for(lambda: _ping_from(on_hidden, "10.240.1.5"), timeout=30)
        assert wait_for(lambda: _ping_from(on_public, "10.240.3.5"), timeout=30)
        assert _ping_from(on_public, "100.64.240.3")  # the hidden resource's WireGuard address, as on 0-OS
        assert _host_devices_for("10.240.") == set()
    finally:
        deployer.close()
