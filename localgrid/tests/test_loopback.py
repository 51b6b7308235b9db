"""The node agents' in-process transport (localgrid/loopback.py): the same requests and answers as over a
socket, faults.py's faults included, and the agents of a running localgrid use it."""

import asyncio
import threading

import httpx
import pytest

from localgrid.faults import FaultInjection, FaultPlan, parse_spec
from localgrid.loopback import LoopbackTransport
from localgrid.tests.conftest import Customer, grid_now, reservation_data, volume, wait_for

BASE = "http://127.0.0.1:8080"


@pytest.fixture
def loop():
    """An event loop running in a thread, as uvicorn's runs beside the node agents."""
    running = asyncio.new_event_loop()
    thread = threading.Thread(target=running.run_forever, daemon=True)
    thread.start()
    yield running
    running.call_soon_threadsafe(running.stop)
    thread.join(timeout=5)
    running.close()


async def echo(scope, receive, send):
    """Answers with what it received, so a test sees the request as the app saw it."""
    message = await receive()
    if scope["path"] == "/fail":
        raise ValueError("broken handler")
    if scope["path"] == "/slow":
        await asyncio.sleep(1)
    text = "%s %s %s %s %s" % (scope["method"], scope["path"], scope["query_string"].decode(),
                               dict(scope["headers"]).get(b"x-node", b"").decode(), message["body"].decode())
    await send({"type": "http.response.start", "status": 201, "headers": [(b"x-answer", b"yes")]})
    await send({"type": "http.response.body", "body": text.encode(), "more_body": True})
    await send({"type": "http.response.body", "body": b"!"})


def _client(app, loop, **kwargs):
    return httpx.Client(transport=LoopbackTransport(app, loop, BASE, **kwargs), timeout=10)


def test_the_app_sees_the_request_and_the_node_gets_its_answer(loop):
    with _client(echo, loop) as client:
        response = client.put(BASE + "/explorer/reservations/workloads/1-1/node%20a?from=3", content=b"{}",
                              headers={"X-Node": "n1"})
    assert response.status_code == 201 and response.headers["x-answer"] == "yes"
    assert response.text == "PUT /explorer/reservations/workloads/1-1/node a from=3 n1 {}!"


def test_a_failing_app_answers_500_and_a_slow_one_times_out(loop):
    with _client(echo, loop) as client:
        failed = client.get(BASE + "/fail")
        assert failed.status_code == 500 and failed.text == "Internal Server Error"
        with pytest.raises(httpx.ReadTimeout):
            client.get(BASE + "/slow", timeout=0.2)


def test_another_origin_takes_the_network_and_a_closed_loop_refuses(loop):
    seen = []
    fallback = httpx.MockTransport(lambda request: seen.append(str(request.url)) or httpx.Response(204))
    with _client(echo, loop, fallback=fallback) as client:
        assert client.get("http://127.0.0.1:9999/hub/x.flist").status_code == 204
        assert seen == ["http://127.0.0.1:9999/hub/x.flist"]
    closed = asyncio.new_event_loop()
    closed.close()
    with _client(echo, closed) as client, pytest.raises(httpx.ConnectError):
        client.get(BASE + "/explorer/nodes")


def test_the_network_transport_is_made_only_when_another_origin_is_asked(loop, monkeypatch):
    made = []

    def network_transport():
        made.append(1)
        return httpx.MockTransport(lambda request: httpx.Response(204))
    monkeypatch.setattr(httpx, "HTTPTransport", network_transport)
    # Each HTTPTransport builds an SSL context: one per node agent made a localgrid's start-up seconds slower.
    with _client(echo, loop) as client:
        assert client.get(BASE + "/explorer/nodes").status_code == 201 and made == []
        assert client.get("http://127.0.0.1:9999/a").status_code == 204
        assert client.get("http://127.0.0.1:9999/b").status_code == 204 and made == [1]


@pytest.mark.parametrize("spec, status", [("http5xx=1,seed=1", "5xx"), ("drop=1,seed=1", "drop"), ("drop=1,after=1,seed=1", "drop")])
def test_faults_reach_the_node_as_over_a_socket(loop, spec, status):
    plan = FaultPlan(parse_spec(spec))
    with _client(FaultInjection(echo, plan), loop) as client:
        if status == "drop":
            # What httpx raises when the server closes the connection without an answer.
            with pytest.raises(httpx.RemoteProtocolError):
                client.get(BASE + "/explorer/nodes")
        else:
            response = client.get(BASE + "/explorer/nodes")
            assert response.status_code in (500, 502, 503, 504)
            assert response.headers["x-localgrid-fault"] == "http5xx before"
    assert plan.counts["requests"] == 1


def test_the_agents_of_a_running_localgrid_talk_through_the_loopback(start_localgrid):
    lg = start_localgrid(payment="free")
    agents = lg.app_state.agents
    assert agents and all(isinstance(agent.client.http._transport, LoopbackTransport) for agent in agents)
    node_id = agents[0].node_id
    with httpx.Client(base_url=lg.explorer_url, timeout=10) as client:
        customer = Customer(client, "loopback.3bot")
        data = reservation_data(grid_now(lg), volumes=[volume(1, node_id)], signer=customer.tid)
        rid = client.post("/reservations", json=customer.reservation_body(data)).json()["reservation_id"]
        # The node polled, deployed and PUT its result, all through the loopback.
        results = wait_for(lambda: client.get("/reservations/%d" % rid).json()["results"])
    assert [(result["workload_id"], result["node_id"], result["state"]) for result in results] == [
        ("%d-1" % rid, node_id, 1)]
