"""The envelope decoder for common shapes against stellar-sdk's: same TxInput, hash and signatures, or no answer."""

import base64
import random

import pytest
from stellar_sdk import xdr

from localgrid.stellar import common_envelope, envelope
from localgrid.stellar.assets import localgrid_asset

INT64 = (-(2**63), -1, 0, 1, 2**63 - 1)
CODES = (b"TFT", b"TFTA", b"A", b"ABCD", b"FreeTFT", b"ABCDEFGHIJKL", b"T\x00FT", b"\xff\xfe", b"", b"a-b")


def _int64(rng):
    return rng.choice(INT64) if rng.random() < 0.2 else rng.randrange(1, 10**12)


def _key(rng):
    return xdr.Uint256(bytes(rng.randrange(256) for _ in range(32)))


def _account_id(rng):
    return xdr.AccountID(xdr.PublicKey(xdr.PublicKeyType.PUBLIC_KEY_TYPE_ED25519, ed25519=_key(rng)))


def _muxed(rng):
    if rng.random() < 0.05:
        med = xdr.MuxedAccountMed25519(id=xdr.Uint64(rng.randrange(2**64)), ed25519=_key(rng))
        return xdr.MuxedAccount(xdr.CryptoKeyType.KEY_TYPE_MUXED_ED25519, med25519=med)
    return xdr.MuxedAccount(xdr.CryptoKeyType.KEY_TYPE_ED25519, ed25519=_key(rng))


def _asset(rng, trust_line=False):
    kind = rng.choice((0, 1, 2, 2)) if rng.random() < 0.5 else 1
    kinds = xdr.ChangeTrustAsset if trust_line else xdr.Asset
    if kind == 0:
        return kinds(xdr.AssetType.ASSET_TYPE_NATIVE)
    if rng.random() < 0.5:
        tft = localgrid_asset("TFT")
        code, issuer = tft.code.encode(), xdr.AccountID.from_xdr(_packed_account(tft.issuer))
    else:
        code, issuer = rng.choice(CODES), _account_id(rng)
    if kind == 1:
        return kinds(xdr.AssetType.ASSET_TYPE_CREDIT_ALPHANUM4,
                     alpha_num4=xdr.AlphaNum4(xdr.AssetCode4(code[:4].ljust(4, b"\x00")), issuer))
    return kinds(xdr.AssetType.ASSET_TYPE_CREDIT_ALPHANUM12,
                 alpha_num12=xdr.AlphaNum12(xdr.AssetCode12(code[:12].ljust(12, b"\x00")), issuer))


def _packed_account(account):
    from stellar_sdk import Keypair
    return Keypair.from_public_key(account).xdr_account_id().to_xdr()


def _operation(rng):
    kind = rng.choice(("payment", "payment", "create_account", "change_trust", "bump_sequence"))
    if kind == "payment":
        body = xdr.OperationBody(xdr.OperationType.PAYMENT, payment_op=xdr.PaymentOp(
            _muxed(rng), _asset(rng), xdr.Int64(_int64(rng))))
    elif kind == "create_account":
        body = xdr.OperationBody(xdr.OperationType.CREATE_ACCOUNT, create_account_op=xdr.CreateAccountOp(
            _account_id(rng), xdr.Int64(_int64(rng))))
    elif kind == "change_trust":
        limit = rng.choice((0, 2**63 - 1, -5, rng.randrange(10**12)))
        body = xdr.OperationBody(xdr.OperationType.CHANGE_TRUST, change_trust_op=xdr.ChangeTrustOp(
            _asset(rng, trust_line=True), xdr.Int64(limit)))
    else:
        body = xdr.OperationBody(xdr.OperationType.BUMP_SEQUENCE, bump_sequence_op=xdr.BumpSequenceOp(
            xdr.SequenceNumber(xdr.Int64(_int64(rng)))))
    return xdr.Operation(source_account=_muxed(rng) if rng.random() < 0.3 else None, body=body)


def _memo(rng):
    kind = rng.randrange(5)
    if kind == 1:
        text = bytes(rng.randrange(256) for _ in range(rng.randrange(29))) if rng.random() < 0.3 else b"42-7"
        return xdr.Memo(xdr.MemoType.MEMO_TEXT, text=text)
    if kind == 2:
        return xdr.Memo(xdr.MemoType.MEMO_ID, id=xdr.Uint64(rng.randrange(2**64)))
    if kind in (3, 4):
        value = xdr.Hash(bytes(rng.randrange(256) for _ in range(32)))
        return xdr.Memo(xdr.MemoType(kind), hash=value) if kind == 3 else xdr.Memo(xdr.MemoType(kind), ret_hash=value)
    return xdr.Memo(xdr.MemoType.MEMO_NONE)


