"""Real ``ansible-playbook`` processes against a localgrid: the collection benchmarks' client.

Every run is a separate ``ansible-playbook`` (forks are separate processes too, as for a user), with
the collection taken from the working tree (harness.COLLECTIONS_ROOT) and the playbooks of
bench/playbooks/. The grid, explorer and identity come from the TFGRID_* environment variables the
modules read, so the playbooks only say what to deploy.
"""

import ast
import json
import os
import pathlib
import re
import resource
import subprocess
import sys
import tempfile
import time

from harness import COLLECTIONS_ROOT, REPO_ROOT

PLAYBOOKS = pathlib.Path(__file__).resolve().parent / "playbooks"
NOOP_MODULE = "bench_noop"
RUN_TIMEOUT = 3600
FORKS = 10
E2E_STEPS = ("identity", "network", "volume", "container")  # the modules of end_to_end.yml, zos_<step>
# How a play runs over many containers: a loop in one host, or a host per container run FORKS at a time.
VARIANTS = ("loop", "forks")


def _children_cpu_seconds():
    """User + system CPU of every finished child process tree (ansible-playbook, its forks and module processes)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _module_utils_imports(module_path):
    """The ``from ...module_utils... import`` statements of a module, verbatim."""
    source = module_path.read_text(encoding="utf-8")
    return [
        ast.get_source_segment(source, node)
        for node in ast.parse(source).body
        if isinstance(node, ast.ImportFrom) and ".plugins.module_utils." in (node.module or "")
    ]


def write_noop_module(library, like="zos_container", name=NOOP_MODULE):
    """Module ``name``: it imports the module_utils ``like`` imports (read from its source, so it follows
    the collection's changes) and does nothing else: the price of starting a task of this collection.
    With ``like`` None it imports nothing of the collection: the price of starting a task of Ansible."""
    imports = "\n".join(_module_utils_imports(REPO_ROOT / "plugins" / "modules" / (like + ".py"))) if like else ""
    library.mkdir(parents=True, exist_ok=True)
    (library / (name + ".py")).write_text(
        "#!/usr/bin/python\n"
        "from ansible.module_utils.basic import AnsibleModule\n"
        + imports + "\n\n\n"
        "def main():\n"
        "    module = AnsibleModule(argument_spec=dict(name=dict(type='str', required=True)),\n"
        "                           supports_check_mode=True)\n"
        "    module.exit_json(changed=False, name=module.params['name'])\n\n\n"
        "if __name__ == '__main__':\n"
        "    main()\n",
        encoding="utf-8",
    )


class PlaybookRunner:
    """Runs bench/playbooks/* against one localgrid, as one identity at a time."""

    def __init__(self, lg):
        self.lg = lg
        self.last_cpu_seconds = 0.0  # CPU of the last run's process tree (context next to wall times)
        self.workdir = tempfile.TemporaryDirectory(prefix="tfgrid-bench-ansible.")
        self.dir = pathlib.Path(self.workdir.name)
        # The no-op module lives next to the playbooks (a playbook-adjacent library/), never in plugins/.
        self.playbooks = self.dir / "playbooks"
        self.playbooks.mkdir()
        for playbook in PLAYBOOKS.glob("*.yml"):
            (self.playbooks / playbook.name).write_bytes(playbook.read_bytes())
        write_noop_module(self.playbooks / "library")
        # end_to_end_noop.yml and end_to_end_bare.yml: four different modules, as end_to_end.yml runs.
        for step in E2E_STEPS:
            write_noop_module(self.playbooks / "library", "zos_" + step, "%s_%s" % (NOOP_MODULE, step))
            write_noop_module(self.playbooks / "library", None, "bench_bare_" + step)
        self.env = dict(
            os.environ,
            ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_ROOT),
            ANSIBLE_PYTHON_INTERPRETER=sys.executable,
            ANSIBLE_LOCAL_TEMP=str(self.dir / "tmp"),
            ANSIBLE_REMOTE_TEMP=str(self.dir / "tmp"),
            # The modules' name index of this throw-away grid stays in the run's directory, not in ~/.cache.
            TFGRID_CACHE_DIR=str(self.dir / "name-index"),
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_RETRY_FILES_ENABLED="0",
            ANSIBLE_HOST_KEY_CHECKING="0",
            ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
            ANSIBLE_LOCALHOST_WARNING="0",
            TFGRID_NETWORK="local",
            TFGRID_EXPLORER_URL=lg.explorer_url,
            TFGRID_HORIZON_URL=lg.horizon_url,
            NO_PROXY="127.0.0.1,localhost",
        )
        for name in ("TFGRID_IDENTITY_NAME", "TFGRID_IDENTITY_SEED", "TFGRID_IDENTITY_MNEMONIC",
                     "TFGRID_IDENTITY_SEED_FILE", "TFGRID_STELLAR_SECRET"):
            self.env.pop(name, None)
        self._runs = 0
        self.failures = []

    def inventory(self, hosts, host_vars):
        """An inventory of local hosts; ``host_vars(index)`` gives each host's variables."""
        path = self.dir / ("inventory-%d.json" % len(hosts))
        local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
        path.write_text(json.dumps({"all": {"hosts": {
            host: dict(local, **host_vars(index)) for index, host in enumerate(hosts)}}}), encoding="utf-8")
        return path

    def run(self, playbook, identity=None, extra_vars=None, inventory=None, forks=1, via=None, unchanged=False,
            tolerate_failed_hosts=False):
        """Run one playbook to completion; returns its wall time in seconds. Raises on failure, and
        when ``unchanged`` and a host reports a change (an idempotent re-run that was not).
        With ``tolerate_failed_hosts``, failed hosts (exit code 2) are recorded in ``self.failures``
        as (playbook, failed hosts, distinct messages) instead.

        ``via``: the base URL of a proxy in front of localgrid (see counting_proxy.py) to talk to instead.
        """
        self._runs += 1
        vars_path = self.dir / ("vars-%d.json" % self._runs)
        vars_path.write_text(json.dumps(extra_vars or {}), encoding="utf-8")
        env = dict(self.env)
        if identity is not None:
            env.update(TFGRID_IDENTITY_NAME=identity.name, TFGRID_IDENTITY_SEED_FILE=str(identity.seed_file))
        if via is not None:
            env.update(TFGRID_EXPLORER_URL=via + "/explorer", TFGRID_HORIZON_URL=via + "/stellar")
        inventory = inventory or self.inventory(["localhost"], lambda _index: {})
        command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory),
                   "-f", str(forks), "-e", "@" + str(vars_path), str(self.playbooks / playbook)]
        log_path = self.dir / ("run-%d.log" % self._runs)
        cpu_before = _children_cpu_seconds()
        started = time.perf_counter()
        with open(log_path, "wb") as log:
            returncode = subprocess.call(command, cwd=str(self.dir), env=env, stdout=log, stderr=subprocess.STDOUT,
                                         timeout=RUN_TIMEOUT)
        elapsed = time.perf_counter() - started
        self.last_cpu_seconds = _children_cpu_seconds() - cpu_before
        output = log_path.read_text(encoding="utf-8", errors="replace")
        if returncode == 2 and tolerate_failed_hosts:
            failed = re.findall(r"^\S+\s+: ok=\d+\s+changed=\d+\s+unreachable=\d+\s+failed=([1-9]\d*)", output, re.M)
            self.failures.append((playbook, len(failed), sorted(set(re.findall(r'"msg": "([^"]*)"', output)))))
        elif returncode != 0:
            tail = output.splitlines()[-40:]
            raise RuntimeError("ansible-playbook %s failed (exit %d):\n%s" % (playbook, returncode, "\n".join(tail)))
        if unchanged:
            recap = re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", output, re.M)
            changed = [host for host, count in recap if int(count)]
            if not recap or changed:
                raise RuntimeError("re-run of %s changed hosts %s (log %s)" % (playbook, changed, log_path))
        return elapsed

    def containers(self, playbook, identity, nodes, prefix, indexes, variant, via=None, unchanged=False,
                   tolerate_failed_hosts=False, extra=None):
        """Run containers.yml (or noop.yml, fleet.yml) for the containers ``indexes`` of ``identity``, with the
        playbook variables ``extra`` too; returns seconds."""
        extra = dict(self.payment, bench_nodes=list(nodes), bench_network=identity.network, bench_prefix=prefix,
                     bench_wait_sleep=1, **(extra or {}))
        if variant == "loop":
            inventory = self.inventory(["localhost"], lambda _index: {"bench_indexes": list(indexes)})
            forks = 1
        else:
            inventory = self.inventory(["bench-%d" % index for index in range(len(indexes))],
                                       lambda index: {"bench_indexes": [indexes[index]]})
            forks = FORKS
        return self.run(playbook, identity, extra, inventory, forks, via, unchanged, tolerate_failed_hosts)

    def deploy(self, identity, nodes, prefix, indexes, attempts=3):
        """Untimed set-up: deploy the containers ``indexes`` with forks, re-running the play while hosts
        fail (parallel payments from one wallet can clash on its sequence number; a re-run pays only
        what is missing). Returns the seconds it took."""
        seconds = 0.0
        for _attempt in range(attempts):
            failures = len(self.failures)
            seconds += self.containers("containers.yml", identity, nodes, prefix, indexes, "forks",
                                       tolerate_failed_hosts=True)
            if len(self.failures) == failures:
                return seconds
        raise RuntimeError("containers still failing after %d runs: %s" % (attempts, self.failures[-1]))

    @property
    def payment(self):
        """The zos_* ``payment`` option in stellar mode (one wallet per localgrid, funded on first use)."""
        if self.lg.payment != "stellar":
            return {}
        wallet_file = self.dir / "wallet.secret"
        if not wallet_file.exists():
            self.run("prepare.yml", extra_vars={"bench_wallet_file": str(wallet_file)})
        return {"bench_payment": {"stellar_secret": wallet_file.read_text(encoding="ascii").strip()}}

    def prepare(self, name, network_nodes=None):
        """Register identity ``name`` (and a network over ``network_nodes``, [{node_id, subnet}])."""
        identity = PlayIdentity(self, name)
        extra = dict(self.payment, bench_identity_name=name, bench_seed_file=str(identity.seed_file))
        if network_nodes:
            extra.update(bench_network="net-" + name.split(".")[0], bench_network_nodes=network_nodes)
        self.run("prepare.yml", extra_vars=extra)
        identity.network = extra.get("bench_network")
        return identity

    def close(self):
        self.workdir.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def network_nodes(nodes):
    """zos_network's ``nodes`` for containers.yml: node i gets 10.80.i.0/24."""
    return [{"node_id": node, "subnet": "10.80.%d.0/24" % index} for index, node in enumerate(nodes)]


class PlayIdentity:
    """A 3Bot identity the playbooks act as (registered by bench/playbooks/prepare.yml)."""

    def __init__(self, runner, name):
        self.name = name
        self.seed_file = runner.dir / (name + ".seed")
        self.network = None
