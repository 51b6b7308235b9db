"""Key encodings shared by localgrid's explorer, nodes and ledger: base58 node ids from ed25519 keys."""

import nacl.signing

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(_ALPHABET)}


def b58encode(data):
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rem = divmod(number, 58)
        out = _ALPHABET[rem] + out
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + out


def b58decode(text):
    number = 0
    for char in text:
        if char not in _INDEX:
            raise ValueError("invalid base58 character %r" % char)
        number = number * 58 + _INDEX[char]
    pad = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * pad + body


def node_signing_key(seed_hex):
    """The ed25519 key of a simulated node, from the 32-byte hex seed in the grid file."""
    return nacl.signing.SigningKey(bytes.fromhex(seed_hex))


def node_id_of(verify_key_bytes):
    """0-OS node id: base58 of the raw 32-byte ed25519 public key."""
    return b58encode(bytes(verify_key_bytes))
