"""Directory endpoints and node-signed telemetry with HTTP signatures (docs/contract/explorer.md §2, §3.2, §3.3)."""

import base64
import email.utils
import json

import httpx
import pytest

from localgrid.grid import load_grid
from localgrid.keys import node_signing_key
from localgrid.tests.conftest import launch, load_vector

VECTORS = load_vector("signing_generated_v030.json")
GRID = load_grid()


@pytest.fixture(scope="module")
def quiet(tmp_path_factory):
    """One server for this module: its tests only read, or write telemetry of distinct nodes."""
    lg = launch(tmp_path_factory.mktemp("directory"), quiet=True)
    yield lg
    lg.stop()


@pytest.fixture(scope="module")
def explorer(quiet):
    with httpx.Client(base_url=quiet.explorer_url, timeout=10) as client:
        yield client


def _node(hostname):
    return next(n for n in GRID["nodes"] if n["hostname"] == hostname)


def signed_headers(key, key_id, created=1589191200, date=None, headers="(created) date threebot-id", threebot_id=True):
    date = date or email.utils.formatdate(usegmt=True)
    lines = []
    for name in headers.split():
        if name == "(created)":
            lines.append("(created): %d" % created)
        elif name == "date":
            lines.append("date: " + date)
        elif name == "threebot-id":
            lines.append("threebot-id: " + key_id)
    signature = base64.b64encode(key.sign("\n".join(lines).encode()).signature).decode()
    out = {
        "Date": date,
        "Authorization": 'Signature keyId="%s",algorithm="ed25519",created="%d",expires="%d",headers="%s",signature="%s"'
        % (key_id, created, created + 60, headers, signature),
    }
    if threebot_id:
        out["Threebot-Id"] = key_id
    return out


def test_farms_from_grid_file(explorer):
    farms = explorer.get("/farms")
    assert farms.status_code == 200 and farms.headers["pages"] == "1"
    names = [f["name"] for f in farms.json()]
    assert names == [f["name"] for f in GRID["farms"]]
    farm = explorer.get("/farms/2").json()
    assert farm["threebot_id"] == explorer.get("/users", params={"name": "kristof.farmer"}).json()[0]["id"]
    assert {w["asset"] for w in farm["wallet_addresses"]} == {"TFT", "TFTA", "FreeTFT"}
    assert farm["wallet_addresses"][0]["address"].startswith("G")
    owned = explorer.get("/farms", params={"owner": farm["threebot_id"]}).json()
    assert [f["id"] for f in owned] == [2]
    assert explorer.get("/farms", params={"name": "cairo-farm"}).json()[0]["id"] == 3
    assert explorer.get("/farms", params={"owner": "x"}).json()["error"].startswith("owner should be a integer: ")
    assert explorer.get("/farms/99").status_code == 404
    assert explorer.get("/farms/x").status_code == 400


