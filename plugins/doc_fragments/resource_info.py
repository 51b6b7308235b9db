# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The filters of the zos_*_info modules of resource kinds (_resource_info.resource_info_argument_spec).
    DOCUMENTATION = r"""
options:
  name:
    description: Only the resource of this name (the O(name) its resource module was given).
    type: str
  labels:
    description:
      - Only resources carrying every one of these labels with these values (see the resource modules' C(labels)).
      - Sealed labels are read with the configured identity's seed; a resource whose labels can not be read matches
        no label filter.
    type: dict
  states:
    description:
      - Only resources whose reservation's computed next action is one of these. V(live) stands for V(create),
        V(sign), V(pay) and V(deploy); only live ones are listed without reading the identity's whole history.
    aliases: [state]
    type: list
    elements: str
    choices: [create, sign, pay, deploy, delete, invalid, deleted, live]
    default: [live]
  node_id:
    description: Only resources with a workload on this node.
    type: str
notes:
  - Only reservations registered by this collection's resource modules (they carry a name and a kind in their
    metadata) are listed; use M(threefold.grid.zos_reservation_info) for any reservation.
"""
