# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""A 4to6 tunnel: the user's WireGuard key, what the gateway answers, and the wg-quick text built from it.

Facts: docs/contract/gateway.md §3.5. The gateway adds the user's public key as a peer and answers
``{"ips": [<ipv6>], "peers": [{"public_key", "endpoint", "allowed_ips"}]}``; the machine uses that
address and routes ``allowed_ips`` (``::/0``) through the gateway.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.threefold.grid.plugins.module_utils._crypto import wireguard_public_key
from ansible_collections.threefold.grid.plugins.module_utils._errors import SpecError
from ansible_collections.threefold.grid.plugins.module_utils._wireguard import derive_private_key, wg_quick_config

# The key label of a derived tunnel key: one key per tunnel name, so two tunnels never share a peer.
KEY_LABEL = "gateway4to6"
RESULT_OK = 1


def tunnel_keypair(seed_hex: str, name: str) -> Tuple[str, str]:
    """(private_b64, public_b64) of the tunnel ``name``, stable across runs (see _wireguard)."""
    private_key = derive_private_key(seed_hex, KEY_LABEL, name)
    return private_key, wireguard_public_key(private_key)


def check_public_key(value: str, option: str = "wg_public_key") -> str:
    """A WireGuard public key: base64 of 32 bytes (the gateway refuses anything else)."""
    text = (value or "").strip()
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise SpecError("%s: %r is not a WireGuard public key (base64 of 32 bytes)" % (option, value))
    return text


def tunnel_result(results: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """``{"ips", "peers"}`` of the gateway's successful result among ``results``, or None."""
    for result in results:
        data = result.get("data_json")
        if result.get("state") == RESULT_OK and isinstance(data, dict) and data.get("ips") and data.get("peers"):
            return {"ips": list(data["ips"]), "peers": [dict(peer) for peer in data["peers"]]}
    return None


def tunnel_config(tunnel: Dict[str, Any], private_key: Optional[str]) -> str:
    """wg-quick text for the machine: the gateway's address for it and the gateway as its one peer."""
    address = ipaddress.ip_address(tunnel["ips"][0])
    peer = tunnel["peers"][0]
    return wg_quick_config("%s/%d" % (address, address.max_prefixlen), peer["public_key"],
                           peer.get("allowed_ips") or ["::/0"], peer.get("endpoint") or "", private_key)
