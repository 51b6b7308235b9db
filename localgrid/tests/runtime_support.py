"""Helpers of the namespaces runtime tests: the requirement check, a busybox rootfs, deployments.

The tests need root, unshare and busybox-static; on a machine without them they fail with what is
missing, unless LOCALGRID_RUNTIME_UNAVAILABLE=1 says the runtime cannot work here (then they skip).
"""

import ipaddress
import os
import shutil
import socket
import stat
import time
import types

import httpx
import pytest

from localgrid.config import Settings
from localgrid.grid import load_grid
from localgrid.runtime import flists
from localgrid.runtime.probe import missing_requirement
from localgrid.tests.conftest import Customer, grid_now, reservation_data, wait_for
from localgrid.tests.test_node_e2e import e2e_container, free_node, sealed_network

BUSYBOX_APPLETS = ("sh", "sleep", "cat", "echo", "env", "ls", "hostname", "sha256sum", "date", "mkdir", "wc")
APP = """#!/bin/sh
# The test entrypoint: says who it is, proves it got its env, writes to its volume, then idles.
trap 'echo "got SIGTERM"; exit 0' TERM
echo "start pid=$$ host=$(hostname) greeting=$GREETING"
echo "token sha256=$(printf %s "$TOKEN" | sha256sum | cut -c1-64)"
echo "interfaces=$(ls /sys/class/net | tr '\\n' ' ')"
echo "hello on stderr" >&2
mkdir -p /data && echo "written by $GREETING" >> /data/hello
if [ -n "$EXIT_AFTER" ]; then sleep "$EXIT_AFTER"; exit 7; fi
while true; do sleep 1; done
"""


def free_udp_port(node):
    endpoint = ipaddress.ip_interface(node["public_config"]["ipv4"]).ip
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((str(endpoint), 0))
        return probe.getsockname()[1]


def require_namespaces():
    missing = missing_requirement()
    if missing is None and not shutil.which("busybox"):
        missing = "busybox is not installed (apt-get install busybox-static)"
    if missing is None:
        return
    if os.environ.get("LOCALGRID_RUNTIME_UNAVAILABLE"):
        pytest.skip("LOCALGRID_RUNTIME_UNAVAILABLE is set: %s" % missing)
    pytest.fail("the namespaces runtime cannot run here: %s. Run as root with util-linux, iproute2 and "
                "busybox-static, or set LOCALGRID_RUNTIME_UNAVAILABLE=1 to skip these tests." % missing)


def busybox_rootfs(directory):
    """A tiny root filesystem: static busybox, its applets, and /bin/app (see APP)."""
    bindir = directory / "bin"
    bindir.mkdir(parents=True)
    shutil.copy(shutil.which("busybox"), bindir / "busybox")
    for applet in BUSYBOX_APPLETS + ("cut", "tr", "printf"):
        os.symlink("busybox", bindir / applet)
    app = bindir / "app"
    app.write_text(APP)
    app.chmod(app.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    (bindir / "not-executable").write_text("#!/bin/sh\n")
    return directory


def publish(lg, tmp_path, name="tests/busybox"):
    """Build the busybox flist into lg's hub; returns its URL."""
    rootfs = busybox_rootfs(tmp_path / ("rootfs-" + name.replace("/", "-")))
    relative, _size, _md5 = flists.build(str(rootfs), name, lg.settings.hub_dir)
    return "%s/%s" % (lg.settings.hub_url.rstrip("/"), relative)


class Deployer:
    """One customer deploying containers (with a network and a volume) on the free node of ``lg``."""

    def __init__(self, lg, name):
        self.lg = lg
        self.node = free_node(lg)
        self.client = httpx.Client(base_url=lg.explorer_url, timeout=10)
        self.customer = Customer(self.client, name)
        self.bodies = {}

    def reserve(self, **lists):
        data = reservation_data(grid_now(self.lg), currencies=["FreeTFT"], signer=self.customer.tid, **lists)
        body = self.customer.reservation_body(data)
        response = self.client.post("/reservations", json=body)
        assert response.status_code == 201, response.text
        rid = response.json()["reservation_id"]
        self.bodies[rid] = body
        return rid

    def results(self, rid, count):
        reservation = wait_for(lambda: (r := self.client.get("/reservations/%d" % rid).json())["results"][count - 1:] and r,
                               timeout=60)
        return {result["workload_id"]: result for result in reservation["results"]}

    def container(self, flist, **fields):
        return e2e_container(self.node, flist, **fields)

    def network(self):
        """The e2e network on this node, on a UDP port free at the node's loopback endpoint (its relay binds
        it, and other localgrids of this machine may be using the default one)."""
        network = sealed_network(self.node)
        network["network_resources"][0]["wireguard_listen_port"] = free_udp_port(self.node)
        return network

    def delete(self, rid):
        signature = self.customer.delete_signature(rid, self.bodies[rid]["json"])
        assert self.client.post("/reservations/%d/sign/delete" % rid, json=signature).status_code == 201
        wait_for(lambda: self.client.get("/reservations/%d" % rid).json()["next_action"] == 6, timeout=60)

    def output(self, gwid):
        response = httpx.get("%s/localgrid/nodes/%s/workloads/%s/output" % (self.lg.base_url, self.node["node_id"], gwid))
        return response.text if response.status_code == 200 else None

    def close(self):
        self.client.close()


class RemoteLocalgrid:
    """What Deployer needs of a localgrid that runs in another process."""

    def __init__(self, url, state):
        port = int(url.rsplit(":", 1)[1])
        self.settings = Settings(port=port, state_path=state)
        self.base_url = self.settings.base_url
        self.explorer_url = self.settings.explorer_url
        self.app_state = types.SimpleNamespace(grid=load_grid(), clock=types.SimpleNamespace(now=time.time))
