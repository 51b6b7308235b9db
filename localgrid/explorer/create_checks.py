"""The explorer's checks of a decoded reservation create body (docs/contract/explorer.md §6.3), in its order.

tfexplorer v0.3.2 pkg/workloads/reservation.go ``create``: expiry and minimum duration, the signed
``json`` against ``data_reservation``, workload ids, the state pipeline, nodes, the customer and
their signature. Nothing is stored until every check passed.
"""

from localgrid.explorer import lifecycle
from localgrid.explorer.errors import ApiError, bad_request
from localgrid.explorer.gojson import DecodeError, decode, parse
from localgrid.explorer.gostr import duration, hex_decode
from localgrid.explorer.phonebook import verify_hex
from localgrid.explorer.schema import (
    CREATE,
    DATA_RESERVATION,
    DELETE,
    GATEWAY_KEYS,
    NETWORK,
    NEXT_ACTION_NAMES,
    WORKLOAD_KINDS,
)

MAX_METADATA = 1024
MIN_DURATION = 3600
SSD = 1


def check_create(body, now, phonebook, directory):
    """Validate ``body`` (and give it empty signature and result lists); returns the currencies offered."""
    if body["next_action"] != CREATE:
        # Upstream starts the pipeline from a client-sent next_action (a client sending 3
        # skips payment); localgrid refuses anything but 0 instead of mimicking that hole.
        raise bad_request(
            "next_action must be 0 (create) or omitted, got %d (%s)"
            % (body["next_action"], _action_name(body["next_action"]))
        )
    data = body["data_reservation"]
    expiration = data["expiration_reservation"]
    if expiration is None or expiration <= now:
        raise bad_request("creating for a reservation that expires in the past")
    if expiration - now < MIN_DURATION:
        raise bad_request(
            "the minimum duration for a reservation is 1 hour, you tried to reserve for %s"
            % duration(expiration - now)
        )
    body["signatures_provision"], body["signatures_farmer"], body["signatures_delete"] = [], [], []
    body["results"] = []
    _check_fields(body)
    body["id"] = 0
    if lifecycle.computed_state(body, now) == DELETE:
        raise bad_request("invalid request wrong status 'delete'")
    nodes = _check_nodes(data, directory)
    all_free = all(node["free_to_use"] for node in nodes)
    currencies = [c for c in data["currencies"] or [] if all_free or c != "FreeTFT"]
    _check_customer_signature(body, phonebook)
    return currencies


def _check_fields(body):
    if not body["customer_tid"]:
        raise bad_request("customer_tid is required")
    if not body["customer_signature"]:
        raise bad_request("customer_signature is required")
    try:
        signed = decode(DATA_RESERVATION, parse(body["json"]))
    except DecodeError as err:
        raise bad_request("invalid json data on reservation: %s" % err) from None
    if signed != body["data_reservation"]:
        raise bad_request("json data does not match the reservation data")
    if len(body["metadata"].encode()) > MAX_METADATA:
        raise bad_request("metadata can not be bigger than 1024 bytes")
    seen = set()
    for key, kind, _spec in WORKLOAD_KINDS:
        if kind == NETWORK:
            continue
        for workload in body["data_reservation"][key] or []:
            if workload["workload_id"] in seen:
                raise bad_request("conflicting workload ID '%d'" % workload["workload_id"])
            seen.add(workload["workload_id"])
    _check_ssd(body["data_reservation"])


def _check_nodes(data, directory):
    """Directory nodes and gateways used by the reservation; an unknown id fails as the Mongo lookup does."""
    node_ids = []
    for key in ("containers", "volumes", "zdbs", "kubernetes"):
        node_ids += [workload["node_id"] for workload in data[key] or []]
    for network in data["networks"] or []:
        node_ids += [resource["node_id"] for resource in network["network_resources"] or []]
    nodes = []
    for node_id in dict.fromkeys(node_ids):  # each node read once, however many workloads it gets
        node = directory.node(node_id)
        if node is None:
            raise ApiError(500, "mongo: no documents in result")
        nodes.append(node)
    for key in GATEWAY_KEYS:
        for workload in data[key] or []:
            gateway = directory.gateways.get(workload["node_id"])
            if gateway is None:
                raise ApiError(500, "mongo: no documents in result")
            nodes.append(gateway)
    return nodes


def _check_customer_signature(body, phonebook):
    try:
        customer = phonebook.get(body["customer_tid"])
    except ApiError:
        raise bad_request(
            "cannot find user with id '%d': mongo: no documents in result" % body["customer_tid"]
        ) from None
    try:
        signature = hex_decode(body["customer_signature"])
    except ValueError as err:
        raise bad_request("invalid signature format, expecting hex encoded string: %s" % err) from None
    if not verify_hex(customer["pubkey"], body["json"].encode(), signature):
        raise bad_request("failed to verify customer signature: signature verification failed")


def _action_name(value):
    return NEXT_ACTION_NAMES[value] if 0 <= value < len(NEXT_ACTION_NAMES) else "unknown"


def _check_ssd(data):
    """Since 2020-06-23 the grid only accepts SSD-backed container root filesystems and volumes."""
    for container in data["containers"] or []:
        if container["capacity"]["disk_type"] != SSD:
            raise bad_request(
                "container workload %d: capacity.disk_type must be 1 (ssd); hdd root filesystems are not "
                "supported since 2020-06-23" % container["workload_id"]
            )
    for volume in data["volumes"] or []:
        if volume["type"] != SSD:
            raise bad_request(
                "volume workload %d: type must be 1 (ssd); hdd volumes are not supported since 2020-06-23"
                % volume["workload_id"]
            )
