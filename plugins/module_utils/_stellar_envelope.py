# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""Stellar keys and a signed one-payment transaction, with pynacl only.

Paying an escrow needs three things of Stellar: account ids and secret seeds (StrKey), the XDR of a
transaction with one payment operation and a text memo, and its ed25519 signature. stellar-sdk does them
too, but importing it costs about half a second per task (it pulls in aiohttp, requests, pydantic and the
whole XDR schema), more than the rest of a paying task's own work on a near grid. Wallet steps (trustlines)
still use stellar-sdk.

    Keypair.from_secret(seed) / .from_raw_seed(raw) / .random(): .public_key (G...), .secret (S...), .sign(data),
        .derived(label) (another keypair from this seed and a label)
    is_account_id(text) -> bool;  account_id_bytes(text) -> 32 bytes (ValueError when invalid)
    PaymentEnvelope(source, sequence, fee, memo, max_time, destination, code, issuer, stroops, passphrase,
                    operation_source=None)
        .sign(keypair); .hash_hex(); .to_xdr() (base64, what Horizon's POST /transactions takes)

A payment through a payment channel (docs/CONCURRENCY.md) has the channel as the transaction's source (its
sequence number and fee) and the wallet as the operation's source (the account debited), signed by both.

Formats from the Stellar protocol: StrKey (SEP-0023: version byte, payload, CRC16-XModem little-endian,
base32) and the XDR of TransactionV1Envelope (stellar-xdr Stellar-transaction.x).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from typing import List, Optional, Tuple

from ansible_collections.threefold.grid.plugins.module_utils._crypto import HAS_NACL, require_nacl

if HAS_NACL:
    import nacl.signing

ACCOUNT_ID_VERSION = 6 << 3  # "G..."
SEED_VERSION = 18 << 3  # "S..."
ASSET_CODE = re.compile(r"^[A-Za-z0-9]{1,12}$")
MAX_MEMO_TEXT = 28

# XDR discriminants (Stellar-transaction.x, Stellar-ledger-entries.x, Stellar-types.x)
ENVELOPE_TYPE_TX = 2
KEY_TYPE_ED25519 = 0
PRECOND_TIME = 1
MEMO_TEXT = 1
PAYMENT = 1
ASSET_TYPE_CREDIT_ALPHANUM4 = 1
ASSET_TYPE_CREDIT_ALPHANUM12 = 2


def _crc16_xmodem(data: bytes) -> int:
    # CRC-CCITT (polynomial 0x1021) from 0 is XMODEM's; binascii computes it in C (every key is checked on use).
    return binascii.crc_hqx(data, 0)


def _encode_strkey(version: int, payload: bytes) -> str:
    body = bytes([version]) + payload
    return base64.b32encode(body + struct.pack("<H", _crc16_xmodem(body))).decode("ascii")


