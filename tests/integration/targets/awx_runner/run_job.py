#!/usr/bin/env python
# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a job and an inventory update the way AWX does: through ansible-runner, with a credential of the
ThreeFold Grid type (docs/awx/credential_type.yml) injected as environment variables. Then check that
the seed and the Stellar secret appear in no job event, no stdout and no artifact.

Usage: run_job.py INTEGRATION_CONFIG_YML
"""

from __future__ import annotations

import json
import os
import pathlib
import secrets
import shutil
import sys
import tempfile

import ansible_runner
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment
from mnemonic import Mnemonic
from stellar_sdk import Keypair

HERE = pathlib.Path(__file__).resolve().parent
COLLECTION = ("ansible_collections", "threefold", "grid")
SECRET_FIELDS = {"identity_seed", "identity_mnemonic", "stellar_secret"}
# Variables of the surrounding test run that an AWX job would not have.
NOT_IN_AWX = ("TFGRID_", "ANSIBLE_CALLBACKS_ENABLED", "JUNIT_")


def fail(message):
    sys.exit("awx_runner: %s" % message)


def credential_type():
    """docs/awx/credential_type.yml of the collection under test."""
    for root in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep):
        path = pathlib.Path(root, *COLLECTION, "docs", "awx", "credential_type.yml")
        if path.is_file():
            return yaml.safe_load(path.read_text())
    fail("docs/awx/credential_type.yml not found under ANSIBLE_COLLECTIONS_PATH")


def check_credential_type(definition):
    fields = {field["id"]: field for field in definition["inputs"]["fields"]}
    if definition["kind"] != "cloud":
        fail("the credential type must be of kind cloud to attach to inventory sources")
    for name in SECRET_FIELDS:
        if not fields[name].get("secret"):
            fail("credential field %s must be secret" % name)
    for name in definition["inputs"]["required"]:
        if name not in fields:
            fail("required credential field %s is not defined" % name)


def inject(definition, inputs):
    """The environment AWX builds from the injectors: Jinja in a sandbox, a field left empty renders as ""."""
    sandbox = ImmutableSandboxedEnvironment()
    return dict((name, sandbox.from_string(template).render(**inputs))
                for name, template in definition["injectors"]["env"].items())


def private_data_dir(workdir):
    """An AWX-like job directory: the project with the playbook, and an inventory with localhost."""
    shutil.copytree(HERE / "project", workdir / "project")
    (workdir / "inventory").mkdir()
    (workdir / "inventory" / "hosts").write_text(
        "localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    return workdir


def leaks(text, secret_values):
    return [label for label, value in secret_values.items() if value in text or value.upper() in text]


def scan_artifacts(directory, secret_values, what):
    """Every artifact: stdout, stderr, job_events/*.json, rc, status, fact_cache. Not `command`: it is
    ansible-runner's record of the command line and the environment it was given (the injected credential,
    like AWX's job_env), not output; AWX removes the whole private data dir after the job."""
    scanned = 0
    for path in sorted(pathlib.Path(directory).rglob("*")):
        if path.is_file() and path.name != "command":
            scanned += 1
            found = leaks(path.read_text(errors="replace"), secret_values)
            if found:
                fail("%s: %s found in artifact %s" % (what, ", ".join(found), path.name))
    if not scanned:
        fail("%s: no artifact was written, nothing was scanned" % what)
    return scanned


def run_job(workdir, environment, email, secret_values, identity_name):
    runner = ansible_runner.run(
        private_data_dir=str(workdir), playbook="awx_job.yml", envvars=environment,
        extravars={"identity_email": email}, verbosity=3, quiet=True)
    stdout = runner.stdout.read()
    if runner.status != "successful" or runner.rc != 0:
        fail("the job ended %s (rc %s):\n%s" % (runner.status, runner.rc, stdout[-4000:]))
    events = list(runner.events)
    for event in events:
        found = leaks(json.dumps(event, default=str), secret_values)
        if found:
            fail("job event %s (%s) contains the %s" % (event.get("counter"), event.get("event"), ", ".join(found)))
    found = leaks(stdout, secret_values)
    if found:
        fail("the job's stdout contains the %s" % ", ".join(found))
    files = scan_artifacts(runner.config.artifact_dir, secret_values, "job")
    # The scan can see the secrets: ansible-runner's record of the environment it was given holds them.
    injected = leaks(pathlib.Path(runner.config.artifact_dir, "command").read_text(), secret_values)
    if "identity seed" not in injected or "Stellar secret" not in injected:
        fail("the credential was not injected into the job environment")
    # The scan looked at real results: the identity task's result event is among the scanned events.
    registered = [event for event in events if event.get("event") == "runner_on_ok"
                  and (event["event_data"].get("res") or {}).get("identity", {}).get("name") == identity_name]
    if not registered:
        fail("no job event carries the result of registering %s" % identity_name)
    return len(events), files


def run_inventory_update(workdir, environment, secret_values, identity_name):
    source = workdir / "grid.zos.yml"
    source.write_text("plugin: threefold.grid.zos\n")
    env = dict(environment, ANSIBLE_INVENTORY_UNPARSED_FAILED="true")
    artifacts = workdir / "inventory-artifacts"
    # AWX, too, has ansible-inventory write the JSON to a file and keeps stdout for the log.
    output = workdir / "inventory.json"
    out, err, rc = ansible_runner.run_command(
        executable_cmd="ansible-inventory",
        cmdline_args=["-i", str(source), "--list", "--output", str(output), "-vvv"],
        envvars=env, private_data_dir=str(workdir), artifact_dir=str(artifacts), runner_mode="subprocess",
        quiet=True)
    if rc != 0:
        fail("the inventory update failed (rc %s):\n%s\n%s" % (rc, out[-3000:], err[-3000:]))
    text = output.read_text()
    found = leaks(out + err + text, secret_values)
    if found:
        fail("the inventory update's output contains the %s" % ", ".join(found))
    listed = json.loads(text)
    if "zos" not in listed.get("all", {}).get("children", []) or listed["_meta"]["hostvars"]:
        fail("expected the empty zos group of %s (no containers), got %s" % (identity_name, text[:1000]))
    scan_artifacts(artifacts, secret_values, "inventory update")


def main():
    config = yaml.safe_load(pathlib.Path(sys.argv[1]).read_text())
    definition = credential_type()
    check_credential_type(definition)

    suffix = secrets.randbelow(10 ** 8)
    identity_name = "awx%d.3bot" % suffix
    seed = secrets.token_hex(32)
    stellar_secret = Keypair.random().secret
    # What a user types into the credential; the mnemonic field stays empty.
    inputs = {
        "network": "local",
        "explorer_url": config["tfgrid_explorer_url"],
        "identity_name": identity_name,
        "identity_seed": seed,
        "stellar_secret": stellar_secret,
        "horizon_url": config["tfgrid_horizon_url"],
    }
    environment = inject(definition, inputs)
    if environment.get("TFGRID_IDENTITY_MNEMONIC") != "":
        fail("an empty credential field must inject an empty variable")
    secret_values = {
        "identity seed": seed,
        "identity mnemonic": Mnemonic("english").to_mnemonic(bytes.fromhex(seed)),
        "Stellar secret": stellar_secret,
    }
    for key in list(os.environ):
        if key.startswith(NOT_IN_AWX):
            del os.environ[key]

    workdir = pathlib.Path(tempfile.mkdtemp(prefix="awx_runner."))
    try:
        private_data_dir(workdir)
        events, files = run_job(workdir, environment, "%s@example.com" % identity_name, secret_values, identity_name)
        run_inventory_update(workdir, environment, secret_values, identity_name)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("awx_runner: job and inventory update passed; %d job events and %d artifact files had no secret"
          % (events, files))


if __name__ == "__main__":
    main()
