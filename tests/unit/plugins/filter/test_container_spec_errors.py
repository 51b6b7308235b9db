# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.threefold.grid.plugins.filter.container_spec_errors import FilterModule

check = FilterModule().filters()["container_spec_errors"]

VALID = {
    "node_id": "placement",
    "flist": "https://hub.grid.tf/zaibon/zaibon-ubuntu-ssh-0.0.2.flist",
    "capacity": {"cpu": 2, "memory": 2048},
    "volumes": [{"volume": "data", "mountpoint": "/data"}],
    "network_connection": {"name": "net", "ip_address": "10.1.2.10"},
}


def with_(**changes):
    options = dict(VALID)
    options.update(changes)
    return options


def test_valid_options_have_no_error():
    assert check(VALID) == []


@pytest.mark.parametrize("options, says", [
    (with_(capacity={"cpu": 64}), "capacity.cpu: 64 is outside 1..32"),
    (with_(flist="ftp://example.com/x.flist"), "flist: 'ftp://example.com/x.flist' is not an http(s) URL"),
    (with_(volumes=[{"volume": "a", "mountpoint": "/d"}, {"volume": "b", "mountpoint": "/d/"}]), "'/d' is used twice"),
    (with_(env={"BAD KEY": "x"}), "key 'BAD KEY' is not a valid variable name"),
    (with_(network_connection={"name": "net", "ip_address": "10.1.2.300"}), "is not an IPv4 address"),
    (with_(name="my app-1"), "name 'my app-1' is refused: a name is 1 to 128 letters"),
])
def test_bad_options_give_the_module_message(options, says):
    errors = check(options)
    assert len(errors) == 1
    assert says in errors[0]


def test_secret_values_never_show_in_the_errors():
    errors = check(with_(secret_env={"TOKEN": "hunter2-value"}, capacity={"memory": 1}))
    assert errors and all("hunter2-value" not in error for error in errors)


def test_a_non_dict_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match="expects a dict"):
        check(["not", "a", "dict"])
