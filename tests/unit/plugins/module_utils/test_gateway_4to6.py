# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.threefold.grid.plugins.module_utils._errors import SpecError
from ansible_collections.threefold.grid.plugins.module_utils._gateway_4to6 import (
    check_public_key, tunnel_config, tunnel_keypair, tunnel_result,
)

PEER = {"public_key": "GqRA5IFNqKTwfYnsNgGnOs7VLpZ+zfCDJbV0ygaBmXY=", "endpoint": "203.0.113.7:3443",
        "allowed_ips": ["::/0"]}


def test_keys_are_stable_per_name_and_differ_between_names():
    first = tunnel_keypair("5e" * 32, "laptop")
    assert tunnel_keypair("5e" * 32, "laptop") == first
    assert tunnel_keypair("5e" * 32, "desktop")[1] != first[1]
    assert check_public_key(first[1]) == first[1]


@pytest.mark.parametrize("bad", ["", "abc", "QUJD", "A" * 44])
def test_a_key_must_be_base64_of_32_bytes(bad):
    with pytest.raises(SpecError) as error:
        check_public_key(bad)
    assert str(error.value) == "wg_public_key: %r is not a WireGuard public key (base64 of 32 bytes)" % bad


def test_only_a_successful_answer_with_an_address_counts():
    failed = {"state": 0, "message": "type of reservation not supported: gateway4to6",
              "data_json": {"ips": None, "peers": None}}
    ok = {"state": 1, "data_json": {"ips": ["2001:db8::7"], "peers": [PEER]}}
    assert tunnel_result([failed]) is None and tunnel_result([]) is None
    assert tunnel_result([failed, ok]) == {"ips": ["2001:db8::7"], "peers": [PEER]}


def test_config_routes_ipv6_through_the_gateway():
    text = tunnel_config({"ips": ["2001:DB8::7"], "peers": [PEER]}, "cHJpdmF0ZQ==")
    assert text.splitlines() == [
        "[Interface]", "Address = 2001:db8::7/128", "PrivateKey = cHJpdmF0ZQ==", "", "[Peer]",
        "PublicKey = " + PEER["public_key"], "AllowedIPs = ::/0", "Endpoint = 203.0.113.7:3443",
        "PersistentKeepalive = 25"]
    assert "PrivateKey" not in tunnel_config({"ips": ["2001:db8::7"], "peers": [PEER]}, None)
