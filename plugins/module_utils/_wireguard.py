# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""WireGuard pieces of a grid network: stable keys and listen ports, routing addresses, wg-quick text.

Keys are derived, not random, because the explorer keeps only the sealed private key (readable by
the node alone) and a re-run must produce the same network: the private key of a network resource
is HMAC-SHA256(key = identity seed, message = "threefold.grid wireguard v1" NUL "node" NUL
<network name> NUL <node id>), clamped as a Curve25519 scalar exactly like ``wg genkey`` does. The
access (laptop) key uses the label "access" and the network name only. Knowing the public keys
reveals nothing about the seed; only the holder of the seed can recompute a private key.

Listen ports are derived the same way without a secret: candidate i is
1000 + (first 4 bytes of SHA-256("threefold.grid wireguard-port v1" NUL <identity public key> NUL
<network name> NUL <node id> NUL i) mod 8000); the first candidate not in the node's ``wg_ports``
wins. Callers keep the port of a network resource that is already deployed, because the node lists
that port as used.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import stat
import tempfile
from typing import Any, Callable, Dict, Iterable, Optional, Tuple

from ansible_collections.threefold.grid.plugins.module_utils._crypto import wireguard_public_key
from ansible_collections.threefold.grid.plugins.module_utils._errors import SpecError
from ansible_collections.threefold.grid.plugins.module_utils._workloads import MASK

KEY_CONTEXT = b"threefold.grid wireguard v1"
PORT_CONTEXT = b"threefold.grid wireguard-port v1"
# zos accepts any port; the 2020 SDK picked its ports in this range.
PORT_MIN = 1000
PORT_MAX = 8999
# Candidates hashed before falling back to the lowest free port of the range.
PORT_HASH_ATTEMPTS = 64
KEEPALIVE_SECONDS = 25
ROUTING_PREFIX = "100.64"
ROUTING_RANGE = "100.64.0.0/16"


def _message(context, labels):
    return b"\0".join([context] + [str(label).encode("utf-8") for label in labels])


def derive_private_key(seed_hex: str, *labels: str) -> str:
    """Base64 Curve25519 private key, deterministic for (seed, labels)."""
    raw = bytearray(hmac.new(bytes.fromhex(seed_hex), _message(KEY_CONTEXT, labels), hashlib.sha256).digest())
    raw[0] &= 248
    raw[31] &= 127
    raw[31] |= 64
    return base64.b64encode(bytes(raw)).decode("ascii")


def node_keypair(seed_hex: str, network_name: str, node_id: str) -> Tuple[str, str]:
    """(private_b64, public_b64) of the network resource of `network_name` on `node_id`."""
    private_key = derive_private_key(seed_hex, "node", network_name, node_id)
    return private_key, wireguard_public_key(private_key)


def access_keypair(seed_hex: str, network_name: str) -> Tuple[str, str]:
    """(private_b64, public_b64) of the external access peer (the user's machine) of a network."""
    private_key = derive_private_key(seed_hex, "access", network_name)
    return private_key, wireguard_public_key(private_key)


def port_candidates(owner, network_name, node_id, attempts=PORT_HASH_ATTEMPTS):
    span = PORT_MAX - PORT_MIN + 1
    for index in range(attempts):
        digest = hashlib.sha256(_message(PORT_CONTEXT, [owner, network_name, node_id, index])).digest()
        yield PORT_MIN + int.from_bytes(digest[:4], "big") % span


def pick_listen_port(owner: str, network_name: str, node_id: str, used_ports: Iterable[int]) -> int:
    """The first derived port not in `used_ports`; the lowest free one if every candidate is taken."""
    used = set(int(port) for port in used_ports or [])
    for port in port_candidates(owner, network_name, node_id):
        if port not in used:
            return port
    for port in range(PORT_MIN, PORT_MAX + 1):
        if port not in used:
            return port
    raise ValueError("node %s has no free WireGuard port in %d-%d" % (node_id, PORT_MIN, PORT_MAX))


