"""The unsigned, fee-0 envelope of an internal transaction (explorer payouts, refunds, escrow set-up).

Built from stellar-sdk's XDR types rather than its TransactionBuilder: the builder parses every
account strkey (base32 and a checksum in Python) two or three times per transaction, and the
explorer pays twice per deployed reservation. The few accounts and assets involved are converted
once and cached; the envelope and its hash are the ones the builder gives (the ledger tests decode
them with stellar-sdk).
"""

import base64
import functools
import hashlib

from stellar_sdk import Asset as SdkAsset
from stellar_sdk import StrKey, xdr

from .assets import NETWORK_ID

_ZERO_TIME = xdr.TimePoint(xdr.Uint64(0))
_CACHED = 4096  # accounts: the escrow, farm and foundation wallets a burst of payouts uses over and over


def unsigned_envelope(source, sequence, ops, memo):
    """(hash hex, envelope XDR base64) of ``ops`` from ``source`` at ``sequence`` with a stellar-sdk ``memo``,
    fee 0 and time bounds 0/0; ``ops`` are operations.Op of type payment, create_account or change_trust."""
    tx = xdr.Transaction(
        source_account=_muxed(source),
        fee=xdr.Uint32(0),
        seq_num=xdr.SequenceNumber(xdr.Int64(sequence)),
        cond=xdr.Preconditions(
            type=xdr.PreconditionType.PRECOND_TIME,
            time_bounds=xdr.TimeBounds(min_time=_ZERO_TIME, max_time=_ZERO_TIME),
        ),
        memo=memo.to_xdr_object(),
        operations=[xdr.Operation(source_account=None, body=_body(op)) for op in ops],
        ext=xdr.TransactionExt(v=0),
    )
    packed = xdr.TransactionEnvelope(
        type=xdr.EnvelopeType.ENVELOPE_TYPE_TX, v1=xdr.TransactionV1Envelope(tx=tx, signatures=[]),
    ).to_xdr_bytes()
    # The envelope is its type (4 bytes), the transaction and an empty signature list (4 bytes); the
    # hash covers the network id, the type and the transaction.
    return hashlib.sha256(NETWORK_ID + packed[:-4]).hexdigest(), base64.b64encode(packed).decode("ascii")


def _body(op):
    if op.type == "payment":
        return xdr.OperationBody(
            type=xdr.OperationType.PAYMENT,
            payment_op=xdr.PaymentOp(destination=_muxed(op.destination), asset=_asset(op.asset),
                                     amount=xdr.Int64(op.amount)),
        )
    if op.type == "create_account":
        return xdr.OperationBody(
            type=xdr.OperationType.CREATE_ACCOUNT,
            create_account_op=xdr.CreateAccountOp(destination=_account_id(op.destination),
                                                  starting_balance=xdr.Int64(op.amount)),
        )
    return xdr.OperationBody(
        type=xdr.OperationType.CHANGE_TRUST,
        change_trust_op=xdr.ChangeTrustOp(line=_trust_line(op.asset), limit=xdr.Int64(op.limit)),
    )


@functools.lru_cache(maxsize=_CACHED)
def _key(account):
    return xdr.Uint256(StrKey.decode_ed25519_public_key(account))


def _muxed(account):
    return xdr.MuxedAccount(type=xdr.CryptoKeyType.KEY_TYPE_ED25519, ed25519=_key(account))


def _account_id(account):
    return xdr.AccountID(xdr.PublicKey(type=xdr.PublicKeyType.PUBLIC_KEY_TYPE_ED25519, ed25519=_key(account)))


@functools.lru_cache(maxsize=None)
def _asset(asset):
    return _sdk_asset(asset).to_xdr_object()


@functools.lru_cache(maxsize=None)
def _trust_line(asset):
    return _sdk_asset(asset).to_change_trust_asset_xdr_object()


def _sdk_asset(asset):
    return SdkAsset.native() if asset.issuer is None else SdkAsset(asset.code, asset.issuer)
