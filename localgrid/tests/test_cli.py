"""`python -m localgrid serve`: announces its URLs, is quiet per request, stops cleanly on signals."""

import os
import re
import signal
import subprocess
import sys
import time

import httpx
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _serve(tmp_path, *extra):
    command = [sys.executable, "-m", "localgrid", "serve", "--port", "0", "--state", str(tmp_path / "cli.db"),
               "--profile", "fast", *extra]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    match = re.fullmatch(r"localgrid listening on (http://127\.0\.0\.1:\d+)\n", line)
    if not match:
        process.kill()
        raise AssertionError("unexpected first line %r; stderr: %s" % (line, process.stderr.read()))
    announced = [line]
    while not announced[-1].strip().startswith("profile "):
        announced.append(process.stdout.readline())
    return process, match.group(1), announced


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serve_announces_and_stops_on_signal(tmp_path, signum):
    process, base, announced = _serve(tmp_path, "--payment", "free", "--hub", str(tmp_path / "hub"),
                                      "--ledger-close", "0.25")
    try:
        info = httpx.get(base + "/localgrid/info", timeout=10).json()
        assert info["explorer_url"] == base + "/explorer" and info["horizon_url"] == base + "/stellar"
        assert info["payment_mode"] == "free" and info["profile"] == "fast"
        assert info["ledger_close_interval"] == 0.25 and "a ledger closes every 0.25 s" in announced[-1]
        assert info["network_passphrase"] == "Localgrid Stellar Network ; threefold.grid"
        assert set(info["assets"]) == {"TFT", "TFTA", "FreeTFT"} and info["assets"]["TFT"].startswith("TFT:G")
        (tmp_path / "hub" / "demo.flist").write_bytes(b"flist")
        assert httpx.get(base + "/hub/demo.flist", timeout=10).content == b"flist"
        for _ in range(3):
            assert httpx.get(base + "/explorer/nodes", timeout=10).status_code == 200
        cli_info = subprocess.run([sys.executable, "-m", "localgrid", "info", "--url", base], cwd=REPO,
                                  capture_output=True, text=True, timeout=30)
        assert '"payment_mode": "free"' in cli_info.stdout
    finally:
        process.send_signal(signum)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert [line.split(":")[0].strip() for line in announced[1:6]] == ["explorer", "horizon", "friendbot", "hub", "info"]
    assert announced[3].strip() == "friendbot: %s/stellar/friendbot?addr=G..." % base
    assert out == ""  # nothing is printed per request (no access log by default)
    assert "GET /explorer" not in err


def test_clock_admin_route(tmp_path):
    process, base, _ = _serve(tmp_path, "--payment", "stellar")
    try:
        before = httpx.get(base + "/localgrid/info", timeout=10).json()["now"]
        after = httpx.post(base + "/localgrid/clock", json={"advance": 7200}, timeout=10).json()["now"]
        assert after - before >= 7200
        assert httpx.post(base + "/localgrid/clock", json={"advance": -1}, timeout=10).status_code == 400
        assert httpx.get(base + "/localgrid/info", timeout=10).json()["now"] >= after
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert process.returncode == 0
    # the state file keeps the advanced clock for the next run
    process, base, _ = _serve(tmp_path)
    try:
        assert httpx.get(base + "/localgrid/info", timeout=10).json()["now"] > time.time() + 7000
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)


def test_access_log_prints_one_line_per_request(tmp_path):
    process, base, _ = _serve(tmp_path, "--payment", "free", "--access-log")
    try:
        assert httpx.get(base + "/explorer/nodes", params={"farm": "1"}, timeout=10).status_code == 200
        assert httpx.get(base + "/explorer/reservations/99", timeout=10).status_code == 404
        assert httpx.post(base + "/explorer/users", content=b"{", timeout=10).status_code == 400
        assert httpx.get(base + "/localgrid/info", timeout=10).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    # the simulated nodes' and gateways' own polls and reports are logged too
    lines = [line for line in out.splitlines() if not re.search(r"/reservations/workloads/|/(nodes|gateways)/\w+/", line)]
    pattern = r"(GET|POST) (\S+) (\d{3}) \d+\.\dms"
    assert [re.fullmatch(pattern, line).groups() for line in lines] == [
        ("GET", "/explorer/nodes?farm=1", "200"),
        ("GET", "/explorer/reservations/99", "404"),
        ("POST", "/explorer/users", "400"),
        ("GET", "/localgrid/info", "200"),
    ]


def test_faults_are_announced_shown_and_logged(tmp_path):
    spec = "http5xx=0,drop=1,latency=0ms,after=0,seed=3"
    process, base, announced = _serve(tmp_path, "--payment", "free", "--access-log", "--faults", "drop=1,seed=3")
    try:
        assert announced[-1].strip().endswith(", faults " + spec)
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(base + "/explorer/farms", timeout=10)
        faults = httpx.get(base + "/localgrid/info", timeout=10).json()["faults"]
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert faults["spec"] == spec and faults["seed"] == 3 and faults["injected"]["drop"] >= 1
    assert "GET /explorer/farms - " in out  # no status: the connection was closed without an answer


@pytest.mark.parametrize(
    "spec, message",
    [
        ("http5xx=2", "argument --faults: invalid fault spec: http5xx=2: expected a share between 0 and 1"),
        ("lag=1s", "argument --faults: invalid fault spec: unknown fault 'lag'"),
    ],
)
def test_bad_fault_spec_is_a_clear_cli_error(tmp_path, spec, message):
    result = subprocess.run(
        [sys.executable, "-m", "localgrid", "serve", "--port", "0", "--state", str(tmp_path / "x.db"), "--faults", spec],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "x.db").exists()  # refused before anything starts
