# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.threefold.grid.plugins.module_utils._errors import SpecError
from ansible_collections.threefold.grid.plugins.module_utils._spec import Secret, fingerprint, masked
from ansible_collections.threefold.grid.plugins.module_utils._workloads import describe_zdb
from ansible_collections.threefold.grid.plugins.module_utils._zdb import normalise_zdb, zdb_result, zdb_workload

NODE = "2fi9ZZiBGW4G9pnrN656bMfW6x55RSoHDeMrd9pgSA8T"


def options(**overrides):
    base = {"node_id": NODE, "size": 5, "mode": "user", "password": "pw", "disk_type": "SSD", "public": False}
    base.update(overrides)
    return base


def test_spec_keeps_the_password_secret_and_fingerprints_it():
    spec = normalise_zdb(options())
    assert spec["password"] == Secret("pw")
    assert masked(spec)["password"] == "********"
    assert fingerprint(spec, b"k") != fingerprint(normalise_zdb(options(password="other")), b"k")
    assert normalise_zdb(options(password=None))["password"] == ""


@pytest.mark.parametrize("overrides, message", [
    ({"size": 0}, "size: 0 must be at least 1"),
    ({"size": 70000}, "size: 70000 must be at least 1"),
    ({"node_id": " "}, "node_id: ' ' must be a node id"),
    ({"password": "a b"}, "password: must not contain whitespace"),
])
def test_bad_options_name_the_option(overrides, message):
    with pytest.raises(SpecError) as error:
        normalise_zdb(options(**overrides))
    assert str(error.value).startswith(message)
    assert "a b" not in str(error.value)


def test_workload_seals_the_password_and_describes_it_masked():
    sealed = []
    workload = zdb_workload(normalise_zdb(options(mode="seq", disk_type="HDD")), 1,
                            lambda node, text: sealed.append((node, text)) or "abcd")
    assert sealed == [(NODE, "pw")]
    assert (workload["mode"], workload["disk_type"], workload["password"]) == (0, 0, "abcd")
    assert describe_zdb(workload)["password"] == "********"
    assert describe_zdb(workload)["mode"] == "seq"
    assert zdb_workload(normalise_zdb(options(password="")), 1, None)["password"] == ""


@pytest.mark.parametrize("data, ips", [
    ({"Namespace": "7-1", "IP": "2001:db8::1", "Port": 9900}, ["2001:db8::1"]),  # zos up to v0.3.4
    ({"Namespace": "7-1", "IPs": ["2001:db8::1", "fd00::1"], "Port": 9900}, ["2001:db8::1", "fd00::1"]),  # v0.3.5
])
def test_result_accepts_ip_and_ips(data, ips):
    result = zdb_result(7, 1, [{"workload_id": "7-1", "state": 1, "message": "", "data_json": data}])
    assert (result["namespace"], result["ips"], result["port"], result["result_state"]) == ("7-1", ips, 9900, "ok")


def test_result_before_the_node_reported():
    result = zdb_result(7, 1, [])
    assert (result["namespace"], result["ips"], result["port"], result["result_state"]) == (None, [], None, None)
