# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import base64
import configparser
import ipaddress
import json

import nacl.public
import nacl.signing
import pytest

from ansible_collections.threefold.grid.plugins.module_utils import _network, _subnets, _wireguard
from ansible_collections.threefold.grid.plugins.module_utils._crypto import b58encode, wireguard_public_key

SEED = "11" * 32
OTHER_SEED = "22" * 32
OWNER = "ab" * 32


def make_node(label, ipv4=None, ipv6=None, wg_ports=(), iface_addrs=None):
    """A directory node record with a real key pair (the signing key is returned for decryption)."""
    signing_key = nacl.signing.SigningKey(bytes([label]) * 32)
    node = {
        "node_id": b58encode(bytes(signing_key.verify_key)),
        "wg_ports": list(wg_ports),
        "ifaces": [{"name": "zos", "addrs": list(iface_addrs or ["10.10.1.%d/24" % label])}],
        "public_config": None,
    }
    if ipv4 or ipv6:
        node["public_config"] = {"master": "eth0", "type": 0, "ipv4": ipv4 or "", "ipv6": ipv6 or ""}
    return node, signing_key


PUBLIC_A, KEY_A = make_node(1, ipv4="192.0.2.11/24", ipv6="2001:db8:5e::11/64")
PUBLIC_B, KEY_B = make_node(2, ipv4="198.51.100.21/24", ipv6="2001:db8:5e:1::21/64")
HIDDEN_C, KEY_C = make_node(3)
HIDDEN_D, KEY_D = make_node(4)
IPV6_ONLY_E, KEY_E = make_node(5, iface_addrs=["10.1.1.5/24", "2001:db8:5e:9::5/64"])
DIRECTORY = dict((n["node_id"], n) for n in (PUBLIC_A, PUBLIC_B, HIDDEN_C, HIDDEN_D, IPV6_ONLY_E))


def plan(nodes, ip_range="10.1.0.0/16", deployed=None, access=None, seed=SEED, name="net1", directory=None):
    return _network.plan_network(
        name, ip_range, [dict(n) for n in nodes], directory or DIRECTORY, seed, OWNER, deployed=deployed,
        access_request=access,
    )


def ids(*nodes):
    return [{"node_id": n["node_id"]} for n in nodes]


def subnets_of(result):
    return dict((nr.node_id, str(nr.subnet)) for nr in result.resources)


# --- validation -----------------------------------------------------------------------------------

@pytest.mark.parametrize("value, fragment", [
    ("8.8.0.0/16", "not a private range"),
    ("10.1.0.0/24", "must be a /16, not a /24"),
    ("10.1.2.0/16", "not a network address"),
    ("fd00::/16", "must be an IPv4 range"),
    ("banana", "not a network address"),
])
def test_ip_range_rejections_name_option_and_value(value, fragment):
    with pytest.raises(_network.NetworkSpecError) as info:
        _subnets.parse_ip_range(value)
    assert str(info.value).startswith("ip_range: %r" % value)
    assert fragment in str(info.value)


@pytest.mark.parametrize("value", ["10.0.0.0/16", "172.31.0.0/16", "192.168.0.0/16"])
def test_private_ranges_accepted(value):
    assert str(_subnets.parse_ip_range(value)) == value


def test_subnet_outside_range_and_wrong_size_rejected():
    ip_range = _subnets.parse_ip_range("10.1.0.0/16")
    with pytest.raises(_network.NetworkSpecError, match=r"nodes\[0\].subnet: '10.2.3.0/24' is not inside ip_range"):
        _subnets.parse_subnet("10.2.3.0/24", ip_range, "nodes[0].subnet")
    with pytest.raises(_network.NetworkSpecError, match=r"nodes\[1\].subnet: '10.1.0.0/23' must be an IPv4 /24"):
        _subnets.parse_subnet("10.1.0.0/23", ip_range, "nodes[1].subnet")


def test_overlapping_explicit_subnets_rejected():
    nodes = [{"node_id": PUBLIC_A["node_id"], "subnet": "10.1.5.0/24"},
             {"node_id": PUBLIC_B["node_id"], "subnet": "10.1.5.0/24"}]
    with pytest.raises(_network.NetworkSpecError, match=r"nodes\[1\].subnet: 10.1.5.0/24 overlaps nodes\[0\].subnet"):
        plan(nodes)


