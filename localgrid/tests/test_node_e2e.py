"""End to end through the real localgrid (conftest's start_localgrid, free payment): a user
registers, reserves a network, a volume and a container, the simulated node deploys them, and
the results (and later the deletion) show up on GET /reservations/{id}."""

import base64
import hashlib
import os

import httpx
import nacl.public
import nacl.signing

from localgrid.tests.conftest import Customer, container, grid_now, reservation_data, volume, wait_for

FLIST = "https://hub.grid.tf/zaibon/zaibon-ubuntu-ssh-0.0.2.flist"


def seal(node, plaintext):
    key = nacl.signing.VerifyKey(bytes.fromhex(node["public_key_hex"]))
    return nacl.public.SealedBox(key.to_curve25519_public_key()).encrypt(plaintext).hex()


def free_node(lg):
    return next(n for n in lg.app_state.grid["nodes"] if n["free_to_use"] and n["public_config"] and not n["down"])


def sealed_network(node):
    wg_key = base64.b64encode(bytes(nacl.public.PrivateKey.generate())).decode()
    return {
        "name": "e2e", "workload_id": 1, "iprange": "10.240.0.0/16", "stats_aggregator": [], "farmer_tid": 0,
        "network_resources": [{
            "node_id": node["node_id"], "wireguard_private_key_encrypted": seal(node, wg_key.encode()),
            "wireguard_public_key": base64.b64encode(bytes(32)).decode(), "wireguard_listen_port": 4321,
            "iprange": "10.240.1.0/24", "peers": [],
        }],
    }


def e2e_container(node, flist=FLIST, **fields):
    spec = container(3, node["node_id"], cpu=1, memory=512, network="e2e", ip="10.240.1.5")
    spec.update(flist=flist, **fields)
    return spec


def test_free_reservation_is_deployed_by_the_node_then_deleted(start_localgrid):
    lg = start_localgrid(payment="free")
    node = free_node(lg)
    agent = next(a for a in lg.app_state.agents if a.node_id == node["node_id"])
    with httpx.Client(base_url=lg.explorer_url, timeout=10) as client:
        customer = Customer(client, "node-e2e.3bot")
        box = e2e_container(node, volumes=[{"volume_id": "-2", "mountpoint": "/data"}],
                            secret_environment={"TOKEN": seal(node, b"t0ken")})
        data = reservation_data(grid_now(lg), containers=[box], volumes=[volume(2, node["node_id"], size=1)],
                                networks=[sealed_network(node)], currencies=["FreeTFT"], signer=customer.tid)
        body = customer.reservation_body(data)
        response = client.post("/reservations", json=body)
        assert response.status_code == 201, response.text
        rid = response.json()["reservation_id"]

        reservation = wait_for(lambda: (r := client.get("/reservations/%d" % rid).json())["results"][2:] and r)
        results = {r["workload_id"]: r for r in reservation["results"]}
        assert sorted(results) == ["%d-1" % rid, "%d-2" % rid, "%d-3" % rid], reservation
        assert all(r["state"] == 1 and r["message"] == "" for r in results.values()), results
        assert results["%d-1" % rid]["data_json"] is None
        assert results["%d-2" % rid]["data_json"] == {"volume_id": "%d-2" % rid}
        data_json = results["%d-3" % rid]["data_json"]
        assert data_json["id"] == "%d-3" % rid and data_json["ipv4"] == "10.240.1.5"
        assert data_json["ipv6"].startswith("fd")
        assert agent.state.secret_env_digests("%d-3" % rid) == {"TOKEN": hashlib.sha256(b"t0ken").hexdigest()}
        admin = httpx.get("%s/localgrid/nodes/%s/workloads/%d-3/secret_env" % (lg.base_url, node["node_id"], rid))
        assert admin.json() == {"secret_env_sha256": {"TOKEN": hashlib.sha256(b"t0ken").hexdigest()}}
        # Capacity and ports are reported right after the results.
        wait_for(lambda: client.get("/nodes/" + node["node_id"]).json()["reserved_resources"]["cru"] == 1)
        assert 4321 in client.get("/nodes/" + node["node_id"]).json()["wg_ports"]

        assert client.post("/reservations/%d/sign/delete" % rid,
                           json=customer.delete_signature(rid, body["json"])).status_code == 201
        reservation = wait_for(lambda: (r := client.get("/reservations/%d" % rid).json())["next_action"] == 6 and r)
        assert {r["state"] for r in reservation["results"]} == {2}
        wait_for(lambda: agent.state.workload("%d-3" % rid) is None)  # dropped once the DELETE is acknowledged
        assert agent.state.volume("%d-2" % rid) is None
        wait_for(lambda: client.get("/nodes/" + node["node_id"]).json()["reserved_resources"]["cru"] == 0)


def test_hub_flists_are_fetched_and_a_missing_one_fails_the_reservation(start_localgrid):
    lg = start_localgrid(payment="free")
    node = free_node(lg)
    hub_dir = lg.settings.hub_dir
    os.makedirs(os.path.join(hub_dir, "alice"), exist_ok=True)
    with open(os.path.join(hub_dir, "alice", "app.flist"), "wb") as handle:
        handle.write(b"flist")
    hub = lg.settings.hub_url.rstrip("/")
    with httpx.Client(base_url=lg.explorer_url, timeout=10) as client:
        customer = Customer(client, "node-hub.3bot")

        def reserve(**lists):
            data = reservation_data(grid_now(lg), currencies=["FreeTFT"], signer=customer.tid, **lists)
            response = client.post("/reservations", json=customer.reservation_body(data))
            assert response.status_code == 201, response.text
            return response.json()["reservation_id"]

        rid = reserve(containers=[e2e_container(node, hub + "/alice/app.flist")], networks=[sealed_network(node)])
        reservation = wait_for(lambda: (r := client.get("/reservations/%d" % rid).json())["results"][1:] and r)
        assert [r["state"] for r in reservation["results"]] == [1, 1], reservation

        # Same user, same network name: the container joins the network deployed above.
        rid = reserve(containers=[e2e_container(node, hub + "/alice/missing.flist")])
        reservation = wait_for(lambda: (r := client.get("/reservations/%d" % rid).json())["results"] and r)
        assert reservation["next_action"] == 4, reservation  # an error result moves it to delete (docs/contract/explorer.md §6.4)
        (result,) = reservation["results"]
        assert (result["state"], result["message"]) == (0, "fail to download flist: 404 Not Found")
        assert result["data_json"] == {"id": "", "ipv6": "", "ipv4": ""}
