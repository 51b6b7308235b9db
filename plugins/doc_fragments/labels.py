# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The labels of a resource module's reservation (_argspec.labels_argument_spec, _labels.py).
    DOCUMENTATION = r"""
options:
  labels:
    description:
      - Labels of the resource, a dict such as V(app=web) and V(env=prod). They are kept in the reservation's
        metadata next to its name, become inventory groups (O(threefold.grid.zos#inventory:keyed_groups) on C(zos_labels))
        and filter the C(_info) modules.
      - Keys are letters, digits, V(_), V(.) and V(-) (at most 63 characters, starting and ending with a letter or
        digit); values are strings (numbers and booleans are stored as text) of at most 255 characters.
      - The metadata, name and labels included, must fit in the explorer's 1024 bytes; longer labels fail before
        anything is signed.
      - Labels are not part of what identifies the reservation's content. Changing only the labels keeps the
        reservation as it is (nothing is registered or paid again) and warns; the new labels are written when the
        reservation is next registered (another option changes, or O(renew_before) renews it).
      - Not set means no labels on a reservation this task registers, and no warning about the labels of a kept
        one.
    type: dict
  seal_labels:
    description:
      - Seal the labels with the identity's own key (a NaCl box between the Curve25519 keys of the identity's
        ed25519 key, as the SDK's js-sdk sealed reservation metadata), so that the explorer, which shows the
        metadata of every reservation to anyone, shows them as ciphertext.
      - The name, the kind and the fingerprint of the reservation stay readable (they find the reservation
        again); sealed labels are read back only with the identity's seed, so the inventory plugin makes label
        groups of them only when a seed or mnemonic is configured.
      - Sealing adds about 50 bytes and a quarter of the labels' size to the metadata.
    type: bool
    default: false
"""
