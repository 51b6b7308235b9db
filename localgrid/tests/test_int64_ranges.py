"""Integers the Go services parse as int64 are range-checked: 400 with upstream's message, never a 500.

tfexplorer v0.3.2 parses ids and query integers with strconv.ParseInt(s, 10, 64) (value out of range
→ 400) and decodes bodies with encoding/json (a number beyond its field's type is an
UnmarshalTypeError → 400). Before, SQLite refused such ids with a 500.
"""

import httpx
import pytest
from stellar_sdk import Keypair

from localgrid.grid import load_grid
from localgrid.keys import node_id_of, node_signing_key
from localgrid.node import httpsig
from localgrid.tests.conftest import Customer, container, launch, reservation_data

TOO_BIG = str(2**63)
TOO_SMALL = str(-(2**63) - 1)
NODE = load_grid()["nodes"][0]["node_id"]
RANGE = 'strconv.ParseInt: parsing "%s": value out of range'
SIGNATURE = {"tid": 1, "signature": "00" * 64, "epoch": 0}
RESULT = {"category": 1, "workload_id": "1-1", "data_json": {}, "signature": "", "state": 1, "message": ""}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    lg = launch(tmp_path_factory.mktemp("int64"), quiet=True)
    yield lg
    lg.stop()


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        yield http


@pytest.mark.parametrize(
    "method, path, params, body, message",
    [
        ("GET", "/explorer/users/" + TOO_BIG, None, None, "invalid id format: " + RANGE % TOO_BIG),
        ("PUT", "/explorer/users/" + TOO_BIG, None, {}, "invalid user id: invalid id format: " + RANGE % TOO_BIG),
        ("POST", "/explorer/users/%s/validate" % TOO_BIG, None, {}, "invalid id format: " + RANGE % TOO_BIG),
        ("GET", "/explorer/farms/" + TOO_BIG, None, None, RANGE % TOO_BIG),
        ("GET", "/explorer/farms/" + TOO_SMALL, None, None, RANGE % TOO_SMALL),
        ("GET", "/explorer/farms", {"owner": TOO_BIG}, None, "owner should be a integer: " + RANGE % TOO_BIG),
        ("GET", "/explorer/nodes", {"farm": TOO_BIG}, None, "invalid farm id: " + RANGE % TOO_BIG),
        ("GET", "/explorer/nodes", {"cru": TOO_BIG}, None, "invalid cru: " + RANGE % TOO_BIG),
        ("GET", "/explorer/nodes", {"mru": TOO_SMALL}, None, "invalid mru: " + RANGE % TOO_SMALL),
        ("GET", "/explorer/nodes", {"sru": TOO_BIG}, None, "invalid sru: " + RANGE % TOO_BIG),
        ("GET", "/explorer/nodes", {"hru": TOO_BIG}, None, "invalid hru: " + RANGE % TOO_BIG),
        ("GET", "/explorer/reservations", {"customer_tid": TOO_BIG}, None,
         "customer_tid should be an integer: " + RANGE % TOO_BIG),
        ("GET", "/explorer/reservations", {"next_action": TOO_SMALL}, None,
         "next_action should be an integer: " + RANGE % TOO_SMALL),
        ("GET", "/explorer/reservations/" + TOO_BIG, None, None, "invalid reservation id"),
        ("POST", "/explorer/reservations/%s/sign/provision" % TOO_BIG, None, SIGNATURE, "invalid reservation id"),
        ("POST", "/explorer/reservations/%s/sign/delete" % TOO_BIG, None, SIGNATURE, "invalid reservation id"),
        ("GET", "/explorer/reservations/workloads/%s-1" % TOO_BIG, None, None,
         "invalid reservation id part: invalid id format: " + RANGE % TOO_BIG),
        ("PUT", "/explorer/reservations/workloads/%s-1/%s" % (TOO_BIG, NODE), None, RESULT,
         "invalid reservation id part: invalid id format: " + RANGE % TOO_BIG),
        ("DELETE", "/explorer/reservations/workloads/%s-1/%s" % (TOO_BIG, NODE), None, None,
         "invalid reservation id part: invalid id format: " + RANGE % TOO_BIG),
        ("GET", "/explorer/reservations/workloads/" + NODE, {"from": TOO_BIG}, None,
         "invalid id format: " + RANGE % TOO_BIG),
    ],
)
def test_explorer_ids_and_query_integers_beyond_int64(client, method, path, params, body, message):
    response = client.request(method, path, params=params, json=body)
    assert response.status_code == 400, response.text
    assert response.json() == {"error": message}


