"""Writes the history Horizon serves: one ledger per transaction, its operations and effects.

Ids follow Horizon's TOID layout (ledger << 32 | tx order << 12 | op index), so paging tokens
grow with time like on a real network.
"""

import dataclasses
import hashlib
import json

from .operations import Op


@dataclasses.dataclass(frozen=True)
class TxInput:
    """A transaction about to be applied, decoded from an envelope or built by localgrid itself."""

    hash: str
    source: str
    sequence: int
    max_fee: int
    ops: list  # [Op]
    envelope_xdr: str
    memo_type: str = "none"
    memo: str = None
    memo_bytes: str = None
    signatures: tuple = ()
    valid_after: int = None
    valid_before: int = None


def tx_id_of(ledger):
    return (ledger << 32) | (1 << 12)


def op_id_of(tx_id, index):
    return tx_id + index + 1


def close_ledger(conn, sequence, closed_at, successful_count, failed_count, op_count):
    previous = conn.execute("SELECT hash FROM stellar_ledgers WHERE sequence = ?", (sequence - 1,)).fetchone()
    prev_hash = previous["hash"] if previous else "0" * 64
    ledger_hash = hashlib.sha256(("%s:%d:%r" % (prev_hash, sequence, closed_at)).encode()).hexdigest()
    conn.execute(
        "INSERT INTO stellar_ledgers (sequence, hash, prev_hash, closed_at, successful_transaction_count, "
        "failed_transaction_count, operation_count) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (sequence, ledger_hash, prev_hash, closed_at, successful_count, failed_count, op_count),
    )


def record_transaction(conn, tx, ledger, closed_at, fee_charged, successful, result_xdr, result_codes,
                       effects_per_op):
    """Store the transaction, its operations and (when successful) their effects; returns the tx id."""
    tx_id = tx_id_of(ledger)
    conn.execute(
        "INSERT INTO stellar_transactions (id, hash, ledger, successful, source_account, source_sequence, "
        "fee_charged, max_fee, operation_count, memo_type, memo, memo_bytes, envelope_xdr, result_xdr, "
        "signatures, valid_after, valid_before, result_codes, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (tx_id, tx.hash, ledger, int(successful), tx.source, tx.sequence, fee_charged, tx.max_fee, len(tx.ops),
         tx.memo_type, tx.memo, tx.memo_bytes, tx.envelope_xdr, result_xdr, json.dumps(list(tx.signatures)),
         tx.valid_after, tx.valid_before, json.dumps(result_codes), closed_at),
    )
    participants = {tx.source}
    for index, op in enumerate(tx.ops):
        op_id = op_id_of(tx_id, index)
        _record_operation(conn, op_id, tx_id, op)
        participants |= op.participants()
        for effect_index, effect in enumerate(effects_per_op[index] if successful else [], start=1):
            _record_effect(conn, op_id, effect_index, tx_id, effect)
    conn.executemany(
        "INSERT OR IGNORE INTO stellar_tx_participants (account_id, tx_id) VALUES (?, ?)",
        [(account, tx_id) for account in participants],
    )
    return tx_id


def _record_operation(conn, op_id, tx_id, op: Op):
    conn.execute(
        "INSERT INTO stellar_operations (id, tx_id, type, source_account, details) VALUES (?, ?, ?, ?, ?)",
        (op_id, tx_id, op.type, op.source, json.dumps(op.details())),
    )
    conn.executemany(
        "INSERT OR IGNORE INTO stellar_op_participants (account_id, op_id) VALUES (?, ?)",
        [(account, op_id) for account in op.participants()],
    )


def _record_effect(conn, op_id, index, tx_id, effect):
    asset = effect.asset
    conn.execute(
        "INSERT INTO stellar_effects (op_id, idx, tx_id, account, type, asset_code, asset_issuer, amount, details) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (op_id, index, tx_id, effect.account, effect.type, asset.code if asset else None,
         asset.issuer if asset else None, effect.amount, json.dumps(effect.extra)),
    )
