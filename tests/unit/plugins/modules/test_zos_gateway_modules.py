# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What zos_gateway_subdomain, _delegate, _proxy and _reverse_proxy decide before and after signing."""

from __future__ import annotations

import json

import nacl.public
import pytest

from ansible_collections.threefold.grid.plugins.modules import (
    zos_gateway_delegate, zos_gateway_proxy, zos_gateway_reverse_proxy, zos_gateway_subdomain,
)
from ansible_collections.threefold.grid.tests.unit.plugins.modules.sample_grid import (
    DOWN_GW, FREE_GW, FREE_GW_KEY, PAID_GW, USER, sample_runner,
)

GW = FREE_GW["node_id"]
SECRET = "%d:s3cr3t-random" % USER["id"]


@pytest.fixture
def run(monkeypatch, capsys, explorer):
    def runner(module, args, **kwargs):
        return sample_runner(monkeypatch, capsys, module.main, explorer, wait_sleep=0)(args, **kwargs)
    return runner


def subdomain(**extra):
    args = {"name": "www", "gateway_id": GW, "domain": "shop.ghent.grid.example", "ips": ["198.51.100.4"]}
    args.update(extra)
    return args


def test_subdomain_is_created_once_and_other_ips_replace_it(run, explorer):
    created = run(zos_gateway_subdomain, subdomain())
    assert created["action"] == "create" and created["subdomain"]["workload_state"] == "ok"
    sent = explorer.reservations[1]["data_reservation"]
    assert sent["subdomains"][0]["domain"] == "shop.ghent.grid.example" and sent["currencies"] == ["FreeTFT"]
    # The same name in another spelling is the same spec.
    again = run(zos_gateway_subdomain, subdomain(domain="Shop.Ghent.Grid.Example"))
    assert again["changed"] is False and len(explorer.posted()) == 1
    other = run(zos_gateway_subdomain, subdomain(ips=["2001:DB8::4"]), diff=True)
    assert other["action"] == "replace" and explorer.cancelled() == [1]
    assert other["diff"]["before"]["ips"] == ["198.51.100.4"] and other["diff"]["after"]["ips"] == ["2001:db8::4"]


@pytest.mark.parametrize("extra, message", [
    ({"domain": "shop.elsewhere.example"}, "domain: 'shop.elsewhere.example' is not under a domain gateway"),
    ({"domain": "localhost"}, "domain: 'localhost' is not a valid domain name"),
    ({"ips": ["host"]}, "ips: 'host' is not an IP address"),
    ({"gateway_id": DOWN_GW["node_id"]}, "gateway_id: gateway %r is down" % DOWN_GW["node_id"]),
])
def test_subdomain_bad_input_fails_before_signing(run, explorer, extra, message):
    result = run(zos_gateway_subdomain, subdomain(**extra))
    assert result["failed"] is True and message in result["msg"]
    assert explorer.writes() == []


def test_a_delegated_domain_takes_subdomains(run, explorer):
    delegated = run(zos_gateway_delegate, {"name": "mine", "gateway_id": GW, "domain": "MySite.example"})
    assert delegated["changed"] is True and delegated["delegate"]["domain"] == "mysite.example"
    added = run(zos_gateway_subdomain, subdomain(name="blog", domain="blog.mysite.example"))
    assert added["changed"] is True and added["subdomain"]["domain"] == "blog.mysite.example"


def test_proxy_ports_are_checked_and_a_new_port_replaces(run, explorer):
    args = {"name": "app", "gateway_id": PAID_GW["node_id"], "domain": "app.cairo.grid.test", "addr": "198.51.100.4"}
    refused = run(zos_gateway_proxy, dict(args, port=70000))
    assert refused["failed"] is True and "port: 70000 must be a port from 1 to 65535" in refused["msg"]
    assert explorer.writes() == []
    created = run(zos_gateway_proxy, args)
    assert (created["proxy"]["port"], created["proxy"]["port_tls"]) == (80, 443)
    assert explorer.reservations[1]["data_reservation"]["currencies"] == ["TFT"]
    assert run(zos_gateway_proxy, args)["changed"] is False
    moved = run(zos_gateway_proxy, dict(args, port=8080))
    assert moved["action"] == "replace" and moved["proxy"]["replaced"] == [1]


def test_reverse_proxy_secret_is_sealed_for_the_gateway_and_never_shown(run, explorer):
    args = {"name": "home", "gateway_id": GW, "domain": "home.ghent.grid.example", "secret": SECRET}
    created = run(zos_gateway_reverse_proxy, args, diff=True)
    assert created["reverse_proxy"]["secret"] == "********" and SECRET not in json.dumps(created)
    sealed = explorer.reservations[1]["data_reservation"]["reverse_proxies"][0]["secret"]
    box = nacl.public.SealedBox(FREE_GW_KEY.to_curve25519_private_key())
    assert box.decrypt(bytes.fromhex(sealed)).decode() == SECRET
    # Sealing is random, yet the same secret is the same spec.
    assert run(zos_gateway_reverse_proxy, args)["changed"] is False and len(explorer.posted()) == 1


@pytest.mark.parametrize("secret", ["s3cr3t", "%d:" % USER["id"], "99:random"])
def test_reverse_proxy_secret_must_start_with_the_identity_3bot_id(run, explorer, secret):
    result = run(zos_gateway_reverse_proxy, {"name": "home", "gateway_id": GW, "domain": "home.ghent.grid.example",
                                             "secret": secret})
    assert result["failed"] is True and "secret: must follow the format '<3Bot id>:<random>'" in result["msg"]
    assert secret not in result["msg"] and explorer.writes() == []


def test_a_gateway_refusal_comes_back_with_its_message(run, explorer):
    explorer.gateway_answer = "cannot add proxy from app.ghent.grid.example: unauthorized error"
    result = run(zos_gateway_proxy, {"name": "app", "gateway_id": GW, "domain": "app.ghent.grid.example",
                                     "addr": "198.51.100.4"})
    assert result["failed"] is True and "unauthorized error" in result["msg"]
    assert result["proxy"]["error"]["message"] == explorer.gateway_answer


def test_absent_cancels_once(run, explorer):
    run(zos_gateway_subdomain, subdomain())
    gone = run(zos_gateway_subdomain, {"name": "www", "state": "absent"})
    assert gone["changed"] is True and explorer.cancelled() == [1] and gone["subdomain"]["state"] == "deleted"
    assert run(zos_gateway_subdomain, {"name": "www", "state": "absent"})["changed"] is False
