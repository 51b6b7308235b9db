"""The node's local cache (0-OS keeps it under /var/cache/modules/...), kept in the shared Store.

Rows are keyed by node id, so every simulated node of one localgrid shares the tables but only
sees its own rows. Everything a restart must not lose lives here: deployed workloads with the
capacity they hold, volumes with their owner, network resources with their listen ports, the
sha256 of each decrypted secret env value (never the value), and the poll cursor.
"""

import json

SCHEMA = """
CREATE TABLE IF NOT EXISTS node_workloads (
    node_id TEXT NOT NULL,
    gwid TEXT NOT NULL,
    category INTEGER NOT NULL,
    user_tid TEXT NOT NULL,
    expires_at REAL NOT NULL,
    cru REAL NOT NULL DEFAULT 0,
    mru REAL NOT NULL DEFAULT 0,
    sru REAL NOT NULL DEFAULT 0,
    hru REAL NOT NULL DEFAULT 0,
    data TEXT NOT NULL,
    reported INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (node_id, gwid)
);
CREATE TABLE IF NOT EXISTS node_volumes (
    node_id TEXT NOT NULL,
    volume_id TEXT NOT NULL,
    owner_tid TEXT NOT NULL,
    size_gib INTEGER NOT NULL,
    disk_type TEXT NOT NULL,
    PRIMARY KEY (node_id, volume_id)
);
CREATE TABLE IF NOT EXISTS node_networks (
    node_id TEXT NOT NULL,
    net_id TEXT NOT NULL,
    owner_tid TEXT NOT NULL,
    name TEXT NOT NULL,
    gwid TEXT NOT NULL,
    iprange TEXT NOT NULL,
    subnet TEXT NOT NULL,
    listen_port INTEGER NOT NULL,
    wg_public_key TEXT NOT NULL,
    PRIMARY KEY (node_id, net_id)
);
CREATE TABLE IF NOT EXISTS node_secret_env_digests (
    node_id TEXT NOT NULL,
    gwid TEXT NOT NULL,
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (node_id, gwid, name)
);
"""

RESOURCE_KINDS = ("cru", "mru", "sru", "hru")


