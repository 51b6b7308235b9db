"""Directory: farms and nodes (gateways: explorer/gateways.py), seeded from the grid file, updated by node telemetry (docs/contract/explorer.md §3.2-3.3)."""

import json

from localgrid.explorer.errors import ApiError, not_found
from localgrid.explorer.schema import WORKLOAD_COUNTER_KEYS

_TABLES = """
CREATE TABLE IF NOT EXISTS directory_farms (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS directory_nodes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    node_id TEXT NOT NULL UNIQUE,
    doc TEXT NOT NULL
);
"""

DOWN_NODE_AGE = 30 * 86400  # a `down: true` node was last seen a month before startup
LOCATION_KEYS = ("city", "country", "continent", "latitude", "longitude")


def location_doc(raw):
    raw = raw or {}
    return {
        "city": raw.get("city", ""),
        "country": raw.get("country", ""),
        "continent": raw.get("continent", ""),
        "latitude": float(raw.get("latitude", 0.0)),
        "longitude": float(raw.get("longitude", 0.0)),
    }


def _resources(raw=None):
    raw = raw or {}
    return {
        "cru": int(raw.get("cru", 0)),
        "mru": float(raw.get("mru", 0)),
        "hru": float(raw.get("hru", 0)),
        "sru": float(raw.get("sru", 0)),
    }


def _public_config(raw):
    if not raw:
        return None
    keys = ("master", "type", "ipv4", "ipv6", "gw4", "gw6", "version")
    out = {key: raw.get(key, "") for key in keys}
    out["type"] = int(raw.get("type", 0))
    out["version"] = int(raw.get("version", 1))
    return out


def _ifaces(raw):
    return [
        {
            "name": iface.get("name", ""),
            "addrs": list(iface.get("addrs") or []),
            "gateway": list(iface.get("gateway") or []),
            "macaddress": iface.get("macaddress", ""),
        }
        for iface in raw or []
    ]



# Nodes and gateways are both JSON documents keyed by node id (the table names are constants).
def read_document(store, table, node_id):
    with store.transaction() as conn:
        row = conn.execute("SELECT doc FROM %s WHERE node_id = ?" % table, (node_id,)).fetchone()
    return json.loads(row["doc"]) if row else None


def update_document(store, table, what, node_id, change):
    """Apply ``change(doc)`` to the stored document in one transaction; 404 when there is none."""
    with store.transaction() as conn:
        row = conn.execute("SELECT id, doc FROM %s WHERE node_id = ?" % table, (node_id,)).fetchone()
        if row is None:
            raise ApiError(404, "%s '%s' not found" % (what, node_id))
        doc = json.loads(row["doc"])
        change(doc)
        conn.execute("UPDATE %s SET doc = ? WHERE id = ?" % table, (json.dumps(doc), row["id"]))


def uptime_change(clock, uptime):
    """The change an uptime report makes: the uptime, and `updated` (what "up recently" reads)."""
    def change(doc):
        doc["uptime"] = uptime
        doc["updated"] = int(clock.now())
    return change

