"""Where the namespaces runtime keeps each container's and volume's files, and its recorded ids.

Everything lives under ``<state>.runtime/``; names of kernel objects (network namespaces, cgroups)
are derived from that directory's path too, so two localgrids on one machine never share one, and
a restarted localgrid finds exactly the leftovers of its own previous run.
"""

import dataclasses
import hashlib
import json
import os


def short_hash(*parts):
    return hashlib.sha1("\0".join(parts).encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class ContainerLayout:
    home: str
    lower: str = ""
    skeleton: str = ""  # launch.prepare_skeleton's directory, the overlay's top lower layer

    @property
    def upper(self):
        return os.path.join(self.home, "upper")

    @property
    def work(self):
        return os.path.join(self.home, "work")

    @property
    def merged(self):
        return os.path.join(self.home, "rootfs")

    @property
    def output(self):
        return os.path.join(self.home, "output.log")

    @property
    def record(self):
        return os.path.join(self.home, "run.json")

    def create(self):
        for path in (self.upper, self.work, self.merged):
            os.makedirs(path, exist_ok=True)


class RuntimeDir:
    def __init__(self, path):
        self.path = os.path.abspath(path)

    def container(self, node_id, gwid, lower=""):
        return ContainerLayout(os.path.join(self.path, "containers", node_id, gwid), lower, self.skeleton)

    @property
    def skeleton(self):
        return os.path.join(self.path, "skeleton")

    def volume(self, node_id, volume_id):
        return os.path.join(self.path, "volumes", node_id, volume_id)

    def netns_name(self, node_id, gwid):
        return "lgc" + short_hash(self.path, node_id, gwid)[:11]

    def cgroup_group(self):
        return "localgrid-" + short_hash(self.path)[:10]

    def records(self):
        """(path, record) of every container the previous run of this state recorded as started."""
        base = os.path.join(self.path, "containers")
        found = []
        for node_id in sorted(os.listdir(base)) if os.path.isdir(base) else ():
            for gwid in sorted(os.listdir(os.path.join(base, node_id))):
                path = os.path.join(base, node_id, gwid, "run.json")
                record = read_record(path)
                if record is not None:
                    found.append((path, record))
        return found


def write_record(path, record):
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(record, handle)
    os.replace(temporary, path)


def read_record(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None
