"""Gateways through the real localgrid (free payment): listed in the directory with signed
telemetry, and a simulated tfgateway that deploys DNS, proxy and 4to6 workloads or refuses them
with tfgateway's messages (docs/contract/gateway.md)."""

import base64
import hashlib
import ipaddress

import httpx
import nacl.bindings
import nacl.public
import nacl.signing
import pytest

from localgrid.tests.conftest import Customer, grid_now, reservation_data, wait_for

GATEWAY_KEYS = {
    "id", "node_id", "farm_id", "os_version", "created", "updated", "uptime", "address", "location",
    "public_key_hex", "workloads", "managed_domains", "tcp_router_port", "dns_nameserver", "free_to_use",
}


def seal(gateway, plaintext):
    key = nacl.signing.VerifyKey(bytes.fromhex(gateway["public_key_hex"]))
    return nacl.public.SealedBox(key.to_curve25519_public_key()).encrypt(plaintext).hex()


def gateway_of(lg, free):
    return next(g for g in lg.app_state.grid["gateways"] if g["free_to_use"] == free)


@pytest.fixture
def grid(start_localgrid):
    lg = start_localgrid(payment="free")
    with httpx.Client(base_url=lg.explorer_url, timeout=10) as client:
        yield lg, client


def deploy(lg, client, customer, **workloads):
    """Reserve the workloads, wait for every result, return {workload_id: result}."""
    data = reservation_data(grid_now(lg), currencies=["FreeTFT"], signer=customer.tid, **workloads)
    response = client.post("/reservations", json=customer.reservation_body(data))
    assert response.status_code == 201, response.text
    rid = response.json()["reservation_id"]
    count = sum(len(items) for items in workloads.values())
    reservation = wait_for(lambda: len((r := client.get("/reservations/%d" % rid).json())["results"]) == count and r)
    return rid, {int(r["workload_id"].split("-")[1]): r for r in reservation["results"]}


def gw_workload(gateway, workload_id, **fields):
    return dict(id=0, workload_id=workload_id, node_id=gateway["node_id"], stats_aggregator=[], farmer_tid=0, **fields)


def test_gateways_are_listed_with_the_v03_shape_and_report_signed_telemetry(grid):
    lg, client = grid
    listed = client.get("/gateways")
    assert listed.status_code == 200 and listed.headers["Pages"] == "1"
    gateways = listed.json()
    assert len(gateways) == len(lg.app_state.grid["gateways"]) == 2
    assert all(set(g) == GATEWAY_KEYS for g in gateways)
    ghent = client.get("/gateways", params={"city": "Ghent"}).json()
    assert [g["managed_domains"] for g in ghent] == [["ghent.grid.example"]]
    assert client.get("/gateways/" + ghent[0]["node_id"]).json()["free_to_use"] is True
    assert client.get("/gateways/NoSuchGateway").status_code == 404
    # The gateway agent signs its telemetry with the gateway key; it lands on the gateway.
    agent = next(a for a in lg.app_state.agents if a.node_id == ghent[0]["node_id"])
    agent.client.post_uptime(4242)
    assert client.get("/gateways/" + ghent[0]["node_id"]).json()["uptime"] == 4242
    unsigned = client.post("/gateways/%s/uptime" % ghent[0]["node_id"], json={"uptime": 5})
    assert unsigned.status_code == 401


def test_subdomains_need_a_managed_or_delegated_zone_and_are_owned(grid):
    lg, client = grid
    gateway = gateway_of(lg, free=True)
    alice, bob = Customer(client, "gw-alice.3bot"), Customer(client, "gw-bob.3bot")

    _, results = deploy(lg, client, alice, subdomains=[
        gw_workload(gateway, 1, domain="shop.ghent.grid.example", ips=["2001:db8::7"]),
        gw_workload(gateway, 2, domain="www.alice.example", ips=["192.0.2.7"]),
    ])
    assert (results[1]["state"], results[1]["message"], results[1]["data_json"]) == (1, "", None)
    assert results[1]["category"] == 7
    assert (results[2]["state"], results[2]["message"]) == (
        0, "alice.example is not managed by the gateway. Delegate the domain first")

    # Delegation comes before subdomains in the gateway's batch, so one reservation can do both.
    _, results = deploy(
        lg, client, alice,
        domain_delegates=[gw_workload(gateway, 1, domain="alice.example")],
        subdomains=[gw_workload(gateway, 2, domain="www.alice.example", ips=["192.0.2.7"])],
    )
    assert [results[i]["state"] for i in (1, 2)] == [1, 1], results

    _, results = deploy(
        lg, client, bob,
        subdomains=[gw_workload(gateway, 1, domain="shop.ghent.grid.example", ips=["2001:db8::8"]),
                    gw_workload(gateway, 2, domain="api.alice.example", ips=["192.0.2.8"]),
                    gw_workload(gateway, 3, domain="nodot", ips=[])],
        domain_delegates=[gw_workload(gateway, 4, domain="alice.example"),
                          gw_workload(gateway, 5, domain="ghent.grid.example")],
    )
    messages = {i: (r["state"], r["message"]) for i, r in results.items()}
    assert messages == {
        1: (0, "unauthorized error cannot add subdomain shop to zone ghent.grid.example"),
        2: (0, "unauthorized error cannot add subdomain api to zone alice.example"),
        3: (0, "incorrect format for domain nodot"),
        4: (0, "unauthorized error cannot delegate domain alice.example"),
        5: (0, "unauthorized error cannot delegate domain ghent.grid.example"),
    }
    counters = wait_for(lambda: (w := client.get("/gateways/" + gateway["node_id"]).json()["workloads"])
                        ["subdomain"] == 2 and w)
    assert counters["delegate_domain"] == 1


