"""Userspace WireGuard (wireguard-go) for a network resource, configured with wg(8) over stdin.

The private key the node decrypted goes to ``wg setconf`` on its standard input: never a file.
"""

import os
import subprocess
import time

from localgrid.runtime.base import StartError

SOCKET_DIR = "/var/run/wireguard"
READY_TIMEOUT = 30
KEEPALIVE_SECONDS = 20  # what 0-OS sets on every peer (zos pkg/network/wireguard newPeer)


def socket_path(ifname):
    return os.path.join(SOCKET_DIR, ifname + ".sock")


def start(tools, netns_path, ifname, log_path):
    """Run wireguard-go in the foreground inside the namespace; returns once its interface exists."""
    with open(log_path, "ab") as output:
        process = subprocess.Popen(
            [tools["nsenter"], "--net=" + netns_path, tools["wireguard-go"], "-f", ifname],
            stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LOG_LEVEL": "error"})
    deadline = time.monotonic() + READY_TIMEOUT
    while not os.path.exists(socket_path(ifname)):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise StartError("failed to create network resource: wireguard-go did not start (see %s)" % log_path)
        time.sleep(0.02)
    return process


def config_text(private_key, listen_port, peers):
    lines = ["[Interface]", "PrivateKey = %s" % private_key, "ListenPort = %d" % listen_port]
    for peer in peers:
        lines += ["", "[Peer]", "PublicKey = %s" % peer["public_key"], "PersistentKeepalive = %d" % KEEPALIVE_SECONDS]
        allowed = ", ".join(peer.get("allowed_iprange") or [])
        if allowed:
            lines.append("AllowedIPs = %s" % allowed)
        if peer.get("endpoint"):
            lines.append("Endpoint = %s" % peer["endpoint"])
    return "\n".join(lines) + "\n"


def configure(tools, ifname, private_key, listen_port, peers):
    done = subprocess.run([tools["wg"], "setconf", ifname, "/dev/stdin"],
                          input=config_text(private_key, listen_port, peers).encode(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if done.returncode != 0:
        raise StartError("failed to configure wireguard: %s" % done.stderr.decode(errors="replace").strip())


def host_tunnels_to(tools, endpoints):
    """(interface, peer endpoint) of each WireGuard interface in this process's network namespace (the
    host's) with a peer at one of ``endpoints`` (``host:port`` strings)."""
    if not endpoints:
        return []
    found = []
    # Interface by interface: `wg show all endpoints` runs the line of an interface without peers into the next.
    for interface in _wg(tools, "show", "interfaces").split():
        if not os.path.exists(os.path.join("/sys/class/net", interface)):
            continue  # in a namespace of its own (e.g. a network resource of another localgrid)
        for line in _wg(tools, "show", interface, "endpoints").splitlines():
            _peer, _sep, endpoint = line.partition("\t")
            if endpoint in endpoints:
                found.append((interface, endpoint))
    return found


def _wg(tools, *args):
    done = subprocess.run([tools["wg"], *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True, check=False)
    return done.stdout
