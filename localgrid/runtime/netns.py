"""Named network namespaces (``ip netns``), created and deleted only by the names localgrid recorded."""

import os
import subprocess

NETNS_DIR = "/run/netns"


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


def add(ip, name):
    if not exists(name):
        run([ip, "netns", "add", name])
    run([ip, "-n", name, "link", "set", "lo", "up"])


def delete(ip, name):
    if exists(name):
        run([ip, "netns", "delete", name])
