# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run every YAML example of the guides, in the order of the guides.

Each ``.. code-block:: yaml`` of a guide is extracted. A playbook (a list of plays with ``hosts``) is
written to a project directory and run with ansible-playbook against the localgrid of
integration_config.yml, which the examples reach through the TFGRID_* environment variables, like a
reader who runs ``make localgrid``. Any other YAML (a CI workflow, for example) is parsed only. An
example that fails fails the target, and a guide without a single playbook is an error too.
Arguments, if any, name the guides to run (all by default).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

GUIDES = [
    "guide_getting_started.rst",
    "guide_payment.rst",
    "guide_networks.rst",
    "guide_localgrid_ci.rst",
]
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


def example_environment(config, home):
    env = dict(os.environ)
    env.update({
        "HOME": home,
        "TFGRID_NETWORK": "local",
        "TFGRID_EXPLORER_URL": config["tfgrid_explorer_url"],
        "TFGRID_HORIZON_URL": config["tfgrid_horizon_url"],
        "TFGRID_LOCALGRID_URL": config["tfgrid_localgrid_url"],
        "ANSIBLE_NOCOLOR": "1",
    })
    return env


def run_guides(rst_dir, guides, work, env, inventory):
    ran, parsed = [], []
    for guide in guides:
        with open(os.path.join(rst_dir, guide)) as handle:
            blocks = list(yaml_blocks(handle.read()))
        project = os.path.join(work, guide[:-4])
        os.mkdir(project)
        playbooks = 0
        for number, block in enumerate(blocks, start=1):
            name = "%s #%d" % (guide, number)
            document = yaml.safe_load(block)
            if not is_playbook(document):
                parsed.append(name)
                continue
            playbooks += 1
            path = os.path.join(project, "example_%02d.yml" % number)
            with open(path, "w") as handle:
                handle.write(block)
            print("=== %s" % name, flush=True)
            command = ["ansible-playbook"] + (["-i", inventory] if inventory else []) + [path]
            result = subprocess.run(command, cwd=project, env=env, check=False)
            if result.returncode != 0:
                raise SystemExit("example %s failed (exit %d)" % (name, result.returncode))
            ran.append(name)
        if playbooks == 0:
            raise SystemExit("%s has no playbook example" % guide)
    return ran, parsed


def main(selected):
    guides = [guide for guide in GUIDES if not selected or guide in selected]
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "..", "integration_config.yml")) as handle:
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
    print("ran %d playbook examples: %s" % (len(ran), ", ".join(ran)))
    print("parsed %d other YAML examples: %s" % (len(parsed), ", ".join(parsed) or "none"))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
