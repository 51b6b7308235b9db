# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run every YAML example of the guides, in the order of the guides.

Each ``.. code-block:: yaml`` of a guide is extracted and written to a project directory of its guide:

* a playbook (a list of plays with ``hosts``) is run with ansible-playbook against the localgrid of
  integration_config.yml, which the examples reach through the TFGRID_* environment variables, like a
  reader who runs ``make localgrid``;
* an inventory source (``plugin: threefold.grid.zos``) is written to ``<name>.zos.yml`` and read with
  ``ansible-inventory --list``, which must exit 0 (unparsed sources fail) and print JSON;
* an execution environment definition (``version`` + ``dependencies``) is turned into a build context with
  ``ansible-builder create``, which must write a Containerfile or Dockerfile (no container engine needed);
* any other YAML (a CI workflow, for example) is parsed only.

TFGRID_EXPLORER_URL overrides the explorer of a source's ``network``, so a source written for ``main`` reads
the localgrid too.

The AWX and inventory guides assume what an AWX credential provides: awx_credential.yml registers an identity,
funds a wallet and creates the network ``office`` first, and their examples get the credential as TFGRID_*
variables (and as GRID_OWNER / GRID_OWNER_SEED for the inventory guide's templated source). Once the AWX job
template has deployed its container, every source that lists the credential's identity must list it (the AWX
sources are read again after the job). An example that fails fails the target, and a guide without a single
example that runs is an error too.
Arguments, if any, name the guides to run (all by default).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid

import yaml

GUIDES = [
    "guide_getting_started.rst",
    "guide_payment.rst",
    "guide_networks.rst",
    "guide_workloads.rst",
    "guide_localgrid_ci.rst",
    "guide_awx.rst",
    "guide_inventory.rst",
]
# Guides whose examples need the AWX-like credential of awx_credential.yml.
CREDENTIAL_GUIDES = ("guide_inventory.rst", "guide_awx.rst")
HERE = os.path.dirname(os.path.abspath(__file__))
CODE_BLOCK = re.compile(r"^(?P<indent> *)\.\. code-block:: yaml\s*$")


def find_rst_dir(guides):
    """The guides of the collection under test (ansible-test puts its root on ANSIBLE_COLLECTIONS_PATH)."""
    roots = os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep)
    candidates = [os.path.join(root, "ansible_collections", "threefold", "grid") for root in roots if root]
    candidates.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", ".."))
    for root in candidates:
        rst_dir = os.path.join(root, "docs", "docsite", "rst")
        if all(os.path.isfile(os.path.join(rst_dir, guide)) for guide in guides):
            return os.path.abspath(rst_dir)
    raise SystemExit("guides not found under %s" % candidates)


def yaml_blocks(text):
    """The bodies of the ``code-block:: yaml`` directives of an rst text, dedented, in order."""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        match = CODE_BLOCK.match(lines[index])
        index += 1
        if not match:
            continue
        indent = len(match.group("indent"))
        while index < len(lines) and lines[index].strip().startswith(":"):
            index += 1  # directive options such as :caption:
        body = []
        while index < len(lines) and (not lines[index].strip() or _indent(lines[index]) > indent):
            body.append(lines[index])
            index += 1
        content = [line for line in body if line.strip()]
        depth = min(_indent(line) for line in content)
        yield "\n".join(line[depth:] for line in body).strip() + "\n"


def _indent(line):
    return len(line) - len(line.lstrip(" "))


def is_playbook(document):
    return isinstance(document, list) and bool(document) and all(
        isinstance(play, dict) and ("hosts" in play or "import_playbook" in play) for play in document
    )


def is_inventory_source(document):
    return isinstance(document, dict) and document.get("plugin") == "threefold.grid.zos"


def is_ee_definition(document):
    return isinstance(document, dict) and "version" in document and "dependencies" in document


