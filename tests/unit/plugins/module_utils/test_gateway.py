# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.threefold.grid.plugins.module_utils._errors import SpecError
from ansible_collections.threefold.grid.plugins.module_utils._gateway import (
    check_managed, check_port, gateway_workload, normalise_domain, normalise_ip_list, zone_of,
)
from ansible_collections.threefold.grid.plugins.module_utils._workloads import describe_gateway_workload

GATEWAY = {"node_id": "Gw1", "managed_domains": ["ghent.grid.example"]}


def test_domains_are_lower_cased_and_checked():
    assert normalise_domain(" Shop.Ghent.Grid.Example ") == "shop.ghent.grid.example"
    for bad in ("localhost", "a..example", "-a.example", "a_b.example", "example.", "", None, "x" * 64 + ".example"):
        with pytest.raises(SpecError) as error:
            normalise_domain(bad, "domain")
        assert str(error.value).startswith("domain: %r is not a valid domain name" % bad)


def test_zone_is_the_name_minus_its_first_label_from_three_labels_on():
    assert zone_of("shop.ghent.grid.example") == "ghent.grid.example"
    assert zone_of("mysite.example") == "mysite.example"


def test_names_must_be_under_a_managed_or_delegated_zone():
    check_managed("shop.ghent.grid.example", GATEWAY, [])
    check_managed("www.mysite.example", GATEWAY, ["mysite.example"])
    with pytest.raises(SpecError) as error:
        check_managed("a.b.ghent.grid.example", GATEWAY, [])
    assert "a.b.ghent.grid.example" in str(error.value) and "ghent.grid.example" in str(error.value)


def test_ports_and_addresses():
    assert check_port(443, "port_tls") == 443
    for bad in (0, 65536, -1, "80"):
        with pytest.raises(SpecError) as error:
            check_port(bad, "port")
        assert str(error.value) == "port: %r must be a port from 1 to 65535" % (bad,)
    assert normalise_ip_list(["2001:DB8::1", " 192.0.2.1"], "ips") == ["2001:db8::1", "192.0.2.1"]
    with pytest.raises(SpecError, match="ips: 'host' is not an IP address"):
        normalise_ip_list(["host"], "ips")
    with pytest.raises(SpecError, match="ips: needs at least one address"):
        normalise_ip_list([], "ips")


def test_wire_form_and_masked_secret():
    workload = gateway_workload("Gw1", 1, domain="t.ghent.grid.example", secret="sealed")
    assert workload == {"id": 0, "workload_id": 1, "node_id": "Gw1", "stats_aggregator": [], "farmer_tid": 0,
                        "domain": "t.ghent.grid.example", "secret": "sealed"}
    assert describe_gateway_workload(workload) == {"workload_id": 1, "node_id": "Gw1",
                                                   "domain": "t.ghent.grid.example", "secret": "********"}
