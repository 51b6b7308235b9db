"""Horizon result code strings and the TransactionResult XDR that goes with them."""

import functools

from stellar_sdk import xdr

_TX_CODES = {
    "tx_success": xdr.TransactionResultCode.txSUCCESS,
    "tx_failed": xdr.TransactionResultCode.txFAILED,
    "tx_too_early": xdr.TransactionResultCode.txTOO_EARLY,
    "tx_too_late": xdr.TransactionResultCode.txTOO_LATE,
    "tx_missing_operation": xdr.TransactionResultCode.txMISSING_OPERATION,
    "tx_bad_seq": xdr.TransactionResultCode.txBAD_SEQ,
    "tx_bad_auth": xdr.TransactionResultCode.txBAD_AUTH,
    "tx_insufficient_balance": xdr.TransactionResultCode.txINSUFFICIENT_BALANCE,
    "tx_no_source_account": xdr.TransactionResultCode.txNO_ACCOUNT,
    "tx_insufficient_fee": xdr.TransactionResultCode.txINSUFFICIENT_FEE,
    "tx_bad_auth_extra": xdr.TransactionResultCode.txBAD_AUTH_EXTRA,
    "tx_not_supported": xdr.TransactionResultCode.txNOT_SUPPORTED,
    "tx_malformed": xdr.TransactionResultCode.txMALFORMED,
}

# Operation-level codes that are not an inner result of one operation type.
_OUTER_OP_CODES = {
    "op_bad_auth": xdr.OperationResultCode.opBAD_AUTH,
    "op_no_source_account": xdr.OperationResultCode.opNO_ACCOUNT,
    "op_not_supported": xdr.OperationResultCode.opNOT_SUPPORTED,
}

_PAYMENT = {
    "op_success": xdr.PaymentResultCode.PAYMENT_SUCCESS,
    "op_malformed": xdr.PaymentResultCode.PAYMENT_MALFORMED,
    "op_underfunded": xdr.PaymentResultCode.PAYMENT_UNDERFUNDED,
    "op_src_no_trust": xdr.PaymentResultCode.PAYMENT_SRC_NO_TRUST,
    "op_no_destination": xdr.PaymentResultCode.PAYMENT_NO_DESTINATION,
    "op_no_trust": xdr.PaymentResultCode.PAYMENT_NO_TRUST,
    "op_line_full": xdr.PaymentResultCode.PAYMENT_LINE_FULL,
    "op_no_issuer": xdr.PaymentResultCode.PAYMENT_NO_ISSUER,
}
_CREATE_ACCOUNT = {
    "op_success": xdr.CreateAccountResultCode.CREATE_ACCOUNT_SUCCESS,
    "op_malformed": xdr.CreateAccountResultCode.CREATE_ACCOUNT_MALFORMED,
    "op_underfunded": xdr.CreateAccountResultCode.CREATE_ACCOUNT_UNDERFUNDED,
    "op_low_reserve": xdr.CreateAccountResultCode.CREATE_ACCOUNT_LOW_RESERVE,
    "op_already_exists": xdr.CreateAccountResultCode.CREATE_ACCOUNT_ALREADY_EXIST,
}
_CHANGE_TRUST = {
    "op_success": xdr.ChangeTrustResultCode.CHANGE_TRUST_SUCCESS,
    "op_malformed": xdr.ChangeTrustResultCode.CHANGE_TRUST_MALFORMED,
    "op_no_issuer": xdr.ChangeTrustResultCode.CHANGE_TRUST_NO_ISSUER,
    "op_invalid_limit": xdr.ChangeTrustResultCode.CHANGE_TRUST_INVALID_LIMIT,
    "op_low_reserve": xdr.ChangeTrustResultCode.CHANGE_TRUST_LOW_RESERVE,
}


def _operation_result(op_type, code):
    if code in _OUTER_OP_CODES:
        return xdr.OperationResult(code=_OUTER_OP_CODES[code])
    if op_type == "payment":
        tr = xdr.OperationResultTr(type=xdr.OperationType.PAYMENT, payment_result=xdr.PaymentResult(_PAYMENT[code]))
    elif op_type == "create_account":
        tr = xdr.OperationResultTr(
            type=xdr.OperationType.CREATE_ACCOUNT,
            create_account_result=xdr.CreateAccountResult(_CREATE_ACCOUNT[code]),
        )
    elif op_type == "change_trust":
        tr = xdr.OperationResultTr(
            type=xdr.OperationType.CHANGE_TRUST, change_trust_result=xdr.ChangeTrustResult(_CHANGE_TRUST[code])
        )
    else:
        raise ValueError("no result XDR for %s/%s" % (op_type, code))
    return xdr.OperationResult(code=xdr.OperationResultCode.opINNER, tr=tr)


def result_xdr(tx_code, fee_charged, op_results=None):
    """Base64 TransactionResult; op_results is [(op_type, code)] for tx_success/tx_failed."""
    return _result_xdr(tx_code, fee_charged, tuple(op_results or ()))


# Every payment and payout gives one of a few results (same codes, fee 100 per operation or 0): packed once each.
@functools.lru_cache(maxsize=1024)
def _result_xdr(tx_code, fee_charged, op_results):
    results = None
    if tx_code in ("tx_success", "tx_failed"):
        results = [_operation_result(op_type, code) for op_type, code in op_results]
    result = xdr.TransactionResult(
        fee_charged=xdr.Int64(fee_charged),
        result=xdr.TransactionResultResult(code=_TX_CODES[tx_code], results=results),
        ext=xdr.TransactionResultExt(0),
    )
    return result.to_xdr()
