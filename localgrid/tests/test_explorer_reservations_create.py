"""POST/GET /reservations: every create-time validation in order (docs/contract/explorer.md §6.3) and the 201 answer."""

import concurrent.futures
import json
import re

import nacl.signing
import pytest

from localgrid.explorer import pricing
from localgrid.grid import load_grid
from localgrid.tests.conftest import Customer, container, grid_now, network, reservation_data, volume

GRID = load_grid()
PAID = next(n for n in GRID["nodes"] if n["hostname"] == "kristof-lochristi-1")["node_id"]
PAID_FARM3 = next(n for n in GRID["nodes"] if n["hostname"] == "cairo-1")["node_id"]
FREE = next(n for n in GRID["nodes"] if n["hostname"] == "free-ghent-1")["node_id"]


def _data(quiet, customer, **kwargs):
    kwargs.setdefault("containers", [container(1, PAID)])
    kwargs.setdefault("networks", [network(2, [PAID])])
    return reservation_data(grid_now(quiet), signer=customer.tid, **kwargs)


def _error(response, status, message):
    assert response.status_code == status, response.text
    assert response.json()["error"] == message


def test_create_returns_201_with_escrow_information(quiet, explorer, customer):
    data = _data(quiet, customer, containers=[container(1, PAID), container(3, PAID_FARM3, cpu=2, memory=2048)])
    response = explorer.post("/reservations", json=customer.reservation_body(data))
    assert response.status_code == 201, response.text
    answer = response.json()
    assert set(answer) == {"reservation_id", "escrow_information"}
    info = answer["escrow_information"]
    assert info["address"].startswith("G")
    assert info["asset"] == quiet.app_state.ledger.asset_string("TFT")
    duration = data["expiration_reservation"] - grid_now(quiet)
    farm2 = pricing.cost_stroops({"cru": 1, "mru": 1.0, "hru": 0.0, "sru": 1.0}, duration)
    farm3 = pricing.cost_stroops({"cru": 2, "mru": 2.0, "hru": 0.0, "sru": 1.0}, duration)
    assert info["details"] == [{"farmer_id": 2, "total_amount": farm2}, {"farmer_id": 3, "total_amount": farm3}]
    assert farm2 > 0 and farm3 > farm2
    # the same customer always gets the same escrow account
    again = explorer.post("/reservations", json=customer.reservation_body(data)).json()
    assert again["escrow_information"]["address"] == info["address"]
    assert again["reservation_id"] == answer["reservation_id"] + 1


def test_get_shows_stored_reservation_with_computed_state(quiet, explorer, customer):
    data = _data(quiet, customer)
    body = customer.reservation_body(data, metadata='{"ansible":{"name":"x"}}')
    rid = explorer.post("/reservations", json=body).json()["reservation_id"]
    got = explorer.get("/reservations/%d" % rid)
    assert got.status_code == 200
    reservation = got.json()
    assert list(reservation) == [
        "id", "json", "data_reservation", "customer_tid", "customer_signature", "next_action",
        "signatures_provision", "signatures_farmer", "signatures_delete", "epoch", "metadata", "results",
    ]
    assert reservation["json"] == body["json"] and reservation["next_action"] == 2
    assert reservation["data_reservation"]["containers"][0]["capacity"]["disk_type"] == 1
    assert reservation["signatures_provision"] == [] and reservation["results"] == []
    assert reservation["metadata"] == body["metadata"]
    assert abs(reservation["epoch"] - grid_now(quiet)) < 5
    _error(explorer.get("/reservations/99999"), 404, "mongo: no documents in result")
    assert explorer.get("/reservations/abc").text == "404 page not found\n"


def test_json_formatting_is_free_but_must_match(quiet, explorer, customer):
    data = _data(quiet, customer)
    shuffled = json.dumps(dict(reversed(list(data.items()))), indent=2)
    upper = {key.upper(): value for key, value in data.items()}
    response = explorer.post("/reservations", json=customer.reservation_body(upper, json_text=shuffled))
    assert response.status_code == 201, response.text
    for change in ({"zdbs": None}, {"volumes": None}):  # [] vs null
        mismatched = dict(data, **change)
        _error(
            explorer.post("/reservations", json=customer.reservation_body(mismatched, json_text=json.dumps(data))),
            400, "json data does not match the reservation data",
        )
    absent = {k: v for k, v in data.items() if k != "zdbs"}
    null = dict(data, zdbs=None)
    ok = explorer.post("/reservations", json=customer.reservation_body(absent, json_text=json.dumps(null)))
    assert ok.status_code == 201  # null and absent decode the same way


