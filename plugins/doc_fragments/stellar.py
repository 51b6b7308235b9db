# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  stellar_secret:
    description:
      - Secret seed (C(S...)) of the Stellar wallet that pays reservations.
      - If not set, the value of the E(TFGRID_STELLAR_SECRET) environment variable is used.
      - This value is a secret; it is never logged or returned.
    type: str
  horizon_url:
    description:
      - Base URL of the Horizon server. Overrides the Horizon URL of O(network).
      - If not set, the value of the E(TFGRID_HORIZON_URL) environment variable is used.
    type: str
requirements:
  - pynacl >= 1.5 and httpx (a payment is signed and sent without stellar-sdk)
  - stellar-sdk >= 16.0 (only for M(threefold.grid.zos_wallet))
"""