@pytest.mark.parametrize(
    "body, message",
    [
        ({"id": 2**63}, "json: cannot unmarshal number 9223372036854775808 into Go struct field User.id of type int64"),
        ({"id": -(2**63) - 1},
         "json: cannot unmarshal number -9223372036854775809 into Go struct field User.id of type int64"),
    ],
)
def test_user_body_integers_beyond_int64(client, body, message):
    response = client.post("/explorer/users", json=dict({"name": "big.3bot", "email": "big@example.com"}, **body))
    assert response.status_code == 400 and response.json() == {"error": message}
    response = client.put("/explorer/users/1", json=dict(body, sender_signature_hex="00"))
    assert response.status_code == 400 and response.json() == {"error": message.replace("User.", "UserUpdate.")}


def _reservation(client, server, **change):
    customer = Customer(httpx.Client(base_url=server.explorer_url, timeout=10), "int%d.3bot" % len(str(change)))
    data = reservation_data(server.app_state.clock.now(), containers=[container(1, NODE)])
    for key, value in change.pop("data", {}).items():
        data[key] = value
    body = customer.reservation_body(data)
    body.update(change)
    return client.post("/explorer/reservations", json=body)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"customer_tid": 2**63},
         "json: cannot unmarshal number 9223372036854775808 into Go struct field Reservation.customer_tid of type int64"),
        ({"next_action": 256},
         "json: cannot unmarshal number 256 into Go struct field Reservation.next_action of type "
         "workloads.NextActionEnum"),
        ({"next_action": -1},
         "json: cannot unmarshal number -1 into Go struct field Reservation.next_action of type "
         "workloads.NextActionEnum"),
        ({"data": {"containers": [dict(container(2**63, NODE))]}},
         "json: cannot unmarshal number 9223372036854775808 into Go struct field "
         "Reservation.data_reservation.containers.workload_id of type int64"),
        ({"data": {"containers": [dict(container(1, NODE), capacity={"cpu": 1, "memory": 1, "disk_size": 2**64,
                                                                      "disk_type": 1})]}},
         "json: cannot unmarshal number 18446744073709551616 into Go struct field "
         "Reservation.data_reservation.containers.capacity.disk_size of type uint64"),
        ({"data": {"containers": [dict(container(1, NODE), capacity={"cpu": 1, "memory": 1, "disk_size": 1,
                                                                      "disk_type": 257})]}},
         "json: cannot unmarshal number 257 into Go struct field "
         "Reservation.data_reservation.containers.capacity.disk_type of type workloads.DiskTypeEnum"),
        # schema.Date goes through float64; Go's int64(float64) of a too large value is math.MinInt64
        ({"data": {"expiration_reservation": 2**63}}, "creating for a reservation that expires in the past"),
        ({"data": {"expiration_reservation": 1e300}}, "creating for a reservation that expires in the past"),
    ],
)
def test_create_body_integers_beyond_their_go_type(client, server, change, message):
    response = _reservation(client, server, **change)
    assert response.status_code == 400, response.text
    assert response.json() == {"error": message}


def test_sign_and_result_bodies_beyond_their_go_type(client):
    response = client.post("/explorer/reservations/1/sign/delete", json=dict(SIGNATURE, tid=2**63))
    assert response.status_code == 400
    assert response.json()["error"].endswith("Go struct field SigningSignature.tid of type int64")
    response = client.put("/explorer/reservations/workloads/1-1/" + NODE, json=dict(RESULT, category=256))
    assert response.status_code == 400
    assert response.json()["error"].endswith("Go struct field Result.category of type workloads.WorkloadTypeEnum")


LISTS = ["/explorer/reservations", "/explorer/users", "/explorer/farms", "/explorer/nodes", "/explorer/gateways"]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("page", [TOO_BIG, str(2**64)])
def test_pages_beyond_int64_are_empty(client, path, page):
    # models.PageFromRequest ignores the parse error and keeps the int64 bound: a page past the end.
    response = client.get(path, params={"page": page, "size": "10"})
    assert response.status_code == 200 and response.json() == []


@pytest.mark.parametrize("path", LISTS)
def test_sizes_beyond_int64_are_capped(client, path):
    everything = client.get(path, params={"size": "1000"})
    response = client.get(path, params={"size": TOO_BIG})
    assert response.status_code == 200 and response.json() == everything.json()
    assert response.headers["pages"] == everything.headers["pages"]


