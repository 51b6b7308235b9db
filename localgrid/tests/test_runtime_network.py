"""The network path for real: a network resource is a WireGuard interface in its own namespace,
reached through the node's loopback endpoint; a user's tunnel reaches a container's private IPv4;
the host itself gets no route to the private range."""

import base64
import ipaddress
import socket
import subprocess

import nacl.public
import pytest

from localgrid.runtime import netns
from localgrid.tests.conftest import wait_for
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


def _host_routes():
    return subprocess.run(["ip", "-4", "route", "show", "table", "all"], capture_output=True, text=True,
                          check=True).stdout + subprocess.run(["ip", "-4", "addr"], capture_output=True, text=True,
                                                              check=True).stdout


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
        assert "10.240." not in _host_routes()

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