class NodeState:
    def __init__(self, store, node_id):
        self.store = store
        self.node_id = node_id
        store.migrate("node", SCHEMA)

    # poll cursor -----------------------------------------------------------------------------
    def cursor(self):
        return self.store.get_meta("node:%s:cursor" % self.node_id, 0)

    def set_cursor(self, value):
        self.store.set_meta("node:%s:cursor" % self.node_id, int(value))

    # workloads -------------------------------------------------------------------------------
    def workload(self, gwid):
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT * FROM node_workloads WHERE node_id = ? AND gwid = ?", (self.node_id, gwid)
            ).fetchone()
        return _workload_row(row)

    def add_workload(self, gwid, category, user_tid, expires_at, data, usage=None):
        usage = usage or {}
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO node_workloads "
                "(node_id, gwid, category, user_tid, expires_at, cru, mru, sru, hru, data, reported) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                (self.node_id, gwid, category, str(user_tid), float(expires_at),
                 *(float(usage.get(kind, 0)) for kind in RESOURCE_KINDS), json.dumps(data)),
            )

    def deployed(self, categories):
        """Cached workloads of the given categories, oldest first (a gateway's DNS and proxy table)."""
        marks = ",".join("?" * len(categories))
        with self.store.transaction() as conn:
            rows = conn.execute(
                "SELECT * FROM node_workloads WHERE node_id = ? AND category IN (%s) ORDER BY rowid" % marks,
                (self.node_id, *categories),
            ).fetchall()
        return [_workload_row(row) for row in rows]

    def mark_reported(self, gwid):
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE node_workloads SET reported = 1 WHERE node_id = ? AND gwid = ?", (self.node_id, gwid)
            )

    def unreported_workloads(self):
        with self.store.transaction() as conn:
            rows = conn.execute(
                "SELECT * FROM node_workloads WHERE node_id = ? AND reported = 0 ORDER BY rowid", (self.node_id,)
            ).fetchall()
        return [_workload_row(row) for row in rows]

    def remove_workload(self, gwid):
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM node_workloads WHERE node_id = ? AND gwid = ?", (self.node_id, gwid))
            conn.execute(
                "DELETE FROM node_secret_env_digests WHERE node_id = ? AND gwid = ?", (self.node_id, gwid)
            )

    def expired_workloads(self, now):
        with self.store.transaction() as conn:
            rows = conn.execute(
                "SELECT * FROM node_workloads WHERE node_id = ? AND expires_at < ? ORDER BY rowid",
                (self.node_id, now),
            ).fetchall()
        return [_workload_row(row) for row in rows]

    def next_expiry(self):
        """The earliest ``expires_at`` of the deployed workloads, or None."""
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT MIN(expires_at) AS first FROM node_workloads WHERE node_id = ?", (self.node_id,)
            ).fetchone()
        return row["first"]

    def used_resources(self):
        """Capacity held by deployed workloads plus how many of each category are deployed."""
        with self.store.transaction() as conn:
            sums = conn.execute(
                "SELECT COALESCE(SUM(cru),0) cru, COALESCE(SUM(mru),0) mru, COALESCE(SUM(sru),0) sru, "
                "COALESCE(SUM(hru),0) hru FROM node_workloads WHERE node_id = ?", (self.node_id,)
            ).fetchone()
            counts = conn.execute(
                "SELECT category, COUNT(*) n FROM node_workloads WHERE node_id = ? GROUP BY category",
                (self.node_id,),
            ).fetchall()
        used = {kind: sums[kind] for kind in RESOURCE_KINDS}
        used["counts"] = {row["category"]: row["n"] for row in counts}
        return used

    # volumes ---------------------------------------------------------------------------------
    def volume(self, volume_id):
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT * FROM node_volumes WHERE node_id = ? AND volume_id = ?", (self.node_id, volume_id)
            ).fetchone()
        return dict(row) if row else None

    def add_volume(self, volume_id, owner_tid, size_gib, disk_type):
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO node_volumes VALUES (?, ?, ?, ?, ?)",
                (self.node_id, volume_id, str(owner_tid), int(size_gib), disk_type),
            )

    def remove_volume(self, volume_id):
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM node_volumes WHERE node_id = ? AND volume_id = ?", (self.node_id, volume_id))

    # network resources -----------------------------------------------------------------------
    def network(self, net_id):
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT * FROM node_networks WHERE node_id = ? AND net_id = ?", (self.node_id, net_id)
            ).fetchone()
        return dict(row) if row else None

    def networks(self):
        with self.store.transaction() as conn:
            rows = conn.execute(
                "SELECT * FROM node_networks WHERE node_id = ? ORDER BY listen_port", (self.node_id,)
            ).fetchall()
        return [dict(row) for row in rows]

    def put_network(self, net_id, owner_tid, name, gwid, iprange, subnet, listen_port, wg_public_key):
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO node_networks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (self.node_id, net_id, str(owner_tid), name, gwid, iprange, subnet, int(listen_port), wg_public_key),
            )

    def remove_network(self, net_id):
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM node_networks WHERE node_id = ? AND net_id = ?", (self.node_id, net_id))

    # secret env digests ----------------------------------------------------------------------
    def set_secret_env_digests(self, gwid, digests):
        with self.store.transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO node_secret_env_digests VALUES (?, ?, ?, ?)",
                [(self.node_id, gwid, name, digest) for name, digest in digests.items()],
            )

    def secret_env_digests(self, gwid):
        """sha256 hex of each secret env value the container received, by name."""
        with self.store.transaction() as conn:
            rows = conn.execute(
                "SELECT name, sha256 FROM node_secret_env_digests WHERE node_id = ? AND gwid = ?",
                (self.node_id, gwid),
            ).fetchall()
        return {row["name"]: row["sha256"] for row in rows}


def _workload_row(row):
    if row is None:
        return None
    item = dict(row)
    item["data"] = json.loads(item["data"])
    return item