def _decode_strkey(version: int, text: str) -> bytes:
    """The 32-byte payload of a StrKey of `version`; ValueError when it is not one (checksum included)."""
    if not isinstance(text, str) or len(text) != 56:
        raise ValueError("not a 56-character Stellar key")
    try:
        raw = base64.b32decode(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise ValueError("not base32") from None
    body, checksum = raw[:-2], raw[-2:]
    if body[0] != version or struct.pack("<H", _crc16_xmodem(body)) != checksum:
        raise ValueError("wrong version byte or checksum")
    if _encode_strkey(version, body[1:]) != text:
        raise ValueError("not in canonical form")
    return body[1:]


def account_id_bytes(address: str) -> bytes:
    """The ed25519 public key of a G... account id; ValueError when it is not a valid one."""
    return _decode_strkey(ACCOUNT_ID_VERSION, address)


def is_account_id(address: str) -> bool:
    try:
        account_id_bytes(address)
    except ValueError:
        return False
    return True


class Keypair:
    """An ed25519 signing key and its account id; repr and str never show the seed."""

    def __init__(self, signing_key: "nacl.signing.SigningKey"):
        self._signing_key = signing_key
        self.raw_public_key = bytes(signing_key.verify_key)
        self.public_key = _encode_strkey(ACCOUNT_ID_VERSION, self.raw_public_key)

    @classmethod
    def random(cls) -> "Keypair":
        require_nacl()
        return cls(nacl.signing.SigningKey.generate())

    @property
    def secret(self) -> str:
        """The S... secret seed (written to a wallet's secret file, or handed to stellar-sdk to sign)."""
        return _encode_strkey(SEED_VERSION, bytes(self._signing_key))

    @classmethod
    def from_raw_seed(cls, raw: bytes) -> "Keypair":
        require_nacl()
        return cls(nacl.signing.SigningKey(raw))

    @classmethod
    def from_secret(cls, secret: str) -> "Keypair":
        """ValueError (without the secret) when `secret` is not an S... seed."""
        return cls.from_raw_seed(_decode_strkey(SEED_VERSION, secret))

    def derived(self, label: bytes) -> "Keypair":
        """Another keypair derived from this one's seed and ``label`` (a payment channel's): whoever holds this
        seed derives the same one, nobody else can."""
        return Keypair.from_raw_seed(hashlib.sha256(label + bytes(self._signing_key)).digest())

    def sign(self, data: bytes) -> bytes:
        return self._signing_key.sign(data).signature

    def __repr__(self):
        return "Keypair(%s)" % self.public_key


# ---- XDR ---------------------------------------------------------------------------------------

def _uint32(value: int) -> bytes:
    return struct.pack(">I", value)


def _int64(value: int) -> bytes:
    return struct.pack(">q", value)


def _var_opaque(data: bytes) -> bytes:
    return _uint32(len(data)) + data + b"\0" * (-len(data) % 4)


def _muxed_account(raw_key: bytes) -> bytes:
    return _uint32(KEY_TYPE_ED25519) + raw_key


def _account_id(raw_key: bytes) -> bytes:
    return _uint32(KEY_TYPE_ED25519) + raw_key  # PublicKey: PUBLIC_KEY_TYPE_ED25519 is 0 as well


def _asset(code: str, issuer: str) -> bytes:
    if not ASSET_CODE.match(code or ""):
        raise ValueError("asset code %r is not 1 to 12 letters or digits" % code)
    if len(code) <= 4:
        return _uint32(ASSET_TYPE_CREDIT_ALPHANUM4) + code.encode("ascii").ljust(4, b"\0") + \
            _account_id(account_id_bytes(issuer))
    return _uint32(ASSET_TYPE_CREDIT_ALPHANUM12) + code.encode("ascii").ljust(12, b"\0") + \
        _account_id(account_id_bytes(issuer))


class PaymentEnvelope:
    """A transaction from `source` (account id) with sequence number `sequence`, fee `fee` stroops, a text
    memo, valid until Unix time `max_time`, paying `stroops` of `code`:`issuer` to `destination` from
    `operation_source` (an account id; None: from `source`)."""

    def __init__(self, source: str, sequence: int, fee: int, memo: str, max_time: int, destination: str,
                 code: str, issuer: str, stroops: int, passphrase: str, operation_source: Optional[str] = None):
        memo_bytes = memo.encode("utf-8")
        if len(memo_bytes) > MAX_MEMO_TEXT:
            raise ValueError("memo %r is longer than %d bytes" % (memo, MAX_MEMO_TEXT))
        if stroops <= 0:
            raise ValueError("payment amount must be positive")
        # An optional MuxedAccount: absent (0) means the transaction's source.
        debited = _uint32(0) if operation_source is None else _uint32(1) + _muxed_account(
            account_id_bytes(operation_source))
        operation = (debited + _uint32(PAYMENT) + _muxed_account(account_id_bytes(destination)) + _asset(code, issuer)
                     + _int64(stroops))
        self.transaction = (_muxed_account(account_id_bytes(source)) + _uint32(fee) + _int64(sequence)
                            + _uint32(PRECOND_TIME) + struct.pack(">QQ", 0, max_time)
                            + _uint32(MEMO_TEXT) + _var_opaque(memo_bytes)
                            + _uint32(1) + operation
                            + _uint32(0))  # ext v0
        network_id = hashlib.sha256(passphrase.encode("utf-8")).digest()
        self.hash = hashlib.sha256(network_id + _uint32(ENVELOPE_TYPE_TX) + self.transaction).digest()
        self.signatures: List[Tuple[bytes, bytes]] = []

    def sign(self, keypair: Keypair) -> None:
        self.signatures.append((keypair.raw_public_key[-4:], keypair.sign(self.hash)))

    def hash_hex(self) -> str:
        return self.hash.hex()

    def to_xdr(self) -> str:
        signatures = b"".join(hint + _var_opaque(signature) for hint, signature in self.signatures)
        envelope = _uint32(ENVELOPE_TYPE_TX) + self.transaction + _uint32(len(self.signatures)) + signatures
        return base64.b64encode(envelope).decode("ascii")