def test_duplicate_and_unknown_nodes_rejected():
    with pytest.raises(_network.NetworkSpecError, match=r"nodes\[1\].node_id: .* more than once"):
        plan(ids(PUBLIC_A, PUBLIC_A))
    with pytest.raises(_network.NetworkSpecError, match=r"nodes\[0\].node_id: node nope is not in the directory"):
        plan([{"node_id": "nope"}])


def test_hidden_nodes_need_an_ipv4_node():
    with pytest.raises(_network.NetworkSpecError, match="hidden node"):
        plan(ids(HIDDEN_C, IPV6_ONLY_E))


# --- subnet allocation ----------------------------------------------------------------------------

def test_new_subnets_are_lowest_free_from_one_in_list_order():
    result = plan([{"node_id": PUBLIC_A["node_id"]},
                   {"node_id": PUBLIC_B["node_id"], "subnet": "10.1.1.0/24"},
                   {"node_id": HIDDEN_C["node_id"]}])
    assert subnets_of(result) == {
        PUBLIC_A["node_id"]: "10.1.2.0/24",
        PUBLIC_B["node_id"]: "10.1.1.0/24",
        HIDDEN_C["node_id"]: "10.1.3.0/24",
    }


def test_rerun_keeps_subnets_and_adding_a_node_does_not_move_others():
    first = plan(ids(PUBLIC_B, HIDDEN_C))
    deployed = _network.deployed_layout(first.workload())
    # The new node comes first in the list, yet the deployed ones keep their /24.
    second = plan(ids(PUBLIC_A, PUBLIC_B, HIDDEN_C), deployed=deployed)
    assert subnets_of(second)[PUBLIC_B["node_id"]] == subnets_of(first)[PUBLIC_B["node_id"]] == "10.1.1.0/24"
    assert subnets_of(second)[HIDDEN_C["node_id"]] == "10.1.2.0/24"
    assert subnets_of(second)[PUBLIC_A["node_id"]] == "10.1.3.0/24"
    keys = dict((nr.node_id, (nr.public_key, nr.listen_port)) for nr in second.resources)
    for nr in first.resources:
        assert keys[nr.node_id] == (nr.public_key, nr.listen_port)


def test_removed_node_frees_subnet_without_moving_the_rest():
    first = plan(ids(PUBLIC_A, PUBLIC_B, HIDDEN_C))
    second = plan(ids(PUBLIC_A, HIDDEN_C), deployed=_network.deployed_layout(first.workload()))
    assert subnets_of(second) == {PUBLIC_A["node_id"]: "10.1.1.0/24", HIDDEN_C["node_id"]: "10.1.3.0/24"}


def test_previous_subnet_outside_new_range_is_reallocated():
    first = plan(ids(PUBLIC_A))
    second = plan(ids(PUBLIC_A), ip_range="10.2.0.0/16", deployed=_network.deployed_layout(first.workload()))
    assert subnets_of(second) == {PUBLIC_A["node_id"]: "10.2.1.0/24"}


def test_explicit_subnet_takes_precedence_over_previous_owner():
    first = plan(ids(PUBLIC_A, PUBLIC_B))
    nodes = [{"node_id": PUBLIC_A["node_id"]}, {"node_id": PUBLIC_B["node_id"], "subnet": "10.1.1.0/24"}]
    second = plan(nodes, deployed=_network.deployed_layout(first.workload()))
    # A loses 10.1.1.0 to the explicit request and takes the lowest free /24 (B left 10.1.2.0).
    assert subnets_of(second) == {PUBLIC_A["node_id"]: "10.1.2.0/24", PUBLIC_B["node_id"]: "10.1.1.0/24"}


def test_range_exhaustion_names_the_option():
    ip_range = _subnets.parse_ip_range("10.1.0.0/16")
    requests = [("n%d" % i, "nodes[%d].subnet" % i, None) for i in range(256)]
    with pytest.raises(_network.NetworkSpecError, match=r"nodes\[255\].subnet: no free /24"):
        _subnets.allocate_subnets(ip_range, requests)


# --- keys and ports -------------------------------------------------------------------------------

def test_node_keys_are_deterministic_valid_and_scoped():
    private, public = _wireguard.node_keypair(SEED, "net1", PUBLIC_A["node_id"])
    assert (private, public) == _wireguard.node_keypair(SEED, "net1", PUBLIC_A["node_id"])
    raw = base64.b64decode(private)
    assert len(raw) == 32 and raw[0] & 7 == 0 and raw[31] & 0x80 == 0 and raw[31] & 0x40
    assert public == base64.b64encode(bytes(nacl.public.PrivateKey(raw).public_key)).decode()
    assert _wireguard.node_keypair(SEED, "net2", PUBLIC_A["node_id"])[0] != private
    assert _wireguard.node_keypair(SEED, "net1", PUBLIC_B["node_id"])[0] != private
    assert _wireguard.node_keypair(OTHER_SEED, "net1", PUBLIC_A["node_id"])[0] != private
    assert _wireguard.access_keypair(SEED, "net1")[0] not in (private, _wireguard.access_keypair(SEED, "net2")[0])


