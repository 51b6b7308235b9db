"""cpu/memory limits of the namespaces runtime: written as 0-OS sets them into a cgroup v2 tree that has
the controllers (a fake tree here: this machine's v2 tree may not delegate them), and reported, once, when
they cannot be applied."""

import logging
import os

from localgrid.runtime.base import ContainerSpec
from localgrid.runtime.cgroups import Cgroups
from localgrid.runtime.namespaces import NamespaceRuntime
from localgrid.tests.conftest import wait_for
from localgrid.tests.runtime_support import busybox_rootfs, require_namespaces


def _tree(root, controllers):
    root.mkdir(parents=True)
    (root / "cgroup.controllers").write_text(controllers + "\n")
    (root / "cgroup.subtree_control").write_text("")
    return root


def test_limits_are_written_as_zos_sets_them_where_v2_has_cpu_and_memory(tmp_path):
    root = _tree(tmp_path / "v2", "cpuset cpu io memory pids")
    cgroups = Cgroups("localgrid-test", candidates=(str(tmp_path / "absent"), str(root)))
    assert cgroups.status == "applied (cgroup v2 at %s)" % root
    procs = cgroups.create("lgc1", 2, 512)
    group = root / "localgrid-test"
    assert procs == str(group / "lgc1" / "cgroup.procs")
    assert (root / "cgroup.subtree_control").read_text() == "+cpu +memory"
    assert (group / "cgroup.subtree_control").read_text() == "+cpu +memory"
    assert (group / "lgc1" / "memory.max").read_text() == str(512 * 1024 * 1024)
    assert (group / "lgc1" / "cpu.max").read_text() == "200000 100000"


def test_not_applied_without_the_controllers_or_a_v2_tree(tmp_path):
    root = _tree(tmp_path / "v2", "io pids")
    cgroups = Cgroups("localgrid-test", candidates=(str(root),))
    assert cgroups.status == "not applied: cgroup v2 at %s has no cpu/memory controller" % root
    assert cgroups.create("lgc1", 1, 256) is None
    assert not (root / "localgrid-test").exists()
    assert Cgroups("localgrid-test", candidates=(str(tmp_path / "absent"),)).status == (
        "not applied: no cgroup v2 hierarchy is mounted")


def test_a_failure_to_create_is_reported_once_and_stops_further_tries(tmp_path, caplog):
    root = _tree(tmp_path / "v2", "cpu memory")
    (root / "cgroup.subtree_control").unlink()
    (root / "cgroup.subtree_control").mkdir()  # writing it fails, like a tree that does not delegate
    cgroups = Cgroups("localgrid-test", candidates=(str(root),))
    with caplog.at_level(logging.WARNING, logger="localgrid.runtime.cgroups"):
        assert cgroups.create("lgc1", 1, 256) is None
        assert cgroups.create("lgc2", 1, 256) is None
    assert cgroups.status.startswith("not applied: [Errno 21] Is a directory")
    assert [record.getMessage() for record in caplog.records] == ["runtime: cpu/memory limits %s" % cgroups.status]


def test_a_container_joins_its_cgroup_before_its_entrypoint_runs(tmp_path):
    require_namespaces()
    runtime = NamespaceRuntime(str(tmp_path / "state.runtime"), str(tmp_path / "cache"), "http://127.0.0.1:1/hub",
                               start_grace=0.0, stop_grace=0.5)
    try:
        runtime.cgroups = Cgroups(runtime.dir.cgroup_group(), candidates=(str(_tree(tmp_path / "v2", "cpu memory")),))
        image = "1" * 32
        busybox_rootfs(tmp_path / "cache" / "images" / image)
        spec = ContainerSpec(node_id="n", gwid="1-1", flist_url="", argv=["/bin/sh", "-c", "echo up; exec sleep 60"],
                             env={"PATH": "/bin"}, volumes=[], cpu=1, memory_mib=64, image=image)
        runtime.start_container(spec, None)
        wait_for(lambda: "up" in (runtime.output("n", "1-1") or ""))
        procs = tmp_path / "v2" / runtime.dir.cgroup_group() / runtime.dir.netns_name("n", "1-1") / "cgroup.procs"
        assert procs.read_text() == "0\n"  # written by PID 1 itself, in its PID namespace: "this process"
        assert runtime.describe()["cgroup_limits"] == "applied (cgroup v2 at %s)" % (tmp_path / "v2")
        runtime.remove_container("n", "1-1")
    finally:
        runtime.shutdown()
    assert not os.path.exists(runtime.dir.container("n", "1-1").home)
