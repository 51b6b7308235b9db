"""Node-side signatures against the generated v0.3.0 vectors: HTTP signature and result signature."""

import base64
import json

import nacl.signing

from localgrid.keys import node_id_of, node_signing_key
from localgrid.node import httpsig, result
from localgrid.tests.conftest import load_vector

VECTORS = load_vector("signing_generated_v030.json")
NODE = VECTORS["keys"]["node"]


def test_node_key_matches_vector_node_id():
    key = node_signing_key(NODE["seed_hex"])
    assert bytes(key.verify_key).hex() == NODE["pubkey_hex"]
    assert node_id_of(key.verify_key) == NODE["node_id"]


def test_http_signature_headers_match_vector():
    vector = VECTORS["http_signature_node"]
    key = node_signing_key(NODE["seed_hex"])
    headers = httpsig.signature_headers(key, NODE["node_id"], 1589191200)
    assert headers == vector["headers"]
    assert httpsig.signing_string(1589191200, headers["Date"], NODE["node_id"]) == vector["signing_string"]


def test_http_signature_verifies_with_node_id_as_key():
    key = node_signing_key(NODE["seed_hex"])
    headers = httpsig.signature_headers(key, NODE["node_id"], 1700000000)
    signature = headers["Authorization"].split('signature="')[1].rstrip('"')
    message = httpsig.signing_string(1700000000, headers["Date"], NODE["node_id"]).encode()
    nacl.signing.VerifyKey(bytes.fromhex(NODE["pubkey_hex"])).verify(message, base64.b64decode(signature))
    assert headers["Date"] == "Tue, 14 Nov 2023 22:13:20 GMT"


def test_result_signature_matches_vector():
    vector = VECTORS["node_result_signature"]
    key = node_signing_key(NODE["seed_hex"])
    data = json.loads(vector["data_json"])
    assert result.encode_data(data) == vector["data_json"]
    assert result.sign_result(key, vector["state"], vector["message_str"], vector["data_json"]) == vector["signature_hex"]


def test_result_body_embeds_the_signed_bytes():
    vector = VECTORS["node_result_signature"]
    key = node_signing_key(NODE["seed_hex"])
    body = result.result_body(key, result.CONTAINER, "42-1", 1, "", json.loads(vector["data_json"]), 1589191200.7)
    assert '"data_json":' + vector["data_json"] + "," in body
    parsed = json.loads(body)
    assert parsed == {
        "category": 1, "workload_id": "42-1", "data_json": {"id": "42-1", "ipv6": "", "ipv4": "10.1.1.2"},
        "signature": vector["signature_hex"], "state": 1, "message": "", "epoch": 1589191200,
    }


def test_error_result_signature_covers_state_and_message():
    key = node_signing_key(NODE["seed_hex"])
    body = json.loads(result.result_body(key, result.NETWORK, "7-1", 0, "boom", None, 10))
    assert body["data_json"] is None
    key.verify_key.verify(b"\x00boomnull", bytes.fromhex(body["signature"]))
