# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Register a hand-made network reservation that zos_network would never build, to see node errors surface.

--port P       listen port for the network resource (e.g. one another network already uses on the node)
--foreign-key  seal the WireGuard private key for a key that is not the node's, so the node cannot open it
Prints {"reservation_id": N}. Talks to the explorer directly (httpx), signs with the identity seed file.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import time

import httpx
import nacl.public
import nacl.signing
from mnemonic import Mnemonic

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58decode(text):
    number = 0
    for char in text:
        number = number * 58 + B58.index(char)
    return number.to_bytes(32, "big")


def signing_key(seed_file):
    with open(seed_file) as handle:
        text = handle.read().strip()
    seed = bytes.fromhex(text) if re.fullmatch(r"[0-9a-fA-F]{64}", text) else bytes(Mnemonic("english").to_entropy(text))
    return nacl.signing.SigningKey(seed)


def sealed_private_key(node_id, foreign):
    private = nacl.public.PrivateKey.generate()
    text = base64.b64encode(bytes(private)).decode()
    if foreign:
        recipient = nacl.signing.SigningKey.generate().verify_key.to_curve25519_public_key()
    else:
        recipient = nacl.signing.VerifyKey(b58decode(node_id)).to_curve25519_public_key()
    sealed = nacl.public.SealedBox(recipient).encrypt(text.encode()).hex()
    return sealed, base64.b64encode(bytes(private.public_key)).decode()


def main():
    parser = argparse.ArgumentParser()
    for option in ("--explorer", "--seed-file", "--node", "--name", "--ip-range", "--subnet"):
        parser.add_argument(option, required=True)
    parser.add_argument("--tid", type=int, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--foreign-key", action="store_true")
    args = parser.parse_args()

    sealed, public = sealed_private_key(args.node, args.foreign_key)
    now = int(time.time())
    data = {
        "description": "",
        "signing_request_provision": {"signers": [], "quorum_min": 0},
        "signing_request_delete": {"signers": [args.tid], "quorum_min": 1},
        "containers": [], "volumes": [], "zdbs": [], "kubernetes": [], "proxies": [], "reverse_proxies": [],
        "subdomains": [], "domain_delegates": [], "gateway4to6": [],
        "networks": [{
            "name": args.name, "workload_id": 1, "iprange": args.ip_range, "stats_aggregator": [], "farmer_tid": 0,
            "network_resources": [{
                "node_id": args.node, "wireguard_private_key_encrypted": sealed, "wireguard_public_key": public,
                "wireguard_listen_port": args.port, "iprange": args.subnet, "peers": [],
            }],
        }],
        "expiration_provisioning": now + 900,
        "expiration_reservation": now + 7200,
        "currencies": ["TFT"],
    }
    text = json.dumps(data)
    body = {
        "json": text, "data_reservation": data, "customer_tid": args.tid,
        "customer_signature": signing_key(args.seed_file).sign(text.encode()).signature.hex(),
        "next_action": 0, "metadata": "",
    }
    answer = httpx.post(args.explorer.rstrip("/") + "/reservations", json=body, timeout=30)
    answer.raise_for_status()
    print(json.dumps({"reservation_id": answer.json()["reservation_id"]}))


if __name__ == "__main__":
    main()
