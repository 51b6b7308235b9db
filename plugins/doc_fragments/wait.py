# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  wait:
    description:
      - Wait until the nodes report the outcome (deployed, failed or deleted) before returning.
      - Never waits in check mode.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait in total when O(wait=true); 0 or more (a negative value fails before anything
        is registered or paid).
      - On timeout the module fails, names the last state it saw and still returns what it knows.
    type: int
    default: 600
  wait_sleep:
    description:
      - The longest pause in seconds between two polls of the explorer when O(wait=true); 0 or more.
      - The first poll follows at once, then one every 0.1 seconds during the first 2 seconds, then the pause is a
        quarter of the time waited so far, up to O(wait_sleep) (reached after 20 seconds with the default). So a
        deployment is seen at most 0.1 seconds late in the first 2 seconds and at most a quarter of the time waited
        late after that; a wait of a minute reads the reservation about 40 times.
    type: int
    default: 5
"""
