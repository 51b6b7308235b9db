# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import email.utils
import json
import time

import httpx
import pytest

from ansible_collections.threefold.grid.plugins.module_utils._explorer import (
    GRID_NETWORKS,
    NEXT_ACTION,
    NEXT_ACTION_NAMES,
    ExplorerClient,
    ExplorerError,
    ExplorerNotFound,
)
from ansible_collections.threefold.grid.plugins.module_utils._version import COLLECTION_VERSION

BASE = "http://explorer.test/explorer"


class Recorder:
    """A MockTransport handler that answers from a list of responses (or a callable) and records requests."""

    def __init__(self, *responses):
        self.responses = list(responses)
        self.requests = []

    def __call__(self, request):
        self.requests.append(request)
        answer = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        # A fresh copy each time: a response object is consumed once it has been sent.
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)


def make_client(handler, **kwargs):
    sleeps = []
    kwargs.setdefault("sleep", sleeps.append)
    client = ExplorerClient(BASE, transport=httpx.MockTransport(handler), **kwargs)
    return client, sleeps


def test_grid_networks_and_next_action_tables():
    assert sorted(GRID_NETWORKS) == ["dev", "local", "main", "test"]
    assert GRID_NETWORKS["main"]["explorer_url"] == "https://explorer.grid.tf/explorer"
    assert GRID_NETWORKS["local"]["network_passphrase"] == "Localgrid Stellar Network ; threefold.grid"
    assert NEXT_ACTION["pay"] == 2 and NEXT_ACTION["deleted"] == 6
    assert NEXT_ACTION_NAMES[3] == "deploy"


def test_get_decodes_json_and_sends_user_agent():
    recorder = Recorder(httpx.Response(200, json={"id": 1, "name": "alice.3bot"}))
    client, sleeps = make_client(recorder)
    assert client.get("/users/1") == {"id": 1, "name": "alice.3bot"}
    request = recorder.requests[0]
    assert str(request.url) == BASE + "/users/1"
    assert request.headers["User-Agent"] == "ansible-threefold.grid/%s" % COLLECTION_VERSION
    assert sleeps == []


def test_base_url_trailing_slash_is_ignored():
    recorder = Recorder(httpx.Response(200, json=[]))
    client = ExplorerClient(BASE + "/", transport=httpx.MockTransport(recorder))
    client.get("nodes")
    assert str(recorder.requests[0].url) == BASE + "/nodes"


def test_null_and_empty_bodies_decode_to_none():
    client = make_client(Recorder(httpx.Response(200, text="null\n"), httpx.Response(201, text="")))[0]
    assert client.post("/users/1/validate", {}, retry_safe=True) is None
    assert client.post("/users/1/validate", {}, retry_safe=True) is None


def test_get_retries_503_then_succeeds():
    recorder = Recorder(httpx.Response(503, text="busy"), httpx.Response(200, json={"ok": True}))
    client, sleeps = make_client(recorder)
    assert client.get("/farms/1") == {"ok": True}
    assert len(recorder.requests) == 2
    assert len(sleeps) == 1 and 0 < sleeps[0] <= client.backoff_base


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_every_retryable_status_is_retried(status):
    recorder = Recorder(httpx.Response(status), httpx.Response(200, json=[]))
    client, sleeps = make_client(recorder)
    assert client.get("/nodes") == []
    assert len(recorder.requests) == 2


def test_429_honours_retry_after_seconds():
    recorder = Recorder(httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json={}))
    client, sleeps = make_client(recorder)
    client.get("/nodes/x")
    assert sleeps == [7.0]


def test_retry_after_http_date_is_honoured():
    when = email.utils.formatdate(time.time() + 20, usegmt=True)
    recorder = Recorder(httpx.Response(503, headers={"Retry-After": when}), httpx.Response(200, json={}))
    client, sleeps = make_client(recorder)
    client.get("/nodes/x")
    assert 15 <= sleeps[0] <= 20


def test_retry_after_is_capped():
    recorder = Recorder(httpx.Response(429, headers={"Retry-After": "3600"}), httpx.Response(200, json={}))
    client, sleeps = make_client(recorder, retry_after_max=45.0)
    client.get("/nodes/x")
    assert sleeps == [45.0]


