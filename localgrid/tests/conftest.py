"""Shared fixtures for localgrid tests: a real localgrid over HTTP on a free port, and a 3Bot customer.

Servers use the fast profile and a temporary state file. ``quiet`` grids mark every node and gateway down,
so no agent runs and a test can play the node itself; ``live`` servers run the agents.
Engineers' test modules reuse ``start_localgrid``, ``customer`` and ``sign_reservation``.
"""

import json
import pathlib
import time

import httpx
import nacl.signing
import pytest
import yaml

from localgrid.config import PROFILES, Settings
from localgrid.grid import DEFAULT_GRID
from localgrid.server import start_server

HOUR = 3600
# The repository's one copy of the upstream vectors, shared with the collection's unit tests.
VECTORS_DIR = pathlib.Path(__file__).resolve().parents[2] / "tests" / "vectors"


def load_vector(name):
    """One vector file of tests/vectors/ (see its README for the upstream source)."""
    return json.loads((VECTORS_DIR / name).read_text(encoding="utf-8"))


def launch(directory, payment="stellar", quiet=False, state=None, **settings):
    """Start a localgrid with its files in ``directory``; the caller stops it. ``settings``: more Settings fields."""
    grid_path = ""
    if quiet:
        with open(DEFAULT_GRID, encoding="utf-8") as handle:
            grid = yaml.safe_load(handle)
        for box in grid["nodes"] + grid.get("gateways", []):
            box["down"] = True
        grid_path = str(directory / "quiet-grid.yml")
        with open(grid_path, "w", encoding="utf-8") as handle:
            yaml.safe_dump(grid, handle)
    settings = Settings(
        host="127.0.0.1",
        port=0,
        state_path=state or str(directory / "state.db"),
        grid_path=grid_path,
        profile=PROFILES["fast"],
        payment_mode=payment,
        **settings,
    )
    return start_server(settings)


@pytest.fixture
def start_localgrid(tmp_path):
    """Factory: start_localgrid(payment="stellar", quiet=False, state=None, runtime="simulated") -> running handle
    (stopped at teardown); its flist images are cached under the test's directory."""
    handles = []

    def start(payment="stellar", quiet=False, state=None, runtime="simulated"):
        lg = launch(tmp_path, payment, quiet, state, runtime=runtime, cache_path=str(tmp_path / "cache"))
        handles.append(lg)
        return lg

    yield start
    for lg in handles:
        lg.stop()


@pytest.fixture
def quiet(start_localgrid):
    """Stellar-mode localgrid without node agents."""
    return start_localgrid(quiet=True)


@pytest.fixture
def explorer(quiet):
    with httpx.Client(base_url=quiet.explorer_url, timeout=10) as client:
        yield client


class Customer:
    """A 3Bot user registered in the phonebook, able to sign reservations."""

    def __init__(self, client, name, key=None):
        self.key = key or nacl.signing.SigningKey.generate()
        self.pubkey = bytes(self.key.verify_key).hex()
        response = client.post("/users", json={"name": name, "email": name + "@example.com", "pubkey": self.pubkey})
        assert response.status_code == 201, response.text
        self.tid = response.json()["id"]
        self.name = name

    def sign(self, message):
        return self.key.sign(message.encode() if isinstance(message, str) else message).signature.hex()

    def reservation_body(self, data, json_text=None, **extra):
        """The POST /reservations body for data_reservation ``data`` (json = dumps(data) unless given)."""
        json_text = json.dumps(data) if json_text is None else json_text
        body = {
            "json": json_text,
            "data_reservation": data,
            "customer_tid": self.tid,
            "customer_signature": self.sign(json_text),
        }
        body.update(extra)
        return body

    def delete_signature(self, reservation_id, json_text):
        return {"tid": self.tid, "signature": self.sign("%d%s" % (reservation_id, json_text)), "epoch": 0}


_counter = [0]


@pytest.fixture
def customer(explorer):
    _counter[0] += 1
    return Customer(explorer, "customer%d.3bot" % _counter[0])


def reservation_data(now, containers=(), volumes=(), networks=(), currencies=("TFT",), hours=2, signer=None, **extra):
    """A data_reservation as the SDK builds it: every list present, delete quorum of the customer."""
    data = {
        "description": "",
        "currencies": list(currencies),
        "signing_request_provision": {"signers": None, "quorum_min": 0},
        "signing_request_delete": {"signers": [signer] if signer else [], "quorum_min": 1 if signer else 0},
        "containers": list(containers),
        "volumes": list(volumes),
        "zdbs": [],
        "networks": list(networks),
        "kubernetes": [],
        "proxies": [],
        "reverse_proxies": [],
        "subdomains": [],
        "domain_delegates": [],
        "gateway4to6": [],
        "expiration_provisioning": int(now) + 1800,
        "expiration_reservation": int(now) + hours * HOUR,
    }
    data.update(extra)
    return data


def container(workload_id, node_id, cpu=1, memory=1024, disk_size=1024, disk_type=1, network="net", ip="10.1.1.2"):
    return {
        "workload_id": workload_id,
        "node_id": node_id,
        "flist": "https://hub.grid.tf/tf-official-apps/base:latest.flist",
        "hub_url": "zdb://hub.grid.tf:9900",
        "environment": {},
        "secret_environment": {},
        "entrypoint": "/sbin/zinit init",
        "interactive": False,
        "volumes": [],
        "network_connection": [{"network_id": network, "ipaddress": ip, "public_ip6": False}],
        "stats_aggregator": [],
        "logs": [],
        "farmer_tid": 0,
        "capacity": {"cpu": cpu, "memory": memory, "disk_size": disk_size, "disk_type": disk_type},
    }


def volume(workload_id, node_id, size=10, volume_type=1):
    return {"workload_id": workload_id, "node_id": node_id, "size": size, "type": volume_type, "stats_aggregator": [], "farmer_tid": 0}


def network(workload_id, node_ids, name="net"):
    return {
        "name": name,
        "workload_id": workload_id,
        "iprange": "10.1.0.0/16",
        "stats_aggregator": [],
        "network_resources": [
            {
                "node_id": node_id,
                "wireguard_private_key_encrypted": "",
                "wireguard_public_key": "",
                "wireguard_listen_port": 6000 + index,
                "iprange": "10.1.%d.0/24" % (index + 1),
                "peers": [],
            }
            for index, node_id in enumerate(node_ids)
        ],
        "farmer_tid": 0,
    }


def grid_now(lg):
    """The grid clock of a running localgrid (tests advance it instead of sleeping)."""
    return lg.app_state.clock.now()


def wait_for(predicate, timeout=15.0, interval=0.05):
    """Poll ``predicate`` until it returns a truthy value (background loops run on the fast profile)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached within %.1fs" % timeout)
        time.sleep(interval)
