#!/usr/bin/python
# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zos_gateway_4to6
short_description: Give an IPv4-only machine IPv6 through a WireGuard tunnel to a TF gateway
version_added: 0.1.0
description:
  - Registers a named 4to6 tunnel, so that the gateway adds the machine's WireGuard public key as a peer and gives it
    one IPv6 address from its pool (the same address for every tunnel of one identity on that gateway), then returns a
    wg-quick configuration that routes all IPv6 traffic (C(::/0)) through the gateway.
  - "Without O(wg_public_key) the module derives the machine's key pair from the identity seed and O(name): a re-run
    gives the same key, so nothing changes. The private key is only ever written to O(config_path) (mode C(0600));
    RV(config) shows it masked."
  - Only a gateway started with a WireGuard endpoint offers 4to6 tunnels.
author:
  - threefold.grid developers (@threefold-grid)
options:
  wg_public_key:
    description:
      - The machine's own WireGuard public key (base64 of 32 bytes). Its private key then never leaves the machine and
        the configuration has no C(PrivateKey) line; add it yourself.
      - When omitted the module derives the key pair (stable across runs for one identity and O(name)).
    type: str
  config_path:
    description:
      - Write the wg-quick configuration to this local file (mode C(0600)), for example
        V(/etc/wireguard/tf4to6.conf). The file is only rewritten when its content changes, and only once the gateway
        answered (see O(wait)).
      - When set, RV(config) is not returned. With O(state=absent) the file is removed, since it holds the private
        key of a tunnel that no longer exists.
    type: path
extends_documentation_fragment:
  - threefold.grid.ledger
  - threefold.grid.gateway
  - threefold.grid.labels
  - threefold.grid.explorer
  - threefold.grid.identity
  - threefold.grid.lifetime
  - threefold.grid.payment
  - threefold.grid.wait
  - threefold.grid.attributes
  - threefold.grid.attributes.actiongroup
attributes:
  check_mode:
    support: full
    details:
      - The gateway and the live reservation are read; nothing is registered, cancelled, or written to or removed from
        O(config_path). A tunnel that would be created has no configuration yet.
  diff_mode:
    support: full
    details:
      - The diff shows the public key, the expiry and the currencies; never a private key.
  idempotent:
    support: full
notes:
  - "The explorer's gateway directory does not say whether a gateway offers 4to6. A gateway that does not answers with
    an error (localgrid, C(type of reservation not supported: gateway4to6)) or never answers (tfgateway v0.3 posts no
    result), which ends the task with a timeout after O(wait_timeout) that says so."
  - Another O(wg_public_key), O(gateway_id) or lifetime registers a new reservation and cancels the old one.
seealso:
  - module: threefold.grid.zos_gateway_info
  - module: threefold.grid.zos_network
  - name: WireGuard wg-quick
    description: The configuration format of RV(config).
    link: https://man7.org/linux/man-pages/man8/wg-quick.8.html
"""

EXAMPLES = r"""
- name: IPv6 for this machine through the gateway, the configuration in a 0600 file
  threefold.grid.zos_gateway_4to6:
    name: laptop-ipv6
    gateway_id: "{{ gateway_id }}"
    config_path: /etc/wireguard/tf4to6.conf
    duration: 30d

- name: The same with the machine's own key pair (the configuration has no PrivateKey line)
  threefold.grid.zos_gateway_4to6:
    name: laptop-ipv6
    gateway_id: "{{ gateway_id }}"
    wg_public_key: "{{ lookup('file', 'laptop.pub') }}"
  register: tunnel

- name: Remove the tunnel and its configuration file
  threefold.grid.zos_gateway_4to6:
    name: laptop-ipv6
    state: absent
    config_path: /etc/wireguard/tf4to6.conf