def test_port_is_first_derived_candidate_not_in_use():
    candidates = list(_wireguard.port_candidates(OWNER, "net1", PUBLIC_A["node_id"], attempts=3))
    assert all(_wireguard.PORT_MIN <= port <= _wireguard.PORT_MAX for port in candidates)
    assert _wireguard.pick_listen_port(OWNER, "net1", PUBLIC_A["node_id"], []) == candidates[0]
    assert _wireguard.pick_listen_port(OWNER, "net1", PUBLIC_A["node_id"], [candidates[0]]) == candidates[1]


def test_port_falls_back_to_lowest_free_and_fails_when_full():
    every = list(range(_wireguard.PORT_MIN, _wireguard.PORT_MAX + 1))
    assert _wireguard.pick_listen_port(OWNER, "n", "x", every[1:]) == _wireguard.PORT_MIN
    with pytest.raises(ValueError, match="no free WireGuard port"):
        _wireguard.pick_listen_port(OWNER, "n", "x", every)


def test_deployed_port_is_kept_even_though_the_node_lists_it_as_used():
    first = plan(ids(PUBLIC_A))
    port = first.resources[0].listen_port
    busy = dict(DIRECTORY)
    busy[PUBLIC_A["node_id"]] = dict(PUBLIC_A, wg_ports=[port])
    again = plan(ids(PUBLIC_A), deployed=_network.deployed_layout(first.workload()), directory=busy)
    assert again.resources[0].listen_port == port
    fresh = plan(ids(PUBLIC_A), directory=busy)
    assert fresh.resources[0].listen_port != port


def test_private_key_is_sealed_for_its_node_and_absent_from_spec():
    result = plan(ids(PUBLIC_A, HIDDEN_C))
    workload = result.workload()
    for resource, signing_key in zip(workload["network_resources"], (KEY_A, KEY_C)):
        box = nacl.public.SealedBox(signing_key.to_curve25519_private_key())
        private = box.decrypt(bytes.fromhex(resource["wireguard_private_key_encrypted"])).decode()
        assert wireguard_public_key(private) == resource["wireguard_public_key"]
    spec_text = json.dumps(result.spec())
    for nr in result.resources:
        assert nr.private_key not in spec_text
        assert nr.public_key in spec_text


def test_spec_is_identical_across_runs_while_sealed_keys_differ():
    first, second = plan(ids(PUBLIC_A, HIDDEN_C)), plan(ids(PUBLIC_A, HIDDEN_C))
    assert first.spec() == second.spec()
    sealed = [w["network_resources"][0]["wireguard_private_key_encrypted"] for w in (first.workload(), second.workload())]
    assert sealed[0] != sealed[1]


# --- endpoints and peers --------------------------------------------------------------------------

def test_public_endpoints_from_public_config_or_public_iface_addresses():
    assert [str(a) for a in _network.public_endpoints(PUBLIC_A)] == ["192.0.2.11", "2001:db8:5e::11"]
    assert _network.public_endpoints(HIDDEN_C) == []
    assert [str(a) for a in _network.public_endpoints(IPV6_ONLY_E)] == ["2001:db8:5e:9::5"]
    link_local = make_node(9, iface_addrs=["fe80::1/64", "169.254.3.3/16", "127.0.0.1/8"])[0]
    assert _network.public_endpoints(link_local) == []


def test_declared_public_config_is_taken_as_given_even_loopback():
    # localgrid declares loopback endpoints so that tunnels never leave the machine.
    loopback = make_node(10, ipv4="127.0.1.10/24", ipv6="2001:db8:5e::10/64")[0]
    assert [str(a) for a in _network.public_endpoints(loopback)] == ["127.0.1.10", "2001:db8:5e::10"]
    unspecified = make_node(11, ipv4="0.0.0.0/0")[0]
    assert _network.public_endpoints(unspecified) == []


def test_routing_address():
    assert _wireguard.routing_address("10.1.3.0/24") == "100.64.1.3/32"
    assert _wireguard.routing_address(ipaddress.ip_network("192.168.200.0/24")) == "100.64.168.200/32"


