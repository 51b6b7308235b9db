"""The runtime's command line: `flist build`, the runtime choice of `serve`, and its announcement."""

import hashlib
import subprocess
import sys
import tarfile

import httpx
import pytest

from localgrid.runtime import choice
from localgrid.tests.test_cli import REPO, _serve


def _localgrid(*args):
    return subprocess.run([sys.executable, "-m", "localgrid", *args], cwd=REPO, capture_output=True, text=True,
                          check=False)


def test_flist_build_packs_a_directory_or_copies_a_tar_into_the_hub(tmp_path):
    rootfs = tmp_path / "rootfs"
    (rootfs / "bin").mkdir(parents=True)
    (rootfs / "bin" / "app").write_text("#!/bin/sh\n")
    hub = tmp_path / "hub"
    done = _localgrid("flist", "build", str(rootfs), "alice/app", "--hub", str(hub))
    assert done.returncode == 0, done.stderr
    flist = hub / "alice" / "app.flist"
    md5 = hashlib.md5(flist.read_bytes()).hexdigest()
    assert done.stdout.startswith("built /hub/alice/app.flist (") and md5 in done.stdout
    assert (hub / "alice" / "app.flist.md5").read_text() == md5 + "\n"
    with tarfile.open(flist) as archive:
        assert "./bin/app" in archive.getnames()

    done = _localgrid("flist", "build", str(flist), "bob/copy.flist", "--hub", str(hub))
    assert done.returncode == 0, done.stderr
    assert (hub / "bob" / "copy.flist").read_bytes() == flist.read_bytes()


@pytest.mark.parametrize("source, name, message", [
    ("missing", "app", "does not exist"),
    ("notatar", "app", "is neither a directory nor a tar archive"),
    ("rootfs", "../escape", "must be a relative path like user/app"),
])
def test_flist_build_refuses_bad_input_and_writes_nothing(tmp_path, source, name, message):
    (tmp_path / "rootfs").mkdir()
    (tmp_path / "notatar").write_text("plain text")
    done = _localgrid("flist", "build", str(tmp_path / source), name, "--hub", str(tmp_path / "hub"))
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert not list(tmp_path.rglob("*.flist*"))


def test_serve_says_it_simulates_when_asked_to(tmp_path):
    process, base, announced = _serve(tmp_path, "--runtime", "simulated")
    try:
        assert "  runtime:   simulated, containers do not run: chosen with --runtime simulated\n" in announced
        runtime = httpx.get(base + "/localgrid/info", timeout=10).json()["runtime"]
        assert runtime == {"name": "simulated", "reason": "chosen with --runtime simulated"}
    finally:
        process.terminate()
        process.wait(30)


def test_the_runtime_choice_falls_back_with_the_reason_or_refuses_when_namespaces_is_required(monkeypatch):
    monkeypatch.setattr(choice, "missing_requirement", lambda: "not running as root (namespaces need root)")
    assert choice.resolve(None) == ("simulated", "not running as root (namespaces need root)")
    with pytest.raises(choice.RuntimeUnavailable, match="--runtime namespaces cannot work on this machine: not running"):
        choice.resolve("namespaces")
    monkeypatch.setattr(choice, "missing_requirement", lambda: None)
    assert choice.resolve(None)[0] == "namespaces"
    assert choice.resolve("simulated")[0] == "simulated"