def example_environment(config, home):
    env = dict(os.environ)
    env.update({
        "HOME": home,
        "TFGRID_NETWORK": "local",
        "TFGRID_EXPLORER_URL": config["tfgrid_explorer_url"],
        "TFGRID_HORIZON_URL": config["tfgrid_horizon_url"],
        "TFGRID_LOCALGRID_URL": config["tfgrid_localgrid_url"],
        "ANSIBLE_NOCOLOR": "1",
        # A source the plugin cannot read only warns by default; an example that fails must fail.
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true",
    })
    return env


def tool(name):
    """A console script of the Python running this file (its venv), else the one on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), name)
    return beside if os.path.exists(beside) else (shutil.which(name) or name)


def run(name, command, cwd, env):
    result = subprocess.run(command, cwd=cwd, env=env, check=False)
    if result.returncode != 0:
        raise SystemExit("example %s failed (exit %d)" % (name, result.returncode))


def prepare_credential(work, env, inventory):
    """Register an identity, fund a wallet and create the network office, as an AWX admin would beforehand.

    Returns the environment of each credential guide and the node id for the job template."""
    directory = os.path.join(work, "credential")
    os.mkdir(directory)
    identity_name = "awxdocs%s.3bot" % uuid.uuid4().hex[:8]
    print("=== preparing the AWX credential %s and the network office" % identity_name, flush=True)
    command = ["ansible-playbook"] + (["-i", inventory] if inventory else []) + [
        os.path.join(HERE, "awx_credential.yml"),
        "-e", "identity_name=%s" % identity_name, "-e", "work_dir=%s" % directory]
    run("awx_credential.yml", command, directory, env)

    def read(name):
        with open(os.path.join(directory, name)) as handle:
            return handle.read().strip()

    seed = read("identity.seed")
    seed_variable = "TFGRID_IDENTITY_SEED" if re.fullmatch(r"[0-9a-fA-F]{64}", seed) else "TFGRID_IDENTITY_MNEMONIC"
    environments = {
        # What the ThreeFold Grid credential type injects into jobs and inventory updates.
        "guide_awx.rst": {
            "TFGRID_IDENTITY_NAME": identity_name,
            seed_variable: seed,
            "TFGRID_STELLAR_SECRET": read("wallet.secret"),
        },
        # The templated source of this guide looks the owner and its seed up in these variables; its other
        # sources name alice.3bot of guide_getting_started.rst, so no TFGRID_IDENTITY_* is set here.
        "guide_inventory.rst": {"GRID_OWNER": identity_name, "GRID_OWNER_SEED": seed},
    }
    return environments, read("web_node")


def deployed_containers(playbook):
    """The names of the containers a playbook's zos_container tasks deploy."""
    return [
        task["threefold.grid.zos_container"]["name"]
        for play in playbook for task in play.get("tasks", [])
        if "threefold.grid.zos_container" in task and task["threefold.grid.zos_container"].get("state", "present") == "present"
    ]


def lists_credential_identity(source):
    """Whether an inventory source lists the credential's identity (from TFGRID_IDENTITY_NAME or GRID_OWNER)."""
    return "identity_name" not in source or "GRID_OWNER" in str(source["identity_name"])


def run_inventory_source(name, project, number, block, env, expected_hosts=()):
    path = os.path.join(project, "example_%02d.zos.yml" % number)
    with open(path, "w") as handle:
        handle.write(block)
    print("=== %s: ansible-inventory --list" % name, flush=True)
    result = subprocess.run(["ansible-inventory", "-i", path, "--list"], cwd=project, env=env,
                            check=False, stdout=subprocess.PIPE, universal_newlines=True)
    if result.returncode != 0:
        raise SystemExit("example %s failed (exit %d)" % (name, result.returncode))
    try:
        listing = json.loads(result.stdout)
    except ValueError:
        raise SystemExit("example %s: ansible-inventory printed no JSON" % name)
    if "_meta" not in listing:
        raise SystemExit("example %s: the inventory has no _meta" % name)
    hosts = sorted(listing["_meta"].get("hostvars", {}))
    print("%s: hosts %s" % (name, hosts), flush=True)
    missing = sorted(set(expected_hosts) - set(hosts))
    if missing:
        raise SystemExit("example %s: the inventory lacks the deployed containers %s" % (name, missing))
    return listing


