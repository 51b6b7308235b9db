"""Reads of the ledger's state and history as Horizon serves them; rows for records.py to render.

Each call runs in one store transaction. Lists follow a paging.Page: after its cursor, in its
order, at most its limit, successful transactions only unless it includes failed ones.
"""

from . import state

_TX_SELECT = "SELECT t.* FROM stellar_transactions t"
_OP_SELECT = ("SELECT o.*, t.hash, t.successful, t.created_at FROM stellar_operations o "
              "JOIN stellar_transactions t ON t.id = o.tx_id")
_EFFECT_SELECT = "SELECT e.*, t.created_at FROM stellar_effects e JOIN stellar_transactions t ON t.id = e.tx_id"
PAYMENT_TYPES = ("create_account", "payment", "path_payment_strict_receive", "path_payment_strict_send",
                 "account_merge")


class UnknownTransaction(Exception):
    """A list was asked for the operations or effects of a transaction hash the ledger does not know."""


def _fetch(conn, page, select, where, params, key_columns):
    """Rows of ``select`` filtered by ``where`` after the page's cursor, in its order, at most its limit."""
    clauses, args = list(where), list(params)
    if page.cursor is not None:
        columns = "(%s)" % ", ".join(key_columns) if len(key_columns) > 1 else key_columns[0]
        marks = "(%s)" % ", ".join("?" * len(key_columns)) if len(key_columns) > 1 else "?"
        clauses.append("%s %s %s" % (columns, ">" if page.order == "asc" else "<", marks))
        args.extend(page.cursor)
    direction = "ASC" if page.order == "asc" else "DESC"
    sql = select
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    sql += " ORDER BY " + ", ".join("%s %s" % (column, direction) for column in key_columns)
    sql += " LIMIT %d" % page.limit
    return conn.execute(sql, args).fetchall()


def _tx_id(conn, tx_hash):
    row = _transaction(conn, tx_hash)
    if row is None:
        raise UnknownTransaction(tx_hash)
    return row["id"]


def _transaction(conn, tx_hash):
    return conn.execute("SELECT * FROM stellar_transactions WHERE hash = ?", (tx_hash.lower(),)).fetchone()


class LedgerQueries:
    def __init__(self, store):
        self.store = store

    def latest_ledger(self):
        with self.store.transaction() as conn:
            return state.latest_ledger(conn)

    def ledger(self, sequence):
        with self.store.transaction() as conn:
            return conn.execute("SELECT * FROM stellar_ledgers WHERE sequence = ?", (sequence,)).fetchone()

    def ledgers(self, page):
        with self.store.transaction() as conn:
            return _fetch(conn, page, "SELECT l.* FROM stellar_ledgers l", [], [], ["(l.sequence << 32)"])

    def account(self, account_id):
        """(account row, trustline rows), or None when the account does not exist."""
        with self.store.transaction() as conn:
            row = state.get_account(conn, account_id)
            return None if row is None else (row, state.trustlines_of(conn, account_id))

    def transaction(self, tx_hash):
        with self.store.transaction() as conn:
            return _transaction(conn, tx_hash)

    def transactions(self, page, account_id=None, ledger=None):
        where, params, select = [], [], _TX_SELECT
        if account_id is not None:
            select += " JOIN stellar_tx_participants p ON p.tx_id = t.id"
            where.append("p.account_id = ?")
            params.append(account_id)
        if ledger is not None:
            where.append("t.ledger = ?")
            params.append(ledger)
        if not page.include_failed:
            where.append("t.successful = 1")
        with self.store.transaction() as conn:
            return _fetch(conn, page, select, where, params, ["t.id"])

    def operations(self, page, account_id=None, tx_hash=None, payments_only=False, with_transactions=False):
        """[(operation row, its transaction row or None)]; the operations of one transaction include failed ones."""
        where, params, select = [], [], _OP_SELECT
        include_failed = page.include_failed
        with self.store.transaction() as conn:
            if account_id is not None:
                select += " JOIN stellar_op_participants p ON p.op_id = o.id"
                where.append("p.account_id = ?")
                params.append(account_id)
            if tx_hash is not None:
                where.append("o.tx_id = ?")
                params.append(_tx_id(conn, tx_hash))
                include_failed = True
            if payments_only:
                where.append("o.type IN (%s)" % ", ".join("?" * len(PAYMENT_TYPES)))
                params.extend(PAYMENT_TYPES)
            if not include_failed:
                where.append("t.successful = 1")
            rows = _fetch(conn, page, select, where, params, ["o.id"])
            return [(row, self._tx_row(conn, row["tx_id"]) if with_transactions else None) for row in rows]

    @staticmethod
    def _tx_row(conn, tx_id):
        return conn.execute("SELECT * FROM stellar_transactions WHERE id = ?", (tx_id,)).fetchone()

    def operation(self, op_id):
        with self.store.transaction() as conn:
            return conn.execute(_OP_SELECT + " WHERE o.id = ?", (op_id,)).fetchone()

    def effects(self, page, account_id=None, tx_hash=None, op_id=None):
        where, params = [], []
        with self.store.transaction() as conn:
            if account_id is not None:
                where.append("e.account = ?")
                params.append(account_id)
            if tx_hash is not None:
                where.append("e.tx_id = ?")
                params.append(_tx_id(conn, tx_hash))
            if op_id is not None:
                where.append("e.op_id = ?")
                params.append(op_id)
            return _fetch(conn, page, _EFFECT_SELECT, where, params, ["e.op_id", "e.idx"])
