# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import base64
import json
from pathlib import Path

import nacl.exceptions
import nacl.public
import nacl.signing
import pytest

from ansible_collections.threefold.grid.plugins.module_utils._crypto import (
    b58decode,
    b58encode,
    encrypt_for_node,
    node_public_key,
    wireguard_public_key,
)

VECTORS = json.loads((Path(__file__).resolve().parents[3] / "vectors" / "signing_generated_v030.json").read_text())
NODE = VECTORS["keys"]["node"]

# RFC 7748 section 6.1: Alice's X25519 private and public key.
RFC7748_PRIVATE = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
RFC7748_PUBLIC = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"


def open_as_node(ciphertext_hex, node_seed_hex=NODE["seed_hex"]):
    """What 0-OS does: convert its ed25519 key to Curve25519 and open the sealed box."""
    private = nacl.signing.SigningKey(bytes.fromhex(node_seed_hex)).to_curve25519_private_key()
    return nacl.public.SealedBox(private).decrypt(bytes.fromhex(ciphertext_hex))


def test_b58_matches_the_node_id_vector():
    assert b58encode(bytes.fromhex(NODE["pubkey_hex"])) == NODE["node_id"]
    assert b58decode(NODE["node_id"]).hex() == NODE["pubkey_hex"]


@pytest.mark.parametrize("data", [b"", b"\0", b"\0\0\x01", b"\xff" * 32, bytes(range(40))])
def test_b58_round_trips_with_leading_zeros(data):
    assert b58decode(b58encode(data)) == data


def test_b58_rejects_characters_outside_the_alphabet():
    with pytest.raises(ValueError):
        b58decode("0OIl")


def test_node_public_key():
    assert node_public_key(NODE["node_id"]).hex() == NODE["pubkey_hex"]
    with pytest.raises(ValueError, match="not a base58-encoded 32-byte ed25519 public key"):
        node_public_key("abc")
    with pytest.raises(ValueError):
        node_public_key("0" * 44)


@pytest.mark.parametrize("recipient", [NODE["node_id"], NODE["pubkey_hex"], NODE["pubkey_hex"].upper()])
def test_node_key_decrypts_what_was_sealed_for_it(recipient):
    sealed = encrypt_for_node(recipient, "s3cr3t value")
    assert sealed == sealed.lower()
    assert len(bytes.fromhex(sealed)) == 48 + len("s3cr3t value")
    assert open_as_node(sealed) == b"s3cr3t value"


def test_sealed_boxes_are_randomised_and_accept_bytes():
    first = encrypt_for_node(NODE["node_id"], b"\x00\x01")
    assert first != encrypt_for_node(NODE["node_id"], b"\x00\x01")
    assert open_as_node(first) == b"\x00\x01"


def test_another_key_cannot_decrypt():
    sealed = encrypt_for_node(NODE["node_id"], "secret")
    with pytest.raises(nacl.exceptions.CryptoError):
        open_as_node(sealed, node_seed_hex=VECTORS["keys"]["user"]["seed_hex"])


def test_wireguard_public_key_matches_rfc7748():
    private_b64 = base64.b64encode(bytes.fromhex(RFC7748_PRIVATE)).decode()
    assert base64.b64decode(wireguard_public_key(private_b64)).hex() == RFC7748_PUBLIC


@pytest.mark.parametrize("bad", ["", "not base64!", base64.b64encode(b"short").decode()])
def test_wireguard_public_key_rejects_bad_private_keys(bad):
    with pytest.raises(ValueError, match="base64 of 32 bytes"):
        wireguard_public_key(bad)