def test_next_action_filter_is_converted_to_uint8_like_go(client, server):
    assert _reservation(client, server).status_code == 201
    pay = client.get("/explorer/reservations", params={"next_action": 2}).json()
    assert pay and client.get("/explorer/reservations", params={"next_action": 258}).json() == pay


@pytest.mark.parametrize(
    "path, params, field",
    [
        ("/stellar/ledgers/" + TOO_BIG, None, "sequence"),
        ("/stellar/ledgers/%d" % 2**32, None, "sequence"),
        ("/stellar/ledgers/%d/transactions" % 2**32, None, "sequence"),
        ("/stellar/operations/" + TOO_BIG, None, "op_id"),
        ("/stellar/operations/%s/effects" % TOO_BIG, None, "op_id"),
        ("/stellar/transactions", {"cursor": TOO_BIG}, "cursor"),
        ("/stellar/payments", {"cursor": TOO_BIG}, "cursor"),
        ("/stellar/operations", {"cursor": TOO_BIG}, "cursor"),
        ("/stellar/ledgers", {"cursor": TOO_BIG}, "cursor"),
        ("/stellar/effects", {"cursor": "1-" + TOO_BIG}, "cursor"),
        ("/stellar/effects", {"limit": TOO_BIG}, "limit"),
        ("/stellar/faucet", {"addr": Keypair.random().public_key, "amount": TOO_BIG}, "amount"),
    ],
)
def test_horizon_integers_beyond_int64(client, path, params, field):
    response = client.get(path, params=params)
    assert response.status_code == 400, response.text
    assert response.json()["extras"]["invalid_field"] == field


def test_ledger_by_sequence_answers(client):
    # GET /stellar/ledgers/{sequence} answered 500 until its handler stopped sharing the Ledger's name.
    response = client.get("/stellar/ledgers/1")
    assert response.status_code == 200 and response.json()["sequence"] == 1
    assert client.get("/stellar/ledgers/%d" % (2**32 - 1)).status_code == 404


@pytest.mark.parametrize("advance", [1e300, "inf", "nan"])
def test_clock_refuses_an_advance_beyond_int64_seconds(client, advance):
    before = client.get("/localgrid/info").json()["now"]
    assert client.post("/localgrid/clock", json={"advance": advance}).status_code == 400
    assert client.get("/localgrid/info").json()["now"] - before < 60


def _node_post(client, server, what, body):
    """POST /explorer/nodes/<first node>/<what>, signed by that node as its agent signs."""
    node = load_grid()["nodes"][0]
    key = node_signing_key(node["seed"])
    node_id = node_id_of(key.verify_key)
    headers = httpsig.signature_headers(key, node_id, int(server.app_state.clock.now()))
    return node_id, client.post("/explorer/nodes/%s/%s" % (node_id, what), json=body, headers=headers)


@pytest.mark.parametrize(
    "what, body, message",
    [
        ("uptime", {"uptime": 2**64}, "UptimeBody.uptime of type uint64"),
        ("uptime", {"uptime": -1}, "UptimeBody.uptime of type uint64"),
        ("used_resources", {"cru": 2**64}, "ResourceAmountAndWorkloads.cru of type uint64"),
        ("used_resources", {"container": 2**16}, "ResourceAmountAndWorkloads.container of type uint16"),
        ("ports", {"ports": [2**64]}, "PortsBody.ports of type uint"),
        ("ports", {"ports": [-1]}, "PortsBody.ports of type uint"),
    ],
)
def test_node_report_bodies_beyond_their_go_type(client, server, what, body, message):
    value = next(iter(body.values()))
    number = value[0] if isinstance(value, list) else value
    response = _node_post(client, server, what, body)[1]
    assert response.status_code == 400, response.text
    assert response.json() == {"error": "json: cannot unmarshal number %d into Go struct field %s" % (number, message)}


def test_node_reports_within_uint64_are_stored_and_read_back(client, server):
    # Beyond int64 but within Go's uint64: accepted upstream, so stored and rendered, never a 500.
    node_id = _node_post(client, server, "uptime", {"uptime": 2**63})[0]
    assert _node_post(client, server, "used_resources", {"cru": 2**63})[1].status_code == 200
    response = client.get("/explorer/nodes/" + node_id)
    assert response.status_code == 200, response.text
    assert response.json()["uptime"] == 2**63 and response.json()["used_resources"]["cru"] == 2**63
