# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Register a hand-made container reservation mounting a volume by id, bypassing the modules' own checks.

zos_container refuses a volume that is not the identity's own before signing anything; this shows what the
node says when such a reservation reaches it anyway. Prints {"reservation_id", "escrow_information"}.
"""

from __future__ import annotations

import argparse
import json
import re
import time

import httpx
import nacl.signing
from mnemonic import Mnemonic


def signing_key(seed_file):
    with open(seed_file) as handle:
        text = handle.read().strip()
    seed = bytes.fromhex(text) if re.fullmatch(r"[0-9a-fA-F]{64}", text) else bytes(Mnemonic("english").to_entropy(text))
    return nacl.signing.SigningKey(seed)


def main():
    parser = argparse.ArgumentParser()
    for option in ("--explorer", "--seed-file", "--node", "--network", "--ip", "--volume-id", "--flist"):
        parser.add_argument(option, required=True)
    parser.add_argument("--tid", type=int, required=True)
    args = parser.parse_args()

    now = int(time.time())
    container = {
        "workload_id": 1, "node_id": args.node, "flist": args.flist, "hub_url": "", "environment": {},
        "secret_environment": {}, "entrypoint": "/sbin/my_init", "interactive": False,
        "volumes": [{"volume_id": args.volume_id, "mountpoint": "/data"}],
        "network_connection": [{"network_id": args.network, "ipaddress": args.ip, "public_ip6": False}],
        "stats_aggregator": [], "farmer_tid": 0, "logs": [],
        "capacity": {"cpu": 1, "memory": 1024, "disk_size": 256, "disk_type": 1},
    }
    data = {
        "description": "",
        "signing_request_provision": {"signers": [], "quorum_min": 0},
        "signing_request_delete": {"signers": [args.tid], "quorum_min": 1},
        "containers": [container], "volumes": [], "zdbs": [], "networks": [], "kubernetes": [], "proxies": [],
        "reverse_proxies": [], "subdomains": [], "domain_delegates": [], "gateway4to6": [],
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
    print(json.dumps(answer.json()))


if __name__ == "__main__":
    main()