def peers_by_key(result):
    keys = dict((nr.public_key, nr.node_id) for nr in result.resources)
    peers = _network.build_peers(result.resources, result.access_points)
    return dict(
        (node_id, dict((keys.get(p["public_key"], "access"), p) for p in items)) for node_id, items in peers.items()
    )


def test_public_nodes_peer_over_ipv6_with_subnet_and_routing_address():
    result = plan(ids(PUBLIC_A, PUBLIC_B))
    peers = peers_by_key(result)
    b = next(nr for nr in result.resources if nr.node_id == PUBLIC_B["node_id"])
    peer = peers[PUBLIC_A["node_id"]][PUBLIC_B["node_id"]]
    assert peer["endpoint"] == "[2001:db8:5e:1::21]:%d" % b.listen_port
    assert peer["allowed_iprange"] == ["10.1.2.0/24", "100.64.1.2/32"]
    assert peer["iprange"] == "10.1.2.0/24"


def test_ipv4_fallback_when_peer_has_no_ipv6():
    v4_only = make_node(7, ipv4="203.0.113.7/24")[0]
    directory = dict(DIRECTORY, **{v4_only["node_id"]: v4_only})
    result = plan(ids(PUBLIC_A, v4_only), directory=directory)
    port = result.resources[1].listen_port
    assert peers_by_key(result)[PUBLIC_A["node_id"]][v4_only["node_id"]]["endpoint"] == "203.0.113.7:%d" % port


def test_hidden_nodes_go_through_public_ipv4_relay():
    result = plan(ids(PUBLIC_A, PUBLIC_B, HIDDEN_C, HIDDEN_D, IPV6_ONLY_E))
    subnets = subnets_of(result)
    ports = dict((nr.node_id, nr.listen_port) for nr in result.resources)
    peers = peers_by_key(result)
    a, b, c, d, e = (n["node_id"] for n in (PUBLIC_A, PUBLIC_B, HIDDEN_C, HIDDEN_D, IPV6_ONLY_E))

    # A hidden node peers only with IPv4 public nodes, over IPv4.
    assert set(peers[c]) == {a, b}
    assert peers[c][a]["endpoint"] == "192.0.2.11:%d" % ports[a]
    assert peers[c][b]["endpoint"] == "198.51.100.21:%d" % ports[b]
    # A (the first public IPv4 node) relays the other hidden subnet and the IPv6-only subnet.
    assert peers[c][a]["allowed_iprange"] == _wireguard_allowed(subnets[a], subnets[d], subnets[e])
    assert peers[c][b]["allowed_iprange"] == _wireguard_allowed(subnets[b])
    # Public IPv4 nodes keep a direct, endpoint-less peer for each hidden node.
    assert peers[b][c]["endpoint"] == "" and peers[b][c]["allowed_iprange"] == _wireguard_allowed(subnets[c])
    # The IPv6-only node cannot reach hidden nodes: it routes them through the relay.
    assert set(peers[e]) == {a, b}
    assert peers[e][a]["allowed_iprange"] == _wireguard_allowed(subnets[a], subnets[c], subnets[d])
    assert peers[e][b]["allowed_iprange"] == _wireguard_allowed(subnets[b])
    # IPv4 nodes do not route hidden subnets through the relay (that would steal the direct route).
    assert peers[b][a]["allowed_iprange"] == _wireguard_allowed(subnets[a])


def _wireguard_allowed(*subnets):
    out = []
    for subnet in subnets:
        out += [subnet, _wireguard.routing_address(subnet)]
    return out


def test_every_allowed_range_appears_once_per_node():
    result = plan(ids(PUBLIC_A, PUBLIC_B, HIDDEN_C, HIDDEN_D, IPV6_ONLY_E),
                  access={"node_id": PUBLIC_B["node_id"], "ipv4": True})
    for items in _network.build_peers(result.resources, result.access_points).values():
        ranges = [r for p in items for r in p["allowed_iprange"]]
        assert len(ranges) == len(set(ranges))


# --- access ---------------------------------------------------------------------------------------

