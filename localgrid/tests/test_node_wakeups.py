"""Which node agents the explorer wakes, and the node index a poll reads (localgrid/wakeup.py,
localgrid/explorer/reservations.py): new work wakes only the nodes it is for, a node's own result
reports wake nobody, and a poll finds a node's reservations without decoding everyone else's."""

import httpx
import pytest

from localgrid.explorer.reservations import Reservations
from localgrid.tests.conftest import Customer, container, grid_now, network, reservation_data, volume
from localgrid.tests.test_explorer_lifecycle import FREE, NODE_A, NODE_B
from localgrid.wakeup import NodeWakeups


def test_node_wakeups_notify_only_the_named_nodes():
    wakeups = NodeWakeups()
    a, b = wakeups.of("a"), wakeups.of("b")
    assert wakeups.of("a") is a
    seen_a, seen_b = a.generation, b.generation
    wakeups.notify(["a", "a", "unknown"])  # an id without an agent is ignored
    assert a.generation == seen_a + 1 and b.generation == seen_b
    wakeups.notify_all()
    assert a.generation == seen_a + 2 and b.generation == seen_b + 1


@pytest.fixture
def free_lg(start_localgrid):
    return start_localgrid(payment="free", quiet=True)


def _generations(lg):
    return {node: lg.app_state.node_wakeups.of(node).generation for node in (NODE_A, NODE_B, FREE)}


def _poll(client, node_id, from_id=0):
    response = client.get("/reservations/workloads/%s" % node_id, params={"from": from_id})
    assert response.status_code == 200, response.text
    return [w["workload_id"] for w in response.json()], int(response.headers["x-last-id"])


def _create(client, lg, customer, **workloads):
    body = customer.reservation_body(reservation_data(grid_now(lg), signer=customer.tid, **workloads))
    response = client.post("/reservations", json=body)
    assert response.status_code == 201, response.text
    return response.json()["reservation_id"]


def test_new_work_wakes_its_nodes_and_results_wake_nobody(free_lg):
    with httpx.Client(base_url=free_lg.explorer_url, timeout=10) as client:
        customer = Customer(client, "wakes.3bot")
        before = _generations(free_lg)
        rid = _create(client, free_lg, customer, containers=[container(1, NODE_A), container(3, NODE_B, ip="10.1.2.2")],
                      networks=[network(2, [NODE_A, NODE_B])])
        after_create = _generations(free_lg)
        assert after_create[NODE_A] > before[NODE_A] and after_create[NODE_B] > before[NODE_B]
        assert after_create[FREE] == before[FREE]  # a node without workloads in it sleeps on

        result = {"category": 1, "workload_id": "%d-1" % rid, "data_json": {"id": "x"}, "signature": "ab",
                  "state": 1, "message": ""}
        assert client.put("/reservations/workloads/%d-1/%s" % (rid, NODE_A), json=result).status_code == 201
        assert _generations(free_lg) == after_create

        # An error result deletes the reservation: the other node has work again (decommission).
        failed = dict(result, workload_id="%d-3" % rid, state=0, message="boom", data_json=None)
        assert client.put("/reservations/workloads/%d-3/%s" % (rid, NODE_B), json=failed).status_code == 201
        assert _generations(free_lg)[NODE_A] > after_create[NODE_A]


def test_a_poll_reads_the_node_index_which_an_older_state_file_gets_at_start(free_lg):
    with httpx.Client(base_url=free_lg.explorer_url, timeout=10) as client:
        customer = Customer(client, "index.3bot")
        on_a = _create(client, free_lg, customer, volumes=[volume(1, NODE_A)])
        on_b = _create(client, free_lg, customer, volumes=[volume(1, NODE_B)])
        assert _poll(client, NODE_A) == (["%d-1" % on_a], on_b)
        assert _poll(client, NODE_B) == (["%d-1" % on_b], on_b)
        assert _poll(client, NODE_B, on_b + 1) == ([], on_b)

        state = free_lg.app_state
        with state.store.transaction() as conn:  # a state file written before the index existed
            conn.execute("DROP TABLE reservation_nodes")
        rebuilt = Reservations(state.store, state.clock, state.phonebook, state.directory, state.escrow)
        assert rebuilt.poll(NODE_A, 0)[0][0]["workload_id"] == "%d-1" % on_a
        assert [w["workload_id"] for w in rebuilt.poll(NODE_B, 0)[0]] == ["%d-1" % on_b]
