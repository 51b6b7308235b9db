# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""Node keys and secrets for nodes: base58 node ids, sealed boxes, WireGuard keys."""

from __future__ import annotations

import base64
import re
import traceback
from typing import Union

from ansible_collections.threefold.grid.plugins.module_utils._errors import MissingLibraryError

try:
    import nacl.public
    import nacl.signing
    import nacl.utils
except ImportError:
    HAS_NACL = False
    NACL_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_NACL = True
    NACL_IMPORT_ERROR = None


def require_nacl() -> None:
    if not HAS_NACL:
        raise MissingLibraryError("pynacl", NACL_IMPORT_ERROR)


_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = dict((char, index) for index, char in enumerate(_B58_ALPHABET))
_HEX_KEY = re.compile(r"^[0-9a-fA-F]{64}$")


def b58encode(data: bytes) -> str:
    """Base58 (Bitcoin alphabet), the encoding of 0-OS node ids."""
    data = bytes(data)
    number = int.from_bytes(data, "big")
    out = []
    while number:
        number, remainder = divmod(number, 58)
        out.append(_B58_ALPHABET[remainder])
    leading_zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * leading_zeros + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        if char not in _B58_INDEX:
            raise ValueError("invalid base58 character %r" % char)
        number = number * 58 + _B58_INDEX[char]
    leading_ones = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * leading_ones + body


def node_public_key(node_id: str) -> bytes:
    """The node's raw 32-byte ed25519 public key: a node id is base58 of exactly that key."""
    try:
        key = b58decode(node_id)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ValueError("node id %r is not a base58-encoded 32-byte ed25519 public key" % node_id)
    return key


def _node_key_bytes(node_id_or_pubkey_hex):
    if _HEX_KEY.match(node_id_or_pubkey_hex):
        return bytes.fromhex(node_id_or_pubkey_hex)
    return node_public_key(node_id_or_pubkey_hex)


def encrypt_for_node(node_id_or_pubkey_hex: str, plaintext: Union[str, bytes]) -> str:
    """Hex sealed box for the node's Curve25519 key, which 0-OS derives from its ed25519 identity key.

    Accepts the base58 node id or the node's `public_key_hex`; str plaintext is UTF-8 encoded.
    """
    require_nacl()
    verify_key = nacl.signing.VerifyKey(_node_key_bytes(node_id_or_pubkey_hex))
    box = nacl.public.SealedBox(verify_key.to_curve25519_public_key())
    data = plaintext.encode("utf-8") if isinstance(plaintext, str) else bytes(plaintext)
    return box.encrypt(data).hex()


def wireguard_public_key(private_b64: str) -> str:
    require_nacl()
    try:
        raw = base64.b64decode(private_b64, validate=True)
    except (TypeError, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ValueError("a WireGuard private key must be base64 of 32 bytes")
    return base64.b64encode(bytes(nacl.public.PrivateKey(raw).public_key)).decode("ascii")
