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
    process, base, announced = _serve(tmp_path, "--payment", "free", "--hub", str(tmp_path / "hub"))
    try:
        info = httpx.get(base + "/localgrid/info", timeout=10).json()
        assert info["explorer_url"] == base + "/explorer" and info["horizon_url"] == base + "/stellar"
        assert info["payment_mode"] == "free" and info["profile"] == "fast"
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
