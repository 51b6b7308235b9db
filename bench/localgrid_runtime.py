"""The namespaces runtime: container start time against unshare + exec by hand, and memory per container.

1. Start time: the same entrypoint (``/bin/sh -c 'echo ready; exec sleep 600'``) from the same cached
   image, started by the runtime (network namespace, overlay root, /proc, /dev, PID 1) and by hand
   with ``unshare --mount --uts --ipc --pid --net --fork chroot IMAGE ...``; each timed until the
   entrypoint's first line arrives, alternating, median of the rounds. Target: runtime <= 2x by hand.
2. Memory: 50 containers running the seed image's /sbin/my_init (sshd; busybox sh when the debian-ssh
   image is not built); RSS of every process of every container, summed, per container. Target: the
   50 together use at most a quarter of this machine's memory.

Needs root (namespaces). Usage: python bench/localgrid_runtime.py [--rounds 15] [--containers 50]
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
from localgrid.runtime import launch, recipes  # noqa: E402
from localgrid.runtime.base import ContainerSpec  # noqa: E402
from localgrid.runtime.namespaces import NamespaceRuntime  # noqa: E402
from localgrid.runtime.probe import missing_requirement, tool_paths  # noqa: E402

START_TARGET = 2.0
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
    return elapsed


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid, encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree(pid):
    pids = [pid]
    for child in launch.children(pid):
        pids.extend(tree(child))
    return pids


def mem_total_kib():
    with open("/proc/meminfo", encoding="ascii") as handle:
        return int(handle.readline().split()[1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--containers", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="5 rounds and 10 containers, for development")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.containers = 5, 10
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
        ratio = statistics.median(ours) / statistics.median(hand)
        verdicts.info("container start, median of %d: runtime %.1f ms, unshare + exec by hand %.1f ms"
                      % (args.rounds, statistics.median(ours) * 1000, statistics.median(hand) * 1000))
        verdicts.at_most("runtime/by-hand start time ratio", ratio, START_TARGET)

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
        total = sum(rss_kib(pid) for pid in pids)
        verdicts.info("RSS per running container: %.1f MiB (%d processes, %.0f MiB for %d containers)"
                      % (total / 1024 / args.containers, len(pids), total / 1024, args.containers))
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