def test_nodes_list_filters_and_pages(explorer):
    everything = explorer.get("/nodes")
    assert everything.headers["pages"] == "1" and len(everything.json()) == len(GRID["nodes"])
    assert all(n["proofs"] is None for n in everything.json())
    assert explorer.get("/nodes", params={"proofs": "true"}).json()[0]["proofs"] == []
    assert {n["farm_id"] for n in explorer.get("/nodes", params={"farm": 3}).json()} == {3}
    assert {n["location"]["city"] for n in explorer.get("/nodes", params={"city": "Cairo"}).json()} == {"Cairo"}
    assert {n["location"]["country"] for n in explorer.get("/nodes", params={"country": "Egypt"}).json()} == {"Egypt"}
    big = explorer.get("/nodes", params={"cru": 16, "mru": 64}).json()
    assert big and all(n["total_resources"]["cru"] >= 16 and n["total_resources"]["mru"] >= 64 for n in big)
    assert len(explorer.get("/nodes", params={"sru": 1000, "hru": 8000}).json()) == 2
    paged = explorer.get("/nodes", params={"size": 3, "page": 2})
    assert paged.headers["pages"] == str(-(-len(GRID["nodes"]) // 3)) and len(paged.json()) == 3
    assert explorer.get("/nodes", params={"farm": "x"}).json()["error"].startswith("invalid farm id: ")
    assert explorer.get("/nodes", params={"cru": "x"}).json()["error"].startswith("invalid cru: ")


def test_node_document(explorer):
    grid_node = _node("kristof-lochristi-1")
    node = explorer.get("/nodes/" + grid_node["node_id"]).json()
    assert node["public_key_hex"] == grid_node["public_key_hex"]
    assert node["total_resources"] == {"cru": 16, "mru": 64, "hru": 8000, "sru": 1000}
    assert node["public_config"]["ipv4"] == "127.0.1.21/24"
    hidden = explorer.get("/nodes/" + _node("kristof-ghent-3")["node_id"]).json()
    assert hidden["public_config"] is None and hidden["ifaces"][0]["addrs"] == ["10.20.2.23/24"]
    free = explorer.get("/nodes/" + _node("free-ghent-1")["node_id"]).json()
    assert free["free_to_use"] is True
    assert explorer.get("/nodes/unknown").json() == {"error": "mongo: no documents in result"}


def test_down_node_is_listed_with_an_old_update(quiet, explorer):
    down = _node("kristof-amsterdam-5")
    node = explorer.get("/nodes/" + down["node_id"]).json()
    assert node["updated"] < quiet.app_state.clock.now() - 86400


def test_uptime_used_resources_and_ports(explorer, quiet):
    grid_node = _node("cairo-2")
    key = node_signing_key(grid_node["seed"])
    node_id = grid_node["node_id"]
    response = explorer.post("/nodes/%s/uptime" % node_id, json={"uptime": 42}, headers=signed_headers(key, node_id))
    assert response.status_code == 200 and response.text == "null\n"
    node = explorer.get("/nodes/" + node_id).json()
    assert node["uptime"] == 42 and abs(node["updated"] - quiet.app_state.clock.now()) < 5
    flat = {"cru": 2, "mru": 1.5, "hru": 10, "sru": 20, "network": 1, "container": 1, "volume": 2}
    response = explorer.post("/nodes/%s/used_resources" % node_id, json=flat, headers=signed_headers(key, node_id))
    assert response.status_code == 200
    node = explorer.get("/nodes/" + node_id).json()
    assert node["reserved_resources"] == {"cru": 2, "mru": 1.5, "hru": 10, "sru": 20}
    assert node["used_resources"] == node["reserved_resources"]
    assert node["workloads"]["container"] == 1 and node["workloads"]["volume"] == 2
    response = explorer.post("/nodes/%s/ports" % node_id, json={"ports": [6000, 6001]}, headers=signed_headers(key, node_id))
    assert response.status_code == 200
    assert explorer.get("/nodes/" + node_id).json()["wg_ports"] == [6000, 6001]


def test_http_signature_vector_is_accepted(quiet, explorer):
    """The vector node is not in the grid: its signature verifies, then the node lookup says 404."""
    vector = VECTORS["http_signature_node"]
    node_id = VECTORS["keys"]["node"]["node_id"]
    response = explorer.post("/nodes/%s/uptime" % node_id, json=vector["body"], headers=vector["headers"])
    assert response.status_code == 404 and response.json() == {"error": "node '%s' not found" % node_id}


def _unauthorized(response, cause):
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["www-authenticate"] == 'Signature headers="(created) date threebot-id"'
    assert json.loads(response.text) == {"error": "unauthorized access: " + cause}


def test_http_signature_rejections(explorer):
    grid_node = _node("cairo-1")
    node_id = grid_node["node_id"]
    key = node_signing_key(grid_node["seed"])
    other = node_signing_key(_node("cairo-2")["seed"])
    url = "/nodes/%s/uptime" % node_id
    body = {"uptime": 1}
    _unauthorized(explorer.post(url, json=body), "no params present")
    _unauthorized(explorer.post(url, json=body, headers=signed_headers(other, node_id)), "signature verification failed")
    _unauthorized(
        explorer.post(url, json=body, headers=signed_headers(key, node_id, threebot_id=False)),
        "expected threebot-id to exists",
    )
    _unauthorized(
        explorer.post(url, json=body, headers=signed_headers(key, node_id, headers="date threebot-id")),
        'missing required header in signature "(created)"',
    )
    _unauthorized(explorer.post(url, json=body, headers=signed_headers(key, "0OIl")), "public key has the wrong size")
    headers = signed_headers(key, node_id)
    del headers["Date"]  # the server fills in its own date: the signature no longer matches
    headers["Date"] = "Mon, 11 May 2020 10:00:00 GMT"
    _unauthorized(explorer.post(url, json=body, headers=headers), "signature verification failed")
    tampered = signed_headers(key, node_id)
    tampered["Authorization"] = tampered["Authorization"].replace('algorithm="ed25519"', 'algorithm="rsa"')
    _unauthorized(explorer.post(url, json=body, headers=tampered), "algorithm is required")
    no_key = signed_headers(key, node_id)
    no_key["Authorization"] = no_key["Authorization"].replace('keyId="%s",' % node_id, "")
    _unauthorized(explorer.post(url, json=body, headers=no_key), "keyId is required")


def test_node_can_only_report_for_itself(explorer):
    me, other = _node("cairo-1"), _node("cairo-2")
    key = node_signing_key(me["seed"])
    response = explorer.post(
        "/nodes/%s/uptime" % other["node_id"], json={"uptime": 1}, headers=signed_headers(key, me["node_id"])
    )
    assert response.status_code == 403
    assert response.json() == {
        "error": "trying to register uptime for nodeID %s while you are %s" % (other["node_id"], me["node_id"])
    }
    response = explorer.post(
        "/nodes/%s/used_resources" % other["node_id"], json={}, headers=signed_headers(key, me["node_id"])
    )
    assert response.json()["error"].startswith("trying to update reserved capacity for nodeID")


@pytest.mark.parametrize("body", [{"uptime": 1.5}, {"uptime": "1"}, {"uptime": -1}, {"uptime": 2**64}])
def test_telemetry_int_fields_are_strict(explorer, body):
    grid_node = _node("alexandria-3")
    key = node_signing_key(grid_node["seed"])
    response = explorer.post(
        "/nodes/%s/uptime" % grid_node["node_id"], json=body, headers=signed_headers(key, grid_node["node_id"])
    )
    assert response.status_code == 400


def test_gateways_page_and_filter_like_nodes(explorer):
    first = explorer.get("/gateways", params={"page": 1, "size": 1})
    assert len(first.json()) == 1 and first.headers["pages"] == "2"
    second = explorer.get("/gateways", params={"page": 2, "size": 1}).json()
    assert second[0]["node_id"] != first.json()[0]["node_id"]
    assert [g["location"]["city"] for g in explorer.get("/gateways", params={"country": "Egypt"}).json()] == ["Cairo"]
    assert explorer.get("/gateways", params={"city": "Nowhere"}).json() == []
    assert explorer.get("/gateways/x").status_code == 404
