"""Settings of one localgrid process and its timing profiles."""

import dataclasses
import os


@dataclasses.dataclass(frozen=True)
class Profile:
    name: str
    node_poll_interval: float  # seconds between two polls of one node with work (0-OS: 10 s)
    # Seconds between two escrow scans while payments or registrations keep arriving (explorer: 60 s);
    # an idle escrow loop sleeps until one arrives or an escrow's deadline falls due.
    escrow_scan_interval: float
    node_expiry_interval: float  # seconds before a failed expiry scan of a node's cache is retried
    # A node that found nothing to do polls less and less often, down to once per this many seconds;
    # the explorer wakes it at once when it has new work or the grid clock moves (localgrid/wakeup.py).
    node_idle_poll_interval: float
    node_retry_interval: float  # the longest pause between two failed polls (or uptime reports) of a node
    node_uptime_interval: float  # seconds between two uptime reports (what "up" means: updated < 10 minutes ago)
    escrow_idle_interval: float  # the longest sleep of an escrow loop with nothing to do (a failed refund's retry)
    # Seconds between two ledger closes: a submitted transaction applies at the next one and Horizon answers then
    # (the public network closes one about every 5 s); 0: each applies at once.
    ledger_close_interval: float = 0.0


PROFILES = {
    "fast": Profile(
        "fast", node_poll_interval=0.2, escrow_scan_interval=0.3, node_expiry_interval=0.5,
        node_idle_poll_interval=60.0, node_retry_interval=2.0, node_uptime_interval=60.0, escrow_idle_interval=60.0,
    ),
    "realistic": Profile(
        "realistic", node_poll_interval=10.0, escrow_scan_interval=60.0, node_expiry_interval=20.0,
        node_idle_poll_interval=10.0, node_retry_interval=10.0, node_uptime_interval=300.0, escrow_idle_interval=60.0,
        ledger_close_interval=5.0,
    ),
}

PAYMENT_MODES = ("stellar", "free")
DEFAULT_PORT = 8080


@dataclasses.dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    state_path: str = "localgrid-state.db"
    grid_path: str = ""  # empty: the packaged grids/default.yml
    profile: Profile = PROFILES["fast"]
    payment_mode: str = "stellar"
    hub_path: str = ""  # empty: "<state_path>.hub/"
    access_log: bool = False
    faults: object = None  # a faults.FaultSpec, or None
    runtime: str = "simulated"  # "namespaces" really runs containers (`serve` picks it when the machine can)
    runtime_reason: str = ""
    cache_path: str = ""  # empty: $LOCALGRID_CACHE or ~/.cache/localgrid (unpacked flist images)

    @property
    def hub_dir(self):
        return self.hub_path or self.state_path + ".hub"

    @property
    def runtime_dir(self):
        return self.state_path + ".runtime"

    @property
    def cache_dir(self):
        return self.cache_path or os.environ.get("LOCALGRID_CACHE") or os.path.expanduser("~/.cache/localgrid")

    @property
    def images_dir(self):
        return os.path.join(self.cache_dir, "images")

    @property
    def base_url(self):
        return "http://%s:%d" % (self.host, self.port)

    @property
    def explorer_url(self):
        return self.base_url + "/explorer"

    @property
    def horizon_url(self):
        return self.base_url + "/stellar"

    @property
    def hub_url(self):
        return self.base_url + "/hub"