@pytest.mark.parametrize(
    "mutate, message_start",
    [
        (lambda d: d["containers"][0]["capacity"].update(cpu=1.5), "json: cannot unmarshal number 1.5 into Go struct field"),
        (lambda d: d["containers"][0]["capacity"].update(cpu=1.0), "json: cannot unmarshal number 1.0"),
        (lambda d: d["volumes"].append(volume(5, PAID, volume_type="ssd")), "json: cannot unmarshal string"),
        (lambda d: d.update(expiration_reservation=None), "unknown date format: <nil>(null)"),
        (lambda d: d["containers"][0]["network_connection"][0].update(ipaddress="10.1.1"), "invalid IP address: 10.1.1"),
    ],
)
def test_decode_errors(quiet, explorer, customer, mutate, message_start):
    data = _data(quiet, customer)
    mutate(data)
    response = explorer.post("/reservations", json=customer.reservation_body(data))
    assert response.status_code == 400
    assert response.json()["error"].startswith(message_start)


def test_expiration_rules(quiet, explorer, customer):
    now = grid_now(quiet)
    past = _data(quiet, customer, expiration_reservation=int(now) - 10)
    _error(explorer.post("/reservations", json=customer.reservation_body(past)), 400,
           "creating for a reservation that expires in the past")
    short = _data(quiet, customer, expiration_reservation=int(now) + 3000)
    response = explorer.post("/reservations", json=customer.reservation_body(short))
    assert response.status_code == 400
    assert re.fullmatch(
        r"the minimum duration for a reservation is 1 hour, you tried to reserve for 4[89]m[0-9.]+s", response.json()["error"]
    )
    long = _data(quiet, customer, expiration_reservation=int(now) + 3 * 365 * 86400)
    assert explorer.post("/reservations", json=customer.reservation_body(long)).status_code == 201  # no maximum
    late = _data(quiet, customer, expiration_provisioning=int(now) - 1)
    _error(explorer.post("/reservations", json=customer.reservation_body(late)), 400, "invalid request wrong status 'delete'")
    missing = _data(quiet, customer)
    del missing["expiration_provisioning"]
    _error(explorer.post("/reservations", json=customer.reservation_body(missing)), 400, "invalid request wrong status 'delete'")


def test_field_checks(quiet, explorer, customer):
    data = _data(quiet, customer)
    body = customer.reservation_body(data)
    _error(explorer.post("/reservations", json=dict(body, customer_tid=0)), 400, "customer_tid is required")
    _error(explorer.post("/reservations", json=dict(body, customer_signature="")), 400, "customer_signature is required")
    response = explorer.post("/reservations", json=dict(body, json="{nope"))
    assert response.json()["error"].startswith("invalid json data on reservation: ")
    _error(explorer.post("/reservations", json=dict(body, metadata="x" * 1025)), 400, "metadata can not be bigger than 1024 bytes")
    assert explorer.post("/reservations", json=dict(body, metadata="x" * 1024)).status_code == 201


def test_duplicate_workload_ids_except_networks(quiet, explorer, customer):
    clash = _data(quiet, customer, volumes=[volume(1, PAID)])
    _error(explorer.post("/reservations", json=customer.reservation_body(clash)), 400, "conflicting workload ID '1'")
    shared_with_network = _data(quiet, customer, networks=[network(1, [PAID])])
    assert explorer.post("/reservations", json=customer.reservation_body(shared_with_network)).status_code == 201


def test_ssd_rule(quiet, explorer, customer):
    hdd_root = _data(quiet, customer, containers=[container(1, PAID, disk_type=0)])
    _error(explorer.post("/reservations", json=customer.reservation_body(hdd_root)), 400,
           "container workload 1: capacity.disk_type must be 1 (ssd); hdd root filesystems are not supported since 2020-06-23")
    hdd_volume = _data(quiet, customer, volumes=[volume(3, PAID, volume_type=0)])
    _error(explorer.post("/reservations", json=customer.reservation_body(hdd_volume)), 400,
           "volume workload 3: type must be 1 (ssd); hdd volumes are not supported since 2020-06-23")


def test_unknown_nodes_and_gateways_are_500(quiet, explorer, customer):
    unknown = _data(quiet, customer, containers=[container(1, "NoSuchNode")])
    _error(explorer.post("/reservations", json=customer.reservation_body(unknown)), 500, "mongo: no documents in result")
    in_network = _data(quiet, customer, networks=[network(2, [PAID, "NoSuchNode"])])
    _error(explorer.post("/reservations", json=customer.reservation_body(in_network)), 500, "mongo: no documents in result")
    proxy = {"id": 0, "workload_id": 9, "node_id": "gw", "domain": "a.b", "addr": "1.1.1.1", "port": 80, "port_tls": 443}
    gateway = _data(quiet, customer, proxies=[proxy])
    _error(explorer.post("/reservations", json=customer.reservation_body(gateway)), 500, "mongo: no documents in result")


