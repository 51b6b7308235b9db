# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: kubernetes_spec_errors
short_description: The errors M(threefold.grid.zos_kubernetes) would report for these options, before the network exists
version_added: 0.2.0
description:
  - Checks a dict of M(threefold.grid.zos_kubernetes) options with the module's own rules (sizes, worker names,
    addresses, cluster secret, SSH keys) without contacting the grid, so that a role can refuse a bad cluster before
    it registers or pays for anything.
  - With O(ip_range), also checks the given addresses against the network the cluster will get (inside the range,
    one /24 per node, no address twice).
  - The cluster secret is never part of the returned messages.
options:
  _input:
    description: Options of M(threefold.grid.zos_kubernetes).
    type: dict
    required: true
  ip_range:
    description: The IPv4 /16 of the network the VMs will join.
    type: str
"""

EXAMPLES = r"""
- name: Refuse a bad cluster before deploying its network
  ansible.builtin.assert:
    that: errors | length == 0
    fail_msg: "{{ errors | join('; ') }}"
  vars:
    errors: >-
      {{ {'network_name': 'net', 'cluster_secret': 'x', 'master': {'node_id': 'node', 'ip_address': '10.1.2.10'}}
         | threefold.grid.kubernetes_spec_errors(ip_range='10.1.0.0/16') }}
"""

RETURN = r"""
_value:
  description: The error messages, empty when the options are valid (the checks stop at the first error).
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.threefold.grid.plugins.module_utils._errors import SpecError
from ansible_collections.threefold.grid.plugins.module_utils._kubernetes import node_subnets, normalise_cluster


def kubernetes_spec_errors(options, ip_range=None):
    if not isinstance(options, dict):
        raise AnsibleFilterError("kubernetes_spec_errors expects a dict of zos_kubernetes options, got %s"
                                 % type(options).__name__)
    try:
        cluster = normalise_cluster(options)
        if ip_range is not None:
            node_subnets(cluster["members"], ip_range)
    except SpecError as error:
        return [str(error)]
    return []


class FilterModule:
    def filters(self):
        return {"kubernetes_spec_errors": kubernetes_spec_errors}
