"""Load a grid file (farms, nodes, flist catalogue) into plain dicts, deriving node ids from seeds."""

import os

import yaml

from localgrid.keys import node_id_of, node_signing_key

DEFAULT_GRID = os.path.join(os.path.dirname(__file__), "grids", "default.yml")


class GridFileError(ValueError):
    pass


def load_grid(path=""):
    """Return {"farms": [...], "nodes": [...], "flists": [...]}; each node gains node_id and public_key_hex."""
    with open(path or DEFAULT_GRID, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle) or {}
    farms = [_farm(entry) for entry in raw.get("farms") or []]
    farm_ids = {farm["id"] for farm in farms}
    nodes = [_node(entry, farm_ids) for entry in raw.get("nodes") or []]
    if len({node["node_id"] for node in nodes}) != len(nodes):
        raise GridFileError("two nodes share the same seed")
    return {"farms": farms, "nodes": nodes, "flists": list(raw.get("flists") or [])}


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
    seed = str(entry.get("seed", ""))
    if len(seed) != 64:
        raise GridFileError("node seed must be 64 hex characters: %r" % entry.get("hostname"))
    if entry.get("farm_id") not in farm_ids:
        raise GridFileError("node %r refers to unknown farm %r" % (entry.get("hostname"), entry.get("farm_id")))
    verify_key = node_signing_key(seed).verify_key
    node = dict(entry)
    node["seed"] = seed
    node["node_id"] = node_id_of(bytes(verify_key))
    node["public_key_hex"] = bytes(verify_key).hex()
    node.setdefault("down", False)
    node.setdefault("free_to_use", False)
    node.setdefault("public_config", None)
    node.setdefault("ifaces", [])
    node.setdefault("wg_ports", [])
    node.setdefault("hostname", "")
    return node
