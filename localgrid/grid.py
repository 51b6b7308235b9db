"""Load a grid file (farms, nodes, flist catalogue) into plain dicts, deriving node ids from seeds."""

import os

import yaml

from localgrid.keys import node_id_of, node_signing_key

DEFAULT_GRID = os.path.join(os.path.dirname(__file__), "grids", "default.yml")


class GridFileError(ValueError):
    pass


def load_grid(path=""):
    """Return {"farms", "nodes", "gateways", "flists"}; each node and gateway gains node_id and public_key_hex."""
    with open(path or DEFAULT_GRID, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle) or {}
    farms = [_farm(entry) for entry in raw.get("farms") or []]
    farm_ids = {farm["id"] for farm in farms}
    nodes = [_node(entry, farm_ids) for entry in raw.get("nodes") or []]
    gateways = [_gateway(entry) for entry in raw.get("gateways") or []]
    if len({box["node_id"] for box in nodes + gateways}) != len(nodes) + len(gateways):
        raise GridFileError("two nodes or gateways share the same seed")
    return {"farms": farms, "nodes": nodes, "gateways": gateways, "flists": list(raw.get("flists") or [])}


def _identity(entry, what):
    """The entry with its 64-hex seed checked and node_id / public_key_hex derived from it."""
    seed = str(entry.get("seed", ""))
    if len(seed) != 64:
        raise GridFileError("%s seed must be 64 hex characters: %r" % (what, entry.get("hostname")))
    verify_key = node_signing_key(seed).verify_key
    out = dict(entry)
    out["seed"] = seed
    out["node_id"] = node_id_of(bytes(verify_key))
    out["public_key_hex"] = bytes(verify_key).hex()
    out.setdefault("down", False)
    out.setdefault("free_to_use", False)
    return out


def _gateway(entry):
    gateway = _identity(entry, "gateway")
    gateway.setdefault("farm_id", 0)
    gateway.setdefault("location", {})
    gateway.setdefault("managed_domains", [])
    gateway.setdefault("dns_nameserver", [])
    gateway.setdefault("tcp_router_port", 0)
    gateway.setdefault("wireguard_endpoint", "")
    gateway.setdefault("ipv6_prefix", "")
    return gateway


def _farm(entry):
    for key in ("id", "name", "farmer_name"):
        if not entry.get(key):
            raise GridFileError("farm entry without %s: %r" % (key, entry))
    farm = dict(entry)
    farm.setdefault("email", "")
    farm.setdefault("location", {})
    farm.setdefault("resource_prices", [])
    return farm


def _node(entry, farm_ids):
    node = _identity(entry, "node")
    if entry.get("farm_id") not in farm_ids:
        raise GridFileError("node %r refers to unknown farm %r" % (entry.get("hostname"), entry.get("farm_id")))
    node.setdefault("public_config", None)
    node.setdefault("ifaces", [])
    node.setdefault("wg_ports", [])
    node.setdefault("hostname", "")
    return node
