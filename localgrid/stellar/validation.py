"""stellar-core's checks on a submitted transaction before it is applied (first failure wins).

A transaction refused here changes nothing: no fee, no sequence number, no history record.
"""

from . import envelope, operations, state
from .results import result_xdr


class TransactionRejected(Exception):
    """Refused before apply; ``result_codes`` and ``result_xdr`` are what Horizon reports."""

    def __init__(self, tx_code, ops=None, op_codes=None):
        super().__init__("transaction rejected: %s %s" % (tx_code, op_codes or ""))
        self.code = tx_code
        self.result_codes = {"transaction": tx_code}
        if op_codes:
            self.result_codes["operations"] = op_codes
        self.result_xdr = result_xdr(tx_code, 0, [(op.type, code) for op, code in zip(ops or [], op_codes or [])])


def validate(conn, tx, tx_hash, signatures, now):
    """Raise TransactionRejected or return the fee to charge (base fee × operations)."""
    if not tx.ops:
        raise TransactionRejected("tx_missing_operation")
    if tx.valid_after and now < tx.valid_after:
        raise TransactionRejected("tx_too_early")
    if tx.valid_before and now > tx.valid_before:
        raise TransactionRejected("tx_too_late")
    fee = state.BASE_FEE * len(tx.ops)
    if tx.max_fee < fee:
        raise TransactionRejected("tx_insufficient_fee")
    source = state.get_account(conn, tx.source)
    if source is None:
        raise TransactionRejected("tx_no_source_account")
    if tx.sequence != source["sequence"] + 1:
        raise TransactionRejected("tx_bad_seq")
    candidates = [tx.source] + sorted({op.source for op in tx.ops} - {tx.source})
    signed, unused = envelope.signers_used(tx_hash, signatures, candidates)
    if tx.source not in signed:
        raise TransactionRejected("tx_bad_auth")
    op_codes = [_check_op(conn, op, signed) for op in tx.ops]
    if any(code != "op_success" for code in op_codes):
        raise TransactionRejected("tx_failed", tx.ops, op_codes)
    if unused:
        raise TransactionRejected("tx_bad_auth_extra")
    if source["balance"] - fee < state.min_balance(source["subentry_count"]):
        raise TransactionRejected("tx_insufficient_balance")
    return fee


def _check_op(conn, op, signed):
    # A change_trust to a liquidity pool share decodes without an asset: not supported either.
    if op.type not in operations.SUPPORTED or (op.asset is None and op.type != "create_account"):
        return "op_not_supported"
    if state.get_account(conn, op.source) is None:
        return "op_no_source_account"
    if op.source not in signed:
        return "op_bad_auth"
    return "op_success"