def routing_address(subnet: Any) -> str:
    """The WireGuard address zos gives a /24 a.b.c.0: 100.64.b.c/32."""
    octets = ipaddress.ip_network(str(subnet)).network_address.packed
    return "%s.%d.%d/32" % (ROUTING_PREFIX, octets[1], octets[2])


def endpoint_text(address: str, port: int) -> str:
    """``ip:port``, or ``[ipv6]:port``."""
    address = ipaddress.ip_address(str(address))
    if address.version == 6:
        return "[%s]:%d" % (address, port)
    return "%s:%d" % (address, port)


def wg_quick_config(address: str, peer_public_key: str, allowed_ips: Iterable[str], endpoint: str,
                    private_key: Optional[str] = None) -> str:
    """wg-quick text for a machine joining a network through one access node.

    Without `private_key` (the user brought their own key pair) the PrivateKey line is left out
    for the user to add.
    """
    lines = ["[Interface]", "Address = %s" % address]
    if private_key:
        lines.append("PrivateKey = %s" % private_key)
    lines.extend([
        "",
        "[Peer]",
        "PublicKey = %s" % peer_public_key,
        "AllowedIPs = %s" % ", ".join(allowed_ips),
    ])
    if endpoint:
        lines.append("Endpoint = %s" % endpoint)
    lines.append("PersistentKeepalive = %d" % KEEPALIVE_SECONDS)
    return "\n".join(lines) + "\n"


def masked_config(text: str) -> str:
    """`text` with the value of its PrivateKey line masked, for task output and logs."""
    return "\n".join("PrivateKey = %s" % MASK if line.startswith("PrivateKey = ") else line
                     for line in text.split("\n"))


def remove_private_file(path: str, check_mode: bool = False) -> bool:
    """Remove the file at `path`; True when it existed (and was, or would be, removed)."""
    path = os.path.abspath(path)
    if not os.path.lexists(path):
        return False
    if not check_mode:
        os.unlink(path)
    return True


def write_private_file(path: str, text: str, check_mode: bool = False) -> bool:
    """Write `text` to `path` with mode 0600 (atomically); True when the file changed or would change."""
    path = os.path.abspath(path)
    try:
        with open(path) as handle:
            current = handle.read()
        private = stat.S_IMODE(os.stat(path).st_mode) == 0o600
    except (IOError, OSError):
        current, private = None, False
    if current == text and private:
        return False
    if check_mode:
        return True
    # mkstemp creates the file 0600, so the key is never readable by others, not even briefly.
    fd, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tfgrid-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return True


def check_config_folder(path: Optional[str], option: str) -> None:
    """The folder of a config file option must exist before anything is registered."""
    if path:
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise SpecError("%s: the directory %s does not exist" % (option, folder))


def save_config(path: str, text: str, check_mode: bool, option: str) -> bool:
    """write_private_file, an OS error named after the ``option`` that gave the path."""
    try:
        return write_private_file(path, text, check_mode)
    except (IOError, OSError) as error:
        raise SpecError("%s: cannot write %s: %s" % (option, path, error.strerror or error)) from None


def drop_config(path: str, check_mode: bool, option: str) -> bool:
    """remove_private_file, an OS error named after the ``option`` that gave the path."""
    try:
        return remove_private_file(path, check_mode)
    except (IOError, OSError) as error:
        raise SpecError("%s: cannot remove %s: %s" % (option, path, error.strerror or error)) from None


def deliver_config(text: str, path: Optional[str], check_mode: bool, option: str,
                   warn: Callable[[str], None]) -> Tuple[Dict[str, Any], bool]:
    """Where a wg-quick ``text`` goes: the file ``path`` (0600) given by ``option`` (``<key>_path``), or the
    task result under ``<key>`` with its private key masked (and a warning that it is).

    Returns (what the module returns, whether the file changed or would change).
    """
    key = option[:-len("_path")]
    if not path:
        if text != masked_config(text):
            warn("%s: the private key of the WireGuard configuration is masked in the task result; set %s to get "
                 "it in a 0600 file" % (key, option))
        return {key: masked_config(text)}, False
    return {option: path}, save_config(path, text, check_mode, option)
