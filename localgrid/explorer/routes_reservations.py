"""HTTP routes of reservations: customer side (docs/contract/explorer.md §3.5) and node side (explorer.md §3.6).

Ids and integers are parsed as the explorer's Go handlers parse them (int64, their error texts).
"""

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.routing import Route

from localgrid.explorer.errors import bad_request
from localgrid.explorer.gojson import decode_bytes
from localgrid.explorer.gostr import hex_decode, parse_int
from localgrid.explorer.responses import handled, json_response, pages_header, paging
from localgrid.explorer.schema import RESERVATION, RESULT, SIGN_BODY


def _int_filter(query, name):
    value = query.get(name)
    if not value:
        return None
    try:
        return parse_int(value)
    except ValueError as err:
        raise bad_request("%s should be an integer: %s" % (name, err)) from None


def _next_action_filter(query):
    value = _int_filter(query, "next_action")
    # Go converts the parsed int to NextActionEnum (uint8): next_action=259 filters on 3.
    return None if value is None else value & 0xFF


def _reservation_id(request):
    try:
        return parse_int(request.path_params["reservation_id"])
    except ValueError:
        raise bad_request("invalid reservation id") from None


def _check_gwid(request):
    """The reservation part of a global workload id must be an int64 (the workload part stays text)."""
    try:
        parse_int(request.path_params["gwid"].split("-", 1)[0])
    except ValueError as err:
        raise bad_request("invalid reservation id part: invalid id format: %s" % err) from None
    return request.path_params["gwid"]


def routes(reservations):
    async def create(request):
        body = decode_bytes(RESERVATION, await request.body())
        return json_response(reservations.create(body), 201)

    async def list_reservations(request):
        query = request.query_params
        page, size = paging(query)
        customer_tid, next_action = _int_filter(query, "customer_tid") or 0, _next_action_filter(query)

        def answer():
            found, total = reservations.find(customer_tid=customer_tid, next_action=next_action, page=page, size=size)
            return json_response(found, headers=pages_header(total, size))

        # A long list is read and written in a worker thread, so the event loop goes on answering other
        # requests (a payment, a node's result) in the meantime instead of queueing them behind it.
        return await run_in_threadpool(answer)

    async def get(request):
        return json_response(reservations.get(_reservation_id(request)))

    def signer(kind):
        async def sign(request):
            body = decode_bytes(SIGN_BODY, await request.body())
            try:
                signature = hex_decode(body["signature"])
            except ValueError as err:
                raise bad_request("invalid signature expecting hex encoded string: %s" % err) from None
            reservations.sign(_reservation_id(request), body, signature, kind)
            return json_response(None, 201)

        sign.__name__ = "sign_" + kind
        return handled(sign)

    async def poll(request):
        from_id = request.query_params.get("from")
        if from_id is None or not from_id.isdigit() or not from_id.isascii():
            raise HTTPException(404)  # gorilla/mux: the `from` query is part of the route
        try:
            from_id = parse_int(from_id)
        except ValueError as err:
            raise bad_request("invalid id format: %s" % err) from None
        workloads, last_id = reservations.poll(request.path_params["node_id"], from_id)
        return json_response(workloads, headers={"X-Last-Id": str(last_id)})

    async def workload(request):
        return json_response(reservations.workload(_check_gwid(request)))

    async def put_result(request):
        gwid = _check_gwid(request)
        result = decode_bytes(RESULT, await request.body())
        reservations.put_result(gwid, request.path_params["node_id"], result)
        return json_response(None, 201)

    async def put_deleted(request):
        reservations.put_deleted(_check_gwid(request), request.path_params["node_id"])
        return json_response(None)

    return [
        Route("/reservations", handled(create), methods=["POST"]),
        Route("/reservations", handled(list_reservations), methods=["GET"]),
        Route("/reservations/{reservation_id:digits}", handled(get), methods=["GET"]),
        Route("/reservations/{reservation_id:digits}/sign/provision", signer("provision"), methods=["POST"]),
        Route("/reservations/{reservation_id:digits}/sign/delete", signer("delete"), methods=["POST"]),
        Route("/reservations/workloads/{gwid:gwid}", handled(workload), methods=["GET"]),
        Route("/reservations/workloads/{node_id}", handled(poll), methods=["GET"]),
        Route("/reservations/workloads/{gwid:gwid}/{node_id}", handled(put_result), methods=["PUT"]),
        Route("/reservations/workloads/{gwid:gwid}/{node_id}", handled(put_deleted), methods=["DELETE"]),
    ]
