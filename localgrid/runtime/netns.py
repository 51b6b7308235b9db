"""Named network namespaces (as ``ip netns`` names them), created and deleted only by the names localgrid
recorded. Creation is done in-process (unshare + bind mount + lo up, what ``ip netns add`` does): two
``ip`` runs per container would be a third of its start time; a container's is made by the thread that
starts it (launch.py)."""

import fcntl
import os
import socket
import struct
import subprocess

from localgrid.runtime.syscalls import MS_BIND, in_throwaway_thread, mount

NETNS_DIR = "/run/netns"
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


class CommandError(Exception):
    pass


def run(argv, stdin=None):
    done = subprocess.run(argv, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if done.returncode != 0:
        raise CommandError("%s: %s" % (" ".join(argv[:4]), done.stderr.decode(errors="replace").strip()))
    return done.stdout.decode(errors="replace")


def path(name):
    return os.path.join(NETNS_DIR, name)


def exists(name):
    return os.path.exists(path(name))


def _create(target):
    """In a throw-away thread: a new network namespace, bound at ``target``, its loopback up."""
    os.unshare(os.CLONE_NEWNET)
    mount("/proc/thread-self/ns/net", target, flags=MS_BIND)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))


def create_here(ip, name):
    """In a throw-away thread: give the thread a new network namespace, named ``name``, its loopback up."""
    os.makedirs(NETNS_DIR, exist_ok=True)
    target = path(name)
    with open(target, "x"):
        pass
    try:
        _create(target)
    except OSError as error:
        delete(ip, name)
        raise CommandError("cannot create network namespace %s: %s" % (name, error)) from None


def enter(name):
    """In a throw-away thread: move the thread into the network namespace ``name``."""
    with open(path(name), "rb") as handle:
        os.setns(handle.fileno(), os.CLONE_NEWNET)


def add(ip, name):
    if not exists(name):
        in_throwaway_thread(lambda: create_here(ip, name), "netns-" + name)


def delete(ip, name):
    """``ip netns delete``: unmount and remove the name (the namespace goes with its last process)."""
    if exists(name):
        run([ip, "netns", "delete", name])
