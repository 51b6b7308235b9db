"""The namespaces runtime: container start time against unshare + exec by hand, and memory per container.

1. Start time: the same entrypoint (``/bin/sh -c 'echo ready; exec sleep 600'``) from the same cached
   image, in the same namespaces (network, mount, UTS, IPC, PID), started by the runtime (plus what
   makes it a container: loopback up, overlay root, /proc, /dev/pts, /sys, hostname, output file,
   crash record) and by hand with ``unshare --mount --uts --ipc --pid --net --fork chroot IMAGE ...``;
   each timed until the entrypoint's first line is in its output file. One round starts one of each,
   back to back, so both see the same load; the ratio is the median of the rounds' ratios. After each
   stop a pause lets the kernel finish releasing the namespaces before the next start is timed.
   Target: runtime <= 2x by hand.
2. Memory: 50 containers running the seed image's /sbin/my_init (sshd; busybox sh when the debian-ssh
   image is not built); RSS (and PSS, shared pages split between processes) of every process of every
   container, summed, per container. Target: the 50 together use at most a quarter of this machine's memory.

Needs root (namespaces). Usage: python bench/localgrid_runtime.py [--rounds 21] [--containers 50]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from harness import REPO_ROOT, Verdicts

sys.path.insert(0, str(REPO_ROOT))
from localgrid.runtime import recipes  # noqa: E402
from localgrid.runtime.base import ContainerSpec  # noqa: E402
from localgrid.runtime.namespaces import NamespaceRuntime  # noqa: E402
from localgrid.runtime.probe import missing_requirement, tool_paths  # noqa: E402

START_TARGET = 2.0
SETTLE_SECONDS = 0.05
MEMORY_SHARE_TARGET = 0.25
READY = b"ready"
ENTRY = ["/bin/sh", "-c", "echo ready; exec sleep 600"]
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def busybox_image(images_dir):
    """A cached image of static busybox (its applets as symlinks), named like a hub image."""
    image = os.path.join(images_dir, "0" * 32)
    if not os.path.isdir(image):
        os.makedirs(os.path.join(image, "bin"))
        shutil.copy(shutil.which("busybox"), os.path.join(image, "bin", "busybox"))
        for applet in ("sh", "sleep", "echo"):
            os.symlink("busybox", os.path.join(image, "bin", applet))
    return "0" * 32


def wait_for_line(path, deadline=30.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            with open(path, "rb") as handle:
                if READY in handle.read():
                    return
        except FileNotFoundError:
            pass
        time.sleep(0.0005)
    raise RuntimeError("the entrypoint never said ready (%s)" % path)


def by_hand(tools, image, workdir, index):
    output = os.path.join(workdir, "hand-%d.log" % index)
    started = time.monotonic()
    with open(output, "wb") as out:
        process = subprocess.Popen(
            [tools["unshare"], "--mount", "--uts", "--ipc", "--pid", "--net", "--fork", "--kill-child=SIGKILL",
             shutil.which("chroot"), image] + ENTRY, stdout=out, stderr=subprocess.STDOUT, env={"PATH": PATH})
    wait_for_line(output)
    elapsed = time.monotonic() - started
    process.kill()
    process.wait()
    time.sleep(SETTLE_SECONDS)
    return elapsed


def spec(gwid, image, argv, recipe=""):
    return ContainerSpec(node_id="bench", gwid=gwid, flist_url="", argv=argv, env={"PATH": PATH}, volumes=[],
                         cpu=1, memory_mib=256, image=image, recipe=recipe)


def by_runtime(runtime, image, index):
    gwid = "start-%d" % index
    started = time.monotonic()
    runtime.start_container(spec(gwid, image, ENTRY), None)
    wait_for_line(runtime.dir.container("bench", gwid).output)
    elapsed = time.monotonic() - started
    runtime.remove_container("bench", gwid)
    time.sleep(SETTLE_SECONDS)
    return elapsed


def memory_kib(pid):
    """(RSS, PSS) of ``pid`` in KiB."""
    found = {}
    try:
        with open("/proc/%d/smaps_rollup" % pid, encoding="ascii") as handle:
            for line in handle:
                key = line.split(":")[0]
                if key in ("Rss", "Pss"):
                    found[key] = int(line.split()[1])
    except OSError:
        pass
    return found.get("Rss", 0), found.get("Pss", 0)


def tree(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid), encoding="ascii") as handle:
            children = [int(part) for part in handle.read().split()]
    except OSError:
        children = []
    return [pid] + [each for child in children for each in tree(child)]


def mem_total_kib():
    with open("/proc/meminfo", encoding="ascii") as handle:
        return int(handle.readline().split()[1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--containers", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="9 rounds, for development")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds = 9
    missing = missing_requirement() or (None if shutil.which("busybox") else "busybox-static is not installed")
    if missing:
        print("the namespaces runtime cannot run here: %s" % missing)
        return 2
    verdicts = Verdicts()
    tools = tool_paths()
    workdir = tempfile.mkdtemp(prefix="tfgrid-bench-runtime.")
    runtime = NamespaceRuntime(os.path.join(workdir, "state.runtime"), os.path.join(workdir, "cache"),
                               "http://127.0.0.1:1/hub", start_grace=0.0, stop_grace=0.5)
    try:
        image = busybox_image(runtime.images.images_dir)
        image_dir = os.path.join(runtime.images.images_dir, image)
        hand, ours = [], []
        for index in range(args.rounds):
            hand.append(by_hand(tools, image_dir, workdir, index))
            ours.append(by_runtime(runtime, image, index))
        ratio = statistics.median(mine / theirs for mine, theirs in zip(ours, hand))
        verdicts.info("container start, median of %d: runtime %.1f ms, unshare + exec by hand %.1f ms"
                      % (args.rounds, statistics.median(ours) * 1000, statistics.median(hand) * 1000))
        verdicts.at_most("runtime/by-hand start time ratio (median of %d rounds)" % args.rounds, ratio, START_TARGET)

        seed = recipes.built(runtime.images.images_dir, "debian-ssh") or recipes.built(
            os.path.join(os.environ.get("LOCALGRID_CACHE") or os.path.expanduser("~/.cache/localgrid"), "images"),
            "debian-ssh")
        if seed:
            os.symlink(seed, recipes.image_dir(runtime.images.images_dir, recipes.RECIPES["debian-ssh"]))
            what, make = "debian-ssh /sbin/my_init (sshd)", lambda i: spec("mem-%d" % i, "", ["/sbin/my_init"],
                                                                         "debian-ssh")
        else:
            what, make = "busybox sh (debian-ssh image not built)", lambda i: spec("mem-%d" % i, image, ENTRY)
        started = time.monotonic()
        for index in range(args.containers):
            runtime.start_container(make(index), None)
        verdicts.info("%d containers of %s started in %.1f s" % (args.containers, what, time.monotonic() - started))
        time.sleep(2)  # let every entrypoint reach its steady state
        pids = [pid for top in runtime.container_pids() for pid in tree(top)]
        total = sum(memory_kib(pid)[0] for pid in pids)
        proportional = sum(memory_kib(pid)[1] for pid in pids)
        verdicts.info("RSS per running container: %.1f MiB, PSS %.1f MiB (%d processes, RSS %.0f MiB for %d containers)"
                      % (total / 1024 / args.containers, proportional / 1024 / args.containers, len(pids),
                         total / 1024, args.containers))
        verdicts.at_most("memory of %d containers / machine memory" % args.containers, total / mem_total_kib(),
                         MEMORY_SHARE_TARGET)
    finally:
        runtime.shutdown()
        for index in range(args.containers):
            runtime.remove_container("bench", "mem-%d" % index)
        shutil.rmtree(workdir, ignore_errors=True)
    return verdicts.exit_status()


if __name__ == "__main__":
    sys.exit(main())
