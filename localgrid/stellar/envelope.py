"""Decoding a submitted transaction envelope into a TxInput, and checking its signatures.

Signatures are verified over the envelope hash computed with localgrid's passphrase, so a
transaction signed for another network fails with tx_bad_auth, as on Stellar.
"""

import base64
import functools
import re
from decimal import Decimal, InvalidOperation

from stellar_sdk import (
    ChangeTrust, CreateAccount, HashMemo, IdMemo, Keypair, Payment, ReturnHashMemo, TextMemo,
    TransactionEnvelope, xdr,
)
from stellar_sdk import Asset as SdkAsset
from stellar_sdk.exceptions import BadSignatureError

from . import common_envelope
from .assets import NETWORK_PASSPHRASE, Asset
from .history import TxInput
from .operations import Op


class MalformedTransaction(Exception):
    """The envelope cannot be decoded (Horizon's transaction_malformed)."""


class FeeBumpNotSupported(Exception):
    """Fee-bump envelopes are not applied by localgrid."""


def decode(envelope_xdr):
    """Return (TxInput, envelope hash bytes, [signature with .signature_hint and .signature]) or raise
    MalformedTransaction."""
    return common_envelope.decode(envelope_xdr) or decode_with_sdk(envelope_xdr)


def decode_with_sdk(envelope_xdr):
    """decode() through stellar-sdk's XDR: every envelope shape, also those common_envelope leaves alone."""
    try:
        raw = xdr.TransactionEnvelope.from_xdr(envelope_xdr)
    except Exception as exc:  # any decoding failure of client input is "malformed"
        raise MalformedTransaction(str(exc) or type(exc).__name__) from exc
    if raw.type == xdr.EnvelopeType.ENVELOPE_TYPE_TX_FEE_BUMP:
        raise FeeBumpNotSupported()
    try:
        envelope = TransactionEnvelope.from_xdr(envelope_xdr, NETWORK_PASSPHRASE)
        tx = envelope.transaction
        ops = [_op(op, tx.source.account_id) for op in tx.operations]
        memo_type, memo, memo_bytes = memo_fields(tx.memo)
    except (ValueError, TypeError, InvalidOperation) as exc:
        raise MalformedTransaction(str(exc)) from exc
    bounds = tx.preconditions.time_bounds if tx.preconditions else None
    tx_hash = envelope.hash()  # once: each call packs the whole transaction again
    tx_input = TxInput(
        hash=tx_hash.hex(),
        source=tx.source.account_id,
        sequence=tx.sequence,
        max_fee=tx.fee,
        ops=ops,
        envelope_xdr=envelope_xdr,
        memo_type=memo_type,
        memo=memo,
        memo_bytes=memo_bytes,
        signatures=tuple(base64.b64encode(s.signature).decode() for s in envelope.signatures),
        valid_after=bounds.min_time if bounds else None,
        valid_before=bounds.max_time if bounds else None,
    )
    return tx_input, tx_hash, list(envelope.signatures)


def _stroops(value):
    # stellar-sdk renders XDR int64 amounts as decimal strings; keep them exact (and signed).
    return int(Decimal(value) * 10**7)


def _asset(sdk_asset):
    if not isinstance(sdk_asset, SdkAsset):
        return None
    if sdk_asset.is_native():
        return Asset("XLM", None)
    return Asset(sdk_asset.code, sdk_asset.issuer)


def _op(op, tx_source):
    source = op.source.account_id if op.source is not None else tx_source
    if isinstance(op, Payment):
        return Op("payment", source, op.destination.account_id, _asset(op.asset), _stroops(op.amount))
    if isinstance(op, CreateAccount):
        return Op("create_account", source, op.destination, None, _stroops(op.starting_balance))
    if isinstance(op, ChangeTrust) and _asset(op.asset) is not None:
        return Op("change_trust", source, asset=_asset(op.asset), limit=_stroops(op.limit))
    return Op(_snake(type(op).__name__), source)


def _snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def memo_fields(memo):
    """Horizon's (memo_type, memo, memo_bytes) of a stellar-sdk memo."""
    if isinstance(memo, TextMemo):
        return common_envelope.memo_fields("text", memo.memo_text)
    if isinstance(memo, IdMemo):
        return common_envelope.memo_fields("id", memo.memo_id)
    if isinstance(memo, HashMemo):
        return common_envelope.memo_fields("hash", memo.memo_hash)
    if isinstance(memo, ReturnHashMemo):
        return common_envelope.memo_fields("return", memo.memo_return)
    return common_envelope.memo_fields("none", None)


def signers_used(tx_hash, signatures, candidates):
    """Map each candidate account to whether a valid signature of it is present.

    Returns (signed accounts, number of signatures that matched no candidate).
    """
    signed, unused = set(), 0
    for decorated in signatures:
        matched = False
        for account in candidates:
            keypair = _keypair(account)
            if decorated.signature_hint != keypair.signature_hint():
                continue
            try:
                keypair.verify(tx_hash, decorated.signature)
            except BadSignatureError:
                continue
            signed.add(account)
            matched = True
            break
        unused += not matched
    return signed, unused


@functools.lru_cache(maxsize=4096)
def _keypair(account):
    # A payer signs every payment: its key is decoded from base32 and checked once, not per signature.
    return Keypair.from_public_key(account)
