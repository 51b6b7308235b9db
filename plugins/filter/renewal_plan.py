# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: renewal_plan
short_description: Choose the reservations one run renews within a TFT budget
version_added: 0.4.0
description:
  - Takes the reservations M(threefold.grid.zos_reservation_info) returns with their C(renewal) cost (option
    C(expiring_within) or C(renewal_cost)) and picks, soonest to end first, those whose renewals fit the budget.
  - Renewals that cost nothing (free-to-use nodes) are always picked; reservations that are not deployed, that
    would go over the budget or that are priced in another currency are listed as skipped with the reason.
  - Fails, naming the cheapest renewal, when the budget can not pay a single one, so that a playbook stops
    before anything is signed or paid.
options:
  _input:
    description: The C(reservations) list of M(threefold.grid.zos_reservation_info).
    type: list
    elements: dict
    required: true
  budget:
    description: The most this run may spend, as a decimal string (at most 7 decimals).
    type: str
    required: true
  currency:
    description: The asset the budget is in.
    type: str
    default: TFT
"""

EXAMPLES = r"""
- name: What ends within a week, with the price of renewing it
  threefold.grid.zos_reservation_info:
    expiring_within: 7d
  register: expiring

- name: Renew the soonest to end, within 20 TFT
  ansible.builtin.set_fact:
    plan: "{{ expiring.reservations | threefold.grid.renewal_plan('20') }}"
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    renew:
      description: The reservations to renew, soonest to end first, each with C(id), C(name), C(kind), C(amount) and C(expires_in).
      type: list
      elements: dict
    skipped:
      description: The reservations left alone, each with the same keys and a C(reason).
      type: list
      elements: dict
    total:
      description: What the picked renewals cost together, 7 decimals.
      type: str
    budget:
      description: The budget, 7 decimals.
      type: str
    currency:
      description: The budget's asset.
      type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.threefold.grid.plugins.module_utils import _renewal_plan


def renewal_plan(reservations, budget, currency="TFT"):
    if not isinstance(reservations, list):
        raise AnsibleFilterError("renewal_plan expects the reservations list of zos_reservation_info, got %s"
                                 % type(reservations).__name__)
    try:
        return _renewal_plan.renewal_plan(reservations, budget, currency)
    except ValueError as error:
        raise AnsibleFilterError("renewal_plan: %s" % error) from None


class FilterModule:
    def filters(self):
        return {"renewal_plan": renewal_plan}
