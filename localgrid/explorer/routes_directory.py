"""HTTP routes of the directory (/explorer/farms, /nodes, /gateways) and node-signed telemetry."""

from starlette.routing import Route

from localgrid.explorer import httpsig
from localgrid.explorer.errors import ApiError, bad_request, not_found
from localgrid.explorer.gateways import render_gateway
from localgrid.explorer.gojson import decode_bytes
from localgrid.explorer.gostr import parse_int
from localgrid.explorer.responses import handled, json_response, paginate
from localgrid.explorer.schema import PORTS_BODY, UPTIME_BODY, USED_RESOURCES_BODY

NODE_KEYS = (
    "id", "node_id", "node_id_v1", "farm_id", "os_version", "created", "updated", "uptime", "address",
    "location", "total_resources", "used_resources", "reserved_resources", "workloads", "proofs", "ifaces",
    "public_config", "free_to_use", "approved", "public_key_hex", "wg_ports", "hostname",
)


def render_node(doc, with_proofs):
    node = {key: doc.get(key) for key in NODE_KEYS}
    if not with_proofs:
        node["proofs"] = None
    return node


def _int_query(query, name, message):
    """models.QueryInt: an absent or empty value is 0; a bad one is a 400 prefixed with ``message``."""
    value = query.get(name)
    if not value:
        return 0
    try:
        return parse_int(value)
    except ValueError as err:
        raise bad_request("%s: %s" % (message, err)) from None


def routes(directory):
    async def list_farms(request):
        query = request.query_params
        owner = _int_query(query, "owner", "owner should be a integer")
        farms = directory.find_farms(owner=owner, name=query.get("name", ""))
        page, headers = paginate(farms, query)
        return json_response(page, headers=headers)

    async def get_farm(request):
        try:
            farm_id = parse_int(request.path_params["farm_id"])
        except ValueError as err:
            raise bad_request(str(err)) from None
        return json_response(directory.farm(farm_id))

    async def list_nodes(request):
        query = request.query_params
        farm = _int_query(query, "farm", "invalid farm id")
        minimum = {key: _int_query(query, key, "invalid " + key) for key in ("cru", "mru", "sru", "hru")}
        nodes = directory.find_nodes(farm=farm, country=query.get("country", ""), city=query.get("city", ""), **minimum)
        page, headers = paginate(nodes, query)
        with_proofs = query.get("proofs") == "true"
        return json_response([render_node(n, with_proofs) for n in page], headers=headers)

    async def get_node(request):
        node = directory.node(request.path_params["node_id"])
        if node is None:
            raise not_found()
        return json_response(render_node(node, request.query_params.get("proofs") == "true"))

    async def list_gateways(request):
        query = request.query_params
        gateways = directory.gateways.find(country=query.get("country", ""), city=query.get("city", ""))
        page, headers = paginate(gateways, query)
        return json_response([render_gateway(g) for g in page], headers=headers)

    async def get_gateway(request):
        gateway = directory.gateways.get(request.path_params["node_id"])
        if gateway is None:
            raise not_found()
        return json_response(render_gateway(gateway))

    def node_signed(action, mismatch, spec, apply, status=200):
        async def endpoint(request):
            key_id = httpsig.verify(request, httpsig.node_key)
            node_id = request.path_params["node_id"]
            if key_id != node_id:
                raise ApiError(403, "%s %s while you are %s" % (mismatch, node_id, key_id))
            body = decode_bytes(spec, await request.body())
            apply(node_id, body)
            return json_response(None, status)

        endpoint.__name__ = action
        return handled(endpoint)

    uptime = node_signed(
        "uptime", "trying to register uptime for nodeID", UPTIME_BODY,
        lambda node_id, body: directory.set_uptime(node_id, body["uptime"]),
    )
    used = node_signed(
        "used_resources", "trying to update reserved capacity for nodeID", USED_RESOURCES_BODY,
        directory.set_used_resources,
    )
    ports = node_signed(
        "ports", "trying to register ports for nodeID", PORTS_BODY,
        lambda node_id, body: directory.set_ports(node_id, body["ports"]),
    )
    gateway_uptime = node_signed(
        "gateway_uptime", "trying to register uptime for nodeID", UPTIME_BODY,
        lambda node_id, body: directory.gateways.set_uptime(node_id, body["uptime"]),
    )
    gateway_reserved = node_signed(
        "gateway_reserved_resources", "trying to update reserved capacity for nodeID", USED_RESOURCES_BODY,
        directory.gateways.set_reserved_resources,
    )

    return [
        Route("/farms", handled(list_farms), methods=["GET"]),
        Route("/farms/{farm_id}", handled(get_farm), methods=["GET"]),
        Route("/nodes", handled(list_nodes), methods=["GET"]),
        Route("/nodes/{node_id}", handled(get_node), methods=["GET"]),
        Route("/nodes/{node_id}/uptime", uptime, methods=["POST"]),
        Route("/nodes/{node_id}/used_resources", used, methods=["POST"]),
        Route("/nodes/{node_id}/ports", ports, methods=["POST"]),
        Route("/gateways", handled(list_gateways), methods=["GET"]),
        Route("/gateways/{node_id}", handled(get_gateway), methods=["GET"]),
        Route("/gateways/{node_id}/uptime", gateway_uptime, methods=["POST"]),
        Route("/gateways/{node_id}/reserved_resources", gateway_reserved, methods=["POST"]),
    ]
