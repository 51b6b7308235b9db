"""The command that starts one container, and how to recognise its processes later.

``sh`` joins the cgroup (when limits apply), ``nsenter`` enters the container's network namespace,
``unshare`` makes new mount, UTS, IPC and PID namespaces and forks; its child (PID 1 of the new PID
namespace) mounts the overlay root, volumes, /proc, /dev/pts and /sys, then execs ``chroot`` which
execs the entrypoint, so the entrypoint is PID 1. That setup runs in busybox's shell, whose applets
need no exec (a container starts within 2x of unshare + exec by hand, bench/localgrid_runtime.py);
the device nodes and directories it needs are made beforehand in the overlay's upper layer.
Mounts live only in the container's mount namespace: when its last process exits they are gone,
nothing to unmount on the host. The environment of the exec is the container's own (secret values
travel only there, never on a command line or in a file). ``--kill-child`` ties PID 1 to the
``unshare`` process: killing that one process stops the container.
"""

import os
import stat
import time

JOIN_CGROUP = 'echo $$ > "$1"; shift; exec "$@"'

SETUP_ROOT = r"""
set -e
lower=$1 upper=$2 work=$3 root=$4 host=$5 nvol=$6
shift 6
entry_path=$PATH
PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$upper,workdir=$work" "$root"
while [ "$nvol" -gt 0 ]; do
    mkdir -p "$root$2"
    mount -o bind "$1" "$root$2"
    shift 2
    nvol=$((nvol - 1))
done
shift
mount -t proc proc "$root/proc"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$root/dev/pts"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"
echo "$host" > /proc/sys/kernel/hostname
PATH=$entry_path
exec chroot "$root" "$@"
"""

DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
DIRECTORIES = ("proc", "sys", "tmp", "dev/pts", "dev/shm")


def prepare_upper(upper):
    """The mountpoints and /dev entries every container needs, made once in its writable layer."""
    for directory in DIRECTORIES:
        os.makedirs(os.path.join(upper, directory), exist_ok=True)
    os.chmod(os.path.join(upper, "tmp"), 0o1777)
    os.chmod(os.path.join(upper, "dev/shm"), 0o1777)
    for name in DEVICES:
        path = os.path.join(upper, "dev", name)
        if not os.path.lexists(path):
            host = os.stat(os.path.join("/dev", name))
            os.mknod(path, stat.S_IFCHR | 0o666, host.st_rdev)
    ptmx = os.path.join(upper, "dev", "ptmx")
    if not os.path.lexists(ptmx):
        os.symlink("pts/ptmx", ptmx)


def command(tools, layout, netns_path, cgroup_procs, hostname, mounts, argv):
    """argv of the process to start; ``mounts`` are (host directory, absolute mountpoint) pairs."""
    volume_args = [part for pair in mounts for part in pair]
    join = ["/bin/sh", "-c", JOIN_CGROUP, "join-cgroup", cgroup_procs] if cgroup_procs else []
    return join + [
        tools["nsenter"], "--net=" + netns_path,
        tools["unshare"], "--mount", "--uts", "--ipc", "--pid", "--fork", "--kill-child=SIGKILL",
        tools["busybox"], "sh", "-c", SETUP_ROOT, "setup-root",
        layout.lower, layout.upper, layout.work, layout.merged, hostname, str(len(mounts)),
        *volume_args, "--", *argv,
    ]


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


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid), encoding="ascii") as handle:
            return [int(part) for part in handle.read().split()]
    except OSError:
        return []


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
