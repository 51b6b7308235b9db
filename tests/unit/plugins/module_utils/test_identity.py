# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import nacl.signing
import pytest

from ansible_collections.threefold.grid.plugins.module_utils._identity import (
    MNEMONIC_ERROR,
    SEED_HEX_ERROR,
    Identity,
    IdentityError,
)

VECTORS_FILE = Path(__file__).resolve().parents[3] / "vectors" / "signing_generated_v030.json"
VECTORS = json.loads(VECTORS_FILE.read_text())
USER = VECTORS["keys"]["user"]
NODE = VECTORS["keys"]["node"]

# BIP39 reference vector (trezor/python-mnemonic vectors.json): 32 zero bytes of entropy.
ZERO_ENTROPY_WORDS = " ".join(["abandon"] * 23 + ["art"])


@pytest.fixture
def user():
    return Identity.from_seed_hex(USER["seed_hex"])


@pytest.fixture
def node():
    return Identity.from_seed_hex(NODE["seed_hex"])


# ---- every vector of signing_generated_v030.json ---------------------------------------------

def test_every_vector_group_is_covered():
    covered = {"source", "keys", "customer_signature", "sign_provision_or_delete", "user_update",
               "http_signature_node", "http_signature_user", "node_result_signature"}
    unused = {"user_validate"}  # the collection never asks the explorer to validate a signed payload
    assert set(VECTORS) == covered | unused


def test_vector_keys(user, node):
    assert user.public_key_hex == USER["pubkey_hex"]
    assert node.public_key_hex == NODE["pubkey_hex"]


def test_vector_customer_signature(user):
    case = VECTORS["customer_signature"]
    assert user.sign_reservation(case["json"]) == case["customer_signature_hex"]
    assert case["post_body"]["customer_signature"] == case["customer_signature_hex"]
    assert json.loads(case["post_body"]["json"]) == case["post_body"]["data_reservation"]


def test_vector_sign_provision_or_delete(user):
    case = VECTORS["sign_provision_or_delete"]
    json_text = VECTORS["customer_signature"]["json"]
    assert case["message_utf8"] == "%d%s" % (case["reservation_id"], json_text)
    signature = user.sign_reservation_action(case["reservation_id"], json_text)
    assert signature == case["signature_hex"] == case["post_body"]["signature"]


def test_vector_user_update(user):
    case = VECTORS["user_update"]
    body = case["body"]
    signature = user.sign_user_update(12, name=body["name"], email=body["email"], host=body["host"],
                                      description=body["description"], pubkey=body["pubkey"])
    assert signature == case["signature_hex"] == body["sender_signature_hex"]


@pytest.mark.parametrize("group, key_id", [("http_signature_user", "12"),
                                           ("http_signature_node", NODE["node_id"])])
def test_vector_http_signatures(group, key_id):
    case = VECTORS[group]
    seed = USER["seed_hex"] if group == "http_signature_user" else NODE["seed_hex"]
    identity = Identity.from_seed_hex(seed)
    created = int(case["signing_string"].split("\n")[0].split(": ")[1])
    assert identity.http_signature_headers(key_id, now=created) == case["headers"]


def test_http_signature_key_id_may_be_int(user):
    case = VECTORS["http_signature_user"]
    assert user.http_signature_headers(12, now=1589191200) == case["headers"]


def test_vector_node_result_signature(node):
    case = VECTORS["node_result_signature"]
    message = bytes([case["state"]]) + case["message_str"].encode() + case["data_json"].encode()
    assert node.sign(message) == case["signature_hex"]


# ---- seeds, mnemonics, files ------------------------------------------------------------------

def test_seed_hex_accepts_uppercase_and_whitespace():
    identity = Identity.from_seed_hex("  %s\n" % USER["seed_hex"].upper())
    assert identity.public_key_hex == USER["pubkey_hex"]
    assert identity.seed_hex == USER["seed_hex"]


