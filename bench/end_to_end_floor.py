"""The floor of one container end to end: what end_to_end.yml asks of the grid, from a bare script.

Registers a 3Bot, then a network, a volume and a container on one node, one after the other as the
playbook does; pays each escrow on Stellar (stellar mode) and polls the explorer every POLL seconds
until the node reports the workload. httpx, pynacl and stellar-sdk only, plus the collection's
module_utils for the signing and the workload layout (as harness.py). Run as its own process, like
ansible-playbook, so both pay for starting an interpreter and importing their libraries.

It makes the reads the collection must make too, so both do the same work: the name looked up before
registering (the user, the identity's live reservations in each pending state, the node), the wallet
checked before registering (fees, account), and before paying what the exactly-once rule reads
(docs/CONCURRENCY.md: the escrow account, the wallet's account and recent payments, the reservation).

Usage: python bench/end_to_end_floor.py EXPLORER_URL HORIZON_URL NODE_ID NAME
       (stellar mode when BENCH_STELLAR_SECRET holds the paying wallet's secret). The caller times it.
"""

import base64
import os
import sys
import time

import httpx
from stellar_sdk import Asset, Keypair, Server, TransactionBuilder

from harness import Customer, Identity, _workloads
from ansible_collections.threefold.grid.plugins.module_utils._crypto import encrypt_for_node, wireguard_public_key

POLL = 0.05
WAIT_TIMEOUT = 300
FLIST = "https://hub.grid.tf/zaibon/zaibon-ubuntu-ssh-0.0.2.flist"
FIRST_WG_PORT = 7000


class FloorCustomer(Customer):
    """The script's 3Bot, registered with a bare POST /users."""

    def __init__(self, http, name):  # pylint: disable=super-init-not-called
        self.identity = Identity.generate()
        self.name = name
        http.get("/users", params={"name": name}).raise_for_status()
        response = http.post("/users", json={"name": name, "email": name + "@bench.example",
                                             "pubkey": self.identity.public_key_hex, "host": "", "description": ""})
        response.raise_for_status()
        self.tid = int(response.json()["id"])


class Stellar:
    def __init__(self, horizon_url, secret):
        self.server = Server(horizon_url)
        self.keypair = Keypair.from_secret(secret)
        self.passphrase = httpx.get(horizon_url + "/", timeout=30).json()["network_passphrase"]

    def check_wallet(self):
        """What the collection checks before registering: the fees and the wallet's balance."""
        self.server.ledgers().order(desc=True).limit(1).call()
        self.server.accounts().account_id(self.keypair.public_key).call()

    def pay(self, http, reservation_id, escrow):
        stroops = sum(int(item["total_amount"]) for item in escrow["details"])
        code, issuer = escrow["asset"].split(":")
        # The exactly-once reads: the escrow account, the fees, the wallet's recent payments, the reservation.
        self.server.accounts().account_id(escrow["address"]).call()
        self.server.ledgers().order(desc=True).limit(1).call()
        self.server.payments().for_account(self.keypair.public_key).join("transactions").order(desc=True).limit(200).call()
        http.get("/reservations/%d" % reservation_id).raise_for_status()
        envelope = (TransactionBuilder(self.server.load_account(self.keypair.public_key), self.passphrase, base_fee=100)
                    .add_text_memo(str(reservation_id))
                    .append_payment_op(escrow["address"], Asset(code, issuer), "%d.%07d" % divmod(stroops, 10 ** 7))
                    .set_timeout(300)
                    .build())
        envelope.sign(self.keypair)
        self.server.submit_transaction(envelope, skip_memo_required_check=True)


def look_up(http, customer, name, node):
    """The reads that find whether `name` is already deployed, before registering it."""
    http.get("/users", params={"name": name}).raise_for_status()
    for state in (1, 2, 3):
        http.get("/reservations", params={"customer_tid": customer.tid, "next_action": state, "page": 1,
                                          "size": 1000}).raise_for_status()
    http.get("/nodes/%s" % node).raise_for_status()


def deploy(http, customer, stellar, workloads, name, kind):
    """Look up, register, pay and wait for one reservation; returns its id."""
    look_up(http, customer, customer.name, _workloads.workload_nodes(workloads)[0])
    if stellar is not None and kind != "network":
        stellar.check_wallet()
    body = customer.signed_body(workloads, name, kind, int(time.time()), lifetime=24 * 3600)
    response = http.post("/reservations", json=body)
    response.raise_for_status()
    created = response.json()
    rid = int(created["reservation_id"])
    if stellar is not None and (created.get("escrow_information") or {}).get("details"):
        stellar.pay(http, rid, created["escrow_information"])
    expected = _workloads.node_workload_count(body["data_reservation"])
    deadline = time.monotonic() + WAIT_TIMEOUT
    while time.monotonic() < deadline:
        results = http.get("/reservations/%d" % rid).json()["results"] or []
        states = [result["state"] for result in results]
        if _workloads.RESULT_STATES["error"] in states:
            raise RuntimeError("reservation %d failed: %s" % (rid, results))
        if states.count(_workloads.RESULT_STATES["ok"]) >= expected:
            return rid
        time.sleep(POLL)
    raise RuntimeError("reservation %d not deployed within %d s" % (rid, WAIT_TIMEOUT))


def main(argv):
    explorer_url, horizon_url, node, name = argv
    secret = os.environ.get("BENCH_STELLAR_SECRET")
    stellar = Stellar(horizon_url, secret) if secret else None
    with httpx.Client(base_url=explorer_url, timeout=30) as http:
        customer = FloorCustomer(http, name)
        private_key = base64.b64encode(os.urandom(32)).decode()
        public_key = wireguard_public_key(private_key)
        used_ports = set(http.get("/nodes/%s" % node).json().get("wg_ports") or [])
        port = next(port for port in range(FIRST_WG_PORT, 65536) if port not in used_ports)
        network = {
            "name": "net", "workload_id": 1, "iprange": "10.81.0.0/16", "stats_aggregator": [], "farmer_tid": 0,
            "network_resources": [{
                "node_id": node, "wireguard_private_key_encrypted": encrypt_for_node(node, private_key),
                "wireguard_public_key": public_key, "wireguard_listen_port": port, "iprange": "10.81.1.0/24",
                "peers": [],
            }],
        }
        deploy(http, customer, stellar, {"networks": [network]}, "net", "network")
        volume = deploy(http, customer, stellar, {"volumes": [_workloads.volume_workload(1, node, 1)]}, "data", "volume")
        container = _workloads.container_workload(
            1, node, FLIST, "net", "10.81.1.10", entrypoint="/sbin/my_init",
            volumes=[(_workloads.global_workload_id(volume, 1), "/data")], cpu=1, memory=256, disk_size=256)
        deploy(http, customer, stellar, {"containers": [container]}, "web", "container")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