def test_proxies_check_domain_owner_and_reverse_proxy_secret(grid):
    lg, client = grid
    gateway = gateway_of(lg, free=True)
    alice, bob = Customer(client, "gw-carol.3bot"), Customer(client, "gw-dave.3bot")
    _, results = deploy(lg, client, alice, proxies=[
        gw_workload(gateway, 1, domain="app.ghent.grid.example", addr="198.51.100.4", port=80, port_tls=443)])
    assert (results[1]["state"], results[1]["category"]) == (1, 5)

    _, results = deploy(lg, client, bob, reverse_proxies=[
        gw_workload(gateway, 1, domain="app.ghent.grid.example", secret=seal(gateway, b"%d:abc" % bob.tid)),
        gw_workload(gateway, 2, domain="tunnel.ghent.grid.example", secret=seal(gateway, b"%d:abc" % bob.tid)),
        gw_workload(gateway, 3, domain="t2.ghent.grid.example", secret=seal(gateway, b"abc")),
        gw_workload(gateway, 4, domain="t3.ghent.grid.example", secret="zz"),
    ])
    messages = {i: (r["state"], r["message"]) for i, r in results.items()}
    assert messages == {
        1: (0, "cannot add reverse proxy from app.ghent.grid.example: unauthorized error"),
        2: (1, ""),
        3: (0, "secret must follow the format 'threebotID:random'"),
        4: (0, "failed to decrypt secret: encoding/hex: invalid byte: U+007A 'z'"),
    }


def test_4to6_returns_a_tunnel_config_and_needs_a_gateway_that_offers_it(grid):
    lg, client = grid
    offering, plain = gateway_of(lg, free=True), gateway_of(lg, free=False)
    customer = Customer(client, "gw-erin.3bot")
    peer_key = base64.b64encode(bytes(nacl.public.PrivateKey.generate().public_key)).decode()
    _, results = deploy(lg, client, customer, gateway4to6=[
        gw_workload(offering, 1, public_key=peer_key), gw_workload(offering, 2, public_key="c2hvcnQ=")])
    config = results[1]["data_json"]
    assert results[1]["state"] == 1 and results[1]["category"] == 9
    # tfgateway (wg/manager.go, wg/ip-pool.go): its WireGuard key is its identity seed, and the user's address is
    # the pool prefix followed by md5(seed + user id)[:8].
    seed = bytes.fromhex(offering["seed"])
    host = hashlib.md5(seed + str(customer.tid).encode()).digest()[:8]
    assert config["ips"] == [str(ipaddress.IPv6Address(ipaddress.IPv6Address("2001:db8:4a7e:1::").packed[:8] + host))]
    (peer,) = config["peers"]
    assert peer["endpoint"] == "127.0.2.1:3443" and peer["allowed_ips"] == ["::/0"]
    assert peer["public_key"] == base64.b64encode(nacl.bindings.crypto_scalarmult_base(seed)).decode()
    assert (results[2]["state"], results[2]["message"]) == (0, "wgtypes: incorrect key size: 5")

    # Gateways of one reservation must be all free or all paid; this one is paid and has no endpoint.
    data = reservation_data(grid_now(lg), currencies=["TFT"], signer=customer.tid,
                            gateway4to6=[gw_workload(plain, 1, public_key=peer_key)])
    response = client.post("/reservations", json=customer.reservation_body(data))
    assert response.status_code == 201, response.text
    rid = response.json()["reservation_id"]
    reservation = wait_for(lambda: (r := client.get("/reservations/%d" % rid).json())["results"] and r, timeout=5)
    assert reservation["results"][0]["message"] == "type of reservation not supported: gateway4to6"


def test_a_gateway_workload_on_an_unknown_gateway_is_refused_at_create(grid):
    lg, client = grid
    customer = Customer(client, "gw-frank.3bot")
    data = reservation_data(grid_now(lg), currencies=["FreeTFT"], signer=customer.tid,
                            subdomains=[{"id": 0, "workload_id": 1, "node_id": lg.app_state.grid["nodes"][0]["node_id"],
                                         "domain": "a.ghent.grid.example", "ips": [], "stats_aggregator": [],
                                         "farmer_tid": 0}])
    response = client.post("/reservations", json=customer.reservation_body(data))
    assert (response.status_code, response.json()) == (500, {"error": "mongo: no documents in result"})
