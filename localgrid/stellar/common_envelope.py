"""Decoding the common envelope shapes straight from their XDR bytes, without stellar-sdk's generic XDR.

Every payment a client makes is submitted here, one after another on the payer's sequence, and
stellar-sdk's decoder (an object per XDR field, then the SDK's own objects, base32 for every key,
then packing the whole transaction again for its hash) was half of the server time of a
submission. The shapes read here are the ones clients build: a v1 envelope (ENVELOPE_TYPE_TX)
from an ed25519 account, no or time preconditions, any memo, payment / create_account /
change_trust operations with classic assets, no extension. Anything else (fee bumps, muxed
accounts, other operations, non-canonical base64 or XDR, trailing bytes, amounts <= 0) returns
None and goes through stellar-sdk, so both ways give the same result; assets and account ids are
converted by stellar-sdk itself, once per distinct value.
"""

import base64
import collections
import functools
import hashlib
import struct

from stellar_sdk import Asset as SdkAsset
from stellar_sdk import StrKey, xdr

from .assets import NETWORK_ID, Asset
from .history import TxInput
from .operations import Op

Signature = collections.namedtuple("Signature", "signature_hint signature")  # stellar-sdk's DecoratedSignature

_ENVELOPE_TYPE_TX = 2
_MAX_OPERATIONS = 100  # Transaction.operations<MAX_OPS_PER_TX>
_MAX_SIGNATURES = 20  # TransactionV1Envelope.signatures<20>
_MAX_MEMO_TEXT = 28
_MEMO_KINDS = {0: "none", 1: "text", 2: "id", 3: "hash", 4: "return"}
_ASSET_CODE_SIZES = {1: 4, 2: 12}  # credit_alphanum4, credit_alphanum12
_CACHED = 4096  # accounts and assets: a burst of payments names the same few over and over
_U32 = struct.Struct(">I")
_I64 = struct.Struct(">q")
_U64 = struct.Struct(">Q")


class _Unusual(Exception):
    """Not a shape read here: stellar-sdk decodes it."""


def decode(envelope_xdr):
    """(TxInput, envelope hash bytes, [Signature]) of a common envelope, or None for stellar-sdk to decode."""
    try:
        raw = base64.b64decode(envelope_xdr, validate=True)
        if base64.b64encode(raw).decode("ascii") != envelope_xdr:
            return None
        return _Reader(raw).envelope(envelope_xdr)
    # Whatever fails here (bad base64, a shape not read here, an asset stellar-sdk refuses) is
    # decided by stellar-sdk's decoder, which raises the error the general path always raised.
    except Exception:  # pylint: disable=broad-except
        return None


def memo_fields(kind, value):
    """Horizon's (memo_type, memo, memo_bytes) of a memo kind ("none", "text", ...) and its XDR value."""
    if kind == "text":
        return "text", value.decode("utf-8", errors="replace"), base64.b64encode(value).decode()
    if kind == "id":
        return "id", str(value), None
    if kind in ("hash", "return"):
        return kind, base64.b64encode(value).decode(), None
    return "none", None, None


