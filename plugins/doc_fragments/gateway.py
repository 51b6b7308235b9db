# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The options every zos_gateway_* resource module takes (_gateway_argspec.gateway_argument_spec).
    DOCUMENTATION = r"""
options:
  name:
    description:
      - Name of the gateway workload's reservation; identifies it among the identity's live reservations.
      - Up to 128 letters, digits, dots, dashes and underscores, starting with a letter or digit, so that it can
        serve as an inventory host name; any other name fails before anything is registered.
    type: str
    required: true
  state:
    description:
      - V(present) makes sure the gateway serves it as described; V(absent) cancels its reservation and waits until
        the gateway removed it.
    type: str
    choices: [present, absent]
    default: present
  gateway_id:
    description:
      - Id of the gateway (see M(threefold.grid.zos_gateway_info)); it must have reported in the last 10 minutes.
      - Required when O(state=present).
    type: str
  currencies:
    description:
      - Currencies offered for the reservation. Gateway workloads cost nothing.
      - Defaults to V([FreeTFT]) on a free-to-use gateway and V([TFT]) on any other gateway.
    type: list
    elements: str
    choices: [TFT, TFTA, FreeTFT]
notes:
  - The same options change nothing; any other value (or lifetime) registers a new reservation and cancels the old
    one.
"""
