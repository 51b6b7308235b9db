"""How a container's PID 1 starts, and how to recognise its processes later.

A throw-away thread of localgrid enters the container's network namespace (on a first start it
makes it and plugs it into the container's network), makes new mount, UTS, IPC and PID namespaces
for itself (mounts private), mounts the overlay root, volumes, /dev/pts and /sys there, sets the
hostname, then spawns busybox's shell: the first process of the new PID namespace, so PID 1. That
shell joins the cgroup (when limits apply), mounts /proc (it must be done from inside the PID
namespace) and execs ``chroot``, an applet that execs the entrypoint, which so stays PID 1 (start
time against ``unshare`` + ``chroot`` by hand: bench/localgrid_runtime.py; forking Python itself to
do the same costs more, its page tables). The device nodes and directories the root needs come
from a lower layer made once per runtime. Mounts live only in the container's mount namespace:
when its last process exits they are gone, nothing to unmount on the host. The environment of the
exec is the container's own (secret values travel only there, never on a command line or in a
file). Killing PID 1 with SIGKILL ends every process of its PID namespace.
"""

import os
import shutil
import socket
import stat
import subprocess
import time

from localgrid.runtime import entrypoint
from localgrid.runtime.syscalls import (
    MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_PRIVATE, MS_RDONLY, MS_REC, in_throwaway_thread, mount)

PID1 = '[ -z "$1" ] || echo 0 > "$1"; mount -t proc proc "$2/proc"; root=$2; shift 3; exec chroot "$root" "$@"'
NEW_NAMESPACES = os.CLONE_NEWNS | os.CLONE_NEWUTS | os.CLONE_NEWIPC | os.CLONE_NEWPID
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
DIRECTORIES = ("proc", "sys", "tmp", "dev/pts", "dev/shm")


def prepare_skeleton(skeleton):
    """The mountpoints and /dev entries every container needs, made once per runtime: the top lower layer
    of every container's overlay, so a start makes none of them."""
    if os.path.isdir(skeleton):
        return
    work = skeleton + ".new"
    shutil.rmtree(work, ignore_errors=True)
    for directory in DIRECTORIES:
        os.makedirs(os.path.join(work, directory))
    os.chmod(os.path.join(work, "tmp"), 0o1777)
    os.chmod(os.path.join(work, "dev/shm"), 0o1777)
    for name in DEVICES:
        host = os.stat(os.path.join("/dev", name))
        os.mknod(os.path.join(work, "dev", name), stat.S_IFCHR | 0o666, host.st_rdev)
    os.symlink("pts/ptmx", os.path.join(work, "dev", "ptmx"))
    os.rename(work, skeleton)


def _mount_root(layout, mounts):
    root = layout.merged
    mount(None, "/", flags=MS_REC | MS_PRIVATE)  # nothing below propagates to the host
    mount("overlay", root, "overlay", data="lowerdir=%s:%s,upperdir=%s,workdir=%s" % (
        layout.skeleton, layout.lower, layout.upper, layout.work))
    for source, mountpoint in mounts:
        target = entrypoint.resolve(root, mountpoint)  # an image's symlink never leads out of its root
        if target is None:
            raise OSError("volume mountpoint %s: too many symbolic links" % mountpoint)
        os.makedirs(target, exist_ok=True)
        mount(source, target, flags=MS_BIND)
    mount("devpts", root + "/dev/pts", "devpts", data="newinstance,ptmxmode=0666,mode=620")
    mount("sysfs", root + "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)


def start(busybox, layout, enter_network, cgroup_procs, hostname, mounts, argv, env, streams):
    """Start the container; returns the Popen of its PID 1. ``enter_network()`` moves the starting thread
    into the container's network namespace (making it, the first time); ``mounts`` are (host directory,
    absolute mountpoint) pairs, ``streams`` its (stdout, stderr): a file or ``subprocess.PIPE`` each."""
    def spawn():
        enter_network()
        os.unshare(NEW_NAMESPACES)
        _mount_root(layout, mounts)
        socket.sethostname(hostname)
        return subprocess.Popen(
            [busybox, "sh", "-c", PID1, "pid1", cgroup_procs or "", layout.merged, "--", *argv], env=env,
            stdin=subprocess.DEVNULL, stdout=streams[0], stderr=streams[1], start_new_session=True,
            close_fds=True)

    return in_throwaway_thread(spawn, "start-" + hostname)


def start_ticks(pid):
    """The start time of ``pid`` in clock ticks since boot: with the pid it identifies one process."""
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii", errors="replace") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def same_process(pid, ticks):
    """Whether ``pid`` still is the (living, not zombie) process that started at ``ticks``."""
    return ticks is not None and start_ticks(pid) == ticks and _alive(pid)


def kill(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def wait_gone(pids, timeout):
    """Wait until none of ``pids`` runs (zombies count as gone): their namespaces are released then."""
    deadline = time.monotonic() + timeout
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.02)
