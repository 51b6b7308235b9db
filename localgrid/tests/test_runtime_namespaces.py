"""The namespaces runtime for real: containers deployed through the explorer run as PID 1 of their
own namespaces with their env, secret env and volume; failures are the node's error; delete and
restart leave nothing behind; a crashed localgrid's leftovers are cleaned up on its next start."""

import base64
import glob
import hashlib
import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys

import httpx
import nacl.public
import pytest

from localgrid.runtime import launch, netns, recipes
from localgrid.runtime.cgroups import Cgroups
from localgrid.runtime.layout import RuntimeDir, read_record
from localgrid.runtime.relay import socket_in
from localgrid.tests.conftest import volume, wait_for
from localgrid.tests.redis_server import RedisServer
from localgrid.tests.runtime_support import (
    Deployer, RemoteLocalgrid, busybox_rootfs, publish, require_namespaces)
from localgrid.tests.test_node_e2e import seal
from localgrid.tests.wireguard_client import StaleHostTunnel

TOKEN = b"s3cret-token-value"


@pytest.fixture
def deployer(start_localgrid, tmp_path):
    require_namespaces()
    lg = start_localgrid(payment="free", runtime="namespaces")
    deployer = Deployer(lg, "runtime%d.3bot" % os.getpid())
    deployer.flist = publish(lg, tmp_path)
    yield deployer
    deployer.close()


def _record(deployer, gwid):
    return launch_record(deployer.lg.settings.runtime_dir, deployer.node["node_id"], gwid)


def launch_record(runtime_dir, node_id, gwid):
    return read_record(RuntimeDir(runtime_dir).container(node_id, gwid).record)


