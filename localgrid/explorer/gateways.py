"""Gateways in the directory: seeded from the grid file, updated by the gateways' signed telemetry
(docs/contract/explorer.md §3.4)."""

import json

from localgrid.explorer.directory import DOWN_NODE_AGE, location_doc, read_document, update_document, uptime_change
from localgrid.explorer.schema import WORKLOAD_COUNTER_KEYS

_TABLES = """
CREATE TABLE IF NOT EXISTS directory_gateways (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    node_id TEXT NOT NULL UNIQUE,
    doc TEXT NOT NULL
);
"""

# The v0.3 gateway JSON; reserved_resources is stored but, as upstream, not part of it.
GATEWAY_KEYS = (
    "id", "node_id", "farm_id", "os_version", "created", "updated", "uptime", "address", "location",
    "public_key_hex", "workloads", "managed_domains", "tcp_router_port", "dns_nameserver", "free_to_use",
)


def render_gateway(doc):
    return {key: doc.get(key) for key in GATEWAY_KEYS}


class GatewayDirectory:
    def __init__(self, store, clock):
        self.store = store
        self.clock = clock
        store.migrate("explorer_gateways", _TABLES)

    def upsert(self, entry):
        """Register a grid-file gateway; on restart keep its telemetry and ``created``."""
        now = int(self.clock.now())
        seen = now - DOWN_NODE_AGE if entry.get("down") else now
        static = {
            "node_id": entry["node_id"],
            "farm_id": int(entry.get("farm_id") or 0),
            "os_version": "localgrid",
            "address": "",
            "location": location_doc(entry.get("location")),
            "public_key_hex": entry["public_key_hex"],
            "managed_domains": list(entry.get("managed_domains") or []),
            "tcp_router_port": int(entry.get("tcp_router_port") or 0),
            "dns_nameserver": list(entry.get("dns_nameserver") or []),
            "free_to_use": bool(entry.get("free_to_use")),
        }
        with self.store.transaction() as conn:
            row = conn.execute("SELECT id, doc FROM directory_gateways WHERE node_id = ?", (entry["node_id"],)).fetchone()
            if row:
                doc = json.loads(row["doc"])
                doc.update(static)
                conn.execute("UPDATE directory_gateways SET doc = ? WHERE id = ?", (json.dumps(doc), row["id"]))
                return doc
            doc = {
                "created": seen, "updated": seen, "uptime": 0,
                "workloads": {key: 0 for key in WORKLOAD_COUNTER_KEYS},
                "reserved_resources": {"cru": 0, "mru": 0.0, "hru": 0.0, "sru": 0.0},
            }
            doc.update(static)
            cursor = conn.execute(
                "INSERT INTO directory_gateways (node_id, doc) VALUES (?, ?)", (entry["node_id"], json.dumps(doc))
            )
            doc["id"] = cursor.lastrowid
            conn.execute("UPDATE directory_gateways SET doc = ? WHERE id = ?", (json.dumps(doc), doc["id"]))
            return doc

    def all(self):
        with self.store.transaction() as conn:
            rows = conn.execute("SELECT doc FROM directory_gateways ORDER BY id").fetchall()
        return [json.loads(row["doc"]) for row in rows]

    def find(self, country="", city=""):
        """Gateways in a place; "" means any (the explorer's GatewayFilter)."""
        return [
            gateway for gateway in self.all()
            if (not country or gateway["location"]["country"] == country)
            and (not city or gateway["location"]["city"] == city)
        ]

    def get(self, node_id):
        """The gateway document, or None."""
        return read_document(self.store, "directory_gateways", node_id)

    def _update(self, node_id, change):
        update_document(self.store, "directory_gateways", "gateway", node_id, change)

    def set_uptime(self, node_id, uptime):
        self._update(node_id, uptime_change(self.clock, uptime))

    def set_reserved_resources(self, node_id, body):
        def change(doc):
            doc["reserved_resources"] = {key: body[key] for key in ("cru", "mru", "hru", "sru")}
            doc["workloads"] = {key: body[key] for key in WORKLOAD_COUNTER_KEYS}

        self._update(node_id, change)