def test_access_peer_and_wg_quick_config():
    result = plan(ids(PUBLIC_A, PUBLIC_B, HIDDEN_C), access={"node_id": PUBLIC_A["node_id"], "ipv4": True})
    assert str(result.access.subnet) == "10.1.4.0/24"
    a = result.resources[0]
    peers = peers_by_key(result)
    assert peers[PUBLIC_A["node_id"]]["access"] == {
        "public_key": result.access.public_key,
        "allowed_iprange": ["10.1.4.0/24", "100.64.1.4/32"],
        "endpoint": "",
        "iprange": "10.1.4.0/24",
    }
    # Other nodes route the access subnet through the access node.
    assert "10.1.4.0/24" in peers[PUBLIC_B["node_id"]][PUBLIC_A["node_id"]]["allowed_iprange"]
    assert "10.1.4.0/24" in peers[HIDDEN_C["node_id"]][PUBLIC_A["node_id"]]["allowed_iprange"]
    assert "access" not in peers[PUBLIC_B["node_id"]]

    text = result.access_config
    private = _wireguard.access_keypair(SEED, "net1")[0]
    assert text == (
        "[Interface]\n"
        "Address = 100.64.1.4/32\n"
        "PrivateKey = %s\n"
        "\n"
        "[Peer]\n"
        "PublicKey = %s\n"
        "AllowedIPs = 10.1.0.0/16, 100.64.0.0/16\n"
        "Endpoint = 192.0.2.11:%d\n"
        "PersistentKeepalive = 25\n" % (private, a.public_key, a.listen_port)
    )
    parsed = configparser.ConfigParser()
    parsed.optionxform = str
    parsed.read_string(text)
    assert parsed.sections() == ["Interface", "Peer"]
    assert wireguard_public_key(parsed["Interface"]["PrivateKey"]) == result.access.public_key
    assert all(line == line.rstrip() for line in text.splitlines())
    assert private not in json.dumps(result.spec())


def test_access_over_ipv6_and_with_own_public_key_has_no_private_key():
    own = _wireguard.node_keypair(OTHER_SEED, "laptop", "x")[1]
    result = plan(ids(PUBLIC_A), access={"node_id": PUBLIC_A["node_id"], "ipv4": False, "wg_public_key": own,
                                         "subnet": "10.1.9.0/24"})
    assert result.access.public_key == own
    assert "PrivateKey" not in result.access_config
    assert "Endpoint = [2001:db8:5e::11]:%d\n" % result.resources[0].listen_port in result.access_config
    assert "Address = 100.64.1.9/32\n" in result.access_config


def test_access_subnet_is_kept_across_runs():
    first = plan(ids(PUBLIC_A, PUBLIC_B), access={"node_id": PUBLIC_A["node_id"], "ipv4": True})
    second = plan(ids(HIDDEN_C, PUBLIC_A, PUBLIC_B), access={"node_id": PUBLIC_A["node_id"], "ipv4": True},
                  deployed=_network.deployed_layout(first.workload()))
    assert second.access.subnet == first.access.subnet
    assert second.access_config.replace(str(second.access.subnet), "") == first.access_config.replace(
        str(first.access.subnet), "")


@pytest.mark.parametrize("access, fragment", [
    ({"node_id": HIDDEN_C["node_id"], "ipv4": True}, "access.node_id: node %s has no public address" % HIDDEN_C["node_id"]),
    ({"node_id": PUBLIC_B["node_id"], "ipv4": True}, "access.node_id: %s is not one of the nodes" % PUBLIC_B["node_id"]),
    ({"node_id": IPV6_ONLY_E["node_id"], "ipv4": True}, "access.ipv4: node %s has no public IPv4" % IPV6_ONLY_E["node_id"]),
    ({"node_id": PUBLIC_A["node_id"], "wg_public_key": "short"}, "access.wg_public_key: 'short'"),
    ({"node_id": PUBLIC_A["node_id"], "subnet": "10.1.1.0/24"}, "access.subnet: 10.1.1.0/24 overlaps nodes[0].subnet"),
])
def test_access_validation(access, fragment):
    nodes = [{"node_id": PUBLIC_A["node_id"], "subnet": "10.1.1.0/24"}, {"node_id": HIDDEN_C["node_id"]},
             {"node_id": IPV6_ONLY_E["node_id"]}]
    with pytest.raises(_network.NetworkSpecError) as info:
        plan(nodes, access=access)
    assert fragment in str(info.value)


def test_gateway_and_node_description():
    result = plan([{"node_id": HIDDEN_C["node_id"], "subnet": "10.1.7.0/24"}, {"node_id": PUBLIC_A["node_id"]}])
    described = result.describe_nodes()
    assert described[0]["gateway"] == "10.1.7.1" and described[0]["hidden"] is True
    assert described[1]["subnet"] == "10.1.1.0/24" and described[1]["hidden"] is False
