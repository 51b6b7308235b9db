"""Sealed boxes: a client seals for the node's ed25519 key, only that node opens them."""

import nacl.public
import nacl.signing
import pytest

from localgrid.keys import b58decode, node_id_of, node_signing_key
from localgrid.node.secrets import DecryptError, node_box, open_hex

SEED = "6743306737a6732afeda0cd4e04bfa2e4e5a4cc79b9d4be9b13d93bc876c0f9a"


def seal_for(node_id, plaintext):
    verify_key = nacl.signing.VerifyKey(b58decode(node_id))
    return nacl.public.SealedBox(verify_key.to_curve25519_public_key()).encrypt(plaintext).hex()


def test_node_opens_what_was_sealed_for_its_node_id():
    key = node_signing_key(SEED)
    sealed = seal_for(node_id_of(key.verify_key), b"hunter2")
    assert len(sealed) == 2 * (48 + len(b"hunter2"))
    assert open_hex(node_box(key), sealed) == b"hunter2"
    assert open_hex(node_box(key), sealed.upper()) == b"hunter2"


def test_other_node_cannot_open_it():
    key = node_signing_key(SEED)
    sealed = seal_for(node_id_of(key.verify_key), b"hunter2")
    with pytest.raises(DecryptError, match="^could not decrypt message$"):
        open_hex(node_box(nacl.signing.SigningKey.generate()), sealed)


def test_bad_hex_and_empty():
    box = node_box(node_signing_key(SEED))
    with pytest.raises(DecryptError, match="^encoding/hex: odd length hex string$"):
        open_hex(box, "abc")
    with pytest.raises(DecryptError, match="^could not decrypt message$"):
        open_hex(box, "00" * 10)
    assert open_hex(box, "") == b""
