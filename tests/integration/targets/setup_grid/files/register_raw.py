# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Register a hand-made reservation that the modules would refuse to build, to see what the node says.

    register_raw.py network --port P [--foreign-key] ...   a network resource on one node; --port is its listen
        port (e.g. one another network already uses there), --foreign-key seals the WireGuard private key for a
        key that is not the node's, so the node cannot open it
    register_raw.py container --volume-id ID ...           a container mounting a volume by id, bypassing
        zos_container's check that the volume is the identity's own

Talks to the explorer directly (httpx), signs with the identity seed file, prints the explorer's answer
{"reservation_id", "escrow_information"}.
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
WORKLOAD_LISTS = ("containers", "volumes", "zdbs", "networks", "kubernetes", "proxies", "reverse_proxies",
                  "subdomains", "domain_delegates", "gateway4to6")


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


def network(args):
    sealed, public = sealed_private_key(args.node, args.foreign_key)
    return {"networks": [{
        "name": args.name, "workload_id": 1, "iprange": args.ip_range, "stats_aggregator": [], "farmer_tid": 0,
        "network_resources": [{
            "node_id": args.node, "wireguard_private_key_encrypted": sealed, "wireguard_public_key": public,
            "wireguard_listen_port": args.port, "iprange": args.subnet, "peers": [],
        }],
    }]}


def container(args):
    return {"containers": [{
        "workload_id": 1, "node_id": args.node, "flist": args.flist, "hub_url": "", "environment": {},
        "secret_environment": {}, "entrypoint": "/sbin/my_init", "interactive": False,
        "volumes": [{"volume_id": args.volume_id, "mountpoint": "/data"}],
        "network_connection": [{"network_id": args.network, "ipaddress": args.ip, "public_ip6": False}],
        "stats_aggregator": [], "farmer_tid": 0, "logs": [],
        "capacity": {"cpu": 1, "memory": 1024, "disk_size": 256, "disk_type": 1},
    }]}


def arguments():
    parser = argparse.ArgumentParser()
    parser.add_argument("--explorer", required=True)
    parser.add_argument("--seed-file", required=True)
    parser.add_argument("--tid", type=int, required=True)
    parser.add_argument("--node", required=True)
    kinds = parser.add_subparsers(dest="kind", required=True)
    net = kinds.add_parser("network")
    for option in ("--name", "--ip-range", "--subnet"):
        net.add_argument(option, required=True)
    net.add_argument("--port", type=int, required=True)
    net.add_argument("--foreign-key", action="store_true")
    cont = kinds.add_parser("container")
    for option in ("--network", "--ip", "--volume-id", "--flist"):
        cont.add_argument(option, required=True)
    return parser.parse_args()


def main():
    args = arguments()
    now = int(time.time())
    data = {"description": "", "signing_request_provision": {"signers": [], "quorum_min": 0},
            "signing_request_delete": {"signers": [args.tid], "quorum_min": 1}}
    data.update((key, []) for key in WORKLOAD_LISTS)
    data.update(network(args) if args.kind == "network" else container(args))
    data.update(expiration_provisioning=now + 900, expiration_reservation=now + 7200, currencies=["TFT"])
    text = json.dumps(data)
    body = {
        "json": text, "data_reservation": data, "customer_tid": args.tid,
        "customer_signature": signing_key(args.seed_file).sign(text.encode()).signature.hex(),
        "next_action": 0, "metadata": "",
    }
    answer = httpx.post(args.explorer.rstrip("/") + "/reservations", json=body, timeout=30)
    answer.raise_for_status()
    print(json.dumps(answer.json()))


if __name__ == "__main__":
    main()
