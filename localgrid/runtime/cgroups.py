"""cpu and memory limits through cgroup v2, when this machine has a writable v2 hierarchy with them.

Like 0-OS: memory.max = memory MiB, cpu.max = cpu × period. On a hybrid (v1) machine the v2 tree
has no cpu/memory controllers; limits are then not applied and ``status`` says why.
"""

import logging
import os

log = logging.getLogger(__name__)
CANDIDATES = ("/sys/fs/cgroup", "/sys/fs/cgroup/unified")
NEEDED = {"cpu", "memory"}
CPU_PERIOD_US = 100000


def _controllers(path):
    try:
        with open(os.path.join(path, "cgroup.controllers"), encoding="ascii") as handle:
            return set(handle.read().split())
    except OSError:
        return None


class Cgroups:
    def __init__(self, group_name, candidates=CANDIDATES):
        self.root = None
        self.status = "not applied: no cgroup v2 hierarchy is mounted"
        for path in candidates:
            controllers = _controllers(path)
            if controllers is None:
                continue
            if not NEEDED <= controllers:
                self.status = "not applied: cgroup v2 at %s has no %s controller" % (
                    path, "/".join(sorted(NEEDED - controllers)))
                continue
            if not os.access(path, os.W_OK):
                self.status = "not applied: cgroup v2 at %s is not writable" % path
                continue
            self.root = os.path.join(path, group_name)
            self.status = "applied (cgroup v2 at %s)" % path
            break

    def create(self, name, cpu, memory_mib):
        """The cgroup.procs file of a new cgroup limited to ``cpu`` and ``memory_mib``, or None."""
        if self.root is None:
            return None
        try:
            if not os.path.isdir(self.root):
                os.makedirs(self.root)
                with open(os.path.join(os.path.dirname(self.root), "cgroup.subtree_control"), "w") as handle:
                    handle.write("+cpu +memory")
                with open(os.path.join(self.root, "cgroup.subtree_control"), "w") as handle:
                    handle.write("+cpu +memory")
            path = os.path.join(self.root, name)
            os.makedirs(path, exist_ok=True)
            with open(os.path.join(path, "memory.max"), "w") as handle:
                handle.write(str(memory_mib * 1024 * 1024))
            with open(os.path.join(path, "cpu.max"), "w") as handle:
                handle.write("%d %d" % (cpu * CPU_PERIOD_US, CPU_PERIOD_US))
        except OSError as error:
            self.status = "not applied: %s" % error
            self.root = None  # reported once: no later container tries again
            log.warning("runtime: cpu/memory limits %s", self.status)
            return None
        return os.path.join(path, "cgroup.procs")

    def remove(self, name):
        if self.root is not None:
            try:
                os.rmdir(os.path.join(self.root, name))
            except OSError:
                pass
