"""Reservations: create (its checks are in create_checks.py), signatures, node results and polls.

As in docs/contract/explorer.md: create §6.3, signatures §3.5, node side §3.6 and §8.
"""

import json
import logging

from localgrid.explorer import lifecycle
from localgrid.explorer.create_checks import check_create
from localgrid.explorer.errors import ApiError, not_found
from localgrid.explorer.gostr import INT64_MAX
from localgrid.explorer.phonebook import verify_hex
from localgrid.explorer.schema import (
    DELETE,
    DELETED,
    DEPLOY,
    PAY,
    RESERVATION,
    RESULT_DELETED,
    RESULT_ERROR,
    RESULT_OK,
    SIGN,
    SPEC_BY_TYPE,
)

log = logging.getLogger(__name__)

_TABLES = """
CREATE TABLE IF NOT EXISTS reservations (
    id INTEGER PRIMARY KEY,
    customer_tid INTEGER NOT NULL,
    next_action INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS reservation_workqueue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    node_id TEXT NOT NULL,
    gwid TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reservation_workqueue_node ON reservation_workqueue (node_id, seq);
CREATE INDEX IF NOT EXISTS reservation_workqueue_gwid ON reservation_workqueue (gwid, node_id);
CREATE INDEX IF NOT EXISTS reservations_customer ON reservations (customer_tid, id);
"""
# The nodes (and gateways) each reservation has workloads on, which never change after create: a
# node's poll reads only its own reservations instead of decoding every one since its cursor.
_NODE_INDEX = """
CREATE TABLE IF NOT EXISTS reservation_nodes (
    node_id TEXT NOT NULL,
    reservation_id INTEGER NOT NULL,
    PRIMARY KEY (node_id, reservation_id)
) WITHOUT ROWID;
"""

COUNTER = "reservations"
POLL_LIMIT = 200
# How many reservations keep their rendering between two reads (see Reservations._rendered): a fleet's listing
# fits; bench/localgrid_memory.py's growth ratio is 1.20 with 256 (1.18 without the renderings, 1.22 with 512).
RENDERED_KEPT = 256