def test_currencies_free_and_paid(quiet, explorer, customer):
    only_free_tft = _data(quiet, customer, currencies=["FreeTFT"])
    body = customer.reservation_body(only_free_tft)
    _error(explorer.post("/reservations", json=body), 500, "none of the offered currencies are currently supported")
    stored = explorer.get("/reservations", params={"customer_tid": customer.tid}).json()
    assert len(stored) == 1 and stored[0]["next_action"] == 2  # the reservation stays stored
    free = _data(quiet, customer, containers=[container(1, FREE)], networks=[network(2, [FREE])], currencies=["FreeTFT", "TFT"])
    answer = explorer.post("/reservations", json=customer.reservation_body(free)).json()
    assert answer["escrow_information"]["asset"] == quiet.app_state.ledger.asset_string("FreeTFT")
    assert answer["escrow_information"]["details"][0]["farmer_id"] == 1
    # v0.3.2: mixing free and paid nodes is allowed; FreeTFT is then dropped
    mixed = _data(quiet, customer, containers=[container(1, FREE), container(3, PAID)], currencies=["FreeTFT", "TFTA"])
    answer = explorer.post("/reservations", json=customer.reservation_body(mixed)).json()
    assert answer["escrow_information"]["asset"].startswith("TFTA:")


def test_customer_and_signature_checks(quiet, explorer, customer):
    data = _data(quiet, customer)
    body = customer.reservation_body(data)
    _error(explorer.post("/reservations", json=dict(body, customer_tid=999)), 400,
           "cannot find user with id '999': mongo: no documents in result")
    response = explorer.post("/reservations", json=dict(body, customer_signature="xyz"))
    assert response.json()["error"].startswith("invalid signature format, expecting hex encoded string: ")
    forged = nacl.signing.SigningKey.generate().sign(body["json"].encode()).signature.hex()
    _error(explorer.post("/reservations", json=dict(body, customer_signature=forged)), 400,
           "failed to verify customer signature: signature verification failed")
    other = Customer(explorer, "other.%d.3bot" % customer.tid)
    _error(explorer.post("/reservations", json=dict(body, customer_tid=other.tid)), 400,
           "failed to verify customer signature: signature verification failed")
    tampered_text = body["json"].replace('"description": ""', '"description": "x"')
    tampered = dict(body, json=tampered_text, data_reservation=dict(data, description="x"))
    _error(explorer.post("/reservations", json=tampered), 400,
           "failed to verify customer signature: signature verification failed")


@pytest.mark.parametrize("action", [3, 6])
def test_client_sent_next_action_is_refused(quiet, explorer, customer, action):
    body = customer.reservation_body(_data(quiet, customer), next_action=action)
    response = explorer.post("/reservations", json=body)
    assert response.status_code == 400
    assert response.json()["error"].startswith("next_action must be 0 (create) or omitted, got %d" % action)


def test_list_filters_on_stored_state_and_pages(quiet, explorer, customer):
    data = _data(quiet, customer)
    ids = [explorer.post("/reservations", json=customer.reservation_body(data)).json()["reservation_id"] for _ in range(3)]
    mine = explorer.get("/reservations", params={"customer_tid": customer.tid})
    assert [r["id"] for r in mine.json()] == ids and mine.headers["pages"] == "1"
    paged = explorer.get("/reservations", params={"customer_tid": customer.tid, "size": 2, "page": 2})
    assert [r["id"] for r in paged.json()] == ids[2:] and paged.headers["pages"] == "2"
    assert len(explorer.get("/reservations", params={"customer_tid": customer.tid, "next_action": 2}).json()) == 3
    assert explorer.get("/reservations", params={"customer_tid": customer.tid, "next_action": 3}).json() == []
    # expired: shown as 4 (computed) but still filtered as the stored 2
    quiet.app_state.clock.advance(3 * 3600)
    expired = explorer.get("/reservations", params={"customer_tid": customer.tid, "next_action": 2}).json()
    assert [r["next_action"] for r in expired] == [4, 4, 4]
    assert explorer.get("/reservations", params={"customer_tid": "x"}).json()["error"].startswith(
        "customer_tid should be an integer: ")
    assert explorer.get("/reservations", params={"next_action": "x"}).json()["error"].startswith(
        "next_action should be an integer: ")


def test_parallel_creates_get_unique_ids(quiet, explorer, customer):
    data = _data(quiet, customer)
    body = customer.reservation_body(data)

    def create(_):
        import httpx

        with httpx.Client(base_url=quiet.explorer_url, timeout=30) as client:
            response = client.post("/reservations", json=body)
            assert response.status_code == 201, response.text
            return response.json()["reservation_id"]

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(create, range(24)))
    assert len(set(ids)) == 24
    assert sorted(ids) == list(range(min(ids), min(ids) + 24))
