# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # How long a reservation lasts and when it is renewed (_resource.reservation_argument_spec).
    DOCUMENTATION = r"""
options:
  duration:
    description:
      - How long the reservation lasts from the time it is registered, for example V(30d), V(12h), V(90m), V(2w) or
        a number of seconds; at least one hour. Defaults to V(30d).
      - Mutually exclusive with O(expires_at).
    type: str
  expires_at:
    description:
      - Absolute end of the reservation, as a Unix epoch or an ISO 8601 date (UTC when no zone is given); at
        least one hour from now.
    type: str
  renew_before:
    description:
      - When the live reservation ends within this duration (for example V(7d)), register a new one that
        replaces it.
      - Not set means the module never renews the reservation.
    type: str
"""
