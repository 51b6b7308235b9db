"""The runtime interface the node provisioners call, and what a container start needs.

The simulated runtime is this interface as it is: every call succeeds and nothing runs.
"""

import dataclasses


class StartError(Exception):
    """A container could not be started; ``message`` is what the node reports."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclasses.dataclass
class ContainerSpec:
    node_id: str
    gwid: str
    flist_url: str
    argv: list
    env: dict = dataclasses.field(repr=False)  # holds decrypted secret values: memory only
    volumes: list  # [(volume_id, mountpoint)]
    cpu: int
    memory_mib: int
    interactive: bool = False
    image: str = ""  # content hash of the rootfs a previous start used: a restart needs no hub
    recipe: str = ""  # name of the image recipe that stands in for a catalogue flist (recipes.py)
    logs: list = ()  # the workload's `logs` entries (redis channels for stdout/stderr)
    network: tuple = ()  # (node-side network id, ipv4, ipv6) of its network_connection


class Runtime:
    name = "simulated"

    def __init__(self, reason=""):
        self.reason = reason

    def describe(self):
        return {"name": self.name, "reason": self.reason}

    def recover(self):
        """Clean up what a previous run of this state left behind (after a crash)."""

    def create_volume(self, node_id, volume_id):
        pass

    def remove_volume(self, node_id, volume_id):
        pass

    def start_container(self, spec, http):
        """Start ``spec``; raises StartError. Returns the image hash when a process really runs, else ""."""
        return ""

    def remove_container(self, node_id, gwid):
        pass

    def network_up(self, node_id, config):
        """Create or update a network resource (networks.NetworkConfig); raises StartError."""

    def network_down(self, node_id, net_id):
        pass

    def not_running(self, node_id, gwid):
        """Why a container this runtime deployed does not run (it has no image here), or None."""
        return None

    def output(self, node_id, gwid):
        """What the container printed so far, or None when it does not run here."""
        return None

    def shutdown(self):
        """Stop everything this process runs, keeping what a restart brings back."""
