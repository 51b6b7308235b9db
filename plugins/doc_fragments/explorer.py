# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Module docs cannot declare env:, so the fallbacks are named in the text.
    DOCUMENTATION = r"""
options:
  network:
    description:
      - The grid network to talk to. It selects the explorer URL (and, for payments, the Horizon URL and
        Stellar network passphrase).
      - V(main) is the production grid (U(https://explorer.grid.tf/explorer), Stellar public network),
        V(test) the testnet, V(dev) the devnet (both paid on the Stellar test network), and V(local) a
        localgrid on U(http://127.0.0.1:8080/explorer).
      - The default is V(local) so that nothing pays real tokens unless asked.
      - If not set, the value of the E(TFGRID_NETWORK) environment variable is used.
    type: str
    choices: [dev, local, main, test]
    default: local
  explorer_url:
    description:
      - Base URL of the explorer API, including the C(/explorer) path, for example
        V(http://127.0.0.1:8080/explorer). Overrides the URL of O(network).
      - If not set, the value of the E(TFGRID_EXPLORER_URL) environment variable is used.
    type: str
  validate_certs:
    description:
      - Verify the explorer's TLS certificate.
    type: bool
    default: true
  explorer_timeout:
    description:
      - Seconds to wait for an explorer response. Connecting waits at most 10 seconds or this value,
        whichever is lower. Must be positive.
    type: float
    default: 30.0
  explorer_retries:
    description:
      - How often a safe explorer request is retried on connection errors and on HTTP 429, 500, 502, 503
        and 504, with jittered exponential backoff honouring C(Retry-After).
      - Requests that are not idempotent, such as registering a reservation, are never retried.
    type: int
    default: 5
"""

    # Inventory and other plugins can declare environment variables directly.
    PLUGINS = r"""
options:
  network:
    description:
      - The grid network to talk to; it selects the explorer URL.
      - V(main) is the production grid, V(test) the testnet, V(dev) the devnet and V(local) a localgrid on
        U(http://127.0.0.1:8080/explorer).
    type: str
    choices: [dev, local, main, test]
    default: local
    env:
      - name: TFGRID_NETWORK
  explorer_url:
    description:
      - Base URL of the explorer API, including the C(/explorer) path. Overrides the URL of O(network).
    type: str
    env:
      - name: TFGRID_EXPLORER_URL
  validate_certs:
    description:
      - Verify the explorer's TLS certificate.
    type: bool
    default: true
  explorer_timeout:
    description:
      - Seconds to wait for an explorer response.
    type: float
    default: 30.0
  explorer_retries:
    description:
      - How often a safe explorer request is retried on connection errors and on HTTP 429, 500, 502, 503 and 504.
    type: int
    default: 5
"""