class Directory:
    def __init__(self, store, clock, gateways=None):
        self.store = store
        self.clock = clock
        self.gateways = gateways  # the GatewayDirectory (explorer/gateways.py) of the same store
        store.migrate("explorer_directory", _TABLES)

    # -- seeding from the grid file -------------------------------------------------------
    def upsert_farm(self, entry, threebot_id, wallet_addresses):
        doc = {
            "id": int(entry["id"]),
            "threebot_id": threebot_id,
            "iyo_organization": "",
            "name": entry["name"],
            "wallet_addresses": wallet_addresses,
            "location": location_doc(entry.get("location")),
            "email": entry.get("email", ""),
            "resource_prices": [
                {
                    "currency": int(price.get("currency", 2)),
                    **{key: float(price.get(key, 0)) for key in ("cru", "mru", "hru", "sru", "nru")},
                }
                for price in entry.get("resource_prices") or []
            ],
            "prefix_zero": entry.get("prefix_zero", ""),
        }
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO directory_farms (id, name, doc) VALUES (?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET name = excluded.name, doc = excluded.doc",
                (doc["id"], doc["name"], json.dumps(doc)),
            )
        return doc

    def upsert_node(self, entry):
        """Register a grid-file node; on restart keep its telemetry (uptime, reservations, ports)."""
        now = int(self.clock.now())
        seen = now - DOWN_NODE_AGE if entry.get("down") else now
        static = {
            "node_id": entry["node_id"],
            "node_id_v1": "",
            "farm_id": int(entry["farm_id"]),
            "os_version": "localgrid",
            "address": "",
            "location": location_doc(entry.get("location")),
            "total_resources": _resources(entry.get("total_resources")),
            "ifaces": _ifaces(entry.get("ifaces")),
            "public_config": _public_config(entry.get("public_config")),
            "free_to_use": bool(entry.get("free_to_use")),
            "approved": False,
            "public_key_hex": entry["public_key_hex"],
            "hostname": entry.get("hostname", ""),
        }
        with self.store.transaction() as conn:
            row = conn.execute("SELECT id, doc FROM directory_nodes WHERE node_id = ?", (entry["node_id"],)).fetchone()
            if row:
                doc = json.loads(row["doc"])
                doc.update(static)
                conn.execute("UPDATE directory_nodes SET doc = ? WHERE id = ?", (json.dumps(doc), row["id"]))
                return doc
            doc = {
                "id": 0,
                "created": seen,
                "updated": seen,
                "uptime": 0,
                "used_resources": _resources(),
                "reserved_resources": _resources(),
                "workloads": {key: 0 for key in WORKLOAD_COUNTER_KEYS},
                "proofs": [],
                "wg_ports": [int(port) for port in entry.get("wg_ports") or []],
            }
            doc.update(static)
            cursor = conn.execute(
                "INSERT INTO directory_nodes (node_id, doc) VALUES (?, ?)", (entry["node_id"], json.dumps(doc))
            )
            doc["id"] = cursor.lastrowid
            conn.execute("UPDATE directory_nodes SET doc = ? WHERE id = ?", (json.dumps(doc), doc["id"]))
            return doc

    # -- farms -----------------------------------------------------------------------------
    def farms(self):
        with self.store.transaction() as conn:
            rows = conn.execute("SELECT doc FROM directory_farms ORDER BY id").fetchall()
        return [json.loads(row["doc"]) for row in rows]

    def find_farms(self, owner=0, name=""):
        """Farms of a 3Bot owner and/or with a name; 0 and "" mean any (the explorer's FarmQuery)."""
        return [
            farm for farm in self.farms()
            if (not owner or farm["threebot_id"] == owner) and (not name or farm["name"] == name)
        ]

    def farm(self, farm_id):
        with self.store.transaction() as conn:
            row = conn.execute("SELECT doc FROM directory_farms WHERE id = ?", (farm_id,)).fetchone()
        if row is None:
            raise not_found()
        return json.loads(row["doc"])

    # -- nodes -----------------------------------------------------------------------------
    def nodes(self):
        with self.store.transaction() as conn:
            rows = conn.execute("SELECT doc FROM directory_nodes ORDER BY id").fetchall()
        return [json.loads(row["doc"]) for row in rows]

    def find_nodes(self, farm=0, country="", city="", cru=0, mru=0, sru=0, hru=0):
        """Nodes of a farm, in a place, with at least the given total resources; 0 and "" mean any."""
        minimum = {key: value for key, value in (("cru", cru), ("mru", mru), ("sru", sru), ("hru", hru)) if value > 0}
        return [
            node for node in self.nodes()
            if (farm <= 0 or node["farm_id"] == farm)
            and (not country or node["location"]["country"] == country)
            and (not city or node["location"]["city"] == city)
            and all(node["total_resources"][key] >= value for key, value in minimum.items())
        ]

    def node(self, node_id):
        """The node document, or None."""
        return read_document(self.store, "directory_nodes", node_id)

    def _update_node(self, node_id, change):
        update_document(self.store, "directory_nodes", "node", node_id, change)

    def set_uptime(self, node_id, uptime):
        self._update_node(node_id, uptime_change(self.clock, uptime))

    def set_used_resources(self, node_id, body):
        # The explorer stores the node's counters as reserved_resources; localgrid mirrors them
        # into used_resources too, so both show what is deployed on the node.
        def change(doc):
            amounts = {"cru": body["cru"], "mru": body["mru"], "hru": body["hru"], "sru": body["sru"]}
            doc["reserved_resources"] = dict(amounts)
            doc["used_resources"] = dict(amounts)
            doc["workloads"] = {key: body[key] for key in WORKLOAD_COUNTER_KEYS}

        self._update_node(node_id, change)

    def set_ports(self, node_id, ports):
        def change(doc):
            doc["wg_ports"] = list(ports or [])

        self._update_node(node_id, change)