def test_backoff_is_exponential_jittered_and_capped():
    recorder = Recorder(httpx.Response(503))
    client, sleeps = make_client(recorder, retries=6, backoff_base=1.0, backoff_max=8.0)
    with pytest.raises(ExplorerError) as caught:
        client.get("/nodes")
    assert caught.value.status == 503
    assert len(recorder.requests) == 7
    ceilings = [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert len(sleeps) == len(ceilings)
    for slept, ceiling in zip(sleeps, ceilings):
        assert ceiling / 2 <= slept <= ceiling


def test_post_is_not_retried_unless_retry_safe():
    recorder = Recorder(httpx.Response(503, json={"error": "busy"}))
    client, sleeps = make_client(recorder)
    with pytest.raises(ExplorerError) as caught:
        client.post("/reservations", {"json": "{}"})
    assert caught.value.status == 503 and len(recorder.requests) == 1 and sleeps == []

    recorder = Recorder(httpx.Response(503, json={"error": "busy"}), httpx.Response(201, text="null\n"))
    client, sleeps = make_client(recorder)
    assert client.post("/reservations/1/sign/delete", {"tid": 1}, retry_safe=True) is None
    assert len(recorder.requests) == 2 and len(sleeps) == 1


def test_create_reservation_is_never_retried():
    recorder = Recorder(httpx.ConnectError("refused"))
    client, sleeps = make_client(recorder)
    with pytest.raises(ExplorerError):
        client.create_reservation({"json": "{}"})
    assert len(recorder.requests) == 1 and sleeps == []


def test_connection_errors_are_retried_then_raised():
    recorder = Recorder(httpx.ConnectError("[Errno 111] Connection refused"))
    client, sleeps = make_client(recorder, retries=2)
    with pytest.raises(ExplorerError) as caught:
        client.get("/nodes")
    error = caught.value
    assert len(recorder.requests) == 3 and len(sleeps) == 2
    assert error.status is None and error.method == "GET" and error.path == "/nodes"
    assert "cannot reach the explorer at %s" % BASE in error.message
    assert "Connection refused" in error.message


def test_connection_error_then_success():
    recorder = Recorder(httpx.ConnectTimeout("timed out"), httpx.Response(200, json=[1]))
    client = make_client(recorder)[0]
    assert client.get("/nodes") == [1]


def test_json_error_body_is_mapped():
    recorder = Recorder(httpx.Response(409, json={"error": "user with same name or email exists"}))
    client = make_client(recorder)[0]
    with pytest.raises(ExplorerError) as caught:
        client.create_user("alice.3bot", "a@example.com", "00" * 32)
    assert caught.value.to_failure() == {
        "status": 409, "method": "POST", "path": "/users", "message": "user with same name or email exists"}
    assert str(caught.value) == "POST /users returned HTTP 409: user with same name or email exists"


def test_json_404_is_a_missing_thing():
    client = make_client(Recorder(httpx.Response(404, json={"error": "node not found"})))[0]
    with pytest.raises(ExplorerNotFound) as caught:
        client.get_node("abc")
    assert caught.value.status == 404 and caught.value.message == "node not found"


@pytest.mark.parametrize("body", ["404 page not found\n", "<html><body><h1>404 Not Found</h1></body></html>"])
def test_router_404_blames_the_url_not_the_thing_asked_for(body):
    # Only the router answers 404 without a JSON error: the explorer URL points at the wrong place.
    client = make_client(Recorder(httpx.Response(404, text=body, headers={"Content-Type": "text/plain"})))[0]
    with pytest.raises(ExplorerError) as caught:
        client.get_node("abc")
    assert not isinstance(caught.value, ExplorerNotFound) and caught.value.status == 404
    assert "for GET /nodes/abc, a path every explorer serves: check explorer_url" in caught.value.message


def test_empty_405_is_mapped():
    client = make_client(Recorder(httpx.Response(405)))[0]
    with pytest.raises(ExplorerError) as caught:
        client.delete("/users/1")
    assert caught.value.to_failure() == {
        "status": 405, "method": "DELETE", "path": "/users/1", "message": "405 Method Not Allowed"}


def test_401_json_body_without_json_content_type_is_mapped():
    body = b'{"error":"unauthorized access: signature verification failed"}'
    client = make_client(Recorder(httpx.Response(401, content=body, headers={"Content-Type": "text/plain"})))[0]
    with pytest.raises(ExplorerError) as caught:
        client.put("/farms/1", {})
    assert caught.value.message == "unauthorized access: signature verification failed"


def test_a_web_page_instead_of_json_names_the_option():
    page = "<!doctype html>\n<html><head><title>Welcome to nginx!</title></head>" + "<p>x</p>" * 100 + "</html>"
    client = make_client(Recorder(httpx.Response(200, text=page)))[0]
    with pytest.raises(ExplorerError) as caught:
        client.get("/nodes/x")
    message = caught.value.message
    assert caught.value.status == 200 and "Expecting value" not in message
    assert "answered GET /nodes/x with something that is not JSON (<!doctype html> <html><head><title>Welcome" in message
    assert "so it is not a ThreeFold explorer: check explorer_url (or TFGRID_EXPLORER_URL)" in message
    assert len(message) < 500  # an excerpt of the page, not all of it


def paged(items, pages_header=None):
    def answer(request):
        page = int(request.url.params["page"])
        size = int(request.url.params["size"])
        chunk = items[(page - 1) * size:page * size]
        total_pages = pages_header if pages_header is not None else -(-len(items) // size)
        return httpx.Response(200, json=chunk, headers={"Pages": str(total_pages)})
    return answer


def test_get_all_follows_pages_header():
    recorder = Recorder(paged(list(range(25))))
    client = make_client(recorder)[0]
    assert client.get_all("/nodes", params={"farm": 3}, page_size=10) == list(range(25))
    assert [r.url.params["page"] for r in recorder.requests] == ["1", "2", "3"]
    assert all(r.url.params["size"] == "10" and r.url.params["farm"] == "3" for r in recorder.requests)


def test_get_all_stops_on_exact_last_page():
    recorder = Recorder(paged(list(range(20))))
    client = make_client(recorder)[0]
    assert client.get_all("/users", page_size=10) == list(range(20))
    assert len(recorder.requests) == 2


def test_get_all_stops_on_short_page_when_pages_overshoots():
    # v0.3.0 computes Pages for /farms from the node collection.
    recorder = Recorder(paged(list(range(12)), pages_header=9))
    client = make_client(recorder)[0]
    assert client.get_all("/farms", page_size=10) == list(range(12))
    assert len(recorder.requests) == 2


def test_get_all_with_zero_pages_header_reads_one_page():
    recorder = Recorder(httpx.Response(200, json=[{"id": 1}], headers={"Pages": "0"}))
    client = make_client(recorder)[0]
    assert client.get_all("/farms", params={"name": "f"}) == [{"id": 1}]
    assert len(recorder.requests) == 1


def test_get_all_caps_page_size():
    recorder = Recorder(httpx.Response(200, json=[], headers={"Pages": "0"}))
    client = make_client(recorder)[0]
    client.get_all("/nodes", page_size=5000)
    assert recorder.requests[0].url.params["size"] == "1000"


def test_list_nodes_sends_only_given_filters():
    recorder = Recorder(httpx.Response(200, json=[], headers={"Pages": "1"}))
    client = make_client(recorder)[0]
    client.list_nodes(farm=2, country="Belgium", city=None, cru=4, proofs=True)
    params = recorder.requests[0].url.params
    assert params["farm"] == "2" and params["country"] == "Belgium" and params["cru"] == "4"
    assert params["proofs"] == "true" and "city" not in params


def test_phonebook_helpers_use_documented_paths():
    recorder = Recorder(lambda request: httpx.Response(200, text="null\n"))
    client = make_client(recorder)[0]
    client.update_user(12, {"email": "a@example.com"}, "ab" * 64)
    request = recorder.requests[-1]
    assert request.method == "PUT" and request.url.path == "/explorer/users/12"
    assert json.loads(request.content) == {"email": "a@example.com", "sender_signature_hex": "ab" * 64}
    client.get_user(12, headers={"Threebot-Id": "12"})
    assert recorder.requests[-1].url.path == "/explorer/users/12"
    assert recorder.requests[-1].headers["Threebot-Id"] == "12"


def test_find_users_filters_by_name():
    recorder = Recorder(httpx.Response(200, json=[{"id": 4, "name": "bob.3bot"}], headers={"Pages": "1"}))
    client = make_client(recorder)[0]
    assert client.find_users(name="bob.3bot") == [{"id": 4, "name": "bob.3bot"}]
    assert recorder.requests[0].url.params["name"] == "bob.3bot"
    assert "email" not in recorder.requests[0].url.params


def test_sign_delete_body():
    recorder = Recorder(httpx.Response(201, text="null\n"))
    client = make_client(recorder)[0]
    client.sign_delete(42, 12, "cd" * 64)
    delete, = recorder.requests
    assert delete.url.path == "/explorer/reservations/42/sign/delete"
    body = json.loads(delete.content)
    assert body["tid"] == 12 and body["signature"] == "cd" * 64 and isinstance(body["epoch"], int)


def test_list_reservations_maps_next_action_names():
    recorder = Recorder(httpx.Response(200, json=[], headers={"Pages": "1"}))
    client = make_client(recorder)[0]
    client.list_reservations(customer_tid=12, next_action="deploy")
    params = recorder.requests[0].url.params
    assert params["customer_tid"] == "12" and params["next_action"] == "3"


def test_create_reservation_returns_escrow_information():
    answer = {"reservation_id": 42, "escrow_information": {"address": "G", "asset": "TFT:G", "details": []}}
    recorder = Recorder(httpx.Response(201, json=answer))
    client = make_client(recorder)[0]
    assert client.create_reservation({"json": "{}"}) == answer
    assert recorder.requests[0].method == "POST" and recorder.requests[0].url.path == "/explorer/reservations"
