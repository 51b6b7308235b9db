"""The user's side of a WireGuard tunnel, for tests: its socket on the host (so it reaches a node's
loopback endpoint) and its interface moved into a namespace of the test, so the routes to 10.x it
needs never touch the host's routing table; and a stale one left on the host. Removed by their
recorded names and pids."""

import os
import secrets
import subprocess
import time

from localgrid.runtime import netns, wireguard
from localgrid.runtime.probe import tool_paths


def _start(tools, ifname):
    process = subprocess.Popen(  # pylint: disable=consider-using-with
        [tools["wireguard-go"], "-f", ifname], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LOG_LEVEL": "error"})
    deadline = time.monotonic() + 30
    while not os.path.exists(wireguard.socket_path(ifname)):
        assert process.poll() is None and time.monotonic() < deadline, "wireguard-go did not start"
        time.sleep(0.02)
    return process


def _stop(process, ifname):
    if process is not None:
        process.kill()
        process.wait()
    try:
        os.unlink(wireguard.socket_path(ifname))
    except FileNotFoundError:
        pass


class WireguardClient:
    def __init__(self):
        self.tools = tool_paths()
        self.netns = "lgt" + secrets.token_hex(5)
        self.ifname = self.netns + "w"
        self.process = None
        netns.add(self.tools["ip"], self.netns)
        self.process = _start(self.tools, self.ifname)
        netns.run([self.tools["ip"], "link", "set", self.ifname, "netns", self.netns])

    def connect(self, private_key, address, peer_public_key, endpoint, routes):
        netns.run([self.tools["wg"], "set", self.ifname, "private-key", "/dev/stdin", "peer", peer_public_key,
                   "endpoint", endpoint, "allowed-ips", ",".join(routes), "persistent-keepalive", "1"],
                  stdin=private_key.encode())
        inside = [self.tools["ip"], "-n", self.netns]
        netns.run(inside + ["addr", "add", address, "dev", self.ifname])
        netns.run(inside + ["link", "set", self.ifname, "up"])
        for route in routes:
            netns.run(inside + ["route", "add", route, "dev", self.ifname])

    def ping(self, address):
        done = subprocess.run([self.tools["nsenter"], "--net=" + netns.path(self.netns), "busybox", "ping", "-c", "1",
                               "-W", "1", address], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
        return done.returncode == 0

    def close(self):
        _stop(self.process, self.ifname)
        netns.delete(self.tools["ip"], self.netns)


class StaleHostTunnel:
    """What a user's tunnel to a crashed localgrid looks like to its next run: a WireGuard interface in the
    host's namespace with a peer at a node's endpoint. Left down, without address or route: no packet moves."""

    def __init__(self, endpoint, peer_public_key, private_key):
        self.tools = tool_paths()
        self.ifname = "lgt" + secrets.token_hex(5) + "h"
        self.process = _start(self.tools, self.ifname)
        try:
            netns.run([self.tools["wg"], "set", self.ifname, "private-key", "/dev/stdin", "peer", peer_public_key,
                       "endpoint", endpoint, "allowed-ips", "10.240.1.0/24"], stdin=private_key.encode())
        except netns.CommandError:
            self.close()
            raise

    def close(self):
        _stop(self.process, self.ifname)