class Reservations:
    def __init__(self, store, clock, phonebook, directory, escrow, on_work=None):
        self.store = store
        # Called with node ids after a write that may give those nodes work (the app wakes their agents);
        # a node's own result reports wake nobody, so a burst of results does not make every node poll.
        self.on_work = on_work
        self.clock = clock
        self.phonebook = phonebook
        self.directory = directory
        self.escrow = escrow
        # id -> (stored document text, its decoded reservation, {computed next_action: rendering}): a deploy's
        # wait reads the same reservations again and again between two changes, and decoding and encoding
        # the document was most of such a read. A change stores a new text, which renders anew.
        self._rendered = {}
        store.migrate("explorer_reservations", _TABLES)
        self._build_node_index()

    # -- storage ---------------------------------------------------------------------------
    def _load(self, conn, reservation_id):
        row = conn.execute("SELECT doc FROM reservations WHERE id = ?", (reservation_id,)).fetchone()
        if row is None:
            raise not_found()
        return json.loads(row["doc"])

    def _save(self, conn, reservation, wake=True):
        conn.execute(
            "INSERT INTO reservations (id, customer_tid, next_action, doc) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET next_action = excluded.next_action, doc = excluded.doc",
            (reservation["id"], reservation["customer_tid"], reservation["next_action"], json.dumps(reservation)),
        )
        # Only a stored deploy or delete gives its nodes work (a scan passes over the other states, §8): a
        # reservation registered and waiting for its payment wakes nobody, its payment does (mark_deploy).
        if wake and self.on_work is not None and reservation["next_action"] in (DEPLOY, DELETE):
            # Inside the transaction: whoever it wakes reads the store only after this commit.
            self.on_work([node_id for node_id, _gwid, _kind, _workload in lifecycle.node_workloads(reservation)])

    def _build_node_index(self):
        """Create the node index, filled from the stored reservations when it is new (an older state file)."""
        with self.store.transaction() as conn:
            exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'reservation_nodes'")
            if exists.fetchone() is not None:
                return
            conn.execute(_NODE_INDEX)
            for row in conn.execute("SELECT doc FROM reservations").fetchall():
                self._index_nodes(conn, json.loads(row["doc"]))

    def _index_nodes(self, conn, reservation):
        conn.executemany(
            "INSERT OR IGNORE INTO reservation_nodes (node_id, reservation_id) VALUES (?, ?)",
            [(node_id, reservation["id"]) for node_id, _gwid, _kind, _workload in lifecycle.node_workloads(reservation)],
        )

    def last_id(self):
        return self.store.get_meta("counter:" + COUNTER, 0)

    def render(self, reservation, now=None):
        """The reservation as the explorer writes it, with next_action computed on read."""
        now = self.clock.now() if now is None else now
        shown = dict(reservation, next_action=lifecycle.computed_state(reservation, now))
        return RESERVATION.encode(shown)

    def _render_stored(self, reservation_id, doc, now):
        """render() of the stored document text ``doc``, reusing the last rendering of the same text.

        The result is shared between reads: callers write it out and never change it.
        """
        kept = self._rendered.get(reservation_id)
        if kept is None or kept[0] != doc:
            while len(self._rendered) >= RENDERED_KEPT:
                self._rendered.pop(next(iter(self._rendered)), None)  # the oldest first
            kept = self._rendered[reservation_id] = (doc, json.loads(doc), {})
        _doc, reservation, by_state = kept
        state = lifecycle.computed_state(reservation, now)
        if state not in by_state:
            by_state[state] = RESERVATION.encode(dict(reservation, next_action=state))
        return by_state[state]

    # -- create ----------------------------------------------------------------------------
    def create(self, body):
        """Register a decoded create body (schema.RESERVATION); returns the explorer's 201 answer."""
        currencies = check_create(body, self.clock.now(), self.phonebook, self.directory)
        return self._insert_and_register(body, currencies)

    def _insert_and_register(self, body, currencies):
        with self.store.transaction() as conn:
            now = self.clock.now()
            body["epoch"] = int(now)
            body["id"] = self.store.next_id(COUNTER)
            body["next_action"] = lifecycle.computed_state(body, now)
            if self.escrow.free and body["next_action"] == PAY:
                body["next_action"] = DEPLOY  # free escrow: straight to deploy, nodes find it by scanning
            self._save(conn, body)
            self._index_nodes(conn, body)
        information = self.escrow.register(body, currencies)
        return {"reservation_id": body["id"], "escrow_information": information}

    # -- read ------------------------------------------------------------------------------
    def get(self, reservation_id):
        with self.store.transaction() as conn:
            row = conn.execute("SELECT doc FROM reservations WHERE id = ?", (reservation_id,)).fetchone()
            now = self.clock.now()
        if row is None:
            raise not_found()
        return self._render_stored(reservation_id, row["doc"], now)

    def find(self, customer_tid=0, next_action=None, page=1, size=0):
        """One page of reservations (filters on the stored next_action) and the total that match.

        Paging happens in SQL so walking every page of a long list stays linear; size 0 means no limit.
        """
        where, args = " WHERE 1 = 1", []
        if customer_tid:
            where, args = where + " AND customer_tid = ?", args + [customer_tid]
        if next_action is not None:
            where, args = where + " AND next_action = ?", args + [next_action]
        limit = ""
        if size > 0:
            limit, args_page = " LIMIT ? OFFSET ?", [size, min((page - 1) * size, INT64_MAX)]
        else:
            args_page = []
        with self.store.transaction() as conn:
            total = conn.execute("SELECT COUNT(*) FROM reservations" + where, args).fetchone()[0]
            rows = conn.execute(
                "SELECT id, doc FROM reservations" + where + " ORDER BY id" + limit, args + args_page
            ).fetchall()
            now = self.clock.now()
        # Rendered after the store is released: a long page takes a while, and payments and results wait for the store.
        return [self._render_stored(row["id"], row["doc"], now) for row in rows], total

    # -- signatures ------------------------------------------------------------------------
    def sign(self, reservation_id, body, signature, kind):
        """sign/provision or sign/delete (explorer.md §3.5) of a decoded SIGN_BODY; ``signature``: its bytes."""
        with self.store.transaction() as conn:
            reservation = self._load(conn, reservation_id)
            now = self.clock.now()
            if kind == "provision" and lifecycle.computed_state(reservation, now) != SIGN:
                raise ApiError(401, "reservation not expecting signatures")
            request = reservation["data_reservation"]["signing_request_" + kind]
            tid = body["tid"]
            if tid not in (request["signers"] or []):
                raise ApiError(401, "signature not required for '%d'" % tid)
            try:
                signer = self.phonebook.get(tid)
            except ApiError:
                raise ApiError(404, "customer id not found: mongo: no documents in result") from None
            message = ("%d%s" % (reservation["id"], reservation["json"])).encode()
            if not verify_hex(signer["pubkey"], message, signature):
                raise ApiError(401, "failed to verify signature: signature verification failed")
            key = "signatures_" + kind
            kept = [sig for sig in reservation[key] or [] if sig["tid"] != tid]
            reservation[key] = kept + [{"tid": tid, "signature": body["signature"], "epoch": int(now)}]
            if kind == "delete" and lifecycle.computed_state(reservation, now) == DELETE:
                reservation["next_action"] = DELETE
                self._save(conn, reservation)
                self._push(conn, reservation, to_delete=True)
                self.escrow.cancel(reservation["id"])
            else:
                self._save(conn, reservation)

    # -- escrow callbacks ------------------------------------------------------------------
    def mark_deploy(self, reservation_id):
        """Paid: persist 3 and queue the workloads if the computed state is still pay."""
        with self.store.transaction() as conn:
            reservation = self._load(conn, reservation_id)
            if lifecycle.computed_state(reservation, self.clock.now()) != PAY:
                return False
            reservation["next_action"] = DEPLOY
            self._save(conn, reservation)
            self._push(conn, reservation, to_delete=False)
            return True

    # -- node side -------------------------------------------------------------------------
    def _workload_object(self, reservation, node_id, gwid, kind, workload, to_delete):
        expiration = reservation["data_reservation"]["expiration_reservation"] or 0
        return {
            "workload_id": gwid,
            "user": str(reservation["customer_tid"]),
            "type": kind,
            "content": SPEC_BY_TYPE[kind].encode(workload),
            "created": reservation["epoch"],
            "duration": int(expiration - reservation["epoch"]),
            "signature": "",
            "to_delete": to_delete,
            "node_id": node_id,
        }

    def _push(self, conn, reservation, to_delete):
        for node_id, gwid, kind, workload in lifecycle.node_workloads(reservation):
            obj = self._workload_object(reservation, node_id, gwid, kind, workload, to_delete)
            conn.execute(
                "INSERT INTO reservation_workqueue (node_id, gwid, doc) VALUES (?, ?, ?)",
                (node_id, gwid, json.dumps(obj)),
            )

    def _mark_deleted(self, conn, reservation):
        """setReservationDeleted: persist 4 and let the escrow refund what is left."""
        reservation["next_action"] = DELETE
        self._save(conn, reservation)
        self.escrow.cancel(reservation["id"])

    def poll(self, node_id, from_id):
        """Queue part then scan part (explorer.md §8); returns (workloads, last_id)."""
        with self.store.transaction() as conn:
            rows = conn.execute(
                "SELECT doc FROM reservation_workqueue WHERE node_id = ? ORDER BY seq LIMIT ?",
                (node_id, POLL_LIMIT),
            ).fetchall()
            workloads = [json.loads(row["doc"]) for row in rows]
            last_id = self.last_id()
            now = self.clock.now()
            rows = conn.execute(
                "SELECT doc FROM reservation_nodes JOIN reservations ON reservations.id = reservation_id "
                "WHERE node_id = ? AND reservation_id >= ? ORDER BY reservation_id",
                (node_id, from_id),
            ).fetchall()
            for row in rows:
                if len(workloads) >= POLL_LIMIT:
                    break
                reservation = json.loads(row["doc"])
                mine = [w for w in lifecycle.node_workloads(reservation) if w[0] == node_id]
                if not mine:
                    continue
                state = lifecycle.computed_state(reservation, now)
                if state == DELETE and reservation["next_action"] != DELETE:
                    self._mark_deleted(conn, reservation)
                if state not in (DEPLOY, DELETE):
                    continue
                for _node, gwid, kind, workload in mine:
                    workloads.append(
                        self._workload_object(reservation, node_id, gwid, kind, workload, state in (DELETE, DELETED))
                    )
        return workloads, last_id

    def _locate(self, conn, gwid):
        reservation_id, _workload_id = gwid.split("-", 1)
        return self._load(conn, int(reservation_id))

    def workload(self, gwid):
        with self.store.transaction() as conn:
            reservation = self._locate(conn, gwid)
            state = lifecycle.computed_state(reservation, self.clock.now())
            for node_id, wid, kind, workload in lifecycle.node_workloads(reservation):
                if wid == gwid:
                    obj = self._workload_object(reservation, node_id, wid, kind, workload, state in (DELETE, DELETED))
                    result = lifecycle.first_result(reservation, gwid)
                    obj["result"] = [result] if result is not None else None
                    return _encode_result_list(obj)
        raise not_found("workload not found")

    def _node_workload(self, reservation, gwid, node_id):
        for node, wid, kind, _workload in lifecycle.node_workloads(reservation):
            if wid == gwid and node == node_id:
                return kind
        raise not_found("workload not found")

    def _dequeue(self, conn, gwid, node_id):
        conn.execute("DELETE FROM reservation_workqueue WHERE gwid = ? AND node_id = ?", (gwid, node_id))

    def put_result(self, gwid, node_id, result):
        with self.store.transaction() as conn:
            reservation = self._locate(conn, gwid)
            self._node_workload(reservation, gwid, node_id)
            result = dict(result, workload_id=gwid, node_id=node_id, epoch=int(self.clock.now()))
            _store_result(reservation, result)
            self._dequeue(conn, gwid, node_id)
            if result["state"] == RESULT_ERROR and reservation["next_action"] not in (DELETE, DELETED):
                self._mark_deleted(conn, reservation)
                return
            self._save(conn, reservation, wake=False)
            if result["state"] == RESULT_OK and lifecycle.successfully_deployed(reservation):
                self.escrow.deployed(reservation["id"])

    def put_deleted(self, gwid, node_id):
        with self.store.transaction() as conn:
            reservation = self._locate(conn, gwid)
            kind = self._node_workload(reservation, gwid, node_id)
            result = lifecycle.first_result(reservation, gwid)
            if result is None:
                result = {
                    "category": kind,
                    "workload_id": gwid,
                    "data_json": None,
                    "signature": "",
                    "state": RESULT_DELETED,
                    "message": "",
                    "epoch": int(self.clock.now()),
                    "node_id": node_id,
                }
            result = dict(result, state=RESULT_DELETED)
            _store_result(reservation, result)
            self._dequeue(conn, gwid, node_id)
            if lifecycle.all_deleted(reservation):
                reservation["next_action"] = DELETED
            self._save(conn, reservation, wake=False)


def _store_result(reservation, result):
    """Results are unique per (workload_id, node_id): a new one replaces the old one in place."""
    results = reservation["results"] or []
    for index, existing in enumerate(results):
        if existing["workload_id"] == result["workload_id"] and existing["node_id"] == result["node_id"]:
            results[index] = result
            break
    else:
        results.append(result)
    reservation["results"] = results


def _encode_result_list(obj):
    if obj["result"] is not None:
        obj["result"] = [dict(r, epoch=r["epoch"] or 0) for r in obj["result"]]
    return obj