"""

RETURN = r"""
gateway_4to6:
  description:
    - The reservation. V(null) when O(state=absent) and nothing was found, and in check mode for one that would be
      created.
  returned: always
  type: dict
  contains:
    public_key:
      description: The machine's WireGuard public key the gateway knows.
      type: str
      sample: 8vvTQwNYtWiA8Uv0vQ5kfxbFUU6TIKUQv7SiBPBa2DA=
    ips:
      description: The IPv6 address(es) the gateway gave the machine; empty until it answered.
      type: list
      elements: str
      sample: ["2001:db8:4a7e:1::4c1"]
    peers:
      description: The gateway as a WireGuard peer (C(public_key), C(endpoint), C(allowed_ips)); empty until it answered.
      type: list
      elements: dict
      sample: [{"public_key": "GqRA5IFNqKTwfYnsNgGnOs7VLpZ+zfCDJbV0ygaBmXY=", "endpoint": "203.0.113.7:3443",
                "allowed_ips": ["::/0"]}]
    name:
      description: O(name).
      type: str
      sample: laptop-ipv6
    reservation_id:
      description: Id of the reservation.
      type: int
      sample: 42
    workload_id:
      description: Global workload id, C(<reservation id>-<workload id>).
      type: str
      sample: 42-1
    gateway_id:
      description: The gateway serving it.
      type: str
      sample: BmwWovsGEMbHZXvyxJMVJagPYW5ysChUG2o66bCnWPUd
    state:
      description: The reservation's next action as the explorer computes it (C(pay), C(deploy), C(delete), C(deleted)).
      type: str
      sample: deploy
    workload_state:
      description: C(pending) until the gateway reported, then C(ok), C(error) or C(deleted).
      type: str
      sample: ok
    expires_at:
      description: Unix time at which the reservation ends.
      type: int
      sample: 1767225600
    escrow:
      description: The escrow of a reservation registered by this run (V(null) otherwise, or when free).
      type: dict
      sample: null
    error:
      description: The first error the gateway reported (C(workload_id), C(node_id), C(category), C(message)), or V(null).
      type: dict
      sample: null
    results:
      description: The explorer's raw results.
      type: list
      elements: dict
      sample: []
    labels:
      description:
        - The labels the reservation carries (O(labels) when this run registered it). V(null) when they are sealed
          with another identity's key.
      type: dict
      sample: {"app": "web"}
    ledger:
      description: With O(ledger), the ledger of the reservation (C(paid), C(refunded), C(paid_out), C(held), C(movements)); V(null) before it is registered.
      returned: when O(ledger) or O(ledger_account) is set
      type: dict
    labels_sealed:
      description: Whether the labels are sealed in the metadata (O(seal_labels)).
      type: bool
      sample: false
    replaced:
      description: Ids of reservations this run cancelled to replace them.
      type: list
      elements: int
      sample: []
    payment:
      description: The payment made by this run, or V(null).
      type: dict
      sample: null
unmatched_payments:
  description: With O(ledger), payments to the escrow for no reservation of the identity or not the price of a returned one, with a C(next_step).
  returned: when O(ledger) or O(ledger_account) is set
  type: list
  elements: dict
action:
  description: What the module did or, in check mode, would do.
  returned: always
  type: str
  choices: [none, create, replace, renew, cancel]
  sample: create
config:
  description:
    - The wg-quick configuration for the machine. When the module derived the key pair (no O(wg_public_key)), the value
      of its C(PrivateKey) line is masked as C(********); use O(config_path) to get a usable file.
    - V(null) until the gateway answered (check mode for a new tunnel, or O(wait=false)).
  returned: when O(state=present) and O(config_path) is not set
  type: str
  sample: |
    [Interface]
    Address = 2001:db8:4a7e:1::4c1/128
    PrivateKey = ********

    [Peer]
    PublicKey = GqRA5IFNqKTwfYnsNgGnOs7VLpZ+zfCDJbV0ygaBmXY=
    AllowedIPs = ::/0
    Endpoint = 203.0.113.7:3443
    PersistentKeepalive = 25
