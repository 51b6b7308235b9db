"""``ansible-playbook`` processes the reliability suite starts, kills and waits for, each with the processes below it.

The environment, inventory and playbooks are bench/playbook_runs.py's; a play here runs with ``-v``
(task results are printed, so the secrets check reads what users' logs would hold) and keeps its
output in the suite's run directory.
"""

import json
import pathlib
import re
import subprocess
import sys
import time

from reliability_grid import kill_tree


class Play:
    """One ``ansible-playbook -v`` started now; ``wait`` gives its exit status (None when killed or timed out)."""

    def __init__(self, runner, log_path, playbook, extra_vars, env=None):
        self.log_path = pathlib.Path(log_path)
        vars_path = self.log_path.with_suffix(".vars.json")
        vars_path.write_text(json.dumps(extra_vars), encoding="utf-8")
        command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-v",
                   "-i", str(runner.inventory(["localhost"], lambda _index: {})),
                   "-e", "@" + str(vars_path), str(runner.playbooks / playbook)]
        self.started = time.monotonic()
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(command, cwd=str(runner.dir), env=dict(runner.env, **(env or {})),
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.killed = False

    def output(self):
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, text, timeout):
        """True once ``text`` is in the output, False when the play ended or ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            if text in self.output():
                return True
            time.sleep(0.2)
        return text in self.output()

    def kill(self):
        """SIGKILL ansible-playbook and every process it started (its workers and the module processes)."""
        self.killed = True
        kill_tree(self.process.pid)
        self.process.wait()

    def wait(self, timeout):
        try:
            returncode = self.process.wait(timeout=max(1.0, timeout - (time.monotonic() - self.started)))
        except subprocess.TimeoutExpired:
            self.kill()
            return None
        return None if self.killed else returncode

    def failures(self):
        """The distinct failure messages of the run, numbers replaced by N (ids differ, causes do not)."""
        return sorted({re.sub(r"\d+", "N", message) for message in re.findall(r'"msg": "([^"]*)"', self.output())})
