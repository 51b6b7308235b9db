# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""zos_container adopt_id: a reservation made outside Ansible managed under a name."""

from __future__ import annotations

import json

import pytest

from ansible_collections.threefold.grid.plugins.module_utils import _reservation_wait
from ansible_collections.threefold.grid.plugins.module_utils._views import tag_of
from ansible_collections.threefold.grid.plugins.modules import zos_container
from ansible_collections.threefold.grid.tests.unit.plugins.grid_fake import run_module
from ansible_collections.threefold.grid.tests.unit.plugins.modules.test_zos_container import (
    SECRET,
    container_args,
    grid_explorer,
    network_data,
    volume_data,
)


@pytest.fixture
def explorer(monkeypatch):
    """test_zos_container's grid (network "net", volume "data" on its node); no wait between polls, no TFGRID_*."""
    monkeypatch.setattr(_reservation_wait.time, "sleep", lambda seconds: None)
    for name in ("TFGRID_NETWORK", "TFGRID_EXPLORER_URL", "TFGRID_IDENTITY_NAME", "TFGRID_IDENTITY_SEED"):
        monkeypatch.delenv(name, raising=False)
    fake = grid_explorer()
    fake.add(network_data(), "net", kind="network")
    fake.add(volume_data(), "data", kind="volume")
    return fake


@pytest.fixture
def run(monkeypatch, capsys):
    def runner(explorer, **overrides):
        args = container_args()
        args.update(overrides)
        result = run_module(monkeypatch, capsys, zos_container.main, args, explorer)
        assert SECRET not in json.dumps(result)
        return result
    return runner


@pytest.fixture
def outside(run, explorer):
    """Reservation 3: the container of container_args(), registered, then stripped of its name tag (as made by
    zos_reservation or the raw API)."""
    run(explorer)
    explorer.reservations[3]["metadata"] = ""
    return 3


def test_a_matching_reservation_is_adopted_without_signing(run, explorer, outside):
    writes = len(explorer.writes())
    result = run(explorer, adopt_id=outside)
    assert result["changed"] is False and result["action"] == "adopt" and result["adopted"] == 3
    assert result["container"]["name"] == "web" and result["container"]["reservation_id"] == 3
    assert result["container"]["ipv4"] == "10.1.3.10"
    assert len(explorer.writes()) == writes
    assert run(explorer, adopt_id=outside)["action"] == "adopt"


def test_differences_are_listed_and_nothing_is_signed(run, explorer, outside):
    writes = len(explorer.writes())
    result = run(explorer, adopt_id=outside, entrypoint="/bin/sh", secret_env={"TOKEN": "x"},
                 capacity={"cpu": 2})
    assert result["failed"] is True
    assert "adopt_id: reservation 3 does not match the options, nothing was signed" in result["msg"]
    assert "entrypoint: the reservation has '/sbin/my_init', the options give '/bin/sh'" in result["msg"]
    assert "secret_env: the reservation sets PASSWORD, the options set TOKEN (values are not compared)" in result["msg"]
    assert "capacity: " in result["msg"]
    assert len(explorer.writes()) == writes


def test_replace_registers_the_options_under_the_name_then_adopt_id_rests(run, explorer, outside):
    result = run(explorer, adopt_id=outside, adopt_mismatch="replace", entrypoint="/bin/sh")
    assert result["changed"] is True and result["action"] == "replace"
    assert result["container"]["replaced"] == [3] and result["container"]["reservation_id"] == 4
    assert tag_of(explorer.reservations[4])["name"] == "web"
    again = run(explorer, adopt_id=outside, entrypoint="/bin/sh")
    assert again["changed"] is False and again["action"] == "none" and again["container"]["reservation_id"] == 4


def test_another_identitys_reservation_is_refused_before_signing(run, explorer, outside):
    explorer.users.append({"id": 2, "name": "bob.3bot", "pubkey": "00" * 32})
    explorer.reservations[outside]["customer_tid"] = 2
    writes = len(explorer.writes())
    result = run(explorer, adopt_id=outside)
    assert result["failed"] is True
    assert result["msg"].startswith("adopt_id: reservation 3 belongs to tid 2, not to this identity (tid 1)")
    assert len(explorer.writes()) == writes


@pytest.mark.parametrize("change, message", [
    (lambda r: r.update(metadata=json.dumps({"ansible": {"name": "db", "kind": "container", "fp": "f"}})),
     "adopt_id: reservation 3 is already managed as container 'db'"),
    (lambda r: r["data_reservation"]["containers"].append(dict(r["data_reservation"]["containers"][0],
                                                               workload_id=2)),
     "adopt_id: reservation 3 holds 2 containers, not exactly one of containers"),
    (lambda r: r.update(next_action=6), "adopt_id: reservation 3 is deleted, not live"),
])
def test_what_can_not_be_adopted_fails_clearly(run, explorer, outside, change, message):
    change(explorer.reservations[outside])
    writes = len(explorer.writes())
    result = run(explorer, adopt_id=outside)
    assert result["failed"] is True and result["msg"].startswith(message)
    assert len(explorer.writes()) == writes


def test_an_unknown_id_fails_clearly(run, explorer):
    result = run(explorer, adopt_id=77)
    assert result["failed"] is True and "reservation 77" in result["msg"]
    assert explorer.writes() == []
