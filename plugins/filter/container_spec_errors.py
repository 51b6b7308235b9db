# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: container_spec_errors
short_description: The errors M(threefold.grid.zos_container) would report for these options
version_added: 0.2.0
description:
  - Checks a dict of M(threefold.grid.zos_container) options with the module's own rules (name, environment
    names, flist URL, capacity ranges, mountpoints, log URLs, IP address) without contacting the grid, so that a
    role can refuse a bad deployment before it registers or pays for anything.
  - Secret values are never part of the returned messages.
options:
  _input:
    description: Options of M(threefold.grid.zos_container).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Refuse a bad container before deploying its network
  ansible.builtin.assert:
    that: errors | length == 0
    fail_msg: "{{ errors | join('; ') }}"
  vars:
    errors: >-
      {{ {'node_id': 'any', 'flist': my_flist, 'capacity': my_capacity,
          'network_connection': {'name': 'net', 'ip_address': '10.1.2.10'}}
         | threefold.grid.container_spec_errors }}
"""

RETURN = r"""
_value:
  description: The error messages, empty when the options are valid (the module stops at the first error).
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.threefold.grid.plugins.module_utils._spec import SpecError, check_name, normalise_container


def container_spec_errors(options):
    if not isinstance(options, dict):
        raise AnsibleFilterError("container_spec_errors expects a dict of zos_container options, got %s" % type(options).__name__)
    try:
        if "name" in options:
            check_name(str(options["name"]))
        normalise_container(options)
    except SpecError as error:
        return [str(error)]
    return []


class FilterModule:
    def filters(self):
        return {"container_spec_errors": container_spec_errors}