def _files_containing(root, needle):
    found = []
    for directory, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(directory, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            with open(path, "rb") as handle:
                if needle in handle.read():
                    found.append(path)
    return found


def test_container_runs_as_pid1_with_its_env_secret_and_volume_then_delete_removes_it(deployer):
    node = deployer.node
    box = deployer.container(deployer.flist, entrypoint="/bin/app", environment={"GREETING": "hello"},
                             secret_environment={"TOKEN": seal(node, TOKEN)},
                             volumes=[{"volume_id": "-2", "mountpoint": "/data"}])
    rid = deployer.reserve(containers=[box], volumes=[volume(2, node["node_id"], size=1)],
                           networks=[deployer.network()])
    results = deployer.results(rid, 3)
    gwid = "%d-3" % rid
    assert all(r["state"] == 1 for r in results.values()), results
    text = wait_for(lambda: (out := deployer.output(gwid)) and "interfaces=" in out and out)
    assert "start pid=1 host=%s greeting=hello" % gwid in text
    assert "token sha256=%s" % hashlib.sha256(TOKEN).hexdigest() in text
    assert "interfaces=eth0 lo " in text  # its own network namespace, plugged into its network
    volume_dir = os.path.join(deployer.lg.settings.runtime_dir, "volumes", node["node_id"], "%d-2" % rid)
    with open(os.path.join(volume_dir, "hello"), encoding="utf-8") as handle:
        assert handle.read() == "written by hello\n"
    record = _record(deployer, gwid)
    assert launch.same_process(record["pid"], record["start_ticks"]) and netns.exists(record["netns"])
    # The secret value is in no file localgrid wrote and on no command line.
    settings = deployer.lg.settings
    for root in (settings.runtime_dir, os.path.dirname(settings.state_path)):
        assert _files_containing(root, TOKEN) == []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as handle:
                assert TOKEN not in handle.read()
        except OSError:
            continue
    info = httpx.get(deployer.lg.base_url + "/localgrid/info").json()["runtime"]
    assert info["name"] == "namespaces" and info["running_containers"] == 1

    deployer.delete(rid)
    wait_for(lambda: not launch.same_process(record["pid"], record["start_ticks"]))
    wait_for(lambda: not os.path.exists(volume_dir))
    assert not netns.exists(record["netns"])
    assert deployer.output(gwid) is None  # its files are gone too


def test_an_entrypoint_that_exits_later_is_restarted_and_its_exit_logged(deployer):
    rid = deployer.reserve(containers=[deployer.container(deployer.flist, entrypoint="/bin/app",
                                                          environment={"EXIT_AFTER": "1.5", "GREETING": "again"})],
                           networks=[deployer.network()])
    results = deployer.results(rid, 2)
    assert [r["state"] for r in results.values()] == [1, 1], results
    gwid = "%d-3" % rid
    text = wait_for(lambda: (out := deployer.output(gwid)) and out.count("start pid=1") >= 2 and out, timeout=30)
    assert "[localgrid] /bin/app exited with status 7; restarting" in text


@pytest.mark.parametrize("entrypoint, flist_name, message", [
    ("/bin/nope", None, 'error starting container: exec: "/bin/nope": stat /bin/nope: no such file or directory'),
    ("nope --flag", None, 'error starting container: exec: "nope": executable file not found in $PATH'),
    ("/bin/not-executable", None, 'error starting container: exec: "/bin/not-executable": permission denied'),
    ("/bin/sh -c 'echo bye; exit 3'", None, "error starting container: /bin/sh exited at once with status 3: bye"),
    ("/bin/app", "broken", "is not a root filesystem archive"),
])
def test_a_container_that_cannot_start_fails_with_the_cause_and_leaves_nothing(deployer, entrypoint, flist_name, message):
    flist = deployer.flist
    if flist_name:
        hub = deployer.lg.settings.hub_dir
        with open(os.path.join(hub, "broken.flist"), "wb") as handle:
            handle.write(b"not a tar archive")
        flist = deployer.lg.settings.hub_url.rstrip("/") + "/broken.flist"
    rid = deployer.reserve(containers=[deployer.container(flist, entrypoint=entrypoint)], networks=[deployer.network()])
    result = deployer.results(rid, 2)["%d-3" % rid]
    assert result["state"] == 0 and message in result["message"], result
    runtime = deployer.lg.app_state.runtime
    assert runtime.describe()["running_containers"] == 0
    assert not netns.exists(runtime.dir.netns_name(deployer.node["node_id"], "%d-3" % rid))
    assert not os.path.exists(runtime.dir.container(deployer.node["node_id"], "%d-3" % rid).home)


def _env():
    return dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


def _keys():
    """(public key of a peer, private key of our own), base64."""
    return tuple(base64.b64encode(bytes(key)).decode() for key in (
        nacl.public.PrivateKey.generate().public_key, nacl.public.PrivateKey.generate()))


def _serve(state, port_file):
    env = _env()
    output = open(port_file, "w", encoding="utf-8")  # pylint: disable=consider-using-with
    process = subprocess.Popen(
        [sys.executable, "-m", "localgrid", "serve", "--port", "0", "--state", state, "--payment", "free",
         "--runtime", "namespaces"], stdout=output, stderr=subprocess.STDOUT, env=env)
    output.close()

    def url():
        with open(port_file, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("localgrid listening on "):
                    return line.split()[-1]
        assert process.poll() is None, open(port_file, encoding="utf-8").read()
        return None

    return process, wait_for(url, timeout=120)


def _network_records(runtime_dir):
    return [read_record(path) for path in glob.glob(os.path.join(runtime_dir, "networks", "*", "*", "run.json"))]


def _read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def test_after_a_sigkill_the_next_start_cleans_up_reports_a_stale_tunnel_and_brings_containers_back(tmp_path):
    require_namespaces()
    state = str(tmp_path / "state.db")
    process, url = _serve(state, tmp_path / "first.log")
    tunnel = deployer = None
    try:
        lg = RemoteLocalgrid(url, state)
        deployer = Deployer(lg, "crash%d.3bot" % os.getpid())
        flist = publish(lg, tmp_path)
        network = deployer.network()
        box = deployer.container(flist, entrypoint="/bin/app", environment={"GREETING": "hi"},
                                 volumes=[{"volume_id": "-2", "mountpoint": "/data"}])
        rid = deployer.reserve(containers=[box], volumes=[volume(2, deployer.node["node_id"], size=1)],
                               networks=[network])
        assert {r["state"] for r in deployer.results(rid, 3).values()} == {1}
        gwid = "%d-3" % rid
        first = wait_for(lambda: launch_record(lg.settings.runtime_dir, deployer.node["node_id"], gwid))
        endpoint = "%s:%d" % (ipaddress.ip_interface(deployer.node["public_config"]["ipv4"]).ip,
                              network["network_resources"][0]["wireguard_listen_port"])
        tunnel = StaleHostTunnel(endpoint, *_keys())  # the user's tunnel, up while localgrid gets killed
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        assert launch.same_process(first["pid"], first["start_ticks"])  # orphaned, still running
        assert _read(tmp_path / "first.log").count("cpu/memory limits: %s" % Cgroups("probe").status) == 1

        process, url = _serve(state, tmp_path / "second.log")
        assert not launch.same_process(first["pid"], first["start_ticks"])
        second = wait_for(lambda: launch_record(lg.settings.runtime_dir, deployer.node["node_id"], gwid))
        assert second["pid"] != first["pid"] and netns.exists(second["netns"])
        hello = os.path.join(lg.settings.runtime_dir, "volumes", deployer.node["node_id"], "%d-2" % rid, "hello")
        wait_for(lambda: _read(hello) == "written by hi\nwritten by hi\n")
        log = _read(tmp_path / "second.log")
        assert "cleaned up after the previous run: process %d, netns %s" % (first["pid"], first["netns"]) in log
        assert "WireGuard interface %s on this machine was brought up against the previous run (its peer is %s)" % (
            tunnel.ifname, endpoint) in log
        info = httpx.get(url + "/localgrid/info").json()["runtime"]
        assert info["stale_tunnels"] == ["%s (peer %s)" % (tunnel.ifname, endpoint)]

        # Killed again, then cleaned up without a restart (what scripts/with-localgrid.sh does after a SIGKILL).
        networks = wait_for(lambda: _network_records(lg.settings.runtime_dir))
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        assert launch.same_process(second["pid"], second["start_ticks"])
        done = subprocess.run([sys.executable, "-m", "localgrid", "cleanup", "--state", state], capture_output=True,
                              text=True, timeout=120, check=False, env=_env())
        assert done.returncode == 0, done.stderr
        assert "process %d, netns %s" % (second["pid"], second["netns"]) in done.stdout
        assert "stale WireGuard interface on this machine: %s (peer %s)" % (tunnel.ifname, endpoint) in done.stdout
        assert not launch.same_process(second["pid"], second["start_ticks"]) and not netns.exists(second["netns"])
        for record in networks:
            assert not launch.same_process(record["pid"], record["start_ticks"]) and not netns.exists(record["netns"])
        assert _network_records(lg.settings.runtime_dir) == [] and launch_record(
            lg.settings.runtime_dir, deployer.node["node_id"], gwid) is None
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)
        if tunnel is not None:
            tunnel.close()
        if deployer is not None:
            deployer.close()


def _why_not_running(deployer, gwid):
    response = httpx.get("%s/localgrid/nodes/%s/workloads/%s/output" % (deployer.lg.base_url, deployer.node["node_id"],
                                                                        gwid))
    assert response.status_code == 404
    return response.json()["error"]


def test_catalogue_flists_run_their_recipe_image_once_built_and_the_others_say_they_do_not_run(deployer, tmp_path):
    seed = "https://hub.grid.tf/zaibon/zaibon-ubuntu-ssh-0.0.2.flist"
    base = "https://hub.grid.tf/tf-official-apps/base:latest.flist"
    catalogue = httpx.get(deployer.lg.base_url + "/localgrid/info").json()["runtime"]["catalogue"]
    assert catalogue[base] == recipes.NOT_RUNNABLE
    assert catalogue[seed] == ("image debian-ssh not built: deployed, not run until "
                               "`python -m localgrid image build debian-ssh`")
    rid = deployer.reserve(containers=[deployer.container(seed, entrypoint="/sbin/my_init")],
                           networks=[deployer.network()])
    assert {r["state"] for r in deployer.results(rid, 2).values()} == {1}
    assert _why_not_running(deployer, "%d-3" % rid) == (
        "no output: %s runs image debian-ssh, which is not built (python -m localgrid image build debian-ssh): "
        "deployed, not run" % seed)
    rid = deployer.reserve(containers=[deployer.container(base, entrypoint="/sbin/zinit init", ip="10.240.1.7")])
    assert deployer.results(rid, 1)["%d-3" % rid]["state"] == 1
    assert _why_not_running(deployer, "%d-3" % rid) == "no output: %s is %s" % (base, recipes.NOT_RUNNABLE)

    # Stand in for the built debian-ssh image with the busybox rootfs (its /sbin/my_init is the test app).
    images_dir = deployer.lg.settings.images_dir
    rootfs = busybox_rootfs(tmp_path / "seed")
    (rootfs / "sbin").mkdir()
    os.symlink("/bin/app", rootfs / "sbin" / "my_init")
    os.makedirs(images_dir, exist_ok=True)
    os.rename(rootfs, recipes.image_dir(images_dir, recipes.RECIPES["debian-ssh"]))
    rid = deployer.reserve(containers=[deployer.container(seed, entrypoint="/sbin/my_init", ip="10.240.1.6",
                                                          environment={"GREETING": "seed"})])
    assert deployer.results(rid, 1)["%d-3" % rid]["state"] == 1
    assert "greeting=seed" in wait_for(lambda: deployer.output("%d-3" % rid))
    assert httpx.get(deployer.lg.base_url + "/localgrid/info").json()["runtime"]["catalogue"][seed] == (
        "runs image debian-ssh")


def test_output_goes_to_the_redis_log_channels_with_each_exit(deployer):
    redis = RedisServer()
    subscriber = redis.subscribe("box-stdout", "box-stderr")
    try:
        logs = [{"type": "redis", "data": {"stdout": redis.url("box-stdout"), "stderr": redis.url("box-stderr")}},
                {"type": "redis", "data": {"stdout": "redis://192.0.2.1:6379/elsewhere", "stderr": ""}}]
        box = deployer.container(deployer.flist, entrypoint="/bin/app", logs=logs,
                                 environment={"EXIT_AFTER": "1.5", "GREETING": "redis"})
        rid = deployer.reserve(containers=[box], networks=[deployer.network()])
        assert {r["state"] for r in deployer.results(rid, 2).values()} == {1}
        wait_for(lambda: b"exited with status 7" in subscriber.read(), timeout=30)
        messages = subscriber.messages()
        assert ("box-stdout", b"start pid=1 host=%d-3 greeting=redis" % rid) in messages
        assert ("box-stderr", b"hello on stderr") in messages
        assert ("box-stderr", b"[localgrid] /bin/app exited with status 7; restarting in 1.0 s") in messages
        assert all(channel in ("box-stdout", "box-stderr") for channel, _line in messages)
    finally:
        subscriber.close()
        redis.stop()


def _http_get_in(namespace, address, path):
    """GET http://address:7681/path from inside ``namespace`` (where the container's network is routed)."""
    sock = socket_in(netns.path(namespace), socket.SOCK_STREAM)
    with sock:
        sock.settimeout(10)
        sock.connect((address, 7681))
        sock.sendall(b"GET %s HTTP/1.0\r\nHost: corex\r\n\r\n" % path.encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _sep, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode()


def test_an_interactive_container_runs_corex_on_port_7681(deployer):
    box = deployer.container(deployer.flist, entrypoint="/bin/ignored", interactive=True)
    rid = deployer.reserve(containers=[box], networks=[deployer.network()])
    assert {r["state"] for r in deployer.results(rid, 2).values()} == {1}
    agent = next(a for a in deployer.lg.app_state.agents if a.node_id == deployer.node["node_id"])
    namespace = deployer.lg.app_state.runtime.networks.namespace(deployer.node["node_id"],
                                                                agent.state.networks()[0]["net_id"])

    def processes():
        try:
            return _http_get_in(namespace, "10.240.1.5", "/api/processes")
        except OSError:
            return None

    status, body = wait_for(processes)
    assert status == 200
    listed = json.loads(body)
    assert {"pid": 1, "cmdline": "/corex/busybox nc -ll -p 7681 -e /corex/handler"} in listed
    status, body = _http_get_in(namespace, "10.240.1.5",
                                "/api/process/start?arg[]=/bin/sh&arg[]=-c&arg[]=echo%20hello%20corex%3B%20sleep%20600")
    assert status == 200
    pid = json.loads(body)["id"]
    assert wait_for(lambda: _http_get_in(namespace, "10.240.1.5", "/api/process/logs?id=%d" % pid)[1]) == "hello corex\n"
    assert any(p["pid"] == pid for p in json.loads(_http_get_in(namespace, "10.240.1.5", "/api/processes")[1]))
    assert _http_get_in(namespace, "10.240.1.5", "/api/process/kill?id=%d" % pid) == (200, '{"killed": %d}' % pid)
    assert _http_get_in(namespace, "10.240.1.5", "/nope")[0] == 404


def test_with_localgrid_cleans_up_after_killing_localgrid(tmp_path):
    """scripts/with-localgrid.sh, told to SIGKILL localgrid at once, still leaves no container or namespace."""
    require_namespaces()
    repo = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    log = tmp_path / "localgrid.log"
    env = dict(_env(), TFGRID_VENV=sys.prefix, LOCALGRID_PAYMENT="free", LOCALGRID_STOP_TIMEOUT="0",
               LOCALGRID_LOG=str(log))
    done = subprocess.run(["bash", os.path.join(repo, "scripts", "with-localgrid.sh"), sys.executable,
                           os.path.join(repo, "localgrid", "tests", "deploy_for_crash.py"), str(tmp_path / "record.json")],
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr + _read(log)
    with open(tmp_path / "record.json", encoding="utf-8") as handle:
        record = json.load(handle)
    assert not launch.same_process(record["pid"], record["start_ticks"]) and not netns.exists(record["netns"])
    assert "cleaned up: process %d, netns %s" % (record["pid"], record["netns"]) in _read(log)
    assert not os.path.exists(record["runtime_dir"])
