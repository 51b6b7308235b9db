"""Opening secrets sealed for this node (secret env, zdb password, WireGuard key, k8s secret).

Clients seal with an anonymous libsodium box for the node's ed25519 key converted to
curve25519, then hex-encode (docs/contract/node.md §1.2). Error texts follow the Go code the node
runs: encoding/hex for bad hex, "could not decrypt message" when the box does not open.
"""

import string

import nacl.exceptions
import nacl.public


class DecryptError(Exception):
    pass


def node_box(signing_key):
    """The sealed box a node opens secrets with, from its ed25519 signing key."""
    return nacl.public.SealedBox(signing_key.to_curve25519_private_key())


def _hex_decode(text):
    for char in text:
        if char not in string.hexdigits:
            raise DecryptError("encoding/hex: invalid byte: U+%04X %r" % (ord(char), char))
    if len(text) % 2:
        raise DecryptError("encoding/hex: odd length hex string")
    return bytes.fromhex(text)


def open_hex(box, text):
    """Plaintext bytes of a hex sealed box; an empty string stays an empty secret."""
    if text == "":
        return b""
    sealed = _hex_decode(text)
    try:
        return box.decrypt(sealed)
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        raise DecryptError("could not decrypt message") from None
