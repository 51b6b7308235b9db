# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import os
import stat

import pytest
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.threefold.grid.plugins.module_utils._gateway_4to6 import tunnel_keypair
from ansible_collections.threefold.grid.plugins.modules import zos_gateway_4to6
from ansible_collections.threefold.grid.tests.unit.plugins.grid_fake import GATEWAY_WG_KEY
from ansible_collections.threefold.grid.tests.unit.plugins.modules.sample_grid import (
    DOWN_GW, FREE_GW, PAID_GW, SEED, sample_runner,
)

PRIVATE, PUBLIC = tunnel_keypair(SEED, "laptop")
OWN_KEY = "8vvTQwNYtWiA8Uv0vQ5kfxbFUU6TIKUQv7SiBPBa2DA="


@pytest.fixture
def tunnel(monkeypatch, capsys, explorer):
    return sample_runner(monkeypatch, capsys, zos_gateway_4to6.main, explorer, wait_sleep=0)


def args(**extra):
    merged = {"name": "laptop", "gateway_id": FREE_GW["node_id"]}
    merged.update(extra)
    return merged


def test_creates_a_tunnel_and_writes_the_config_0600(tunnel, explorer, tmp_path):
    path = str(tmp_path / "tf4to6.conf")
    result = tunnel(args(config_path=path))
    assert result["changed"] is True and result["action"] == "create"
    data = explorer.reservations[1]["data_reservation"]
    assert [w["public_key"] for w in data["gateway4to6"]] == [PUBLIC]
    assert data["gateway4to6"][0]["node_id"] == FREE_GW["node_id"] and data["currencies"] == ["FreeTFT"]
    got = result["gateway_4to6"]
    assert got["ips"] == ["2001:db8:4a7e:1::7"] and got["peers"][0]["public_key"] == GATEWAY_WG_KEY
    assert result["config_path"] == path and "config" not in result
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = open(path).read()
    assert "Address = 2001:db8:4a7e:1::7/128\nPrivateKey = %s\n" % PRIVATE in text
    assert "AllowedIPs = ::/0\nEndpoint = 203.0.113.7:3443\n" in text
    assert PRIVATE not in json.dumps(result)


def test_rerun_changes_nothing_and_another_key_replaces(tunnel, explorer, tmp_path):
    path = str(tmp_path / "tf4to6.conf")
    tunnel(args(config_path=path))
    before = os.stat(path).st_mtime_ns
    again = tunnel(args(config_path=path))
    assert again["changed"] is False and again["action"] == "none" and len(explorer.posted()) == 1
    assert os.stat(path).st_mtime_ns == before
    own = tunnel(args(config_path=path, wg_public_key=OWN_KEY), diff=True)
    assert own["action"] == "replace" and own["gateway_4to6"]["replaced"] == [1] and explorer.cancelled() == [1]
    assert own["diff"]["before"]["public_key"] == PUBLIC and own["diff"]["after"]["public_key"] == OWN_KEY
    # The machine keeps its own private key: the file has no PrivateKey line any more.
    assert "PrivateKey" not in open(path).read()


def test_without_a_path_the_config_is_returned_masked(tunnel, monkeypatch):
    # Record warn() calls: ansible-core gives each warning text once per process, whatever test came first.
    warned = []
    monkeypatch.setattr(AnsibleModule, "warn", lambda self, text: warned.append(text))
    result = tunnel(args())
    assert "PrivateKey = ********" in result["config"] and PRIVATE not in json.dumps(result)
    assert any("set config_path to get it in a 0600 file" in text for text in warned)


def test_check_mode_registers_and_writes_nothing(tunnel, explorer, tmp_path):
    path = tmp_path / "tf4to6.conf"
    result = tunnel(args(config_path=str(path)), check_mode=True, diff=True)
    # Check mode returns what would be registered, without an id and without the private key.
    assert result["changed"] is True and result["gateway_4to6"]["reservation_id"] is None
    assert PRIVATE not in json.dumps(result)
    assert result["diff"]["after"]["public_key"] == PUBLIC
    assert explorer.writes() == [] and not path.exists()


@pytest.mark.parametrize("extra, message", [
    ({"wg_public_key": "abc"}, "wg_public_key: 'abc' is not a WireGuard public key (base64 of 32 bytes)"),
    ({"gateway_id": DOWN_GW["node_id"]}, "gateway_id: gateway %r is down" % DOWN_GW["node_id"]),
    ({"gateway_id": "nope"}, "gateway_id: 'nope' is not a gateway known to the explorer"),
    ({"config_path": "/nonexistent-dir/x.conf"}, "config_path: the directory /nonexistent-dir does not exist"),
])
def test_bad_input_fails_before_signing(tunnel, explorer, extra, message):
    result = tunnel(args(**extra))
    assert result["failed"] is True and message in result["msg"]
    assert explorer.writes() == []


def test_a_gateway_error_fails_with_its_message_and_writes_no_file(tunnel, explorer, tmp_path):
    explorer.gateway_answer = "type of reservation not supported: gateway4to6"
    path = tmp_path / "tf4to6.conf"
    result = tunnel(args(config_path=str(path)))
    assert result["failed"] is True and "type of reservation not supported: gateway4to6" in result["msg"]
    assert result["gateway_4to6"]["reservation_id"] == 1 and not path.exists()


def test_a_gateway_that_never_answers_times_out_with_a_hint(tunnel, explorer):
    explorer.deploy = None  # tfgateway without an endpoint posts no result at all
    result = tunnel(args(wait_timeout=0))
    assert result["failed"] is True and result["msg"].startswith("Timeout after 0s")
    assert "posted no result: a gateway that does not offer 4to6 tunnels" in result["msg"]


def test_paid_gateway_offers_tft(tunnel, explorer):
    tunnel(args(gateway_id=PAID_GW["node_id"]))
    assert explorer.reservations[1]["data_reservation"]["currencies"] == ["TFT"]


def test_absent_cancels_and_removes_the_file_once(tunnel, explorer, tmp_path):
    path = tmp_path / "tf4to6.conf"
    tunnel(args(config_path=str(path)))
    gone = tunnel({"name": "laptop", "state": "absent", "config_path": str(path)})
    assert gone["changed"] is True and gone["config_removed"] is True and explorer.cancelled() == [1]
    assert not path.exists()
    again = tunnel({"name": "laptop", "state": "absent", "config_path": str(path)})
    assert again["changed"] is False and again["config_removed"] is False and again["gateway_4to6"] is None
