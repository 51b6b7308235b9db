# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  identity_name:
    description:
      - The 3Bot name of the identity in the explorer phonebook, for example V(alice.3bot).
      - The module looks up its threebot id (tid) by this name and checks that the registered public key
        is the key of the configured seed.
      - If not set, the value of the E(TFGRID_IDENTITY_NAME) environment variable is used.
    type: str
  identity_seed:
    description:
      - The identity's 32-byte ed25519 seed as 64 hexadecimal characters.
      - If not set, the value of the E(TFGRID_IDENTITY_SEED) environment variable is used.
      - Mutually exclusive with O(identity_mnemonic) and O(identity_seed_file), including values that come
        from their environment variables.
      - This value is a secret; it is never logged or returned.
    type: str
  identity_mnemonic:
    description:
      - The identity's seed as 24 English BIP39 words. The seed is the entropy of the words, as in the
        ThreeFold SDK (JumpScale).
      - If not set, the value of the E(TFGRID_IDENTITY_MNEMONIC) environment variable is used.
      - Mutually exclusive with O(identity_seed) and O(identity_seed_file).
      - This value is a secret; it is never logged or returned.
    type: str
  identity_seed_file:
    description:
      - Path of a file holding the seed, either as 64 hexadecimal characters or as the 24-word mnemonic.
        Surrounding whitespace is ignored.
      - If not set, the value of the E(TFGRID_IDENTITY_SEED_FILE) environment variable is used.
      - Mutually exclusive with O(identity_seed) and O(identity_mnemonic).
    type: path
requirements:
  - pynacl >= 1.5
  - mnemonic >= 0.20 (only for O(identity_mnemonic) or a mnemonic seed file)
"""
