"""HTTP routes of reservations: customer side (docs/contract/explorer.md §3.5) and node side (explorer.md §3.6)."""

from starlette.exceptions import HTTPException
from starlette.routing import Route

from localgrid.explorer.errors import bad_request
from localgrid.explorer.gojson import decode_bytes
from localgrid.explorer.gostr import parse_int
from localgrid.explorer.responses import handled, json_response, pages_header, paging
from localgrid.explorer.schema import RESULT, SIGN_BODY


def _int_filter(query, name):
    value = query.get(name)
    if value is None or value == "":
        return None
    try:
        return parse_int(value)
    except ValueError as err:
        raise bad_request("%s should be an integer: %s" % (name, err)) from None


def routes(reservations):
    async def create(request):
        return json_response(reservations.create(await request.body()), 201)

    async def list_reservations(request):
        query = request.query_params
        page, size = paging(query)
        found, total = reservations.find(
            customer_tid=_int_filter(query, "customer_tid") or 0, next_action=_int_filter(query, "next_action"),
            page=page, size=size,
        )
        return json_response(found, headers=pages_header(total, size))

    async def get(request):
        return json_response(reservations.get(int(request.path_params["reservation_id"])))

    def signer(kind):
        async def sign(request):
            body = decode_bytes(SIGN_BODY, await request.body())
            reservations.sign(int(request.path_params["reservation_id"]), body, kind)
            return json_response(None, 201)

        sign.__name__ = "sign_" + kind
        return handled(sign)

    async def poll(request):
        from_id = request.query_params.get("from")
        if from_id is None or not from_id.isdigit():
            raise HTTPException(404)  # gorilla/mux: the `from` query is part of the route
        workloads, last_id = reservations.poll(request.path_params["node_id"], int(from_id))
        return json_response(workloads, headers={"X-Last-Id": str(last_id)})

    async def workload(request):
        return json_response(reservations.workload(request.path_params["gwid"]))

    async def put_result(request):
        result = decode_bytes(RESULT, await request.body())
        reservations.put_result(request.path_params["gwid"], request.path_params["node_id"], result)
        return json_response(None, 201)

    async def put_deleted(request):
        reservations.put_deleted(request.path_params["gwid"], request.path_params["node_id"])
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