def run_ee_definition(name, project, number, block, env):
    path = os.path.join(project, "execution-environment_%02d.yml" % number)
    context = os.path.join(project, "context_%02d" % number)
    with open(path, "w") as handle:
        handle.write(block)
    print("=== %s: ansible-builder create" % name, flush=True)
    run(name, [tool("ansible-builder"), "create", "-f", path, "-c", context], project, env)
    if not any(os.path.isfile(os.path.join(context, name)) for name in ("Containerfile", "Dockerfile")):
        raise SystemExit("example %s: ansible-builder wrote no Containerfile or Dockerfile" % name)
    with open(os.path.join(context, "_build", "requirements.yml")) as handle:
        collections = [item["name"] for item in yaml.safe_load(handle)["collections"]]
    if "threefold.grid" not in collections:
        raise SystemExit("example %s: the build context does not install threefold.grid" % name)


def run_guides(rst_dir, guides, work, env, inventory):
    ran, parsed = [], []
    credential = None
    credential_hosts = []  # containers of the credential's identity, once the AWX job template deployed them
    for guide in guides:
        with open(os.path.join(rst_dir, guide)) as handle:
            blocks = list(yaml_blocks(handle.read()))
        project = os.path.join(work, guide[:-4])
        os.mkdir(project)
        guide_env, extra_vars = env, []
        if guide in CREDENTIAL_GUIDES:
            if credential is None:
                credential = prepare_credential(work, env, inventory)
            guide_env = dict(env, **credential[0][guide])
            # AWX's job template asks for web_node at launch (a survey); the node carries the network office.
            extra_vars = ["-e", "web_node=%s" % credential[1]]
        examples, sources = 0, []
        for number, block in enumerate(blocks, start=1):
            name = "%s #%d" % (guide, number)
            document = yaml.safe_load(block)
            if is_inventory_source(document):
                if lists_credential_identity(document):
                    run_inventory_source(name, project, number, block, guide_env, credential_hosts)
                    if not credential_hosts:
                        sources.append((name, number, block))
                else:
                    run_inventory_source(name, project, number, block, guide_env)
            elif is_ee_definition(document):
                run_ee_definition(name, project, number, block, guide_env)
            elif is_playbook(document):
                path = os.path.join(project, "example_%02d.yml" % number)
                with open(path, "w") as handle:
                    handle.write(block)
                print("=== %s" % name, flush=True)
                command = ["ansible-playbook"] + (["-i", inventory] if inventory else []) + [path] + extra_vars
                run(name, command, project, guide_env)
                if guide in CREDENTIAL_GUIDES:
                    credential_hosts.extend(deployed_containers(document))
            else:
                parsed.append(name)
                continue
            examples += 1
            ran.append(name)
        if examples == 0:
            raise SystemExit("%s has no example that runs" % guide)
        if credential_hosts:
            # The inventory update after the job (AWX's "Update on launch") lists what the job deployed.
            for name, number, block in sources:
                run_inventory_source(name + " after the job", project, number, block, guide_env, credential_hosts)
    return ran, parsed


def main(selected):
    guides = [guide for guide in GUIDES if not selected or guide in selected]
    with open(os.path.join(HERE, "..", "..", "integration_config.yml")) as handle:
        config = yaml.safe_load(handle)
    rst_dir = find_rst_dir(guides)
    # ansible-test's inventory, or none: ansible-playbook's implicit localhost, as a reader gets it.
    inventory = os.environ.get("INVENTORY_PATH")
    work = tempfile.mkdtemp(prefix="docs_examples.")
    home = os.path.join(work, "home")
    os.mkdir(home)
    try:
        ran, parsed = run_guides(rst_dir, guides, work, example_environment(config, home), inventory)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("ran %d examples: %s" % (len(ran), ", ".join(ran)))
    print("parsed %d other YAML examples: %s" % (len(parsed), ", ".join(parsed) or "none"))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