def _preconditions(rng):
    if rng.random() < 0.3:
        return xdr.Preconditions(xdr.PreconditionType.PRECOND_NONE)
    bounds = xdr.TimeBounds(xdr.TimePoint(xdr.Uint64(rng.choice((0, rng.randrange(2**64))))),
                            xdr.TimePoint(xdr.Uint64(rng.choice((0, rng.randrange(2**64))))))
    return xdr.Preconditions(xdr.PreconditionType.PRECOND_TIME, time_bounds=bounds)


def random_envelope(rng):
    tx = xdr.Transaction(
        source_account=_muxed(rng),
        fee=xdr.Uint32(rng.choice((0, 100, 2**32 - 1, rng.randrange(2**32)))),
        seq_num=xdr.SequenceNumber(xdr.Int64(_int64(rng))),
        cond=_preconditions(rng),
        memo=_memo(rng),
        operations=[_operation(rng) for _ in range(rng.choice((0, 1, 1, 1, 2, 3)))],
        ext=xdr.TransactionExt(0),
    )
    signatures = [xdr.DecoratedSignature(xdr.SignatureHint(bytes(rng.randrange(256) for _ in range(4))),
                                         xdr.Signature(bytes(rng.randrange(256) for _ in range(rng.choice((64, 0, 7))))))
                  for _ in range(rng.choice((0, 1, 1, 2)))]
    return xdr.TransactionEnvelope(xdr.EnvelopeType.ENVELOPE_TYPE_TX,
                                   v1=xdr.TransactionV1Envelope(tx, signatures)).to_xdr()


def by_sdk(envelope_xdr):
    """stellar-sdk's outcome: the decoded triple (signatures as pairs), or the exception type it raised."""
    try:
        tx, tx_hash, signatures = envelope.decode_with_sdk(envelope_xdr)
    except Exception as exc:  # pylint: disable=broad-except
        return type(exc)
    return tx, tx_hash, [(s.signature_hint, s.signature) for s in signatures]


def by_common(envelope_xdr):
    decoded = common_envelope.decode(envelope_xdr)
    if decoded is None:
        return None
    tx, tx_hash, signatures = decoded
    return tx, tx_hash, [(s.signature_hint, s.signature) for s in signatures]


def mutated(rng, envelope_xdr):
    raw = bytearray(base64.b64decode(envelope_xdr))
    choice = rng.randrange(4)
    if choice == 0:
        raw[rng.randrange(len(raw))] = rng.randrange(256)
    elif choice == 1:
        raw += bytes(rng.randrange(1, 9))
    elif choice == 2:
        del raw[rng.randrange(len(raw)):]
    else:
        return envelope_xdr[:-4] + "\n" + envelope_xdr[-4:]
    return base64.b64encode(bytes(raw)).decode()


def test_common_shapes_decode_as_stellar_sdk_does():
    rng = random.Random(16)
    read = 0
    for _ in range(3000):
        envelope_xdr = random_envelope(rng)
        common = by_common(envelope_xdr)
        if common is not None:
            read += 1
            assert common == by_sdk(envelope_xdr), envelope_xdr
    assert read > 700  # most random shapes are common ones: the comparison is not vacuous


def test_damaged_envelopes_are_left_to_stellar_sdk_or_decode_alike():
    rng = random.Random(61)
    left = 0
    for _ in range(3000):
        envelope_xdr = mutated(rng, random_envelope(rng))
        common = by_common(envelope_xdr)
        if common is None:
            left += 1
        else:
            assert common == by_sdk(envelope_xdr), envelope_xdr
    assert left > 1000


@pytest.mark.parametrize("shape", ["trailing bytes", "non-zero padding", "whitespace", "fee bump", "bool 2"])
def test_unusual_encodings_go_to_stellar_sdk(shape):
    rng = random.Random(7)
    while True:  # a payment with a text memo of 3 bytes: one padding byte after it
        envelope_xdr = random_envelope(rng)
        decoded = common_envelope.decode(envelope_xdr)
        if decoded and decoded[0].memo_type == "text" and len(base64.b64decode(decoded[0].memo_bytes)) % 4:
            break
    raw = bytearray(base64.b64decode(envelope_xdr))
    if shape == "trailing bytes":
        raw += b"\x00\x00\x00\x00"
    elif shape == "non-zero padding":
        memo_end = raw.index(base64.b64decode(decoded[0].memo_bytes)) + len(base64.b64decode(decoded[0].memo_bytes))
        raw[memo_end] = 1
    elif shape == "fee bump":
        raw[3] = 5
    elif shape == "bool 2":
        raw[4:8] = b"\x00\x00\x01\x00"  # the source's key type: muxed, read by stellar-sdk
    text = base64.b64encode(bytes(raw)).decode()
    if shape == "whitespace":
        text = text[:8] + "\n" + text[8:]
    assert common_envelope.decode(text) is None
