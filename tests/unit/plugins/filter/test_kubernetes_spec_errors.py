# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.threefold.grid.plugins.filter.kubernetes_spec_errors import FilterModule

check = FilterModule().filters()["kubernetes_spec_errors"]

VALID = {"network_name": "net", "cluster_secret": "s3cret-token", "size": 1, "ssh_keys": [],
         "master": {"node_id": "a", "ip_address": "10.1.3.10"}, "workers": [{"name": "w1", "node_id": "b"}]}


def with_(**changes):
    options = dict(VALID)
    options.update(changes)
    return options


def test_valid_options_have_no_error():
    assert check(VALID) == [] and check(VALID, ip_range="10.1.0.0/16") == []


@pytest.mark.parametrize("options, ip_range, says", [
    (with_(size=5), None, "size: 5 is not a VM size"),
    (with_(cluster_secret="s3cret token"), None, "cluster_secret: must be a non-empty value without whitespace"),
    (with_(workers=[{"name": "w/1", "node_id": "b"}]), None, "workers[0].name: 'w/1' must be a name without '/'"),
    (VALID, "10.2.0.0/16", "master.ip_address: '10.1.3.10' is not inside the network's range 10.2.0.0/16"),
    (VALID, "10.1.0.0/24", "ip_range: '10.1.0.0/24' must be a /16"),
])
def test_bad_options_give_the_module_message(options, ip_range, says):
    errors = check(options, ip_range=ip_range)
    assert len(errors) == 1 and errors[0].startswith(says)
    assert "s3cret" not in errors[0]


def test_not_a_dict_is_refused():
    with pytest.raises(AnsibleFilterError):
        check(["master"])
