"""Result reports of a node (docs/contract/explorer.md §4.4) and their node signature (explorer.md §5.5)."""

import json

STATE_ERROR = 0
STATE_OK = 1
STATE_DELETED = 2

# Workload type enum == result category enum.
ZDB = 0
CONTAINER = 1
VOLUME = 2
NETWORK = 3
KUBERNETES = 4
PROXY = 5
REVERSE_PROXY = 6
SUBDOMAIN = 7
DELEGATE = 8
GATEWAY4TO6 = 9

# What 0-OS sends as data_json when a primitive fails: the Go zero value of its result struct.
ZERO_DATA = {
    ZDB: {"Namespace": "", "IP": "", "Port": 0},
    CONTAINER: {"id": "", "ipv6": "", "ipv4": ""},
    VOLUME: {"volume_id": ""},
    NETWORK: None,
    KUBERNETES: {"id": "", "ip": ""},
    # tfgateway's DNS and proxy primitives return no result; 4to6 returns its (empty) peer config.
    PROXY: None,
    REVERSE_PROXY: None,
    SUBDOMAIN: None,
    DELEGATE: None,
    GATEWAY4TO6: {"ips": None, "peers": None},
}


def encode_data(data):
    """Compact JSON like Go's json.Marshal: these exact bytes are signed and sent."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def sign_result(signing_key, state, message, data_json_text):
    payload = bytes([state]) + message.encode() + data_json_text.encode()
    return signing_key.sign(payload).signature.hex()


def result_body(signing_key, category, gwid, state, message, data, epoch):
    """The PUT body as text, so the embedded data_json is byte-identical to the signed bytes."""
    data_text = encode_data(data)
    signature = sign_result(signing_key, state, message, data_text)
    head = {"category": category, "workload_id": gwid}
    tail = {"signature": signature, "state": state, "message": message, "epoch": int(epoch)}
    return "%s,\"data_json\":%s,%s" % (encode_data(head)[:-1], data_text, encode_data(tail)[1:])
