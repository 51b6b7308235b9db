"""Ledger state and history tables, and the small row helpers the rules use.

All helpers take the connection of an open ``Store.transaction()``; none commits.
"""

from .assets import Asset

SCHEMA = """
CREATE TABLE IF NOT EXISTS stellar_accounts (
    account_id TEXT PRIMARY KEY,
    balance INTEGER NOT NULL,
    sequence INTEGER NOT NULL,
    subentry_count INTEGER NOT NULL DEFAULT 0,
    last_modified_ledger INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS stellar_trustlines (
    account_id TEXT NOT NULL,
    asset_code TEXT NOT NULL,
    asset_issuer TEXT NOT NULL,
    balance INTEGER NOT NULL,
    trust_limit INTEGER NOT NULL,
    last_modified_ledger INTEGER NOT NULL,
    PRIMARY KEY (account_id, asset_code, asset_issuer)
);
CREATE TABLE IF NOT EXISTS stellar_ledgers (
    sequence INTEGER PRIMARY KEY,
    hash TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    closed_at REAL NOT NULL,
    successful_transaction_count INTEGER NOT NULL,
    failed_transaction_count INTEGER NOT NULL,
    operation_count INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS stellar_transactions (
    id INTEGER PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    ledger INTEGER NOT NULL,
    successful INTEGER NOT NULL,
    source_account TEXT NOT NULL,
    source_sequence INTEGER NOT NULL,
    fee_charged INTEGER NOT NULL,
    max_fee INTEGER NOT NULL,
    operation_count INTEGER NOT NULL,
    memo_type TEXT NOT NULL,
    memo TEXT,
    memo_bytes TEXT,
    envelope_xdr TEXT NOT NULL,
    result_xdr TEXT NOT NULL,
    signatures TEXT NOT NULL,
    valid_after INTEGER,
    valid_before INTEGER,
    result_codes TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS stellar_transactions_memo ON stellar_transactions (memo);
CREATE TABLE IF NOT EXISTS stellar_tx_participants (
    account_id TEXT NOT NULL,
    tx_id INTEGER NOT NULL,
    PRIMARY KEY (account_id, tx_id)
);
CREATE TABLE IF NOT EXISTS stellar_operations (
    id INTEGER PRIMARY KEY,
    tx_id INTEGER NOT NULL,
    type TEXT NOT NULL,
    source_account TEXT NOT NULL,
    details TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS stellar_op_participants (
    account_id TEXT NOT NULL,
    op_id INTEGER NOT NULL,
    PRIMARY KEY (account_id, op_id)
);
CREATE TABLE IF NOT EXISTS stellar_effects (
    op_id INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    tx_id INTEGER NOT NULL,
    account TEXT NOT NULL,
    type TEXT NOT NULL,
    asset_code TEXT,
    asset_issuer TEXT,
    amount INTEGER,
    details TEXT NOT NULL,
    PRIMARY KEY (op_id, idx)
);
CREATE INDEX IF NOT EXISTS stellar_effects_account ON stellar_effects (account, op_id, idx);
-- memo_balance goes from a memo's few transactions to their effects, not through every effect of the escrow account.
CREATE INDEX IF NOT EXISTS stellar_effects_tx ON stellar_effects (tx_id);
"""

BASE_FEE = 100  # stroops per operation
BASE_RESERVE = 5_000_000  # 0.5 XLM, as in 2020


def min_balance(subentry_count):
    return (2 + subentry_count) * BASE_RESERVE


def get_account(conn, account_id):
    return conn.execute("SELECT * FROM stellar_accounts WHERE account_id = ?", (account_id,)).fetchone()


def insert_account(conn, account_id, balance, ledger):
    conn.execute(
        "INSERT INTO stellar_accounts (account_id, balance, sequence, last_modified_ledger) VALUES (?, ?, ?, ?)",
        (account_id, balance, ledger << 32, ledger),
    )


def add_native(conn, account_id, delta, ledger):
    conn.execute(
        "UPDATE stellar_accounts SET balance = balance + ?, last_modified_ledger = ? WHERE account_id = ?",
        (delta, ledger, account_id),
    )


def set_sequence(conn, account_id, sequence, ledger):
    conn.execute(
        "UPDATE stellar_accounts SET sequence = ?, last_modified_ledger = ? WHERE account_id = ?",
        (sequence, ledger, account_id),
    )


def add_subentries(conn, account_id, delta, ledger):
    conn.execute(
        "UPDATE stellar_accounts SET subentry_count = subentry_count + ?, last_modified_ledger = ? "
        "WHERE account_id = ?",
        (delta, ledger, account_id),
    )


def get_trustline(conn, account_id, asset):
    return conn.execute(
        "SELECT * FROM stellar_trustlines WHERE account_id = ? AND asset_code = ? AND asset_issuer = ?",
        (account_id, asset.code, asset.issuer),
    ).fetchone()


def trustlines_of(conn, account_id):
    return conn.execute(
        "SELECT * FROM stellar_trustlines WHERE account_id = ? ORDER BY asset_code, asset_issuer", (account_id,)
    ).fetchall()


def put_trustline(conn, account_id, asset, limit, ledger):
    conn.execute(
        "INSERT INTO stellar_trustlines (account_id, asset_code, asset_issuer, balance, trust_limit, "
        "last_modified_ledger) VALUES (?, ?, ?, 0, ?, ?) ON CONFLICT (account_id, asset_code, asset_issuer) "
        "DO UPDATE SET trust_limit = excluded.trust_limit, last_modified_ledger = excluded.last_modified_ledger",
        (account_id, asset.code, asset.issuer, limit, ledger),
    )


def delete_trustline(conn, account_id, asset):
    conn.execute(
        "DELETE FROM stellar_trustlines WHERE account_id = ? AND asset_code = ? AND asset_issuer = ?",
        (account_id, asset.code, asset.issuer),
    )


def add_credit(conn, account_id, asset, delta, ledger):
    conn.execute(
        "UPDATE stellar_trustlines SET balance = balance + ?, last_modified_ledger = ? "
        "WHERE account_id = ? AND asset_code = ? AND asset_issuer = ?",
        (delta, ledger, account_id, asset.code, asset.issuer),
    )


def row_asset(row):
    return Asset(row["asset_code"], row["asset_issuer"])


def latest_ledger(conn):
    row = conn.execute("SELECT * FROM stellar_ledgers ORDER BY sequence DESC LIMIT 1").fetchone()
    return row
