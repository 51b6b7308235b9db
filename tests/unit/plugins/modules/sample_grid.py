# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A small grid for the resource modules' tests: one identity, five nodes with their keys and three gateways."""

from __future__ import annotations

import time

import nacl.signing

from ansible_collections.threefold.grid.plugins.module_utils._crypto import b58encode
from ansible_collections.threefold.grid.plugins.module_utils._identity import Identity
from ansible_collections.threefold.grid.tests.unit.plugins.grid_fake import FakeExplorer, run_module

SEED = "5e" * 32
IDENTITY = Identity.from_seed_hex(SEED)
USER = {"id": 7, "name": "alice.3bot", "email": "alice@example.com", "pubkey": IDENTITY.public_key_hex,
        "host": "", "description": "", "signature": ""}
CREDENTIALS = {"identity_name": "alice.3bot", "identity_seed": SEED}


def make_node(label, public=False, free=False, age=30):
    signing_key = nacl.signing.SigningKey(bytes([label]) * 32)
    node = {
        "id": label, "node_id": b58encode(bytes(signing_key.verify_key)), "farm_id": 2, "updated": int(time.time()) - age,
        "public_key_hex": bytes(signing_key.verify_key).hex(), "wg_ports": [], "free_to_use": free,
        "ifaces": [{"name": "zos", "addrs": ["10.20.1.%d/24" % label], "gateway": ["10.20.1.1"]}],
        "public_config": None,
    }
    if public:
        node["public_config"] = {"master": "eth1", "type": 0, "ipv4": "198.51.100.%d/24" % label,
                                 "ipv6": "2001:db8:5e:1::%d/64" % label, "gw4": "198.51.100.1", "gw6": "2001:db8:5e:1::1"}
    return node, signing_key


PUBLIC_1, KEY_1 = make_node(21, public=True)
PUBLIC_2, KEY_2 = make_node(22, public=True)
HIDDEN_3, KEY_3 = make_node(23)
FREE_4 = make_node(24, public=True, free=True)[0]
DOWN_5 = make_node(25, public=True, age=3600)[0]
NODES = [PUBLIC_1, PUBLIC_2, HIDDEN_3, FREE_4, DOWN_5]
NODE_KEYS = {PUBLIC_1["node_id"]: KEY_1, PUBLIC_2["node_id"]: KEY_2, HIDDEN_3["node_id"]: KEY_3}


def make_gateway(label, domain, free=False, age=30):
    """A gateway record as /gateways lists it (docs/contract/explorer.md §3.4), and its signing key."""
    signing_key = nacl.signing.SigningKey(bytes([label]) * 32)
    gateway = {
        "id": label, "node_id": b58encode(bytes(signing_key.verify_key)), "farm_id": 2, "os_version": "v0.3.2",
        "created": 1, "updated": int(time.time()) - age, "uptime": 600, "address": "",
        "location": {"country": "Belgium", "city": "Ghent", "continent": "Europe", "latitude": 0, "longitude": 0},
        "public_key_hex": bytes(signing_key.verify_key).hex(), "workloads": {}, "managed_domains": [domain],
        "tcp_router_port": 18000, "dns_nameserver": ["ns1." + domain], "free_to_use": free,
    }
    return gateway, signing_key


FREE_GW, FREE_GW_KEY = make_gateway(31, "ghent.grid.example", free=True)
PAID_GW = make_gateway(32, "cairo.grid.test")[0]
DOWN_GW = make_gateway(33, "down.grid.test", age=3600)[0]
GATEWAYS = [FREE_GW, PAID_GW, DOWN_GW]


def sample_explorer():
    """A FakeExplorer holding the identity's phonebook entry, the five nodes and the three gateways."""
    return FakeExplorer(users=[dict(USER)], nodes=[dict(n) for n in NODES], gateways=[dict(g) for g in GATEWAYS])


def sample_runner(monkeypatch, capsys, main, explorer, **defaults):
    """``runner(args, check_mode=False, diff=False)``: run ``main`` as alice.3bot on ``explorer``."""
    def runner(args, check_mode=False, diff=False):
        merged = dict(CREDENTIALS)
        merged.update(defaults)
        merged.update(args)
        return run_module(monkeypatch, capsys, main, merged, explorer, check_mode, diff)
    return runner
