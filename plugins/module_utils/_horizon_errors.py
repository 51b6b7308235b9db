# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""Horizon failures in words: result codes turned into a message, a short code and a secret-free dict."""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

RESULT_CODE_MESSAGES = {
    "tx_bad_seq": "the wallet's sequence number moved while paying (another transaction from the same wallet "
                  "ran at the same time); re-run: what was already paid is found by memo",
    "tx_bad_auth": "the signature was rejected: the secret does not control the paying account, or the network "
                   "passphrase does not match this Horizon (check network and horizon_url)",
    "tx_bad_auth_extra": "the transaction carries a signature that is not needed",
    "tx_insufficient_fee": "the fee is below the network's base fee",
    "tx_insufficient_balance": "the paying account cannot pay the fee without going below its minimum XLM balance",
    "tx_no_source_account": "the paying account does not exist",
    "tx_too_early": "the transaction is not valid yet (clock skew?)",
    "tx_too_late": "the transaction expired before it reached a ledger",
    "tx_missing_operation": "the transaction has no operation",
    "tx_internal_error": "Horizon/stellar-core reported an internal error",
    "op_underfunded": "the paying account does not hold enough of the asset",
    "op_src_no_trust": "the paying account has no trustline for the asset",
    "op_no_trust": "the destination account has no trustline for the asset",
    "op_no_destination": "the destination account does not exist",
    "op_line_full": "the destination's trustline limit would be exceeded",
    "op_not_authorized": "the destination is not authorised to hold the asset",
    "op_src_not_authorized": "the paying account is not authorised to send the asset",
    "op_no_issuer": "the asset's issuer account does not exist",
    "op_malformed": "the operation is malformed (amount not positive or invalid asset)",
    "op_bad_auth": "an operation's source account did not sign",
    "op_no_source_account": "an operation's source account does not exist",
    "op_low_reserve": "the account's XLM would fall below its minimum balance",
    "op_invalid_limit": "the trustline limit is below the current balance",
}

CODE_OF_RESULT = {
    "tx_bad_seq": "bad_sequence", "tx_bad_auth": "bad_auth", "tx_insufficient_fee": "insufficient_fee",
    "tx_insufficient_balance": "fee_underfunded", "tx_no_source_account": "payer_missing",
    "tx_too_late": "expired", "op_underfunded": "underfunded", "op_src_no_trust": "no_trustline",
    "op_no_trust": "escrow_no_trust", "op_no_destination": "escrow_missing", "op_line_full": "escrow_line_full",
}


def describe_horizon_error(body: Optional[Dict[str, Any]], status: Optional[int] = None) -> Tuple[str, Dict[str, Any]]:
    """(message, failure) for a Horizon problem+json body; failure = {status, type, title, detail, result_codes}."""
    body = body if isinstance(body, dict) else {}
    extras = body.get("extras") if isinstance(body.get("extras"), dict) else {}
    result_codes = extras.get("result_codes") if isinstance(extras.get("result_codes"), dict) else {}
    failure = {
        "status": body.get("status", status),
        "type": (body.get("type") or "").rsplit("/", 1)[-1] or None,
        "title": body.get("title"),
        "detail": body.get("detail"),
        "result_codes": result_codes or None,
    }
    tx_code = result_codes.get("transaction")
    op_codes = [c for c in (result_codes.get("operations") or []) if c != "op_success"]
    if tx_code == "tx_failed" and op_codes:
        reasons = ["%s (%s)" % (RESULT_CODE_MESSAGES.get(c, "operation failed"), c) for c in op_codes]
        return "Horizon rejected the transaction: " + "; ".join(reasons), failure
    if tx_code:
        return "Horizon rejected the transaction: %s (%s)" % (
            RESULT_CODE_MESSAGES.get(tx_code, "transaction failed"), tx_code), failure
    if failure["type"] == "transaction_malformed":
        return "Horizon could not decode the transaction (transaction_malformed)", failure
    text = body.get("detail") or body.get("title") or "HTTP %s" % failure["status"]
    return "Horizon answered HTTP %s: %s" % (failure["status"], text), failure


def error_code(failure: Dict[str, Any]) -> str:
    """Short reason for a failure dict from describe_horizon_error."""
    codes = failure.get("result_codes") or {}
    for code in [c for c in (codes.get("operations") or []) if c != "op_success"] + [codes.get("transaction")]:
        if code in CODE_OF_RESULT:
            return CODE_OF_RESULT[code]
    return codes.get("transaction") or failure.get("type") or "horizon_error"