config_path:
  description: The file the wg-quick configuration was written to (once the gateway answered).
  returned: when O(config_path) is set, O(state=present) and the gateway answered
  type: str
  sample: /etc/wireguard/tf4to6.conf
config_removed:
  description: Whether O(state=absent) removed (or, in check mode, would remove) the file at O(config_path).
  returned: when O(config_path) is set and O(state=absent)
  type: bool
  sample: true
failure:
  description: Details of a failed explorer call.
  returned: on failure, when the explorer answered with an error
  type: dict
  sample: {"status": 500, "method": "POST", "path": "/reservations", "message": "mongo: no documents in result"}
"""

from ansible_collections.threefold.grid.plugins.module_utils._base import ZosModule
from ansible_collections.threefold.grid.plugins.module_utils._errors import LifecycleError
from ansible_collections.threefold.grid.plugins.module_utils._gateway import GatewayRunner
from ansible_collections.threefold.grid.plugins.module_utils._gateway_4to6 import (
    check_public_key, tunnel_config, tunnel_keypair, tunnel_result,
)
from ansible_collections.threefold.grid.plugins.module_utils._gateway_argspec import gateway_argument_spec, gateway_module_kwargs
from ansible_collections.threefold.grid.plugins.module_utils._wireguard import check_config_folder, deliver_config, drop_config


class Tunnel4to6Runner(GatewayRunner):
    kind = "gateway_4to6"
    workload_list = "gateway4to6"

    def __init__(self, params, session, diff=False):
        super(Tunnel4to6Runner, self).__init__(params, session, diff)
        self.private_key = None  # the derived key's private half; None with the user's own key

    def spec(self, gateway):
        if self.params["wg_public_key"]:
            return {"public_key": check_public_key(self.params["wg_public_key"])}
        self.private_key, public_key = tunnel_keypair(self.session.identity.seed_hex, self.name)
        return {"public_key": public_key}

    def gateway_fields(self, spec):
        return {"public_key": spec["public_key"]}

    def describe(self, reservation, replaced=None, payment=None):
        shown = super(Tunnel4to6Runner, self).describe(reservation, replaced, payment)
        tunnel = tunnel_result(shown["results"]) or {}
        shown.update(ips=tunnel.get("ips", []), peers=tunnel.get("peers", []))
        return shown

    def present(self):
        path = self.params["config_path"]
        check_config_folder(path, "config_path")
        try:
            result = super(Tunnel4to6Runner, self).present()
        except LifecycleError as error:
            if error.msg.startswith("Timeout") and error.reservation and not error.reservation.get("results"):
                # The directory cannot tell; silence is how tfgateway v0.3 answers a 4to6 it does not offer.
                error.msg += ("; gateway %s posted no result: a gateway that does not offer 4to6 tunnels (tfgateway "
                              "started without --endpoint) never answers" % self.params["gateway_id"])
            raise
        tunnel = tunnel_result(result[self.kind]["results"]) if result[self.kind] else None
        if tunnel is None:
            if not path:
                result["config"] = None
            return result
        delivered, written = deliver_config(tunnel_config(tunnel, self.private_key), path, self.check_mode,
                                            "config_path", self.session.warn)
        result.update(delivered)
        result["changed"] = result["changed"] or written
        return result

    def absent(self):
        result = super(Tunnel4to6Runner, self).absent()
        path = self.params["config_path"]
        if path:
            # The file holds the private key of a tunnel that no longer exists.
            removed = drop_config(path, self.check_mode, "config_path")
            result["changed"] = result["changed"] or removed
            result["config_removed"] = removed
        return result


def argument_spec():
    return gateway_argument_spec(
        wg_public_key=dict(type="str", no_log=False),
        config_path=dict(type="path"),
    )


def main():
    ZosModule(argument_spec(), **gateway_module_kwargs()).run(Tunnel4to6Runner)


if __name__ == "__main__":
    main()