@pytest.mark.parametrize("bad", ["", "abc", USER["seed_hex"][:-2], USER["seed_hex"] + "00",
                                 "zz" + USER["seed_hex"][2:], None])
def test_bad_seed_hex_fails_without_echoing_it(bad):
    with pytest.raises(IdentityError) as caught:
        Identity.from_seed_hex(bad)
    assert str(caught.value) == SEED_HEX_ERROR
    assert str(caught.value) == "identity_seed must be 64 hexadecimal characters (a 32-byte ed25519 seed)"


def test_mnemonic_is_the_bip39_entropy_of_the_seed():
    identity = Identity.from_seed_hex("00" * 32)
    assert identity.mnemonic == ZERO_ENTROPY_WORDS
    assert Identity.from_mnemonic(ZERO_ENTROPY_WORDS).seed_hex == "00" * 32


def test_mnemonic_round_trip_with_messy_spacing_and_case(user):
    words = user.mnemonic
    assert len(words.split()) == 24
    messy = "  " + "\n".join(words.upper().split(" ")) + "\t"
    assert Identity.from_mnemonic(messy).public_key_hex == USER["pubkey_hex"]


@pytest.mark.parametrize("bad", [
    " ".join(["abandon"] * 24),                         # bad checksum
    " ".join(["abandon"] * 11 + ["about"]),             # 12 words: a 16-byte seed
    " ".join(["abandon"] * 23 + ["notaword"]),          # not in the word list
    "",
])
def test_bad_mnemonic_fails_without_echoing_it(bad):
    with pytest.raises(IdentityError) as caught:
        Identity.from_mnemonic(bad)
    assert str(caught.value) == MNEMONIC_ERROR
    assert "abandon" not in str(caught.value)


@pytest.mark.parametrize("form", ["hex", "mnemonic"])
def test_seed_file_holds_either_form(tmp_path, user, form):
    path = tmp_path / "seed"
    text = user.seed_hex if form == "hex" else user.mnemonic
    path.write_text("\n  %s  \n\n" % text)
    assert Identity.from_file(str(path)).public_key_hex == USER["pubkey_hex"]


def test_seed_file_with_garbage_fails_naming_the_path_only(tmp_path):
    path = tmp_path / "seed"
    path.write_text("not-a-seed " * 24)
    with pytest.raises(IdentityError) as caught:
        Identity.from_file(str(path))
    message = str(caught.value)
    assert str(path) in message and "not-a-seed" not in message


def test_missing_seed_file_fails_clearly(tmp_path):
    with pytest.raises(IdentityError) as caught:
        Identity.from_file(str(tmp_path / "absent"))
    assert "cannot read identity_seed_file %s" % (tmp_path / "absent") in str(caught.value)


@pytest.mark.parametrize("form", ["hex", "mnemonic"])
def test_write_seed_file_is_private_and_round_trips(tmp_path, form):
    identity = Identity.generate()
    path = tmp_path / "new.seed"
    identity.write_seed_file(str(path), form)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    content = path.read_text().strip()
    assert content == (identity.seed_hex if form == "hex" else identity.mnemonic)
    assert Identity.from_file(str(path)).public_key_hex == identity.public_key_hex


def test_write_seed_file_never_overwrites(tmp_path):
    path = tmp_path / "existing.seed"
    path.write_text("keep me")
    with pytest.raises(OSError):
        Identity.generate().write_seed_file(str(path))
    assert path.read_text() == "keep me"


def test_generate_makes_distinct_keys():
    assert Identity.generate().public_key_hex != Identity.generate().public_key_hex


def test_repr_shows_only_the_public_key(user):
    text = repr(user)
    assert USER["pubkey_hex"] in text and USER["seed_hex"] not in text


def test_signatures_verify_with_the_public_key(user):
    signature = user.sign(b"any bytes")
    nacl.signing.VerifyKey(bytes.fromhex(user.public_key_hex)).verify(b"any bytes", bytes.fromhex(signature))