class _Reader:
    def __init__(self, raw):
        self.raw = raw
        self.at = 0

    def envelope(self, envelope_xdr):
        if self._u32() != _ENVELOPE_TYPE_TX:
            raise _Unusual()
        source = self._muxed_account()
        fee = self._u32()
        sequence = self._read(_I64)
        valid_after = valid_before = None
        preconditions = self._u32()
        if preconditions == 1:  # PRECOND_TIME
            valid_after, valid_before = self._read(_U64), self._read(_U64)
            if 0 < valid_before < valid_after:  # stellar-sdk refuses these bounds: its error, its words
                raise _Unusual()
        elif preconditions != 0:
            raise _Unusual()
        memo_type, memo, memo_bytes = memo_fields(*self._memo())
        count = self._u32()
        if count > _MAX_OPERATIONS:
            raise _Unusual()
        ops = [self._operation(source) for _ in range(count)]
        if self._u32() != 0:  # TransactionExt v0
            raise _Unusual()
        signed_part = self.raw[:self.at]
        count = self._u32()
        if count > _MAX_SIGNATURES:
            raise _Unusual()
        signatures = [Signature(self._fixed(4), self._opaque(64)) for _ in range(count)]
        if self.at != len(self.raw):
            raise _Unusual()
        # The hash covers the network id, the envelope type and the transaction: the bytes as sent,
        # which are canonical XDR here (every length, padding and union arm was checked).
        tx_hash = hashlib.sha256(NETWORK_ID + signed_part).digest()
        tx_input = TxInput(
            hash=tx_hash.hex(), source=source, sequence=sequence, max_fee=fee, ops=ops, envelope_xdr=envelope_xdr,
            memo_type=memo_type, memo=memo, memo_bytes=memo_bytes,
            signatures=tuple(base64.b64encode(s.signature).decode() for s in signatures),
            valid_after=valid_after, valid_before=valid_before,
        )
        return tx_input, tx_hash, signatures

    def _memo(self):
        kind = _MEMO_KINDS.get(self._u32())
        if kind == "text":
            return kind, self._opaque(_MAX_MEMO_TEXT)
        if kind == "id":
            return kind, self._read(_U64)
        if kind in ("hash", "return"):
            return kind, self._fixed(32)
        if kind == "none":
            return kind, None
        raise _Unusual()

    def _operation(self, tx_source):
        source = tx_source
        has_source = self._u32()
        if has_source == 1:
            source = self._muxed_account()
        elif has_source != 0:
            raise _Unusual()
        kind = self._u32()
        if kind == 0:  # CREATE_ACCOUNT
            destination = self._account_id()
            return Op("create_account", source, destination, None, self._amount())
        if kind == 1:  # PAYMENT
            destination = self._muxed_account()
            asset = self._asset()
            return Op("payment", source, destination, asset, self._amount())
        if kind == 6:  # CHANGE_TRUST
            asset = self._asset()
            limit = self._read(_I64)
            if limit < 0:
                raise _Unusual()
            return Op("change_trust", source, asset=asset, limit=limit)
        raise _Unusual()

    def _amount(self):
        amount = self._read(_I64)
        if amount <= 0:
            raise _Unusual()
        return amount

    def _asset(self):
        start = self.at
        kind = self._u32()
        if kind in _ASSET_CODE_SIZES:
            self._fixed(_ASSET_CODE_SIZES[kind])
            self._account_id()
        elif kind != 0:  # native
            raise _Unusual()
        asset = _asset(self.raw[start:self.at])
        if asset is None:
            raise _Unusual()
        return asset

    def _muxed_account(self):
        if self._u32() != 0:  # KEY_TYPE_ED25519; muxed (M...) accounts go through stellar-sdk
            raise _Unusual()
        return _account(self._fixed(32))

    def _account_id(self):
        if self._u32() != 0:  # PUBLIC_KEY_TYPE_ED25519
            raise _Unusual()
        return _account(self._fixed(32))

    def _u32(self):
        return self._read(_U32)

    def _read(self, packing):
        end = self.at + packing.size
        if end > len(self.raw):
            raise _Unusual()
        (value,) = packing.unpack_from(self.raw, self.at)
        self.at = end
        return value

    def _fixed(self, size):
        end = self.at + size
        padded = end + (-size % 4)
        if padded > len(self.raw) or any(self.raw[end:padded]):
            raise _Unusual()
        value = self.raw[self.at:end]
        self.at = padded
        return value

    def _opaque(self, maximum):
        size = self._u32()
        if size > maximum:
            raise _Unusual()
        return self._fixed(size)


@functools.lru_cache(maxsize=_CACHED)
def _account(key):
    return StrKey.encode_ed25519_public_key(key)


@functools.lru_cache(maxsize=_CACHED)
def _asset(packed):
    """Our Asset of a packed XDR asset, or None when stellar-sdk would pack it otherwise (e.g. a 3-letter
    code as credit_alphanum12), which changes the hash it computes."""
    sdk_asset = SdkAsset.from_xdr_object(xdr.Asset.from_xdr_bytes(packed))
    if sdk_asset.to_xdr_object().to_xdr_bytes() != packed:
        return None
    if sdk_asset.is_native():
        return Asset("XLM", None)
    return Asset(sdk_asset.code, sdk_asset.issuer)
