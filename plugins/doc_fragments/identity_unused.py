# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # For the modules that take the threefold.grid.identity options only for module_defaults' sake.
    DOCUMENTATION = r"""
options: {}
notes:
  - The module signs nothing with the 3Bot identity, so it needs none. It still accepts the identity options so
    that one C(module_defaults) block for the C(group/threefold.grid.grid) action group can set them for every
    module of the collection.
"""
