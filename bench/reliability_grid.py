"""A localgrid under ``--faults`` that the reliability suite can SIGKILL and start again on the same state.

Unlike harness.LocalgridProcess it keeps one port (picked free once, so the playbooks' URLs stay
valid across restarts), one state file and one log per start, all in the run's directory; a kill
stops the process and every process below it, by their ids.
"""

import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import time

from harness import REPO_ROOT, STARTUP_TIMEOUT, STOP_TIMEOUT, _scaled_grid

CAPACITY = 4  # the packaged grid's capacity times this: duplicates and replacements must not run a node out
# The fault mix: 10 % 5xx, 5 % dropped connections, 200 ms latency, half of them after the request applied.
FAULTS = "http5xx=0.1,drop=0.05,latency=200ms,after=0.5"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children():
    """{parent pid: [child pids]} of every process, from /proc/<pid>/stat."""
    children = {}
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text(encoding="ascii", errors="replace").rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def _tree(pid):
    children, found, pending = _children(), [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending += children.get(current, [])
    return found


def kill_tree(pid):
    """SIGKILL ``pid`` and every process below it, as a crash of the machine would stop them.

    ansible-playbook's workers call setsid(), so neither its session nor its process group holds
    them; the tree does. Every process of it is stopped first (a stopped process cannot fork), then
    the tree is read again and killed.
    """
    for sig in (signal.SIGSTOP, signal.SIGKILL):
        for member in _tree(pid):
            try:
                os.kill(member, sig)
            except ProcessLookupError:
                pass


class FaultyLocalgrid:
    """``python -m localgrid serve --faults SPEC`` on a fixed free port, stellar payment, simulated runtime."""

    payment = "stellar"

    def __init__(self, directory, faults):
        self.dir = pathlib.Path(directory)
        self.faults = faults
        self.port = free_port()
        self.state_path = self.dir / "state.db"
        self.base_url = "http://127.0.0.1:%d" % self.port
        self.explorer_url = self.base_url + "/explorer"
        self.horizon_url = self.base_url + "/stellar"
        self.logs = []
        self.process = None
        self.started_at = None

    def start(self):
        log_path = self.dir / ("localgrid-%d.log" % (len(self.logs) + 1))
        self.logs.append(log_path)
        command = [sys.executable, "-m", "localgrid", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                   "--state", str(self.state_path), "--profile", "fast", "--payment", self.payment,
                   "--runtime", "simulated", "--faults", self.faults,
                   "--grid", _scaled_grid(str(self.dir), CAPACITY)]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))
        if self.started_at is None:
            self.started_at = time.time()  # a fresh state's grid clock is the wall clock
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(command, cwd=str(REPO_ROOT), env=env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if re.search(r"^localgrid listening on ", log_path.read_text(encoding="utf-8", errors="replace"), re.M):
                return
            if self.process.poll() is not None:
                raise RuntimeError("localgrid exited during start-up:\n" + self._tail(log_path))
            time.sleep(0.1)
        self.kill()
        raise RuntimeError("localgrid did not start within %.0f s:\n%s" % (STARTUP_TIMEOUT, self._tail(log_path)))

    def kill(self):
        """SIGKILL, as a crash or an OOM kill would: no shutdown, the state as the last commit left it."""
        if self.process is not None:
            kill_tree(self.process.pid)
            self.process.wait()
            self.process = None

    def stop(self):
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        self.kill()

    @staticmethod
    def _tail(path, lines=30):
        return "".join(path.read_text(encoding="utf-8", errors="replace").splitlines(True)[-lines:])
